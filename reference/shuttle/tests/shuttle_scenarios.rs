//! shuttle: driver scenarios on the real reference under the random and
//! PCT schedulers (registry in `src/scenarios.rs`, programs in
//! `src/programs.rs`).
//!
//! Run: `CARGO_TARGET_DIR=target/shuttle cargo test -p mpath-shuttle --release --features shuttle --test shuttle_scenarios`
//! Long mode: `MPV_SHUTTLE_ITERS=100000` (iterations per scheduler run),
//! `MPV_SHUTTLE_SEED=random` (fresh seeds; printed on failure).
//!
//! For each scenario: every profile it `passes` (v2, documented equivalent
//! mutants) must pass under both schedulers; every profile it `catches`
//! (mutants; v2 itself for a scenario recording a finding) must fail under
//! one of them, and the saved schedule must replay to the same failure.

#![cfg(feature = "shuttle")]

use mpath_shuttle::{self as sc, Outcome, RunSpec, SchedulerKind};
use std::path::PathBuf;
use std::time::Instant;

/// Iterations per scheduler run in CI (overridden by `MPV_SHUTTLE_ITERS`).
const CI_ITERS: usize = 5000;
const PCT_DEPTH: usize = 3;

fn failure_dir() -> PathBuf {
    std::env::var_os("MPV_SHUTTLE_FAILURE_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("shuttle-failures"))
}

fn spec(scenario: &str, profile: &str, scheduler: SchedulerKind, iterations: usize) -> RunSpec {
    let mut s = RunSpec::new(scenario, sc::profile(profile).expect("profile"), scheduler, iterations);
    s.failure_dir = failure_dir();
    s
}

/// The profile passes under random and PCT.
fn must_pass(scenario: &str, profile: &str, iters: usize) {
    for sched in [SchedulerKind::Random, SchedulerKind::Pct { depth: PCT_DEPTH }] {
        let t = Instant::now();
        let sp = spec(scenario, profile, sched, iters);
        let out = sc::run(&sp).expect("run");
        eprintln!("[shuttle] {scenario} on {profile}, {sched}, seed {}: {out} in {:.2}s", sp.seed, t.elapsed().as_secs_f64());
        assert!(!out.failed(), "{out}");
    }
}

/// The profile fails under random or PCT; the schedule replays to the same
/// failure.
fn must_catch(scenario: &str, profile: &str, iters: usize) {
    let t = Instant::now();
    for sched in [SchedulerKind::Random, SchedulerKind::Pct { depth: PCT_DEPTH }] {
        let sp = spec(scenario, profile, sched, iters);
        let out = sc::run(&sp).expect("run");
        if let Outcome::Failed(f) = out {
            eprintln!(
                "[shuttle] {scenario} on {profile}, {sched}, seed {}: caught at execution {} in {:.2}s: {}",
                sp.seed,
                f.iteration,
                t.elapsed().as_secs_f64(),
                f.message
            );
            let file = f.schedule_file.clone().expect("schedule saved");
            let again = sc::replay_schedule(&file).expect("replay");
            match again {
                Outcome::Failed(g) => assert_eq!(g.message, f.message, "replay of {} failed differently", file.display()),
                Outcome::Passed { .. } => panic!("replay of {} did not reproduce the failure", file.display()),
            }
            return;
        }
        eprintln!("[shuttle] {scenario} on {profile}, {sched}: not caught in {iters} executions");
    }
    panic!("{scenario}: profile {profile} was not caught by random or PCT in {iters} executions each");
}

fn scenario_suite(name: &str) {
    let s = sc::find(name).expect("scenario");
    let iters = sc::iterations(CI_ITERS);
    for p in s.passes {
        must_pass(name, p, iters);
    }
    for m in s.catches {
        must_catch(name, m, iters);
    }
}

#[test]
fn ns_remove_vs_submit() {
    scenario_suite("ns-remove-vs-submit");
}

#[test]
fn ana_change_vs_rr() {
    scenario_suite("ana-change-vs-rr");
}

#[test]
fn set_live_links() {
    scenario_suite("set-live-links");
}

#[test]
fn revalidate_vs_find_path() {
    scenario_suite("revalidate-vs-find-path");
}

#[test]
fn iopolicy_vs_submit() {
    scenario_suite("iopolicy-vs-submit");
}

#[test]
fn delayed_removal_vs_add() {
    scenario_suite("delayed-removal-vs-add");
}

#[test]
fn revalidate_stale_cache_finding() {
    scenario_suite("revalidate-stale-cache");
}

#[test]
fn rr_remove_nontermination_finding() {
    scenario_suite("rr-remove-nontermination");
}

#[test]
fn every_mutant_profile_is_caught_by_some_scenario() {
    // mut-no-sync2 is the documented equivalent (review-races.md N2 b).
    // The registry's other mutants came from the model (one registry since
    // issue 12) and have no shuttle scenario yet: listed exactly, so that a
    // scenario catching one must take it off the list.
    const NO_SCENARIO_YET: &[&str] = &[
        "mut-set-live-deref-first",
        "mut-no-remove-link",
        "mut-no-ctrl-sync",
        "mut-sync-inside-srcu",
        "mut-set-live-no-sync",
        "mut-numa-no-optimized-check",
        "mut-remove-disk-no-kick",
    ];
    for m in mpath_reference::Profile::mutant_names() {
        let caught = sc::SCENARIOS.iter().any(|s| s.catches.contains(&m));
        let equivalent = sc::SCENARIOS.iter().any(|s| s.passes.contains(&m));
        assert_eq!(caught || equivalent, !NO_SCENARIO_YET.contains(&m), "mutant {m}: exercised by a shuttle scenario: {}", caught || equivalent);
    }
}

#[test]
fn replay_rejects_a_bad_file() {
    let dir = failure_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("not-a-schedule.json");
    std::fs::write(&p, "{}").unwrap();
    assert!(sc::replay_schedule(&p).is_err());
    assert!(sc::replay_schedule(&dir.join("missing.json")).is_err());
}

/// `MPV_SHUTTLE_REPLAY=FILE cargo test ... --test shuttle_scenarios replay_from_env -- --nocapture`
/// replays a saved schedule in a fresh process (what `mpath-verify shuttle
/// replay FILE` does); without the variable it does nothing.
#[test]
fn replay_from_env() {
    let Some(file) = std::env::var_os("MPV_SHUTTLE_REPLAY") else { return };
    let out = sc::replay_schedule(std::path::Path::new(&file)).expect("replay");
    eprintln!("[shuttle] replay of {}: {out}", PathBuf::from(&file).display());
    assert!(out.failed(), "the saved schedule no longer fails: {out}");
}
