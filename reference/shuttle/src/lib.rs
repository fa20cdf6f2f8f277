//! # mpath-shuttle
//!
//! Shuttle scenarios: driver call orders run concurrently on the real
//! reference (built with its `shuttle` feature, so every atomic, mutex and
//! thread in the library is shuttle's), under shuttle's random and PCT
//! schedulers. Each scenario ends with assertions on a property that can
//! fail; a failing execution's schedule is saved to a JSON file that
//! [`replay_schedule`] runs again deterministically.
//!
//! Dev only (`publish = false`): used by `tests/shuttle_scenarios.rs` and by
//! the companion binary `mpath-verify-shuttle` behind `mpath-verify shuttle
//! ...`. Everything is behind the `shuttle` feature (see `Cargo.toml` for
//! why): without it the crate is empty.
//!
//! Modules: `scenarios` (the registry: name, program, property, mutants
//! caught), `programs` (the concurrent programs), `checks` (set-up helpers
//! and the properties asserted at the end), `runner` (runs, outcomes,
//! schedule files, replay, the `MPV_SHUTTLE_*` knobs).
//!
//! Knobs: `MPV_SHUTTLE_ITERS` (iterations per run, see [`iterations`]),
//! `MPV_SHUTTLE_SEED` (base seed, see [`seed`]), `MPV_SHUTTLE_FAILURE_DIR`
//! (where failing schedules go, see [`failure_dir`]).

#[cfg(all(feature = "shuttle", not(loom)))]
mod checks;
#[cfg(all(feature = "shuttle", not(loom)))]
mod programs;
#[cfg(all(feature = "shuttle", not(loom)))]
mod runner;
#[cfg(all(feature = "shuttle", not(loom)))]
mod scenarios;

#[cfg(all(feature = "shuttle", not(loom)))]
pub use runner::{failure_dir, iterations, replay_schedule, run, seed, Failure, Outcome, RunSpec, ScheduleFile, SchedulerKind, SCHEDULE_FORMAT};
#[cfg(all(feature = "shuttle", not(loom)))]
pub use scenarios::{find, profile, Scenario, SCENARIOS};
