//! State-machine property tests: random valid operation sequences (built
//! the way `conformance/src/gen.rs` builds them: only live paths, one
//! controller per path, at least one path kept) must keep the library's
//! invariants after every step in sequential execution. The trace round
//! trip (write, parse, replay) lives in `conformance/tests/roundtrip.rs`,
//! since the parser is in `mpath-conformance`.

use mpath_reference::driver::{AluaState, AnaState, CtrlState, DriverKind, IoctlKind, SdevState};
use mpath_reference::fwd::FwdOp;
use mpath_reference::head::Life;
use mpath_reference::ops::{Op, DEFAULT_CAPACITY};
use mpath_reference::sync::Ordering;
use mpath_reference::trace::Header;
use mpath_reference::{System, Topology};
use proptest::prelude::*;

const ANA: [AnaState; 5] = [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change];
const ALUA: [AluaState; 5] = [AluaState::Optimal, AluaState::Active, AluaState::Standby, AluaState::Unavailable, AluaState::Transitioning];
const CTRL: [CtrlState; 7] = [CtrlState::Live, CtrlState::Live, CtrlState::Resetting, CtrlState::Connecting, CtrlState::Deleting, CtrlState::DeletingNoio, CtrlState::Dead];
const SDEV: [SdevState; 6] = [SdevState::Running, SdevState::Running, SdevState::Block, SdevState::Quiesce, SdevState::Offline, SdevState::CreatedBlock];
const POLICIES: [&str; 6] = ["numa", "round-robin", "queue-depth", "queue-depth\n", "bogus", "numa\n"];

/// The driver-visible state the generator tracks to keep ops valid.
struct Gen {
    nvme: bool,
    nodes: i32,
    max_paths: u32,
    alive: Vec<u32>,
    next_new: u32,
    opened: i32,
}

fn pick<T: Copy>(xs: &[T], r: u32) -> T {
    xs[r as usize % xs.len()]
}

impl Gen {
    fn add_path(&mut self, r: u32) -> Op {
        let p = self.next_new;
        self.next_new += 1;
        self.alive.push(p);
        if self.nvme {
            let ana = if r % 10 == 0 { None } else { Some(pick(&ANA[..3], r / 10)) };
            Op::AddPath { path: p, ctrl: p, capacity: DEFAULT_CAPACITY, ana, alua: None, missing_ops: vec![] }
        } else {
            Op::AddPath { path: p, ctrl: p, capacity: DEFAULT_CAPACITY, ana: None, alua: Some(pick(&ALUA[..3], r)), missing_ops: vec![] }
        }
    }

    /// One op from three raw choices.
    fn op(&mut self, k: u8, a: u32, b: u32) -> Op {
        let node = (a % self.nodes as u32) as i32;
        let p = pick(&self.alive, b);
        let nvme = self.nvme;
        match k % 26 {
            0..=3 => Op::FindPath { node },
            4 | 5 => Op::SubmitBio { node },
            6 => Op::RunWorks { node },
            7 if nvme => Op::AnaUpdate { path: p, state: pick(&ANA, a / 7) },
            7 => Op::SetAluaState { path: p, state: pick(&ALUA, a / 7) },
            8 if nvme => Op::SetCtrlState { ctrl: p, state: pick(&CTRL, a / 7) },
            8 => Op::SetSdevState { path: p, state: pick(&SDEV, a / 7) },
            9 if nvme => Op::SetReady { path: p, ready: a % 3 != 0 },
            9 => Op::ScsiBlock { path: p },
            10 if nvme => Op::SetAnaPending { path: p, pending: a % 3 == 0 },
            10 => Op::SetSdevState { path: p, state: SdevState::Running },
            11 => Op::SetNrActive { ctrl: p, n: (a % 6) as i32 - 1 },
            12 => Op::Failover { path: p, ana_error: nvme && a % 2 == 0 },
            13 => Op::Complete { path: p },
            14 => Op::IopolicyStore { buf: pick(&POLICIES, a).to_string() },
            15 if nvme && a % 2 == 0 => Op::SetCapacity { path: p, sectors: if a % 4 == 0 { 4096 } else { DEFAULT_CAPACITY } },
            15 if nvme => Op::Revalidate { path: p },
            15 => Op::ClearPaths,
            16 if self.alive.len() > 1 => {
                self.alive.retain(|&x| x != p);
                Op::RemovePath { path: p, node }
            }
            16 | 17 if self.next_new < self.max_paths => self.add_path(a),
            16..=18 => Op::ClearCurrentPath { path: p },
            19 => Op::NumaNodesShow { path: p },
            20 if nvme && a % 2 == 0 => Op::ChrIoctl { node, kind: if a % 4 == 0 { IoctlKind::Ns } else { IoctlKind::Ctrl } },
            20 => Op::Forward { node, fwd: pick(&FwdOp::ALL, a / 2), kind: Some(if a % 3 == 0 { IoctlKind::Ctrl } else { IoctlKind::Ns }) },
            21 => match a % 3 {
                0 => Op::DelayedRemovalSecsStore { buf: pick(&["0", "5", "0x10\n", "-1", "junk", "1"], a / 3).to_string() },
                1 => Op::AdvanceTime { secs: (a / 3 % 10) as u64 },
                _ => Op::UringCmd { node },
            },
            22 if self.opened > 0 && a % 2 == 0 => {
                self.opened -= 1;
                Op::Release
            }
            22 => {
                self.opened += 1;
                Op::Open
            }
            23 => Op::SetLive { path: p },
            24 => Op::AddSysfsLink,
            _ => Op::Synchronize,
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    revision: &'static str,
    driver: DriverKind,
    nodes: usize,
    paths: usize,
    iopolicy: &'static str,
    steps: Vec<(u8, u32, u32)>,
}

fn case(revisions: &'static [&'static str], driver: DriverKind) -> impl Strategy<Value = Case> {
    (
        prop::sample::select(revisions),
        1usize..=3,
        1usize..=4,
        prop::sample::select(&["numa", "round-robin", "queue-depth"][..]),
        prop::collection::vec((any::<u8>(), any::<u32>(), any::<u32>()), 1..120),
    )
        .prop_map(move |(revision, nodes, paths, iopolicy, steps)| Case { revision, driver, nodes, paths, iopolicy, steps })
}

/// Runs a case, checking every invariant after every step.
fn check(c: &Case) -> Result<(), TestCaseError> {
    let nvme = c.driver == DriverKind::Nvme;
    let max_paths = c.paths + 3;
    let mut h = Header::new(c.revision, c.driver, Topology::uniform(c.nodes), max_paths, max_paths);
    h.iopolicy = c.iopolicy.into();
    h.ctrl_nodes = (0..max_paths).map(|i| if c.nodes > 1 { (i % c.nodes) as i32 } else { -1 }).collect();
    let mut g = Gen { nvme, nodes: c.nodes as i32, max_paths: max_paths as u32, alive: vec![], next_new: 0, opened: 0 };
    for _ in 0..c.paths {
        let op = g.add_path(7);
        h.setup.push(op);
    }
    let sys = h.instantiate().map_err(TestCaseError::fail)?;
    // The model of dev_list: insertion order minus removed paths.
    let mut model: Vec<u32> = g.alive.clone();
    let mut submitted = 0u64;
    for (step, &(k, a, b)) in c.steps.iter().enumerate() {
        let op = g.op(k, a, b);
        match &op {
            Op::AddPath { path, .. } => model.push(*path),
            Op::RemovePath { path, .. } => model.retain(|x| x != path),
            Op::SubmitBio { .. } => submitted += 1,
            _ => {}
        }
        sys.apply(step as u64, &op).map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: invalid op: {e}")))?;
        invariants(&sys, &model, submitted, g.opened, c.revision).map_err(|e| TestCaseError::fail(format!("after step {step} {op:?}: {e}")))?;
    }
    Ok(())
}

fn invariants(sys: &System, model: &[u32], submitted: u64, opened: i32, revision: &str) -> Result<(), String> {
    let o = sys.observe();
    // dev_list = insertion order minus deleted, no duplicates.
    let list = o.dev_list.clone().unwrap();
    if list != model {
        return Err(format!("dev_list {list:?} != insertion order minus removed {model:?}"));
    }
    let mut dedup = list.clone();
    dedup.sort_unstable();
    dedup.dedup();
    if dedup.len() != list.len() {
        return Err(format!("duplicate in dev_list {list:?}"));
    }
    for p in 0..sys.paths.len() as u32 {
        let linked = sys.paths[p as usize].life() == Life::Linked;
        if linked != list.contains(&p) {
            return Err(format!("path {p}: life {:?} but dev_list {list:?}", sys.paths[p as usize].life()));
        }
    }
    // Flags: only the two head bits; DISK_LIVE iff the gendisk is added;
    // QUEUE_IF_NO_PATH iff delayed_removal_secs != 0.
    let flags = o.head_flags.unwrap();
    if flags & !3 != 0 {
        return Err(format!("unknown head flag bits {flags:#x}"));
    }
    let live = flags & 1 != 0;
    if live != (o.head_disk.as_deref() == Some("added")) {
        return Err(format!("DISK_LIVE {live} but head disk {:?}", o.head_disk));
    }
    let secs = sys.delayed_removal_secs.load(Ordering::Relaxed);
    if (flags & 2 != 0) != (secs != 0) {
        return Err(format!("QUEUE_IF_NO_PATH {} but delayed_removal_secs {secs}", flags & 2 != 0));
    }
    // Links: the sysfs state equals the LINK bits at rest (N1), only on
    // linked paths, only while the head disk is added, none on 6.12.
    let (links, bits) = (o.links.clone().unwrap(), o.link_bits.clone().unwrap());
    if links != bits {
        return Err(format!("links {links:?} != link bits {bits:?}"));
    }
    if links.iter().any(|p| !list.contains(p)) {
        return Err(format!("a link to a path that is not on dev_list: links {links:?}, dev_list {list:?}"));
    }
    if revision == "nvme-6.12" && !links.is_empty() {
        return Err("6.12 has no multipath sysfs links".into());
    }
    // No current_path slot refers to a path that is not linked (N2, R12).
    for (n, v) in o.current_path.clone().unwrap().iter().enumerate() {
        if let Some(p) = v {
            if *p < 0 || !list.contains(&(*p as u32)) {
                return Err(format!("current_path[{n}] = {p} is not a linked path ({list:?})"));
            }
        }
    }
    // Head references: 1 + balanced opens.
    let r = o.head_ref.unwrap();
    if r != 1 + opened || r < 1 {
        return Err(format!("head_ref {r} with {opened} opens outstanding"));
    }
    // Module references are never negative; SRCU is balanced at rest.
    if o.module_refs.unwrap() < 0 {
        return Err("negative module refs".into());
    }
    if sys.srcu.readers() != 0 {
        return Err(format!("{} SRCU readers at rest", sys.srcu.readers()));
    }
    // Every bio is accounted for exactly once.
    let inflight: usize = sys.paths.iter().map(|s| s.inflight.lock().map(|q| q.len()).unwrap_or(0)).sum();
    let accounted = inflight as u64 + o.requeue_len.unwrap() as u64 + o.bios_failed.unwrap() + sys.bios_completed.load(Ordering::Relaxed);
    if accounted != submitted {
        return Err(format!("{submitted} bios submitted, {accounted} accounted for"));
    }
    // No violation on a correct revision, used by a correct driver order.
    if !o.violations.as_ref().unwrap().is_empty() {
        return Err(format!("violations: {:?}", o.violations.unwrap()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn nvme_v2_keeps_invariants(c in case(&["v2"], DriverKind::Nvme)) {
        check(&c)?;
    }

    #[test]
    fn scsi_v2_keeps_invariants(c in case(&["v2"], DriverKind::Scsi)) {
        check(&c)?;
    }

    #[test]
    fn other_revisions_keep_invariants(c in case(&["v3", "nvme-6.12"], DriverKind::Nvme)) {
        check(&c)?;
    }

    #[test]
    fn scsi_v3_keeps_invariants(c in case(&["v3"], DriverKind::Scsi)) {
        check(&c)?;
    }
}

/// v1 does break an invariant: R12 publishes junk once no path qualifies.
#[test]
fn v1_breaks_the_current_path_invariant() {
    let c = Case { revision: "v1", driver: DriverKind::Nvme, nodes: 1, paths: 1, iopolicy: "numa", steps: vec![(8, 6 * 7, 0), (0, 0, 0)] };
    // Step 0: ctrl 0 DEAD (CTRL[6]); step 1: find_path with nothing usable.
    let e = check(&c).unwrap_err().to_string();
    assert!(e.contains("current_path[0] = -1") || e.contains("JunkPointer") || e.contains("junk"), "{e}");
}
