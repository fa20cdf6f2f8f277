//! `sweep`: search the space of small scenarios for violations nobody
//! listed.
//!
//! A [`Vocabulary`] (a JSON file, `model/sweep/*.json`) names revisions,
//! properties files, topologies (scenario headers) and, per driver, the
//! operation templates threads are built from. [`Plan::new`] enumerates,
//! per revision and topology, every scenario of `k` threads (each `k` of
//! `threads`) whose threads run 1..=`ops_per_thread` operations, in a fixed
//! order, and keeps one scenario per symmetry class:
//!
//! * thread permutation: threads are a multiset (sorted by their operation
//!   lists), so `[A, B]` and `[B, A]` are one scenario;
//! * path renaming: a permutation of path ids that maps the topology's
//!   initial model state onto itself (computed, never declared: listed
//!   paths sit at fixed list positions, so in practice the unused slots a
//!   thread's `add_path` fills are the interchangeable ones) and maps the
//!   operation set onto itself; the scenario kept is the least image.
//!
//! Both are exact symmetries of the model, so skipping duplicates loses no
//! verdict; both counts are reported.
//!
//! Each scenario is checked ([`check_with`]: the 14 built-in properties and
//! the vocabulary's data properties) within `max_states`, one JSON line per
//! scenario ([`Line`]), so a run resumes from its file and shards merge.
//! A violation's *root cause* is its [`Key`]: the property, and the
//! function and step of the transition at which the shortest
//! counterexample first violates it. A violation is *catalogued* when a
//! (scenario, property) pair that the revision's expectations
//! ([`Expectations::of`]: its catalogue column plus its declared `breaks`)
//! expect VIOLATED has, on the same revision, a shortest counterexample
//! with the same key. [`report`] groups the rest by key and shows, per
//! group, the smallest scenario's counterexample as a swimlane.

use crate::catalogue::{Expect, Expectations};
use crate::checker::{check_with, Bounds, Counterexample, Mode, ModelError, Verdict};
use crate::dataprop::PropertySet;
use crate::revision::RevisionSpec;
use crate::scenario::{op_entry, state_of_system, Scenario, ThreadSpec};
use crate::schedule::StepForm;
use crate::state::{life, State, LHEAD, MAXP, POISON};
use mpath_reference::ops::Op;
use mpath_reference::trace::Header;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Version of the results file format.
pub const SWEEP_VERSION: u32 = 1;

/// The operation vocabulary of a sweep (a JSON file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Revisions (shipped names or revision files), swept in this order.
    pub revisions: Vec<String>,
    /// Properties files checked with the built-in properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    /// Thread counts (each `k` in the list).
    pub threads: Vec<usize>,
    /// Operations per thread: every thread runs 1..=this many.
    pub ops_per_thread: usize,
    /// Unique states per check (`bound reached` past it); default 200000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_states: Option<usize>,
    pub topologies: Vec<Topology>,
    /// Driver (`nvme`, `scsi`) -> operation templates: an operation of the
    /// trace format whose `path` / `node` / `ctrl` may be `"$p"` (every
    /// path listed after the setup), `"$new"` (every slot below
    /// `max_paths` unused after the setup), `"$n"` (every node of the
    /// topology) or `"$c"` (every controller).
    pub ops: BTreeMap<String, Vec<Value>>,
}

/// A topology: a scenario header (driver, nodes, paths, iopolicy, setup).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    pub name: String,
    /// Only these of the vocabulary's revisions (default: all), e.g. no
    /// SCSI topology on nvme-6.12.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<String>,
    pub header: Header,
}

/// Bad vocabulary or results file: `file:line:col: reason`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {reason}")]
pub struct SweepError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub reason: String,
}

impl SweepError {
    fn at(file: &str, text: &str, needle: &str, reason: impl Into<String>) -> SweepError {
        let (line, col) = locate(text, needle);
        SweepError { file: file.into(), line, col, reason: reason.into().replace('\n', " ") }
    }
}

/// Line and column (1-based) of the first occurrence of `needle` (1:1 if absent).
fn locate(text: &str, needle: &str) -> (usize, usize) {
    match (needle.is_empty(), text.find(needle)) {
        (false, Some(i)) => {
            let before = &text[..i];
            let line = before.matches('\n').count() + 1;
            let col = i - before.rfind('\n').map(|j| j + 1).unwrap_or(0) + 1;
            (line, col)
        }
        _ => (1, 1),
    }
}

/// 64-bit FNV-1a, hex: the vocabulary's fingerprint in a results file.
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// An operation in a scenario id: `remove_path(path=0)`, `submit_bio`.
pub fn op_words(op: &Op) -> String {
    let v = serde_json::to_value(op).unwrap_or(Value::Null);
    let Value::Object(m) = v else { return "?".into() };
    let name = m.get("op").and_then(|x| x.as_str()).unwrap_or("?").to_string();
    let args: Vec<String> = m
        .iter()
        .filter(|(k, _)| k.as_str() != "op")
        .map(|(k, v)| match v {
            // A string that would read back as a number or keyword stays quoted.
            Value::String(s) if serde_json::from_str::<Value>(s).is_ok_and(|x| !x.is_string()) => format!("{k}={v}"),
            Value::String(s) => format!("{k}={s}"),
            v => format!("{k}={v}"),
        })
        .collect();
    if args.is_empty() {
        name
    } else {
        format!("{name}({})", args.join(","))
    }
}

/// One (revision, topology) cell of the sweep: its operations and the
/// canonical scenarios, as operation-index lists per thread.
#[derive(Clone, Debug)]
pub struct Cell {
    pub revision: String,
    /// The vocabulary's revision argument (name or file).
    pub revision_arg: String,
    pub topology: usize,
    pub ops: Vec<Op>,
    pub scenarios: Vec<Vec<Vec<usize>>>,
}

/// The enumerated sweep.
#[derive(Clone, Debug)]
pub struct Plan {
    pub vocabulary: Vocabulary,
    /// The vocabulary file as given and its fingerprint.
    pub file: String,
    pub hash: String,
    pub cells: Vec<Cell>,
    /// Scenarios enumerated (before symmetry), thread-permutation
    /// duplicates and path-renaming duplicates skipped.
    pub enumerated: u64,
    pub thread_duplicates: u64,
    pub path_duplicates: u64,
    pub props: PropertySet,
}

/// One scenario of the plan, by global index.
#[derive(Clone, Debug)]
pub struct Item {
    pub index: usize,
    pub revision: String,
    pub scenario: Scenario,
    pub ops: usize,
}

fn factorial(n: usize) -> u64 {
    (1..=n as u64).product()
}

/// The thread sequences of 1..=n operations over `m` operations, by
/// length then lexicographically.
fn sequences(m: usize, n: usize) -> Vec<Vec<usize>> {
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

impl Plan {
    /// Load a vocabulary file and enumerate it.
    pub fn load(file: &str) -> Result<Plan, SweepError> {
        let text = std::fs::read_to_string(file).map_err(|e| SweepError { file: file.into(), line: 1, col: 1, reason: format!("cannot read: {e}") })?;
        Self::from_text(file, &text)
    }

    pub fn from_text(file: &str, text: &str) -> Result<Plan, SweepError> {
        let voc: Vocabulary = serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.rsplit_once(" at line ").map(|(m, _)| m.to_string()).unwrap_or(msg);
            SweepError { file: file.into(), line: e.line().max(1), col: e.column().max(1), reason: msg }
        })?;
        let err = |needle: &str, reason: String| SweepError::at(file, text, needle, reason);
        if voc.revisions.is_empty() {
            return Err(err("\"revisions\"", "no revisions".into()));
        }
        if voc.threads.is_empty() || voc.threads.iter().any(|&k| k == 0 || k > crate::state::MAXT - 1) {
            return Err(err("\"threads\"", format!("threads: each count must be 1..={}", crate::state::MAXT - 1)));
        }
        if voc.ops_per_thread == 0 || voc.ops_per_thread > 4 {
            return Err(err("\"ops_per_thread\"", "ops_per_thread must be 1..=4".into()));
        }
        if voc.topologies.is_empty() {
            return Err(err("\"topologies\"", "no topologies".into()));
        }
        let mut props = PropertySet::default();
        for p in &voc.properties {
            let set = PropertySet::load(p).map_err(|e| err(p, format!("properties {p}: {e}")))?;
            props.extend(set).map_err(|e| err(p, format!("properties {p}: {e}")))?;
        }
        let mut revs = Vec::new();
        for r in &voc.revisions {
            revs.push(RevisionSpec::load(r).map_err(|e| err(&format!("\"{r}\""), format!("revision {r}: {e}")))?);
        }
        let mut names = BTreeSet::new();
        for t in &voc.topologies {
            if let Some(r) = t.revisions.iter().find(|r| !voc.revisions.contains(r)) {
                return Err(err(&format!("\"{r}\""), format!("topology {}: revision {r} is not in \"revisions\"", t.name)));
            }
            if !names.insert(t.name.clone()) {
                return Err(err(&format!("\"{}\"", t.name), format!("topology {}: defined twice", t.name)));
            }
            let key = match t.header.driver {
                mpath_reference::DriverKind::Nvme => "nvme",
                mpath_reference::DriverKind::Scsi => "scsi",
            };
            if voc.ops.get(key).is_none_or(|v| v.is_empty()) {
                return Err(err(&format!("\"{}\"", t.name), format!("topology {}: no operations for driver {key} in \"ops\"", t.name)));
            }
        }
        let mut plan = Plan {
            vocabulary: voc.clone(),
            file: file.into(),
            hash: fingerprint(text),
            cells: Vec::new(),
            enumerated: 0,
            thread_duplicates: 0,
            path_duplicates: 0,
            props,
        };
        for (rev, arg) in revs.iter().zip(&voc.revisions) {
            for (ti, topo) in voc.topologies.iter().enumerate() {
                if !topo.revisions.is_empty() && !topo.revisions.contains(arg) {
                    continue;
                }
                let mut cell = plan.cell(rev, ti, topo, text)?;
                cell.revision_arg = arg.clone();
                plan.cells.push(cell);
            }
        }
        Ok(plan)
    }

    fn cell(&mut self, rev: &RevisionSpec, ti: usize, topo: &Topology, text: &str) -> Result<Cell, SweepError> {
        let file = self.file.clone();
        let err = |needle: &str, reason: String| SweepError::at(&file, text, needle, reason);
        let tname = &topo.name;
        let probe = Scenario {
            name: tname.clone(),
            description: String::new(),
            header: topo.header.clone(),
            threads: vec![ThreadSpec { name: "T".into(), ops: vec![Op::Synchronize] }],
        };
        probe.validate().map_err(|e| err(&format!("\"{tname}\""), format!("topology {tname}: {e}")))?;
        let h = probe.effective_header(&rev.setup_profile_name());
        let sys = h.instantiate().map_err(|e| err(&format!("\"{tname}\""), format!("topology {tname}: setup: {e}")))?;
        let init = state_of_system(&sys).map_err(|e| err(&format!("\"{tname}\""), format!("topology {tname}: {e}")))?;
        let maxp = topo.header.max_paths.min(MAXP);
        let listed: Vec<u64> = (0..maxp).filter(|&i| init.paths[i].life == life::LINKED).map(|i| i as u64).collect();
        let unused: Vec<u64> = (0..maxp).filter(|&i| init.paths[i].life == life::UNUSED).map(|i| i as u64).collect();
        let nodes: Vec<u64> = topo.header.topology.possible.iter().map(|&n| n as u64).collect();
        let ctrls: Vec<u64> = (0..topo.header.nr_ctrls as u64).collect();
        let dkey = match topo.header.driver {
            mpath_reference::DriverKind::Nvme => "nvme",
            mpath_reference::DriverKind::Scsi => "scsi",
        };
        let mut ops: Vec<Op> = Vec::new();
        for tpl in self.vocabulary.ops.get(dkey).into_iter().flatten() {
            let shown = serde_json::to_string(tpl).unwrap_or_default();
            let mut expanded = vec![tpl.clone()];
            for field in ["path", "node", "ctrl"] {
                let mut next = Vec::new();
                for v in expanded {
                    let dom = match v.get(field).and_then(|x| x.as_str()) {
                        Some("$p") => Some(&listed),
                        Some("$new") => Some(&unused),
                        Some("$n") => Some(&nodes),
                        Some("$c") => Some(&ctrls),
                        Some(other) => return Err(err(other, format!("template {shown}: {field} {other:?} is none of $p, $new, $n, $c"))),
                        None => None,
                    };
                    match dom {
                        Some(d) => {
                            for &x in d {
                                let mut w = v.clone();
                                w[field] = Value::from(x);
                                next.push(w);
                            }
                        }
                        None => next.push(v),
                    }
                }
                expanded = next;
            }
            for v in expanded {
                let op: Op = serde_json::from_value(v.clone()).map_err(|e| err(&first_key(tpl), format!("template {shown}: {e}")))?;
                op_entry(&op, topo.header.driver).map_err(|e| err(&first_key(tpl), format!("template {shown}: {e}")))?;
                if !ops.contains(&op) {
                    ops.push(op);
                }
            }
        }
        // Path renamings that fix the initial state and map the operation
        // set onto itself: op index -> op index.
        let mut maps: Vec<Vec<usize>> = Vec::new();
        for pi in permutations(maxp).into_iter().skip(1) {
            let mut full = [0usize; MAXP];
            for (i, f) in full.iter_mut().enumerate() {
                *f = if i < maxp { pi[i] } else { i };
            }
            if rename_state(&init, &full) != init {
                continue;
            }
            let m: Option<Vec<usize>> = ops.iter().map(|o| rename_op(o, &full).and_then(|r| ops.iter().position(|x| *x == r))).collect();
            if let Some(m) = m {
                maps.push(m);
            }
        }
        let seqs = sequences(ops.len(), self.vocabulary.ops_per_thread);
        let mut scenarios = Vec::new();
        for &k in &self.vocabulary.threads {
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
                self.enumerated += orderings;
                self.thread_duplicates += orderings - 1;
                let threads: Vec<Vec<usize>> = idx.iter().map(|&i| seqs[i].clone()).collect();
                let canonical = maps.iter().all(|m| {
                    let mut img: Vec<Vec<usize>> = threads.iter().map(|t| t.iter().map(|&o| m[o]).collect()).collect();
                    img.sort_by(|a, b| seq_order(a, b));
                    seq_list_order(&threads, &img) != std::cmp::Ordering::Greater
                });
                if canonical {
                    scenarios.push(threads);
                } else {
                    self.path_duplicates += 1;
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
        Ok(Cell { revision: rev.name.clone(), revision_arg: rev.name.clone(), topology: ti, ops, scenarios })
    }

    /// Scenarios kept (after symmetry).
    pub fn len(&self) -> usize {
        self.cells.iter().map(|c| c.scenarios.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Scenario `index` (0-based, plan order).
    pub fn item(&self, index: usize) -> Option<Item> {
        let mut base = 0;
        for c in &self.cells {
            if index < base + c.scenarios.len() {
                let threads = &c.scenarios[index - base];
                let topo = &self.vocabulary.topologies[c.topology];
                let id = scenario_id(&topo.name, &c.ops, threads);
                let scenario = Scenario {
                    name: id,
                    description: String::new(),
                    header: topo.header.clone(),
                    threads: threads
                        .iter()
                        .enumerate()
                        .map(|(t, ops)| ThreadSpec { name: format!("T{}", t + 1), ops: ops.iter().map(|&o| c.ops[o].clone()).collect() })
                        .collect(),
                };
                let ops = threads.iter().map(|t| t.len()).sum();
                return Some(Item { index, revision: c.revision_arg.clone(), scenario, ops });
            }
            base += c.scenarios.len();
        }
        None
    }

    /// The results file's first line.
    pub fn header(&self, shard: Shard) -> FileHeader {
        FileHeader {
            sweep: SWEEP_VERSION,
            vocabulary: self.vocabulary.clone(),
            vocabulary_hash: self.hash.clone(),
            shard: shard.to_string(),
            scenarios: self.len(),
            enumerated: self.enumerated,
            thread_duplicates: self.thread_duplicates,
            path_duplicates: self.path_duplicates,
        }
    }

    pub fn bounds(&self) -> Bounds {
        Bounds { max_states: Some(self.vocabulary.max_states.unwrap_or(DEFAULT_MAX_STATES)), mode: Mode::Bfs, ..Bounds::default() }
    }
}

/// Unique states per scenario unless the vocabulary says otherwise.
pub const DEFAULT_MAX_STATES: usize = 200_000;

fn first_key(tpl: &Value) -> String {
    tpl.get("op").and_then(|x| x.as_str()).map(|s| format!("\"{s}\"")).unwrap_or_default()
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

/// `topology:thread|thread`, each thread its operations joined by `;`.
pub fn scenario_id(topology: &str, ops: &[Op], threads: &[Vec<usize>]) -> String {
    let ts: Vec<String> = threads.iter().map(|t| t.iter().map(|&o| op_words(&ops[o])).collect::<Vec<_>>().join(";")).collect();
    format!("{topology}:{}", ts.join("|"))
}

/// `--shard i/n`: 1-based `i`; shard `i` takes every scenario whose
/// 0-based index `x` has `x % n == i - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub i: usize,
    pub n: usize,
}

impl Shard {
    pub const ALL: Shard = Shard { i: 1, n: 1 };
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (a, b) = s.split_once('/').ok_or_else(|| format!("shard {s:?}: expected i/n"))?;
        let (i, n): (usize, usize) = (
            a.trim().parse().map_err(|_| format!("shard {s:?}: i is not a number"))?,
            b.trim().parse().map_err(|_| format!("shard {s:?}: n is not a number"))?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(format!("shard {s:?}: need 1 <= i <= n (i is 1-based)"));
        }
        Ok(Shard { i, n })
    }
    pub fn takes(&self, index: usize) -> bool {
        index % self.n == self.i - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.i, self.n)
    }
}

/// The first line of a results file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHeader {
    pub sweep: u32,
    pub vocabulary: Vocabulary,
    pub vocabulary_hash: String,
    /// `i/n`; a merge of every shard says `1/1`.
    pub shard: String,
    /// Scenarios after symmetry (whole sweep).
    pub scenarios: usize,
    pub enumerated: u64,
    pub thread_duplicates: u64,
    pub path_duplicates: u64,
}

/// A violation's root cause: the property, and the function and step of
/// the transition at which its shortest counterexample first violates it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub property: String,
    pub function: String,
    pub step: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {} at {}", self.property, self.function, self.step)
    }
}

/// The root cause of a counterexample of `property`.
pub fn key_of(property: &str, ce: &Counterexample) -> Key {
    let at = ce.violation.step as usize;
    match ce.schedule.get(at) {
        Some(s) if !ce.schedule.is_empty() => Key {
            property: property.into(),
            function: s.function.clone(),
            step: match &s.step {
                Some(StepForm::Step(st)) => serde_json::to_string(st).unwrap_or_else(|_| s.primitive.clone()),
                Some(StepForm::Work(w)) => format!("work {} starts", w.work),
                None => s.primitive.clone(),
            },
        },
        _ => Key { property: property.into(), function: "(initial state)".into(), step: "-".into() },
    }
}

/// One violation in a results line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Found {
    #[serde(flatten)]
    pub key: Key,
    /// Transitions in the shortest counterexample.
    pub steps: usize,
    /// The catalogue pair with the same root cause (`N2a no_stale_path_after_removal (v2)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogued: Option<String>,
}

/// One checked scenario (a line of the results file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Index in the plan (0-based).
    pub i: usize,
    pub revision: String,
    pub id: String,
    /// Operations in the scenario.
    pub ops: usize,
    /// Why the scenario could not run on this revision (an operation it
    /// lacks); nothing else is set then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_expressible: Option<String>,
    #[serde(default)]
    pub states: usize,
    #[serde(default)]
    pub unique: usize,
    #[serde(default)]
    pub depth: usize,
    /// property -> verdict words (`holds`, `VIOLATED`, `bound reached`).
    #[serde(default)]
    pub verdicts: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Found>,
}

impl Line {
    pub fn bound_reached(&self) -> bool {
        self.verdicts.values().any(|v| v == "bound reached")
    }
}

/// The root causes a revision's catalogue expectations account for:
/// key -> `scenario property (from)`.
pub fn catalogued_keys(rev: &RevisionSpec, props: &PropertySet, bounds: &Bounds, stop: &AtomicBool) -> Result<BTreeMap<Key, String>, ModelError> {
    let exps = Expectations::of(rev)?;
    let mut out = BTreeMap::new();
    let mut by_scenario: BTreeMap<String, (String, Vec<(String, String)>)> = BTreeMap::new();
    for p in exps.pairs.iter().filter(|p| p.expected.expect == Expect::Reproduced) {
        by_scenario.entry(p.scenario.clone()).or_insert_with(|| (p.scenario_spec.clone(), Vec::new())).1.push((p.property.clone(), p.expected.from.clone()));
    }
    for (name, (spec, list)) in by_scenario {
        let sc = Scenario::load(&spec)?;
        let r = check_with(rev, &sc, props, bounds, None, stop)?;
        for (prop, from) in list {
            if let Some(ce) = r.properties.iter().find(|p| p.property == prop).and_then(|p| p.counterexample.as_ref()) {
                // A catalogue column is named by the revision itself; a
                // declaration (`mut-x breaks`) is worth saying.
                let label = if from.contains(' ') { format!("{name} {prop} ({from})") } else { format!("{name} {prop}") };
                out.entry(key_of(&prop, ce)).or_insert(label);
            }
        }
    }
    Ok(out)
}

/// Check one scenario; `None` when interrupted (nothing to record).
pub fn check_item(plan: &Plan, item: &Item, catalogued: &BTreeMap<Key, String>, stop: &AtomicBool) -> Result<Option<Line>, ModelError> {
    let rev = RevisionSpec::load(&item.revision)?;
    let mut line = Line {
        i: item.index,
        revision: rev.name.clone(),
        id: item.scenario.name.clone(),
        ops: item.ops,
        not_expressible: None,
        states: 0,
        unique: 0,
        depth: 0,
        verdicts: BTreeMap::new(),
        violations: Vec::new(),
    };
    let r = match check_with(&rev, &item.scenario, &plan.props, &plan.bounds(), None, stop) {
        Ok(r) => r,
        Err(e @ (ModelError::Scenario(_) | ModelError::Revision(_))) => {
            let msg = e.to_string();
            let msg = msg.strip_prefix(&format!("scenario {}: ", item.scenario.name)).unwrap_or(&msg).to_string();
            // One reason per missing function, not per operation that needs it.
            let msg = msg.split(" (needed by ").next().unwrap_or(&msg).to_string();
            line.not_expressible = Some(msg.replace(&item.scenario.name, "<scenario>"));
            return Ok(Some(line));
        }
        Err(e) => return Err(e),
    };
    if stop.load(Ordering::Relaxed) || r.properties.iter().any(|p| p.verdict == Verdict::Interrupted) {
        return Ok(None);
    }
    line.states = r.states;
    line.unique = r.unique_states;
    line.depth = r.max_depth;
    for p in &r.properties {
        line.verdicts.insert(p.property.clone(), p.verdict.to_string());
        if let Some(ce) = &p.counterexample {
            let key = key_of(&p.property, ce);
            let catalogued = catalogued.get(&key).cloned();
            line.violations.push(Found { key, steps: ce.steps.len(), catalogued });
        }
    }
    Ok(Some(line))
}

/// Read a results file: its header and lines. A last line without its
/// newline or that does not parse (a run killed while writing) is
/// dropped; `valid_len` is the byte length of what was kept.
pub struct ResultsFile {
    pub header: FileHeader,
    pub lines: Vec<Line>,
    pub valid_len: u64,
    pub truncated: bool,
}

pub fn read_results(file: &str) -> Result<ResultsFile, SweepError> {
    let text = std::fs::read_to_string(file).map_err(|e| SweepError { file: file.into(), line: 1, col: 1, reason: format!("cannot read: {e}") })?;
    parse_results(file, &text)
}

pub fn parse_results(file: &str, text: &str) -> Result<ResultsFile, SweepError> {
    let bad = |line: usize, col: usize, reason: String| SweepError { file: file.into(), line, col, reason };
    let mut pos = 0usize;
    let mut header: Option<FileHeader> = None;
    let mut lines = Vec::new();
    let mut truncated = false;
    let parts: Vec<&str> = text.split_inclusive('\n').collect();
    for (n, raw) in parts.iter().enumerate() {
        let last = n + 1 == parts.len();
        let complete = raw.ends_with('\n');
        let body = raw.trim_end_matches('\n');
        if n == 0 {
            let h: FileHeader = serde_json::from_str(body).map_err(|e| bad(1, e.column().max(1), format!("not a sweep results header: {}", strip_pos(&e))))?;
            if h.sweep != SWEEP_VERSION {
                return Err(bad(1, 1, format!("results format {} (this build reads {SWEEP_VERSION})", h.sweep)));
            }
            if !complete {
                return Err(bad(1, 1, "header line is incomplete".into()));
            }
            header = Some(h);
        } else {
            match serde_json::from_str::<Line>(body) {
                Ok(l) if complete => lines.push(l),
                Ok(_) | Err(_) if last => {
                    truncated = true;
                    break;
                }
                Err(e) => return Err(bad(n + 1, e.column().max(1), strip_pos(&e))),
                Ok(_) => unreachable!(),
            }
        }
        pos += raw.len();
    }
    let header = header.ok_or_else(|| bad(1, 1, "empty results file".into()))?;
    Ok(ResultsFile { header, lines, valid_len: pos as u64, truncated })
}

fn strip_pos(e: &serde_json::Error) -> String {
    let m = e.to_string();
    m.rsplit_once(" at line ").map(|(a, _)| a.to_string()).unwrap_or(m)
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub checked: usize,
    pub resumed: usize,
    pub interrupted: bool,
}

/// Sweep `shard` of `plan` into `out` (created, or resumed when `resume`
/// and the file exists: its header must match; lines already present are
/// skipped, a truncated last line is rewritten). `progress(done, total)`
/// is called after each scenario. Each line is flushed as it is written.
pub fn run(plan: &Plan, shard: Shard, out: &str, resume: bool, stop: &AtomicBool, progress: &dyn Fn(usize, usize, &str)) -> Result<RunStats, SweepRunError> {
    let header = plan.header(shard);
    let mut done: BTreeSet<usize> = BTreeSet::new();
    let mut stats = RunStats::default();
    let exists = std::path::Path::new(out).exists();
    let mut f = if resume && exists {
        let r = read_results(out)?;
        if r.header != header {
            return Err(SweepError {
                file: out.into(),
                line: 1,
                col: 1,
                reason: format!(
                    "not a run of this vocabulary and shard (file: {} {} shard {}; now: {} {} shard {})",
                    r.header.vocabulary.name, r.header.vocabulary_hash, r.header.shard, header.vocabulary.name, header.vocabulary_hash, header.shard
                ),
            }
            .into());
        }
        done.extend(r.lines.iter().map(|l| l.i));
        stats.resumed = done.len();
        let f = std::fs::OpenOptions::new().write(true).open(out).map_err(|e| io_err(out, e))?;
        f.set_len(r.valid_len).map_err(|e| io_err(out, e))?;
        let mut f = f;
        use std::io::Seek;
        f.seek(std::io::SeekFrom::End(0)).map_err(|e| io_err(out, e))?;
        f
    } else {
        if let Some(d) = std::path::Path::new(out).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(|e| io_err(out, e))?;
        }
        let mut f = std::fs::File::create(out).map_err(|e| io_err(out, e))?;
        writeln!(f, "{}", serde_json::to_string(&header).map_err(|e| io_err(out, std::io::Error::other(e)))?).map_err(|e| io_err(out, e))?;
        f.flush().map_err(|e| io_err(out, e))?;
        f
    };
    let todo: Vec<usize> = (0..plan.len()).filter(|&i| shard.takes(i)).collect();
    let total = todo.len();
    let mut cat: BTreeMap<String, BTreeMap<Key, String>> = BTreeMap::new();
    let mut n = 0;
    for i in todo {
        n += 1;
        if done.contains(&i) {
            continue;
        }
        if stop.load(Ordering::Relaxed) {
            stats.interrupted = true;
            break;
        }
        let item = plan.item(i).ok_or_else(|| SweepRunError::Model(ModelError::Catalogue(format!("scenario {i} out of range"))))?;
        progress(n - 1, total, &format!("{} {}", item.revision, item.scenario.name));
        if !cat.contains_key(&item.revision) {
            let rev = RevisionSpec::load(&item.revision).map_err(ModelError::from)?;
            cat.insert(item.revision.clone(), catalogued_keys(&rev, &plan.props, &Bounds::default(), stop)?);
        }
        match check_item(plan, &item, &cat[&item.revision], stop)? {
            Some(line) => {
                writeln!(f, "{}", serde_json::to_string(&line).map_err(|e| io_err(out, std::io::Error::other(e)))?).map_err(|e| io_err(out, e))?;
                f.flush().map_err(|e| io_err(out, e))?;
                stats.checked += 1;
            }
            None => {
                stats.interrupted = true;
                break;
            }
        }
    }
    if !stats.interrupted {
        progress(total, total, "");
    }
    Ok(stats)
}

#[derive(Debug, thiserror::Error)]
pub enum SweepRunError {
    #[error(transparent)]
    Input(#[from] SweepError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

fn io_err(file: &str, e: std::io::Error) -> SweepRunError {
    SweepError { file: file.into(), line: 1, col: 1, reason: e.to_string() }.into()
}

/// Merge results files of one vocabulary (shards, or a resumed run):
/// lines by index, each index once. The header says `1/1` when the
/// inputs cover every shard of one `n`, otherwise the shards joined by `+`.
pub fn merge(files: &[String]) -> Result<(FileHeader, Vec<Line>), SweepError> {
    let mut header: Option<FileHeader> = None;
    let mut shards: BTreeSet<String> = BTreeSet::new();
    let mut lines: BTreeMap<usize, Line> = BTreeMap::new();
    for f in files {
        let r = read_results(f)?;
        if r.truncated {
            return Err(SweepError {
                file: f.clone(),
                line: r.lines.len() + 2,
                col: 1,
                reason: "last line incomplete (resume the run with --resume first)".into(),
            });
        }
        let mut h = r.header.clone();
        shards.insert(h.shard.clone());
        h.shard = String::new();
        match &header {
            None => header = Some(h),
            Some(h0) if *h0 != h => {
                return Err(SweepError {
                    file: f.clone(),
                    line: 1,
                    col: 1,
                    reason: format!(
                        "another vocabulary ({} {}) than {} ({} {})",
                        h.vocabulary.name, h.vocabulary_hash, files[0], h0.vocabulary.name, h0.vocabulary_hash
                    ),
                })
            }
            _ => {}
        }
        for (k, l) in r.lines.into_iter().enumerate() {
            if let Some(prev) = lines.get(&l.i) {
                if *prev != l {
                    return Err(SweepError {
                        file: f.clone(),
                        line: k + 2,
                        col: 1,
                        reason: format!("scenario {} ({}) differs from an earlier file's line", l.i, l.id),
                    });
                }
            }
            lines.insert(l.i, l);
        }
    }
    let mut header = header.ok_or_else(|| SweepError { file: "-".into(), line: 1, col: 1, reason: "no results files".into() })?;
    let parsed: Vec<Shard> = shards.iter().filter_map(|s| Shard::parse(s).ok()).collect();
    let complete = parsed.first().is_some_and(|s0| parsed.iter().all(|s| s.n == s0.n) && (1..=s0.n).all(|i| parsed.iter().any(|s| s.i == i)));
    header.shard = if complete { "1/1".into() } else { shards.into_iter().collect::<Vec<_>>().join("+") };
    Ok((header, lines.into_values().collect()))
}

/// Write a header and lines as a results file.
pub fn write_results(file: &str, header: &FileHeader, lines: &[Line]) -> std::io::Result<()> {
    let mut s = serde_json::to_string(header).map_err(std::io::Error::other)? + "\n";
    for l in lines {
        s += &serde_json::to_string(l).map_err(std::io::Error::other)?;
        s.push('\n');
    }
    std::fs::write(file, s)
}

/// A root-cause group of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub key: Key,
    pub catalogued: Option<String>,
    /// (ops, id, revision, index) of every scenario in the group, smallest first.
    pub scenarios: Vec<(usize, String, String, usize)>,
}

/// Group the lines' violations by root cause: catalogued groups, then the
/// others, each in key order.
pub fn groups(lines: &[Line]) -> Vec<Group> {
    let mut m: BTreeMap<(bool, Key), Group> = BTreeMap::new();
    for l in lines {
        for v in &l.violations {
            let g = m.entry((v.catalogued.is_none(), v.key.clone())).or_insert_with(|| Group {
                key: v.key.clone(),
                catalogued: v.catalogued.clone(),
                scenarios: Vec::new(),
            });
            g.scenarios.push((l.ops, l.id.clone(), l.revision.clone(), l.i));
        }
    }
    let mut out: Vec<Group> = m.into_values().collect();
    for g in &mut out {
        g.scenarios.sort();
    }
    out
}

/// The group summary (what CI compares): counts, then one line per group.
pub fn summary(header: &FileHeader, lines: &[Line]) -> String {
    let mut s = String::new();
    let checked = lines.iter().filter(|l| l.not_expressible.is_none()).count();
    let nx = lines.len() - checked;
    let bound: Vec<&Line> = lines.iter().filter(|l| l.bound_reached()).collect();
    let gs = groups(lines);
    let new = gs.iter().filter(|g| g.catalogued.is_none()).count();
    s += &format!("sweep {} (vocabulary {}), shard {}\n", header.vocabulary.name, header.vocabulary_hash, header.shard);
    s += &format!(
        "scenarios: {} enumerated, {} thread-permutation and {} path-renaming duplicates skipped, {} to check; {} in this file: {} checked, {} not expressible, {} bound reached\n",
        header.enumerated,
        header.thread_duplicates,
        header.path_duplicates,
        header.scenarios,
        lines.len(),
        checked,
        nx,
        bound.len()
    );
    let nviol: usize = lines.iter().map(|l| l.violations.len()).sum();
    let ncat: usize = lines.iter().map(|l| l.violations.iter().filter(|v| v.catalogued.is_some()).count()).sum();
    s += &format!("violations: {nviol} ({ncat} catalogued, {} not) in {} root causes ({} catalogued, {new} not)\n", nviol - ncat, gs.len(), gs.len() - new);
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for l in lines {
        if let Some(r) = &l.not_expressible {
            *reasons.entry(r.as_str()).or_default() += 1;
        }
    }
    for (r, n) in reasons {
        s += &format!("  not expressible {n:>5}  {r}\n");
    }
    for l in &bound {
        let props: Vec<&str> = l.verdicts.iter().filter(|(_, v)| *v == "bound reached").map(|(k, _)| k.as_str()).collect();
        s += &format!("  bound reached    {} {} ({} unique states): {}\n", l.revision, l.id, l.unique, props.join(", "));
    }
    for (n, g) in gs.iter().enumerate() {
        let revs: BTreeSet<&str> = g.scenarios.iter().map(|x| x.2.as_str()).collect();
        let tag = match &g.catalogued {
            Some(c) => format!("catalogued: {c}"),
            None => "NOT CATALOGUED".into(),
        };
        s += &format!("{:>3}. {} [{}] {} scenarios on {}\n", n + 1, g.key, tag, g.scenarios.len(), revs.into_iter().collect::<Vec<_>>().join(", "));
    }
    s
}

/// The full report: the summary, then per group not catalogued its
/// smallest scenario's shortest counterexample (re-checked) as a swimlane
/// and the other scenarios of the group.
pub fn report(header: &FileHeader, lines: &[Line], width: usize, stop: &AtomicBool) -> Result<String, ModelError> {
    let mut s = summary(header, lines);
    let plan_props = {
        let mut p = PropertySet::default();
        for f in &header.vocabulary.properties {
            let set = PropertySet::load(f).map_err(|e| ModelError::Catalogue(format!("properties {f}: {e}")))?;
            p.extend(set).map_err(|e| ModelError::Catalogue(format!("properties {f}: {e}")))?;
        }
        p
    };
    for (n, g) in groups(lines).iter().enumerate() {
        if g.catalogued.is_some() {
            continue;
        }
        let (ops, id, revision, _) = &g.scenarios[0];
        s += &format!("\n=== {}. {} (NOT CATALOGUED)\n", n + 1, g.key);
        s += &format!("smallest: {revision} {id} ({ops} ops)\n");
        let sc = scenario_from_id(&header.vocabulary, id).ok_or_else(|| ModelError::Catalogue(format!("scenario id {id}: not from this vocabulary")))?;
        let rev_arg =
            header.vocabulary.revisions.iter().find(|r| RevisionSpec::load(r).is_ok_and(|x| x.name == *revision)).cloned().unwrap_or(revision.clone());
        let rev = RevisionSpec::load(&rev_arg)?;
        let bounds = Bounds { max_states: Some(header.vocabulary.max_states.unwrap_or(DEFAULT_MAX_STATES)), ..Bounds::default() };
        let r = check_with(&rev, &sc, &plan_props, &bounds, None, stop)?;
        if let Some(ce) = r.properties.iter().find(|p| p.property == g.key.property).and_then(|p| p.counterexample.as_ref()) {
            let m = crate::checker::machine_with(&rev, &sc, &plan_props, Arc::new(AtomicBool::new(false)))?;
            s += &format!("shortest counterexample: {} steps; {}\n", ce.steps.len(), ce.violation);
            s += &crate::render::render_counterexample(&m, ce, width);
        }
        let rest = &g.scenarios[1..];
        if !rest.is_empty() {
            s += &format!("other scenarios ({}):\n", rest.len());
            for (ops, id, rev, _) in rest.iter().take(REPORT_LIST) {
                s += &format!("  {rev} {id} ({ops} ops)\n");
            }
            if rest.len() > REPORT_LIST {
                s += &format!("  ... and {} more (the results file lists them)\n", rest.len() - REPORT_LIST);
            }
        }
    }
    Ok(s)
}

/// Scenarios listed per group in the report.
pub const REPORT_LIST: usize = 12;

/// Rebuild a scenario from its id (`topology:ops|ops`) and the vocabulary.
pub fn scenario_from_id(voc: &Vocabulary, id: &str) -> Option<Scenario> {
    let (topo, rest) = id.split_once(':')?;
    let t = voc.topologies.iter().find(|t| t.name == topo)?;
    let mut threads = Vec::new();
    for (k, th) in rest.split('|').enumerate() {
        let ops: Option<Vec<Op>> = th.split(';').map(op_from_words).collect();
        threads.push(ThreadSpec { name: format!("T{}", k + 1), ops: ops? });
    }
    Some(Scenario { name: id.into(), description: String::new(), header: t.header.clone(), threads })
}

/// The inverse of [`op_words`].
pub fn op_from_words(w: &str) -> Option<Op> {
    let (name, args) = match w.split_once('(') {
        Some((n, a)) => (n, a.strip_suffix(')')?),
        None => (w, ""),
    };
    let mut m = serde_json::Map::new();
    m.insert("op".into(), Value::from(name));
    for a in args.split(',').filter(|a| !a.is_empty()) {
        let (k, v) = a.split_once('=')?;
        let val = serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::from(v));
        m.insert(k.into(), val);
    }
    serde_json::from_value(Value::Object(m)).ok()
}
