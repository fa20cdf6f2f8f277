//! Unit tests of the library functions' edge cases, one group per spec
//! section (`/work/shared/spec/libmultipath.md`). Every expected value is
//! taken from the spec, not from the reference's output.

use mpath_reference::driver::{AluaState, AnaState, CtrlState, DriverKind, IoctlKind, SdevState, Template};
use mpath_reference::fwd::FwdOp;
use mpath_reference::head::{Life, CP_JUNK, CP_NULL};
use mpath_reference::io::Submit;
use mpath_reference::iopolicy::{iopolicy_name, nodelist, set_iopolicy, sysfs_streq};
use mpath_reference::ops::{Op, Ret};
use mpath_reference::rculist::{enc, RcuList};
use mpath_reference::removal::kstrtouint;
use mpath_reference::revision::{CurrentPathSize, HeadRef, Profile};
use mpath_reference::sync::Ordering;
use mpath_reference::topology::{LOCAL_DISTANCE, NUMA_NO_NODE, REMOTE_DISTANCE};
use mpath_reference::trace::Header;
use mpath_reference::violation::{Kind, Object};
use mpath_reference::{System, Topology};

const EWOULDBLOCK: i64 = -11;
const EINVAL: i64 = -22;
const EOPNOTSUPP: i64 = -95;
const ENOTTY: i64 = -25;
const ERANGE: i32 = -34;
const ENXIO: i64 = -6;
const ENOMEM: i64 = -12;

// ---- helpers

struct T {
    h: Header,
}

fn t(rev: &str, driver: DriverKind, topo: Topology, max_paths: usize) -> T {
    T { h: Header::new(rev, driver, topo, max_paths, max_paths) }
}
fn nvme(rev: &str, n: usize) -> T {
    t(rev, DriverKind::Nvme, Topology::uniform(1), n)
}
fn scsi(rev: &str, n: usize) -> T {
    t(rev, DriverKind::Scsi, Topology::uniform(1), n)
}
impl T {
    fn policy(mut self, p: &str) -> T {
        self.h.iopolicy = p.into();
        self
    }
    fn nodes(mut self, ctrl_nodes: &[i32]) -> T {
        self.h.ctrl_nodes = ctrl_nodes.to_vec();
        self
    }
    fn no_disk(mut self) -> T {
        self.h.head_disk = false;
        self
    }
    fn setup(mut self, ops: Vec<Op>) -> T {
        self.h.setup = ops;
        self
    }
    fn build(&self) -> System {
        self.h.instantiate().unwrap()
    }
}

/// `AddPath` (driver arrival: NVMe with an ANA state, or SCSI with ALUA optimal).
fn add(p: u32, ana: AnaState) -> Op {
    Op::AddPath { path: p, ctrl: p, capacity: 2048, ana: Some(ana), alua: None, missing_ops: vec![] }
}
fn sadd(p: u32, alua: AluaState) -> Op {
    Op::AddPath { path: p, ctrl: p, capacity: 2048, ana: None, alua: Some(alua), missing_ops: vec![] }
}
/// `AddDevice` (library add only; no set_live).
fn dev(p: u32, ana: AnaState) -> Op {
    Op::AddDevice { path: p, ctrl: p, ana: Some(ana) }
}
use AnaState::{Inaccessible as INACC, Nonoptimized as NONOPT, Optimized as OPT};

fn ap(s: &System, op: Op) -> Ret {
    s.apply(0, &op).unwrap_or_else(|e| panic!("{op:?}: {e}"))
}
fn find(s: &System, node: i32) -> Option<u32> {
    match ap(s, Op::FindPath { node }) {
        Ret::Path(p) => p,
        r => panic!("{r:?}"),
    }
}
fn int(r: Ret) -> i64 {
    match r {
        Ret::Int(i) => i,
        r => panic!("{r:?}"),
    }
}
fn cp(s: &System) -> Vec<Option<i64>> {
    s.observe().current_path.unwrap()
}
fn kinds(s: &System) -> Vec<(Kind, Object, String)> {
    s.violations().into_iter().map(|v| (v.kind, v.object, v.function)).collect()
}
fn clean(s: &System) {
    assert!(s.violations().is_empty(), "{:?}", s.violations());
}

// ---- §6 head lifetime, head disk, set_live

#[test]
fn s6_2_get_head_fails_at_zero_and_put_underflow_is_reported() {
    let s = nvme("v3", 1).build();
    assert_eq!(s.get_head(), 0);
    assert_eq!(s.head_ref.load(Ordering::Relaxed), 2);
    s.put_head();
    s.put_head();
    assert_eq!(s.head_ref.load(Ordering::Relaxed), 0);
    assert_eq!(s.get_head() as i64, ENXIO);
    clean(&s);
    s.put_head();
    assert!(kinds(&s).contains(&(Kind::RefUnderflow, Object::Head, "mpath_put_head".into())));
}

#[test]
fn s6_3_v2_final_put_frees_the_head() {
    let s = nvme("v2", 1).build();
    assert_eq!(s.head_life(), Life::Allocated);
    s.put_head();
    assert_eq!(s.head_life(), Life::Freed);
    // Anything on the head afterwards is a use-after-free.
    s.bdev_open();
    assert!(kinds(&s).iter().any(|(k, o, _)| *k == Kind::UseAfterFree && *o == Object::Head));
}

#[test]
fn s6_5_alloc_head_disk() {
    let s = nvme("v2", 1).no_disk().build();
    assert_eq!(s.alloc_head_disk(true, 2048) as i64, ENOMEM);
    assert_eq!(s.observe().head_disk.as_deref(), Some("err_ptr"));
    let s = nvme("v2", 1).no_disk().build();
    s.delayed_removal_secs.store(9, Ordering::Relaxed);
    assert_eq!(s.alloc_head_disk(false, 4096), 0);
    assert_eq!(s.observe().head_disk.as_deref(), Some("allocated"));
    assert_eq!(s.delayed_removal_secs.load(Ordering::Relaxed), 0, "alloc_head_disk sets delayed_removal_secs = 0");
    assert!(s.disk.suppress_part_scan.load(Ordering::Relaxed), "GD_SUPPRESS_PART_SCAN set");
    assert_eq!(s.disk.capacity.load(Ordering::Relaxed), 4096);
}

#[test]
fn s6_6_set_live_no_disk_is_a_noop() {
    let s = nvme("v2", 1).no_disk().setup(vec![dev(0, OPT)]).build();
    s.set_live(0);
    let o = s.observe();
    assert_eq!((o.head_flags, o.pending_work.clone(), o.current_path.clone()), (Some(0), Some(vec![]), Some(vec![None])));
    clean(&s);
}

#[test]
fn s6_6_set_live_failure_path() {
    let s = nvme("v2", 1).setup(vec![dev(0, OPT)]).build();
    ap(&s, Op::FailNextAddDisk);
    s.set_live(0);
    let o = s.observe();
    assert_eq!(o.head_flags, Some(0), "DISK_LIVE cleared again");
    assert_eq!(o.head_disk.as_deref(), Some("allocated"));
    assert_eq!(o.links, Some(vec![]), "no sysfs link");
    assert_eq!(o.current_path, Some(vec![None]), "no recompute");
    assert_eq!(o.pending_work, Some(vec![]), "no partition scan, no requeue kick");
    assert!(!s.disk.cdev_live.load(Ordering::Relaxed), "no add_cdev");
    // The injected failure is consumed: the next call goes live.
    s.set_live(0);
    let o = s.observe();
    assert_eq!((o.head_flags, o.current_path), (Some(1), Some(vec![Some(0)])));
    assert!(s.disk.cdev_live.load(Ordering::Relaxed));
}

#[test]
fn s6_6_set_live_recomputes_online_nodes_only() {
    let topo = Topology { possible: vec![0, 1, 2], online: vec![0, 2], distances: vec![] };
    let s = t("v2", DriverKind::Nvme, topo, 1).setup(vec![dev(0, OPT)]).build();
    s.set_live(0);
    assert_eq!(cp(&s), vec![Some(0), None, Some(0)]);
}

#[test]
fn s6_6_set_live_non_optimized_does_not_recompute() {
    let s = nvme("v2", 2).setup(vec![dev(0, OPT), dev(1, NONOPT)]).build();
    s.set_live(1);
    assert_eq!(cp(&s), vec![None]);
    s.set_live(0);
    assert_eq!(cp(&s), vec![Some(0)]);
}

#[test]
fn s6_7_partition_scan_runs_once() {
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(ap(&s, Op::RunWorks { node: 0 }), Ret::Works(vec![mpath_reference::work::Work::PartitionScan, mpath_reference::work::Work::Requeue]));
    assert_eq!(s.disk.partition_scans.load(Ordering::Relaxed), 1);
    assert!(!s.disk.suppress_part_scan.load(Ordering::Relaxed));
    // A second scan hits WARN_ON_ONCE(!test_and_clear_bit) and returns.
    s.partition_scan_work();
    assert_eq!(s.disk.partition_scans.load(Ordering::Relaxed), 1);
}

#[test]
fn s6_8_remove_disk_only_once() {
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    ap(&s, Op::RunWorks { node: 0 });
    s.remove_disk();
    assert_eq!(s.observe().head_flags, Some(0));
    assert!(!s.disk.registered() && s.disk.gd_added.load(Ordering::Relaxed), "del_gendisk ran (GD_ADDED stays set)");
    assert!(!s.disk.cdev_live.load(Ordering::Relaxed), "del_cdev ran");
    assert_eq!(s.observe().pending_work, Some(vec!["requeue".to_string()]));
    ap(&s, Op::RunWorks { node: 0 });
    s.remove_disk();
    assert_eq!(s.observe().pending_work, Some(vec![]), "second call: no requeue kick");
    assert_eq!(s.del_gendisk_not_added.load(Ordering::Relaxed), 0, "second call: no del_gendisk");
    assert_eq!(s.observe().head_disk.as_deref(), Some("allocated"), "remove_disk does not put the disk");
}

#[test]
fn s6_9_put_disk_variants() {
    // NULL: return.
    let s = nvme("v2", 1).no_disk().build();
    s.put_disk(0);
    clean(&s);
    assert_eq!(s.observe().head_disk.as_deref(), Some("none"));
    // ERR_PTR: not detected.
    let s = nvme("v2", 1).no_disk().build();
    s.alloc_head_disk(true, 2048);
    s.put_disk(0);
    assert_eq!(kinds(&s), vec![(Kind::NullDisk, Object::HeadDisk, "mpath_put_disk".into())]);
    // Normal: flush works, then put; a second put touches freed memory.
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    s.put_disk(0);
    let o = s.observe();
    assert_eq!((o.head_disk.as_deref(), o.pending_work), (Some("freed"), Some(vec![])));
    assert_eq!(s.disk.partition_scans.load(Ordering::Relaxed), 1, "partition scan flushed");
    clean(&s);
    s.put_disk(0);
    assert_eq!(kinds(&s), vec![(Kind::UseAfterFree, Object::HeadDisk, "mpath_put_disk".into())]);
}

// ---- §7 path selection

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

// ---- §8 I/O

#[test]
fn s8_1_available_path() {
    let s = nvme("v2", 1).setup(vec![dev(0, OPT)]).build();
    assert!(!s.available_path(), "DISK_LIVE clear: false even with a LIVE controller");
    s.set_live(0);
    assert!(s.available_path());
    for (st, avail) in [(CtrlState::Resetting, true), (CtrlState::Connecting, true), (CtrlState::Deleting, false), (CtrlState::Dead, false)] {
        ap(&s, Op::SetCtrlState { ctrl: 0, state: st });
        assert_eq!(s.available_path(), avail, "{st:?}");
    }
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Live });
    ap(&s, Op::SetFailfast { ctrl: 0, expired: true });
    assert!(!s.available_path(), "failfast expired");
    assert_eq!(int(ap(&s, Op::DelayedRemovalSecsStore { buf: "1".into() })), 1);
    assert!(s.available_path(), "queue_if_no_path");
    // 6.12: no queue-if-no-path (DEAD only by way of DELETING there).
    let s = nvme("nvme-6.12", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Deleting }), Ret::Bool(true));
    assert_eq!(ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Dead }), Ret::Bool(true));
    s.set_flag(1);
    assert!(!s.available_path());
}

/// Linux 6.12's `nvme_change_ctrl_state` (drivers/nvme/host/core.c): the
/// transition table, a refused change keeps the state and returns false,
/// a change to LIVE kicks the requeue lists of the controller's
/// namespaces, CONNECTING -> LIVE clears FAILFAST_EXPIRED. The library
/// revisions write the template's state directly.
#[test]
fn s16_1_nvme_6_12_change_ctrl_state() {
    use CtrlState::*;
    let allowed: &[(CtrlState, &[CtrlState])] = &[
        (Live, &[Connecting]),
        (Resetting, &[New, Live]),
        (Connecting, &[New, Resetting]),
        (Deleting, &[Live, Resetting, Connecting]),
        (DeletingNoio, &[Deleting, Dead]),
        (Dead, &[Deleting]),
        (New, &[]),
    ];
    for &(new, from) in allowed {
        for old in CtrlState::ALL {
            assert_eq!(old.nvme_may_become(new), from.contains(&old), "{old:?} -> {new:?}");
        }
    }
    // Through the op, from the controller's LIVE start.
    let s = nvme("nvme-6.12", 2).setup(vec![dev(0, OPT), dev(1, OPT)]).build();
    let set = |c: u32, st: CtrlState| ap(&s, Op::SetCtrlState { ctrl: c, state: st });
    let state = |c: usize| s.ctrls[c].state();
    let pending = |s: &System| s.observe().pending_work.unwrap();
    assert_eq!(set(0, Live), Ret::Bool(false), "LIVE -> LIVE is refused");
    assert_eq!(set(0, Connecting), Ret::Bool(false));
    assert_eq!(state(0), Live, "a refused change keeps the state");
    assert_eq!(set(0, Resetting), Ret::Bool(true));
    assert_eq!(set(0, Live), Ret::Bool(false), "RESETTING -> LIVE is refused");
    assert_eq!(set(0, Connecting), Ret::Bool(true));
    s.ctrls[0].failfast_expired.store(true, Ordering::Relaxed);
    assert!(pending(&s).is_empty(), "no kick before LIVE");
    assert_eq!(set(0, Live), Ret::Bool(true));
    assert_eq!(pending(&s), vec!["requeue".to_string()], "a change to LIVE kicks the requeue lists");
    assert!(!s.ctrls[0].failfast_expired.load(Ordering::Relaxed), "CONNECTING -> LIVE stops the failfast work");
    assert_eq!(set(1, Deleting), Ret::Bool(true));
    for st in [New, Live, Resetting, Connecting] {
        assert_eq!(set(1, st), Ret::Bool(false), "DELETING -> {st:?}");
    }
    assert_eq!((set(1, Dead), set(1, DeletingNoio), set(1, Dead)), (Ret::Bool(true), Ret::Bool(true), Ret::Bool(false)));
    assert_eq!(state(1), DeletingNoio);
    // A kick needs a namespace on the controller's list: a controller
    // without one (or after its path was removed) queues nothing.
    let s = nvme("nvme-6.12", 2).setup(vec![dev(0, OPT)]).build();
    for st in [Resetting, Connecting, Live] {
        assert_eq!(ap(&s, Op::SetCtrlState { ctrl: 1, state: st }), Ret::Bool(true));
    }
    assert!(pending(&s).is_empty());
    // v2: the template's state, written as given.
    let s = nvme("v2", 1).setup(vec![dev(0, OPT)]).build();
    assert_eq!(ap(&s, Op::SetCtrlState { ctrl: 0, state: New }), Ret::None);
    assert_eq!(s.ctrls[0].state(), New);
}

#[test]
fn s8_2_submit_and_requeue() {
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(s.submit_bio(0), Submit::Path(0));
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Resetting });
    assert_eq!(s.submit_bio(0), Submit::Requeued);
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Live });
    assert_eq!(s.requeue_work(0), 1);
    assert_eq!((s.requeue_len(), s.paths[0].inflight.lock().unwrap().len()), (0, 2));
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Dead });
    assert_eq!(s.submit_bio(0), Submit::Failed);
    assert_eq!(s.bios_failed.load(Ordering::Relaxed), 1);
}

#[test]
fn s15_v3_counters() {
    let s = nvme("v3", 1).setup(vec![add(0, OPT)]).build();
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Connecting });
    assert_eq!(s.submit_bio(0), Submit::Requeued);
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Dead });
    assert_eq!(s.submit_bio(0), Submit::Failed);
    assert_eq!((s.requeue_no_usable_path_cnt.load(Ordering::Relaxed), s.fail_no_avail_path_cnt.load(Ordering::Relaxed)), (1, 1));
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Connecting });
    s.submit_bio(0);
    assert_eq!(s.requeue_no_usable_path_cnt.load(Ordering::Relaxed), 0, "v2 has no counters");
}

// ---- §9 devices

#[test]
fn s9_2_delete_device_twice_is_a_contract_breach() {
    let s = nvme("v2", 2).setup(vec![dev(0, OPT), dev(1, OPT)]).build();
    assert!(!s.delete_device(0));
    clean(&s);
    assert!(!s.delete_device(0));
    assert_eq!(kinds(&s), vec![(Kind::ContractBreach, Object::Path(0), "mpath_delete_device".into())]);
    assert_eq!(s.list_snapshot(), vec![1]);
}

#[test]
fn s9_4_call_for_device() {
    let s = nvme("v2", 1).build();
    assert_eq!(s.call_for_device(0), (EWOULDBLOCK as i32, None));
    ap(&s, dev(0, OPT));
    assert_eq!(s.call_for_device(0), (0, Some(0)));
    assert_eq!(cp(&s), vec![Some(0)], "selection updates current_path");
}

#[test]
fn s9_5_clear_current_path_covers_offline_nodes() {
    let topo = Topology { possible: vec![0, 1, 2], online: vec![0], distances: vec![] };
    let s = t("v2", DriverKind::Nvme, topo, 2).setup(vec![dev(0, OPT), dev(1, OPT)]).build();
    // Offline nodes' slots can only hold a path through earlier history:
    // plant it there directly.
    for n in 0..3 {
        s.current_path[n].store(enc(0), Ordering::Relaxed);
    }
    s.current_path[1].store(enc(1), Ordering::Relaxed);
    assert!(s.clear_current_path(0));
    assert_eq!(cp(&s), vec![None, Some(1), None], "for_each_node: offline node 2 cleared too");
    assert!(!s.clear_current_path(0));
    s.clear_paths();
    assert_eq!(cp(&s), vec![None, None, None]);
}

#[test]
fn s9_7_revalidate_needs_head_disk_and_compares_capacity() {
    let s = nvme("v2", 2).setup(vec![dev(0, OPT), dev(1, OPT)]).build();
    ap(&s, Op::SetCapacity { path: 1, sectors: 1 });
    assert_eq!(s.revalidate_paths(true), vec![1]);
    assert_eq!(s.observe().ready, Some(vec![0]));
    assert_eq!(s.revalidate_paths(false), Vec::<u32>::new(), "no callback: nothing cleared");
    let s = nvme("v2", 1).no_disk().setup(vec![dev(0, OPT)]).build();
    s.current_path[0].store(enc(0), Ordering::Relaxed);
    s.revalidate_paths(false);
    assert_eq!(kinds(&s), vec![(Kind::NullDisk, Object::HeadDisk, "mpath_revalidate_paths".into())], "capacity read before the NULL-callback check");
    assert_eq!(cp(&s), vec![None]);
}

#[test]
fn s9_8_sysfs_links() {
    let s = nvme("v2", 3).setup(vec![add(0, OPT), dev(1, OPT)]).build();
    assert_eq!(s.observe().links, Some(vec![0]));
    assert_eq!(s.add_sysfs_link(), vec![1]);
    assert_eq!(s.add_sysfs_link(), Vec::<u32>::new());
    s.remove_sysfs_link(1);
    s.remove_sysfs_link(1);
    assert_eq!(s.link_remove_missing.load(Ordering::Relaxed), 0);
    let o = s.observe();
    assert_eq!((o.links, o.link_bits), (Some(vec![0]), Some(vec![0])));
    // A path whose disk is not added is skipped.
    ap(&s, dev(2, OPT));
    s.paths[2].disk_added.store(false, Ordering::Relaxed);
    assert_eq!(s.add_sysfs_link(), vec![1]);
    // 6.12: none at all.
    let s = nvme("nvme-6.12", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(s.observe().links, Some(vec![]));
    clean(&s);
}

// ---- §10 delayed removal

#[test]
fn s10_1_can_remove_head_module_refs() {
    let s = nvme("v2", 1).build();
    assert!(s.can_remove_head());
    assert_eq!(s.module_refs.load(Ordering::Relaxed), 0);
    assert_eq!(s.delayed_removal_secs_store("2"), 1);
    assert!(!s.can_remove_head());
    assert!(!s.can_remove_head());
    assert_eq!(s.module_refs.load(Ordering::Relaxed), 2, "every false return takes a reference");
    s.work.advance(2);
    s.run_works(0);
    assert_eq!(s.module_refs.load(Ordering::Relaxed), 1, "only one module_put follows");
    // try_module_get(NULL) succeeds without a pin.
    let mut s = nvme("v2", 1).build();
    s.drv_module_set = false;
    s.delayed_removal_secs_store("2");
    assert!(!s.can_remove_head());
    assert_eq!(s.module_refs.load(Ordering::Relaxed), 0);
    // 6.12: there is no delayed removal.
    let s = nvme("nvme-6.12", 1).build();
    s.set_flag(1);
    assert!(s.can_remove_head());
}

#[test]
fn s10_add_device_cancel_module_put_and_v1_leak() {
    for (rev, refs_after) in [("v2", 0), ("v1", 1), ("v3", 0)] {
        let s = nvme(rev, 2).setup(vec![add(0, OPT)]).build();
        s.delayed_removal_secs_store("5");
        ap(&s, Op::RemovePath { path: 0, node: 0 });
        assert_eq!(s.module_refs.load(Ordering::Relaxed), 1, "{rev}");
        ap(&s, dev(1, OPT));
        assert_eq!(s.module_refs.load(Ordering::Relaxed), refs_after, "{rev}: add_device cancel");
        assert!(!s.work.pending().iter().any(|w| w.starts_with("remove_head")), "{rev}: cancelled");
    }
    // Nothing pending: no module_put (no underflow).
    let s = nvme("v2", 2).build();
    ap(&s, dev(0, OPT));
    assert_eq!(s.module_refs.load(Ordering::Relaxed), 0);
    clean(&s);
}

#[test]
fn s10_4_kstrtouint() {
    let cases: &[(&str, Result<u32, i32>)] = &[
        ("0", Ok(0)),
        ("0\n", Ok(0)),
        ("5", Ok(5)),
        ("+5", Ok(5)),
        ("5\n", Ok(5)),
        ("010", Ok(8)),
        ("0x10", Ok(16)),
        ("0X1f\n", Ok(31)),
        ("4294967295", Ok(u32::MAX)),
        ("0xffffffff", Ok(u32::MAX)),
        ("4294967296", Err(ERANGE)),
        ("0x100000000", Err(ERANGE)),
        ("99999999999999999999", Err(ERANGE)),
        // A u64 overflow is reported before trailing junk (_kstrtoull).
        ("99999999999999999999x", Err(ERANGE)),
        ("4294967296x", Err(-22)),
        ("", Err(-22)),
        ("\n", Err(-22)),
        ("+", Err(-22)),
        ("-1", Err(-22)),
        ("-0", Err(-22)),
        (" 5", Err(-22)),
        ("5 ", Err(-22)),
        ("5\n\n", Err(-22)),
        ("08", Err(-22)),
        ("0x", Err(-22)),
        ("0xg", Err(-22)),
        ("1a", Err(-22)),
        ("junk", Err(-22)),
        ("++5", Err(-22)),
    ];
    for (s, want) in cases {
        assert_eq!(kstrtouint(s), *want, "kstrtouint({s:?})");
    }
}

#[test]
fn s10_4_store_and_show() {
    let s = nvme("v2", 1).build();
    assert_eq!(s.delayed_removal_secs_store("0x10\n"), 5);
    assert_eq!(s.delayed_removal_secs_show(), "16\n");
    assert!(s.test_flag(1));
    assert_eq!(s.delayed_removal_secs_store("x"), EINVAL);
    assert_eq!(s.delayed_removal_secs_show(), "16\n", "unchanged on error");
    assert_eq!(s.delayed_removal_secs_store("0"), 1);
    assert!(!s.test_flag(1));
}

// ---- §11 iopolicy

#[test]
fn s11_1_set_iopolicy_prefix() {
    assert_eq!(set_iopolicy(None), Err(-22));
    for (v, want) in [
        ("numa", Ok(0)),
        ("numafoo", Ok(0)),
        ("round-robin", Ok(1)),
        ("round-robin-x", Ok(1)),
        ("queue-depth", Ok(2)),
        ("queue-depth\n", Ok(2)),
        ("num", Err(-22)),
        ("NUMA", Err(-22)),
        (" numa", Err(-22)),
        ("round_robin", Err(-22)),
        ("queue", Err(-22)),
        ("", Err(-22)),
    ] {
        assert_eq!(set_iopolicy(Some(v)), want, "{v:?}");
    }
}

#[test]
fn s11_4_sysfs_streq_and_store() {
    for (a, b, eq) in [
        ("numa", "numa", true),
        ("numa\n", "numa", true),
        ("numa", "numa\n", true),
        ("numa\n", "numa\n", true),
        ("numa\n\n", "numa", false),
        ("numa ", "numa", false),
        ("num", "numa", false),
        ("numafoo", "numa", false),
        ("", "", true),
        ("\n", "", true),
    ] {
        assert_eq!(sysfs_streq(a, b), eq, "sysfs_streq({a:?}, {b:?})");
    }
    let s = nvme("v2", 1).build();
    assert_eq!(s.iopolicy_store("numa"), (true, false), "valid but unchanged: still true");
    assert_eq!(s.iopolicy_store("queue-depth\n"), (true, true));
    assert_eq!(s.iopolicy_store("queue"), (false, false));
    assert_eq!(s.iopolicy_show(), "queue-depth\n");
    assert_eq!(iopolicy_name(3), None);
    s.iopolicy.store(7, Ordering::Relaxed);
    assert_eq!(s.iopolicy_show(), "");
    assert_eq!(kinds(&s), vec![(Kind::OutOfBounds, Object::Head, "mpath_iopolicy_show".into())], "names[] has no bounds check");
}

#[test]
fn s11_4_driver_store_clearing_per_revision() {
    for (rev, cleared_when_unchanged) in [("v2", true), ("v3", true), ("nvme-6.12", false)] {
        let s = nvme(rev, 1).setup(vec![add(0, OPT)]).build();
        assert_eq!(s.drv_iopolicy_store("numa"), 4);
        assert_eq!(cp(&s) == vec![None], cleared_when_unchanged, "{rev}");
        assert_eq!(s.drv_iopolicy_store("nope"), EINVAL);
    }
    let s = scsi("v2", 1).setup(vec![sadd(0, AluaState::Optimal)]).build();
    assert_eq!(s.drv_iopolicy_store("numa"), 4);
    assert_eq!(cp(&s), vec![None]);
}

#[test]
fn s11_5_nodelist_and_numa_nodes_show() {
    for (nodes, want) in
        [(&[][..], ""), (&[0][..], "0"), (&[0, 1, 2][..], "0-2"), (&[0, 2][..], "0,2"), (&[0, 1, 3, 5, 6, 7][..], "0-1,3,5-7"), (&[4, 5][..], "4-5")]
    {
        assert_eq!(nodelist(nodes), want, "{nodes:?}");
    }
    let s = t("v2", DriverKind::Nvme, Topology::uniform(3), 2).nodes(&[0, 1]).setup(vec![add(0, OPT), add(1, OPT)]).build();
    assert_eq!(cp(&s), vec![Some(0), Some(1), Some(0)]);
    assert_eq!(s.numa_nodes_show(0), "0,2\n");
    assert_eq!(s.numa_nodes_show(1), "1\n");
    s.iopolicy.store(1, Ordering::Relaxed);
    assert_eq!(s.numa_nodes_show(0), "", "not NUMA: empty");
}

// ---- §12/§13 cdev and forwarded ops

#[test]
fn s13_forward_error_codes() {
    let expect: &[(FwdOp, i32)] = &[
        (FwdOp::PrRegister, -95),
        (FwdOp::PrReserve, -95),
        (FwdOp::PrRelease, -95),
        (FwdOp::PrPreempt, -95),
        (FwdOp::PrClear, -95),
        (FwdOp::PrReadKeys, -95),
        (FwdOp::PrReadReservation, -95),
        (FwdOp::ReportZones, -95),
        (FwdOp::Getgeo, -25),
        (FwdOp::GetUniqueId, 0),
    ];
    for (op, e) in expect {
        assert_eq!(op.missing_ret(), Some(*e), "{op:?}");
    }
    assert_eq!(FwdOp::Ioctl.missing_ret(), None, "ioctl has no NULL check");
    // No path: -EWOULDBLOCK for every op.
    let s = nvme("v2", 1).build();
    for op in FwdOp::ALL {
        assert_eq!(s.forward(0, op, IoctlKind::Ns) as i64, EWOULDBLOCK, "{op:?}");
    }
    // Missing ops: each op's own code; present ops: 0.
    let s = nvme("v2", 2).build();
    let missing: Vec<FwdOp> = FwdOp::ALL.iter().copied().filter(|o| *o != FwdOp::Ioctl).collect();
    ap(&s, Op::AddPath { path: 0, ctrl: 0, capacity: 2048, ana: Some(OPT), alua: None, missing_ops: missing });
    for (op, e) in expect {
        assert_eq!(s.forward(0, *op, IoctlKind::Ns), *e, "{op:?}");
    }
    assert_eq!(s.forward(0, FwdOp::Ioctl, IoctlKind::Ctrl), 0);
    clean(&s);
    assert_eq!(ENOTTY, -25);
    assert_eq!(EOPNOTSUPP, -95);
}

#[test]
fn s13_ioctl_without_fops_ioctl_is_a_null_deref() {
    let s = nvme("v2", 1).build();
    ap(&s, Op::AddPath { path: 0, ctrl: 0, capacity: 2048, ana: Some(OPT), alua: None, missing_ops: vec![FwdOp::Ioctl] });
    s.forward(0, FwdOp::Ioctl, IoctlKind::Ns);
    assert_eq!(kinds(&s), vec![(Kind::NullDeref, Object::PathDisk(0), "mpath_bdev_ioctl".into())]);
}

#[test]
fn s12_uring_codes_v1_vs_v2() {
    // No path (RR singular shortcut with a disabled cached path: no R12 in v1).
    for (rev, want) in [("v1", EWOULDBLOCK), ("v2", EINVAL), ("v3", EINVAL)] {
        let s = nvme(rev, 1).policy("round-robin").setup(vec![add(0, OPT)]).build();
        assert_eq!(s.chr_uring_cmd(0), 0, "{rev}");
        ap(&s, Op::SetReady { path: 0, ready: false });
        assert_eq!(s.chr_uring_cmd(0) as i64, want, "{rev}");
        assert_eq!(s.chr_ioctl(0, IoctlKind::Ns) as i64, EWOULDBLOCK, "{rev}");
        clean(&s);
    }
    // Missing callback: v1 checks it before locking, v2 after finding a path.
    let s = scsi("v1", 1).build();
    assert_eq!(s.chr_uring_cmd(0) as i64, EOPNOTSUPP);
    let s = scsi("v2", 1).build();
    assert_eq!(s.chr_uring_cmd(0) as i64, EINVAL);
    ap(&s, sadd(0, AluaState::Optimal));
    assert_eq!(s.chr_uring_cmd(0) as i64, EOPNOTSUPP);
}

#[test]
fn s12_ctrl_ioctl_takes_and_drops_a_ctrl_reference() {
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(s.chr_ioctl(0, IoctlKind::Ctrl), 0);
    assert_eq!(s.forward(0, FwdOp::Ioctl, IoctlKind::Ctrl), 0);
    assert_eq!(s.ctrls[0].refs.load(Ordering::Relaxed), 0, "ioctl_finish puts what ioctl_begin took");
    assert_eq!(s.srcu.readers(), 0, "SRCU balanced on the early-unlock path");
}

// ---- §6.1 / §14 / §17 revisions

#[test]
fn s6_1_sparse_node_ids_per_revision() {
    let topo = Topology { possible: vec![0, 2], online: vec![0, 2], distances: vec![] };
    let v2 = t("v2", DriverKind::Nvme, topo.clone(), 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(v2.current_path.len(), 2, "num_possible_nodes() slots");
    assert!(kinds(&v2).contains(&(Kind::OutOfBounds, Object::CurrentPath(2), "__mpath_find_path".into())));
    assert!(v2.clear_current_path(0));
    assert!(kinds(&v2).contains(&(Kind::OutOfBounds, Object::CurrentPath(2), "mpath_clear_current_path".into())), "for_each_node reaches node 2 too");
    for rev in ["nvme-6.12", "v1"] {
        let s = t(rev, DriverKind::Nvme, topo.clone(), 1).setup(vec![add(0, OPT)]).build();
        clean(&s);
        assert_eq!(cp(&s), vec![Some(0), Some(0)], "{rev}");
        assert_eq!(find(&s, 2), Some(0));
        clean(&s);
    }
    assert_eq!(t("nvme-6.12", DriverKind::Nvme, topo.clone(), 1).build().current_path.len(), 3, "nr_node_ids");
    assert_eq!(t("v1", DriverKind::Nvme, topo, 1).build().current_path.len(), 64, "MAX_NUMNODES");
}

#[test]
fn s14_r4_v1_set_live_null_disk() {
    let s = nvme("v1", 1).no_disk().setup(vec![dev(0, OPT)]).build();
    s.set_live(0);
    assert_eq!(kinds(&s), vec![(Kind::NullDeref, Object::HeadDisk, "mpath_device_set_live".into())]);
    let s = nvme("v2", 1).no_disk().setup(vec![dev(0, OPT)]).build();
    s.set_live(0);
    clean(&s);
}

#[test]
fn s14_r12_v1_junk_found() {
    let s = nvme("v1", 1).build();
    assert_eq!(s.__find_path(0), CP_JUNK);
    assert_eq!(cp(&s), vec![Some(-1)]);
    assert!(kinds(&s).contains(&(Kind::JunkPointer, Object::CurrentPath(0), "__mpath_find_path".into())));
    // Non-empty list without an OPTIMIZED path: the fallback is ignored (unconfirmed reading).
    let s = nvme("v1", 1).setup(vec![dev(0, NONOPT)]).build();
    assert_eq!(s.__find_path(0), CP_JUNK);
    // With an OPTIMIZED path the junk is overwritten.
    let s = nvme("v1", 1).setup(vec![dev(0, OPT)]).build();
    assert_eq!(s.__find_path(0), enc(0));
    clean(&s);
    // v2: NULL, nothing published.
    let s = nvme("v2", 1).build();
    assert_eq!(s.__find_path(0), CP_NULL);
    assert_eq!(cp(&s), vec![None]);
    clean(&s);
}

#[test]
fn s14_s15_s17_profiles() {
    let v1 = Profile::v1();
    assert_eq!(
        (v1.current_path_size, v1.find_path_init_null, v1.set_live_checks_disk_first, v1.add_device_module_put, v1.uring_no_path_ewouldblock),
        (CurrentPathSize::MaxNumnodes, false, false, false, true)
    );
    let v3 = Profile::v3();
    assert_eq!((v3.head_ref, v3.bio_remapped, v3.counters), (HeadRef::RefcountUninit, true, true));
    let m = Profile::nvme_6_12();
    assert_eq!(
        (m.current_path_size, m.queue_if_no_path, m.delayed_removal, m.sysfs_links, m.iopolicy_clear_only_on_change),
        (CurrentPathSize::NrNodeIds, false, false, false, true)
    );
    assert!(Profile::v2().differences_from_v2().is_empty());
    assert_eq!(Profile::by_name("6.12").unwrap().name, "nvme-6.12");
    assert!(Profile::by_name("v4").is_none());
    let p = Profile::from_json(r#"{"base":"v3","numa_fast_path_checks_disabled":true}"#).unwrap();
    assert!(p.numa_fast_path_checks_disabled && p.counters);
    assert!(Profile::from_json(r#"{"base":"v3","nope":1}"#).unwrap_err().contains("unknown profile field"));
    assert!(Profile::from_json(r#"{"numa_fast_path_checks_disabled":true}"#).is_err());
    for n in Profile::all_names() {
        assert_eq!(Profile::by_name(n).unwrap().name, n);
    }
}

#[test]
fn s15_v3_head_uninit() {
    let s = nvme("v3", 1).build();
    assert_eq!(s.bdev_open(), 0);
    assert!(!s.head_uninit(), "other references: a sequential caller would wait");
    s.bdev_release();
    assert!(s.head_uninit());
    assert_eq!(s.head_life(), Life::Freed);
    clean(&s);
}

#[test]
fn s5_3_synchronize_inside_a_read_section_is_a_self_deadlock() {
    let s = nvme("v2", 1).build();
    let idx = s.srcu.read_lock();
    s.mpath_synchronize();
    s.srcu.read_unlock(idx);
    assert_eq!(kinds(&s), vec![(Kind::SelfDeadlock, Object::Head, "mpath_synchronize".into())]);
    s.mpath_synchronize();
    assert_eq!(s.violations().len(), 1);
}

// ---- §16 drivers

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
