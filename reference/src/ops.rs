//! The one operation vocabulary: every layer (traces, generator, model
//! cross-check, KUnit exporter, benches) speaks these [`Op`]s and compares
//! these [`Observation`]s.
//!
//! Applying an operation to a [`crate::System`] lives in the children, one
//! per family of operations: `apply` (the dispatcher: which family an op
//! belongs to), `check` (argument checks: bad input, not findings),
//! `head_disk` (head and head disk), `path_life` (path arrival and removal,
//! driver and library calls), `path_state` (ANA, controller, SCSI and
//! per-path driver state), `io_ops` (selection, submission, completion,
//! failover, requeue work, time, forwarded ops), `settings` (sysfs links,
//! iopolicy, delayed removal, synchronize), `observe` (the observable
//! state).

use crate::driver::{AluaState, AnaState, CtrlState, IoctlKind, SdevState};
use crate::fwd::FwdOp;
use crate::io::Submit;
use crate::violation::Violation;
use crate::work::Work;
use serde::{Deserialize, Serialize};

mod apply;
mod check;
mod head_disk;
mod io_ops;
mod observe;
mod path_life;
mod path_state;
mod settings;

fn zero() -> i32 {
    0
}
fn is_zero(x: &i32) -> bool {
    *x == 0
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn default_capacity() -> u64 {
    DEFAULT_CAPACITY
}
fn is_default_capacity(c: &u64) -> bool {
    *c == DEFAULT_CAPACITY
}

/// Capacity (sectors) of new disks unless a trace says otherwise.
pub const DEFAULT_CAPACITY: u64 = 2048;

/// One operation. `node` is the caller's NUMA node (`numa_node_id()`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    // ---- head and head disk
    /// `mpath_alloc_head_disk`; `fail` injects a `blk_alloc_disk` error.
    AllocHeadDisk {
        #[serde(default, skip_serializing_if = "is_false")]
        fail: bool,
        #[serde(default = "default_capacity", skip_serializing_if = "is_default_capacity")]
        capacity: u64,
    },
    /// The next `device_add_disk` fails.
    FailNextAddDisk,
    SetLive {
        path: u32,
    },
    RemoveDisk,
    PutDisk,
    /// `mpath_bdev_open` / chr open: `mpath_get_head`.
    Open,
    /// `mpath_bdev_release` / chr release: `mpath_put_head`.
    Release,
    /// v3 `mpath_head_uninit`.
    HeadUninit,

    // ---- paths as the driver sees them
    /// Driver path arrival (NVMe `nvme_alloc_ns`..`nvme_mpath_add_disk`,
    /// SCSI `sd_probe`..`sd_mpath_add_disk`).
    AddPath {
        path: u32,
        ctrl: u32,
        #[serde(default = "default_capacity", skip_serializing_if = "is_default_capacity")]
        capacity: u64,
        /// NVMe ANA state of the path's group; absent = ANA log not yet read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ana: Option<AnaState>,
        /// SCSI ALUA state (default optimal).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alua: Option<AluaState>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        missing_ops: Vec<FwdOp>,
    },
    /// Driver path removal (NVMe `nvme_ns_remove`, SCSI `sd_mpath_remove`);
    /// the path is freed at the end.
    RemovePath {
        path: u32,
        #[serde(default = "zero", skip_serializing_if = "is_zero")]
        node: i32,
    },
    /// NVMe ANA log processing for one namespace (`nvme_update_ns_ana_state`).
    AnaUpdate {
        path: u32,
        state: AnaState,
    },
    /// Raw store of a namespace's ANA state (and the matching library
    /// `access_state`), without the ANA-update follow-up.
    SetAnaState {
        path: u32,
        state: AnaState,
    },
    /// A controller state change. nvme-6.12 (profile `ctrl_state_machine`):
    /// the driver's `nvme_change_ctrl_state`, whose transition table may
    /// refuse the change (the state stays); `ret` is `{"bool": changed}`,
    /// and a change to LIVE kicks the controller's requeue lists. Other
    /// revisions: a direct write of the test template's state, `ret` none.
    SetCtrlState {
        ctrl: u32,
        state: CtrlState,
    },
    SetCtrlNode {
        ctrl: u32,
        node: i32,
    },
    SetFailfast {
        ctrl: u32,
        expired: bool,
    },
    SetReady {
        path: u32,
        ready: bool,
    },
    SetAnaPending {
        path: u32,
        pending: bool,
    },
    SetNrActive {
        ctrl: u32,
        n: i32,
    },
    SetSdevState {
        path: u32,
        state: SdevState,
    },
    SetAluaState {
        path: u32,
        state: AluaState,
    },
    /// SCSI path block (`__scsi_internal_device_block_nowait`).
    ScsiBlock {
        path: u32,
    },
    SetCapacity {
        path: u32,
        sectors: u64,
    },
    /// NVMe `nvme_update_ns_info` on a multipath head for `path`.
    Revalidate {
        path: u32,
    },
    /// Path error on the oldest in-flight bio of `path` (failover).
    Failover {
        path: u32,
        #[serde(default, skip_serializing_if = "is_false")]
        ana_error: bool,
    },
    /// The oldest in-flight bio of `path` completes successfully.
    Complete {
        path: u32,
    },
    /// Driver iopolicy sysfs store (store + path clearing + requeue).
    IopolicyStore {
        buf: String,
    },

    // ---- library calls made directly
    /// Allocate a path (disk added) and `mpath_add_device` only.
    AddDevice {
        path: u32,
        ctrl: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ana: Option<AnaState>,
    },
    DeleteDevice {
        path: u32,
    },
    FreePath {
        path: u32,
    },
    HeadDevicesEmpty,
    ClearCurrentPath {
        path: u32,
    },
    ClearPaths,
    RevalidatePaths,
    AddSysfsLink,
    RemoveSysfsLink {
        path: u32,
    },
    Synchronize,
    CanRemoveHead,
    DelayedRemovalSecsStore {
        buf: String,
    },
    DelayedRemovalSecsShow,
    /// Module parameter `iopolicy=`: `mpath_set_iopolicy`.
    SetIopolicy {
        val: String,
    },
    IopolicyShow,
    NumaNodesShow {
        path: u32,
    },
    CallForDevice {
        #[serde(default = "zero", skip_serializing_if = "is_zero")]
        node: i32,
    },

    // ---- I/O and forwarded ops
    FindPath {
        #[serde(default = "zero", skip_serializing_if = "is_zero")]
        node: i32,
    },
    SubmitBio {
        #[serde(default = "zero", skip_serializing_if = "is_zero")]
        node: i32,
    },
    /// Run every ready work item (requeue resubmits on `node`).
    RunWorks {
        #[serde(default = "zero", skip_serializing_if = "is_zero")]
        node: i32,
    },
    AdvanceTime {
        secs: u64,
    },
    ChrIoctl {
        #[serde(default = "zero", skip_serializing_if = "is_zero")]
        node: i32,
        kind: IoctlKind,
    },
    UringCmd {
        #[serde(default = "zero", skip_serializing_if = "is_zero")]
        node: i32,
    },
    /// bdev ioctl, PR ops, report_zones, getgeo, get_unique_id.
    Forward {
        #[serde(default = "zero", skip_serializing_if = "is_zero")]
        node: i32,
        fwd: FwdOp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<IoctlKind>,
    },
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Ret {
    None,
    Bool(bool),
    Int(i64),
    Path(Option<u32>),
    Submit(Submit),
    Str(String),
    Paths(Vec<u32>),
    Works(Vec<Work>),
}

/// The observable state after an operation. Every field is optional so a
/// hand-written trace can state only what it cares about; `observe` fills
/// all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// `current_path[node]` for each possible node, in order: a path id,
    /// null, or -1 for an uninitialised (junk) pointer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_path: Option<Vec<Option<i64>>>,
    /// `dev_list` in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_list: Option<Vec<u32>>,
    /// Head flag bits (bit 0 DISK_LIVE, bit 1 QUEUE_IF_NO_PATH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_flags: Option<u32>,
    /// Paths with `MPATH_DEVICE_SYSFS_ATTR_LINK` set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_bits: Option<Vec<u32>>,
    /// Paths with an existing `multipath/<path>` link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<u32>>,
    /// NVMe: paths with NVME_NS_READY set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<Vec<u32>>,
    /// NVMe: paths with NVME_NS_ANA_PENDING set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ana_pending: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requeue_len: Option<usize>,
    /// Head disk: none, err_ptr, allocated, added, freed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_disk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_ref: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_refs: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_work: Option<Vec<String>>,
    /// Bios failed back to the submitter so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios_failed: Option<u64>,
    /// Every violation so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<Violation>>,
}

impl Observation {
    /// Names of the fields set in `self` whose values differ in `actual`.
    pub fn mismatches(&self, actual: &Observation) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        macro_rules! cmp {
            ($($f:ident),*) => { $(
                if let Some(e) = &self.$f {
                    let a = &actual.$f;
                    if a.as_ref() != Some(e) {
                        out.push((stringify!($f), serde_json::to_string(e).unwrap_or_default(), serde_json::to_string(a).unwrap_or_default()));
                    }
                }
            )* };
        }
        cmp!(
            current_path,
            dev_list,
            head_flags,
            link_bits,
            links,
            ready,
            ana_pending,
            requeue_len,
            head_disk,
            head_ref,
            module_refs,
            pending_work,
            bios_failed,
            violations
        );
        out
    }
}

/// A structurally invalid operation for this system (bad input, not a
/// finding): the caller reports it with the trace position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OpError(pub String);
