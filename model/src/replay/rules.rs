//! What is decided from a trace line alone, before anything runs: how the
//! model's answer becomes the line's `ret` ([`RetRule`]), or the modelling
//! gap that stops the replay there.

use super::seq::op_name;
use crate::machine::Machine;
use crate::scenario::op_entry;
use mpath_reference::driver::DriverKind;
use mpath_reference::ops::{Observation, Op};

/// How the model's answer to an operation becomes a trace `ret`.
#[derive(Clone, Copy, Debug)]
pub(super) enum RetRule {
    /// The operation returns nothing (`"none"`).
    Nothing,
    /// The path pointer left in the `ret` register.
    RegPath,
    /// The boolean left in the `ret` register.
    RegBool,
    /// What the bio met first: a path's disk, the requeue list, or failure.
    Submitted,
    /// The paths whose sysfs link the operation created, in order.
    LinksMade,
    /// The works the worker ran, in order.
    WorksRun,
    /// A valid sysfs store returns its byte count (an invalid one its
    /// errno, without running anything that changes state).
    Count(i64),
    /// `delayed_removal_secs_show`: the number in `ret`, then a newline.
    SecsShown,
    /// `iopolicy_show`: the name of the policy in `ret`, then a newline.
    PolicyShown,
    /// 0 when the operation found a path (`ret`), else the errno given.
    FoundOr(i64),
    /// The first value when the operation found a path (`found`), else the
    /// second.
    FoundElse(i64, i64),
    /// `complete` on revisions that track requests: whether the path had a
    /// request in flight that the operation ended (its count dropped).
    RequestEnded(u32),
    /// `revalidate`: the paths `nvme_mpath_revalidate_paths_cb` cleared
    /// READY on (capacity mismatch), in order; SCSI none.
    Revalidated,
}

/// Operations naming a path or controller index, which the step programs
/// use unchecked (the reference refuses one outside the header's).
fn index_in_range(m: &Machine, op: &Op) -> bool {
    match *op {
        Op::SetAnaState { path, .. } | Op::SetSdevState { path, .. } | Op::SetAluaState { path, .. } => (path as usize) < m.npaths as usize,
        Op::SetCtrlState { ctrl, .. } | Op::SetFailfast { ctrl, .. } | Op::SetNrActive { ctrl, .. } => (ctrl as usize) < m.scenario.header.nr_ctrls,
        _ => true,
    }
}

/// What is decided from the operation alone: the ret rule (`None`: the
/// step programs do not compute this operation's `ret`), or a gap.
pub(super) fn static_rule(
    m: &Machine,
    op: &Op,
    profile: &mpath_reference::revision::Profile,
    tracks_requests: bool,
    submitted: bool,
    fops_missing: bool,
) -> Result<Option<RetRule>, String> {
    let ctrl_state_machine = profile.ctrl_state_machine;
    let name = op_name(op);
    if !index_in_range(m, op) {
        return Err(format!("op {name}: a path or controller outside the header's (bad input: the reference replay refuses it)"));
    }
    if let Op::RunWorks { .. } = op {
        return Ok(Some(RetRule::WorksRun));
    }
    if let Op::DelayedRemovalSecsStore { buf } = op {
        if mpath_reference::removal::kstrtouint(buf).is_ok_and(|v| v >= 255) {
            return Err(format!("op {name} of 255 s or more: the model's delayed_removal_secs saturates at 255"));
        }
    }
    let (func, _) = match op_entry(op, m.driver) {
        Ok(e) => e,
        Err(_) => return Err(format!("op {name} not modelled in step programs")),
    };
    if m.program.func(func).is_none() {
        return Err(format!("op {name}: no step program on this revision"));
    }
    if !tracks_requests {
        match op {
            Op::Failover { .. } | Op::Complete { .. } => return Err(format!("op {name}: requests in flight not tracked by this revision's step programs")),
            Op::RemovePath { .. } | Op::FreePath { .. } if submitted => {
                return Err(format!("op {name} after a submission: requests in flight not tracked by this revision's step programs"))
            }
            _ => {}
        }
    }
    let invalid = func == "op_sysfs_store_invalid";
    Ok(match op {
        Op::FindPath { .. } => Some(RetRule::RegPath),
        Op::ClearCurrentPath { .. } | Op::DeleteDevice { .. } | Op::HeadDevicesEmpty | Op::CanRemoveHead => Some(RetRule::RegBool),
        Op::SubmitBio { .. } => Some(RetRule::Submitted),
        Op::AddSysfsLink => Some(RetRule::LinksMade),
        Op::IopolicyStore { .. } if invalid => Some(RetRule::Count(-(mpath_reference::disk::EINVAL as i64))),
        Op::DelayedRemovalSecsStore { buf } if invalid => Some(RetRule::Count(mpath_reference::removal::kstrtouint(buf).err().unwrap_or(0) as i64)),
        Op::SetIopolicy { val } => Some(RetRule::Count(mpath_reference::iopolicy::set_iopolicy(Some(val)).err().unwrap_or(0) as i64)),
        Op::IopolicyStore { buf } | Op::DelayedRemovalSecsStore { buf } => Some(RetRule::Count(buf.len() as i64)),
        Op::DelayedRemovalSecsShow => Some(RetRule::SecsShown),
        Op::IopolicyShow => Some(RetRule::PolicyShown),
        Op::CallForDevice { .. } => Some(RetRule::FoundOr(-(mpath_reference::device::EWOULDBLOCK as i64))),
        Op::SetCtrlState { .. } if ctrl_state_machine => Some(RetRule::RegBool),
        // NVMe: 0 once a path is selected (the ioctl itself succeeds), else
        // -EWOULDBLOCK; SCSI has no cdev: -ENOTTY.
        Op::ChrIoctl { .. } if m.driver == DriverKind::Nvme => Some(RetRule::FoundOr(-(mpath_reference::device::EWOULDBLOCK as i64))),
        Op::ChrIoctl { .. } => Some(RetRule::Count(-(mpath_reference::fwd::ENOTTY as i64))),
        // mpath_chr_uring_cmd: NVMe 0 on a selected path; SCSI (no cdev)
        // -EOPNOTSUPP, on v1 before locking; no path: -EINVAL (v1
        // -EWOULDBLOCK).
        Op::UringCmd { .. } => {
            let (eop, einval, ewb) =
                (-(mpath_reference::fwd::EOPNOTSUPP as i64), -(mpath_reference::disk::EINVAL as i64), -(mpath_reference::device::EWOULDBLOCK as i64));
            let none = if profile.uring_no_path_ewouldblock { ewb } else { einval };
            Some(match m.driver {
                DriverKind::Nvme => RetRule::FoundElse(0, none),
                DriverKind::Scsi if profile.uring_no_path_ewouldblock => RetRule::Count(eop),
                DriverKind::Scsi => RetRule::FoundElse(eop, none),
            })
        }
        Op::Forward { .. } if fops_missing => return Err(format!("op {name} with a path lacking the op: the ops a path disk lacks not modelled")),
        Op::Forward { .. } => Some(RetRule::FoundElse(0, -(mpath_reference::device::EWOULDBLOCK as i64))),
        Op::Failover { .. } if tracks_requests => Some(RetRule::RegBool),
        Op::Complete { path } if tracks_requests => Some(RetRule::RequestEnded(*path)),
        Op::Revalidate { .. } | Op::RevalidatePaths => Some(RetRule::Revalidated),
        Op::RemovePath { .. }
        | Op::AnaUpdate { .. }
        | Op::SetLive { .. }
        | Op::RemoveDisk
        | Op::Release
        | Op::ScsiBlock { .. }
        | Op::RemoveSysfsLink { .. }
        | Op::ClearPaths
        | Op::Synchronize
        | Op::FreePath { .. }
        | Op::SetReady { .. }
        | Op::SetAnaPending { .. }
        | Op::SetAnaState { .. }
        | Op::SetCtrlState { .. }
        | Op::SetFailfast { .. }
        | Op::SetNrActive { .. }
        | Op::SetSdevState { .. }
        | Op::SetAluaState { .. }
        | Op::AdvanceTime { .. }
        | Op::AddPath { .. }
        | Op::AddDevice { .. } => Some(RetRule::Nothing),
        _ => None,
    })
}

/// An expectation the model's state cannot answer.
pub(super) fn expect_gap(e: &Observation) -> Option<String> {
    if e.module_refs.is_some() {
        return Some("expect module_refs: module references not modelled".into());
    }
    if e.violations.as_ref().is_some_and(|v| !v.is_empty()) {
        return Some("expect violations: a violation's object, function and step not modelled (the state keeps kinds)".into());
    }
    if e.requeue_len.is_some_and(|n| n >= 7) {
        return Some("expect requeue_len: 7 or more bios (the state saturates at 7)".into());
    }
    None
}
