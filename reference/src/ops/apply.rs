//! The dispatcher: [`System::apply`] sends each [`Op`] to the handler of its
//! family (one module each, siblings of this one).

use super::{Op, OpError, Ret};
use crate::head::System;
use crate::sync::Ordering;

/// The families of operations, one handler module each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Family {
    /// `head_disk`: the head and its gendisk.
    HeadDisk,
    /// `path_life`: path arrival and removal (driver and library calls).
    PathLife,
    /// `path_state`: ANA, controller, SCSI and per-path driver state.
    PathState,
    /// `io_ops`: selection, submission, completion, failover, requeue work, time, forwarded ops.
    Io,
    /// `settings`: sysfs links, iopolicy, delayed removal, synchronize.
    Settings,
}

impl Op {
    pub(super) fn family(&self) -> Family {
        use Op::*;
        match self {
            AllocHeadDisk { .. } | FailNextAddDisk | SetLive { .. } | RemoveDisk | PutDisk | Open | Release | HeadUninit => Family::HeadDisk,
            AddPath { .. }
            | RemovePath { .. }
            | AddDevice { .. }
            | DeleteDevice { .. }
            | FreePath { .. }
            | HeadDevicesEmpty
            | ClearCurrentPath { .. }
            | ClearPaths
            | RevalidatePaths
            | Revalidate { .. }
            | SetCapacity { .. } => Family::PathLife,
            AnaUpdate { .. }
            | SetAnaState { .. }
            | SetCtrlState { .. }
            | SetCtrlNode { .. }
            | SetFailfast { .. }
            | SetReady { .. }
            | SetAnaPending { .. }
            | SetNrActive { .. }
            | SetSdevState { .. }
            | SetAluaState { .. }
            | ScsiBlock { .. } => Family::PathState,
            FindPath { .. }
            | SubmitBio { .. }
            | Failover { .. }
            | Complete { .. }
            | RunWorks { .. }
            | AdvanceTime { .. }
            | CallForDevice { .. }
            | ChrIoctl { .. }
            | UringCmd { .. }
            | Forward { .. } => Family::Io,
            IopolicyStore { .. }
            | SetIopolicy { .. }
            | IopolicyShow
            | NumaNodesShow { .. }
            | AddSysfsLink
            | RemoveSysfsLink { .. }
            | Synchronize
            | CanRemoveHead
            | DelayedRemovalSecsStore { .. }
            | DelayedRemovalSecsShow => Family::Settings,
        }
    }
}

/// A handler given an operation of another family (a dispatcher bug, kept
/// an error rather than a panic).
pub(super) fn misrouted(family: Family, op: &Op) -> OpError {
    OpError(format!("internal: {op:?} routed to the {family:?} handler"))
}

impl System {
    /// Apply one operation at trace step `step`.
    pub fn apply(&self, step: u64, op: &Op) -> Result<Ret, OpError> {
        self.step.store(step, Ordering::Relaxed);
        match op.family() {
            Family::HeadDisk => self.apply_head_disk(op),
            Family::PathLife => self.apply_path_life(op),
            Family::PathState => self.apply_path_state(op),
            Family::Io => self.apply_io(op),
            Family::Settings => self.apply_settings(op),
        }
    }
}
