//! The benchmark workloads: one definition, used by the criterion benches
//! (reference), the KUnit bench generator (kernel C) and the report.
//!
//! A [`Workload`] is plain data: the head's paths (controller, ANA state,
//! READY bit), the controllers (NUMA node, `nr_active`), the iopolicy, the
//! caller's node and the [`Action`] to time. [`Workload::header`] turns it
//! into a trace header for the reference ([`mpath_reference::trace::Header`]
//! plus setup ops, so the reference builds it through its own vocabulary);
//! `kunit.rs` turns the same data into C tables. `workloads.json` is the
//! exported list (`bench workloads`).
//!
//! ## Selection (the cross product kept manageable)
//!
//! | family | mixes | path counts | NUMA nodes |
//! |---|---|---|---|
//! | `numa_hit`, `numa_rescan`, `round_robin`, `queue_depth` | `all_opt` | 1 2 4 8 16 32 64 128 | 1 |
//! | same four | `one_opt_last`, `all_nonopt`, `half_disabled` | 2 8 32 128 | 1 |
//! | `numa_hit`, `numa_rescan` | `all_opt` | 8 128 | 2 4 8 (kernel: needs NUMA) |
//! | `clear_current_path_hit`, `clear_current_path_miss` | `all_opt` | 4 | 1 2 4 8 (kernel: >1 needs NUMA) |
//! | `srcu_read_pair` | – | 1 | 1 |
//!
//! Conventions shared by both sides:
//! - one controller per path (path `i` on controller `i`), controller `i` on
//!   NUMA node `i % nodes`; the caller runs on node 0;
//! - mixes: `all_opt` every path ANA-optimized; `one_opt_last` only the last
//!   path optimized, the others non-optimized; `all_nonopt` every path
//!   non-optimized; `half_disabled` all optimized, odd-numbered paths have
//!   `NVME_NS_READY` clear (disabled);
//! - `queue_depth`: controller `c` has `nr_active = paths - c` (never 0, so
//!   the selector walks the whole list; the last path is least loaded);
//!   other families leave `nr_active` at 0;
//! - the selector ([`Action::FindPath`], [`Action::FindPathRescan`]) is
//!   timed *inside* one open SRCU read section (`nvme_find_path` /
//!   `find_path_locked`, as every kernel caller runs it); the read-lock pair
//!   itself is its own workload (`srcu_read_pair`);
//! - before timing, the find families call the selector once (so
//!   `current_path[0]` is primed as after the first I/O).

use mpath_reference::driver::AnaState;
use mpath_reference::head::CP_NULL;
use mpath_reference::iopolicy::IoPolicy;
use mpath_reference::rculist::enc;
use mpath_reference::sync::Ordering;
use mpath_reference::trace::Header;
use mpath_reference::{DriverKind, Op, System, Topology};
use serde::{Deserialize, Serialize};

/// The revision the workloads run on (the reference profile matching the
/// kernel C they are compared with).
pub const REVISION: &str = "nvme-6.12";

/// Path counts of the `all_opt` mix.
pub const PATHS_ALL: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 128];
/// Path counts of the other mixes.
pub const PATHS_MIX: [usize; 4] = [2, 8, 32, 128];
/// NUMA node counts beyond 1 for the numa families.
pub const NODES_NUMA: [usize; 3] = [2, 4, 8];
/// Path counts of the multi-node numa workloads.
pub const PATHS_NUMA_NODES: [usize; 2] = [8, 128];
/// Node counts of the clear_current_path workloads.
pub const NODES_CLEAR: [usize; 4] = [1, 2, 4, 8];
/// Path count of the clear_current_path workloads.
pub const PATHS_CLEAR: usize = 4;

/// The path-selection families, in report order.
pub const FIND_FAMILIES: [&str; 4] = ["numa_hit", "numa_rescan", "round_robin", "queue_depth"];

/// ANA mixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mix {
    AllOpt,
    OneOptLast,
    AllNonopt,
    HalfDisabled,
}

impl Mix {
    pub const ALL: [Mix; 4] = [Mix::AllOpt, Mix::OneOptLast, Mix::AllNonopt, Mix::HalfDisabled];
    pub fn name(self) -> &'static str {
        match self {
            Mix::AllOpt => "all_opt",
            Mix::OneOptLast => "one_opt_last",
            Mix::AllNonopt => "all_nonopt",
            Mix::HalfDisabled => "half_disabled",
        }
    }
    pub fn from_name(s: &str) -> Option<Mix> {
        Mix::ALL.into_iter().find(|m| m.name() == s)
    }
    /// (ANA state, READY) of path `i` of `n`.
    pub fn path(self, i: usize, n: usize) -> (AnaState, bool) {
        match self {
            Mix::AllOpt => (AnaState::Optimized, true),
            Mix::OneOptLast if i + 1 == n => (AnaState::Optimized, true),
            Mix::OneOptLast | Mix::AllNonopt => (AnaState::Nonoptimized, true),
            Mix::HalfDisabled => (AnaState::Optimized, i.is_multiple_of(2)),
        }
    }
}

/// What one timed operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `nvme_find_path(head)` / `find_path_locked(node)` inside an open
    /// SRCU read section.
    FindPath,
    /// `current_path[node] = NULL`, then the selector: forces the full
    /// `__nvme_find_path` walk on every call.
    FindPathRescan,
    /// Point every node's `current_path` slot at path 0, then
    /// `clear_current_path(path 0)` (clears every slot).
    ClearCurrentPathHit,
    /// `clear_current_path(last path)` while every slot points at path 0
    /// (compares every slot, changes nothing).
    ClearCurrentPathMiss,
    /// `srcu_read_lock` + `srcu_read_unlock` on the head's SRCU.
    SrcuReadPair,
}

impl Action {
    /// The timed operation runs inside one SRCU read section held across
    /// the whole batch.
    pub fn in_read_section(self) -> bool {
        matches!(self, Action::FindPath | Action::FindPathRescan)
    }
}

/// One path (namespace) of the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathDef {
    pub ctrl: u32,
    pub ana: AnaState,
    /// `NVME_NS_READY`; clear = disabled.
    pub ready: bool,
}

/// One controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtrlDef {
    /// `ctrl->numa_node`.
    pub node: i32,
    /// `atomic_read(&ctrl->nr_active)`.
    pub nr_active: i32,
}

/// One benchmark workload (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    /// Stable id: criterion benchmark id and KUnit param description.
    pub name: String,
    /// `numa_hit`, `numa_rescan`, `round_robin`, `queue_depth`,
    /// `clear_current_path_hit`, `clear_current_path_miss`, `srcu_read_pair`.
    pub family: String,
    /// Iopolicy name (`numa`, `round-robin`, `queue-depth`).
    pub iopolicy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<Mix>,
    /// Possible = online NUMA nodes `0..nodes`.
    pub nodes: usize,
    /// The caller's node (`numa_node_id()`).
    pub node: i32,
    pub ctrls: Vec<CtrlDef>,
    pub paths: Vec<PathDef>,
    pub action: Action,
}

fn name_of(family: &str, mix: Option<Mix>, paths: usize, nodes: usize) -> String {
    match mix {
        Some(m) => format!("{family}.{}.p{paths}.n{nodes}", m.name()),
        None => format!("{family}.p{paths}.n{nodes}"),
    }
}

impl Workload {
    /// A path-selection workload of `family` (one of [`FIND_FAMILIES`]).
    pub fn find(family: &str, mix: Mix, paths: usize, nodes: usize) -> Workload {
        let (iopolicy, action) = match family {
            "numa_hit" => (IoPolicy::Numa, Action::FindPath),
            "numa_rescan" => (IoPolicy::Numa, Action::FindPathRescan),
            "round_robin" => (IoPolicy::RoundRobin, Action::FindPath),
            "queue_depth" => (IoPolicy::QueueDepth, Action::FindPath),
            other => panic!("unknown find family {other}"),
        };
        let qd = iopolicy == IoPolicy::QueueDepth;
        let ctrls = (0..paths).map(|c| CtrlDef { node: (c % nodes) as i32, nr_active: if qd { (paths - c) as i32 } else { 0 } }).collect();
        let path_defs = (0..paths)
            .map(|i| {
                let (ana, ready) = mix.path(i, paths);
                PathDef { ctrl: i as u32, ana, ready }
            })
            .collect();
        Workload {
            name: name_of(family, Some(mix), paths, nodes),
            family: family.into(),
            iopolicy: iopolicy.name().into(),
            mix: Some(mix),
            nodes,
            node: 0,
            ctrls,
            paths: path_defs,
            action,
        }
    }

    /// A `clear_current_path` workload (hit or miss) over `nodes` nodes.
    pub fn clear(hit: bool, nodes: usize) -> Workload {
        let mut w = Workload::find("numa_hit", Mix::AllOpt, PATHS_CLEAR, nodes);
        w.family = if hit { "clear_current_path_hit" } else { "clear_current_path_miss" }.into();
        w.mix = None;
        w.name = name_of(&w.family, None, PATHS_CLEAR, nodes);
        w.action = if hit { Action::ClearCurrentPathHit } else { Action::ClearCurrentPathMiss };
        w
    }

    /// The SRCU read lock/unlock pair.
    pub fn srcu_pair() -> Workload {
        let mut w = Workload::find("numa_hit", Mix::AllOpt, 1, 1);
        w.family = "srcu_read_pair".into();
        w.mix = None;
        w.name = name_of("srcu_read_pair", None, 1, 1);
        w.action = Action::SrcuReadPair;
        w
    }

    pub fn nr_paths(&self) -> usize {
        self.paths.len()
    }

    /// Needs more NUMA nodes than node 0 (UML has only node 0).
    pub fn needs_numa(&self) -> bool {
        self.nodes > 1
    }

    /// The trace header that builds this workload on the reference: NVMe,
    /// revision [`REVISION`], head disk allocated, one `add_path` per path
    /// (ANA state given, so it goes live), `set_ready false` for disabled
    /// paths, `set_nr_active` per controller.
    pub fn header(&self) -> Header {
        let mut h = Header::new(REVISION, DriverKind::Nvme, Topology::uniform(self.nodes), self.nr_paths(), self.ctrls.len());
        h.description = format!("bench workload {}", self.name);
        h.iopolicy = self.iopolicy.clone();
        h.ctrl_nodes = self.ctrls.iter().map(|c| c.node).collect();
        for (i, p) in self.paths.iter().enumerate() {
            h.setup.push(Op::AddPath {
                path: i as u32,
                ctrl: p.ctrl,
                capacity: mpath_reference::ops::DEFAULT_CAPACITY,
                ana: Some(p.ana),
                alua: None,
                missing_ops: Vec::new(),
            });
        }
        for (i, p) in self.paths.iter().enumerate() {
            if !p.ready {
                h.setup.push(Op::SetReady { path: i as u32, ready: false });
            }
        }
        for (c, d) in self.ctrls.iter().enumerate() {
            if d.nr_active != 0 {
                h.setup.push(Op::SetNrActive { ctrl: c as u32, n: d.nr_active });
            }
        }
        if self.needs_numa() {
            h.labels.push("needs_numa".into());
        }
        h
    }

    /// Build the reference system, clear every `current_path` slot (the
    /// reference's set-up went live and cached paths; the kernel harness
    /// starts with NULL slots) and prime it (see [`Workload::prime`]).
    pub fn build(&self) -> Result<System, String> {
        let sys = self.header().instantiate()?;
        sys.clear_paths();
        self.prime(&sys);
        let v = sys.violations();
        if !v.is_empty() {
            return Err(format!("{}: setup reported violations: {v:?}", self.name));
        }
        Ok(sys)
    }

    /// The state before timing: the selector ran once (find families), or
    /// every `current_path` slot points at path 0 (clear families).
    pub fn prime(&self, sys: &System) {
        match self.action {
            Action::FindPath | Action::FindPathRescan => {
                let idx = sys.srcu.read_lock();
                sys.find_path_locked(self.node);
                sys.srcu.read_unlock(idx);
            }
            Action::ClearCurrentPathHit | Action::ClearCurrentPathMiss => point_all_slots(sys, 0),
            Action::SrcuReadPair => {}
        }
    }

    /// One timed operation. For [`Action::in_read_section`] actions the
    /// caller holds `sys.srcu` for reading. Returns a value to black-box.
    #[inline]
    pub fn op(&self, sys: &System) -> u32 {
        match self.action {
            Action::FindPath => sys.find_path_locked(self.node),
            Action::FindPathRescan => {
                sys.current_path[self.node as usize].store(CP_NULL, Ordering::Release);
                sys.find_path_locked(self.node)
            }
            Action::ClearCurrentPathHit => {
                point_all_slots(sys, 0);
                sys.clear_current_path(0) as u32
            }
            Action::ClearCurrentPathMiss => sys.clear_current_path(self.nr_paths() as u32 - 1) as u32,
            Action::SrcuReadPair => {
                let idx = sys.srcu.read_lock();
                sys.srcu.read_unlock(idx);
                idx as u32
            }
        }
    }

    /// Run `iters` operations with the read section convention applied;
    /// returns a checksum (used by tests and by `iter_custom`). As the
    /// kernel suite's `mpvb_batch`: one loop per action (the `match` is
    /// outside the loop), each operation's result added to a checksum.
    /// The selector and `clear_current_path` are out-of-line calls into
    /// the reference crate (as `nvme_find_path` is into multipath.c), and
    /// the SRCU pair's barriers keep every iteration, so no `black_box`
    /// is needed inside the loop.
    pub fn run(&self, sys: &System, iters: u64) -> u64 {
        let mut acc = 0u64;
        let idx = self.action.in_read_section().then(|| sys.srcu.read_lock());
        let node = self.node;
        match self.action {
            Action::FindPath => {
                for _ in 0..iters {
                    acc = acc.wrapping_add(sys.find_path_locked(node) as u64);
                }
            }
            Action::FindPathRescan => {
                let slot = &sys.current_path[node as usize];
                for _ in 0..iters {
                    slot.store(CP_NULL, Ordering::Release);
                    acc = acc.wrapping_add(sys.find_path_locked(node) as u64);
                }
            }
            Action::ClearCurrentPathHit => {
                for _ in 0..iters {
                    point_all_slots(sys, 0);
                    acc = acc.wrapping_add(sys.clear_current_path(0) as u64);
                }
            }
            Action::ClearCurrentPathMiss => {
                let last = self.nr_paths() as u32 - 1;
                for _ in 0..iters {
                    acc = acc.wrapping_add(sys.clear_current_path(last) as u64);
                }
            }
            Action::SrcuReadPair => {
                for _ in 0..iters {
                    let i = sys.srcu.read_lock();
                    sys.srcu.read_unlock(i);
                    acc = acc.wrapping_add(i as u64);
                }
            }
        }
        if let Some(i) = idx {
            sys.srcu.read_unlock(i);
        }
        std::hint::black_box(acc)
    }
}

/// `rcu_assign_pointer(head->current_path[n], path p)` for every node.
fn point_all_slots(sys: &System, p: u32) {
    for &n in &sys.topo.possible {
        sys.current_path[n as usize].store(enc(p), Ordering::Release);
    }
}

/// Every workload, in report order.
pub fn all() -> Vec<Workload> {
    let mut out = Vec::new();
    for fam in FIND_FAMILIES {
        for mix in Mix::ALL {
            let counts: &[usize] = if mix == Mix::AllOpt { &PATHS_ALL } else { &PATHS_MIX };
            for &p in counts {
                out.push(Workload::find(fam, mix, p, 1));
            }
        }
        if fam.starts_with("numa") {
            for nodes in NODES_NUMA {
                for p in PATHS_NUMA_NODES {
                    out.push(Workload::find(fam, Mix::AllOpt, p, nodes));
                }
            }
        }
    }
    for hit in [true, false] {
        for nodes in NODES_CLEAR {
            out.push(Workload::clear(hit, nodes));
        }
    }
    out.push(Workload::srcu_pair());
    out
}

/// Look a workload up by name.
pub fn by_name(name: &str) -> Option<Workload> {
    all().into_iter().find(|w| w.name == name)
}

/// The exported list (`workloads.json`): a version and the workloads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadFile {
    pub mpath_bench_workloads: u32,
    pub revision: String,
    pub workloads: Vec<Workload>,
}

pub const WORKLOADS_FORMAT: u32 = 1;

pub fn to_json() -> String {
    let f = WorkloadFile { mpath_bench_workloads: WORKLOADS_FORMAT, revision: REVISION.into(), workloads: all() };
    let mut s = serde_json::to_string_pretty(&f).expect("workloads serialise");
    s.push('\n');
    s
}

pub fn from_json(s: &str) -> Result<Vec<Workload>, String> {
    let f: WorkloadFile = serde_json::from_str(s).map_err(|e| format!("workloads.json: {e}"))?;
    if f.mpath_bench_workloads != WORKLOADS_FORMAT {
        return Err(format!("workloads.json: format {} (this build reads {WORKLOADS_FORMAT})", f.mpath_bench_workloads));
    }
    Ok(f.workloads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_safe() {
        let all = all();
        let names: BTreeSet<_> = all.iter().map(|w| w.name.clone()).collect();
        assert_eq!(names.len(), all.len());
        for n in &names {
            assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'), "{n}");
            assert!(n.len() < 100);
        }
        assert_eq!(all.len(), 4 * (8 + 3 * 4) + 2 * 3 * 2 + 8 + 1);
    }

    #[test]
    fn every_workload_builds_and_selects_what_the_mix_says() {
        for w in all() {
            let sys = w.build().unwrap_or_else(|e| panic!("{e}"));
            let r = w.run(&sys, 3);
            assert!(sys.violations().is_empty(), "{}: {:?}", w.name, sys.violations());
            if w.action == Action::FindPath {
                let idx = sys.srcu.read_lock();
                let v = sys.find_path_locked(0);
                sys.srcu.read_unlock(idx);
                assert_ne!(v, CP_NULL, "{} selects nothing", w.name);
                let p = v - 1;
                let n = w.nr_paths() as u32;
                match (w.family.as_str(), w.mix.unwrap()) {
                    ("numa_hit" | "queue_depth", Mix::OneOptLast) => assert_eq!(p, n - 1, "{}", w.name),
                    ("numa_hit", Mix::AllOpt | Mix::HalfDisabled | Mix::AllNonopt) => assert_eq!(p, 0, "{}", w.name),
                    ("queue_depth", Mix::AllOpt | Mix::AllNonopt) => assert_eq!(p, n - 1, "{}", w.name),
                    ("queue_depth", Mix::HalfDisabled) => assert_eq!(p, (n - 1) & !1, "{}", w.name),
                    _ => {}
                }
                assert!(w.paths[p as usize].ready, "{} selected a disabled path", w.name);
            }
            if w.action == Action::ClearCurrentPathHit {
                assert_eq!(r, 3);
            }
            if w.action == Action::ClearCurrentPathMiss {
                assert_eq!(r, 0);
            }
        }
    }

    #[test]
    fn json_round_trips() {
        let s = to_json();
        assert_eq!(from_json(&s).unwrap(), all());
        assert!(from_json("{\"mpath_bench_workloads\":9,\"revision\":\"x\",\"workloads\":[]}").is_err());
    }

    /// The committed `workloads.json` is the generated one (regenerate with
    /// `mpath-verify bench workloads`).
    #[test]
    fn committed_workloads_json_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads.json");
        let on_disk = std::fs::read_to_string(&path).expect("benches/workloads.json exists");
        assert_eq!(from_json(&on_disk).unwrap(), all(), "benches/workloads.json is stale");
    }
}
