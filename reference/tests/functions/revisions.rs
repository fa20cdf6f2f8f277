//! Spec §6.1, §14, §17: what differs between revisions (node ids, R4, R12, profiles as data).

use crate::util::*;
use mpath_reference::driver::DriverKind;
use mpath_reference::head::{CP_JUNK, CP_NULL};
use mpath_reference::rculist::enc;
use mpath_reference::revision::{CurrentPathSize, HeadRef, Profile};
use mpath_reference::violation::{Kind, Object};
use mpath_reference::Topology;

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
