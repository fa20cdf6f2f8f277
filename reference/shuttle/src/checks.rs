//! Scenario set-up (an NVMe system in concurrent mode, path arrival) and the
//! properties asserted at the end of an execution: no violation, slots name
//! only linked paths, every bio accounted, LINK bit == link.

use mpath_reference::driver::{AnaState, DriverKind};
use mpath_reference::head::{Life, System, CP_JUNK, CP_NULL, DEVICE_SYSFS_ATTR_LINK};
use mpath_reference::ops::{Op, DEFAULT_CAPACITY};
use mpath_reference::sync::{lock, Arc, Ordering};
use mpath_reference::{Config, Profile, Topology};

pub(crate) fn new_system(profile: &Profile, nodes: usize, paths: usize) -> Arc<System> {
    let sys = System::new(&Config::new(profile.clone(), DriverKind::Nvme, Topology::uniform(nodes), paths, paths));
    sys.work.concurrent.store(true, Ordering::Relaxed);
    for c in 0..paths {
        sys.ctrls[c].numa_node.store((c % nodes) as i32, Ordering::Relaxed);
    }
    Arc::new(sys)
}

/// The driver's path arrival (`nvme_alloc_ns` .. `nvme_mpath_add_disk`).
pub(crate) fn add_path(sys: &System, path: u32, ana: Option<AnaState>) {
    let op = Op::AddPath { path, ctrl: path, capacity: DEFAULT_CAPACITY, ana, alua: None, missing_ops: vec![] };
    sys.apply(0, &op).expect("add_path");
}

pub(crate) fn check_no_violations(sys: &System) {
    let v = sys.violations();
    assert!(v.is_empty(), "violations: {}", v.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "));
}

/// No slot names a path that is not linked (freed, unlinked, unused) or junk.
pub(crate) fn check_current_path(sys: &System) {
    for (n, slot) in sys.current_path.iter().enumerate() {
        let v = slot.load(Ordering::Acquire);
        if v == CP_NULL {
            continue;
        }
        assert_ne!(v, CP_JUNK, "current_path[{n}] holds a junk pointer");
        let p = v - 1;
        let life = sys.paths[p as usize].life();
        assert_eq!(life, Life::Linked, "current_path[{n}] names path {p}, which is {life:?}");
    }
}

/// Every bio issued is completed, failed, requeued or in flight on a path
/// that still exists.
pub(crate) fn check_bios(sys: &System) {
    let issued = sys.counters.next_bio.load(Ordering::Relaxed) as u64;
    let mut inflight = 0u64;
    for (p, s) in sys.paths.iter().enumerate() {
        let n = lock(&s.inflight).len() as u64;
        if n > 0 {
            assert!(matches!(s.life(), Life::Linked | Life::Unlinked | Life::Allocated), "{n} bio(s) left in flight on path {p}, which is {:?}", s.life());
        }
        inflight += n;
    }
    let done = sys.counters.bios_completed.load(Ordering::Relaxed) + sys.bios_failed.load(Ordering::Relaxed);
    let requeued = sys.requeue_len() as u64;
    assert_eq!(issued, done + requeued + inflight, "bio accounting: issued {issued} != completed+failed {done} + requeued {requeued} + in flight {inflight}");
}

/// At rest: LINK bit set iff the link exists, and links name only linked paths.
pub(crate) fn check_links(sys: &System) {
    let links = lock(&sys.links).clone();
    for (p, s) in sys.paths.iter().enumerate() {
        let p = p as u32;
        let life = s.life();
        let bit = s.flags.load(Ordering::Acquire) & (1 << DEVICE_SYSFS_ATTR_LINK) != 0;
        if matches!(life, Life::Freed) {
            assert!(!links.contains(&p), "stale multipath link to freed path {p}");
            continue;
        }
        if life == Life::Unused {
            continue;
        }
        assert_eq!(bit, links.contains(&p), "path {p}: LINK bit {bit} but link present {}", links.contains(&p));
    }
}

pub(crate) fn complete_all(sys: &System) {
    for p in 0..sys.paths.len() as u32 {
        if sys.paths[p as usize].life() == Life::Linked {
            while sys.complete_bio(p).is_some() {}
        }
    }
}
