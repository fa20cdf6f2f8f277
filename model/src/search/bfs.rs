//! Breadth-first search, level by level: a level's states are expanded on
//! one thread (in order) or on several (chunks taken in turn), then the
//! new states are numbered in the order of the threads' outputs.

use super::level::{Level, Out};
use super::opts::{End, Tick};
use super::shared::{code_of, Records, Shared};
use crate::canon::Masks;
use crate::machine::Action;
use crate::state::State;
use stateright::Model;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Run the BFS from the stored initial state `init`; returns the depth
/// reached.
pub(super) fn run(sh: &Shared, rec: &mut Records, init: &State, depth_cut: &AtomicBool, tick: Option<Tick>) -> usize {
    let m = sh.m;
    let mut max_depth = 1;
    let mut frontier = Level::new();
    frontier.push(&m.init, init);
    let mut base: u32 = 0;
    let mut level = 1;
    let threads = sh.opts.threads.max(1);
    while !frontier.is_empty() && !sh.halt.load(Ordering::Relaxed) {
        max_depth = level;
        let masks = sh.masks();
        sh.other_bytes.store(frontier.heap_bytes() + rec.parents.capacity() as u64 * 5, Ordering::Relaxed);
        let outs = if threads == 1 {
            vec![expand_level(sh, &frontier, base, level, depth_cut, &masks, tick)]
        } else {
            expand_level_threads(sh, &frontier, base, level, depth_cut, &masks, tick, threads)
        };
        base += frontier.len() as u32;
        drop(frontier);
        frontier = merge(outs, rec);
        level += 1;
    }
    if !frontier.is_empty() && !sh.halt.load(Ordering::Relaxed) {
        max_depth = level;
    }
    max_depth
}

/// Expand a whole level on this thread, with progress and limits between chunks.
fn expand_level(sh: &Shared, frontier: &Level, base: u32, level: usize, depth_cut: &AtomicBool, masks: &Masks, tick: Option<Tick>) -> Out {
    let mut out = Out::new();
    let chunk = 4096;
    let mut lo = 0;
    let mut last = Instant::now();
    while lo < frontier.len() && !sh.halt.load(Ordering::Relaxed) {
        let hi = (lo + chunk).min(frontier.len());
        expand(sh, frontier, base, lo, hi, level, &mut out, depth_cut, masks);
        lo = hi;
        if tick.is_some() && last.elapsed() >= Duration::from_millis(100) {
            last = Instant::now();
            sh.tick(tick, level);
        }
    }
    out
}

/// Expand a level on `threads` checker threads taking chunks in turn;
/// their outputs in thread order.
#[allow(clippy::too_many_arguments)] // one BFS level: its context, outputs and thread count
fn expand_level_threads(
    sh: &Shared,
    frontier: &Level,
    base: u32,
    level: usize,
    depth_cut: &AtomicBool,
    masks: &Masks,
    tick: Option<Tick>,
    threads: usize,
) -> Vec<Out> {
    let next_chunk = AtomicUsize::new(0);
    let chunk = 512;
    let done = AtomicUsize::new(0);
    let mut outs = Vec::with_capacity(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (next_chunk, done) = (&next_chunk, &done);
                scope.spawn(move || {
                    let mut out = Out::new();
                    loop {
                        let lo = next_chunk.fetch_add(chunk, Ordering::Relaxed);
                        if lo >= frontier.len() || sh.halt.load(Ordering::Relaxed) {
                            break;
                        }
                        let hi = (lo + chunk).min(frontier.len());
                        expand(sh, frontier, base, lo, hi, level, &mut out, depth_cut, masks);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    out
                })
            })
            .collect();
        while done.load(Ordering::Relaxed) < threads {
            std::thread::sleep(Duration::from_millis(20));
            sh.check_limits();
            sh.tick(tick, level);
        }
        for h in handles {
            outs.push(h.join().expect("checker thread"));
        }
    });
    outs
}

/// The next level: the threads' new states in order, numbered and recorded
/// (with the violations found as transition events).
fn merge(outs: Vec<Out>, rec: &mut Records) -> Level {
    let total: usize = outs.iter().map(|o| o.level.bytes.len()).sum();
    let count: usize = outs.iter().map(|o| o.meta.len()).sum();
    let mut next = Level { bytes: Vec::with_capacity(total), offs: Vec::with_capacity(count + 1) };
    next.offs.push(0);
    for out in outs {
        let shift = next.bytes.len();
        next.bytes.extend_from_slice(&out.level.bytes);
        next.offs.extend(out.level.offs[1..].iter().map(|o| o + shift));
        for (parent, a, v) in out.meta {
            rec.discover(parent, a, v);
        }
        for (parent, a, v) in out.events {
            rec.record(v, parent, Some(a));
        }
    }
    next
}

/// `level` (1 = the initial state); new states go to `out`.
/// Expand states `frontier[lo..hi]` (discovery indices from `base`) at
/// `level` (1 = the initial state); new states go to `out`.
#[allow(clippy::too_many_arguments)] // one BFS level's slice: its context, range and outputs
fn expand(sh: &Shared, frontier: &Level, base: u32, lo: usize, hi: usize, level: usize, out: &mut Out, depth_cut: &AtomicBool, masks: &Masks) {
    let m = sh.m;
    let mut actions = Vec::with_capacity(8);
    for i in 0..hi - lo {
        let s0 = frontier.get(&m.init, lo + i);
        let s = &s0;
        if (lo + i).is_multiple_of(256) {
            sh.check_limits();
        }
        if sh.halt.load(Ordering::Relaxed) {
            return;
        }
        let idx = base + (lo + i) as u32;
        if sh.opts.max_depth.is_some_and(|d| level >= d) {
            actions.clear();
            m.actions(s, &mut actions);
            if !actions.is_empty() {
                depth_cut.store(true, Ordering::Relaxed);
            }
            continue;
        }
        actions.clear();
        m.actions(s, &mut actions);
        if let (Some(por), true) = (sh.por.as_ref(), actions.len() > 1) {
            if let Some((a, mut n, fresh)) =
                por.ample(m, s, &actions, masks.instrumentation() || sh.opts.canon.is_none(), |n| match sh.visited.insert(sh.key_state(n, masks), level + 1) {
                    None => Some(true),
                    Some(l) if l as usize == (level + 1).min(0xffff) => Some(false),
                    Some(_) => None,
                })
            {
                sh.states.fetch_add(1, Ordering::Relaxed);
                let ev = sh.settle(&mut n, masks);
                if fresh {
                    push_new(sh, out, n, idx, a, ev);
                } else if ev != 0 {
                    out.events.push((idx, code_of(a), ev));
                }
                continue;
            }
        }
        for &a in &actions {
            let Some(mut n) = m.next_state(s, a) else { continue };
            sh.states.fetch_add(1, Ordering::Relaxed);
            let ev = sh.settle(&mut n, masks);
            if sh.visited.insert(sh.key_state(&n, masks), level + 1).is_none() {
                push_new(sh, out, n, idx, a, ev);
                if sh.halt.load(Ordering::Relaxed) {
                    return;
                }
            } else if ev != 0 {
                out.events.push((idx, code_of(a), ev));
            }
        }
    }
}

#[inline]
fn push_new(sh: &Shared, out: &mut Out, n: State, parent: u32, a: Action, events: u64) {
    let v = sh.violations(&n) | events;
    let before = out.level.bytes.len();
    out.level.push(&sh.m.init, &n);
    out.meta.push((parent, code_of(a), v));
    sh.other_bytes.fetch_add((out.level.bytes.len() - before) as u64 + 8 + 16, Ordering::Relaxed);
    let u = sh.unique.fetch_add(1, Ordering::Relaxed) + 1;
    if sh.opts.max_states.is_some_and(|k| u >= k) {
        sh.halt(End::States);
    }
}
