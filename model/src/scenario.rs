//! Scenarios as data: a reference trace [`Header`] (driver, topology,
//! iopolicy and the `setup` operations that build the initial paths) plus
//! threads, each a list of driver operations in the shared [`Op`]
//! vocabulary. The initial model state is *computed by the reference*: the
//! header is instantiated, its setup run (and pending works drained), and
//! the resulting objects are read into a [`State`].

use crate::state::*;
use crate::step::Reg;
use mpath_reference::driver::{DriverKind, IoctlKind};
use mpath_reference::ops::Op;
use mpath_reference::trace::Header;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadSpec {
    /// Role name (R, D, A, B, U, T, O ...).
    pub name: String,
    pub ops: Vec<Op>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Driver, topology, iopolicy and initial paths (`setup`). The header's
    /// `revision` is only used for the setup; the checked revision is given
    /// separately.
    pub header: Header,
    pub threads: Vec<ThreadSpec>,
}

/// Shipped scenarios.
pub const SHIPPED: &[(&str, &str)] = &[
    ("R4", include_str!("../scenarios/R4.json")),
    ("R12", include_str!("../scenarios/R12.json")),
    ("S02b-library", include_str!("../scenarios/S02b-library.json")),
    ("S02b-nvme", include_str!("../scenarios/S02b-nvme.json")),
    ("S03a-A", include_str!("../scenarios/S03a-A.json")),
    ("S03a-B", include_str!("../scenarios/S03a-B.json")),
    ("S03b-library", include_str!("../scenarios/S03b-library.json")),
    ("S03b-nvme", include_str!("../scenarios/S03b-nvme.json")),
    ("S03c", include_str!("../scenarios/S03c.json")),
    ("S03c-ioctl", include_str!("../scenarios/S03c-ioctl.json")),
    ("S07", include_str!("../scenarios/S07.json")),
    ("S01", include_str!("../scenarios/S01.json")),
    ("N1", include_str!("../scenarios/N1.json")),
    ("N2a", include_str!("../scenarios/N2a.json")),
    ("N2c", include_str!("../scenarios/N2c.json")),
    ("requeue", include_str!("../scenarios/requeue.json")),
    ("quality", include_str!("../scenarios/quality.json")),
    ("remove-vs-ana", include_str!("../scenarios/remove-vs-ana.json")),
    ("delayed-removal", include_str!("../scenarios/delayed-removal.json")),
    ("requeue-teardown", include_str!("../scenarios/requeue-teardown.json")),
    ("add-vs-delayed-removal", include_str!("../scenarios/add-vs-delayed-removal.json")),
    ("add-vs-delayed-removal-scsi", include_str!("../scenarios/add-vs-delayed-removal-scsi.json")),
    ("ctrl-reset-vs-submit", include_str!("../scenarios/ctrl-reset-vs-submit.json")),
    ("failover-vs-remove", include_str!("../scenarios/failover-vs-remove.json")),
    ("scsi-state-vs-submit", include_str!("../scenarios/scsi-state-vs-submit.json")),
    ("delayed-removal-timer", include_str!("../scenarios/delayed-removal-timer.json")),
    ("scsi-delayed-removal-timer", include_str!("../scenarios/scsi-delayed-removal-timer.json")),
];

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("scenario {0:?} is not shipped (known: {1})")]
    Unknown(String, String),
    #[error("scenario {name}: {}", mpath_reference::trace::one_line(msg))]
    Invalid { name: String, msg: String },
    #[error("{0}: {1}")]
    Io(String, String),
}

impl Scenario {
    pub fn shipped_names() -> Vec<&'static str> {
        SHIPPED.iter().map(|(n, _)| *n).collect()
    }

    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        serde_json::from_str(text)
            .map_err(|e| ScenarioError::Invalid { name: "<text>".into(), msg: format!("line {}, column {}: {}", e.line(), e.column(), e) })
    }

    pub fn by_name(name: &str) -> Result<Scenario, ScenarioError> {
        let text =
            SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).ok_or_else(|| ScenarioError::Unknown(name.into(), Self::shipped_names().join(", ")))?;
        Self::parse(text).map_err(|e| match e {
            ScenarioError::Invalid { msg, .. } => ScenarioError::Invalid { name: name.into(), msg },
            e => e,
        })
    }

    /// A shipped name or a path to a JSON file.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if name_or_path.ends_with(".json") || name_or_path.contains('/') {
            let text = std::fs::read_to_string(name_or_path).map_err(|e| ScenarioError::Io(name_or_path.into(), e.to_string()))?;
            Self::parse(&text)
        } else {
            Self::by_name(name_or_path)
        }
    }

    fn invalid(&self, msg: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid { name: self.name.clone(), msg: msg.into() }
    }

    /// The header with the setup completed by draining works, as used for
    /// the initial state and for counterexample traces.
    pub fn effective_header(&self, reference_profile: &str) -> Header {
        let mut h = self.header.clone();
        h.revision = reference_profile.to_string();
        h.profile = None;
        if !h.setup.is_empty() {
            h.setup.push(Op::RunWorks { node: 0 });
        }
        h
    }

    /// Checks sizes against the model's fixed bounds.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let h = &self.header;
        if h.max_paths > MAXP {
            return Err(self.invalid(format!("max_paths {} exceeds the model's {MAXP}", h.max_paths)));
        }
        if h.nr_ctrls > MAXC {
            return Err(self.invalid(format!("nr_ctrls {} exceeds the model's {MAXC}", h.nr_ctrls)));
        }
        let n = h.topology.possible.len();
        if n > MAXN || h.topology.possible != (0..n as i32).collect::<Vec<_>>() {
            return Err(self.invalid(format!("topology: possible nodes must be 0..n with n <= {MAXN}")));
        }
        if h.topology.online != (0..h.topology.online.len() as i32).collect::<Vec<_>>() {
            return Err(self.invalid("topology: online nodes must be a prefix 0..k"));
        }
        if self.threads.is_empty() || self.threads.len() > MAXT - 1 {
            return Err(self.invalid(format!("1..={} threads", MAXT - 1)));
        }
        for t in &self.threads {
            if t.ops.len() > 32 {
                return Err(self.invalid(format!("thread {}: at most 32 operations", t.name)));
            }
            for op in &t.ops {
                op_entry(op, h.driver).map_err(|e| self.invalid(format!("thread {}: {e}", t.name)))?;
            }
        }
        Ok(())
    }

    /// The initial state, computed by the reference.
    pub fn initial_state(&self, reference_profile: &str) -> Result<State, ScenarioError> {
        self.validate()?;
        let h = self.effective_header(reference_profile);
        let sys = h.instantiate().map_err(|e| self.invalid(format!("setup: {e}")))?;
        let vs = sys.violations();
        if !vs.is_empty() {
            return Err(self.invalid(format!("setup reports violations: {vs:?}")));
        }
        let mut s = state_of_system(&sys).map_err(|e| self.invalid(e))?;
        let caps = capacity_classes(&sys);
        // A path a thread adds (`add_path`) starts allocated and unpublished:
        // the driver's namespace / scsi_device exists (its fields are what
        // the reference gives the path when it is added after the setup),
        // it is on no list and in no slot; the thread's own steps publish it.
        let mut added: Vec<u32> = Vec::new();
        for t in &self.threads {
            for op in &t.ops {
                let path = match op {
                    Op::AddPath { path, .. } | Op::AddDevice { path, .. } => path,
                    _ => continue,
                };
                let i = *path as usize;
                if i >= h.max_paths || added.contains(path) || s.paths[i].life != Life::Unused {
                    return Err(self.invalid(format!(
                        "thread {}: add_path {path}: the path slot must be unused after the setup, below max_paths, and added once",
                        t.name
                    )));
                }
                added.push(*path);
                s.paths[i] = arrival_state(&h, op, &caps).map_err(|e| self.invalid(format!("thread {}: {e}", t.name)))?;
            }
        }
        Ok(s)
    }
}

/// The model state of the path `op` (`add_path` / `add_device`) adds,
/// just before its arrival runs: allocated and unpublished (the driver's
/// namespace / scsi_device exists, with the fields the reference gives the
/// path when it is added after `h`'s setup; it is on no list and in no
/// slot; the arrival's own steps publish it). `caps` are the state's
/// capacity classes.
pub fn arrival_state(h: &Header, op: &Op, caps: &[u64]) -> Result<PathState, String> {
    let ld = std::sync::atomic::Ordering::Relaxed;
    let (path, capacity, lib) = match op {
        Op::AddPath { path, capacity, .. } => (path, *capacity, false),
        Op::AddDevice { path, .. } => (path, mpath_reference::ops::DEFAULT_CAPACITY, true),
        _ => return Err(format!("{op:?} adds no path")),
    };
    let i = *path as usize;
    let mut h2 = h.clone();
    h2.setup.push(op.clone());
    let sys2 = h2.instantiate().map_err(|e| format!("add_path {path}: {e}"))?;
    let p2 = &sys2.paths[i];
    let cap = caps.iter().position(|&x| x == capacity).ok_or_else(|| format!("add_path {path}: capacity {capacity} must be one the setup already uses"))?;
    // `add_device` (a library call): the path as the driver
    // prepared it before mpath_add_device (the reference's
    // flags, ANA and access state); `add_path`: a fresh namespace
    // (zeroed: not READY, ANA state unset) whose disk pointer is set.
    let mut bits = 1 << pbit::HAS_DISK;
    let (mut ana, mut access) = (None, AccessState::Optimized);
    if lib {
        let ns = p2.ns_flags.load(ld);
        if ns & mpath_reference::driver::NVME_NS_READY != 0 {
            bits |= 1 << pbit::READY;
        }
        if ns & mpath_reference::driver::NVME_NS_ANA_PENDING != 0 {
            bits |= 1 << pbit::ANA_PENDING;
        }
        // Its disk added, the namespace is on ctrl->namespaces, as
        // `state_of_system` reads an allocated path whose disk is added
        // (the reference's `on_ctrl_namespaces`).
        if p2.disk_added.load(ld) {
            bits |= 1 << pbit::DISK_ADDED | 1 << pbit::ON_CTRL;
        }
        ana = Some(p2.ana());
        access = p2.access();
    } else if h.driver == DriverKind::Nvme && matches!(op, Op::AddPath { ana: None, .. }) {
        // No ANA descriptor yet: the arrival leaves the namespace's ANA
        // state as allocated (ANA_PENDING set); the reference's (and the
        // KUnit harness's) allocation default, OPTIMIZED, is what
        // `is_optimized` then reads.
        ana = Some(p2.ana());
        access = p2.access();
    } else if h.driver == DriverKind::Scsi {
        // `sd_probe` adds the scsi disk before its multipath part (the
        // steps the model runs): the path's disk is added when they start,
        // as the reference's `drv_add_path` has it before
        // `mpath_add_device`.
        bits |= 1 << pbit::DISK_ADDED | 1 << pbit::ON_CTRL;
    }
    Ok(PathState {
        life: Life::Allocated,
        bits,
        ana,
        access,
        sdev: Some(p2.sdev()),
        alua: p2.alua(),
        ctrl: p2.ctrl.load(ld) as u8,
        numa: p2.numa_node.load(ld) as i8,
        cap: cap as u8,
        next: POISON,
        prev: POISON,
        ..PathState::default()
    })
}

/// The capacities the state's capacity classes index (`0`, the head
/// disk's, every path's), ascending.
pub fn capacity_classes(sys: &mpath_reference::head::System) -> Vec<u64> {
    let mut caps: Vec<u64> = vec![0, sys.disk.capacity.load(std::sync::atomic::Ordering::Relaxed)];
    for p in &sys.paths {
        caps.push(p.capacity.load(std::sync::atomic::Ordering::Relaxed));
    }
    caps.sort_unstable();
    caps.dedup();
    caps
}

/// The model state holding what the reference system `sys` holds (paths,
/// list, `current_path[]`, head and disk, controllers, pending works).
/// Errors name what the model cannot represent (e.g. an unlinked path).
pub fn state_of_system(sys: &mpath_reference::head::System) -> Result<State, String> {
    let caps = capacity_classes(sys);
    let cls = |c: u64| caps.iter().position(|&x| x == c).unwrap_or(0) as u8;
    let ld = std::sync::atomic::Ordering::Relaxed;
    let mut s = State {
        paths: [PathState::default(); MAXP],
        ctrls: [Ctrl::default(); MAXC],
        head_next: LHEAD,
        head_prev: LHEAD,
        cp: [0; MAXN],
        head_bits: 0,
        head_life: match sys.head_life() {
            Life::Freed => Life::Freed,
            _ => Life::Allocated,
        },
        head_ref: sys.head_ref.load(ld) as i8,
        head_cap: cls(sys.disk.capacity.load(ld)),
        disk: sys.disk_state(),
        links: 0,
        requeue: sys.requeue_len().min(7) as u8,
        pending: 0,
        mutex: [0; 2],
        iopolicy: sys.get_iopolicy().ok_or_else(|| format!("iopolicy {} names no policy", sys.iopolicy.load(ld)))?,
        nr_active: [0; MAXC],
        q_freeze: 0,
        timer: 0,
        removal_secs: sys.delayed_removal_secs.load(ld).min(255) as u8,
        viol: 0,
        threads: [Thread::default(); MAXT],
    };
    s.head_bits = head_bits_of(sys);
    for (c, ctrl) in sys.ctrls.iter().enumerate().take(MAXC) {
        s.ctrls[c] = Ctrl::new(ctrl.state(), ctrl.failfast_expired.load(ld));
        s.nr_active[c] = nr_active_value(ctrl.nr_active.load(ld));
    }
    for (i, p) in sys.paths.iter().enumerate() {
        s.paths[i] = path_state_of(p, &cls)?;
    }
    link_list(&mut s, &sys.list_snapshot());
    observed(&mut s, sys);
    Ok(s)
}

/// The head's flag bits in the reference system.
fn head_bits_of(sys: &mpath_reference::head::System) -> u8 {
    let ld = std::sync::atomic::Ordering::Relaxed;
    let flags = sys.flags.load(ld);
    let mut hb = 0u8;
    if flags & 1 != 0 {
        hb |= 1 << hbit::DISK_LIVE;
    }
    if flags & 2 != 0 {
        hb |= 1 << hbit::QUEUE_IF_NO_PATH;
    }
    if sys.disk.registered() {
        hb |= 1 << hbit::GD_ADDED;
    }
    if sys.disk.suppress_part_scan.load(ld) {
        hb |= 1 << hbit::SUPPRESS_PART_SCAN;
    }
    if sys.disk.cdev_live.load(ld) {
        hb |= 1 << hbit::CDEV_LIVE;
    }
    hb
}

/// A reference path slot as the model's path state (not yet on the list:
/// `next` / `prev` poisoned); a path the setup left unlinked is refused.
fn path_state_of(p: &mpath_reference::head::PathSlot, cls: &dyn Fn(u64) -> u8) -> Result<PathState, String> {
    let ld = std::sync::atomic::Ordering::Relaxed;
    let l = p.life();
    let mut bits = 0u8;
    let f = p.flags.load(ld);
    let ns = p.ns_flags.load(ld);
    if f & 1 != 0 {
        bits |= 1 << pbit::LINK;
    }
    if ns & mpath_reference::driver::NVME_NS_READY != 0 {
        bits |= 1 << pbit::READY;
    }
    if ns & mpath_reference::driver::NVME_NS_ANA_PENDING != 0 {
        bits |= 1 << pbit::ANA_PENDING;
    }
    if ns & mpath_reference::driver::NVME_NS_REMOVING != 0 {
        bits |= 1 << pbit::REMOVING;
    }
    let added = p.disk_added.load(ld);
    if added {
        bits |= 1 << pbit::DISK_ADDED;
    }
    if added && matches!(p.life(), Life::Linked | Life::Unlinked | Life::Allocated) {
        bits |= 1 << pbit::ON_CTRL;
    }
    if p.has_disk.load(ld) {
        bits |= 1 << pbit::HAS_DISK;
    }
    let mut ps = PathState {
        life: l,
        bits,
        ana: Some(p.ana()),
        access: p.access(),
        sdev: Some(p.sdev()),
        alua: p.alua(),
        ctrl: p.ctrl.load(ld) as u8,
        numa: p.numa_node.load(ld) as i8,
        cap: cls(p.capacity.load(ld)),
        next: POISON,
        prev: POISON,
        inflight: 0,
        counted: 0,
        claimed: 0,
    };
    // Requests the setup left in flight (oldest first), and which of
    // them were counted in nr_active at start.
    for (k, &bio) in mpath_reference::sync::lock(&p.inflight).iter().take(7).enumerate() {
        ps.inflight += 1;
        if bio & mpath_reference::io::BIO_COUNTED != 0 {
            ps.counted |= 1 << k;
        }
    }
    if matches!(p.life(), Life::Unlinked) {
        return Err("setup leaves an unlinked path; not supported".into());
    }
    Ok(ps)
}

/// Link the paths of `list` (path ids in list order) into `s`'s dev_list.
fn link_list(s: &mut State, list: &[u32]) {
    let mut prev = LHEAD;
    for &p in list {
        s.paths[p as usize].prev = prev;
        if prev == LHEAD {
            s.head_next = p as u8 + 1;
        } else {
            s.paths[(prev - 1) as usize].next = p as u8 + 1;
        }
        prev = p as u8 + 1;
    }
    if let Some(&last) = list.last() {
        s.paths[last as usize].next = LHEAD;
    }
    s.head_prev = prev;
}

/// What the reference's observation gives: sysfs links, `current_path[]`,
/// pending works and the removal timer.
fn observed(s: &mut State, sys: &mpath_reference::head::System) {
    let ld = std::sync::atomic::Ordering::Relaxed;
    let obs = sys.observe();
    for &l in obs.links.clone().unwrap_or_default().iter() {
        s.links |= 1 << l;
    }
    if let Some(cp) = obs.current_path {
        for (n, v) in cp.iter().enumerate().take(MAXN) {
            s.cp[n] = match v {
                None => 0,
                Some(-1) => crate::step::JUNK,
                Some(x) => *x as u8 + 1,
            };
        }
    }
    for w in obs.pending_work.unwrap_or_default() {
        // An armed removal timer (`remove_head@AT`) is held with the
        // seconds left; a machine without a clock queues its work at once
        // (`Machine::with_init`).
        if let Some(at) = w.strip_prefix("remove_head@") {
            let now = sys.work.now.load(ld);
            let left = at.parse::<u64>().unwrap_or(u64::MAX).saturating_sub(now);
            s.timer = left.clamp(1, 255) as u8;
            continue;
        }
        let k = match w.as_str() {
            "requeue" => crate::step::WorkKind::Requeue,
            "partition_scan" => crate::step::WorkKind::PartitionScan,
            _ => crate::step::WorkKind::RemoveHead,
        };
        s.pending |= k.bit();
    }
}
/// `ctrl->nr_active` (an `atomic_t`, read by the queue-depth selector
/// into an `unsigned int`) as the model stores it: 0..=253 as is (larger
/// values saturate), -1 (`UINT_MAX`: never below the selector's initial
/// minimum) as 255, other negative values (huge, but below `UINT_MAX`) as
/// 254.
pub fn nr_active_value(n: i32) -> u8 {
    match n {
        -1 => 255,
        n if n < 0 => 254,
        n => n.min(253) as u8,
    }
}

/// An operation's entry function and argument registers.
pub type OpEntry = (&'static str, Vec<(Reg, u8)>);

/// The entry function and argument registers for one driver operation.
///
/// Every `Op` of the trace vocabulary has an entry here for each driver
/// the reference accepts it on, except the ones listed at the end with the
/// reason they cannot be a thread's operation (README-model.md, "Every
/// operation in a thread").
pub fn op_entry(op: &Op, driver: DriverKind) -> Result<OpEntry, String> {
    let p = |x: u32| (Reg::Path, x as u8 + 1);
    let n = |x: i32| (Reg::Node, x as u8);
    // A controller (NVMe) / host (SCSI) index, for controller fields.
    let c = |x: u32| (Reg::Data, x.min(255) as u8);
    let nvme = driver == DriverKind::Nvme;
    let only = |name: &str, d: DriverKind| {
        Err(format!("operation {name} is {}-only (the reference refuses it on {:?})", if d == DriverKind::Nvme { "NVMe" } else { "SCSI" }, driver))
    };
    Ok(match op {
        Op::SubmitBio { node } => ("mpath_bdev_submit_bio", vec![n(*node)]),
        Op::FindPath { node } => ("op_find_path", vec![n(*node)]),
        Op::RemovePath { path, node } => (if nvme { "nvme_ns_remove" } else { "sd_mpath_remove" }, vec![p(*path), n(*node)]),
        Op::AnaUpdate { path, state } if nvme => ("nvme_update_ana_state", vec![p(*path), (Reg::Arg, *state as u8)]),
        Op::AnaUpdate { .. } => return only("ana_update", DriverKind::Nvme),
        Op::SetLive { path } => ("mpath_device_set_live", vec![p(*path)]),
        Op::RemoveDisk => ("mpath_remove_disk", vec![]),
        Op::Failover { path, ana_error } => (if nvme { "nvme_failover_req" } else { "scsi_mpath_clone_end_io" }, vec![p(*path), (Reg::Arg, *ana_error as u8)]),
        // The oldest request in flight on the path completes successfully:
        // NVMe nvme_complete_rq, SCSI the clone's successful end
        // (scsi_mpath_clone_end_io's bio_endio branch, the request's
        // scsi_mpath_end_request).
        Op::Complete { path } => (if nvme { "nvme_complete_rq" } else { "scsi_mpath_end_request" }, vec![p(*path)]),
        // mpath_iopolicy_store matches a name exactly (sysfs_streq); an
        // invalid value returns -EINVAL before touching anything.
        Op::IopolicyStore { buf } => match IoPolicy::ALL.into_iter().find(|p| mpath_reference::iopolicy::sysfs_streq(buf, p.name())) {
            Some(pol) => (if nvme { "nvme_subsys_iopolicy_store" } else { "scsi_iopolicy_store" }, vec![(Reg::Arg, pol as u8)]),
            None => ("op_sysfs_store_invalid", vec![]),
        },
        // NVMe nvme_update_ns_info on the head; SCSI sd_mpath_revalidate_head.
        Op::Revalidate { path } => (if nvme { "nvme_update_ns_info" } else { "sd_mpath_revalidate_head" }, vec![p(*path)]),
        // SCSI provides no cdev: the reference answers -ENOTTY without
        // touching anything (mpath_chr_ioctl_no_cdev).
        Op::ChrIoctl { node, kind } => (if nvme { "mpath_chr_ioctl" } else { "mpath_chr_ioctl_no_cdev" }, vec![n(*node), (Reg::Arg, (*kind == IoctlKind::Ctrl) as u8)]),
        Op::UringCmd { node } => ("mpath_chr_uring_cmd", vec![n(*node)]),
        Op::Forward { node, fwd: mpath_reference::fwd::FwdOp::Ioctl, kind } => {
            ("mpath_bdev_ioctl", vec![n(*node), (Reg::Arg, (kind.unwrap_or(IoctlKind::Ns) == IoctlKind::Ctrl && nvme) as u8)])
        }
        // PR ops, report_zones, getgeo, get_unique_id: the shared
        // forwarding path (select under SRCU, call the path disk's op).
        Op::Forward { node, .. } => ("mpath_bdev_forward", vec![n(*node)]),
        Op::Release => ("mpath_put_head", vec![]),
        Op::HeadUninit => ("mpath_head_uninit", vec![]),
        Op::ScsiBlock { path } if !nvme => ("scsi_internal_device_block", vec![p(*path)]),
        Op::ScsiBlock { .. } => return only("scsi_block", DriverKind::Scsi),
        Op::DeleteDevice { path } => ("mpath_delete_device", vec![p(*path)]),
        Op::AddSysfsLink => ("mpath_add_sysfs_link", vec![]),
        Op::RemoveSysfsLink { path } => ("mpath_remove_sysfs_link", vec![p(*path)]),
        Op::ClearCurrentPath { path } => ("mpath_clear_current_path", vec![p(*path)]),
        Op::ClearPaths => ("mpath_clear_paths", vec![]),
        Op::Synchronize => ("mpath_synchronize", vec![]),
        Op::HeadDevicesEmpty => ("mpath_head_devices_empty", vec![]),
        Op::CanRemoveHead => ("mpath_can_remove_head", vec![]),
        Op::RevalidatePaths => ("mpath_revalidate_paths", vec![]),
        Op::CallForDevice { node } => ("mpath_call_for_device", vec![n(*node)]),
        // kstrtouint fails before the lock: nothing is touched.
        Op::DelayedRemovalSecsStore { buf } => match mpath_reference::removal::kstrtouint(buf) {
            // The seconds, saturating at 255 (the timer's "never").
            Ok(secs) => ("mpath_delayed_removal_secs_store", vec![(Reg::Arg, secs.min(255) as u8)]),
            Err(_) => ("op_sysfs_store_invalid", vec![]),
        },
        Op::DelayedRemovalSecsShow => ("mpath_delayed_removal_secs_show", vec![]),
        Op::IopolicyShow => ("mpath_iopolicy_show", vec![]),
        Op::SetIopolicy { val } => match mpath_reference::iopolicy::set_iopolicy(Some(val)) {
            Ok(pol) => ("mpath_set_iopolicy", vec![(Reg::Arg, pol as u8)]),
            Err(_) => ("op_sysfs_store_invalid", vec![]),
        },
        Op::FreePath { path } => ("op_free_path", vec![p(*path)]),
        Op::SetReady { path, ready } if nvme => ("op_set_ready", vec![p(*path), (Reg::Arg, *ready as u8)]),
        Op::SetReady { .. } => return only("set_ready", DriverKind::Nvme),
        Op::SetAnaPending { path, pending } if nvme => ("op_set_ana_pending", vec![p(*path), (Reg::Arg, *pending as u8)]),
        Op::SetAnaPending { .. } => return only("set_ana_pending", DriverKind::Nvme),
        // Path arrival: NVMe nvme_alloc_ns (nvme_init_ns_head ->
        // mpath_add_device, then nvme_mpath_add_disk with the ANA state of
        // the path's group; absent = no descriptor yet: ANA_PENDING); SCSI
        // sd_mpath_add_disk (mpath_add_device, then set_live at once).
        Op::AddPath { path, ana, .. } if nvme => ("nvme_alloc_ns", vec![p(*path), (Reg::Arg, ana.map(|a| a as u8).unwrap_or(0))]),
        Op::AddPath { path, .. } => ("sd_probe", vec![p(*path)]),
        Op::AddDevice { path, .. } => ("mpath_add_device", vec![p(*path)]),
        // A raw store of the namespace's ANA state and access state.
        Op::SetAnaState { path, state } if nvme => ("op_set_ana_state", vec![p(*path), (Reg::Arg, *state as u8)]),
        Op::SetAnaState { .. } => return only("set_ana_state", DriverKind::Nvme),
        // A controller state change: nvme_change_ctrl_state (6.12's
        // transition table and requeue kick on revisions whose reference
        // has the state machine; a raw store on the others, as their
        // reference does).
        Op::SetCtrlState { ctrl, state } if nvme => ("nvme_change_ctrl_state", vec![c(*ctrl), (Reg::Arg, *state as u8)]),
        Op::SetCtrlState { .. } => return only("set_ctrl_state", DriverKind::Nvme),
        Op::SetFailfast { ctrl, expired } if nvme => ("op_set_failfast", vec![c(*ctrl), (Reg::Arg, *expired as u8)]),
        Op::SetFailfast { .. } => return only("set_failfast", DriverKind::Nvme),
        Op::SetNrActive { ctrl, n: k } => ("op_set_nr_active", vec![c(*ctrl), (Reg::Arg, nr_active_value(*k))]),
        Op::SetSdevState { path, state } if !nvme => ("op_set_sdev_state", vec![p(*path), (Reg::Arg, *state as u8)]),
        Op::SetSdevState { .. } => return only("set_sdev_state", DriverKind::Scsi),
        Op::SetAluaState { path, state } if !nvme => ("op_set_alua_state", vec![p(*path), (Reg::Arg, *state as u8)]),
        Op::SetAluaState { .. } => return only("set_alua_state", DriverKind::Scsi),
        // Time passes (seconds, saturating at 255): the delayed removal's
        // timer expires when its delay is reached.
        Op::AdvanceTime { secs } => ("op_advance_time", vec![(Reg::Arg, (*secs).min(255) as u8)]),
        // Not a thread's operation, and why.
        Op::RunWorks { .. } => return Err("operation run_works is the worker's: in a scenario the worker starts every queued work at any point".into()),
        Op::AllocHeadDisk { .. } | Op::FailNextAddDisk | Op::PutDisk | Op::Open => {
            return Err(format!("operation {op:?} is not modelled for {driver:?}: the head disk's allocation, device_add_disk failure injection, mpath_put_disk and open (kref_get_unless_zero) have no step in the step language; put them in the header's setup"))
        }
        Op::SetCtrlNode { .. } => return Err("operation set_ctrl_node is not modelled: the state keeps each path's NUMA node (copied at add), not the controller's".into()),
        Op::SetCapacity { .. } => return Err("operation set_capacity is not modelled in a thread: capacities are classes computed from the setup; use a capacity the setup gives a path".into()),
        Op::NumaNodesShow { .. } => return Err("operation numa_nodes_show is not modelled: it formats a node list (reads only current_path[], no step of its own)".into()),
    })
}
