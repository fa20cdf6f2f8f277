//! The enumeration's symmetries: thread sequences, path renamings that fix
//! a topology's initial state, and the canonical scenario of each class.

use crate::state::{State, LHEAD, MAXP, POISON};
use mpath_reference::ops::Op;
use serde_json::Value;

fn factorial(n: usize) -> u64 {
    (1..=n as u64).product()
}

/// The thread sequences of 1..=n operations over `m` operations, by
/// length then lexicographically.
pub(super) fn sequences(m: usize, n: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut layer: Vec<Vec<usize>> = vec![Vec::new()];
    for _ in 0..n {
        let mut next = Vec::new();
        for s in &layer {
            for o in 0..m {
                let mut t = s.clone();
                t.push(o);
                next.push(t);
            }
        }
        out.extend(next.iter().cloned());
        layer = next;
    }
    out
}

/// `s` with path ids renamed by `pi` (path i becomes path pi\[i\]).
pub fn rename_state(s: &State, pi: &[usize; MAXP]) -> State {
    let map = |v: u8| -> u8 {
        if v != LHEAD && v != POISON && (v as usize) <= MAXP {
            pi[v as usize - 1] as u8 + 1
        } else {
            v
        }
    };
    let mut r = *s;
    for (i, &to) in pi.iter().enumerate() {
        let mut p = s.paths[i];
        p.next = map(p.next);
        p.prev = map(p.prev);
        r.paths[to] = p;
    }
    r.head_next = map(s.head_next);
    r.head_prev = map(s.head_prev);
    for n in 0..r.cp.len() {
        r.cp[n] = map(s.cp[n]);
    }
    let mut links = 0;
    for (i, &to) in pi.iter().enumerate() {
        if s.links & (1 << i) != 0 {
            links |= 1 << to;
        }
    }
    r.links = links;
    r
}

fn rename_op(op: &Op, pi: &[usize; MAXP]) -> Option<Op> {
    let mut v = serde_json::to_value(op).ok()?;
    if let Some(p) = v.get_mut("path") {
        let i = p.as_u64()? as usize;
        *p = Value::from(*pi.get(i)? as u64);
    }
    serde_json::from_value(v).ok()
}

fn permutations(n: usize) -> Vec<[usize; MAXP]> {
    let mut out = Vec::new();
    let mut cur = [0usize; MAXP];
    for (i, c) in cur.iter_mut().enumerate() {
        *c = i;
    }
    fn rec(k: usize, n: usize, cur: &mut [usize; MAXP], out: &mut Vec<[usize; MAXP]>) {
        if k == n {
            out.push(*cur);
            return;
        }
        for j in k..n {
            cur.swap(k, j);
            rec(k + 1, n, cur, out);
            cur.swap(k, j);
        }
    }
    rec(0, n, &mut cur, &mut out);
    out.sort();
    out
}

fn seq_order(a: &[usize], b: &[usize]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn seq_list_order(a: &[Vec<usize>], b: &[Vec<usize>]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = seq_order(x, y);
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Path renamings (other than the identity) that fix the initial state
/// `init` and map the operation set onto itself: op index -> op index.
pub(super) fn path_maps(init: &State, maxp: usize, ops: &[Op]) -> Vec<Vec<usize>> {
    let mut maps: Vec<Vec<usize>> = Vec::new();
    for pi in permutations(maxp).into_iter().skip(1) {
        let mut full = [0usize; MAXP];
        for (i, f) in full.iter_mut().enumerate() {
            *f = if i < maxp { pi[i] } else { i };
        }
        if rename_state(init, &full) != *init {
            continue;
        }
        let m: Option<Vec<usize>> = ops.iter().map(|o| rename_op(o, &full).and_then(|r| ops.iter().position(|x| *x == r))).collect();
        if let Some(m) = m {
            maps.push(m);
        }
    }
    maps
}

/// The canonical scenarios of a cell and what the symmetries skipped.
pub(super) struct Classes {
    pub(super) scenarios: Vec<Vec<Vec<usize>>>,
    /// Scenarios enumerated (before symmetry).
    pub(super) enumerated: u64,
    pub(super) thread_duplicates: u64,
    pub(super) path_duplicates: u64,
}

/// Every scenario of `k` threads (each `k` of `threads`) running sequences
/// `seqs`, one per class: thread orderings are one scenario (a nondecreasing
/// tuple of sequence indices), and of the images under the path renamings
/// `maps`, the least is kept.
pub(super) fn canonical_scenarios(seqs: &[Vec<usize>], threads: &[usize], maps: &[Vec<usize>]) -> Classes {
    let mut out = Classes { scenarios: Vec::new(), enumerated: 0, thread_duplicates: 0, path_duplicates: 0 };
    for &k in threads {
        // Nondecreasing k-tuples of sequence indices: the multisets.
        let mut idx = vec![0usize; k];
        if seqs.is_empty() {
            continue;
        }
        loop {
            // Orderings of this multiset beyond the first.
            let mut mult = 1u64;
            let mut run = 1usize;
            for j in 1..=k {
                if j < k && idx[j] == idx[j - 1] {
                    run += 1;
                } else {
                    mult *= factorial(run);
                    run = 1;
                }
            }
            let orderings = factorial(k) / mult;
            out.enumerated += orderings;
            out.thread_duplicates += orderings - 1;
            let threads: Vec<Vec<usize>> = idx.iter().map(|&i| seqs[i].clone()).collect();
            let canonical = maps.iter().all(|m| {
                let mut img: Vec<Vec<usize>> = threads.iter().map(|t| t.iter().map(|&o| m[o]).collect()).collect();
                img.sort_by(|a, b| seq_order(a, b));
                seq_list_order(&threads, &img) != std::cmp::Ordering::Greater
            });
            if canonical {
                out.scenarios.push(threads);
            } else {
                out.path_duplicates += 1;
            }
            // next nondecreasing tuple
            let mut j = k;
            loop {
                if j == 0 {
                    break;
                }
                j -= 1;
                if idx[j] + 1 < seqs.len() {
                    idx[j] += 1;
                    for l in j + 1..k {
                        idx[l] = idx[j];
                    }
                    j = usize::MAX;
                    break;
                }
            }
            if j != usize::MAX {
                break;
            }
        }
    }
    out
}
