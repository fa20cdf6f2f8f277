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
        let in_reval = pre.threads[x].depth > 0 && (1..pre.threads[x].depth as usize).any(|d| m.program.funcs[pre.threads[x].stack[d].func as usize].name == "mpath_revalidate_paths");
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
