//! Counterexample schedules: the interleaving itself, step by step (which
//! thread ran which kernel primitive of which function, on which objects),
//! saved by `mpath-verify check` beside each counterexample trace as
//! `<stem>.schedule.json` and replayed in kernel C by `mpath-verify kunit
//! race`. The format (version [`SCHEDULE_VERSION`]) is documented in the
//! README, "The schedule format (version 1)".
//!
//! The types are plain structs (no maps), so the same counterexample gives
//! the same bytes.

use crate::checker::Counterexample;
use crate::revision::RevisionSpec;
use crate::scenario::{Scenario, ThreadSpec};
use crate::step::{Bit, Mutex, Step, JUNK};
use mpath_reference::trace::Header;
use mpath_reference::violation::Violation;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::Path;

/// The schedule format version this build writes and reads.
pub const SCHEDULE_VERSION: u32 = 1;

/// A path pointer as a schedule names it: a path id, `NULL` (JSON `null`)
/// or an uninitialised / wild pointer (the string `"junk"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathRef {
    Null,
    Path(u32),
    Junk,
}

impl PathRef {
    /// The model's pointer encoding: 0 is NULL, `id + 1` path `id`,
    /// anything else (the JUNK value) is not a pointer to a path.
    pub fn of(v: u8) -> PathRef {
        match v {
            0 => PathRef::Null,
            JUNK => PathRef::Junk,
            v if (v as usize) <= crate::state::MAXP => PathRef::Path(v as u32 - 1),
            _ => PathRef::Junk,
        }
    }
}

impl Serialize for PathRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PathRef::Null => s.serialize_unit(),
            PathRef::Path(p) => s.serialize_u32(*p),
            PathRef::Junk => s.serialize_str("junk"),
        }
    }
}

impl<'de> Deserialize<'de> for PathRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Id(u32),
            Word(String),
            Null(()),
        }
        match Raw::deserialize(d)? {
            Raw::Id(p) => Ok(PathRef::Path(p)),
            Raw::Word(w) if w == "junk" => Ok(PathRef::Junk),
            Raw::Word(w) => Err(serde::de::Error::custom(format!("path {w:?}: expected a path id, null or \"junk\""))),
            Raw::Null(()) => Ok(PathRef::Null),
        }
    }
}

/// A present key holding `null` is `Some(PathRef::Null)`, not `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathRef>, D::Error> {
    PathRef::deserialize(d).map(Some)
}

/// The objects a step touches, resolved from the machine state. Keys that
/// do not apply to the step are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objects {
    /// The path held (before the step) by the register the step acts on.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub path: Option<PathRef>,
    /// The `current_path[]` slot (node number) a `current_path` load or
    /// store names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    /// The path pointer the step writes into its register.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub result: Option<PathRef>,
    /// `mutex_lock` / `mutex_unlock`: `head` or `subsys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutex: Option<Mutex>,
    /// Bit operations: the bit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit: Option<Bit>,
}

/// The tag of a worker step (`"s": "work"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkTag {
    #[serde(rename = "work")]
    Work,
}

/// The worker starting a queued work: `{"s": "work", "work": "<function>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkStart {
    pub s: WorkTag,
    /// The function the work runs (`mpath_requeue_work`, ...).
    pub work: String,
}

/// What a schedule step executes: a step of the revision's program in its
/// revision-file form, or the worker starting a work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepForm {
    Step(Step),
    Work(WorkStart),
}

/// One transition of the interleaving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleStep {
    /// Position in the schedule (0-based; the swimlane's row number).
    pub i: usize,
    /// Acting thread: an index into `threads`, or `worker`.
    pub thread: usize,
    pub thread_name: String,
    /// Index of the thread's operation the step belongs to (operations the
    /// thread completed before the step; 0 for the worker).
    pub op: usize,
    /// Library / driver function the step belongs to.
    pub function: String,
    /// The step; `null` when the operation started has no shared step.
    pub step: Option<StepForm>,
    /// The kernel primitive (as in the swimlane).
    pub primitive: String,
    pub objects: Objects,
    /// Operations this thread had completed after the step.
    pub ops_done: usize,
}

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
