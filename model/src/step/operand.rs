//! A step's operands: registers, values and named constants, and the
//! kernel objects a step names (mutexes, bits, predicates, fields, works).

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

/// A step's SCSI device state as its number in a revision file
/// (`"v": 8`), converted with `SdevState::try_from`: a number naming no
/// state is a load error (`file:line:column: ...`), never a panic.
pub mod sdev_number {
    use mpath_reference::driver::SdevState;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &SdevState, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(*v as u8)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SdevState, D::Error> {
        let n = u8::deserialize(d)?;
        SdevState::try_from(n).map_err(|n| D::Error::custom(format!("sdev state {n} names no enum scsi_device_state value (1..=9)")))
    }
}
