//! The step language: primitive steps at kernel-primitive granularity.
//!
//! A library or driver function is a list of [`Step`]s (see
//! `revisions/*.json`). Steps that touch shared state (SRCU, mutexes, list
//! pointers, `current_path[]`, bit operations, sysfs, works, frees) are one
//! atomic transition each; steps that only touch the thread's registers
//! (`set`, `goto`, `if_*`, `call`, `return`, `label`) are *local* and are
//! folded into the neighbouring transition (they are invisible to other
//! threads, so this loses no interleaving).
//!
//! Values are `u8`: a path pointer is `0` (NULL) or `path id + 1`, [`JUNK`]
//! is an uninitialised pointer; booleans are 0/1.

use serde::{Deserialize, Serialize};

/// An uninitialised pointer value (v1 R12).
pub const JUNK: u8 = 254;
/// Distance "infinity" (`INT_MAX`).
pub const INF: u8 = 255;

/// Thread registers. `path`, `node` and `arg` hold the operation's
/// arguments; the others are scratch with the conventions documented in
/// `revisions/README.md` (`ret` is the return value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Reg {
    Path,
    Node,
    Arg,
    N,
    Dev,
    Found,
    Fallback,
    Old,
    FoundD,
    FallbackD,
    Ret,
    Tmp,
    Cnt,
    Last,
    Data,
    Bios,
}
pub const NREG: usize = 16;

/// Named constants usable as operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Named {
    /// `NULL` (0).
    Null,
    /// An uninitialised pointer.
    Junk,
    /// `INT_MAX` distance.
    Inf,
    /// Number of path slots.
    Npaths,
    /// Number of possible nodes.
    Nnodes,
    /// Number of online nodes.
    NonlineNodes,
    /// 1 when the scenario's driver is SCSI, else 0 (the driver callback
    /// `mpdt->remove_head` the library's remove work calls).
    DriverScsi,
}

/// An operand: a literal, a register or a named constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Val {
    Int(u8),
    Reg(Reg),
    Named(Named),
}

/// Mutexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mutex {
    /// `head->lock`.
    Head,
    /// NVMe `subsys->lock` / SCSI `sd_mpath_disks_lock`.
    Subsys,
}

/// Flag bits. Head bits take no `on`; path bits take `on` (a register
/// holding a path pointer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bit {
    /// `MPATH_HEAD_DISK_LIVE`.
    DiskLive,
    /// `MPATH_HEAD_QUEUE_IF_NO_PATH`.
    QueueIfNoPath,
    /// `GD_ADDED` on the head disk.
    GdAdded,
    /// `GD_SUPPRESS_PART_SCAN` on the head disk.
    SuppressPartScan,
    /// Head cdev registered.
    CdevLive,
    /// `MPATH_DEVICE_SYSFS_ATTR_LINK` (path).
    Link,
    /// `NVME_NS_READY` (path).
    Ready,
    /// `NVME_NS_ANA_PENDING` (path).
    AnaPending,
    /// `NVME_NS_REMOVING` (path).
    Removing,
    /// `GD_ADDED` on the path disk (path).
    DiskAdded,
    /// The namespace is on `ctrl->namespaces` (path).
    OnCtrl,
    /// `dev->disk != NULL` (path).
    HasDisk,
    /// NVMe: the head was taken off `subsys->nsheads`
    /// (`list_del_init(&head->entry)` under `subsys->lock`): a namespace
    /// scanned afterwards no longer finds it and gets a new head.
    HeadUnlisted,
}

impl Bit {
    pub fn is_path_bit(self) -> bool {
        matches!(self, Bit::Link | Bit::Ready | Bit::AnaPending | Bit::Removing | Bit::DiskAdded | Bit::OnCtrl | Bit::HasDisk)
    }
}

/// Shared reads that produce a value (`load`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pred {
    /// `mpdt->is_disabled(dev)`.
    IsDisabled,
    /// `mpdt->is_optimized(dev)`.
    IsOptimized,
    /// `mpdt->available_path(dev)`.
    IsAvailable,
    /// `dev->access_state` (0 optimized, 1 nonoptimized, 2 other).
    Access,
    /// NVMe: controller LIVE.
    CtrlLive,
    /// `get_capacity(head->disk) != get_capacity(dev->disk)`.
    CapacityMismatch,
    /// `head->disk != NULL` (no dereference).
    HasHeadDisk,
    /// `refcount_read(&head->ref)`.
    RefCount,
    /// The iopolicy (0 numa, 1 round-robin, 2 queue-depth).
    Iopolicy,
    /// `ioctl_begin` would pin the controller (`Arg` is the ioctl kind).
    IsCtrlIoctl,
    /// `ns->ctrl` / `sdev->host`: the path's controller index (reads the
    /// path).
    CtrlIndex,
    /// `head->delayed_removal_secs` (saturating at 255).
    RemovalSecs,
}

/// Driver state a harness (the KUnit template, a test) writes directly:
/// the fields of [`Step::Poke`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// `ctrl->state` of the controller whose index is in `on` (a raw
    /// store: no transition table, no requeue kick).
    CtrlState,
    /// NVMe `NVME_CTRL_FAILFAST_EXPIRED` of the controller in `on`.
    Failfast,
    /// `ctrl->nr_active` / `shost->mpath_nr_active` of the controller in
    /// `on` (the model's encoding, `scenario::nr_active_value`).
    NrActive,
    /// SCSI `sdev->sdev_state` (`SdevState as u8`) of the path in `on`.
    SdevState,
    /// SCSI ALUA state (`AluaState as u8`) of the path in `on`.
    AluaState,
}

/// Works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkKind {
    Requeue,
    PartitionScan,
    RemoveHead,
}

impl WorkKind {
    pub const ALL: [WorkKind; 3] = [WorkKind::Requeue, WorkKind::PartitionScan, WorkKind::RemoveHead];
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
    /// The program that runs the work.
    pub fn function(self) -> &'static str {
        match self {
            WorkKind::Requeue => "mpath_requeue_work",
            WorkKind::PartitionScan => "mpath_partition_scan_work",
            WorkKind::RemoveHead => "mpath_remove_head_work",
        }
    }
}

/// Selector bodies evaluated on one list element in one atomic read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsiderMode {
    /// `__mpath_find_path` loop body for node `n` (updates `found`,
    /// `fallback`, `found_d`, `fallback_d`).
    FindPath,
    /// Round-robin loop body: sets `found`; `tmp` = 1 if the element is an
    /// OPTIMIZED, not disabled path (the loop then ends at `out:`).
    RoundRobin,
    /// Round-robin post-loop test of `old`: `tmp` = 1 if `old` is returned.
    RoundRobinOld,
}

/// One step. Serialised as `{"s": "<name>", ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "s", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    // ---- local (register-only) steps
    /// A jump target; not a step.
    Label {
        name: String,
    },
    Goto {
        to: String,
    },
    /// Jump if `r == 0`.
    IfZero {
        r: Reg,
        to: String,
    },
    /// Jump if `r != 0`.
    IfNonZero {
        r: Reg,
        to: String,
    },
    /// Jump if `a == b`.
    IfEq {
        a: Reg,
        b: Val,
        to: String,
    },
    /// Jump if `a != b`.
    IfNe {
        a: Reg,
        b: Val,
        to: String,
    },
    /// Jump if `a < b`.
    IfLt {
        a: Reg,
        b: Val,
        to: String,
    },
    Set {
        r: Reg,
        v: Val,
    },
    Inc {
        r: Reg,
    },
    Dec {
        r: Reg,
    },
    /// Call another function of the revision table (registers are shared:
    /// the callee returns its result in `ret`).
    Call {
        f: String,
    },
    Return,

    // ---- SRCU
    SrcuLock,
    SrcuUnlock,
    /// `synchronize_srcu(&head->srcu)`: waits for exactly the readers in a
    /// read section when it starts.
    Synchronize,
    /// NVMe `ctrl->srcu` read side and grace period.
    CtrlSrcuLock,
    CtrlSrcuUnlock,
    CtrlSynchronize,

    // ---- mutexes
    Lock {
        m: Mutex,
    },
    Unlock {
        m: Mutex,
    },

    // ---- RCU list
    /// `list_add_tail_rcu(&dev->siblings, &head->dev_list)`.
    ListAddTail {
        p: Reg,
    },
    /// `list_del_rcu(&dev->siblings)` (keeps `next`, poisons `prev`).
    ListDel {
        p: Reg,
    },
    /// `list_first_or_null_rcu`; resets the loop counter.
    ListFirst {
        dst: Reg,
    },
    /// `list_next_or_null_rcu` from the element in `r` (reads `r`'s memory).
    ListNext {
        r: Reg,
    },
    /// `mpath_next_dev`: next, wrapping to the first entry.
    NextDev {
        r: Reg,
    },
    /// `list_empty(&head->dev_list)`.
    ListEmpty {
        dst: Reg,
    },
    /// `list_is_singular(&head->dev_list)` (plain loads of next and prev).
    ListSingular {
        dst: Reg,
    },

    // ---- current_path[]
    /// `srcu_dereference(head->current_path[node])`.
    CpLoad {
        dst: Reg,
        node: Reg,
    },
    /// `rcu_assign_pointer(head->current_path[node], src)`.
    CpStore {
        node: Reg,
        src: Reg,
    },
    /// `mpath_clear_current_path(dev)` body: every slot equal to `p`
    /// becomes NULL; `dst` = changed.
    CpClearMatching {
        p: Reg,
        dst: Reg,
    },
    /// `mpath_clear_paths`: every slot NULL.
    CpClearAll,

    // ---- atomic bit operations
    TestBit {
        bit: Bit,
        #[serde(default)]
        on: Option<Reg>,
        dst: Reg,
    },
    SetBit {
        bit: Bit,
        #[serde(default)]
        on: Option<Reg>,
    },
    ClearBit {
        bit: Bit,
        #[serde(default)]
        on: Option<Reg>,
    },
    TestAndSetBit {
        bit: Bit,
        #[serde(default)]
        on: Option<Reg>,
        dst: Reg,
    },
    TestAndClearBit {
        bit: Bit,
        #[serde(default)]
        on: Option<Reg>,
        dst: Reg,
    },

    // ---- shared reads
    Load {
        dst: Reg,
        what: Pred,
        #[serde(default)]
        on: Option<Reg>,
    },
    /// A selector loop body on the element in `dev` (one atomic read).
    Consider {
        mode: ConsiderMode,
    },

    // ---- disks and objects
    /// A dereference of `head->disk` that is not NULL-tested first (v1 R4).
    DerefHeadDisk,
    /// `device_add_disk(head->parent, head->disk, ...)`; `dst` = 0.
    DeviceAddDisk {
        dst: Reg,
    },
    /// `del_gendisk(head->disk)` (returns early when not added).
    DelGendisk,
    /// `mpdt->add_cdev` / `mpdt->del_cdev`.
    AddCdev,
    DelCdev,
    /// A dereference of the path object in `p` (e.g. `ns->ctrl`).
    DerefPath {
        p: Reg,
    },
    /// `bio_set_dev(bio, p->disk->part0)` + submit: uses the path and its disk.
    UsePathDisk {
        p: Reg,
    },
    /// `set_capacity(dev->disk, v)` with a capacity class.
    SetCapacity {
        p: Reg,
        v: u8,
    },
    /// `set_capacity(head->disk, get_capacity(dev->disk))`.
    HeadTakeCapacity {
        p: Reg,
    },
    /// `nvme_mpath_update_ana_state(ns, state)`: ANA and access state from `src`.
    SetAna {
        p: Reg,
        src: Reg,
    },
    /// The iopolicy store: `iopolicy = src`.
    SetIopolicy {
        src: Reg,
    },
    /// `dev->disk = NULL`.
    ClearDisk {
        p: Reg,
    },
    /// SCSI `sdev->sdev_state = v` (`SdevState as u8`).
    SetSdevState {
        p: Reg,
        v: u8,
    },
    /// A harness write of driver state: `field` of the object in `on` (a
    /// path pointer for path fields, a controller index for controller
    /// fields) becomes the value in `src`. One store.
    Poke {
        field: Field,
        on: Reg,
        src: Reg,
    },
    /// `nvme_change_ctrl_state(ctrl, new)`'s state change under
    /// `ctrl->lock`: the controller whose index is in `ctrl` goes to the
    /// state in `state` (`CtrlState as u8`). With `table` (Linux 6.12's
    /// function) the transition table decides (`CtrlState::nvme_may_become`)
    /// and CONNECTING -> LIVE clears FAILFAST_EXPIRED
    /// (`nvme_stop_failfast_work`); without it the store is unconditional
    /// (the revisions whose reference profile has no `ctrl_state_machine`).
    /// `dst` = 1 if the state changed hands (always 1 without `table`).
    ChangeCtrlState {
        ctrl: Reg,
        state: Reg,
        table: bool,
        dst: Reg,
    },

    // ---- sysfs
    /// `sysfs_add_link_to_group(head, "multipath", dev)`; `dst` = 0 or 1 (-EEXIST).
    LinkCreate {
        p: Reg,
        dst: Reg,
    },
    /// `sysfs_remove_link_from_group`.
    LinkRemove {
        p: Reg,
    },

    // ---- works and requeue
    QueueWork {
        w: WorkKind,
    },
    /// `cancel_delayed_work(&work)`: `dst` = 1 if the work was pending (not
    /// yet started) and is now cancelled, 0 if it was not pending (never
    /// queued, or the worker already runs it: it runs on).
    CancelWork {
        w: WorkKind,
        dst: Reg,
    },
    /// `mod_delayed_work(mpath_wq, &head->remove_work,
    /// head->delayed_removal_secs * HZ)`: (re)arms the delayed removal's
    /// timer. When the machine has no clock (`Machine::clocked`: no thread
    /// advances time) the timer may expire at any moment, so the work is
    /// queued at once (the worker may start it at any point: the sound
    /// over-approximation of an unconstrained delay); with a clock the
    /// timer holds the delay and `advance_time` expires it. A delay of 0
    /// queues at once.
    ModDelayedWork,
    /// The clock advances by the seconds in `secs`: an armed removal timer
    /// whose delay is reached expires (its work becomes pending; the worker
    /// may then start it). A timer of 255 s or more never expires.
    AdvanceTime {
        secs: Reg,
    },
    /// `head->delayed_removal_secs = src` (under `head->lock` in the store).
    StoreRemovalSecs {
        src: Reg,
    },
    /// `bio_list_add(&head->requeue_list, bio)` under `requeue_lock`.
    RequeueAdd,
    /// `bio_list_get(&head->requeue_list)` under `requeue_lock`: `dst` = count.
    RequeueTake {
        dst: Reg,
    },
    /// A bio completes with an error (no available path).
    BioFail,

    // ---- head lifetime
    /// `refcount_dec_and_test` / `kref_put`'s decrement: `dst` = reached zero.
    RefDecAndTest {
        dst: Reg,
    },
    /// `wait_var_event(&refcount, !refcount_read(&refcount))`: blocks until 0.
    WaitRefZero,
    /// `wake_up_var(&head->refcount)`.
    WakeUpVar,
    /// `mpath_head_cleanup` / `cleanup_srcu_struct`: touches the head.
    HeadCleanup,
    /// The driver frees the head (or the structure embedding it).
    FreeHead,
    /// The driver frees the path (`nvme_put_ns` final put / sdev release).
    FreePath {
        p: Reg,
    },

    // ---- ioctl
    /// `mpdt->ioctl_begin(dev, cmd, &data)`: reads the path; `data` = 1 if
    /// a controller reference was taken.
    IoctlBegin {
        p: Reg,
    },
    /// `mpdt->ioctl_finish(data)`.
    IoctlFinish,

    /// A pure scheduling point (e.g. a preemption point the reviewer names).
    Yield,
}

impl Step {
    /// Local steps touch only the thread's registers.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            Step::Label { .. }
                | Step::Goto { .. }
                | Step::IfZero { .. }
                | Step::IfNonZero { .. }
                | Step::IfEq { .. }
                | Step::IfNe { .. }
                | Step::IfLt { .. }
                | Step::Set { .. }
                | Step::Inc { .. }
                | Step::Dec { .. }
                | Step::Call { .. }
                | Step::Return
        )
    }

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
            Step::SetSdevState { p, v } => format!("sdev_state({}) = {}", reg_name(*p), v),
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

/// A step with jump targets and callees resolved to indices.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CStep {
    /// A local or shared step whose operands need no resolution.
    Plain(Step),
    Goto(u16),
    IfZero(Reg, u16),
    IfNonZero(Reg, u16),
    IfEq(Reg, Val, u16),
    IfNe(Reg, Val, u16),
    IfLt(Reg, Val, u16),
    Call(u16),
}

impl CStep {
    pub fn is_local(&self) -> bool {
        match self {
            CStep::Plain(s) => s.is_local(),
            _ => true,
        }
    }
}
