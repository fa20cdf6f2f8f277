//! The one operation generator: random *valid* operation sequences over the
//! [`Op`] vocabulary, shared by the trace generator (`mpath-verify gen`,
//! `conformance/src/gen.rs`), the reference's invariant tests
//! (`reference/tests/invariants.rs`) and the model/reference cross-check
//! (`model/tests/crosscheck.rs`).
//!
//! It is a reference state machine: [`GenState`] is the driver-visible
//! state a caller must respect (which paths are on the head's list, which
//! were deleted but not freed, which path slots are still unused, how many
//! opens are outstanding, the controllers' states under 6.12's transition
//! table), [`GenState::allows`] is the precondition of an operation in
//! that state and [`GenState::apply`] its transition. Every random choice
//! goes through a [`Choices`] source: [`Rng`] (SplitMix64, fixed forever:
//! `gen`'s byte-identical traces) or [`Draws`] (a list of raw numbers a
//! proptest strategy produces, so that shrinking the numbers, or dropping
//! some, still yields a valid sequence: the state re-derives every
//! operation).
//!
//! Which operations are drawn is a [`Mix`]: a list of [`OpKind`]s (drawn
//! uniformly; an operation the state does not allow is drawn again), with
//! the value domains of [`GenState::op_of`]. [`OpKind`] is the registry of
//! operation kinds, one per [`Op`] variant.

use crate::driver::{AluaState, AnaState, CtrlState, DriverKind, IoctlKind, SdevState};
use crate::fwd::FwdOp;
use crate::ops::{Op, DEFAULT_CAPACITY};

/// A source of random choices.
pub trait Choices {
    /// Uniform in `0..n` (`n > 0`; 0 gives 0).
    fn below(&mut self, n: u64) -> u64;
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T
    where
        Self: Sized,
    {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool
    where
        Self: Sized,
    {
        self.below(100) < percent
    }
}

/// SplitMix64: tiny, fast, and fixed forever (determinism across builds).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Choices for Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Raw numbers (from a proptest strategy) read in order; past the end,
/// every choice is the first (0), the simplest.
#[derive(Clone, Debug, Default)]
pub struct Draws {
    vals: Vec<u32>,
    i: usize,
}

impl Draws {
    pub fn new(vals: Vec<u32>) -> Draws {
        Draws { vals, i: 0 }
    }
}

impl Choices for Draws {
    fn below(&mut self, n: u64) -> u64 {
        let v = self.vals.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        v as u64 % n.max(1)
    }
}

macro_rules! op_kinds {
    ($($k:ident => $name:literal),* $(,)?) => {
        /// Operation kinds: one per [`Op`] variant, named as the trace
        /// format names them (`"op"`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum OpKind { $($k),* }

        impl OpKind {
            /// Every kind, in [`Op`]'s declaration order.
            pub const ALL: &'static [OpKind] = &[$(OpKind::$k),*];

            /// The trace format's name (`"op"`).
            pub fn name(self) -> &'static str {
                match self { $(OpKind::$k => $name),* }
            }

            /// The kind of an operation.
            pub fn of(op: &Op) -> OpKind {
                match op { $(Op::$k { .. } => OpKind::$k),* }
            }
        }
    };
}

op_kinds! {
    AllocHeadDisk => "alloc_head_disk",
    FailNextAddDisk => "fail_next_add_disk",
    SetLive => "set_live",
    RemoveDisk => "remove_disk",
    PutDisk => "put_disk",
    Open => "open",
    Release => "release",
    HeadUninit => "head_uninit",
    AddPath => "add_path",
    RemovePath => "remove_path",
    AnaUpdate => "ana_update",
    SetAnaState => "set_ana_state",
    SetCtrlState => "set_ctrl_state",
    SetCtrlNode => "set_ctrl_node",
    SetFailfast => "set_failfast",
    SetReady => "set_ready",
    SetAnaPending => "set_ana_pending",
    SetNrActive => "set_nr_active",
    SetSdevState => "set_sdev_state",
    SetAluaState => "set_alua_state",
    ScsiBlock => "scsi_block",
    SetCapacity => "set_capacity",
    Revalidate => "revalidate",
    Failover => "failover",
    Complete => "complete",
    IopolicyStore => "iopolicy_store",
    AddDevice => "add_device",
    DeleteDevice => "delete_device",
    FreePath => "free_path",
    HeadDevicesEmpty => "head_devices_empty",
    ClearCurrentPath => "clear_current_path",
    ClearPaths => "clear_paths",
    RevalidatePaths => "revalidate_paths",
    AddSysfsLink => "add_sysfs_link",
    RemoveSysfsLink => "remove_sysfs_link",
    Synchronize => "synchronize",
    CanRemoveHead => "can_remove_head",
    DelayedRemovalSecsStore => "delayed_removal_secs_store",
    DelayedRemovalSecsShow => "delayed_removal_secs_show",
    SetIopolicy => "set_iopolicy",
    IopolicyShow => "iopolicy_show",
    NumaNodesShow => "numa_nodes_show",
    CallForDevice => "call_for_device",
    FindPath => "find_path",
    SubmitBio => "submit_bio",
    RunWorks => "run_works",
    AdvanceTime => "advance_time",
    ChrIoctl => "chr_ioctl",
    UringCmd => "uring_cmd",
    Forward => "forward",
}

impl OpKind {
    /// Does the kind exist for `driver` (the reference refuses NVMe
    /// namespace, ANA and controller state on SCSI, and SCSI device and
    /// ALUA state on NVMe; the rest, such as the character device's ioctl,
    /// exists for both, answering with the driver's error where it has none)?
    pub fn for_driver(self, driver: DriverKind) -> bool {
        use OpKind::*;
        match self {
            AnaUpdate | SetAnaState | SetCtrlState | SetFailfast | SetReady | SetAnaPending => driver == DriverKind::Nvme,
            SetSdevState | SetAluaState | ScsiBlock => driver == DriverKind::Scsi,
            _ => true,
        }
    }

    /// The operations a correct driver makes, in any order the generator's
    /// state allows: what the invariant tests and `gen`'s corpus traces
    /// draw from. The others are library calls made directly
    /// (`add_device`, `delete_device`, `free_path`, `remove_disk`, ...),
    /// whose valid orders are the driver's business: the cross-check draws
    /// them too.
    pub const DRIVER_ORDER: &'static [OpKind] = &[
        OpKind::FindPath,
        OpKind::SubmitBio,
        OpKind::RunWorks,
        OpKind::AnaUpdate,
        OpKind::SetAluaState,
        OpKind::SetCtrlState,
        OpKind::SetSdevState,
        OpKind::SetReady,
        OpKind::ScsiBlock,
        OpKind::SetAnaPending,
        OpKind::SetNrActive,
        OpKind::Failover,
        OpKind::Complete,
        OpKind::IopolicyStore,
        OpKind::SetCapacity,
        OpKind::Revalidate,
        OpKind::ClearPaths,
        OpKind::RemovePath,
        OpKind::AddPath,
        OpKind::ClearCurrentPath,
        OpKind::NumaNodesShow,
        OpKind::ChrIoctl,
        OpKind::Forward,
        OpKind::DelayedRemovalSecsStore,
        OpKind::AdvanceTime,
        OpKind::UringCmd,
        OpKind::Open,
        OpKind::Release,
        OpKind::SetLive,
        OpKind::AddSysfsLink,
        OpKind::Synchronize,
    ];
}

/// ANA states, the usable ones first (`ANA[..3]` for a path's arrival).
pub const ANA: [AnaState; 5] = [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change];
/// ALUA states, the usable ones first.
pub const ALUA: [AluaState; 5] = [AluaState::Optimal, AluaState::Active, AluaState::Standby, AluaState::Unavailable, AluaState::Transitioning];
/// Controller states a direct write draws (LIVE twice: the common case).
pub const CTRL: [CtrlState; 7] =
    [CtrlState::Live, CtrlState::Live, CtrlState::Resetting, CtrlState::Connecting, CtrlState::Deleting, CtrlState::DeletingNoio, CtrlState::Dead];
/// SCSI device states (RUNNING twice).
pub const SDEV: [SdevState; 6] = [SdevState::Running, SdevState::Running, SdevState::Block, SdevState::Quiesce, SdevState::Offline, SdevState::CreatedBlock];
/// iopolicy sysfs stores: the three names, with a newline, and an invalid one.
pub const POLICIES: [&str; 6] = ["numa", "round-robin", "queue-depth", "queue-depth\n", "bogus", "numa\n"];
/// `delayed_removal_secs` stores, valid and invalid.
pub const REMOVAL_SECS: [&str; 6] = ["0", "5", "0x10\n", "-1", "junk", "1"];

/// Controller states for a revision whose `set_ctrl_state` is 6.12's
/// `nvme_change_ctrl_state` (transition table): the generator keeps each
/// controller's state and mostly draws a change the table allows, so that
/// controllers cycle LIVE -> RESETTING -> CONNECTING -> LIVE and only
/// sometimes start deleting; one draw in four is any state (the table
/// refuses it unless it happens to be allowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtrlStates(pub Vec<CtrlState>);

impl CtrlStates {
    pub fn new(n: usize) -> CtrlStates {
        CtrlStates(vec![CtrlState::Live; n])
    }

    /// A target state for controller `c`; records the outcome.
    pub fn pick(&mut self, ch: &mut impl Choices, c: u32) -> CtrlState {
        use CtrlState::*;
        let cur = self.0[c as usize];
        let new = if ch.chance(25) {
            ch.pick(&CtrlState::ALL)
        } else {
            match cur {
                Live | Resetting | Connecting if ch.chance(12) => Deleting,
                Live => Resetting,
                Resetting => Connecting,
                Connecting => Live,
                Deleting => ch.pick(&[Dead, DeletingNoio]),
                Dead => DeletingNoio,
                New => ch.pick(&[Resetting, Connecting]),
                DeletingNoio => ch.pick(&CtrlState::ALL),
            }
        };
        self.set(c, new);
        new
    }

    /// The next state on the way back to LIVE (RESETTING -> CONNECTING ->
    /// LIVE); from LIVE half the time a reset (a new round), else LIVE
    /// again, which the table refuses, as it refuses LIVE from a deleting
    /// or dead controller.
    pub fn towards_live(&mut self, ch: &mut impl Choices, c: u32) -> CtrlState {
        let new = match self.0[c as usize] {
            CtrlState::Resetting | CtrlState::New => CtrlState::Connecting,
            CtrlState::Live if ch.chance(50) => CtrlState::Resetting,
            _ => CtrlState::Live,
        };
        self.set(c, new);
        new
    }

    /// The table's verdict on a change of controller `c` to `new`.
    pub fn set(&mut self, c: u32, new: CtrlState) {
        if let Some(cur) = self.0.get_mut(c as usize) {
            if cur.nvme_may_become(new) {
                *cur = new;
            }
        }
    }
}

/// Does `revision` drive `set_ctrl_state` through 6.12's transition table?
pub fn ctrl_state_machine(revision: &str) -> bool {
    crate::revision::Profile::by_name(revision).is_some_and(|p| p.ctrl_state_machine)
}

/// Where a path slot is in its life, as the driver knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Slot {
    /// Never used: a path may arrive here.
    Unused,
    /// On the head's list (added, not removed).
    Listed,
    /// Taken off the list by `delete_device`, not yet freed.
    Deleted,
    /// Removed or freed: never used again.
    Gone,
}

/// The generator's state: what a caller must respect for its operations to
/// be valid. One controller (NVMe) or host (SCSI) per path: path `p` is on
/// controller `p`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenState {
    pub driver: DriverKind,
    pub nodes: usize,
    pub slots: Vec<Slot>,
    /// Outstanding `open`s (each `release` needs one).
    pub opened: u32,
    /// Controller states (6.12's transition table), when the revision uses it.
    pub ctrls: Option<CtrlStates>,
}

impl GenState {
    /// `max_paths` slots, none used yet, no open.
    pub fn new(driver: DriverKind, nodes: usize, max_paths: usize, ctrl_state_machine: bool) -> GenState {
        GenState { driver, nodes: nodes.max(1), slots: vec![Slot::Unused; max_paths], opened: 0, ctrls: ctrl_state_machine.then(|| CtrlStates::new(max_paths)) }
    }

    /// Paths on the head's list, in slot order.
    pub fn listed(&self) -> Vec<u32> {
        self.with(Slot::Listed)
    }

    fn with(&self, s: Slot) -> Vec<u32> {
        (0..self.slots.len() as u32).filter(|&p| self.slots[p as usize] == s).collect()
    }

    fn next_unused(&self) -> Option<u32> {
        self.with(Slot::Unused).first().copied()
    }

    fn nvme(&self) -> bool {
        self.driver == DriverKind::Nvme
    }

    /// A path arriving in slot `p` (`add_path`), in a usable state: NVMe
    /// one time in ten without an ANA descriptor yet, else OPTIMIZED /
    /// NON_OPTIMIZED / INACCESSIBLE; SCSI OPTIMAL / ACTIVE / STANDBY.
    pub fn arrival(&self, ch: &mut impl Choices, p: u32) -> Op {
        if self.nvme() {
            let ana = if ch.chance(10) { None } else { Some(ch.pick(&ANA[..3])) };
            Op::AddPath { path: p, ctrl: p, capacity: DEFAULT_CAPACITY, ana, alua: None, missing_ops: vec![] }
        } else {
            Op::AddPath { path: p, ctrl: p, capacity: DEFAULT_CAPACITY, ana: None, alua: Some(ch.pick(&ALUA[..3])), missing_ops: vec![] }
        }
    }

    /// Is `op` valid in this state (the precondition)?
    pub fn allows(&self, op: &Op) -> bool {
        let k = OpKind::of(op);
        if !k.for_driver(self.driver) {
            return false;
        }
        let slot = |p: u32| self.slots.get(p as usize).copied();
        let listed = |p: u32| slot(p) == Some(Slot::Listed);
        let node_ok = |n: i32| n >= 0 && (n as usize) < self.nodes;
        match *op {
            Op::AddPath { path, ctrl, .. } | Op::AddDevice { path, ctrl, .. } => slot(path) == Some(Slot::Unused) && ctrl == path,
            Op::RemovePath { path, node } => listed(path) && self.listed().len() > 1 && node_ok(node),
            Op::DeleteDevice { path } => listed(path) && self.listed().len() > 1,
            Op::FreePath { path } => slot(path) == Some(Slot::Deleted),
            Op::SetCtrlState { ctrl: p, .. } | Op::SetCtrlNode { ctrl: p, .. } | Op::SetFailfast { ctrl: p, .. } | Op::SetNrActive { ctrl: p, .. } => listed(p),
            Op::SetLive { path }
            | Op::AnaUpdate { path, .. }
            | Op::SetAnaState { path, .. }
            | Op::SetReady { path, .. }
            | Op::SetAnaPending { path, .. }
            | Op::SetSdevState { path, .. }
            | Op::SetAluaState { path, .. }
            | Op::ScsiBlock { path }
            | Op::SetCapacity { path, .. }
            | Op::Revalidate { path }
            | Op::Failover { path, .. }
            | Op::Complete { path }
            | Op::ClearCurrentPath { path }
            | Op::RemoveSysfsLink { path }
            | Op::NumaNodesShow { path } => listed(path),
            Op::Release => self.opened > 0,
            Op::FindPath { node }
            | Op::SubmitBio { node }
            | Op::RunWorks { node }
            | Op::CallForDevice { node }
            | Op::ChrIoctl { node, .. }
            | Op::UringCmd { node }
            | Op::Forward { node, .. } => node_ok(node),
            _ => true,
        }
    }

    /// The transition: what `op` changes in the generator's state.
    pub fn apply(&mut self, op: &Op) {
        match *op {
            Op::AddPath { path, .. } | Op::AddDevice { path, .. } => self.slots[path as usize] = Slot::Listed,
            Op::RemovePath { path, .. } | Op::FreePath { path } => self.slots[path as usize] = Slot::Gone,
            Op::DeleteDevice { path } => self.slots[path as usize] = Slot::Deleted,
            Op::Open => self.opened += 1,
            Op::Release => self.opened = self.opened.saturating_sub(1),
            Op::SetCtrlState { ctrl, state } => {
                if let Some(cs) = self.ctrls.as_mut() {
                    cs.set(ctrl, state);
                }
            }
            _ => {}
        }
    }

    /// An operation of kind `k` with values drawn from `ch`, or `None`
    /// when the state allows none (a removal of the last path, a release
    /// without an open, an arrival with no slot left, a kind the driver
    /// does not have). The state is not changed: [`GenState::apply`] it.
    pub fn op_of(&self, k: OpKind, ch: &mut impl Choices) -> Option<Op> {
        use OpKind as K;
        if !k.for_driver(self.driver) {
            return None;
        }
        let nvme = self.nvme();
        let listed = self.listed();
        let node = ch.below(self.nodes as u64) as i32;
        let p = if listed.is_empty() { None } else { Some(ch.pick(&listed)) };
        let op = match k {
            K::AllocHeadDisk => Op::AllocHeadDisk { fail: ch.chance(20), capacity: DEFAULT_CAPACITY },
            K::FailNextAddDisk => Op::FailNextAddDisk,
            K::SetLive => Op::SetLive { path: p? },
            K::RemoveDisk => Op::RemoveDisk,
            K::PutDisk => Op::PutDisk,
            K::Open => Op::Open,
            K::Release if self.opened > 0 => Op::Release,
            K::Release => return None,
            K::HeadUninit => Op::HeadUninit,
            K::AddPath => self.arrival(ch, self.next_unused()?),
            K::AddDevice => {
                let path = self.next_unused()?;
                Op::AddDevice { path, ctrl: path, ana: Some(ch.pick(&ANA)) }
            }
            K::RemovePath if listed.len() > 1 => Op::RemovePath { path: p?, node },
            K::DeleteDevice if listed.len() > 1 => Op::DeleteDevice { path: p? },
            K::RemovePath | K::DeleteDevice => return None,
            K::FreePath => Op::FreePath { path: *self.with(Slot::Deleted).first()? },
            K::AnaUpdate => Op::AnaUpdate { path: p?, state: ch.pick(&ANA) },
            K::SetAnaState => Op::SetAnaState { path: p?, state: ch.pick(&ANA) },
            K::SetCtrlState => {
                let c = p?;
                let state = match &self.ctrls {
                    Some(cs) => cs.clone().pick(ch, c),
                    None => ch.pick(&CTRL),
                };
                Op::SetCtrlState { ctrl: c, state }
            }
            K::SetCtrlNode => Op::SetCtrlNode { ctrl: p?, node: ch.below(self.nodes as u64 + 1) as i32 - 1 },
            K::SetFailfast => Op::SetFailfast { ctrl: p?, expired: ch.chance(50) },
            K::SetReady => Op::SetReady { path: p?, ready: ch.chance(60) },
            K::SetAnaPending => Op::SetAnaPending { path: p?, pending: ch.chance(40) },
            K::SetNrActive => Op::SetNrActive { ctrl: p?, n: ch.below(6) as i32 - 1 },
            K::SetSdevState => Op::SetSdevState { path: p?, state: ch.pick(&SDEV) },
            K::SetAluaState => Op::SetAluaState { path: p?, state: ch.pick(&ALUA) },
            K::ScsiBlock => Op::ScsiBlock { path: p? },
            K::SetCapacity => Op::SetCapacity { path: p?, sectors: ch.pick(&[DEFAULT_CAPACITY, 4096]) },
            K::Revalidate => Op::Revalidate { path: p? },
            K::Failover => Op::Failover { path: p?, ana_error: nvme && ch.chance(50) },
            K::Complete => Op::Complete { path: p? },
            K::IopolicyStore => Op::IopolicyStore { buf: ch.pick(&POLICIES).to_string() },
            K::HeadDevicesEmpty => Op::HeadDevicesEmpty,
            K::ClearCurrentPath => Op::ClearCurrentPath { path: p? },
            K::ClearPaths => Op::ClearPaths,
            K::RevalidatePaths => Op::RevalidatePaths,
            K::AddSysfsLink => Op::AddSysfsLink,
            K::RemoveSysfsLink => Op::RemoveSysfsLink { path: p? },
            K::Synchronize => Op::Synchronize,
            K::CanRemoveHead => Op::CanRemoveHead,
            K::DelayedRemovalSecsStore => Op::DelayedRemovalSecsStore { buf: ch.pick(&REMOVAL_SECS).to_string() },
            K::DelayedRemovalSecsShow => Op::DelayedRemovalSecsShow,
            K::SetIopolicy => Op::SetIopolicy { val: ch.pick(&["numa", "round-robin", "queue-depth", "numafoo", "rr"]).to_string() },
            K::IopolicyShow => Op::IopolicyShow,
            K::NumaNodesShow => Op::NumaNodesShow { path: p? },
            K::CallForDevice => Op::CallForDevice { node },
            K::FindPath => Op::FindPath { node },
            K::SubmitBio => Op::SubmitBio { node },
            K::RunWorks => Op::RunWorks { node },
            K::AdvanceTime => Op::AdvanceTime { secs: ch.below(10) },
            K::ChrIoctl => Op::ChrIoctl { node, kind: ch.pick(&[IoctlKind::Ns, IoctlKind::Ctrl]) },
            K::UringCmd => Op::UringCmd { node },
            K::Forward => Op::Forward { node, fwd: ch.pick(&FwdOp::ALL), kind: Some(ch.pick(&[IoctlKind::Ns, IoctlKind::Ctrl])) },
        };
        Some(op)
    }

    /// One operation of `mix`, applied to the state: a kind drawn
    /// uniformly, drawn again (up to 64 times, then `synchronize`, which
    /// is always valid) while the state allows none of it.
    pub fn next(&mut self, mix: &Mix, ch: &mut impl Choices) -> Op {
        for _ in 0..64 {
            let k = ch.pick(&mix.kinds);
            if let Some(op) = self.op_of(k, ch) {
                self.apply(&op);
                return op;
            }
        }
        Op::Synchronize
    }
}

/// Which operation kinds a generator draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    pub kinds: Vec<OpKind>,
}

impl Mix {
    /// `kinds` that exist for `driver` (at least `synchronize`).
    pub fn of(kinds: &[OpKind], driver: DriverKind) -> Mix {
        let mut kinds: Vec<OpKind> = kinds.iter().copied().filter(|k| k.for_driver(driver)).collect();
        if kinds.is_empty() {
            kinds.push(OpKind::Synchronize);
        }
        Mix { kinds }
    }

    /// The driver-order kinds ([`OpKind::DRIVER_ORDER`]) of `driver`.
    pub fn driver_order(driver: DriverKind) -> Mix {
        Mix::of(OpKind::DRIVER_ORDER, driver)
    }
}

/// `count` operations of `mix` from `state` (which is advanced).
pub fn sequence(state: &mut GenState, mix: &Mix, ch: &mut impl Choices, count: usize) -> Vec<Op> {
    (0..count).map(|_| state.next(mix, ch)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_named_as_the_trace_format_names_it() {
        let mut st = GenState::new(DriverKind::Nvme, 2, 4, false);
        st.apply(&Op::AddPath { path: 0, ctrl: 0, capacity: DEFAULT_CAPACITY, ana: None, alua: None, missing_ops: vec![] });
        st.apply(&Op::AddPath { path: 1, ctrl: 1, capacity: DEFAULT_CAPACITY, ana: None, alua: None, missing_ops: vec![] });
        st.apply(&Op::Open);
        let mut seen = 0;
        for driver in [DriverKind::Nvme, DriverKind::Scsi] {
            st.driver = driver;
            for &k in OpKind::ALL {
                if let Some(op) = st.op_of(k, &mut Rng::new(k as u64)) {
                    let json = serde_json::to_value(&op).unwrap();
                    assert_eq!(json["op"], k.name(), "{op:?}");
                    assert_eq!(OpKind::of(&op), k);
                    assert!(st.allows(&op), "{op:?} generated but not allowed");
                    seen += 1;
                }
            }
        }
        // Every kind but free_path (no deleted path here) for some driver.
        assert_eq!(seen, 2 * (OpKind::ALL.len() - 1) - 9, "kinds generated");
    }

    #[test]
    fn sequences_are_valid_and_deterministic() {
        for seed in 0..50 {
            let mix = Mix::of(OpKind::ALL, DriverKind::Nvme);
            let run = || {
                let mut st = GenState::new(DriverKind::Nvme, 2, 4, seed % 2 == 0);
                st.apply(&st.arrival(&mut Rng::new(1), 0));
                sequence(&mut st, &mix, &mut Rng::new(seed), 200)
            };
            let ops = run();
            assert_eq!(ops, run());
            let mut st = GenState::new(DriverKind::Nvme, 2, 4, seed % 2 == 0);
            st.apply(&st.arrival(&mut Rng::new(1), 0));
            for op in &ops {
                assert!(st.allows(op), "seed {seed}: {op:?} in {st:?}");
                st.apply(op);
                assert!(!st.listed().is_empty());
            }
        }
    }
}
