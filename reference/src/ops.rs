//! The one operation vocabulary: every layer (traces, generator, model
//! cross-check, KUnit exporter, benches) speaks these [`Op`]s and compares
//! these [`Observation`]s.

use crate::driver::{AluaState, AnaState, CtrlState, DriverKind, IoctlKind, SdevState, NVME_NS_ANA_PENDING, NVME_NS_READY};
use crate::drvops::PathSetup;
use crate::fwd::FwdOp;
use crate::head::{DiskState, Life, System, CP_JUNK, CP_NULL};
use crate::io::Submit;
use crate::sync::{lock, Ordering};
use crate::violation::Violation;
use crate::work::Work;
use serde::{Deserialize, Serialize};

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

impl System {
    fn check_path(&self, p: u32) -> Result<(), OpError> {
        if p as usize >= self.paths.len() {
            return Err(OpError(format!("path {p} out of range (max_paths {})", self.paths.len())));
        }
        if self.paths[p as usize].life() == Life::Unused {
            return Err(OpError(format!("path {p} was never added")));
        }
        Ok(())
    }
    fn check_new_path(&self, p: u32, ctrl: u32) -> Result<(), OpError> {
        if p as usize >= self.paths.len() {
            return Err(OpError(format!("path {p} out of range (max_paths {})", self.paths.len())));
        }
        if !matches!(self.paths[p as usize].life(), Life::Unused) {
            return Err(OpError(format!("path {p} already exists")));
        }
        self.check_ctrl(ctrl)
    }
    fn check_ctrl(&self, c: u32) -> Result<(), OpError> {
        if c as usize >= self.ctrls.len() {
            return Err(OpError(format!("ctrl {c} out of range (nr_ctrls {})", self.ctrls.len())));
        }
        Ok(())
    }
    fn check_node(&self, n: i32) -> Result<(), OpError> {
        if !self.topo.online.contains(&n) {
            return Err(OpError(format!("node {n} is not an online node")));
        }
        Ok(())
    }
    fn check_driver(&self, want: DriverKind, op: &str) -> Result<(), OpError> {
        if self.kind() != want {
            return Err(OpError(format!("{op} is a {:?} operation; this trace drives {:?}", want, self.kind()).to_lowercase()));
        }
        Ok(())
    }

    /// Apply one operation at trace step `step`.
    pub fn apply(&self, step: u64, op: &Op) -> Result<Ret, OpError> {
        self.step.store(step, Ordering::Relaxed);
        use Op::*;
        let r = match op {
            AllocHeadDisk { fail, capacity } => Ret::Int(self.alloc_head_disk(*fail, *capacity) as i64),
            FailNextAddDisk => {
                self.disk.fail_next_add.store(true, Ordering::Relaxed);
                Ret::None
            }
            SetLive { path } => {
                self.check_path(*path)?;
                self.set_live(*path);
                Ret::None
            }
            RemoveDisk => {
                self.remove_disk();
                Ret::None
            }
            PutDisk => {
                self.put_disk(self.topo.online[0]);
                Ret::None
            }
            Open => Ret::Int(self.bdev_open() as i64),
            Release => {
                self.bdev_release();
                Ret::None
            }
            HeadUninit => Ret::Bool(self.head_uninit()),
            AddPath { path, ctrl, capacity, ana, alua, missing_ops } => {
                self.check_new_path(*path, *ctrl)?;
                if self.kind() == DriverKind::Scsi && ana.is_some() {
                    return Err(OpError("add_path: `ana` is NVMe-only; use `alua` for scsi".into()));
                }
                if self.kind() == DriverKind::Nvme && alua.is_some() {
                    return Err(OpError("add_path: `alua` is SCSI-only; use `ana` for nvme".into()));
                }
                let setup = PathSetup {
                    ctrl: *ctrl,
                    numa_node: self.ctrls[*ctrl as usize].numa_node.load(Ordering::Relaxed),
                    capacity: *capacity,
                    ana: *ana,
                    alua: alua.unwrap_or(AluaState::Optimal),
                    fops_missing: missing_ops.iter().fold(0, |m, o| m | o.bit()),
                };
                self.drv_add_path(*path, &setup);
                Ret::None
            }
            RemovePath { path, node } => {
                self.check_path(*path)?;
                self.check_node(*node)?;
                self.drv_remove_path(*path, *node);
                Ret::None
            }
            AnaUpdate { path, state } => {
                self.check_driver(DriverKind::Nvme, "ana_update")?;
                self.check_path(*path)?;
                self.nvme_update_ns_ana_state(*path, *state);
                Ret::None
            }
            SetAnaState { path, state } => {
                self.check_driver(DriverKind::Nvme, "set_ana_state")?;
                self.check_path(*path)?;
                let s = self.path(*path, "set_ana_state");
                s.ana_state.store(*state as u8, Ordering::Relaxed);
                s.access_state.store(crate::driver::ana_to_access(*state) as u8, Ordering::Relaxed);
                Ret::None
            }
            SetCtrlState { ctrl, state } => {
                self.check_driver(DriverKind::Nvme, "set_ctrl_state")?;
                self.check_ctrl(*ctrl)?;
                if self.profile.ctrl_state_machine {
                    Ret::Bool(self.nvme_change_ctrl_state(*ctrl, *state))
                } else {
                    self.ctrls[*ctrl as usize].state.store(*state as u8, Ordering::Release);
                    Ret::None
                }
            }
            SetCtrlNode { ctrl, node } => {
                self.check_ctrl(*ctrl)?;
                if *node != -1 && !self.topo.is_possible(*node) {
                    return Err(OpError(format!("set_ctrl_node: node {node} is not possible")));
                }
                self.ctrls[*ctrl as usize].numa_node.store(*node, Ordering::Relaxed);
                Ret::None
            }
            SetFailfast { ctrl, expired } => {
                self.check_driver(DriverKind::Nvme, "set_failfast")?;
                self.check_ctrl(*ctrl)?;
                self.ctrls[*ctrl as usize].failfast_expired.store(*expired, Ordering::Relaxed);
                Ret::None
            }
            SetReady { path, ready } => {
                self.check_driver(DriverKind::Nvme, "set_ready")?;
                self.check_path(*path)?;
                let f = &self.path(*path, "set_ready").ns_flags;
                if *ready {
                    f.fetch_or(NVME_NS_READY, Ordering::Release);
                } else {
                    f.fetch_and(!NVME_NS_READY, Ordering::Release);
                }
                Ret::None
            }
            SetAnaPending { path, pending } => {
                self.check_driver(DriverKind::Nvme, "set_ana_pending")?;
                self.check_path(*path)?;
                let f = &self.path(*path, "set_ana_pending").ns_flags;
                if *pending {
                    f.fetch_or(NVME_NS_ANA_PENDING, Ordering::Release);
                } else {
                    f.fetch_and(!NVME_NS_ANA_PENDING, Ordering::Release);
                }
                Ret::None
            }
            SetNrActive { ctrl, n } => {
                self.check_ctrl(*ctrl)?;
                self.ctrls[*ctrl as usize].nr_active.store(*n, Ordering::Relaxed);
                Ret::None
            }
            SetSdevState { path, state } => {
                self.check_driver(DriverKind::Scsi, "set_sdev_state")?;
                self.check_path(*path)?;
                self.path(*path, "set_sdev_state").sdev_state.store(*state as u8, Ordering::Release);
                Ret::None
            }
            SetAluaState { path, state } => {
                self.check_driver(DriverKind::Scsi, "set_alua_state")?;
                self.check_path(*path)?;
                self.set_alua(*path, *state);
                Ret::None
            }
            ScsiBlock { path } => {
                self.check_driver(DriverKind::Scsi, "scsi_block")?;
                self.check_path(*path)?;
                self.scsi_block(*path);
                Ret::None
            }
            SetCapacity { path, sectors } => {
                self.check_path(*path)?;
                self.path(*path, "set_capacity").capacity.store(*sectors, Ordering::Relaxed);
                Ret::None
            }
            Revalidate { path } => {
                self.check_path(*path)?;
                Ret::Paths(self.drv_revalidate(*path))
            }
            Failover { path, ana_error } => {
                self.check_path(*path)?;
                Ret::Bool(self.drv_failover(*path, *ana_error))
            }
            Complete { path } => {
                self.check_path(*path)?;
                Ret::Bool(self.complete_bio(*path).is_some())
            }
            IopolicyStore { buf } => Ret::Int(self.drv_iopolicy_store(buf)),
            AddDevice { path, ctrl, ana } => {
                self.check_new_path(*path, *ctrl)?;
                let setup = PathSetup {
                    ctrl: *ctrl,
                    numa_node: self.ctrls[*ctrl as usize].numa_node.load(Ordering::Relaxed),
                    capacity: DEFAULT_CAPACITY,
                    ana: *ana,
                    alua: AluaState::Optimal,
                    fops_missing: 0,
                };
                self.lib_add_device(*path, &setup);
                Ret::None
            }
            DeleteDevice { path } => {
                self.check_path(*path)?;
                Ret::Bool(self.delete_device(*path))
            }
            FreePath { path } => {
                self.check_path(*path)?;
                self.free_path(*path);
                Ret::None
            }
            HeadDevicesEmpty => Ret::Bool(self.head_devices_empty()),
            ClearCurrentPath { path } => {
                self.check_path(*path)?;
                Ret::Bool(self.clear_current_path(*path))
            }
            ClearPaths => {
                self.clear_paths();
                Ret::None
            }
            RevalidatePaths => Ret::Paths(self.revalidate_paths(true)),
            AddSysfsLink => Ret::Paths(self.add_sysfs_link()),
            RemoveSysfsLink { path } => {
                self.check_path(*path)?;
                self.remove_sysfs_link(*path);
                Ret::None
            }
            Synchronize => {
                self.mpath_synchronize();
                Ret::None
            }
            CanRemoveHead => Ret::Bool(self.can_remove_head()),
            DelayedRemovalSecsStore { buf } => Ret::Int(self.delayed_removal_secs_store(buf)),
            DelayedRemovalSecsShow => Ret::Str(self.delayed_removal_secs_show()),
            SetIopolicy { val } => match crate::iopolicy::set_iopolicy(Some(val)) {
                Ok(i) => {
                    self.iopolicy.store(i, Ordering::Relaxed);
                    Ret::Int(0)
                }
                Err(e) => Ret::Int(e as i64),
            },
            IopolicyShow => Ret::Str(self.iopolicy_show()),
            NumaNodesShow { path } => {
                self.check_path(*path)?;
                Ret::Str(self.numa_nodes_show(*path))
            }
            CallForDevice { node } => {
                self.check_node(*node)?;
                Ret::Int(self.call_for_device(*node).0 as i64)
            }
            FindPath { node } => {
                self.check_node(*node)?;
                Ret::Path(self.find_path(*node))
            }
            SubmitBio { node } => {
                self.check_node(*node)?;
                Ret::Submit(self.submit_bio(*node))
            }
            RunWorks { node } => {
                self.check_node(*node)?;
                Ret::Works(self.run_works(*node))
            }
            AdvanceTime { secs } => {
                if *secs > 1_000_000 {
                    return Err(OpError(format!("advance_time: {secs} s is more than 1000000")));
                }
                self.work.advance(*secs);
                Ret::None
            }
            ChrIoctl { node, kind } => {
                self.check_node(*node)?;
                Ret::Int(self.chr_ioctl(*node, *kind) as i64)
            }
            UringCmd { node } => {
                self.check_node(*node)?;
                Ret::Int(self.chr_uring_cmd(*node) as i64)
            }
            Forward { node, fwd, kind } => {
                self.check_node(*node)?;
                Ret::Int(self.forward(*node, *fwd, kind.unwrap_or(IoctlKind::Ns)) as i64)
            }
        };
        Ok(r)
    }

    /// `AddDevice`: allocate a path whose disk is added and call
    /// `mpath_add_device` only (no driver follow-up).
    fn lib_add_device(&self, p: u32, s: &PathSetup) {
        self.drv_add_path_alloc_only(p, s);
        self.add_device(p);
    }

    /// Everything observable, in canonical order.
    pub fn observe(&self) -> Observation {
        let cp = self
            .topo
            .possible
            .iter()
            .map(|&n| {
                let v = if (n as usize) < self.current_path.len() { self.current_path[n as usize].load(Ordering::Acquire) } else { CP_NULL };
                match v {
                    CP_NULL => None,
                    CP_JUNK => Some(-1),
                    x => Some((x - 1) as i64),
                }
            })
            .collect();
        let live: Vec<u32> =
            (0..self.paths.len() as u32).filter(|&p| matches!(self.paths[p as usize].life(), Life::Allocated | Life::Linked | Life::Unlinked)).collect();
        let with = |pred: &dyn Fn(&crate::head::PathSlot) -> bool| -> Vec<u32> { live.iter().copied().filter(|&p| pred(&self.paths[p as usize])).collect() };
        let nvme = self.kind() == DriverKind::Nvme;
        let head_disk = match self.disk_state() {
            DiskState::None => "none",
            DiskState::ErrPtr => "err_ptr",
            DiskState::Freed => "freed",
            DiskState::Allocated if self.disk.registered() => "added",
            DiskState::Allocated => "allocated",
        };
        Observation {
            current_path: Some(cp),
            dev_list: Some(self.list_snapshot()),
            head_flags: Some(self.flags.load(Ordering::Acquire)),
            link_bits: Some(with(&|s| s.flags.load(Ordering::Acquire) & 1 != 0)),
            links: Some(lock(&self.links).iter().copied().collect()),
            ready: nvme.then(|| with(&|s| s.ns_flags.load(Ordering::Acquire) & NVME_NS_READY != 0)),
            ana_pending: nvme.then(|| with(&|s| s.ns_flags.load(Ordering::Acquire) & NVME_NS_ANA_PENDING != 0)),
            requeue_len: Some(self.requeue_len()),
            head_disk: Some(head_disk.to_string()),
            head_ref: Some(self.head_ref.load(Ordering::Acquire)),
            module_refs: Some(self.module_refs.load(Ordering::Acquire)),
            pending_work: Some(self.work.pending()),
            bios_failed: Some(self.bios_failed.load(Ordering::Relaxed)),
            violations: Some(self.violations()),
        }
    }
}
