//! Path selection (§7): `__mpath_find_path`, the numa, round-robin and
//! queue-depth selectors and `mpath_find_path`. All of it runs inside the
//! caller's SRCU read section. Values are encoded path pointers
//! (`CP_NULL`, `id + 1`, `CP_JUNK`).
//!
//! The selectors are generic over the driver's [`Template`] (one copy per
//! driver, the callbacks inlined; `find_path_locked` dispatches once per
//! call) and walk `dev_list` with [`System::walk_bounded`]: each path
//! visited is checked once (use-after-free) and its state read raw.

use crate::driver::{AccessState, DevView, DriverKind, Template, NVME, SCSI};
use crate::head::{System, Walk, CP_JUNK, CP_NULL};
use crate::rculist::{dec, enc};
use crate::sync::Ordering;
use crate::topology::{LOCAL_DISTANCE, NUMA_NO_NODE};
use crate::violation::{Kind, Object};
use std::ops::ControlFlow;

use crate::iopolicy::IoPolicy;

impl System {
    /// `__mpath_find_path(head, node)`.
    pub fn __find_path(&self, node: i32) -> u32 {
        match self.drv {
            DriverKind::Nvme => self.__find_path_in(&NVME, node),
            DriverKind::Scsi => self.__find_path_in(&SCSI, node),
        }
    }

    /// [`System::__find_path`] with the template `drv`.
    pub fn __find_path_in<T: Template>(&self, drv: &T, node: i32) -> u32 {
        const F: &str = "__mpath_find_path";
        let uninit = if self.profile.find_path_init_null { CP_NULL } else { CP_JUNK };
        let (mut found, mut fallback) = (uninit, uninit);
        let (mut found_d, mut fallback_d) = (u32::MAX, u32::MAX);
        let walk = self.walk_dev_list(F, |dev| {
            if drv.is_disabled(dev) {
                return ControlFlow::<()>::Continue(());
            }
            let numa =
                if self.profile.distance_reads_ctrl_node { dev.ctrl().1.numa_node.load(Ordering::Relaxed) } else { dev.slot.numa_node.load(Ordering::Relaxed) };
            let d = if numa != NUMA_NO_NODE && self.get_iopolicy() == Some(IoPolicy::Numa) { self.topo.node_distance(node, numa) } else { LOCAL_DISTANCE };
            match dev.access() {
                AccessState::Optimized => {
                    if d < found_d {
                        found = enc(dev.id);
                        found_d = d;
                    }
                }
                AccessState::Nonoptimized => {
                    if d < fallback_d {
                        fallback = enc(dev.id);
                        fallback_d = d;
                    }
                }
                AccessState::Other => {}
            }
            ControlFlow::Continue(())
        });
        if walk == Walk::Overran {
            self.violate(Kind::NonTermination, Object::Head, F);
            return CP_NULL;
        }
        if found == CP_NULL {
            found = fallback;
        }
        if found != CP_NULL {
            self.cp_store(node, found, F);
        }
        found
    }

    /// `mpath_next_dev` within a visit of `p`: successor, wrapping to the
    /// first entry.
    fn next_dev(&self, p: u32) -> Option<u32> {
        self.dev_list.next(p).or_else(|| self.dev_list.first())
    }

    /// Checked use of a selected pointer: JUNK is a wild pointer.
    #[inline]
    pub(crate) fn sel_id(&self, v: u32, f: &str) -> Option<u32> {
        if v == CP_JUNK {
            self.violate(Kind::JunkPointer, Object::Head, f);
            return None;
        }
        dec(v)
    }

    /// `mpath_round_robin_path` (dispatching on the driver; see [`System::round_robin_path_in`]).
    pub fn round_robin_path(&self, node: i32) -> u32 {
        match self.drv {
            DriverKind::Nvme => self.round_robin_path_in(&NVME, node),
            DriverKind::Scsi => self.round_robin_path_in(&SCSI, node),
        }
    }

    /// `mpath_round_robin_path` with the template `drv`.
    pub fn round_robin_path_in<T: Template>(&self, drv: &T, node: i32) -> u32 {
        const F: &str = "mpath_round_robin_path";
        let old_v = self.cp_load(node, F);
        if old_v == CP_NULL {
            return self.__find_path_in(drv, node);
        }
        let Some(old) = self.sel_id(old_v, F) else { return old_v };
        if self.dev_list.is_singular() {
            if self.profile.rr_singular_checks_old && (self.dev_list.first() != Some(old) || self.dev(old, F).access() == AccessState::Other) {
                return self.__find_path_in(drv, node);
            }
            return if drv.is_disabled(&self.dev(old, F)) { CP_NULL } else { old_v };
        }
        let mut found = CP_NULL;
        self.dev(old, F); // reading old->siblings.next
        let first_seen = self.next_dev(old);
        let stops_at_first = self.profile.rr_loop_stops_at_unlinked_old;
        let succ = |d: u32| self.next_dev(d).filter(|&n| n != old && !(stops_at_first && Some(n) == first_seen));
        let walk = self.walk_bounded(first_seen.filter(|&d| d != old), F, succ, |dev| {
            if !drv.is_disabled(dev) {
                match dev.access() {
                    AccessState::Optimized => return ControlFlow::Break(enc(dev.id)),
                    AccessState::Nonoptimized => found = enc(dev.id),
                    AccessState::Other => {}
                }
            }
            ControlFlow::Continue(())
        });
        match walk {
            Walk::Stopped(v) => {
                self.cp_store(node, v, F);
                return v;
            }
            Walk::Overran => {
                self.violate(Kind::NonTermination, Object::Path(old), F);
                return CP_NULL;
            }
            Walk::Ended => {}
        }
        let dev = self.dev(old, F);
        let o = dev.access();
        if !drv.is_disabled(&dev) && (o == AccessState::Optimized || (found == CP_NULL && o == AccessState::Nonoptimized)) {
            return old_v;
        }
        if found == CP_NULL {
            return CP_NULL;
        }
        self.cp_store(node, found, F);
        found
    }

    /// `mpath_queue_depth_path` (dispatching on the driver; see [`System::queue_depth_path_in`]).
    pub fn queue_depth_path(&self) -> u32 {
        match self.drv {
            DriverKind::Nvme => self.queue_depth_path_in(&NVME),
            DriverKind::Scsi => self.queue_depth_path_in(&SCSI),
        }
    }

    /// `mpath_queue_depth_path` with the template `drv`.
    pub fn queue_depth_path_in<T: Template>(&self, drv: &T) -> u32 {
        const F: &str = "mpath_queue_depth_path";
        let (mut best_opt, mut best_nonopt) = (CP_NULL, CP_NULL);
        let (mut min_opt, mut min_nonopt) = (u32::MAX, u32::MAX);
        let walk = self.walk_dev_list(F, |dev| {
            if drv.is_disabled(dev) {
                return ControlFlow::Continue(());
            }
            let depth = if self.profile.qd_device_counter_unmaintained { 0 } else { drv.get_nr_active(dev) as u32 };
            match dev.access() {
                AccessState::Optimized => {
                    if depth < min_opt {
                        min_opt = depth;
                        best_opt = enc(dev.id);
                    }
                }
                AccessState::Nonoptimized => {
                    if depth < min_nonopt {
                        min_nonopt = depth;
                        best_nonopt = enc(dev.id);
                    }
                }
                AccessState::Other => {}
            }
            if min_opt == 0 {
                return ControlFlow::Break(best_opt);
            }
            ControlFlow::Continue(())
        });
        match walk {
            Walk::Stopped(v) => v,
            Walk::Overran => {
                self.violate(Kind::NonTermination, Object::Head, F);
                CP_NULL
            }
            Walk::Ended if best_opt != CP_NULL => best_opt,
            Walk::Ended => best_nonopt,
        }
    }

    /// `mpath_numa_path` (dispatching on the driver; see [`System::numa_path_in`]).
    pub fn numa_path(&self, node: i32) -> u32 {
        match self.drv {
            DriverKind::Nvme => self.numa_path_in(&NVME, node),
            DriverKind::Scsi => self.numa_path_in(&SCSI, node),
        }
    }

    /// `mpath_numa_path` with the template `drv`.
    pub fn numa_path_in<T: Template>(&self, drv: &T, node: i32) -> u32 {
        const F: &str = "mpath_numa_path";
        let v = self.cp_load(node, F);
        if v == CP_NULL {
            return self.__find_path_in(drv, node);
        }
        let Some(d) = self.sel_id(v, F) else { return v };
        let (opt, dis) = (self.profile.numa_fast_path_checks_optimized, self.profile.numa_fast_path_checks_disabled);
        if opt || dis {
            let dev = self.dev(d, F);
            if (opt && !drv.is_optimized(&dev)) || (dis && drv.is_disabled(&dev)) {
                return self.__find_path_in(drv, node);
            }
        }
        v
    }

    /// `mpath_find_path(head)` on the CPU of `node`. Caller holds SRCU.
    pub fn find_path_locked(&self, node: i32) -> u32 {
        self.head("mpath_find_path");
        match self.drv {
            DriverKind::Nvme => self.select(&NVME, node),
            DriverKind::Scsi => self.select(&SCSI, node),
        }
    }

    /// The iopolicy's selector with the template `drv`.
    #[inline]
    fn select<T: Template>(&self, drv: &T, node: i32) -> u32 {
        match self.get_iopolicy() {
            Some(IoPolicy::QueueDepth) => self.queue_depth_path_in(drv),
            Some(IoPolicy::RoundRobin) => self.round_robin_path_in(drv, node),
            // NUMA, and the kernel's `default:` for an int naming no policy.
            Some(IoPolicy::Numa) | None => self.numa_path_in(drv, node),
        }
    }

    /// `mpath_find_path` inside its own SRCU read section; returns the
    /// selected path id (JUNK is reported and read as none).
    pub fn find_path(&self, node: i32) -> Option<u32> {
        let idx = self.srcu.read_lock();
        let v = self.find_path_locked(node);
        let r = self.sel_id(v, "mpath_find_path");
        self.srcu.read_unlock(idx);
        r
    }
}
