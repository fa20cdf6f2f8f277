//! Spec §6 (head lifetime, head disk, `set_live`), v3's `mpath_head_uninit` (§15) and synchronize inside a read section (§5.3).

use crate::util::*;
use mpath_reference::driver::DriverKind;
use mpath_reference::head::Life;
use mpath_reference::ops::{Op, Ret};
use mpath_reference::sync::Ordering;
use mpath_reference::violation::{Kind, Object};
use mpath_reference::Topology;

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
    assert_eq!(s.counters.del_gendisk_not_added.load(Ordering::Relaxed), 0, "second call: no del_gendisk");
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
