//! Driver call orders (§16): what NVMe and SCSI do around the library, in
//! the spec's exact step order. These are the "driver operations" traces
//! and the model's programs are made of.

use crate::driver::{ana_to_access, AccessState, AluaState, AnaState, CtrlState, DriverKind, SdevState, NVME_NS_ANA_PENDING, NVME_NS_READY, NVME_NS_REMOVING};
use crate::head::{Life, System, HEAD_DISK_LIVE};
use crate::sync::{lock, Ordering};
use crate::work::Work;

/// Per-path set-up a driver does before `mpath_add_device`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathSetup {
    /// Controller (NVMe) or host (SCSI) index.
    pub ctrl: u32,
    pub numa_node: i32,
    pub capacity: u64,
    /// NVMe: ANA state reported for the group, or None (descriptor not
    /// found yet: ANA_PENDING). SCSI: ignored.
    pub ana: Option<AnaState>,
    pub alua: AluaState,
    pub fops_missing: u32,
}

impl System {
    /// Allocate a path whose disk is added, without any library call.
    pub(crate) fn drv_add_path_alloc_only(&self, p: u32, s: &PathSetup) {
        self.alloc_path(p, s);
        let slot = &self.paths[p as usize];
        slot.disk_added.store(true, Ordering::Release);
        if self.kind() == DriverKind::Nvme {
            slot.ns_flags.fetch_or(NVME_NS_READY, Ordering::Release);
            let a = s.ana.unwrap_or(AnaState::Optimized);
            slot.ana_state.store(a as u8, Ordering::Relaxed);
            slot.access_state.store(ana_to_access(a) as u8, Ordering::Relaxed);
        }
    }

    fn alloc_path(&self, p: u32, s: &PathSetup) {
        let slot = &self.paths[p as usize];
        slot.flags.store(0, Ordering::Relaxed);
        slot.numa_node.store(s.numa_node, Ordering::Relaxed);
        slot.ctrl.store(s.ctrl, Ordering::Relaxed);
        slot.capacity.store(s.capacity, Ordering::Relaxed);
        slot.fops_missing.store(s.fops_missing, Ordering::Relaxed);
        slot.has_disk.store(true, Ordering::Relaxed);
        slot.disk_added.store(false, Ordering::Relaxed);
        slot.ns_flags.store(0, Ordering::Relaxed);
        slot.alua_state.store(s.alua as u8, Ordering::Relaxed);
        slot.sdev_state.store(SdevState::Running as u8, Ordering::Relaxed);
        slot.access_state.store(AccessState::Optimized as u8, Ordering::Relaxed);
        slot.ana_state.store(AnaState::Optimized as u8, Ordering::Relaxed);
        lock(&slot.inflight).clear();
        slot.life.store(Life::Allocated as u8, Ordering::Release);
    }

    /// A new path appears: NVMe `nvme_alloc_ns` (init_ns_head + `nvme_add_ns`
    /// under subsys->lock, the path disk is added, `nvme_mpath_add_disk`),
    /// SCSI `sd_probe` + `sd_mpath_add_disk` (add + immediate set_live).
    pub fn drv_add_path(&self, p: u32, s: &PathSetup) {
        self.alloc_path(p, s);
        let slot = &self.paths[p as usize];
        match self.kind() {
            DriverKind::Nvme => {
                slot.ns_flags.fetch_or(NVME_NS_READY, Ordering::Release);
                self.add_device(p);
                slot.disk_added.store(true, Ordering::Release);
                match s.ana {
                    Some(a) => self.nvme_update_ns_ana_state(p, a),
                    None => {
                        slot.ns_flags.fetch_or(NVME_NS_ANA_PENDING, Ordering::Release);
                    }
                }
            }
            DriverKind::Scsi => {
                self.drv_head.disk_count.fetch_add(1, Ordering::Relaxed);
                slot.disk_added.store(true, Ordering::Release);
                self.add_device(p);
                self.set_live(p);
            }
        }
    }

    /// `nvme_update_ns_ana_state(desc, ns)`.
    pub fn nvme_update_ns_ana_state(&self, p: u32, a: AnaState) {
        const F: &str = "nvme_update_ns_ana_state";
        let s = self.path(p, F);
        s.ana_state.store(a as u8, Ordering::Relaxed);
        s.access_state.store(ana_to_access(a) as u8, Ordering::Relaxed);
        s.ns_flags.fetch_and(!NVME_NS_ANA_PENDING, Ordering::Release);
        let live = self.ctrl_of(p, F).state() == CtrlState::Live;
        if matches!(a, AnaState::Optimized | AnaState::Nonoptimized) && live {
            self.set_live(p);
        } else if self.test_flag(HEAD_DISK_LIVE) {
            self.add_sysfs_link();
        }
    }

    /// `nvme_ns_remove(ns)` (NVMe) or `sd_mpath_remove` followed by the
    /// scsi_device release (SCSI); the path is freed at the end.
    pub fn drv_remove_path(&self, p: u32, node: i32) {
        match self.kind() {
            DriverKind::Nvme => self.nvme_ns_remove(p, node),
            DriverKind::Scsi => self.sd_mpath_remove(p, node),
        }
    }

    /// `nvme_ns_remove`, with the N2 synchronize points per the profile.
    pub fn nvme_ns_remove(&self, p: u32, node: i32) {
        const F: &str = "nvme_ns_remove";
        let s = self.path(p, F);
        if s.ns_flags.fetch_or(NVME_NS_REMOVING, Ordering::AcqRel) & NVME_NS_REMOVING != 0 {
            return;
        }
        s.ns_flags.fetch_and(!NVME_NS_READY, Ordering::Release);
        s.capacity.store(0, Ordering::Relaxed);
        if self.profile.remove_sync1 {
            self.mpath_synchronize();
        }
        if self.clear_current_path(p) && self.profile.remove_sync2 {
            self.mpath_synchronize();
        }
        let mut last_path = false;
        if self.delete_device(p) {
            if !(self.profile.queue_if_no_path && self.test_flag(crate::head::HEAD_QUEUE_IF_NO_PATH)) {
                self.drv_head.head_listed.store(false, Ordering::Relaxed);
            }
            last_path = true;
        }
        if self.profile.remove_sync3 {
            self.mpath_synchronize();
        }
        if self.profile.remove_removes_link {
            self.remove_sysfs_link(p);
        }
        // del_gendisk(ns->disk) freezes the path's queue and waits for it
        // to drain (blk_mq_freeze_queue_wait): the device completes every
        // request still in flight before the disk goes.
        while self.complete_bio(p).is_some() {}
        s.disk_added.store(false, Ordering::Release);
        if last_path {
            self.nvme_mpath_remove_disk(node);
        }
        self.free_path(p);
    }

    /// `nvme_put_ns` final put / the scsi_device release: free the path.
    pub fn free_path(&self, p: u32) {
        let s = self.path(p, "free_path");
        // Bios still in flight on a freed path complete with an error.
        let n = lock(&s.inflight).len();
        lock(&s.inflight).clear();
        self.bios_failed.fetch_add(n as u64, Ordering::Relaxed);
        s.life.store(Life::Freed as u8, Ordering::Release);
    }

    /// `nvme_mpath_remove_disk(head)`: the last path is gone.
    pub fn nvme_mpath_remove_disk(&self, node: i32) {
        if self.disk_state() == crate::head::DiskState::None {
            return;
        }
        if !self.head_devices_empty() {
            return;
        }
        let remove = if self.profile.delayed_removal { self.can_remove_head() } else { true };
        if remove {
            self.drv_head.head_listed.store(false, Ordering::Relaxed);
            self.remove_disk();
        }
        let _ = node;
    }

    /// `nvme_mpath_remove_head` (`mpdt->remove_head`) or `sd_mpath_remove_head`.
    fn drv_remove_head(&self) {
        match self.kind() {
            DriverKind::Nvme => {
                if self.head_devices_empty() {
                    self.drv_head.head_listed.store(false, Ordering::Relaxed);
                    self.remove_disk();
                }
            }
            DriverKind::Scsi => {
                // No device-list check (spec §16.2, unconfirmed). Then
                // sd_mpath_put_disk: the delayed work held the last
                // reference, so its release runs mpath_put_disk.
                self.drv_head.head_listed.store(false, Ordering::Relaxed);
                self.remove_disk();
                self.put_disk(self.topo.online[0]);
            }
        }
    }

    /// `mpath_remove_head_work`.
    pub fn remove_head_work(&self) {
        self.head("mpath_remove_head_work");
        self.drv_remove_head();
        self.module_put();
    }

    /// Run ready works until none is left; requeue work resubmits on `node`.
    pub fn run_works(&self, node: i32) -> Vec<Work> {
        let mut ran = Vec::new();
        while let Some(w) = self.work.pop() {
            match w {
                Work::Requeue => {
                    self.requeue_work(node);
                }
                Work::PartitionScan => self.partition_scan_work(),
                Work::RemoveHead => self.remove_head_work(),
            }
            ran.push(w);
            if ran.len() > 1000 {
                break;
            }
        }
        ran
    }

    /// NVMe `nvme_failover_req` / SCSI `scsi_mpath_clone_end_io` with a path
    /// error, for the oldest in-flight bio on `p`. Returns false if none.
    pub fn drv_failover(&self, p: u32, ana_error: bool) -> bool {
        const F: &str = "failover";
        if lock(&self.path(p, F).inflight).is_empty() {
            return false;
        }
        match self.kind() {
            DriverKind::Nvme => {
                self.clear_current_path(p);
                if ana_error {
                    self.path(p, F).ns_flags.fetch_or(NVME_NS_ANA_PENDING, Ordering::Release);
                }
                self.steal_bio(p, F);
                self.schedule_requeue_work();
            }
            DriverKind::Scsi => {
                self.scsi_mpath_dev_clear_path(p);
                self.steal_bio(p, F);
                self.schedule_requeue_work();
            }
        }
        true
    }

    /// `scsi_mpath_dev_clear_path`.
    pub fn scsi_mpath_dev_clear_path(&self, p: u32) {
        if self.clear_current_path(p) {
            self.mpath_synchronize();
        }
    }

    /// SCSI `__scsi_internal_device_block_nowait`: clear, then SDEV_BLOCK.
    pub fn scsi_block(&self, p: u32) {
        self.scsi_mpath_dev_clear_path(p);
        self.path(p, "scsi_internal_device_block").sdev_state.store(SdevState::Block as u8, Ordering::Release);
    }

    /// `sd_mpath_remove` then the scsi_device release (path freed).
    pub fn sd_mpath_remove(&self, p: u32, node: i32) {
        self.mpath_synchronize();
        if self.clear_current_path(p) {
            self.mpath_synchronize();
        }
        self.delete_device(p);
        let remove = self.drv_head.disk_count.fetch_sub(1, Ordering::Relaxed) == 1 && self.can_remove_head();
        if remove {
            self.drv_head.head_listed.store(false, Ordering::Relaxed);
        }
        self.remove_sysfs_link(p);
        self.path(p, "sd_mpath_remove").has_disk.store(false, Ordering::Release);
        if remove {
            self.remove_disk();
            self.put_disk(node);
        }
        self.free_path(p);
    }

    /// The driver's iopolicy sysfs store: NVMe clears every controller's
    /// paths (6.12: only on change) and kicks requeue; SCSI clears all paths
    /// and kicks requeue. Returns `count` or `-EINVAL`.
    pub fn drv_iopolicy_store(&self, buf: &str) -> i64 {
        let (ok, changed) = self.iopolicy_store(buf);
        if !ok {
            return -(crate::disk::EINVAL as i64);
        }
        match self.kind() {
            DriverKind::Nvme => {
                if changed || !self.profile.iopolicy_clear_only_on_change {
                    // nvme_mpath_clear_ctrl_paths for every ctrl: each ns of
                    // the ctrl that is still on ctrl->namespaces.
                    for p in 0..self.paths.len() as u32 {
                        if self.on_ctrl_namespaces(p) {
                            self.clear_current_path(p);
                            self.schedule_requeue_work();
                        }
                    }
                }
            }
            DriverKind::Scsi => {
                self.clear_paths();
                self.schedule_requeue_work();
            }
        }
        buf.len() as i64
    }

    /// Is path `p` on its controller's `ctrl->namespaces` list? From
    /// `nvme_add_ns` (the path disk added) until `nvme_ns_remove` takes it
    /// off, which a `delete_device` (head list only) does not do.
    fn on_ctrl_namespaces(&self, p: u32) -> bool {
        let s = &self.paths[p as usize];
        matches!(s.life(), Life::Linked | Life::Unlinked) && s.disk_added.load(Ordering::Relaxed)
    }

    /// Linux 6.12's `nvme_change_ctrl_state(ctrl, new)`: under `ctrl->lock`
    /// the transition table ([`CtrlState::nvme_may_become`]) decides; a
    /// refused change leaves the state and returns false. After a change:
    /// to LIVE from CONNECTING, `nvme_stop_failfast_work` (clears
    /// FAILFAST_EXPIRED: only a fabrics controller has its failfast work,
    /// and only that work sets the flag), then for any change to LIVE
    /// `nvme_kick_requeue_lists`. RESETTING -> CONNECTING arms the failfast
    /// timer (`nvme_start_failfast_work`), which is not modelled: a trace
    /// expires it with `set_failfast`.
    pub fn nvme_change_ctrl_state(&self, c: u32, new: CtrlState) -> bool {
        let ctrl = &self.ctrls[c as usize];
        let mut old = ctrl.state.load(Ordering::Acquire);
        loop {
            let cur = CtrlState::from_u8(old).unwrap_or(CtrlState::Dead);
            if !cur.nvme_may_become(new) {
                return false;
            }
            match ctrl.state.compare_exchange(old, new as u8, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(now) => old = now,
            }
        }
        if new == CtrlState::Live {
            if old == CtrlState::Connecting as u8 {
                ctrl.failfast_expired.store(false, Ordering::Relaxed);
            }
            self.nvme_kick_requeue_lists(c);
        }
        true
    }

    /// `nvme_kick_requeue_lists(ctrl)`: every namespace on
    /// `ctrl->namespaces` whose head has a disk schedules the head's requeue
    /// work (and sends a change uevent for the head disk, not modelled).
    pub fn nvme_kick_requeue_lists(&self, c: u32) {
        if self.disk_state() == crate::head::DiskState::None {
            return;
        }
        for p in 0..self.paths.len() as u32 {
            if self.on_ctrl_namespaces(p) && self.paths[p as usize].ctrl.load(Ordering::Relaxed) == c {
                self.schedule_requeue_work();
            }
        }
    }

    /// NVMe `nvme_update_ns_info` for a multipath head: the head takes the
    /// path's capacity, then `nvme_mpath_revalidate_paths`. SCSI
    /// `sd_mpath_revalidate_head` only sets the head capacity.
    pub fn drv_revalidate(&self, p: u32) -> Vec<u32> {
        const F: &str = "nvme_update_ns_info";
        if self.path_disk(p, F) && self.head_disk(F) {
            let cap = self.path(p, F).capacity.load(Ordering::Relaxed);
            self.disk.capacity.store(cap, Ordering::Relaxed);
        }
        match self.kind() {
            DriverKind::Nvme => self.revalidate_paths(true),
            DriverKind::Scsi => Vec::new(),
        }
    }

    /// Set an NVMe ANA state without the ANA update (driver-internal), or a
    /// SCSI ALUA state.
    pub fn set_alua(&self, p: u32, a: AluaState) {
        self.path(p, "alua_state").alua_state.store(a as u8, Ordering::Release);
    }
}
