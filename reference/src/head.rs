//! `struct mpath_head` and the objects around it, as one shared-memory
//! [`System`]: the head (SRCU, `dev_list`, lock, kref, requeue list, flags,
//! `current_path[]`), its gendisk, the path objects (`mpath_device` plus the
//! driver's per-path state), the controllers / hosts, the sysfs namespace,
//! the work queues and the violation log.
//!
//! Objects are never really freed: each has a lifecycle, and every access
//! goes through a checked accessor that reports a typed [`Violation`] when
//! the object is freed (or the disk is NULL) and then goes on with the stale
//! values, as the kernel would.

pub use crate::driver::Ctrl;
use crate::driver::{predicates::PathView, AccessState, AluaState, AnaState, DevView, DriverKind, SdevState, NVME_NS_ANA_PENDING, NVME_NS_READY};
use crate::rculist::RcuList;
use crate::revision::{CurrentPathSize, Profile};
use crate::srcu::Srcu;
use crate::sync::{lock, AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicU8, Mutex, Ordering};
use crate::topology::Topology;
use crate::violation::{Kind, Object, Violation};
use crate::work::WorkQueue;
use std::collections::{BTreeSet, VecDeque};
use std::ops::ControlFlow;

/// Lifecycle of a path or head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Life {
    Unused = 0,
    Allocated = 1,
    Linked = 2,
    Unlinked = 3,
    Freed = 4,
}

impl Life {
    fn from_u8(x: u8) -> Life {
        match x {
            1 => Life::Allocated,
            2 => Life::Linked,
            3 => Life::Unlinked,
            4 => Life::Freed,
            _ => Life::Unused,
        }
    }
}

/// Head gendisk state (`head->disk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum DiskState {
    /// `head->disk == NULL`.
    None = 0,
    /// `blk_alloc_disk` failed: `head->disk` holds an `ERR_PTR`.
    ErrPtr = 1,
    Allocated = 2,
    /// `put_disk` ran: the gendisk memory is gone.
    Freed = 3,
}

/// `MPATH_HEAD_DISK_LIVE` and `MPATH_HEAD_QUEUE_IF_NO_PATH`.
pub const HEAD_DISK_LIVE: u32 = 0;
pub const HEAD_QUEUE_IF_NO_PATH: u32 = 1;
/// `MPATH_DEVICE_SYSFS_ATTR_LINK`.
pub const DEVICE_SYSFS_ATTR_LINK: u32 = 0;

/// Encoded `current_path[]` values.
pub const CP_NULL: u32 = 0;
/// An uninitialised pointer (v1 R12).
pub const CP_JUNK: u32 = u32::MAX - 1;

/// One path: `struct mpath_device` plus the driver's per-path state.
pub struct PathSlot {
    pub life: AtomicU8,
    pub flags: AtomicU32,
    pub numa_node: AtomicI32,
    pub access_state: AtomicU8,
    /// `dev->disk != NULL`.
    pub has_disk: AtomicBool,
    /// `GD_ADDED` on the path disk.
    pub disk_added: AtomicBool,
    pub capacity: AtomicU64,
    /// Controller (NVMe) or host (SCSI) index.
    pub ctrl: AtomicU32,
    pub ns_flags: AtomicU32,
    pub ana_state: AtomicU8,
    pub sdev_state: AtomicU8,
    pub alua_state: AtomicU8,
    /// Bios in flight on this path (ids), oldest first.
    pub inflight: Mutex<VecDeque<u32>>,
    /// Forwarded ops the path disk's fops lack (`FwdOp::bit`).
    pub fops_missing: AtomicU32,
}

impl PathSlot {
    fn new() -> Self {
        PathSlot {
            life: AtomicU8::new(Life::Unused as u8),
            flags: AtomicU32::new(0),
            numa_node: AtomicI32::new(-1),
            access_state: AtomicU8::new(AccessState::Optimized as u8),
            has_disk: AtomicBool::new(false),
            disk_added: AtomicBool::new(false),
            capacity: AtomicU64::new(0),
            ctrl: AtomicU32::new(0),
            ns_flags: AtomicU32::new(0),
            ana_state: AtomicU8::new(AnaState::Optimized as u8),
            sdev_state: AtomicU8::new(SdevState::Running as u8),
            alua_state: AtomicU8::new(AluaState::Optimal as u8),
            inflight: Mutex::new(VecDeque::new()),
            fops_missing: AtomicU32::new(0),
        }
    }
    pub fn life(&self) -> Life {
        Life::from_u8(self.life.load(Ordering::Acquire))
    }
    pub fn ana(&self) -> AnaState {
        AnaState::from_u8(self.ana_state.load(Ordering::Relaxed)).unwrap_or(AnaState::Change)
    }
    pub fn sdev(&self) -> SdevState {
        SdevState::from_u8(self.sdev_state.load(Ordering::Relaxed)).unwrap_or(SdevState::Offline)
    }
    pub fn alua(&self) -> AluaState {
        AluaState::from_u8(self.alua_state.load(Ordering::Relaxed)).unwrap_or(AluaState::Unavailable)
    }
    pub fn access(&self) -> AccessState {
        AccessState::from_u8(self.access_state.load(Ordering::Relaxed)).unwrap_or(AccessState::Other)
    }
}

/// How a bounded list walk ([`System::walk_bounded`]) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Walk<B> {
    /// No next entry.
    Ended,
    /// The visitor stopped the walk with this value.
    Stopped(B),
    /// Past the loop bound: the list as read has a cycle (the caller
    /// reports it or stops, as its kernel counterpart would spin).
    Overran,
}

/// One visit of a path: the path checked once ([`System::dev`], which
/// reports a freed path), then read through this view without further
/// checks. The template's callbacks get it as their [`DevView`]. Reads are
/// raw: the driver states are compared as `u8`, the access state decoded
/// once per read ([`Dev::access`]).
pub struct Dev<'a> {
    pub id: u32,
    pub slot: &'a PathSlot,
    ctrls: &'a [Ctrl],
}

impl<'a> Dev<'a> {
    /// `dev->access_state`, decoded once.
    #[inline]
    pub fn access(&self) -> AccessState {
        self.slot.access()
    }
}

impl PathView for Dev<'_> {
    #[inline]
    fn ctrl_state(&self) -> u8 {
        self.ctrl().1.state.load(Ordering::Acquire)
    }
    #[inline]
    fn failfast_expired(&self) -> bool {
        self.ctrl().1.failfast_expired.load(Ordering::Relaxed)
    }
    #[inline]
    fn ns_flags(&self) -> (bool, bool) {
        let f = self.slot.ns_flags.load(Ordering::Acquire);
        (f & NVME_NS_READY != 0, f & NVME_NS_ANA_PENDING != 0)
    }
    #[inline]
    fn ana(&self) -> u8 {
        self.slot.ana_state.load(Ordering::Relaxed)
    }
    #[inline]
    fn sdev(&self) -> u8 {
        self.slot.sdev_state.load(Ordering::Relaxed)
    }
    #[inline]
    fn alua(&self) -> u8 {
        self.slot.alua_state.load(Ordering::Relaxed)
    }
}

impl DevView for Dev<'_> {
    #[inline]
    fn ctrl(&self) -> (u32, &Ctrl) {
        let ci = self.slot.ctrl.load(Ordering::Relaxed);
        match self.ctrls.get(ci as usize) {
            Some(c) => (ci, c),
            // An index past the table reads the last controller (as `ctrl_of`).
            None => (self.ctrls.len() as u32 - 1, &self.ctrls[self.ctrls.len() - 1]),
        }
    }
    fn clear_ns_ready(&self) {
        self.slot.ns_flags.fetch_and(!NVME_NS_READY, Ordering::Release);
    }
}

/// The head gendisk and the cdev.
pub struct HeadDisk {
    pub state: AtomicU8,
    /// `GD_ADDED`: set by `device_add_disk` and, as on 6.12, never cleared.
    pub gd_added: AtomicBool,
    /// `GD_DEAD`: set by `del_gendisk` (`blk_mark_disk_dead`).
    pub gd_dead: AtomicBool,
    pub suppress_part_scan: AtomicBool,
    pub capacity: AtomicU64,
    pub cdev_live: AtomicBool,
    /// Error injection: the next `device_add_disk` fails.
    pub fail_next_add: AtomicBool,
    pub partition_scans: AtomicU32,
}

impl HeadDisk {
    /// Registered with the block layer: added and not yet deleted.
    pub fn registered(&self) -> bool {
        self.gd_added.load(Ordering::Acquire) && !self.gd_dead.load(Ordering::Acquire)
    }
}

/// The driver's hold on the head (`head->drv_module`, the NVMe
/// `subsys->nsheads` entry, the SCSI `sd_mpath_disk`).
pub struct DriverHead {
    /// `head->drv_module` was set by the driver (NVMe and SCSI both set it).
    pub drv_module_set: bool,
    /// Module references held through `drv_module`.
    pub module_refs: AtomicI32,
    /// The NVMe head is on `subsys->nsheads` / the SCSI `sd_mpath_disk` is listed.
    pub head_listed: AtomicBool,
    /// SCSI `sd_mpath_disk->disk_count`.
    pub disk_count: AtomicI32,
}

/// Counters: bio ids and completions (the harness's accounting), v3's
/// counters, and misuse the kernel tolerates (counted, not a violation).
pub struct Counters {
    /// The next bio id.
    pub next_bio: AtomicU32,
    pub bios_completed: AtomicU64,
    /// v3 `requeue_no_usable_path_cnt`.
    pub requeue_no_usable_path_cnt: AtomicU64,
    /// v3 `fail_no_avail_path_cnt`.
    pub fail_no_avail_path_cnt: AtomicU64,
    /// Removals of a missing link (recorded, not an error in sysfs).
    pub link_remove_missing: AtomicU32,
    /// `del_gendisk` on a disk that was not added (WARN_ON_ONCE in 6.12).
    pub del_gendisk_not_added: AtomicU32,
}

/// Configuration of a [`System`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    pub profile: Profile,
    pub driver: DriverKind,
    pub topology: Topology,
    /// Number of path slots (the largest path id + 1 a trace may use).
    pub max_paths: usize,
    /// Number of controllers (NVMe) or hosts (SCSI).
    pub nr_ctrls: usize,
}

impl Config {
    pub fn new(profile: Profile, driver: DriverKind, topology: Topology, max_paths: usize, nr_ctrls: usize) -> Config {
        Config { profile, driver, topology, max_paths, nr_ctrls }
    }
}

pub struct System {
    pub profile: Profile,
    /// The driver's template (`head->mpdt`).
    pub drv: DriverKind,
    pub topo: Topology,
    pub srcu: Srcu,
    pub dev_list: RcuList,
    /// `head->lock`.
    pub lock: Mutex<()>,
    pub head_life: AtomicU8,
    /// `head->ref` (kref / refcount).
    pub head_ref: AtomicI32,
    pub requeue_list: Mutex<VecDeque<u32>>,
    pub flags: AtomicU32,
    pub disk: HeadDisk,
    pub current_path: Vec<AtomicU32>,
    pub delayed_removal_secs: AtomicU32,
    /// The driver's hold on the head: module references, listing.
    pub drv_head: DriverHead,
    /// The iopolicy as the kernel keeps it, an int (`IoPolicy as u8`; raw,
    /// so a test can store one naming no policy): read it with
    /// [`System::get_iopolicy`], write it with [`System::store_iopolicy`].
    pub iopolicy: AtomicU8,
    /// Existing `multipath/<path>` links, by path id.
    pub links: Mutex<BTreeSet<u32>>,
    pub paths: Vec<PathSlot>,
    pub ctrls: Vec<Ctrl>,
    pub work: WorkQueue,
    pub violations: Mutex<Vec<Violation>>,
    /// Trace step being executed (for violation reports).
    pub step: AtomicU64,
    /// Bios failed back to the submitter (observable: `Observation::bios_failed`;
    /// the model's replay reads it here, so it stays out of [`Counters`]).
    pub bios_failed: AtomicU64,
    /// Bio ids, completions, v3's counters and tolerated misuse.
    pub counters: Counters,
}

impl System {
    /// `mpath_alloc_head()` plus the driver's head set-up. The head disk is
    /// not allocated: see `alloc_head_disk`.
    pub fn new(cfg: &Config) -> System {
        let nslots = match cfg.profile.current_path_size {
            CurrentPathSize::MaxNumnodes => 64,
            CurrentPathSize::PossibleNodes => cfg.topology.num_possible_nodes(),
            CurrentPathSize::NrNodeIds => cfg.topology.nr_node_ids(),
        };
        System {
            profile: cfg.profile.clone(),
            drv: cfg.driver,
            topo: cfg.topology.clone(),
            srcu: Srcu::new(),
            dev_list: RcuList::new(cfg.max_paths),
            lock: Mutex::new(()),
            head_life: AtomicU8::new(Life::Allocated as u8),
            head_ref: AtomicI32::new(1),
            requeue_list: Mutex::new(VecDeque::new()),
            flags: AtomicU32::new(0),
            disk: HeadDisk {
                state: AtomicU8::new(DiskState::None as u8),
                gd_added: AtomicBool::new(false),
                gd_dead: AtomicBool::new(false),
                suppress_part_scan: AtomicBool::new(false),
                capacity: AtomicU64::new(0),
                cdev_live: AtomicBool::new(false),
                fail_next_add: AtomicBool::new(false),
                partition_scans: AtomicU32::new(0),
            },
            current_path: (0..nslots).map(|_| AtomicU32::new(CP_NULL)).collect(),
            delayed_removal_secs: AtomicU32::new(0),
            drv_head: DriverHead { drv_module_set: true, module_refs: AtomicI32::new(0), head_listed: AtomicBool::new(true), disk_count: AtomicI32::new(0) },
            iopolicy: AtomicU8::new(0),
            links: Mutex::new(BTreeSet::new()),
            paths: (0..cfg.max_paths).map(|_| PathSlot::new()).collect(),
            ctrls: (0..cfg.nr_ctrls.max(1)).map(|_| Ctrl::new()).collect(),
            work: WorkQueue::new(),
            violations: Mutex::new(Vec::new()),
            step: AtomicU64::new(0),
            bios_failed: AtomicU64::new(0),
            counters: Counters {
                next_bio: AtomicU32::new(0),
                bios_completed: AtomicU64::new(0),
                requeue_no_usable_path_cnt: AtomicU64::new(0),
                fail_no_avail_path_cnt: AtomicU64::new(0),
                link_remove_missing: AtomicU32::new(0),
                del_gendisk_not_added: AtomicU32::new(0),
            },
        }
    }

    pub fn kind(&self) -> DriverKind {
        self.drv
    }

    #[cold]
    #[inline(never)]
    pub fn violate(&self, kind: Kind, object: Object, function: &str) {
        let v = Violation { kind, object, function: function.to_string(), step: self.step.load(Ordering::Relaxed) };
        let mut g = lock(&self.violations);
        if !g.contains(&v) {
            g.push(v);
        }
    }

    pub fn violations(&self) -> Vec<Violation> {
        lock(&self.violations).clone()
    }

    /// Checked access to a path object.
    #[inline]
    pub fn path(&self, p: u32, function: &str) -> &PathSlot {
        let s = &self.paths[p as usize];
        // Freed, Unused (and any byte that is not a life) are not accessible.
        if !(Life::Allocated as u8..=Life::Unlinked as u8).contains(&s.life.load(Ordering::Acquire)) {
            self.violate(Kind::UseAfterFree, Object::Path(p), function);
        }
        s
    }

    /// One visit of path `p` by `function`: the path checked once (a freed
    /// path is reported), then read through the returned view.
    #[inline]
    pub fn dev(&self, p: u32, function: &str) -> Dev<'_> {
        Dev { id: p, slot: self.path(p, function), ctrls: &self.ctrls }
    }

    /// The one bounded RCU list walk: visits `first`, then `succ(p)` of
    /// each visited `p`, every entry checked once ([`System::dev`]), until
    /// `succ` gives none, `visit` breaks, or the walk passes the bound of
    /// `2 * capacity + 2` visits (a correct walk visits each path at most
    /// once, or once around for round-robin).
    #[inline]
    pub fn walk_bounded<B>(
        &self,
        first: Option<u32>,
        function: &str,
        mut succ: impl FnMut(u32) -> Option<u32>,
        mut visit: impl FnMut(&Dev<'_>) -> ControlFlow<B>,
    ) -> Walk<B> {
        let bound = 2 * self.dev_list.capacity() + 2;
        let mut cur = first;
        let mut n = 0;
        while let Some(p) = cur {
            n += 1;
            if n > bound {
                return Walk::Overran;
            }
            if let ControlFlow::Break(b) = visit(&self.dev(p, function)) {
                return Walk::Stopped(b);
            }
            cur = succ(p);
        }
        Walk::Ended
    }

    /// `list_for_each_entry_srcu(dev, &head->dev_list, siblings)`, bounded
    /// ([`System::walk_bounded`]). The caller holds SRCU.
    #[inline]
    pub fn walk_dev_list<B>(&self, function: &str, visit: impl FnMut(&Dev<'_>) -> ControlFlow<B>) -> Walk<B> {
        self.walk_bounded(self.dev_list.first(), function, |p| self.dev_list.next(p), visit)
    }

    /// Checked access to a path's controller / host (through the path).
    pub fn ctrl_of(&self, p: u32, function: &str) -> &Ctrl {
        let ci = self.path(p, function).ctrl.load(Ordering::Relaxed) as usize;
        &self.ctrls[ci.min(self.ctrls.len() - 1)]
    }

    /// Checked dereference of `dev->disk` (e.g. `p->disk->part0`).
    pub fn path_disk(&self, p: u32, function: &str) -> bool {
        self.dev_disk(&self.dev(p, function), function)
    }

    /// [`System::path_disk`] within a visit (the path already checked).
    pub fn dev_disk(&self, dev: &Dev<'_>, function: &str) -> bool {
        if !dev.slot.has_disk.load(Ordering::Acquire) {
            self.violate(Kind::NullDisk, Object::PathDisk(dev.id), function);
            return false;
        }
        true
    }

    /// Checked access to the head itself.
    #[inline]
    pub fn head(&self, function: &str) {
        if self.head_life.load(Ordering::Acquire) == Life::Freed as u8 {
            self.violate(Kind::UseAfterFree, Object::Head, function);
        }
    }

    pub fn head_life(&self) -> Life {
        Life::from_u8(self.head_life.load(Ordering::Acquire))
    }

    pub fn disk_state(&self) -> DiskState {
        match self.disk.state.load(Ordering::Acquire) {
            1 => DiskState::ErrPtr,
            2 => DiskState::Allocated,
            3 => DiskState::Freed,
            _ => DiskState::None,
        }
    }

    /// Checked dereference of `head->disk` (not NULL-tested by the caller).
    pub fn head_disk(&self, function: &str) -> bool {
        match self.disk_state() {
            DiskState::Allocated => true,
            DiskState::Freed => {
                self.violate(Kind::UseAfterFree, Object::HeadDisk, function);
                false
            }
            DiskState::None | DiskState::ErrPtr => {
                self.violate(Kind::NullDisk, Object::HeadDisk, function);
                false
            }
        }
    }

    pub fn test_flag(&self, bit: u32) -> bool {
        self.flags.load(Ordering::Acquire) & (1 << bit) != 0
    }
    pub fn test_and_set_flag(&self, bit: u32) -> bool {
        self.flags.fetch_or(1 << bit, Ordering::AcqRel) & (1 << bit) != 0
    }
    pub fn test_and_clear_flag(&self, bit: u32) -> bool {
        self.flags.fetch_and(!(1 << bit), Ordering::AcqRel) & (1 << bit) != 0
    }
    pub fn clear_flag(&self, bit: u32) {
        self.flags.fetch_and(!(1 << bit), Ordering::AcqRel);
    }
    pub fn set_flag(&self, bit: u32) {
        self.flags.fetch_or(1 << bit, Ordering::AcqRel);
    }

    /// The `current_path[node]` slot, or an out-of-bounds violation.
    pub fn cp_slot(&self, node: i32, function: &str) -> Option<&AtomicU32> {
        if node < 0 || node as usize >= self.current_path.len() {
            self.violate(Kind::OutOfBounds, Object::CurrentPath(node), function);
            return None;
        }
        Some(&self.current_path[node as usize])
    }

    /// `srcu_dereference(head->current_path[node])`.
    pub fn cp_load(&self, node: i32, function: &str) -> u32 {
        self.cp_slot(node, function).map(|s| s.load(Ordering::Acquire)).unwrap_or(CP_NULL)
    }

    /// `rcu_assign_pointer(head->current_path[node], v)`.
    pub fn cp_store(&self, node: i32, v: u32, function: &str) {
        if v == CP_JUNK {
            self.violate(Kind::JunkPointer, Object::CurrentPath(node), function);
        }
        if let Some(s) = self.cp_slot(node, function) {
            s.store(v, Ordering::Release);
        }
    }

    /// Synchronize SRCU; reports a self-deadlock when called from inside a
    /// read section in a sequential execution (the kernel would hang).
    pub fn synchronize(&self, function: &str) {
        self.head(function);
        #[cfg(not(any(loom, feature = "shuttle")))]
        if self.sequential() && self.srcu.would_block() {
            self.violate(Kind::SelfDeadlock, Object::Head, function);
            return;
        }
        self.srcu.synchronize();
    }

    /// True while only one thread drives the system (trace replay); set by
    /// the concurrent harnesses to false.
    pub fn sequential(&self) -> bool {
        !self.work.concurrent.load(Ordering::Relaxed)
    }

    /// Path ids currently on `dev_list`, in list order.
    pub fn list_snapshot(&self) -> Vec<u32> {
        self.dev_list.snapshot()
    }
}
