//! State-machine property tests: random valid operation sequences from the
//! one generator (`mpath_reference::opgen`, the driver-order kinds: only
//! listed paths, one controller per path, at least one path kept) must
//! keep the library's
//! invariants after every step in sequential execution. The trace round
//! trip (write, parse, replay) lives in `conformance/tests/roundtrip.rs`,
//! since the parser is in `mpath-conformance`.

use mpath_reference::driver::DriverKind;
use mpath_reference::head::Life;
use mpath_reference::opgen::{ctrl_state_machine, Draws, GenState, Mix};
use mpath_reference::ops::Op;
use mpath_reference::sync::Ordering;
use mpath_reference::trace::Header;
use mpath_reference::{System, Topology};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    revision: &'static str,
    driver: DriverKind,
    nodes: usize,
    paths: usize,
    iopolicy: &'static str,
    /// Raw draws per operation (the generator's choice source).
    steps: Vec<Vec<u32>>,
}

fn case(revisions: &'static [&'static str], driver: DriverKind) -> impl Strategy<Value = Case> {
    (
        prop::sample::select(revisions),
        1usize..=3,
        1usize..=4,
        prop::sample::select(&["numa", "round-robin", "queue-depth"][..]),
        prop::collection::vec(prop::collection::vec(any::<u32>(), 6), 1..120),
    )
        .prop_map(move |(revision, nodes, paths, iopolicy, steps)| Case { revision, driver, nodes, paths, iopolicy, steps })
}

/// The case's header and operations, from the one generator
/// (`mpath_reference::opgen`, driver-order kinds).
fn generate(c: &Case) -> (Header, Vec<Op>) {
    let max_paths = c.paths + 3;
    let mut h = Header::new(c.revision, c.driver, Topology::uniform(c.nodes), max_paths, max_paths);
    h.iopolicy = c.iopolicy.into();
    h.ctrl_nodes = (0..max_paths).map(|i| if c.nodes > 1 { (i % c.nodes) as i32 } else { -1 }).collect();
    let mut g = GenState::new(c.driver, c.nodes, max_paths, ctrl_state_machine(c.revision));
    let mut setup = Draws::new(c.steps.iter().map(|s| s[0]).collect());
    for p in 0..c.paths as u32 {
        let op = g.arrival(&mut setup, p);
        g.apply(&op);
        h.setup.push(op);
    }
    let mix = Mix::driver_order(c.driver);
    let ops = c.steps.iter().map(|d| g.next(&mix, &mut Draws::new(d.clone()))).collect();
    (h, ops)
}

/// Runs a case, checking every invariant after every step.
fn check(c: &Case) -> Result<(), TestCaseError> {
    let (h, ops) = generate(c);
    check_ops(&h, &ops, c.revision)
}

/// Runs `ops` from `h`, checking every invariant after every step.
fn check_ops(h: &Header, ops: &[Op], revision: &str) -> Result<(), TestCaseError> {
    let sys = h.instantiate().map_err(TestCaseError::fail)?;
    // The model of dev_list: insertion order minus removed paths.
    let mut model: Vec<u32> = h.setup.iter().filter_map(|op| if let Op::AddPath { path, .. } = op { Some(*path) } else { None }).collect();
    let (mut submitted, mut opened) = (0u64, 0i32);
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::AddPath { path, .. } => model.push(*path),
            Op::RemovePath { path, .. } => model.retain(|x| x != path),
            Op::SubmitBio { .. } => submitted += 1,
            Op::Open => opened += 1,
            Op::Release => opened -= 1,
            _ => {}
        }
        sys.apply(step as u64, op).map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: invalid op: {e}")))?;
        invariants(&sys, &model, submitted, opened, revision).map_err(|e| TestCaseError::fail(format!("after step {step} {op:?}: {e}")))?;
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
    let accounted = inflight as u64 + o.requeue_len.unwrap() as u64 + o.bios_failed.unwrap() + sys.counters.bios_completed.load(Ordering::Relaxed);
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
    use mpath_reference::driver::{AnaState, CtrlState};
    let mut h = Header::new("v1", DriverKind::Nvme, Topology::uniform(1), 4, 4);
    h.setup.push(Op::AddPath {
        path: 0,
        ctrl: 0,
        capacity: mpath_reference::ops::DEFAULT_CAPACITY,
        ana: Some(AnaState::Optimized),
        alua: None,
        missing_ops: vec![],
    });
    // Controller 0 DEAD, then a selection with nothing usable.
    let ops = [Op::SetCtrlState { ctrl: 0, state: CtrlState::Dead }, Op::FindPath { node: 0 }];
    let e = check_ops(&h, &ops, "v1").unwrap_err().to_string();
    assert!(e.contains("current_path[0] = -1") || e.contains("JunkPointer") || e.contains("junk"), "{e}");
    // The same on v2 keeps every invariant.
    h.revision = "v2".into();
    check_ops(&h, &ops, "v2").unwrap();
}

/// The cases are the one generator's, and cover every driver-order kind
/// of each driver (a fixed sample of the strategy).
#[test]
fn cases_cover_every_driver_order_kind() {
    use mpath_reference::opgen::OpKind;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    for driver in [DriverKind::Nvme, DriverKind::Scsi] {
        let mut runner = TestRunner::deterministic();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            let c = case(&["v2"], driver).new_tree(&mut runner).unwrap().current();
            seen.extend(generate(&c).1.iter().map(OpKind::of));
        }
        let missing: Vec<&str> = Mix::driver_order(driver).kinds.iter().filter(|k| !seen.contains(k)).map(|k| k.name()).collect();
        assert!(missing.is_empty(), "{driver:?}: never generated: {missing:?}");
    }
}
