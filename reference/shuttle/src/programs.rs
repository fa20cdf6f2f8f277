//! The scenarios' concurrent programs (NVMe driver call orders on shuttle
//! threads), each followed by its checks. The registry in `scenarios` says
//! what each one catches.

use crate::checks::*;
use mpath_reference::driver::{AnaState, NVME_NS_READY};
use mpath_reference::head::{System, CP_NULL, HEAD_DISK_LIVE};
use mpath_reference::io::Submit;
use mpath_reference::iopolicy::IoPolicy;
use mpath_reference::ops::{Op, DEFAULT_CAPACITY};
use mpath_reference::sync::{lock, thread, Arc, Ordering};
use mpath_reference::{rculist, Profile};

pub(crate) fn ns_remove_vs_submit(profile: &Profile) {
    let sys = new_system(profile, 2, 2);
    sys.alloc_head_disk(false, DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    add_path(&sys, 1, Some(AnaState::Optimized));
    sys.clear_paths();
    let s = sys.clone();
    let d = thread::spawn(move || s.nvme_ns_remove(0, 0));
    let s = sys.clone();
    let r1 = thread::spawn(move || {
        s.submit_bio(0);
        s.submit_bio(0);
    });
    let s = sys.clone();
    let r2 = thread::spawn(move || {
        s.submit_bio(1);
        s.submit_bio(0);
    });
    d.join().unwrap();
    r1.join().unwrap();
    r2.join().unwrap();
    check_no_violations(&sys);
    check_current_path(&sys);
    check_bios(&sys);
    check_links(&sys);
    assert_eq!(sys.list_snapshot(), vec![1]);
    // The requeue work resubmits everything onto the remaining path.
    sys.run_works(0);
    check_no_violations(&sys);
    assert_eq!(sys.requeue_len(), 0, "requeued bios were not resubmitted");
    check_current_path(&sys);
    check_bios(&sys);
}

pub(crate) fn ana_change_vs_rr(profile: &Profile) {
    let sys = new_system(profile, 1, 3);
    sys.store_iopolicy(IoPolicy::RoundRobin);
    sys.alloc_head_disk(false, DEFAULT_CAPACITY);
    add_path(&sys, 1, Some(AnaState::Optimized));
    add_path(&sys, 0, None);
    add_path(&sys, 2, None);
    let s = sys.clone();
    let a = thread::spawn(move || {
        s.nvme_update_ns_ana_state(0, AnaState::Optimized);
        s.nvme_update_ns_ana_state(0, AnaState::Nonoptimized);
    });
    let s = sys.clone();
    let b = thread::spawn(move || {
        s.nvme_update_ns_ana_state(2, AnaState::Optimized);
        s.nvme_update_ns_ana_state(2, AnaState::Inaccessible);
    });
    let s = sys.clone();
    let r = thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(s.submit_bio(0));
        }
        got
    });
    a.join().unwrap();
    b.join().unwrap();
    let got = r.join().unwrap();
    check_no_violations(&sys);
    for g in &got {
        assert!(matches!(g, Submit::Path(_)), "a bio got no path although path 1 stayed optimized: {got:?}");
    }
    check_links(&sys);
    assert_eq!(lock(&sys.links).iter().copied().collect::<Vec<_>>(), vec![0, 1, 2]);
    check_current_path(&sys);
    check_bios(&sys);
}

pub(crate) fn set_live_links(profile: &Profile) {
    let sys = new_system(profile, 1, 3);
    sys.alloc_head_disk(false, DEFAULT_CAPACITY);
    for p in 0..3 {
        sys.apply(0, &Op::AddDevice { path: p, ctrl: p, ana: Some(AnaState::Optimized) }).expect("add_device");
    }
    let mut hs = Vec::new();
    for p in 0..3u32 {
        let s = sys.clone();
        hs.push(thread::spawn(move || s.set_live(p)));
    }
    for h in hs {
        h.join().unwrap();
    }
    check_no_violations(&sys);
    assert!(sys.test_flag(HEAD_DISK_LIVE) && sys.disk.gd_added.load(Ordering::Acquire), "head disk not live after set_live");
    check_links(&sys);
    assert_eq!(lock(&sys.links).iter().copied().collect::<Vec<_>>(), vec![0, 1, 2], "not every path got its multipath link");
    assert_ne!(sys.current_path[0].load(Ordering::Acquire), CP_NULL, "no current path after three paths went live");
    check_current_path(&sys);
    sys.run_works(0);
    assert_eq!(sys.disk.partition_scans.load(Ordering::Relaxed), 1, "partition scan ran other than once");
}

/// Two optimized paths, no cached path, and a head whose capacity changed:
/// both paths mismatch, so revalidation clears READY on each.
fn revalidate_setup(profile: &Profile) -> Arc<System> {
    let sys = new_system(profile, 1, 2);
    sys.alloc_head_disk(false, DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    add_path(&sys, 1, Some(AnaState::Optimized));
    sys.clear_paths();
    sys.disk.capacity.store(2 * DEFAULT_CAPACITY, Ordering::Relaxed);
    sys
}

pub(crate) fn revalidate_vs_find_path(profile: &Profile) {
    let sys = revalidate_setup(profile);
    let s = sys.clone();
    let v = thread::spawn(move || s.revalidate_paths(true));
    let s = sys.clone();
    let r = thread::spawn(move || {
        s.submit_bio(0);
        s.submit_bio(0);
    });
    sys.submit_bio(0);
    let hit = v.join().unwrap();
    r.join().unwrap();
    check_no_violations(&sys);
    assert_eq!(hit, vec![0, 1], "revalidate callback did not run on both paths");
    check_bios(&sys);
    sys.clear_paths();
    assert_eq!(sys.find_path(0), None, "a path was selected although none is READY");
    assert_eq!(sys.submit_bio(0), Submit::Requeued);
    check_no_violations(&sys);
}

pub(crate) fn iopolicy_vs_submit(profile: &Profile) {
    let sys = new_system(profile, 2, 2);
    sys.alloc_head_disk(false, DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    add_path(&sys, 1, Some(AnaState::Inaccessible));
    let s = sys.clone();
    let st = thread::spawn(move || {
        for pol in ["round-robin", "queue-depth", "numa"] {
            assert_eq!(s.drv_iopolicy_store(pol), pol.len() as i64);
        }
    });
    let s = sys.clone();
    let ana = thread::spawn(move || {
        s.nvme_update_ns_ana_state(0, AnaState::Inaccessible);
        s.nvme_update_ns_ana_state(0, AnaState::Optimized);
    });
    let s = sys.clone();
    let r1 = thread::spawn(move || {
        s.submit_bio(0);
        s.submit_bio(0);
    });
    sys.submit_bio(1);
    sys.submit_bio(1);
    st.join().unwrap();
    ana.join().unwrap();
    r1.join().unwrap();
    check_no_violations(&sys);
    check_bios(&sys);
    check_current_path(&sys);
    sys.run_works(0);
    complete_all(&sys);
    for (c, ctrl) in sys.ctrls.iter().enumerate() {
        assert_eq!(ctrl.nr_active.load(Ordering::Relaxed), 0, "ctrl {c}: nr_active not back to 0 after every bio completed");
    }
    check_no_violations(&sys);
    check_bios(&sys);
}

pub(crate) fn delayed_removal_vs_add(profile: &Profile) {
    let sys = new_system(profile, 1, 2);
    sys.alloc_head_disk(false, DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    assert_eq!(sys.delayed_removal_secs_store("5"), 1);
    let s = sys.clone();
    let d = thread::spawn(move || s.nvme_ns_remove(0, 0));
    let s = sys.clone();
    let a = thread::spawn(move || add_path(&s, 1, Some(AnaState::Optimized)));
    let s = sys.clone();
    let t = thread::spawn(move || {
        s.work.advance(10);
        s.run_works(0);
    });
    d.join().unwrap();
    a.join().unwrap();
    t.join().unwrap();
    // Let any timer still armed expire and its work run.
    sys.work.advance(10);
    sys.run_works(0);
    check_no_violations(&sys);
    assert_eq!(sys.drv_head.module_refs.load(Ordering::Acquire), 0, "module reference leaked or over-put");
    assert_eq!(sys.list_snapshot(), vec![1]);
    check_links(&sys);
    check_current_path(&sys);
}

pub(crate) fn revalidate_stale_cache(profile: &Profile) {
    let sys = revalidate_setup(profile);
    let s = sys.clone();
    let v = thread::spawn(move || s.revalidate_paths(true));
    sys.submit_bio(0);
    v.join().unwrap();
    check_no_violations(&sys);
    for (n, slot) in sys.current_path.iter().enumerate() {
        if let Some(p) = rculist::dec(slot.load(Ordering::Acquire)) {
            let ready = sys.paths[p as usize].ns_flags.load(Ordering::Acquire) & NVME_NS_READY != 0;
            assert!(ready, "current_path[{n}] caches path {p}, which is disabled (READY clear) after revalidation");
        }
    }
}

pub(crate) fn rr_remove_nontermination(profile: &Profile) {
    let sys = new_system(profile, 1, 2);
    sys.store_iopolicy(IoPolicy::RoundRobin);
    sys.alloc_head_disk(false, DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    add_path(&sys, 1, Some(AnaState::Nonoptimized));
    assert_eq!(sys.current_path[0].load(Ordering::Acquire), rculist::enc(0), "set-up: path 0 should be cached");
    let s = sys.clone();
    let d = thread::spawn(move || s.nvme_ns_remove(0, 0));
    let s = sys.clone();
    let r = thread::spawn(move || {
        s.submit_bio(0);
    });
    sys.submit_bio(0);
    d.join().unwrap();
    r.join().unwrap();
    check_no_violations(&sys);
    check_current_path(&sys);
    check_bios(&sys);
}
