//! The observable state of a [`System`] after an operation: every field of
//! an [`Observation`], in canonical order.

use super::Observation;
use crate::driver::{DriverKind, NVME_NS_ANA_PENDING, NVME_NS_READY};
use crate::head::{DiskState, Life, System, CP_JUNK, CP_NULL};
use crate::sync::{lock, Ordering};

impl System {
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
            module_refs: Some(self.drv_head.module_refs.load(Ordering::Acquire)),
            pending_work: Some(self.work.pending()),
            bios_failed: Some(self.bios_failed.load(Ordering::Relaxed)),
            violations: Some(self.violations()),
        }
    }
}
