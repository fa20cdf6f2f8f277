//! Spec §9 (devices: delete, call_for_device, clear, revalidate, sysfs links) and §10 (delayed removal).

use crate::util::*;
use mpath_reference::driver::DriverKind;
use mpath_reference::ops::Op;
use mpath_reference::rculist::enc;
use mpath_reference::removal::kstrtouint;
use mpath_reference::sync::Ordering;
use mpath_reference::violation::{Kind, Object};
use mpath_reference::Topology;

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
    assert_eq!(s.counters.link_remove_missing.load(Ordering::Relaxed), 0);
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
    assert_eq!(s.drv_head.module_refs.load(Ordering::Relaxed), 0);
    assert_eq!(s.delayed_removal_secs_store("2"), 1);
    assert!(!s.can_remove_head());
    assert!(!s.can_remove_head());
    assert_eq!(s.drv_head.module_refs.load(Ordering::Relaxed), 2, "every false return takes a reference");
    s.work.advance(2);
    s.run_works(0);
    assert_eq!(s.drv_head.module_refs.load(Ordering::Relaxed), 1, "only one module_put follows");
    // try_module_get(NULL) succeeds without a pin.
    let mut s = nvme("v2", 1).build();
    s.drv_head.drv_module_set = false;
    s.delayed_removal_secs_store("2");
    assert!(!s.can_remove_head());
    assert_eq!(s.drv_head.module_refs.load(Ordering::Relaxed), 0);
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
        assert_eq!(s.drv_head.module_refs.load(Ordering::Relaxed), 1, "{rev}");
        ap(&s, dev(1, OPT));
        assert_eq!(s.drv_head.module_refs.load(Ordering::Relaxed), refs_after, "{rev}: add_device cancel");
        assert!(!s.work.pending().iter().any(|w| w.starts_with("remove_head")), "{rev}: cancelled");
    }
    // Nothing pending: no module_put (no underflow).
    let s = nvme("v2", 2).build();
    ap(&s, dev(0, OPT));
    assert_eq!(s.drv_head.module_refs.load(Ordering::Relaxed), 0);
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
