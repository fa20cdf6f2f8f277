//! The numa rescan walk (`__mpath_find_path`) written by hand over the
//! *same* reference `System` data, as lean as the reference's checks allow:
//! one checked use-after-free access per path visit (`System::path`), the
//! NVMe predicates inlined, raw `u8` state compares, the controller read
//! once per path. Written for issue 14 as the design to apply; the
//! reference's selectors now follow it (`System::walk_bounded`, one
//! `System::dev` check per visit, generic over the template), so this is
//! the floor they are compared against: it checks the hand walk selects
//! what the reference selects, then times both (wall clock, best of 5
//! batches). A ratio near 1.0 means the reference's walk costs no more
//! than the hand-written one.
//!
//! `cargo run --release -p mpath-benches --example lean`

use mpath_benches::workloads;
use mpath_reference::driver::{AccessState, CtrlState, NVME_NS_ANA_PENDING, NVME_NS_READY};
use mpath_reference::head::CP_NULL;
use mpath_reference::iopolicy::IoPolicy;
use mpath_reference::rculist::enc;
use mpath_reference::sync::Ordering;
use mpath_reference::topology::{LOCAL_DISTANCE, NUMA_NO_NODE};
use mpath_reference::System;
use std::hint::black_box;
use std::time::Instant;

#[inline(never)]
fn lean_find_path(sys: &System, node: i32) -> u32 {
    const F: &str = "__mpath_find_path";
    let (mut found, mut fallback) = (CP_NULL, CP_NULL);
    let (mut found_d, mut fallback_d) = (u32::MAX, u32::MAX);
    let mut cur = sys.dev_list.first();
    let bound = 2 * sys.dev_list.capacity() + 2;
    let mut n = 0;
    while let Some(p) = cur {
        n += 1;
        if n > bound {
            return CP_NULL;
        }
        let s = sys.path(p, F); // the one checked access of this visit
        let c = &sys.ctrls[s.ctrl.load(Ordering::Relaxed) as usize];
        let st = c.state.load(Ordering::Acquire);
        let f = s.ns_flags.load(Ordering::Acquire);
        let disabled = !(st == CtrlState::Live as u8 || st == CtrlState::Deleting as u8) || f & NVME_NS_ANA_PENDING != 0 || f & NVME_NS_READY == 0;
        if !disabled {
            let numa = s.numa_node.load(Ordering::Relaxed);
            let d = if numa != NUMA_NO_NODE && sys.get_iopolicy() == Some(IoPolicy::Numa) { sys.topo.node_distance(node, numa) } else { LOCAL_DISTANCE };
            let a = s.access_state.load(Ordering::Relaxed);
            if a == AccessState::Optimized as u8 {
                if d < found_d {
                    found = enc(p);
                    found_d = d;
                }
            } else if a == AccessState::Nonoptimized as u8 && d < fallback_d {
                fallback = enc(p);
                fallback_d = d;
            }
        }
        cur = sys.dev_list.next(p);
    }
    if found == CP_NULL {
        found = fallback;
    }
    if found != CP_NULL {
        sys.current_path[node as usize].store(found, Ordering::Release);
    }
    found
}

fn best_of<F: FnMut() -> u32>(iters: u64, mut f: F) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        best = best.min(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    best
}

fn main() {
    for name in ["numa_rescan.all_opt.p8.n1", "numa_rescan.all_opt.p128.n1", "numa_rescan.one_opt_last.p128.n1", "numa_rescan.half_disabled.p128.n1"] {
        let w = workloads::by_name(name).expect("workload");
        let sys = w.build().expect("build");
        let idx = sys.srcu.read_lock();
        let iters = 200_000 / w.nr_paths() as u64 * 8;
        let r = best_of(iters, || {
            sys.current_path[0].store(CP_NULL, Ordering::Release);
            sys.find_path_locked(black_box(0))
        });
        sys.current_path[0].store(CP_NULL, Ordering::Release);
        let want = sys.find_path_locked(0);
        sys.current_path[0].store(CP_NULL, Ordering::Release);
        assert_eq!(lean_find_path(&sys, 0), want, "{name}: the hand walk selects differently");
        let l = best_of(iters, || {
            sys.current_path[0].store(CP_NULL, Ordering::Release);
            lean_find_path(&sys, black_box(0))
        });
        sys.srcu.read_unlock(idx);
        assert!(sys.violations().is_empty());
        println!("{name}: reference {r:.1} ns/op, hand-written walk {l:.1} ns/op (reference / hand {:.2})", r / l);
    }
}
