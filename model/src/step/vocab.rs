//! The closed step vocabulary ([`Step`], each named after its kernel
//! primitive) and its compiled form ([`CStep`]).

use super::operand::*;
use mpath_reference::driver::SdevState;
use serde::{Deserialize, Serialize};

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
    /// SCSI `sdev->sdev_state = v`; `v` is written as the state's number
    /// (`enum scsi_device_state`), checked when the revision loads.
    SetSdevState {
        p: Reg,
        #[serde(with = "sdev_number")]
        v: SdevState,
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
