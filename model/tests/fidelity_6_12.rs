//! The nvme-6.12 revision follows Linux 6.12's C where the audit of issue 10
//! found it did not (`README.md`, "Model fidelity fixes (nvme-6.12)"). Each
//! test fails on the model as it was before its fix.

use mpath_model::machine::{Action, Machine};
use mpath_model::property as p;
use mpath_model::state::*;
use mpath_model::*;
use stateright::Model;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn rev(name: &str) -> RevisionSpec {
    RevisionSpec::by_name(name).unwrap()
}

fn verdict(r: &RevisionSpec, sc: &Scenario, prop: &str) -> (Verdict, Report) {
    let rep = check(r, sc, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    (rep.verdict(prop).unwrap(), rep)
}

fn machine(r: &RevisionSpec, sc: &Scenario) -> Machine {
    mpath_model::checker::machine(r, sc, Arc::new(AtomicBool::new(false))).unwrap()
}

/// Every transition reachable from the initial state: (pre, action, post).
fn transitions(m: &Machine) -> Vec<(State, Action, State)> {
    let mut seen: HashSet<State> = HashSet::new();
    let mut queue = VecDeque::new();
    let mut out = Vec::new();
    for s in m.init_states() {
        seen.insert(s);
        queue.push_back(s);
    }
    let mut actions = Vec::new();
    while let Some(s) = queue.pop_front() {
        actions.clear();
        m.actions(&s, &mut actions);
        for &a in &actions {
            let Some(n) = m.next_state(&s, a) else { continue };
            out.push((s, a, n));
            if seen.insert(n) {
                queue.push_back(n);
            }
        }
        assert!(seen.len() < 2_000_000, "state space larger than expected");
    }
    out
}

fn thread(m: &Machine, name: &str) -> usize {
    (0..m.worker).find(|&t| m.thread_name(t) == name).unwrap()
}

// ---- 1. nvme_update_ns_info freezes the head queue around revalidation

/// 6.12's `nvme_update_ns_info` runs `nvme_mpath_revalidate_paths` between
/// `blk_mq_freeze_queue(ns->head->disk->queue)` and the unfreeze, and a bio
/// enters that queue (`bio_queue_enter` in `__submit_bio`) before
/// `nvme_ns_head_submit_bio` selects a path: S03c's submitter cannot see
/// the READY bit cleared with the cached path still published.
#[test]
fn s03c_submit_bio_is_excluded_by_the_head_queue_freeze() {
    let sc = Scenario::by_name("S03c").unwrap();
    let (v, rep) = verdict(&rev("nvme-6.12"), &sc, p::NO_DISABLED_RETURNED);
    assert_eq!(v, Verdict::Holds, "{rep}");
    // v2's NVMe order (no freeze) is unchanged.
    assert_eq!(verdict(&rev("v2"), &sc, p::NO_DISABLED_RETURNED).0, Verdict::Violated);
}

/// Inside the freeze no thread holds a reference on the head queue, and a
/// thread that holds one is never inside the revalidation.
#[test]
fn revalidation_runs_with_no_bio_in_the_head_queue() {
    let sc = Scenario::by_name("S03c").unwrap();
    let m = machine(&rev("nvme-6.12"), &sc);
    let x = thread(&m, "X");
    let r = thread(&m, "R");
    let mut revalidating = 0;
    for (pre, _, _) in transitions(&m) {
        let in_reval = pre.threads[x].depth > 0
            && (1..pre.threads[x].depth as usize).any(|d| m.program.funcs[pre.threads[x].stack[d].func as usize].name == "mpath_revalidate_paths");
        if in_reval {
            revalidating += 1;
            assert!(pre.q_freeze > 0 && !pre.threads[r].q_ref, "R holds the head queue during the revalidation: {pre:?}");
        }
    }
    assert!(revalidating > 0);
}

/// The ioctl path is not covered by the freeze: an ioctl selecting while
/// the revalidation runs still gets the disabled cached path (S03c-ioctl).
#[test]
fn s03c_ioctl_is_not_excluded() {
    let sc = Scenario::by_name("S03c-ioctl").unwrap();
    let (v, rep) = verdict(&rev("nvme-6.12"), &sc, p::NO_DISABLED_RETURNED);
    assert_eq!(v, Verdict::Violated, "{rep}");
    let ce = rep.properties.iter().find(|x| x.property == p::NO_DISABLED_RETURNED).unwrap().counterexample.clone().unwrap();
    assert!(ce.steps.iter().any(|s| s.function == "mpath_chr_ioctl"), "{:?}", ce.steps);
    assert!(ce.steps.iter().all(|s| !s.function.contains("freeze") || s.thread_name == "X"));
}

// ---- 2. nvme_queue_depth_path reads each path's controller nr_active

use mpath_model::scenario::ThreadSpec;
use mpath_reference::driver::{AnaState, DriverKind};
use mpath_reference::ops::{Op, Ret};
use mpath_reference::trace::Header;
use mpath_reference::Topology;
use proptest::prelude::*;

/// Runs `ops` one after another on the model (one thread) and on the
/// reference; returns each find_path's return value on both sides.
fn sequential_find_paths(revision: &str, header: Header, ops: &[Op]) -> Vec<(Option<u32>, Option<u32>)> {
    let r = rev(revision);
    let sc = Scenario { name: "seq".into(), description: String::new(), header, threads: vec![ThreadSpec { name: "T".into(), ops: ops.to_vec() }] };
    let mut m = machine(&r, &sc);
    m.record_ret = true;
    let sys = sc.effective_header(&r.reference_profile_name()).instantiate().unwrap();
    let mut s = m.init;
    let mut out = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let ret = sys.apply(i as u64, op).unwrap();
        let mut guard = 0;
        while (s.threads[0].ops_done as usize) <= i {
            assert!(m.enabled(&s, 0), "model thread blocked at op {i} {op:?}");
            m.run(&mut s, 0);
            guard += 1;
            assert!(guard < 10_000);
        }
        if let (Op::FindPath { .. }, Ret::Path(p)) = (op, &ret) {
            let mr = match s.threads[0].last_ret {
                0 => None,
                v => Some(v as u32 - 1),
            };
            out.push((mr, *p));
        }
    }
    out
}

fn qd_header(ana: &[Option<AnaState>], depth: &[i32]) -> Header {
    let n = ana.len();
    let mut h = Header::new("nvme-6.12", DriverKind::Nvme, Topology::uniform(1), n, n);
    h.iopolicy = "queue-depth".into();
    h.setup =
        ana.iter().enumerate().map(|(i, a)| Op::AddPath { path: i as u32, ctrl: i as u32, capacity: 2048, ana: *a, alua: None, missing_ops: vec![] }).collect();
    h.setup.extend(depth.iter().enumerate().map(|(c, &d)| Op::SetNrActive { ctrl: c as u32, n: d }));
    h
}

/// The lowest depth wins (ties to the first path), optimized before
/// non-optimized: P1 is picked for its depth, not P0 for its position.
#[test]
fn queue_depth_picks_the_least_busy_controller() {
    use AnaState::{Nonoptimized as N, Optimized as O};
    // (ANA state per path, nr_active per controller, expected path)
    type Case<'a> = (&'a [Option<AnaState>], &'a [i32], Option<u32>);
    let cases: &[Case] = &[
        (&[Some(O), Some(O)], &[2, 1], Some(1)),
        (&[Some(O), Some(O), Some(O)], &[3, 1, 1], Some(1)),
        (&[Some(N), Some(O), Some(N)], &[0, 5, 0], Some(1)),
        (&[Some(N), Some(N)], &[4, 2], Some(1)),
        // -1 reads as UINT_MAX, never below the initial minimum.
        (&[Some(O), Some(N)], &[-1, 7], Some(1)),
    ];
    for (ana, depth, want) in cases {
        let got = sequential_find_paths("nvme-6.12", qd_header(ana, depth), &[Op::FindPath { node: 0 }]);
        assert_eq!(got, vec![(*want, *want)], "{ana:?} depths {depth:?}");
    }
}

/// 6.12 returns at the first optimized path of depth 0
/// (`if (min_depth_opt == 0) return best_opt;`): the loop never reads a
/// later element. Probe: F frees P1 (a raw free, no removal) while R
/// selects; only a loop that goes on past P0 reads the freed P1.
#[test]
fn queue_depth_returns_at_depth_zero() {
    let mut h = qd_header(&[Some(AnaState::Optimized), Some(AnaState::Optimized)], &[0, 0]);
    h.revision = "nvme-6.12".into();
    let sc = Scenario {
        name: "qd-early".into(),
        description: String::new(),
        header: h,
        threads: vec![
            ThreadSpec { name: "R".into(), ops: vec![Op::FindPath { node: 0 }] },
            ThreadSpec { name: "F".into(), ops: vec![Op::FreePath { path: 1 }] },
        ],
    };
    let (v, rep) = verdict(&rev("nvme-6.12"), &sc, p::NO_USE_AFTER_FREE);
    assert_eq!(v, Verdict::Holds, "{rep}");
    // v2's selector (all depths equal, no early return) walks on to P1.
    assert_eq!(verdict(&rev("v2"), &sc, p::NO_USE_AFTER_FREE).0, Verdict::Violated);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    /// The nvme-6.12 queue-depth selection agrees with the reference (which
    /// reads `ctrl->nr_active` per path and returns early at depth 0), for
    /// random ANA states, depths and READY / ANA_PENDING changes.
    #[test]
    fn queue_depth_selection_agrees_with_the_reference(
        ana in proptest::collection::vec(prop_oneof![Just(Some(AnaState::Optimized)), Just(Some(AnaState::Nonoptimized)), Just(Some(AnaState::Inaccessible)), Just(None)], 1..=4),
        depth in proptest::collection::vec(-2i32..4, 4),
        ops in proptest::collection::vec((0u32..4, 0u8..4), 1..8),
    ) {
        let n = ana.len() as u32;
        let ops: Vec<Op> = ops.into_iter().map(|(p, k)| {
            let path = p % n;
            match k {
                0 => Op::SetReady { path, ready: false },
                1 => Op::SetAnaPending { path, pending: p % 2 == 0 },
                2 => Op::AnaUpdate { path, state: AnaState::Optimized },
                _ => Op::FindPath { node: 0 },
            }
        }).chain(std::iter::once(Op::FindPath { node: 0 })).collect();
        for (i, (m, r)) in sequential_find_paths("nvme-6.12", qd_header(&ana, &depth[..ana.len()]), &ops).into_iter().enumerate() {
            prop_assert_eq!(m, r, "find_path #{} in {:?} (ana {:?}, depths {:?})", i, ops, ana, depth);
        }
    }
}

// ---- 3. nvme_mpath_shutdown_disk kicks the requeue work after synchronize_srcu

/// `requeue` with D calling the last-path teardown directly: R's bio finds
/// P0 ANA-pending (disabled, but its controller is live), sees the head
/// live and requeues it. 6.12's `nvme_mpath_shutdown_disk` clears
/// DISK_LIVE, waits for head->srcu, then kicks the requeue work, which
/// finds the bio and fails it; a kick before the wait can run before R
/// adds its bio, which then waits on the list of a dead head.
fn shutdown_probe() -> Scenario {
    let mut sc = Scenario::by_name("requeue").unwrap();
    sc.name = "shutdown-vs-requeue".into();
    sc.threads[1] = ThreadSpec { name: "D".into(), ops: vec![Op::RemoveDisk] };
    sc
}

#[test]
fn shutdown_kicks_requeue_after_the_grace_period() {
    let sc = shutdown_probe();
    let (v, rep) = verdict(&rev("nvme-6.12"), &sc, p::NO_STRANDED_REQUEUE);
    assert_eq!(v, Verdict::Holds, "{rep}");
    // The v2 series kicks first (mpath_remove_disk, patch 0004): stranded.
    let (v, rep) = verdict(&rev("v2"), &sc, p::NO_STRANDED_REQUEUE);
    assert_eq!(v, Verdict::Violated, "{rep}");
    // 6.12's order, step by step: test_and_clear_bit(DISK_LIVE),
    // nvme_cdev_del, synchronize_srcu, kblockd_schedule_work, del_gendisk.
    let m = machine(&rev("nvme-6.12"), &sc);
    let f = m.program.func("nvme_mpath_shutdown_disk").unwrap() as usize;
    let shared: Vec<String> = m.program.funcs[f]
        .steps
        .iter()
        .filter(|s| !s.is_local())
        .map(|s| match s {
            mpath_model::step::CStep::Plain(st) => st.primitive(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(shared, ["hasheaddisk", "test_and_clear_bit(disk_live)", "del_cdev", "synchronize_srcu", "queue_work(requeue)", "del_gendisk(head->disk)"]);
}

/// In 6.12's own call order (nvme_ns_remove of the last path) the kick's
/// position is not observable: the synchronize_srcu after list_del_rcu
/// already waits for every submitter that saw the path listed, and later
/// ones find head->list empty (nvme_available_path is false). R12 holds
/// either way.
#[test]
fn last_path_removal_strands_no_bio() {
    let sc = Scenario::by_name("R12").unwrap();
    assert_eq!(verdict(&rev("nvme-6.12"), &sc, p::NO_STRANDED_REQUEUE).0, Verdict::Holds);
}

// ---- 4. nvme_ns_remove unlinks under subsys->lock only

/// 6.12's `nvme_ns_remove` does `list_del_rcu(&ns->siblings)` and
/// `list_empty(&ns->head->list)` under `subsys->lock`; it takes no
/// `head->lock`, so the unlink can happen while `nvme_mpath_set_live`
/// holds `head->lock` for its `current_path` recompute (remove-vs-ana:
/// A takes P1 live while D removes P0).
#[test]
fn ns_remove_unlinks_while_set_live_holds_head_lock() {
    let sc = Scenario::by_name("remove-vs-ana").unwrap();
    let m = machine(&rev("nvme-6.12"), &sc);
    let a = thread(&m, "A");
    let d = thread(&m, "D");
    let head_lock_by_d = transitions(&m).iter().any(|(_, _, post)| post.mutex[0] == d as u8 + 1);
    assert!(!head_lock_by_d, "nvme_ns_remove takes head->lock");
    let unlinked_under_a = transitions(&m).iter().any(|(pre, act, post)| {
        *act == Action::Run(d as u8) && pre.mutex[0] == a as u8 + 1 && pre.paths[0].life == Life::Linked && post.paths[0].life == Life::Unlinked
    });
    assert!(unlinked_under_a, "D never unlinks P0 while A holds head->lock");
    // Verdicts are those of the locked version.
    let rep = check(&rev("nvme-6.12"), &sc, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    assert!(rep.violated().is_empty(), "{rep}");
}

// ---- 5. the path is freed only after its in-flight requests ended

/// NUMA, P0 and P1 optimized, a bio submitted in the setup is in flight on
/// P0; `other` completes it while D runs nvme_ns_remove(P0).
fn in_flight_probe(other: Op) -> Scenario {
    let mut sc = Scenario::by_name("N2a").unwrap();
    sc.name = "in-flight-vs-remove".into();
    sc.header.setup.retain(|op| !matches!(op, Op::ClearPaths));
    sc.header.setup.push(Op::SubmitBio { node: 0 });
    sc.threads = vec![ThreadSpec { name: "F".into(), ops: vec![other] }, ThreadSpec { name: "D".into(), ops: vec![Op::RemovePath { path: 0, node: 0 }] }];
    sc
}

/// `del_gendisk(ns->disk)` in 6.12's `nvme_ns_remove` waits for the
/// namespace queue's requests (`blk_mq_freeze_queue_wait`), and
/// `nvme_put_ns` frees the namespace after it: a request that fails over
/// (nvme_failover_req touches the namespace: ANA_PENDING, the requeue)
/// ends before the free. The model freed P0 at the end of nvme_ns_remove
/// whatever was in flight, so F's failover could touch the freed P0.
#[test]
fn failover_of_an_in_flight_request_ends_before_the_free() {
    let sc = in_flight_probe(Op::Failover { path: 0, ana_error: true });
    let m = machine(&rev("nvme-6.12"), &sc);
    assert_eq!(m.init.paths[0].inflight, 1, "the setup's bio is in flight on P0");
    let (v, rep) = verdict(&rev("nvme-6.12"), &sc, p::NO_USE_AFTER_FREE);
    assert_eq!(v, Verdict::Holds, "{rep}");
    // Both orders happen: the failover completes the request (and requeues
    // its bio) before the free, or the device completed it first and F has
    // nothing to fail over.
    let t = transitions(&m);
    let f = thread(&m, "F");
    let done: Vec<&State> = t.iter().map(|(_, _, n)| n).filter(|n| m.at_rest(n)).collect();
    assert!(done.iter().any(|n| n.paths[0].life == Life::Freed && n.paths[0].bit(pbit::ANA_PENDING)), "F never failed the request over");
    assert!(done.iter().any(|n| n.paths[0].life == Life::Freed && !n.paths[0].bit(pbit::ANA_PENDING)), "the device never completed it first");
    assert!(t.iter().all(|(_, a, n)| *a != Action::Run(f as u8) || n.viol & vbit::UAF_PATH == 0));
}

/// A successful completion (`nvme_complete_rq` -> `nvme_end_req`, which
/// reads `ns->ctrl`) likewise ends before the free.
#[test]
fn completion_of_an_in_flight_request_ends_before_the_free() {
    let sc = in_flight_probe(Op::Complete { path: 0 });
    let (v, rep) = verdict(&rev("nvme-6.12"), &sc, p::NO_USE_AFTER_FREE);
    assert_eq!(v, Verdict::Holds, "{rep}");
}

/// In no reachable state of the removal scenarios is a path freed while a
/// request is in flight on it, and the remover is never left waiting for
/// ever (bios R submitted to the departing path complete while it waits).
#[test]
fn no_request_in_flight_on_a_freed_path() {
    for name in ["N2a", "N2c", "R12", "S03a-B", "S03b-nvme"] {
        let sc = Scenario::by_name(name).unwrap();
        let m = machine(&rev("nvme-6.12"), &sc);
        let t = transitions(&m);
        for (_, _, n) in &t {
            for ps in &n.paths {
                assert!(ps.life != Life::Freed || ps.inflight == 0, "{name}: freed with a request in flight: {n:?}");
            }
        }
        // Some interleaving sends a bio to the departing P0 before it goes.
        assert!(t.iter().any(|(_, _, n)| n.paths[0].inflight > 0), "{name}: no bio ever in flight on P0");
        let rep = check(&rev("nvme-6.12"), &sc, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
        assert_eq!(rep.verdict(p::NO_DEADLOCK), Some(Verdict::Holds), "{name}");
        assert_eq!(rep.verdict(p::NO_USE_AFTER_FREE), Some(Verdict::Holds), "{name}");
    }
}

// ---- what the fixes leave as it was

/// S03a scenario B and S03b under the NVMe order still reproduce on 6.12
/// after the fixes above: the spin (the removal never kicks the cached
/// `old` out of R's walk) and the stranded requeue (nvme_ns_remove of a
/// path that is not the last kicks no requeue work).
#[test]
fn s03a_b_and_s03b_nvme_still_reproduce() {
    let r = rev("nvme-6.12");
    let rep = check(&r, &Scenario::by_name("S03a-B").unwrap(), &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    assert_eq!(rep.verdict(p::SELECTION_TERMINATES), Some(Verdict::Violated), "{rep}");
    assert_eq!(rep.verdict(p::NO_STRANDED_REQUEUE), Some(Verdict::Violated), "{rep}");
    let rep = check(&r, &Scenario::by_name("S03b-nvme").unwrap(), &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    assert_eq!(rep.verdict(p::NO_UNLINKED_RETURNED), Some(Verdict::Holds), "{rep}");
    assert_eq!(rep.verdict(p::NO_STRANDED_REQUEUE), Some(Verdict::Violated), "{rep}");
    // The stranded bio: requeued by a submitter, on the list at rest, with
    // the remaining path usable and no requeue work pending.
    let ce = rep.properties.iter().find(|x| x.property == p::NO_STRANDED_REQUEUE).unwrap().counterexample.clone().unwrap();
    assert!(ce.steps.iter().any(|s| s.primitive == "bio_list_add(requeue_list)"), "{:?}", ce.steps);
    assert!(ce.steps.iter().all(|s| s.primitive != "queue_work(requeue)"), "{:?}", ce.steps);
}
