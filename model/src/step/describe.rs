//! A step in words and objects: its kernel primitive for swimlanes, and
//! the registers and named objects it acts on for schedules.

use super::operand::*;
use super::vocab::Step;

impl Step {
    /// The kernel primitive this step stands for (for swimlanes).
    pub fn primitive(&self) -> String {
        match self {
            Step::SrcuLock => "srcu_read_lock".into(),
            Step::SrcuUnlock => "srcu_read_unlock".into(),
            Step::Synchronize => "synchronize_srcu".into(),
            Step::CtrlSrcuLock => "srcu_read_lock(ctrl)".into(),
            Step::CtrlSrcuUnlock => "srcu_read_unlock(ctrl)".into(),
            Step::CtrlSynchronize => "synchronize_srcu(ctrl)".into(),
            Step::Lock { m } => format!("mutex_lock({})", mutex_name(*m)),
            Step::Unlock { m } => format!("mutex_unlock({})", mutex_name(*m)),
            Step::ListAddTail { p } => format!("list_add_tail_rcu({})", reg_name(*p)),
            Step::ListDel { p } => format!("list_del_rcu({})", reg_name(*p)),
            Step::ListFirst { dst } => format!("{} = list_first_or_null_rcu", reg_name(*dst)),
            Step::ListNext { r } => format!("{0} = list_next_or_null_rcu({0})", reg_name(*r)),
            Step::NextDev { r } => format!("{0} = mpath_next_dev({0})", reg_name(*r)),
            Step::ListEmpty { dst } => format!("{} = list_empty", reg_name(*dst)),
            Step::ListSingular { dst } => format!("{} = list_is_singular", reg_name(*dst)),
            Step::CpLoad { dst, node } => format!("{} = srcu_dereference(current_path[{}])", reg_name(*dst), reg_name(*node)),
            Step::CpStore { node, src } => format!("rcu_assign_pointer(current_path[{}], {})", reg_name(*node), reg_name(*src)),
            Step::CpClearMatching { p, .. } => format!("current_path[*] == {} -> NULL", reg_name(*p)),
            Step::CpClearAll => "current_path[*] = NULL".into(),
            Step::TestBit { bit, on, .. } => format!("test_bit({})", bit_name(*bit, *on)),
            Step::SetBit { bit, on } => format!("set_bit({})", bit_name(*bit, *on)),
            Step::ClearBit { bit, on } => format!("clear_bit({})", bit_name(*bit, *on)),
            Step::TestAndSetBit { bit, on, .. } => format!("test_and_set_bit({})", bit_name(*bit, *on)),
            Step::TestAndClearBit { bit, on, .. } => format!("test_and_clear_bit({})", bit_name(*bit, *on)),
            Step::Load { what, on, .. } => match on {
                Some(r) => format!("{:?}({})", what, reg_name(*r)).to_lowercase(),
                None => format!("{:?}", what).to_lowercase(),
            },
            Step::Consider { mode } => match mode {
                ConsiderMode::FindPath => "read dev (disabled, access, numa)".into(),
                ConsiderMode::RoundRobin => "read dev (disabled, access)".into(),
                ConsiderMode::RoundRobinOld => "read old (disabled, access)".into(),
            },
            Step::DerefHeadDisk => "mpath_disk->mpath_head".into(),
            Step::DeviceAddDisk { .. } => "device_add_disk".into(),
            Step::DelGendisk => "del_gendisk(head->disk)".into(),
            Step::AddCdev => "add_cdev".into(),
            Step::DelCdev => "del_cdev".into(),
            Step::DerefPath { p } => format!("deref {}", reg_name(*p)),
            Step::UsePathDisk { p } => format!("bio_set_dev({}->disk); submit_bio_noacct", reg_name(*p)),
            Step::SetCapacity { p, v } => format!("set_capacity({}->disk, #{})", reg_name(*p), v),
            Step::HeadTakeCapacity { p } => format!("set_capacity(head->disk, cap({}))", reg_name(*p)),
            Step::SetAna { p, src } => format!("ana_state({}) = {}", reg_name(*p), reg_name(*src)),
            Step::SetIopolicy { src } => format!("iopolicy = {}", reg_name(*src)),
            Step::ClearDisk { p } => format!("{}->disk = NULL", reg_name(*p)),
            Step::SetSdevState { p, v } => format!("sdev_state({}) = {}", reg_name(*p), *v as u8),
            Step::Poke { field, on, src } => format!(
                "{}({}) = {}",
                serde_json::to_value(field).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                reg_name(*on),
                reg_name(*src)
            ),
            Step::ChangeCtrlState { ctrl, state, table, .. } => {
                if *table {
                    format!("nvme_change_ctrl_state(ctrl[{}], {})", reg_name(*ctrl), reg_name(*state))
                } else {
                    format!("ctrl[{}]->state = {}", reg_name(*ctrl), reg_name(*state))
                }
            }
            Step::ModDelayedWork => "mod_delayed_work(remove_work, delayed_removal_secs)".into(),
            Step::AdvanceTime { secs } => format!("(time passes: {} s)", reg_name(*secs)),
            Step::StoreRemovalSecs { src } => format!("delayed_removal_secs = {}", reg_name(*src)),
            Step::LinkCreate { p, .. } => format!("sysfs_add_link_to_group({})", reg_name(*p)),
            Step::LinkRemove { p } => format!("sysfs_remove_link_from_group({})", reg_name(*p)),
            Step::QueueWork { w } => format!("queue_work({:?})", w).to_lowercase(),
            Step::CancelWork { w, .. } => format!("cancel_delayed_work({:?})", w).to_lowercase(),
            Step::RequeueAdd => "bio_list_add(requeue_list)".into(),
            Step::RequeueTake { .. } => "bio_list_get(requeue_list)".into(),
            Step::BioFail => "bio_io_error".into(),
            Step::RefDecAndTest { .. } => "refcount_dec_and_test".into(),
            Step::WaitRefZero => "wait_var_event(!refcount)".into(),
            Step::WakeUpVar => "wake_up_var".into(),
            Step::HeadCleanup => "mpath_head_cleanup".into(),
            Step::FreeHead => "kfree(head)".into(),
            Step::FreePath { p } => format!("free({})", reg_name(*p)),
            Step::IoctlBegin { p } => format!("ioctl_begin({})", reg_name(*p)),
            Step::IoctlFinish => "ioctl_finish".into(),
            Step::Yield => "(preemption point)".into(),
            other => format!("{:?}", other),
        }
    }
}

/// The registers and named objects a shared step acts on (for schedules:
/// `checker::detail` resolves the registers against the machine state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Operands {
    /// The register holding the path pointer the step acts on (`p`, a path
    /// bit's `on`, `r`, `current_path` store `src`, a path read's `on`, the
    /// element a `consider` reads).
    pub path: Option<Reg>,
    /// The register holding the `current_path[]` node index.
    pub node: Option<Reg>,
    /// The register the step writes a path pointer into.
    pub result: Option<Reg>,
    pub mutex: Option<Mutex>,
    pub bit: Option<Bit>,
}

impl Step {
    /// What [`Operands`] this step names (empty for local steps).
    pub fn operands(&self) -> Operands {
        let mut o = Operands::default();
        match self {
            Step::Lock { m } | Step::Unlock { m } => o.mutex = Some(*m),
            Step::ListAddTail { p }
            | Step::ListDel { p }
            | Step::CpClearMatching { p, .. }
            | Step::DerefPath { p }
            | Step::UsePathDisk { p }
            | Step::SetCapacity { p, .. }
            | Step::HeadTakeCapacity { p }
            | Step::SetAna { p, .. }
            | Step::ClearDisk { p }
            | Step::SetSdevState { p, .. }
            | Step::Poke { field: Field::SdevState | Field::AluaState, on: p, .. }
            | Step::LinkCreate { p, .. }
            | Step::LinkRemove { p }
            | Step::FreePath { p }
            | Step::IoctlBegin { p } => o.path = Some(*p),
            Step::ListFirst { dst } => o.result = Some(*dst),
            Step::ListNext { r } | Step::NextDev { r } => {
                o.path = Some(*r);
                o.result = Some(*r);
            }
            Step::CpLoad { dst, node } => {
                o.node = Some(*node);
                o.result = Some(*dst);
            }
            Step::CpStore { node, src } => {
                o.node = Some(*node);
                o.path = Some(*src);
            }
            Step::TestBit { bit, on, .. }
            | Step::SetBit { bit, on }
            | Step::ClearBit { bit, on }
            | Step::TestAndSetBit { bit, on, .. }
            | Step::TestAndClearBit { bit, on, .. } => {
                o.bit = Some(*bit);
                if bit.is_path_bit() {
                    o.path = *on;
                }
            }
            Step::Load { what, on, .. } => {
                if matches!(
                    what,
                    Pred::IsDisabled | Pred::IsOptimized | Pred::IsAvailable | Pred::Access | Pred::CtrlLive | Pred::CapacityMismatch | Pred::CtrlIndex
                ) {
                    o.path = *on;
                }
            }
            Step::Consider { mode } => o.path = Some(if *mode == ConsiderMode::RoundRobinOld { Reg::Old } else { Reg::Dev }),
            _ => {}
        }
        o
    }
}

pub fn reg_name(r: Reg) -> String {
    serde_json::to_value(r).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}
fn mutex_name(m: Mutex) -> &'static str {
    match m {
        Mutex::Head => "head->lock",
        Mutex::Subsys => "subsys->lock",
    }
}
fn bit_name(b: Bit, on: Option<Reg>) -> String {
    let n = serde_json::to_value(b).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    match on {
        Some(r) => format!("{}, {}", n, reg_name(r)),
        None => n,
    }
}
