//! Spec §16: the drivers around the library (NVMe namespace removal and failover, SCSI).

use crate::util::*;
use mpath_reference::driver::{AluaState, SdevState};
use mpath_reference::head::Life;
use mpath_reference::io::Submit;
use mpath_reference::ops::Op;
use mpath_reference::rculist::enc;
use mpath_reference::sync::Ordering;
use mpath_reference::violation::{Kind, Object};

#[test]
fn s16_1_ns_remove_clears_unlinks_and_frees() {
    let s = nvme("v2", 2).setup(vec![add(0, OPT), add(1, OPT)]).build();
    ap(&s, Op::RemovePath { path: 0, node: 0 });
    assert_eq!(s.paths[0].life(), Life::Freed);
    assert_eq!((s.list_snapshot(), cp(&s)), (vec![1], vec![None]));
    assert_eq!(s.observe().links, Some(vec![1]));
    // Removing again is a no-op for NVMe (NVME_NS_REMOVING already set) but
    // touches the freed namespace.
    ap(&s, Op::RemovePath { path: 0, node: 0 });
    assert!(kinds(&s).iter().all(|(k, o, _)| *k == Kind::UseAfterFree && *o == Object::Path(0)));
}

#[test]
fn s16_1_failover_sets_ana_pending_and_requeues() {
    let s = nvme("v2", 2).setup(vec![add(0, OPT), add(1, OPT)]).build();
    assert!(!s.drv_failover(0, true), "nothing in flight");
    assert_eq!(s.submit_bio(0), Submit::Path(0));
    assert!(s.drv_failover(0, true));
    let o = s.observe();
    assert_eq!((o.current_path, o.ana_pending, o.requeue_len), (Some(vec![None]), Some(vec![0]), Some(1)));
    s.run_works(0);
    assert_eq!((s.requeue_len(), s.paths[1].inflight.lock().unwrap().len()), (0, 1));
}

#[test]
fn s16_2_scsi_add_goes_live_and_block_clears() {
    let s = scsi("v2", 2).setup(vec![sadd(0, AluaState::Active), sadd(1, AluaState::Optimal)]).build();
    assert_eq!(s.observe().head_flags, Some(1));
    assert_eq!(cp(&s), vec![Some(0)], "ACTIVE path ranks as OPTIMIZED (access_state fixed)");
    s.scsi_block(0);
    assert_eq!(s.paths[0].sdev(), SdevState::Block);
    assert_eq!(cp(&s), vec![None]);
    assert_eq!(find(&s, 0), Some(1));
}

#[test]
fn s16_1_qd_accounting_only_for_counted_requests() {
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(s.submit_bio(0), Submit::Path(0));
    assert_eq!(s.ctrls[0].nr_active.load(Ordering::Relaxed), 0, "NUMA policy: not counted");
    s.iopolicy.store(2, Ordering::Relaxed);
    assert_eq!(s.submit_bio(0), Submit::Path(0));
    assert_eq!(s.ctrls[0].nr_active.load(Ordering::Relaxed), 1, "QD policy: counted");
    s.ctrls[0].nr_active.store(3, Ordering::Relaxed);
    assert_eq!(s.complete_bio(0), Some(0));
    assert_eq!(s.ctrls[0].nr_active.load(Ordering::Relaxed), 3, "the uncounted request does not lower the count");
    assert_eq!(s.complete_bio(0), Some(1));
    assert_eq!(s.ctrls[0].nr_active.load(Ordering::Relaxed), 2);
    // A counted request stolen by failover lowers it too; dec_if_positive stops at 0.
    s.ctrls[0].nr_active.store(0, Ordering::Relaxed);
    assert_eq!(s.submit_bio(0), Submit::Path(0));
    s.ctrls[0].nr_active.store(0, Ordering::Relaxed);
    assert!(s.drv_failover(0, false));
    assert_eq!(s.ctrls[0].nr_active.load(Ordering::Relaxed), 0);
    // SCSI counts every request per host.
    let s = scsi("v2", 1).setup(vec![sadd(0, AluaState::Optimal)]).build();
    s.submit_bio(0);
    assert_eq!(s.ctrls[0].nr_active.load(Ordering::Relaxed), 1);
    s.complete_bio(0);
    assert_eq!(s.ctrls[0].nr_active.load(Ordering::Relaxed), 0);
}

#[test]
fn s16_2_sd_mpath_remove_head_puts_the_disk() {
    let s = scsi("v2", 1).setup(vec![sadd(0, AluaState::Optimal)]).build();
    assert_eq!(s.delayed_removal_secs_store("1"), 1);
    ap(&s, Op::RemovePath { path: 0, node: 0 });
    assert_eq!(s.observe().head_disk.as_deref(), Some("added"), "removal delayed: disk kept");
    s.work.advance(1);
    s.run_works(0);
    let o = s.observe();
    assert_eq!((o.head_flags, o.head_disk.as_deref(), o.module_refs), (Some(2), Some("freed"), Some(0)));
    clean(&s);
}

#[test]
fn s14_v1_qd_reads_an_unmaintained_counter() {
    for (rev, want) in [("v1", 0), ("v2", 1)] {
        let s = nvme(rev, 2).policy("queue-depth").setup(vec![dev(0, OPT), dev(1, OPT)]).build();
        ap(&s, Op::SetNrActive { ctrl: 0, n: 4 });
        assert_eq!(s.queue_depth_path(), enc(want), "{rev}");
    }
}
