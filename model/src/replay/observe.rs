//! The trace observation of a model state (the `expect` fields).

use crate::machine::Machine;
use crate::state::*;
use crate::step::{WorkKind, JUNK};
use mpath_reference::driver::DriverKind;
use mpath_reference::ops::Observation;

/// The trace observation of a model state (every field the model holds;
/// `module_refs` is left out: not modelled), pending works in the
/// canonical order.
pub fn observe(m: &Machine, s: &State, bios_failed: u64) -> Observation {
    observe_queued(m, s, bios_failed, &WorkKind::ALL)
}

/// [`observe`] with the pending works listed in `queue`'s order.
pub fn observe_queued(m: &Machine, s: &State, bios_failed: u64, queue: &[WorkKind]) -> Observation {
    observe_at(m, s, bios_failed, queue, None)
}

/// [`observe_queued`] with the clock: an armed removal timer is listed
/// last as `remove_head@DEADLINE` (`remove_head@?` without a clock), as the
/// reference lists it.
pub fn observe_at(m: &Machine, s: &State, bios_failed: u64, queue: &[WorkKind], now: Option<u64>) -> Observation {
    let cp = (0..m.nnodes as usize)
        .map(|n| match s.cp[n] {
            0 => None,
            JUNK => Some(-1),
            v => Some(v as i64 - 1),
        })
        .collect();
    let live = |p: usize| matches!(s.paths[p].life, Life::Allocated | Life::Linked | Life::Unlinked);
    let with = |b: u8| (0..m.npaths as usize).filter(|&p| live(p) && s.paths[p].bit(b)).map(|p| p as u32).collect::<Vec<_>>();
    let nvme = m.driver == DriverKind::Nvme;
    let head_disk = match s.disk {
        DiskState::None => "none",
        DiskState::ErrPtr => "err_ptr",
        DiskState::Freed => "freed",
        _ if s.hbit(hbit::GD_ADDED) => "added",
        _ => "allocated",
    };
    let pending = queue
        .iter()
        .filter(|w| s.pending & w.bit() != 0)
        .map(|w| match w {
            WorkKind::Requeue => "requeue".to_string(),
            WorkKind::PartitionScan => "partition_scan".to_string(),
            WorkKind::RemoveHead => "remove_head".to_string(),
        })
        .chain((s.timer != 0).then(|| match now {
            Some(t) => format!("remove_head@{}", t + s.timer as u64),
            None => "remove_head@?".to_string(),
        }))
        .collect::<Vec<_>>();
    Observation {
        current_path: Some(cp),
        dev_list: Some(s.list().iter().map(|&p| p as u32).collect()),
        head_flags: Some(s.hbit(hbit::DISK_LIVE) as u32 | (s.hbit(hbit::QUEUE_IF_NO_PATH) as u32) << 1),
        link_bits: Some(with(pbit::LINK)),
        links: Some((0..MAXP as u32).filter(|&p| s.links & (1 << p) != 0).collect()),
        ready: nvme.then(|| with(pbit::READY)),
        ana_pending: nvme.then(|| with(pbit::ANA_PENDING)),
        requeue_len: Some(s.requeue as usize),
        head_disk: Some(head_disk.to_string()),
        head_ref: Some(s.head_ref as i32),
        module_refs: None,
        pending_work: Some(pending),
        bios_failed: Some(bios_failed),
        violations: (s.viol & EVENT_VIOLATIONS == 0).then(Vec::new),
    }
}

/// The interpreter's event violations that are reference violations (the
/// others are property instrumentation of `mpath_find_path`).
pub(super) const EVENT_VIOLATIONS: u16 = vbit::UAF_PATH | vbit::UAF_HEAD | vbit::NULL_DISK | vbit::JUNK | vbit::DUP_LINK | vbit::NONTERM;

pub(super) fn violation_text(v: u16) -> String {
    let names = [
        (vbit::UAF_PATH, "use_after_free(path)"),
        (vbit::UAF_HEAD, "use_after_free(head)"),
        (vbit::NULL_DISK, "null_disk"),
        (vbit::JUNK, "junk_pointer"),
        (vbit::DUP_LINK, "duplicate_link"),
        (vbit::NONTERM, "non_termination"),
    ];
    let got: Vec<&str> = names.iter().filter(|(b, _)| v & b != 0).map(|(_, n)| *n).collect();
    format!("[{}] (model violation kinds)", got.join(", "))
}
