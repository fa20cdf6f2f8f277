//! Spec §7: path selection (numa, round-robin, queue-depth, the predicates).

use crate::util::*;
use mpath_reference::driver::{AluaState, CtrlState, DriverKind, SdevState, Template};
use mpath_reference::head::CP_NULL;
use mpath_reference::ops::Op;
use mpath_reference::rculist::{enc, RcuList};
use mpath_reference::sync::Ordering;
use mpath_reference::topology::{LOCAL_DISTANCE, NUMA_NO_NODE, REMOTE_DISTANCE};
use mpath_reference::Topology;

#[test]
fn s7_2_find_path_ties_go_to_first_and_nonoptimized_fallback() {
    let s = nvme("v2", 3).setup(vec![dev(0, INACC), dev(1, NONOPT), dev(2, NONOPT)]).build();
    assert_eq!(s.__find_path(0), enc(1));
    assert_eq!(cp(&s), vec![Some(1)]);
    let s = nvme("v2", 3).setup(vec![dev(0, NONOPT), dev(1, OPT), dev(2, OPT)]).build();
    assert_eq!(s.__find_path(0), enc(1));
}

#[test]
fn s7_2_empty_search_keeps_stale_current_path() {
    let s = nvme("v2", 1).setup(vec![dev(0, OPT)]).build();
    assert_eq!(s.__find_path(0), enc(0));
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Dead });
    assert_eq!(s.__find_path(0), CP_NULL);
    assert_eq!(cp(&s), vec![Some(0)]);
}

#[test]
fn s7_2_distance_and_numa_no_node() {
    let topo = Topology { possible: vec![0, 1, 2], online: vec![0, 1, 2], distances: vec![[0, 2, 40], [1, 2, 12]] };
    assert_eq!(topo.node_distance(1, 1), LOCAL_DISTANCE);
    assert_eq!(topo.node_distance(0, 1), REMOTE_DISTANCE);
    assert_eq!((topo.node_distance(0, 2), topo.node_distance(2, 0)), (40, 40), "symmetric");
    assert_eq!(topo.node_distance(2, 1), 12);
    // NUMA_NO_NODE counts as LOCAL_DISTANCE from every node: it beats a
    // remote path listed first, and ties (first wins) with a local one.
    let s = t("v2", DriverKind::Nvme, topo, 3).nodes(&[2, NUMA_NO_NODE, 0]).setup(vec![dev(0, OPT), dev(1, OPT), dev(2, OPT)]).build();
    assert_eq!(s.__find_path(0), enc(1));
    assert_eq!(s.__find_path(2), enc(0));
    assert_eq!(s.__find_path(1), enc(1), "ctrl node 2 is 12 away, NUMA_NO_NODE is 10");
}

#[test]
fn s7_2_rr_and_qd_use_local_distance() {
    let topo = Topology::uniform(2);
    for pol in ["round-robin", "queue-depth"] {
        let s = t("v2", DriverKind::Nvme, topo.clone(), 2).nodes(&[1, 0]).policy(pol).setup(vec![dev(0, OPT), dev(1, OPT)]).build();
        assert_eq!(s.__find_path(0), enc(0), "{pol}: every distance is LOCAL, the first wins");
    }
    let s = t("v2", DriverKind::Nvme, topo, 2).nodes(&[1, 0]).setup(vec![dev(0, OPT), dev(1, OPT)]).build();
    assert_eq!(s.__find_path(0), enc(1));
}

#[test]
fn s7_4_rr_singular_shortcut_ignores_access_state() {
    let s = nvme("v2", 1).policy("round-robin").setup(vec![dev(0, OPT)]).build();
    assert_eq!(find(&s, 0), Some(0));
    ap(&s, Op::SetAnaState { path: 0, state: INACC });
    assert_eq!(s.round_robin_path(0), enc(0), "OTHER path returned by the singular shortcut");
    ap(&s, Op::SetReady { path: 0, ready: false });
    assert_eq!(s.round_robin_path(0), CP_NULL, "disabled: NULL");
    assert_eq!(cp(&s), vec![Some(0)]);
}

#[test]
fn s7_4_rr_keeps_optimized_old_over_nonoptimized() {
    let s = nvme("v2", 3).policy("round-robin").setup(vec![dev(0, OPT), dev(1, NONOPT), dev(2, NONOPT)]).build();
    assert_eq!(find(&s, 0), Some(0));
    assert_eq!(s.round_robin_path(0), enc(0));
    // With the old disabled, the LAST nonoptimized one in loop order wins.
    ap(&s, Op::SetAnaPending { path: 0, pending: true });
    assert_eq!(s.round_robin_path(0), enc(2));
    assert_eq!(cp(&s), vec![Some(2)]);
}

#[test]
fn s7_4_rr_no_candidate_leaves_current_path() {
    let s = nvme("v2", 2).policy("round-robin").setup(vec![dev(0, OPT), dev(1, INACC)]).build();
    assert_eq!(find(&s, 0), Some(0));
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Resetting });
    assert_eq!(s.round_robin_path(0), CP_NULL);
    assert_eq!(cp(&s), vec![Some(0)]);
}

#[test]
fn s7_3_next_dev_from_an_unlinked_entry_lands_on_the_list() {
    let l = RcuList::new(4);
    for i in 0..3 {
        l.add_tail(i);
    }
    assert!(!l.is_singular());
    l.del(1);
    assert_eq!(l.snapshot(), vec![0, 2]);
    assert_eq!(l.next(1), Some(2), "list_del_rcu keeps next");
    l.del(0);
    assert!(l.is_singular());
    assert_eq!(l.next(2), None, "last entry: next is the list head");
    assert_eq!(l.first(), Some(2));
    l.del(2);
    assert!(l.is_empty() && !l.is_singular());
}

#[test]
fn s7_5_qd_negative_depth_is_huge_unsigned() {
    let s = nvme("v2", 3).policy("queue-depth").setup(vec![dev(0, OPT), dev(1, OPT), dev(2, NONOPT)]).build();
    ap(&s, Op::SetNrActive { ctrl: 0, n: -3 });
    ap(&s, Op::SetNrActive { ctrl: 1, n: 7 });
    assert_eq!(s.queue_depth_path(), enc(1), "-3 is 4294967293, deeper than 7");
    ap(&s, Op::SetNrActive { ctrl: 0, n: -1 });
    ap(&s, Op::SetNrActive { ctrl: 1, n: -1 });
    assert_eq!(s.queue_depth_path(), enc(2), "-1 is UINT_MAX, never < the initial UINT_MAX: the nonoptimized path is used");
    ap(&s, Op::SetNrActive { ctrl: 1, n: -2 });
    assert_eq!(s.queue_depth_path(), enc(1));
    assert_eq!(cp(&s), vec![None], "QD never writes current_path");
}

#[test]
fn s7_5_qd_ties_first_and_optimized_preferred() {
    let s = nvme("v2", 3).policy("queue-depth").setup(vec![dev(0, NONOPT), dev(1, OPT), dev(2, OPT)]).build();
    ap(&s, Op::SetNrActive { ctrl: 1, n: 5 });
    ap(&s, Op::SetNrActive { ctrl: 2, n: 5 });
    assert_eq!(s.queue_depth_path(), enc(1));
    ap(&s, Op::SetCtrlState { ctrl: 1, state: CtrlState::Connecting });
    ap(&s, Op::SetCtrlState { ctrl: 2, state: CtrlState::Connecting });
    assert_eq!(s.queue_depth_path(), enc(0));
}

#[test]
fn s7_6_numa_fast_path_without_is_disabled() {
    let s = nvme("v2", 2).setup(vec![dev(0, OPT), dev(1, OPT)]).build();
    assert_eq!(find(&s, 0), Some(0));
    ap(&s, Op::SetReady { path: 0, ready: false });
    assert_eq!(s.numa_path(0), enc(0), "optimized and disabled: returned (S03c)");
    // The acknowledged fix (a profile override) recomputes instead.
    let mut h = nvme("v2", 2).setup(vec![dev(0, OPT), dev(1, OPT)]).h;
    h.profile = Some(serde_json::json!({"numa_fast_path_checks_disabled": true}).as_object().unwrap().clone());
    let s = h.instantiate().unwrap();
    assert_eq!(find(&s, 0), Some(0));
    ap(&s, Op::SetReady { path: 0, ready: false });
    assert_eq!(s.numa_path(0), enc(1));
    // SCSI: optimized implies not disabled.
    let s = scsi("v2", 2).setup(vec![sadd(0, AluaState::Optimal), sadd(1, AluaState::Optimal)]).build();
    ap(&s, Op::SetSdevState { path: 0, state: SdevState::Quiesce });
    assert_eq!(s.numa_path(0), enc(1));
}

#[test]
fn s7_1_predicates_never_read_access_state() {
    // NVMe is_optimized reads ana_state through the ctrl, not access_state:
    // a raw access_state change alone does not make it optimized.
    let s = nvme("v2", 1).setup(vec![dev(0, NONOPT)]).build();
    s.paths[0].access_state.store(mpath_reference::driver::AccessState::Optimized as u8, Ordering::Relaxed);
    assert!(!s.drv.is_optimized(&s.dev(0, "test")));
    assert!(!s.drv.is_disabled(&s.dev(0, "test")));
    for (state, disabled) in [
        (CtrlState::Live, false),
        (CtrlState::Deleting, false),
        (CtrlState::New, true),
        (CtrlState::Resetting, true),
        (CtrlState::Connecting, true),
        (CtrlState::DeletingNoio, true),
        (CtrlState::Dead, true),
    ] {
        ap(&s, Op::SetCtrlState { ctrl: 0, state });
        assert_eq!(s.drv.is_disabled(&s.dev(0, "test")), disabled, "{state:?}");
    }
    // SCSI: disabled unless RUNNING and ALUA OPTIMAL or ACTIVE.
    let s = scsi("v2", 1).setup(vec![sadd(0, AluaState::Optimal)]).build();
    for (alua, disabled, optimized) in [
        (AluaState::Optimal, false, true),
        (AluaState::Active, false, false),
        (AluaState::Standby, true, false),
        (AluaState::Unavailable, true, false),
        (AluaState::Lba, true, false),
        (AluaState::Offline, true, false),
        (AluaState::Transitioning, true, false),
    ] {
        ap(&s, Op::SetAluaState { path: 0, state: alua });
        assert_eq!((s.drv.is_disabled(&s.dev(0, "test")), s.drv.is_optimized(&s.dev(0, "test"))), (disabled, optimized), "{alua:?}");
    }
}
