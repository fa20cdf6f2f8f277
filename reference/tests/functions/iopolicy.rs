//! Spec §11: iopolicy (module parameter, sysfs store and show, numa_nodes).

use crate::util::*;
use mpath_reference::driver::{AluaState, DriverKind};
use mpath_reference::iopolicy::{iopolicy_name, nodelist, set_iopolicy, sysfs_streq, IoPolicy, IOPOLICY_NAMES};
use mpath_reference::sync::Ordering;
use mpath_reference::violation::{Kind, Object};
use mpath_reference::Topology;

#[test]
fn s11_1_set_iopolicy_prefix() {
    assert_eq!(set_iopolicy(None), Err(-22));
    for (v, want) in [
        ("numa", Ok(IoPolicy::Numa)),
        ("numafoo", Ok(IoPolicy::Numa)),
        ("round-robin", Ok(IoPolicy::RoundRobin)),
        ("round-robin-x", Ok(IoPolicy::RoundRobin)),
        ("queue-depth", Ok(IoPolicy::QueueDepth)),
        ("queue-depth\n", Ok(IoPolicy::QueueDepth)),
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

/// `IoPolicy` is `enum mpath_iopolicy_e`: its numbers, its sysfs names in
/// `IOPOLICY_NAMES` order, and a checked conversion from the kernel's int.
#[test]
fn iopolicy_enum_numbers_and_names() {
    assert_eq!(IoPolicy::ALL.map(|p| p as u8), [0, 1, 2]);
    assert_eq!(IoPolicy::ALL.map(IoPolicy::name), IOPOLICY_NAMES);
    assert_eq!(IOPOLICY_NAMES, ["numa", "round-robin", "queue-depth"]);
    for p in IoPolicy::ALL {
        assert_eq!(IoPolicy::try_from(p as u8), Ok(p));
        assert_eq!(IoPolicy::from_name(p.name()), Some(p));
        assert_eq!(iopolicy_name(p as u8), Some(p.name()));
    }
    assert_eq!(IoPolicy::try_from(3), Err(3));
    assert_eq!(IoPolicy::from_name("numa\n"), None, "exact names only");
    assert_eq!(IoPolicy::default(), IoPolicy::Numa);
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
