//! Device (path) management (§9): add / delete, clearing cached paths,
//! revalidation, `mpath_call_for_device`, the multipath sysfs links and
//! `mpath_synchronize`.

use crate::driver::Template;
use crate::head::{Life, System, CP_NULL, DEVICE_SYSFS_ATTR_LINK};
use crate::rculist::enc;
use crate::sync::{lock, Ordering};
use crate::violation::{Kind, Object};
use std::ops::ControlFlow;

pub const EEXIST: i32 = 17;
pub const EWOULDBLOCK: i32 = 11;

impl System {
    /// `mpath_add_device(head, dev)`.
    pub fn add_device(&self, p: u32) {
        const F: &str = "mpath_add_device";
        self.head(F);
        let s = self.path(p, F);
        {
            let _g = lock(&self.lock);
            self.dev_list.add_tail(p);
            s.life.store(Life::Linked as u8, Ordering::Release);
        }
        if self.profile.delayed_removal && self.work.cancel_delayed() && self.profile.add_device_module_put {
            self.module_put();
        }
    }

    /// `mpath_delete_device(dev)`: true if the list is now empty.
    pub fn delete_device(&self, p: u32) -> bool {
        const F: &str = "mpath_delete_device";
        self.head(F);
        let s = self.path(p, F);
        let _g = lock(&self.lock);
        if s.life() != Life::Linked {
            // list_del_rcu of an entry that is not on the list: prev is POISON.
            self.violate(Kind::ContractBreach, Object::Path(p), F);
            return self.dev_list.is_empty();
        }
        self.dev_list.del(p);
        s.life.store(Life::Unlinked as u8, Ordering::Release);
        self.dev_list.is_empty()
    }

    /// `mpath_head_devices_empty`.
    pub fn head_devices_empty(&self) -> bool {
        self.head("mpath_head_devices_empty");
        let _g = lock(&self.lock);
        self.dev_list.is_empty()
    }

    /// `mpath_call_for_device`: the callback runs on one selected path and
    /// returns 0; no path gives `-EWOULDBLOCK`.
    pub fn call_for_device(&self, node: i32) -> (i32, Option<u32>) {
        match self.find_path(node) {
            Some(p) => {
                self.path(p, "mpath_call_for_device");
                (0, Some(p))
            }
            None => (-EWOULDBLOCK, None),
        }
    }

    /// `mpath_clear_current_path(dev)`: for_each_node, no lock, no sync.
    pub fn clear_current_path(&self, p: u32) -> bool {
        const F: &str = "mpath_clear_current_path";
        self.head(F);
        let (mut changed, mut out_of_bounds) = (false, false);
        for &node in &self.topo.possible {
            // A negative node converts to a huge index: out of bounds too.
            match self.current_path.get(node as usize) {
                Some(slot) => {
                    if slot.load(Ordering::Relaxed) == enc(p) {
                        slot.store(CP_NULL, Ordering::Release);
                        changed = true;
                    }
                }
                None => out_of_bounds = true,
            }
        }
        if out_of_bounds {
            self.report_cp_out_of_bounds(F);
        }
        changed
    }

    /// The out-of-bounds `current_path[node]` accesses of a `for_each_node`
    /// loop, reported after it (in node order, as the loop met them), so
    /// that the loop itself makes no call.
    #[cold]
    #[inline(never)]
    fn report_cp_out_of_bounds(&self, function: &str) {
        for &node in &self.topo.possible {
            self.cp_slot(node, function);
        }
    }

    /// `mpath_clear_paths(head)`.
    pub fn clear_paths(&self) {
        const F: &str = "mpath_clear_paths";
        self.head(F);
        for &node in &self.topo.possible {
            self.cp_store(node, CP_NULL, F);
        }
    }

    /// `mpath_revalidate_paths(head, not_ready_cb)`; the driver's callback
    /// is used when `with_cb`. Returns the paths the callback ran on.
    pub fn revalidate_paths(&self, with_cb: bool) -> Vec<u32> {
        const F: &str = "mpath_revalidate_paths";
        self.head(F);
        let mut hit = Vec::new();
        if self.head_disk(F) {
            let cap = self.disk.capacity.load(Ordering::Relaxed);
            if with_cb {
                let idx = self.srcu.read_lock();
                // A cycle (Walk::Overran) ends the walk.
                self.walk_dev_list(F, |dev| {
                    if self.dev_disk(dev, F) && dev.slot.capacity.load(Ordering::Relaxed) != cap && self.drv.revalidate_cb(dev) {
                        hit.push(dev.id);
                    }
                    ControlFlow::<()>::Continue(())
                });
                self.srcu.read_unlock(idx);
            }
        }
        self.clear_paths();
        self.schedule_requeue_work();
        hit
    }

    /// `mpath_add_sysfs_link(head)`: returns the paths linked by this call.
    pub fn add_sysfs_link(&self) -> Vec<u32> {
        const F: &str = "mpath_add_sysfs_link";
        self.head(F);
        let mut made = Vec::new();
        if !self.profile.sysfs_links {
            return made;
        }
        // The C tests GD_ADDED, which del_gendisk leaves set: a deleted head
        // passes the guard, and the first link then goes through the dead
        // kobject's NULL sysfs node (kernfs_find_and_get_ns; confirmed under
        // KUnit on the v2 series).
        if !self.head_disk(F) || !self.disk.gd_added.load(Ordering::Acquire) {
            return made;
        }
        let idx = self.srcu.read_lock();
        // A cycle (Walk::Overran) ends the walk.
        self.walk_dev_list(F, |dev| {
            let p = dev.id;
            if self.dev_disk(dev, F) && dev.slot.disk_added.load(Ordering::Acquire) && !self.link_claim(p) {
                if self.disk.gd_dead.load(Ordering::Acquire) {
                    self.violate(Kind::NullDeref, Object::HeadDisk, "sysfs_add_link_to_group");
                    return ControlFlow::Break(());
                }
                if self.sysfs_create_link(p) {
                    made.push(p);
                } else {
                    dev.slot.flags.fetch_and(!(1 << DEVICE_SYSFS_ATTR_LINK), Ordering::AcqRel);
                }
            }
            ControlFlow::Continue(())
        });
        self.srcu.read_unlock(idx);
        made
    }

    /// The LINK-bit claim: `test_and_set_bit` (v2), or the N1 mutant's
    /// `test_bit` followed by `set_bit`. Returns the old bit.
    fn link_claim(&self, p: u32) -> bool {
        let f = &self.paths[p as usize].flags;
        let bit = 1 << DEVICE_SYSFS_ATTR_LINK;
        if self.profile.link_test_and_set {
            f.fetch_or(bit, Ordering::AcqRel) & bit != 0
        } else {
            if f.load(Ordering::Acquire) & bit != 0 {
                return true;
            }
            crate::sync::thread::yield_now();
            f.fetch_or(bit, Ordering::AcqRel);
            false
        }
    }

    /// `sysfs_add_link_to_group(head, "multipath", target, name)`.
    fn sysfs_create_link(&self, p: u32) -> bool {
        let mut l = lock(&self.links);
        if !l.insert(p) {
            self.violate(Kind::DuplicateLink, Object::Path(p), "sysfs_add_link_to_group");
            return false;
        }
        true
    }

    /// `mpath_remove_sysfs_link(dev)`.
    pub fn remove_sysfs_link(&self, p: u32) {
        const F: &str = "mpath_remove_sysfs_link";
        let s = self.path(p, F);
        if s.flags.load(Ordering::Acquire) & (1 << DEVICE_SYSFS_ATTR_LINK) == 0 {
            return;
        }
        self.head_disk(F);
        if !lock(&self.links).remove(&p) {
            self.counters.link_remove_missing.fetch_add(1, Ordering::Relaxed);
        }
        s.flags.fetch_and(!(1 << DEVICE_SYSFS_ATTR_LINK), Ordering::AcqRel);
    }

    /// `mpath_synchronize(head)`.
    pub fn mpath_synchronize(&self) {
        self.synchronize("mpath_synchronize");
    }
}
