//! Head lifetime, head gendisk and going live (§6).

use crate::driver::Template;
use crate::head::{DiskState, Life, System, HEAD_DISK_LIVE};
use crate::revision::HeadRef;
use crate::sync::{lock, Ordering};
use crate::violation::{Kind, Object};
use crate::work::Work;

pub const ENXIO: i32 = 6;
pub const ENOMEM: i32 = 12;
pub const EINVAL: i32 = 22;

impl System {
    /// `mpath_get_head`: `kref_get_unless_zero`; 0 or `-ENXIO`.
    pub fn get_head(&self) -> i32 {
        self.head("mpath_get_head");
        let r = self.head_ref.fetch_update(Ordering::AcqRel, Ordering::Acquire, |x| if x > 0 { Some(x + 1) } else { None });
        if r.is_ok() {
            0
        } else {
            -ENXIO
        }
    }

    /// `mpath_put_head`: the final put cleans up SRCU and frees the head
    /// (v2: kref release). v3: `refcount_dec_and_test` then cleanup and
    /// `wake_up_var`.
    pub fn put_head(&self) {
        const F: &str = "mpath_put_head";
        self.head(F);
        let old = self.head_ref.fetch_sub(1, Ordering::AcqRel);
        if old <= 0 {
            self.violate(Kind::RefUnderflow, Object::Head, F);
            return;
        }
        if old == 1 {
            self.head_cleanup(F);
            if self.profile.head_ref == HeadRef::Kref {
                self.head_life.store(Life::Freed as u8, Ordering::Release);
            }
        }
    }

    fn head_cleanup(&self, f: &str) {
        // cleanup_srcu_struct on a freed head is the S01 use-after-free.
        self.head(f);
    }

    /// v3 `mpath_head_uninit`: drop the initial reference; if others remain,
    /// wait until the count reads zero. Returns false when a sequential
    /// caller would block for ever. The driver frees the embedding
    /// structure once this returns.
    pub fn head_uninit(&self) -> bool {
        const F: &str = "mpath_head_uninit";
        self.head(F);
        let old = self.head_ref.fetch_sub(1, Ordering::AcqRel);
        if old == 1 {
            self.head_cleanup(F);
        } else if self.sequential() {
            self.head_ref.fetch_add(1, Ordering::AcqRel);
            return false;
        } else {
            while self.head_ref.load(Ordering::Acquire) != 0 {
                crate::sync::cpu_relax();
            }
        }
        self.head_life.store(Life::Freed as u8, Ordering::Release);
        true
    }

    /// `mpath_bdev_open`.
    pub fn bdev_open(&self) -> i32 {
        self.get_head()
    }

    /// `mpath_bdev_release`.
    pub fn bdev_release(&self) {
        self.put_head()
    }

    /// `mpath_alloc_head_disk(head, lim, node)`; `fail` injects a
    /// `blk_alloc_disk` failure (head->disk keeps the ERR_PTR).
    pub fn alloc_head_disk(&self, fail: bool, capacity: u64) -> i32 {
        self.head("mpath_alloc_head_disk");
        // The NVMe and SCSI templates pass the XOR sanity checks.
        if fail {
            self.disk.state.store(DiskState::ErrPtr as u8, Ordering::Release);
            return -ENOMEM;
        }
        self.disk.state.store(DiskState::Allocated as u8, Ordering::Release);
        self.disk.capacity.store(capacity, Ordering::Relaxed);
        self.delayed_removal_secs.store(0, Ordering::Relaxed);
        self.disk.suppress_part_scan.store(true, Ordering::Release);
        0
    }

    /// `mpath_device_set_live(dev)`.
    pub fn set_live(&self, p: u32) {
        const F: &str = "mpath_device_set_live";
        self.head(F);
        let ds = self.disk_state();
        if !self.profile.set_live_checks_disk_first && ds == DiskState::None {
            // v1: mpath_disk->mpath_head read before `if (!mpath_disk)`.
            self.violate(Kind::NullDeref, Object::HeadDisk, F);
            return;
        }
        if ds == DiskState::None {
            return;
        }
        if !self.test_and_set_flag(HEAD_DISK_LIVE) {
            if !self.head_disk(F) {
                return;
            }
            if self.disk.fail_next_add.swap(false, Ordering::AcqRel) {
                self.clear_flag(HEAD_DISK_LIVE);
                return;
            }
            self.disk.gd_added.store(true, Ordering::Release);
            self.disk.gd_dead.store(false, Ordering::Release);
            if self.drv.has_cdev() {
                self.disk.cdev_live.store(true, Ordering::Release);
            }
            self.work.queue(Work::PartitionScan);
        }
        self.add_sysfs_link();
        {
            let _g = lock(&self.lock);
            if self.drv.is_optimized(&self.dev(p, F)) {
                let idx = self.srcu.read_lock();
                for &node in &self.topo.online {
                    self.__find_path(node);
                }
                if self.profile.set_live_sync_inside_srcu {
                    // mut-sync-inside-srcu: inside its own read section.
                    self.synchronize(F);
                }
                self.srcu.read_unlock(idx);
            }
        }
        if self.profile.set_live_sync && !self.profile.set_live_sync_inside_srcu {
            self.synchronize(F);
        }
        self.schedule_requeue_work();
    }

    /// The partition-scan work.
    pub fn partition_scan_work(&self) {
        const F: &str = "mpath_partition_scan_work";
        self.head(F);
        if !self.head_disk(F) {
            return;
        }
        if !self.disk.suppress_part_scan.swap(false, Ordering::AcqRel) {
            return; // WARN_ON_ONCE
        }
        self.disk.partition_scans.fetch_add(1, Ordering::Relaxed);
    }

    /// `mpath_remove_disk(head)`.
    pub fn remove_disk(&self) {
        const F: &str = "mpath_remove_disk";
        self.head(F);
        if !self.test_and_clear_flag(HEAD_DISK_LIVE) {
            return;
        }
        if self.profile.remove_disk_kicks_requeue {
            self.schedule_requeue_work();
        }
        if self.drv.has_cdev() {
            self.disk.cdev_live.store(false, Ordering::Release);
        }
        self.synchronize(F);
        self.del_gendisk();
    }

    fn del_gendisk(&self) {
        if !self.head_disk("del_gendisk") {
            return;
        }
        // GD_ADDED stays set (6.12 never clears it); the disk is marked dead.
        if !self.disk.registered() {
            self.counters.del_gendisk_not_added.fetch_add(1, Ordering::Relaxed);
        } else {
            self.disk.gd_dead.store(true, Ordering::Release);
        }
    }

    /// `mpath_put_disk(head)`: kick and flush the requeue work, flush the
    /// partition scan, `put_disk`. Flushed works run on `node`.
    pub fn put_disk(&self, node: i32) {
        const F: &str = "mpath_put_disk";
        self.head(F);
        match self.disk_state() {
            DiskState::None => return,
            DiskState::ErrPtr | DiskState::Freed => {
                self.head_disk(F);
                return;
            }
            DiskState::Allocated => {}
        }
        self.work.take(Work::Requeue);
        self.requeue_work(node);
        if self.work.take(Work::PartitionScan) {
            self.partition_scan_work();
        }
        self.disk.state.store(DiskState::Freed as u8, Ordering::Release);
    }
}
