//! A schedule file as the race reads it.

use mpath_reference::ops::Op;
use serde_json::Value;
use std::path::Path;

/// A schedule step as the race needs it.
#[derive(Clone, Debug)]
pub struct RStep {
    pub thread: usize,
    pub function: String,
    pub primitive: String,
    pub step: Value,
    /// The path the step acts on: `Some(Some(id))`, `Some(None)` for NULL,
    /// `None` when the schedule names none.
    pub path: Option<Option<u32>>,
}

/// What the generator reads from a schedule.
#[derive(Clone, Debug)]
pub struct RaceInput {
    pub file: String,
    pub revision: String,
    pub scenario: String,
    pub property: String,
    pub violation: String,
    pub header: mpath_reference::trace::Header,
    pub threads: Vec<(String, Vec<Op>)>,
    pub steps: Vec<RStep>,
}

impl RaceInput {
    /// Reads a schedule file (`mpath_model::schedule`); the error names the
    /// file, line and column.
    pub fn load(path: &Path) -> Result<RaceInput, mpath_model::schedule::ScheduleError> {
        let s = mpath_model::schedule::Schedule::load(path)?;
        let file = path.display().to_string();
        let steps = s
            .steps
            .iter()
            .map(|st| {
                let step = serde_json::to_value(&st.step).unwrap_or(Value::Null);
                let obj = serde_json::to_value(&st.objects).unwrap_or(Value::Null);
                let path = match obj.get("path") {
                    None => None,
                    Some(Value::Null) => Some(None),
                    Some(v) => v.as_u64().map(|p| Some(p as u32)),
                };
                RStep { thread: st.thread, function: st.function.clone(), primitive: st.primitive.clone(), step, path }
            })
            .collect();
        Ok(RaceInput {
            file,
            revision: s.revision.clone(),
            scenario: s.scenario.clone(),
            property: s.property.clone(),
            violation: s.violation_text.clone(),
            header: s.header.clone(),
            threads: s.threads.iter().map(|t| (t.name.clone(), t.ops.clone())).collect(),
            steps,
        })
    }
}
