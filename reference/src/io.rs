//! I/O path (§8): `mpath_available_path`, `mpath_bdev_submit_bio`, the
//! requeue list and `mpath_requeue_work`, and bio completion / failover
//! bookkeeping on the paths.

use crate::driver::{DriverKind, Template};
use crate::head::{System, Walk, HEAD_DISK_LIVE, HEAD_QUEUE_IF_NO_PATH};
use crate::iopolicy::IoPolicy;
use crate::sync::{lock, Ordering};
use crate::work::Work;
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;

/// In-flight bio ids carry this bit when the request was counted in
/// `nr_active` at start (NVMe `NVME_MPATH_CNT_ACTIVE`; SCSI always).
pub const BIO_COUNTED: u32 = 1 << 31;

/// What `mpath_bdev_submit_bio` did with a bio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Submit {
    /// Remapped to this path and submitted.
    Path(u32),
    /// No usable path, but one may come: put on the requeue list.
    Requeued,
    /// No available path: `bio_io_error`.
    Failed,
}

impl System {
    /// `mpath_available_path`. Caller holds SRCU.
    pub fn available_path(&self) -> bool {
        const F: &str = "mpath_available_path";
        if !self.test_flag(HEAD_DISK_LIVE) {
            return false;
        }
        // A cycle (Walk::Overran) ends the walk as if no path were available.
        if self.walk_dev_list(F, |dev| if self.drv.available_path(dev) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }) == Walk::Stopped(()) {
            return true;
        }
        self.profile.queue_if_no_path && self.test_flag(HEAD_QUEUE_IF_NO_PATH)
    }

    /// `mpath_bdev_submit_bio` for bio `bio` issued on a CPU of `node`.
    pub fn submit_bio_id(&self, bio: u32, node: i32) -> Submit {
        const F: &str = "mpath_bdev_submit_bio";
        self.head(F);
        let idx = self.srcu.read_lock();
        let v = self.find_path_locked(node);
        let res = match self.sel_id(v, F) {
            Some(p) => {
                // clone_bio (SCSI) never fails here; bio_set_dev(p->disk->part0)
                self.path_disk(p, F);
                let counted = self.start_request(p);
                crate::sync::lock(&self.path(p, F).inflight).push_back(if counted { bio | BIO_COUNTED } else { bio });
                Submit::Path(p)
            }
            None if v != crate::head::CP_NULL => {
                // A junk pointer was "selected": the bio went to a wild path.
                self.bios_failed.fetch_add(1, Ordering::Relaxed);
                Submit::Failed
            }
            None => {
                if self.available_path() {
                    lock(&self.requeue_list).push_back(bio);
                    if self.profile.counters {
                        self.counters.requeue_no_usable_path_cnt.fetch_add(1, Ordering::Relaxed);
                    }
                    Submit::Requeued
                } else {
                    self.bios_failed.fetch_add(1, Ordering::Relaxed);
                    if self.profile.counters {
                        self.counters.fail_no_avail_path_cnt.fetch_add(1, Ordering::Relaxed);
                    }
                    Submit::Failed
                }
            }
        };
        self.srcu.read_unlock(idx);
        res
    }

    /// Submit a new bio.
    pub fn submit_bio(&self, node: i32) -> Submit {
        let bio = self.counters.next_bio.fetch_add(1, Ordering::Relaxed);
        self.submit_bio_id(bio, node)
    }

    /// Queue-depth accounting at request start: NVMe counts per controller
    /// only under the QD policy (`nvme_mpath_start_request`); SCSI counts
    /// per host always (`scsi_mpath_start_request`). Returns whether the
    /// request was counted (NVMe `NVME_MPATH_CNT_ACTIVE`).
    fn start_request(&self, p: u32) -> bool {
        let counted = match self.kind() {
            DriverKind::Nvme => self.get_iopolicy() == Some(IoPolicy::QueueDepth),
            DriverKind::Scsi => true,
        };
        if counted {
            self.ctrl_of(p, "start_request").nr_active.fetch_add(1, Ordering::Relaxed);
        }
        counted
    }

    /// Request end: `atomic_dec_if_positive` on the counter, only for a
    /// request that was counted at start (§16.1: "when the flag is set").
    fn end_request(&self, p: u32, bio: u32) {
        if bio & BIO_COUNTED == 0 {
            return;
        }
        let c = &self.ctrl_of(p, "end_request").nr_active;
        let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| if x > 0 { Some(x - 1) } else { None });
    }

    /// Complete the oldest in-flight bio on path `p` successfully.
    pub fn complete_bio(&self, p: u32) -> Option<u32> {
        let bio = lock(&self.path(p, "bio_endio").inflight).pop_front()?;
        self.end_request(p, bio);
        self.counters.bios_completed.fetch_add(1, Ordering::Relaxed);
        Some(bio & !BIO_COUNTED)
    }

    /// Steal the oldest in-flight bio of `p` onto the requeue list.
    pub(crate) fn steal_bio(&self, p: u32, f: &str) -> Option<u32> {
        let bio = lock(&self.path(p, f).inflight).pop_front()?;
        self.end_request(p, bio);
        let bio = bio & !BIO_COUNTED;
        lock(&self.requeue_list).push_back(bio);
        Some(bio)
    }

    /// `mpath_schedule_requeue_work`.
    pub fn schedule_requeue_work(&self) {
        self.head("mpath_schedule_requeue_work");
        self.work.queue(Work::Requeue);
    }

    /// `mpath_requeue_work`: resubmit every queued bio (on `node`).
    pub fn requeue_work(&self, node: i32) -> usize {
        self.head("mpath_requeue_work");
        let bios: Vec<u32> = lock(&self.requeue_list).drain(..).collect();
        for &b in &bios {
            self.submit_bio_id(b, node);
        }
        bios.len()
    }

    pub fn requeue_len(&self) -> usize {
        lock(&self.requeue_list).len()
    }
}
