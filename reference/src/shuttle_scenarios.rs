//! Shuttle scenarios: driver call orders run concurrently on the real
//! reference (built with `--features shuttle`, so every atomic, mutex and
//! thread in the library is shuttle's), under shuttle's random and PCT
//! schedulers. Each scenario ends with assertions on a property that can
//! fail; a failing execution's schedule is saved to a JSON file that
//! [`replay_schedule`] runs again deterministically.
//!
//! Used by `tests/shuttle_*.rs` and by the CLI (`mpath-verify shuttle ...`).
//!
//! Knobs: `MPV_SHUTTLE_ITERS` (iterations per run, see [`iterations`]),
//! `MPV_SHUTTLE_SEED` (base seed, see [`seed`]), `MPV_SHUTTLE_FAILURE_DIR`
//! (where failing schedules go, see [`failure_dir`]).

use crate::driver::{AnaState, DriverKind};
use crate::head::{Life, System, CP_JUNK, CP_NULL, DEVICE_SYSFS_ATTR_LINK, HEAD_DISK_LIVE};
use crate::ops::Op;
use crate::revision::Profile;
use crate::select::IOPOLICY_RR;
use crate::sync::{lock, thread, Arc, Ordering};
use crate::topology::Topology;
use crate::Config;
use serde::{Deserialize, Serialize};
use shuttle::scheduler::{PctScheduler, RandomScheduler, ReplayScheduler, Schedule, Scheduler, Task, TaskId};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Version of the schedule file format.
pub const SCHEDULE_FORMAT: u32 = 1;

/// One scenario: a driver-level concurrent program plus its property.
pub struct Scenario {
    pub name: &'static str,
    /// What runs concurrently.
    pub about: &'static str,
    /// What is asserted (at the end of every execution).
    pub property: &'static str,
    /// Profiles (revision names, `mut-*` mutants, or `base+field=value`
    /// overrides, see [`profile`]) that this scenario must catch.
    pub catches: &'static [&'static str],
    /// Profiles that must pass: the baseline `v2`, plus documented
    /// equivalent mutants. Empty for a scenario that records a finding of
    /// the spec (v2 itself fails, and is then listed in `catches`).
    pub passes: &'static [&'static str],
    pub body: fn(&Profile),
}

/// Every scenario, in the order of `CONCURRENCY.md`.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "ns-remove-vs-submit",
        about: "nvme_ns_remove(path 0) vs two submitters (nodes 0 and 1), 2 paths, current_path cleared before",
        property: "no violation; no current_path slot names a freed/unlinked path; every bio accounted (completed, failed, requeued or in flight on a live path); requeued bios go to path 1",
        catches: &["mut-no-sync1", "mut-no-sync3"],
        passes: &["v2", "mut-no-sync2"],
        body: ns_remove_vs_submit,
    },
    Scenario {
        name: "ana-change-vs-rr",
        about: "two ANA updates (paths 0 and 2 leave ANA-pending, become optimized, then non-optimized / inaccessible) vs a round-robin submitter; path 1 stays optimized",
        property: "no violation (no duplicate link, no non-termination); every bio gets a path; at rest LINK bit == link for every path",
        catches: &["mut-link-test-then-set"],
        passes: &["v2"],
        body: ana_change_vs_rr,
    },
    Scenario {
        name: "set-live-links",
        about: "three concurrent mpath_device_set_live (paths 0..2 added, head disk allocated, not live)",
        property: "no violation; head disk added once and live; links == {0,1,2} == LINK bits; current_path[0] names a linked path",
        catches: &["mut-link-test-then-set"],
        passes: &["v2"],
        body: set_live_links,
    },
    Scenario {
        name: "revalidate-vs-find-path",
        about: "mpath_revalidate_paths (head capacity changed: both paths lose READY) vs two submitters",
        property: "no violation (no junk pointer published); every bio accounted; afterwards find_path finds nothing and a new bio is requeued",
        catches: &["mut-find-path-uninit"],
        passes: &["v2"],
        body: revalidate_vs_find_path,
    },
    Scenario {
        name: "iopolicy-vs-submit",
        about: "iopolicy store round-robin -> queue-depth -> numa (clears paths, kicks requeue) vs two submitters; ANA of path 0 flips inaccessible and back",
        property: "no violation; every bio accounted; after completing all bios every nr_active is 0; current_path names only linked paths",
        catches: &["mut-find-path-uninit"],
        passes: &["v2"],
        body: iopolicy_vs_submit,
    },
    Scenario {
        name: "delayed-removal-vs-add",
        about: "finding (found once the series' C showed that GD_ADDED outlives del_gendisk): delayed removal armed (5 s): nvme_ns_remove(last path) vs a new path arriving (add_device, set_live) vs the timer firing and the remove work running",
        property: "no violation (no module ref underflow); at rest module_refs == 0; head disk live with the new path linked. v2 FAILS: the remove work's mpath_remove_disk runs between the arriving path's mpath_device_set_live (DISK_LIVE still set: no add) and its mpath_add_sysfs_link, whose GD_ADDED guard passes on the deleted head: NullDeref in sysfs_add_link_to_group (the oops trace 9.8 reproduces sequentially in the v2 C)",
        catches: &["v2", "v2+add_device_module_put=false"],
        passes: &[],
        body: delayed_removal_vs_add,
    },
    Scenario {
        name: "revalidate-stale-cache",
        about: "finding (review-races.md S03c, revalidate window): mpath_revalidate_paths clears READY then current_path with no synchronize, vs a submitter on node 0",
        property: "at rest no current_path slot names a disabled (not READY) path; v2 FAILS: a selector that read READY before the callback installs the path after mpath_clear_paths",
        catches: &["v2"],
        passes: &[],
        body: revalidate_stale_cache,
    },
    Scenario {
        name: "rr-remove-nontermination",
        about: "finding (review-races.md S03a, scenario B): round-robin, path 0 optimized and cached, path 1 non-optimized; nvme_ns_remove(0) vs two submitters on node 0",
        property: "no violation; v2 FAILS with NonTermination (the RR loop of a reader holding the unlinked `old` never meets it again; the kernel would spin and hang S3); the S03a fix profile passes",
        catches: &["v2"],
        passes: &["v2+rr_loop_stops_at_unlinked_old=true"],
        body: rr_remove_nontermination,
    },
];

pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// A profile by name: a revision or mutant name (`v2`, `mut-no-sync1`), or
/// `base+field=value[+field=value...]` for a profile diff, e.g.
/// `v2+add_device_module_put=false`.
pub fn profile(spec: &str) -> Result<Profile, String> {
    let mut parts = spec.split('+');
    let base = parts.next().unwrap_or_default();
    let mut obj = serde_json::Map::new();
    obj.insert("base".into(), serde_json::Value::String(base.into()));
    let mut any = false;
    for kv in parts {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("profile override {kv:?} is not field=value"))?;
        let val: serde_json::Value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
        obj.insert(k.into(), val);
        any = true;
    }
    if !any {
        return Profile::by_name(base).ok_or_else(|| format!("unknown profile {base:?}"));
    }
    let mut p = Profile::from_json(&serde_json::Value::Object(obj).to_string())?;
    p.name = spec.into();
    Ok(p)
}

// ---------------------------------------------------------------------------
// Runs, outcomes, schedule files

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerKind {
    Random,
    /// PCT with this bug depth.
    Pct {
        depth: usize,
    },
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedulerKind::Random => write!(f, "random"),
            SchedulerKind::Pct { depth } => write!(f, "pct{depth}"),
        }
    }
}

/// One run: a scenario on a profile under a scheduler.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub scenario: String,
    pub profile: Profile,
    pub scheduler: SchedulerKind,
    pub iterations: usize,
    pub seed: u64,
    /// Where a failing schedule is written.
    pub failure_dir: PathBuf,
}

impl RunSpec {
    pub fn new(scenario: &str, profile: Profile, scheduler: SchedulerKind, iterations: usize) -> RunSpec {
        RunSpec { scenario: scenario.into(), profile, scheduler, iterations, seed: seed(), failure_dir: failure_dir() }
    }
}

/// A failing execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub scenario: String,
    pub profile: String,
    pub scheduler: String,
    /// The run's scheduler seed (reproduces the whole run).
    pub seed: u64,
    /// 1-based index of the failing execution in the run.
    pub iteration: usize,
    /// The panic message of the failed assertion.
    pub message: String,
    /// The saved schedule (None if it could not be written, or on replay).
    pub schedule_file: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed { iterations: usize },
    Failed(Failure),
}

impl Outcome {
    pub fn failed(&self) -> bool {
        matches!(self, Outcome::Failed(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Passed { iterations } => write!(f, "passed ({iterations} executions)"),
            Outcome::Failed(x) => {
                write!(f, "FAILED: {} on {} ({}, seed {}, execution {}): {}", x.scenario, x.profile, x.scheduler, x.seed, x.iteration, x.message)?;
                if let Some(p) = &x.schedule_file {
                    write!(f, "\n  schedule saved to {}\n  replay: mpath-verify shuttle replay {}", p.display(), p.display())?;
                }
                Ok(())
            }
        }
    }
}

/// The schedule file: everything needed to run the failing execution again.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleFile {
    pub mpath_shuttle_schedule: u32,
    pub scenario: String,
    pub profile: Profile,
    pub scheduler: String,
    pub seed: u64,
    pub iteration: usize,
    pub message: String,
    /// Seed of the failing execution's data source.
    pub schedule_seed: u64,
    /// Task ids in scheduling order; -1 is a random-value step.
    pub steps: Vec<i64>,
}

/// `MPV_SHUTTLE_ITERS` if set (long mode), else `default`.
pub fn iterations(default: usize) -> usize {
    std::env::var("MPV_SHUTTLE_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `MPV_SHUTTLE_SEED` if set (`random` draws one), else a fixed seed so
/// that CI runs are reproducible.
pub fn seed() -> u64 {
    match std::env::var("MPV_SHUTTLE_SEED") {
        Ok(v) if v == "random" => {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
            t ^ (std::process::id() as u64).rotate_left(32)
        }
        Ok(v) => v.parse().unwrap_or(0x6d70_6174_6876_6572),
        Err(_) => 0x6d70_6174_6876_6572,
    }
}

/// `MPV_SHUTTLE_FAILURE_DIR` if set, else `shuttle-failures` under the
/// current directory.
pub fn failure_dir() -> PathBuf {
    std::env::var_os("MPV_SHUTTLE_FAILURE_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("shuttle-failures"))
}

/// Records the schedule of the current execution (the steps the runtime
/// asked the inner scheduler for), so that a failure can be saved.
struct Recorder<S> {
    inner: S,
    rec: std::sync::Arc<std::sync::Mutex<Recording>>,
}

/// The current execution: its data seed, its steps (task ids, -1 for a
/// random value) and its 1-based index in the run.
#[derive(Clone, Default)]
struct Recording {
    seed: u64,
    steps: Vec<i64>,
    execution: usize,
}

impl<S: Scheduler> Scheduler for Recorder<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        let s = self.inner.new_execution()?;
        let mut r = self.rec.lock().unwrap_or_else(|p| p.into_inner());
        r.seed = s.seed;
        r.steps.clear();
        r.execution += 1;
        Some(s)
    }
    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, is_yielding: bool) -> Option<TaskId> {
        let t = self.inner.next_task(runnable, current, is_yielding);
        if let Some(t) = t {
            self.rec.lock().unwrap_or_else(|p| p.into_inner()).steps.push(usize::from(t) as i64);
        }
        t
    }
    fn next_u64(&mut self) -> u64 {
        self.rec.lock().unwrap_or_else(|p| p.into_inner()).steps.push(-1);
        self.inner.next_u64()
    }
}

fn shuttle_config() -> shuttle::Config {
    let mut c = shuttle::Config::new();
    // We save and print the schedule ourselves (attributable file names).
    c.failure_persistence = shuttle::FailurePersistence::None;
    c
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_else(|| "panic".into())
}

fn body_for(name: &str) -> Result<fn(&Profile), String> {
    find(name)
        .map(|s| s.body)
        .ok_or_else(|| format!("unknown shuttle scenario {name:?} (known: {})", SCENARIOS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")))
}

/// Run one scenario under the chosen scheduler; stops at the first failing
/// execution, saves its schedule and prints how to replay it.
pub fn run(spec: &RunSpec) -> Result<Outcome, String> {
    let body = body_for(&spec.scenario)?;
    let rec = std::sync::Arc::new(std::sync::Mutex::new(Recording::default()));
    let profile = spec.profile.clone();
    let f = move || body(&profile);
    let r = match spec.scheduler {
        SchedulerKind::Random => {
            let s = Recorder { inner: RandomScheduler::new_from_seed(spec.seed, spec.iterations), rec: rec.clone() };
            catch_unwind(AssertUnwindSafe(|| shuttle::Runner::new(s, shuttle_config()).run(f)))
        }
        SchedulerKind::Pct { depth } => {
            let s = Recorder { inner: PctScheduler::new_from_seed(spec.seed, depth, spec.iterations), rec: rec.clone() };
            catch_unwind(AssertUnwindSafe(|| shuttle::Runner::new(s, shuttle_config()).run(f)))
        }
    };
    let recording = rec.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let iteration = recording.execution;
    match r {
        Ok(n) => Ok(Outcome::Passed { iterations: n }),
        Err(e) => {
            let message = panic_message(&*e);
            let file = ScheduleFile {
                mpath_shuttle_schedule: SCHEDULE_FORMAT,
                scenario: spec.scenario.clone(),
                profile: spec.profile.clone(),
                scheduler: spec.scheduler.to_string(),
                seed: spec.seed,
                iteration,
                message: message.clone(),
                schedule_seed: recording.seed,
                steps: recording.steps,
            };
            let path = save(&spec.failure_dir, &file);
            let failure = Failure {
                scenario: spec.scenario.clone(),
                profile: spec.profile.name.clone(),
                scheduler: spec.scheduler.to_string(),
                seed: spec.seed,
                iteration,
                message,
                schedule_file: path.as_ref().ok().cloned(),
            };
            eprintln!("[shuttle] {}", Outcome::Failed(failure.clone()));
            if let Err(e) = path {
                eprintln!("[shuttle] could not save the schedule ({e}); it was:\n{}", serde_json::to_string(&file).unwrap_or_default());
            }
            Ok(Outcome::Failed(failure))
        }
    }
}

fn save(dir: &Path, f: &ScheduleFile) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = format!("{}-{}-{}-seed{}-exec{}.json", f.scenario, f.profile.name.replace(['/', '+', '='], "_"), f.scheduler, f.seed, f.iteration);
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(f).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.canonicalize().unwrap_or(path))
}

/// Replay a saved failing schedule deterministically: the same scenario, on
/// the same profile, in the same interleaving. Returns the outcome (a
/// faithful replay fails again with the same message).
pub fn replay_schedule(file: &Path) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let f: ScheduleFile = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if f.mpath_shuttle_schedule != SCHEDULE_FORMAT {
        return Err(format!("{}: schedule format {} (this build reads {SCHEDULE_FORMAT})", file.display(), f.mpath_shuttle_schedule));
    }
    let body = body_for(&f.scenario)?;
    let mut schedule = Schedule::new(f.schedule_seed);
    for &s in &f.steps {
        if s < 0 {
            schedule.push_random();
        } else {
            schedule.push_task(TaskId::from(s as usize));
        }
    }
    let profile = f.profile.clone();
    let mut sched = ReplayScheduler::new_from_schedule(schedule);
    sched.set_allow_incomplete();
    let r = catch_unwind(AssertUnwindSafe(|| shuttle::Runner::new(sched, shuttle_config()).run(move || body(&profile))));
    Ok(match r {
        Ok(n) => Outcome::Passed { iterations: n },
        Err(e) => Outcome::Failed(Failure {
            scenario: f.scenario,
            profile: f.profile.name,
            scheduler: format!("replay of {}", f.scheduler),
            seed: f.seed,
            iteration: f.iteration,
            message: panic_message(&*e),
            schedule_file: None,
        }),
    })
}

// ---------------------------------------------------------------------------
// Scenario helpers

fn new_system(profile: &Profile, nodes: usize, paths: usize) -> Arc<System> {
    let sys = System::new(&Config::new(profile.clone(), DriverKind::Nvme, Topology::uniform(nodes), paths, paths));
    sys.work.concurrent.store(true, Ordering::Relaxed);
    for c in 0..paths {
        sys.ctrls[c].numa_node.store((c % nodes) as i32, Ordering::Relaxed);
    }
    Arc::new(sys)
}

/// The driver's path arrival (`nvme_alloc_ns` .. `nvme_mpath_add_disk`).
fn add_path(sys: &System, path: u32, ana: Option<AnaState>) {
    let op = Op::AddPath { path, ctrl: path, capacity: crate::ops::DEFAULT_CAPACITY, ana, alua: None, missing_ops: vec![] };
    sys.apply(0, &op).expect("add_path");
}

fn check_no_violations(sys: &System) {
    let v = sys.violations();
    assert!(v.is_empty(), "violations: {}", v.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "));
}

/// No slot names a path that is not linked (freed, unlinked, unused) or junk.
fn check_current_path(sys: &System) {
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
fn check_bios(sys: &System) {
    let issued = sys.next_bio.load(Ordering::Relaxed) as u64;
    let mut inflight = 0u64;
    for (p, s) in sys.paths.iter().enumerate() {
        let n = lock(&s.inflight).len() as u64;
        if n > 0 {
            assert!(matches!(s.life(), Life::Linked | Life::Unlinked | Life::Allocated), "{n} bio(s) left in flight on path {p}, which is {:?}", s.life());
        }
        inflight += n;
    }
    let done = sys.bios_completed.load(Ordering::Relaxed) + sys.bios_failed.load(Ordering::Relaxed);
    let requeued = sys.requeue_len() as u64;
    assert_eq!(issued, done + requeued + inflight, "bio accounting: issued {issued} != completed+failed {done} + requeued {requeued} + in flight {inflight}");
}

/// At rest: LINK bit set iff the link exists, and links name only linked paths.
fn check_links(sys: &System) {
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

fn complete_all(sys: &System) {
    for p in 0..sys.paths.len() as u32 {
        if sys.paths[p as usize].life() == Life::Linked {
            while sys.complete_bio(p).is_some() {}
        }
    }
}

// ---------------------------------------------------------------------------
// Scenarios

fn ns_remove_vs_submit(profile: &Profile) {
    let sys = new_system(profile, 2, 2);
    sys.alloc_head_disk(false, crate::ops::DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    add_path(&sys, 1, Some(AnaState::Optimized));
    sys.clear_paths();
    let s = sys.clone();
    let d = thread::spawn(move || s.nvme_ns_remove(0, 0));
    let s = sys.clone();
    let r1 = thread::spawn(move || {
        s.submit_bio(0);
        s.submit_bio(0);
    });
    let s = sys.clone();
    let r2 = thread::spawn(move || {
        s.submit_bio(1);
        s.submit_bio(0);
    });
    d.join().unwrap();
    r1.join().unwrap();
    r2.join().unwrap();
    check_no_violations(&sys);
    check_current_path(&sys);
    check_bios(&sys);
    check_links(&sys);
    assert_eq!(sys.list_snapshot(), vec![1]);
    // The requeue work resubmits everything onto the remaining path.
    sys.run_works(0);
    check_no_violations(&sys);
    assert_eq!(sys.requeue_len(), 0, "requeued bios were not resubmitted");
    check_current_path(&sys);
    check_bios(&sys);
}

fn ana_change_vs_rr(profile: &Profile) {
    let sys = new_system(profile, 1, 3);
    sys.iopolicy.store(IOPOLICY_RR, Ordering::Relaxed);
    sys.alloc_head_disk(false, crate::ops::DEFAULT_CAPACITY);
    add_path(&sys, 1, Some(AnaState::Optimized));
    add_path(&sys, 0, None);
    add_path(&sys, 2, None);
    let s = sys.clone();
    let a = thread::spawn(move || {
        s.nvme_update_ns_ana_state(0, AnaState::Optimized);
        s.nvme_update_ns_ana_state(0, AnaState::Nonoptimized);
    });
    let s = sys.clone();
    let b = thread::spawn(move || {
        s.nvme_update_ns_ana_state(2, AnaState::Optimized);
        s.nvme_update_ns_ana_state(2, AnaState::Inaccessible);
    });
    let s = sys.clone();
    let r = thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(s.submit_bio(0));
        }
        got
    });
    a.join().unwrap();
    b.join().unwrap();
    let got = r.join().unwrap();
    check_no_violations(&sys);
    for g in &got {
        assert!(matches!(g, crate::io::Submit::Path(_)), "a bio got no path although path 1 stayed optimized: {got:?}");
    }
    check_links(&sys);
    assert_eq!(lock(&sys.links).iter().copied().collect::<Vec<_>>(), vec![0, 1, 2]);
    check_current_path(&sys);
    check_bios(&sys);
}

fn set_live_links(profile: &Profile) {
    let sys = new_system(profile, 1, 3);
    sys.alloc_head_disk(false, crate::ops::DEFAULT_CAPACITY);
    for p in 0..3 {
        sys.apply(0, &Op::AddDevice { path: p, ctrl: p, ana: Some(AnaState::Optimized) }).expect("add_device");
    }
    let mut hs = Vec::new();
    for p in 0..3u32 {
        let s = sys.clone();
        hs.push(thread::spawn(move || s.set_live(p)));
    }
    for h in hs {
        h.join().unwrap();
    }
    check_no_violations(&sys);
    assert!(sys.test_flag(HEAD_DISK_LIVE) && sys.disk.gd_added.load(Ordering::Acquire), "head disk not live after set_live");
    check_links(&sys);
    assert_eq!(lock(&sys.links).iter().copied().collect::<Vec<_>>(), vec![0, 1, 2], "not every path got its multipath link");
    assert_ne!(sys.current_path[0].load(Ordering::Acquire), CP_NULL, "no current path after three paths went live");
    check_current_path(&sys);
    sys.run_works(0);
    assert_eq!(sys.disk.partition_scans.load(Ordering::Relaxed), 1, "partition scan ran other than once");
}

/// Two optimized paths, no cached path, and a head whose capacity changed:
/// both paths mismatch, so revalidation clears READY on each.
fn revalidate_setup(profile: &Profile) -> Arc<System> {
    let sys = new_system(profile, 1, 2);
    sys.alloc_head_disk(false, crate::ops::DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    add_path(&sys, 1, Some(AnaState::Optimized));
    sys.clear_paths();
    sys.disk.capacity.store(2 * crate::ops::DEFAULT_CAPACITY, Ordering::Relaxed);
    sys
}

fn revalidate_vs_find_path(profile: &Profile) {
    let sys = revalidate_setup(profile);
    let s = sys.clone();
    let v = thread::spawn(move || s.revalidate_paths(true));
    let s = sys.clone();
    let r = thread::spawn(move || {
        s.submit_bio(0);
        s.submit_bio(0);
    });
    sys.submit_bio(0);
    let hit = v.join().unwrap();
    r.join().unwrap();
    check_no_violations(&sys);
    assert_eq!(hit, vec![0, 1], "revalidate callback did not run on both paths");
    check_bios(&sys);
    sys.clear_paths();
    assert_eq!(sys.find_path(0), None, "a path was selected although none is READY");
    assert_eq!(sys.submit_bio(0), crate::io::Submit::Requeued);
    check_no_violations(&sys);
}

fn iopolicy_vs_submit(profile: &Profile) {
    let sys = new_system(profile, 2, 2);
    sys.alloc_head_disk(false, crate::ops::DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    add_path(&sys, 1, Some(AnaState::Inaccessible));
    let s = sys.clone();
    let st = thread::spawn(move || {
        for pol in ["round-robin", "queue-depth", "numa"] {
            assert_eq!(s.drv_iopolicy_store(pol), pol.len() as i64);
        }
    });
    let s = sys.clone();
    let ana = thread::spawn(move || {
        s.nvme_update_ns_ana_state(0, AnaState::Inaccessible);
        s.nvme_update_ns_ana_state(0, AnaState::Optimized);
    });
    let s = sys.clone();
    let r1 = thread::spawn(move || {
        s.submit_bio(0);
        s.submit_bio(0);
    });
    sys.submit_bio(1);
    sys.submit_bio(1);
    st.join().unwrap();
    ana.join().unwrap();
    r1.join().unwrap();
    check_no_violations(&sys);
    check_bios(&sys);
    check_current_path(&sys);
    sys.run_works(0);
    complete_all(&sys);
    for (c, ctrl) in sys.ctrls.iter().enumerate() {
        assert_eq!(ctrl.nr_active.load(Ordering::Relaxed), 0, "ctrl {c}: nr_active not back to 0 after every bio completed");
    }
    check_no_violations(&sys);
    check_bios(&sys);
}

fn delayed_removal_vs_add(profile: &Profile) {
    let sys = new_system(profile, 1, 2);
    sys.alloc_head_disk(false, crate::ops::DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    assert_eq!(sys.delayed_removal_secs_store("5"), 1);
    let s = sys.clone();
    let d = thread::spawn(move || s.nvme_ns_remove(0, 0));
    let s = sys.clone();
    let a = thread::spawn(move || add_path(&s, 1, Some(AnaState::Optimized)));
    let s = sys.clone();
    let t = thread::spawn(move || {
        s.work.advance(10);
        s.run_works(0);
    });
    d.join().unwrap();
    a.join().unwrap();
    t.join().unwrap();
    // Let any timer still armed expire and its work run.
    sys.work.advance(10);
    sys.run_works(0);
    check_no_violations(&sys);
    assert_eq!(sys.module_refs.load(Ordering::Acquire), 0, "module reference leaked or over-put");
    assert_eq!(sys.list_snapshot(), vec![1]);
    check_links(&sys);
    check_current_path(&sys);
}

fn revalidate_stale_cache(profile: &Profile) {
    let sys = revalidate_setup(profile);
    let s = sys.clone();
    let v = thread::spawn(move || s.revalidate_paths(true));
    sys.submit_bio(0);
    v.join().unwrap();
    check_no_violations(&sys);
    for (n, slot) in sys.current_path.iter().enumerate() {
        if let Some(p) = crate::rculist::dec(slot.load(Ordering::Acquire)) {
            let ready = sys.paths[p as usize].ns_flags.load(Ordering::Acquire) & crate::driver::NVME_NS_READY != 0;
            assert!(ready, "current_path[{n}] caches path {p}, which is disabled (READY clear) after revalidation");
        }
    }
}

fn rr_remove_nontermination(profile: &Profile) {
    let sys = new_system(profile, 1, 2);
    sys.iopolicy.store(IOPOLICY_RR, Ordering::Relaxed);
    sys.alloc_head_disk(false, crate::ops::DEFAULT_CAPACITY);
    add_path(&sys, 0, Some(AnaState::Optimized));
    add_path(&sys, 1, Some(AnaState::Nonoptimized));
    assert_eq!(sys.current_path[0].load(Ordering::Acquire), crate::rculist::enc(0), "set-up: path 0 should be cached");
    let s = sys.clone();
    let d = thread::spawn(move || s.nvme_ns_remove(0, 0));
    let s = sys.clone();
    let r = thread::spawn(move || {
        s.submit_bio(0);
    });
    sys.submit_bio(0);
    d.join().unwrap();
    r.join().unwrap();
    check_no_violations(&sys);
    check_current_path(&sys);
    check_bios(&sys);
}
