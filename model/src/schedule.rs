//! Counterexample schedules: the interleaving itself, step by step (which
//! thread ran which kernel primitive of which function, on which objects),
//! saved by `mpath-verify check` beside each counterexample trace as
//! `<stem>.schedule.json` and replayed in kernel C by `mpath-verify kunit
//! race`. The format (version [`SCHEDULE_VERSION`]) is documented in the
//! README, "The schedule format (version 1)".
//!
//! The types are plain structs (no maps), so the same counterexample gives
//! the same bytes.

use crate::explain::Counterexample;
use crate::revision::RevisionSpec;
use crate::scenario::{Scenario, ThreadSpec};
use mpath_reference::trace::Header;
use mpath_reference::violation::Violation;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use crate::explain::{Objects, PathRef, ScheduleStep, StepForm, WorkStart, WorkTag};

/// The schedule format version this build writes and reads.
pub const SCHEDULE_VERSION: u32 = 1;

/// A counterexample's interleaving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Format version; must equal [`SCHEDULE_VERSION`].
    pub mpath_schedule: u32,
    /// The checked revision (its `RevisionSpec` name).
    pub revision: String,
    /// The reference profile its traces use.
    pub reference_profile: String,
    pub scenario: String,
    pub property: String,
    pub violation: Violation,
    /// The violation's one-line rendering.
    pub violation_text: String,
    /// The trace header of the initial state (the scenario's effective header).
    pub header: Header,
    /// The scenario's threads and their operations.
    pub threads: Vec<ThreadSpec>,
    /// The worker's thread index (`threads.len()`).
    pub worker: usize,
    /// File name of the sequential trace saved beside the schedule, if any.
    pub trace: Option<String>,
    pub steps: Vec<ScheduleStep>,
}

/// A schedule that cannot be used: one line, `file: reason` (with the
/// position where one is known).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct ScheduleError {
    pub file: String,
    /// 1-based line and column of the problem (1, 1 when it is the file).
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl ScheduleError {
    fn new(file: &str, line: usize, column: usize, reason: impl Into<String>) -> ScheduleError {
        ScheduleError { file: file.into(), line, column, reason: mpath_reference::trace::one_line(&reason.into()) }
    }
}

/// 1-based line and column of byte offset `at` in `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map(|i| before.len() - i).unwrap_or(before.len() + 1);
    (line, column)
}

impl Schedule {
    /// The schedule of `ce`, a counterexample of `property` found by
    /// checking `scenario` on `revision`; `trace` is the file name of the
    /// sequential trace saved beside it. `None` when the counterexample
    /// carries no schedule steps (one built elsewhere or deserialised).
    pub fn from_counterexample(revision: &RevisionSpec, scenario: &Scenario, property: &str, ce: &Counterexample, trace: Option<String>) -> Option<Schedule> {
        if ce.schedule.len() != ce.steps.len() {
            return None;
        }
        let profile = revision.reference_profile_name();
        Some(Schedule {
            mpath_schedule: SCHEDULE_VERSION,
            revision: revision.name.clone(),
            header: scenario.effective_header(&profile),
            reference_profile: profile,
            scenario: scenario.name.clone(),
            property: property.to_string(),
            violation: ce.violation.clone(),
            violation_text: ce.violation.to_string(),
            threads: scenario.threads.clone(),
            worker: scenario.threads.len(),
            trace,
            steps: ce.schedule.clone(),
        })
    }

    /// Pretty JSON with a final newline (deterministic: struct field order).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Reads and validates a schedule file.
    pub fn load(path: impl AsRef<Path>) -> Result<Schedule, ScheduleError> {
        let file = path.as_ref().display().to_string();
        let text = std::fs::read_to_string(path.as_ref()).map_err(|e| ScheduleError::new(&file, 1, 1, format!("cannot read: {e}")))?;
        Self::parse(&file, &text)
    }

    /// Parses and validates schedule text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Schedule, ScheduleError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let mut msg = e.to_string();
            if let Some(i) = msg.rfind(" at line ") {
                msg.truncate(i);
            }
            ScheduleError::new(file, e.line().max(1), e.column().max(1), format!("not JSON: {msg}"))
        })?;
        let Some(obj) = v.as_object() else {
            return Err(ScheduleError::new(file, 1, 1, "not a schedule: not a JSON object"));
        };
        let Some(version) = obj.get("mpath_schedule") else {
            return Err(ScheduleError::new(file, 1, 1, "not a schedule: no \"mpath_schedule\" key"));
        };
        let (line, column) = text.find("\"mpath_schedule\"").map(|i| position(text, i)).unwrap_or((1, 1));
        match version.as_u64() {
            Some(n) if n == SCHEDULE_VERSION as u64 => {}
            Some(n) => {
                return Err(ScheduleError::new(
                    file,
                    line,
                    column,
                    format!("schedule version {n} is not supported by this build (supports {SCHEDULE_VERSION})"),
                ))
            }
            None => {
                return Err(ScheduleError::new(
                    file,
                    line,
                    column,
                    format!("schedule version {version} is not supported by this build (supports {SCHEDULE_VERSION})"),
                ))
            }
        }
        let s: Schedule = serde_json::from_value(v).map_err(|e| ScheduleError::new(file, 1, 1, format!("invalid schedule: {e}")))?;
        s.validate().map_err(|r| ScheduleError::new(file, 1, 1, r))?;
        Ok(s)
    }

    /// Checks the indices: `worker` is the number of threads and every
    /// step's thread is a scenario thread or the worker.
    pub fn validate(&self) -> Result<(), String> {
        if self.worker != self.threads.len() {
            return Err(format!("worker is {} but the schedule has {} threads (the worker is the last index)", self.worker, self.threads.len()));
        }
        for st in &self.steps {
            if st.thread > self.worker {
                return Err(format!("step {}: thread {} is out of range (threads 0..={}, {} = worker)", st.i, st.thread, self.worker, self.worker));
            }
        }
        Ok(())
    }
}
