//! Path selection (§7): `__mpath_find_path`, the numa, round-robin and
//! queue-depth selectors and `mpath_find_path`. All of it runs inside the
//! caller's SRCU read section. Values are encoded path pointers
//! (`CP_NULL`, `id + 1`, `CP_JUNK`).

use crate::driver::AccessState;
use crate::head::{System, CP_JUNK, CP_NULL};
use crate::rculist::{dec, enc};
use crate::sync::Ordering;
use crate::topology::{LOCAL_DISTANCE, NUMA_NO_NODE};
use crate::violation::{Kind, Object};

pub const IOPOLICY_NUMA: u8 = 0;
pub const IOPOLICY_RR: u8 = 1;
pub const IOPOLICY_QD: u8 = 2;
pub const IOPOLICY_NAMES: [&str; 3] = ["numa", "round-robin", "queue-depth"];

impl System {
    /// The loop bound derived from the path count: a correct walk visits
    /// each linked path at most once per pass.
    fn loop_bound(&self) -> usize {
        2 * self.dev_list.capacity() + 2
    }

    /// `__mpath_find_path(head, node)`.
    pub fn __find_path(&self, node: i32) -> u32 {
        const F: &str = "__mpath_find_path";
        let uninit = if self.profile.find_path_init_null { CP_NULL } else { CP_JUNK };
        let (mut found, mut fallback) = (uninit, uninit);
        let (mut found_d, mut fallback_d) = (u32::MAX, u32::MAX);
        let mut cur = self.dev_list.first();
        let mut n = 0;
        while let Some(p) = cur {
            n += 1;
            if n > self.loop_bound() {
                self.violate(Kind::NonTermination, Object::Head, F);
                return CP_NULL;
            }
            if !self.drv.is_disabled(self, p) {
                let dev = self.path(p, F);
                let numa = if self.profile.distance_reads_ctrl_node {
                    self.ctrl_of(p, F).numa_node.load(Ordering::Relaxed)
                } else {
                    dev.numa_node.load(Ordering::Relaxed)
                };
                let d = if numa != NUMA_NO_NODE && self.get_iopolicy() == IOPOLICY_NUMA { self.topo.node_distance(node, numa) } else { LOCAL_DISTANCE };
                match dev.access() {
                    AccessState::Optimized => {
                        if d < found_d {
                            found = enc(p);
                            found_d = d;
                        }
                    }
                    AccessState::Nonoptimized => {
                        if d < fallback_d {
                            fallback = enc(p);
                            fallback_d = d;
                        }
                    }
                    AccessState::Other => {}
                }
            }
            cur = self.dev_list.next(p);
            if cur.is_some() {
                self.path(p, F); // reading dev->siblings.next
            }
        }
        if found == CP_NULL {
            found = fallback;
        }
        if found != CP_NULL {
            self.cp_store(node, found, F);
        }
        found
    }

    /// `mpath_next_dev`: successor, wrapping to the first entry.
    fn next_dev(&self, p: u32, f: &str) -> Option<u32> {
        self.path(p, f);
        self.dev_list.next(p).or_else(|| self.dev_list.first())
    }

    /// Checked use of a selected pointer: JUNK is a wild pointer.
    pub(crate) fn sel_id(&self, v: u32, f: &str) -> Option<u32> {
        if v == CP_JUNK {
            self.violate(Kind::JunkPointer, Object::Head, f);
            return None;
        }
        dec(v)
    }

    /// `mpath_round_robin_path`.
    pub fn round_robin_path(&self, node: i32) -> u32 {
        const F: &str = "mpath_round_robin_path";
        let old_v = self.cp_load(node, F);
        if old_v == CP_NULL {
            return self.__find_path(node);
        }
        let Some(old) = self.sel_id(old_v, F) else { return old_v };
        if self.dev_list.is_singular() {
            if self.profile.rr_singular_checks_old {
                let first = self.dev_list.first();
                if first != Some(old) || self.path(old, F).access() == AccessState::Other {
                    return self.__find_path(node);
                }
            }
            return if self.drv.is_disabled(self, old) { CP_NULL } else { old_v };
        }
        let mut found = CP_NULL;
        let mut dev = self.next_dev(old, F);
        let first_seen = dev;
        let mut n = 0;
        while let Some(d) = dev {
            if d == old {
                break;
            }
            n += 1;
            if n > self.loop_bound() {
                self.violate(Kind::NonTermination, Object::Path(old), F);
                return CP_NULL;
            }
            if !self.drv.is_disabled(self, d) {
                match self.path(d, F).access() {
                    AccessState::Optimized => {
                        self.cp_store(node, enc(d), F);
                        return enc(d);
                    }
                    AccessState::Nonoptimized => found = enc(d),
                    AccessState::Other => {}
                }
            }
            dev = self.next_dev(d, F);
            if self.profile.rr_loop_stops_at_unlinked_old && n > 0 && dev == first_seen {
                break;
            }
        }
        let o = self.path(old, F).access();
        if !self.drv.is_disabled(self, old) && (o == AccessState::Optimized || (found == CP_NULL && o == AccessState::Nonoptimized)) {
            return old_v;
        }
        if found == CP_NULL {
            return CP_NULL;
        }
        self.cp_store(node, found, F);
        found
    }

    /// `mpath_queue_depth_path`.
    pub fn queue_depth_path(&self) -> u32 {
        const F: &str = "mpath_queue_depth_path";
        let (mut best_opt, mut best_nonopt) = (CP_NULL, CP_NULL);
        let (mut min_opt, mut min_nonopt) = (u32::MAX, u32::MAX);
        let mut cur = self.dev_list.first();
        let mut n = 0;
        while let Some(p) = cur {
            n += 1;
            if n > self.loop_bound() {
                self.violate(Kind::NonTermination, Object::Head, F);
                return CP_NULL;
            }
            if !self.drv.is_disabled(self, p) {
                let depth = if self.profile.qd_device_counter_unmaintained { 0 } else { self.drv.get_nr_active(self, p) as u32 };
                match self.path(p, F).access() {
                    AccessState::Optimized => {
                        if depth < min_opt {
                            min_opt = depth;
                            best_opt = enc(p);
                        }
                    }
                    AccessState::Nonoptimized => {
                        if depth < min_nonopt {
                            min_nonopt = depth;
                            best_nonopt = enc(p);
                        }
                    }
                    AccessState::Other => {}
                }
                if min_opt == 0 {
                    return best_opt;
                }
            }
            cur = self.dev_list.next(p);
        }
        if best_opt != CP_NULL {
            best_opt
        } else {
            best_nonopt
        }
    }

    /// `mpath_numa_path`.
    pub fn numa_path(&self, node: i32) -> u32 {
        const F: &str = "mpath_numa_path";
        let v = self.cp_load(node, F);
        if v == CP_NULL {
            return self.__find_path(node);
        }
        let Some(d) = self.sel_id(v, F) else { return v };
        if self.profile.numa_fast_path_checks_optimized && !self.drv.is_optimized(self, d) {
            return self.__find_path(node);
        }
        if self.profile.numa_fast_path_checks_disabled && self.drv.is_disabled(self, d) {
            return self.__find_path(node);
        }
        v
    }

    /// `mpath_find_path(head)` on the CPU of `node`. Caller holds SRCU.
    pub fn find_path_locked(&self, node: i32) -> u32 {
        self.head("mpath_find_path");
        match self.get_iopolicy() {
            IOPOLICY_QD => self.queue_depth_path(),
            IOPOLICY_RR => self.round_robin_path(node),
            _ => self.numa_path(node),
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
