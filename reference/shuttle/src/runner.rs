//! Runs and their outcomes: a scenario on a profile under the random or PCT
//! scheduler, stopped at the first failing execution, whose schedule (as
//! recorded by a wrapper around the scheduler) is saved to a file that
//! [`replay_schedule`] runs again deterministically; the `MPV_SHUTTLE_*`
//! knobs.

use crate::scenarios::{find, SCENARIOS};
use mpath_reference::Profile;
use serde::{Deserialize, Serialize};
use shuttle::scheduler::{PctScheduler, RandomScheduler, ReplayScheduler, Schedule, Scheduler, Task, TaskId};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Version of the schedule file format.
pub const SCHEDULE_FORMAT: u32 = 1;

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
