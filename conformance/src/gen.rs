//! Random valid traces with expectations filled in by the reference.
//! Every trace comes from the one operation generator,
//! `mpath_reference::opgen`: its state machine (`GenState`: which paths
//! are listed, which slots are free, outstanding opens, controller states
//! under 6.12's table; a path's arrival) decides what is valid, its
//! SplitMix64 stream (`Rng`) every choice, so the same arguments give
//! byte-identical output on every machine and every build. What differs
//! per backend is only the mix below: which kinds, how often, and which
//! values (the KUnit backends drive a subset of the operations).

use mpath_reference::driver::{CtrlState, DriverKind, IoctlKind, SdevState};
use mpath_reference::fwd::FwdOp;
use mpath_reference::opgen::{ctrl_state_machine, GenState, Slot, ALUA, ANA};
pub use mpath_reference::opgen::{Choices, CtrlStates, Rng};
use mpath_reference::ops::{Op, DEFAULT_CAPACITY};
use mpath_reference::trace::{record, to_jsonl, Header};
use mpath_reference::violation::Kind;
use mpath_reference::Topology;

/// Why no trace was generated; the CLI reports it as bad input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenError {
    /// `--ops` above the generator's limit.
    #[error("--ops {0} is more than 10000")]
    TooManyOps(usize),
    /// Another option out of range for the mode (`--nodes`, `--paths`, the
    /// revision `--lib --driver-ops` drives).
    #[error("{0}")]
    BadOption(String),
    /// The header the generator built does not validate.
    #[error("{0}")]
    Header(String),
    /// A drawn operation the generator's state does not allow, or a
    /// sequence the reference refuses to record (a generator bug).
    #[error("{0}")]
    Draw(String),
    /// v1: at this step every draw leads the reference to a violation a
    /// KUnit case cannot drive.
    #[error("seed {seed}: step {step}: every draw leads the reference to a violation KUnit cannot drive")]
    Stuck { seed: u64, step: usize },
}

#[derive(Clone, Debug)]
pub struct GenOpts {
    pub seed: u64,
    pub ops: usize,
    pub revision: String,
    pub driver: DriverKind,
    /// NUMA nodes (default: 1 + seed-chosen 0..3).
    pub nodes: Option<usize>,
    /// Initial paths (default: seed-chosen 1..=4).
    pub paths: Option<usize>,
}

// The corpus mix's value tables (the ANA and ALUA ones are the generator's).
const CTRL: [CtrlState; 6] = [CtrlState::Live, CtrlState::Live, CtrlState::Resetting, CtrlState::Connecting, CtrlState::Deleting, CtrlState::Dead];
const SDEV: [SdevState; 5] = [SdevState::Running, SdevState::Running, SdevState::Block, SdevState::Quiesce, SdevState::Offline];
const POLICIES: [&str; 5] = ["numa", "round-robin", "queue-depth", "queue-depth\n", "bogus"];

/// Generates a trace as JSON Lines text.
pub fn generate(o: &GenOpts) -> Result<String, GenError> {
    if o.ops > 10_000 {
        return Err(GenError::TooManyOps(o.ops));
    }
    let mut rng = Rng::new(o.seed);
    let nodes = o.nodes.unwrap_or(1 + rng.below(3) as usize);
    if nodes == 0 || nodes > 8 {
        return Err(GenError::BadOption(format!("--nodes must be in 1..=8, got {nodes}")));
    }
    let npaths = o.paths.unwrap_or(1 + rng.below(4) as usize);
    if npaths == 0 || npaths > 16 {
        return Err(GenError::BadOption(format!("--paths must be in 1..=16, got {npaths}")));
    }
    let max_paths = npaths + 2;
    let mut h = Header::new(&o.revision, o.driver, Topology::uniform(nodes), max_paths, max_paths);
    h.description = format!("generated: seed {} ops {} revision {} driver {:?}", o.seed, o.ops, o.revision, o.driver).to_lowercase();
    h.ctrl_nodes = (0..max_paths).map(|_| if nodes > 1 && rng.chance(80) { rng.below(nodes as u64) as i32 } else { -1 }).collect();
    h.iopolicy = rng.pick(&["numa", "round-robin", "queue-depth"]).to_string();
    if nodes > 1 {
        h.labels.push("needs_numa".into());
    }
    let nvme = o.driver == DriverKind::Nvme;
    let mut st = GenState::new(o.driver, nodes, max_paths, false);
    for p in 0..npaths as u32 {
        let op = st.arrival(&mut rng, p);
        st.apply(&op);
        h.setup.push(op);
    }
    h.validate().map_err(GenError::Header)?;
    let mut ops = Vec::with_capacity(o.ops);
    let node_list: Vec<i32> = (0..nodes as i32).collect();
    let mut ctrls = ctrl_state_machine(&o.revision).then(|| CtrlStates::new(max_paths));
    while ops.len() < o.ops {
        let node = rng.pick(&node_list);
        let alive = st.listed();
        let p = rng.pick(&alive);
        let c = p; // one path per controller / host
        let op = match rng.below(24) {
            0..=3 => Op::FindPath { node },
            4..=6 => Op::SubmitBio { node },
            7 => Op::RunWorks { node },
            8 if nvme => Op::AnaUpdate { path: p, state: rng.pick(&ANA) },
            8 => Op::SetAluaState { path: p, state: rng.pick(&ALUA) },
            9 if nvme => match ctrls.as_mut() {
                Some(cs) => Op::SetCtrlState { ctrl: c, state: cs.pick(&mut rng, c) },
                None => Op::SetCtrlState { ctrl: c, state: rng.pick(&CTRL) },
            },
            9 => Op::SetSdevState { path: p, state: rng.pick(&SDEV) },
            10 if nvme => Op::SetReady { path: p, ready: rng.chance(60) },
            10 => Op::ScsiBlock { path: p },
            11 if nvme => Op::SetAnaPending { path: p, pending: rng.chance(40) },
            11 => Op::SetSdevState { path: p, state: SdevState::Running },
            12 => Op::SetNrActive { ctrl: c, n: rng.below(4) as i32 },
            13 => Op::Failover { path: p, ana_error: nvme && rng.chance(50) },
            14 => Op::Complete { path: p },
            15 => Op::IopolicyStore { buf: rng.pick(&POLICIES).to_string() },
            16 if nvme => {
                if rng.chance(50) {
                    Op::SetCapacity { path: p, sectors: rng.pick(&[DEFAULT_CAPACITY, 4096]) }
                } else {
                    Op::Revalidate { path: p }
                }
            }
            16 => Op::ClearPaths,
            17 if alive.len() > 1 && rng.chance(50) => Op::RemovePath { path: p, node },
            17 if st.slots.contains(&Slot::Unused) => st.arrival(&mut rng, next_unused(&st)),
            17 | 18 => Op::ClearCurrentPath { path: p },
            19 => Op::NumaNodesShow { path: p },
            20 if nvme => Op::ChrIoctl { node, kind: rng.pick(&[IoctlKind::Ns, IoctlKind::Ctrl]) },
            20 | 21 => Op::Forward { node, fwd: rng.pick(&FwdOp::ALL), kind: Some(rng.pick(&[IoctlKind::Ns, IoctlKind::Ctrl])) },
            22 => match rng.below(3) {
                0 => Op::DelayedRemovalSecsStore { buf: rng.pick(&["0", "5", "0x10\n", "-1", "junk"]).to_string() },
                1 => Op::AdvanceTime { secs: rng.below(10) },
                _ => Op::UringCmd { node },
            },
            _ => {
                if st.opened > 0 && rng.chance(50) {
                    Op::Release
                } else {
                    Op::Open
                }
            }
        };
        push(&mut st, &mut ops, op)?;
    }
    let lines = record(&h, &ops).map_err(GenError::Draw)?;
    Ok(to_jsonl(&h, &lines))
}

/// The first free path slot (the caller checked there is one).
fn next_unused(st: &GenState) -> u32 {
    st.slots.iter().position(|s| *s == Slot::Unused).unwrap_or(0) as u32
}

/// Appends `op` after checking it against the generator's state (its
/// precondition) and applies it (the transition).
fn push(st: &mut GenState, ops: &mut Vec<(Op, String)>, op: Op) -> Result<(), GenError> {
    if !st.allows(&op) {
        return Err(GenError::Draw(format!("step {}: the generator drew {op:?}, which its state does not allow", ops.len())));
    }
    st.apply(&op);
    ops.push((op, String::new()));
    Ok(())
}

/// A trace the nvme-6.12 KUnit backend can drive end to end: revision
/// nvme-6.12, node 0 only, paths added with `add_device`, and only the
/// operations `kunit::export::nvme612_unsupported` accepts. Controller
/// state changes follow 6.12's transition table mostly, with refused ones
/// among them (`CtrlStates`).
pub fn generate_kernel(seed: u64, nops: usize, paths: Option<usize>) -> Result<String, GenError> {
    generate_for_backend(seed, nops, paths, false, 1)
}

/// The same on `nodes` NUMA nodes (all online, distances 10/20), for the
/// x86_64 run: selections on every node, controllers on any node or none.
/// With one node it is `generate_kernel`, byte for byte.
pub fn generate_kernel_numa(seed: u64, nops: usize, paths: Option<usize>, nodes: usize) -> Result<String, GenError> {
    if nodes == 0 || nodes > 2 {
        return Err(GenError::BadOption(format!("--nodes must be 1 or 2 for kernel traces (the x86_64 run boots two nodes), got {nodes}")));
    }
    generate_for_backend(seed, nops, paths, false, nodes)
}

/// A trace the libmultipath KUnit backend can drive: revision v2, node 0,
/// only the exported `mpath_*` calls its suite makes.
pub fn generate_lib(seed: u64, nops: usize, paths: Option<usize>) -> Result<String, GenError> {
    generate_for_backend(seed, nops, paths, true, 1)
}

/// A libmultipath trace that also goes through the driver's side of the
/// library, as the series' NVMe conversion calls it: paths arrive
/// (`add_path`: `mpath_add_device`, then the ANA state and
/// `mpath_device_set_live` on a real head gendisk), change ANA state, leave
/// (`remove_path`), and the sysfs links, the iopolicy store and the
/// delayed-removal attribute and work. At least one path stays, so the head
/// gendisk is never torn down mid-trace.
pub fn generate_lib_driver(seed: u64, nops: usize, paths: Option<usize>) -> Result<String, GenError> {
    generate_lib_driver_rev(seed, nops, paths, "v2")
}

/// [`generate_lib_driver`] for the series revision `revision` (`v1` or
/// `v2`; v2's output is [`generate_lib_driver`]'s). For v1, an operation
/// after which the reference reports a violation other than a
/// non-termination is drawn again: v1's `__mpath_find_path` publishes an
/// uninitialised pointer whenever it finds no OPTIMIZED path (R12), which
/// the C makes undefined behaviour and a KUnit case cannot read.
pub fn generate_lib_driver_rev(seed: u64, nops: usize, paths: Option<usize>, revision: &str) -> Result<String, GenError> {
    if nops > 10_000 {
        return Err(GenError::TooManyOps(nops));
    }
    let v1 = match revision {
        "v1" => true,
        "v2" => false,
        r => return Err(GenError::BadOption(format!("--lib --driver-ops drives the series' v1 or v2 API, not {r:?}"))),
    };
    let mut rng = Rng::new(seed ^ 0x6c69_6264_7276 ^ if v1 { 0x7631 << 48 } else { 0 });
    let npaths = paths.unwrap_or(1 + rng.below(6) as usize);
    if npaths == 0 || npaths > 14 {
        return Err(GenError::BadOption(format!("--paths must be in 1..=14 for kernel traces, got {npaths}")));
    }
    let max_paths = npaths + 2;
    let mut h = Header::new(revision, DriverKind::Nvme, Topology::uniform(1), max_paths, max_paths);
    h.description = if v1 {
        format!("generated for the libmultipath KUnit backend, driver side, revision v1: seed {seed} ops {nops}")
    } else {
        format!("generated for the libmultipath KUnit backend, driver side: seed {seed} ops {nops}")
    };
    h.iopolicy = rng.pick(&["numa", "round-robin", "queue-depth"]).to_string();
    h.ctrl_nodes = (0..max_paths).map(|_| if rng.chance(50) { 0 } else { -1 }).collect();
    let add = |rng: &mut Rng, p: u32| Op::AddPath {
        path: p,
        ctrl: p,
        capacity: DEFAULT_CAPACITY,
        ana: if rng.chance(15) { None } else { Some(rng.pick(&ANA)) },
        alua: None,
        missing_ops: vec![],
    };
    let mut st = GenState::new(DriverKind::Nvme, 1, max_paths, false);
    for p in 0..npaths as u32 {
        let op = add(&mut rng, p);
        st.apply(&op);
        h.setup.push(op);
    }
    h.validate().map_err(GenError::Header)?;
    let mut ops = Vec::with_capacity(nops);
    // v1: the violations the trace carries so far, and the draws in a row
    // that the reference turned down.
    let mut seen = 0usize;
    let mut refused = 0usize;
    while ops.len() < nops {
        let undo = st.clone();
        let alive = st.listed();
        let p = rng.pick(&alive);
        let op = match rng.below(20) {
            0..=4 => Op::FindPath { node: 0 },
            5 => Op::AnaUpdate { path: p, state: rng.pick(&ANA) },
            6 => Op::SetCtrlState { ctrl: p, state: rng.pick(&CTRL) },
            7 => Op::SetReady { path: p, ready: rng.chance(70) },
            8 => Op::SetNrActive { ctrl: p, n: rng.below(5) as i32 - 1 },
            9 => Op::ClearCurrentPath { path: p },
            10 => Op::IopolicyStore { buf: rng.pick(&POLICIES).to_string() },
            11 => match rng.below(4) {
                0 => Op::ClearPaths,
                1 => Op::NumaNodesShow { path: p },
                2 => Op::RevalidatePaths,
                _ => Op::SetCapacity { path: p, sectors: rng.pick(&[DEFAULT_CAPACITY, 4096]) },
            },
            12 => match rng.below(3) {
                0 => Op::AddSysfsLink,
                1 => Op::RemoveSysfsLink { path: p },
                _ => Op::SetLive { path: p },
            },
            13 => Op::DelayedRemovalSecsStore { buf: rng.pick(&["0", "1", "5", "0x10", "-1", "x"]).to_string() },
            14 => match rng.below(3) {
                0 => Op::AdvanceTime { secs: rng.pick(&[1, 5, 20]) },
                1 => Op::DelayedRemovalSecsShow,
                _ => Op::RunWorks { node: 0 },
            },
            15 if alive.len() > 1 => Op::RemovePath { path: p, node: 0 },
            15 | 16 if st.slots.contains(&Slot::Unused) => add(&mut rng, next_unused(&st)),
            17 => Op::SetAnaPending { path: p, pending: rng.chance(30) },
            _ => Op::SetCtrlState { ctrl: p, state: CtrlState::Live },
        };
        push(&mut st, &mut ops, op)?;
        if v1 {
            let lines = record(&h, &ops).map_err(GenError::Draw)?;
            let now = lines
                .last()
                .and_then(|l| l.expect.as_ref())
                .and_then(|o| o.violations.as_ref())
                .map(|v| v.iter().filter(|x| x.kind != Kind::NonTermination).count())
                .unwrap_or(0);
            if now > seen {
                ops.pop();
                st = undo;
                refused += 1;
                if refused > 1000 {
                    return Err(GenError::Stuck { seed, step: ops.len() });
                }
                continue;
            }
            seen = now;
            refused = 0;
        }
    }
    let lines = record(&h, &ops).map_err(GenError::Draw)?;
    Ok(to_jsonl(&h, &lines))
}

fn generate_for_backend(seed: u64, nops: usize, paths: Option<usize>, lib: bool, nodes: usize) -> Result<String, GenError> {
    if nops > 10_000 {
        return Err(GenError::TooManyOps(nops));
    }
    let mut rng = Rng::new(seed);
    let npaths = paths.unwrap_or(1 + rng.below(6) as usize);
    if npaths == 0 || npaths > 14 {
        return Err(GenError::BadOption(format!("--paths must be in 1..=14 for kernel traces, got {npaths}")));
    }
    let max_paths = npaths + 2;
    let (rev, backend) = if lib { ("v2", "libmultipath") } else { ("nvme-6.12", "nvme-6.12") };
    let mut h = Header::new(rev, DriverKind::Nvme, Topology::uniform(nodes), max_paths, max_paths);
    h.description = format!("generated for the {backend} KUnit backend: seed {seed} ops {nops}");
    h.iopolicy = rng.pick(&["numa", "round-robin", "queue-depth"]).to_string();
    // A node draw only when there is a choice, so one node gives the
    // one-node traces byte for byte.
    let node = |rng: &mut Rng| if nodes > 1 { rng.below(nodes as u64) as i32 } else { 0 };
    h.ctrl_nodes = (0..max_paths).map(|_| if rng.chance(50) { node(&mut rng) } else { -1 }).collect();
    let mut st = GenState::new(DriverKind::Nvme, nodes, max_paths, false);
    for p in 0..npaths as u32 {
        let op = Op::AddDevice { path: p, ctrl: p, ana: Some(rng.pick(&ANA)) };
        st.apply(&op);
        h.setup.push(op);
    }
    h.validate().map_err(GenError::Header)?;
    let mut ops = Vec::with_capacity(nops);
    // nvme-6.12: set_ctrl_state is nvme_change_ctrl_state, valid and refused
    // transitions both (the library backend writes its template's state).
    let mut ctrls = CtrlStates::new(max_paths);
    while ops.len() < nops {
        let alive = st.listed();
        let p = rng.pick(&alive);
        let op = match rng.below(16) {
            0..=4 => Op::FindPath { node: node(&mut rng) },
            5 => Op::SetAnaState { path: p, state: rng.pick(&ANA) },
            6 if lib => Op::SetCtrlState { ctrl: p, state: rng.pick(&CTRL) },
            6 => Op::SetCtrlState { ctrl: p, state: ctrls.pick(&mut rng, p) },
            7 => Op::SetReady { path: p, ready: rng.chance(70) },
            8 => Op::SetAnaPending { path: p, pending: rng.chance(30) },
            9 => Op::SetNrActive { ctrl: p, n: rng.below(5) as i32 - 1 },
            10 => Op::ClearCurrentPath { path: p },
            11 if lib => Op::SetIopolicy { val: rng.pick(&["numa", "round-robin", "queue-depth", "numafoo", "rr"]).to_string() },
            11 => Op::IopolicyStore { buf: rng.pick(&POLICIES).to_string() },
            12 if lib => match rng.below(4) {
                0 => Op::ClearPaths,
                1 => Op::IopolicyShow,
                2 => Op::NumaNodesShow { path: p },
                _ => Op::HeadDevicesEmpty,
            },
            12 => {
                if rng.chance(50) {
                    Op::SetCapacity { path: p, sectors: rng.pick(&[DEFAULT_CAPACITY, 4096]) }
                } else {
                    Op::Revalidate { path: p }
                }
            }
            13 if alive.len() > 1 => {
                if !lib && rng.chance(50) {
                    Op::RemovePath { path: p, node: 0 }
                } else {
                    Op::DeleteDevice { path: p }
                }
            }
            13 | 14 if st.slots.contains(&Slot::Unused) => {
                let path = next_unused(&st);
                Op::AddDevice { path, ctrl: path, ana: Some(rng.pick(&ANA)) }
            }
            14 if lib => Op::Synchronize,
            14 => Op::SetCtrlNode { ctrl: p, node: if nodes > 1 { rng.pick(&[-1, 0, 1]) } else { rng.pick(&[0, -1]) } },
            _ if lib => Op::SetCtrlState { ctrl: p, state: CtrlState::Live },
            _ => Op::SetCtrlState { ctrl: p, state: ctrls.towards_live(&mut rng, p) },
        };
        push(&mut st, &mut ops, op)?;
    }
    let lines = record(&h, &ops).map_err(GenError::Draw)?;
    Ok(to_jsonl(&h, &lines))
}
