//! Replay of a trace against the reference: every expectation is
//! compared; the first divergence is reported with file, line, step,
//! operation, expected and actual.

use crate::error::InputError;
use crate::parse::Trace;
use mpath_reference::ops::OpError;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    pub file: String,
    pub line: usize,
    pub step: usize,
    pub op: String,
    /// `ret` or an observation field name.
    pub field: String,
    pub expected: String,
    pub actual: String,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: step {} ({}): {} expected {} but the reference gives {}",
            self.file, self.line, self.step, self.op, self.field, self.expected, self.actual
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Pass { file: String, steps: usize, checks: usize },
    Diverged(Divergence),
}

/// Replays `t`; bad ops (unknown path, wrong driver, ...) are input errors.
pub fn replay(t: &Trace) -> Result<Outcome, InputError> {
    let sys = t.header.instantiate().map_err(|r| InputError::new(&t.file, 1, 1, r))?;
    let mut checks = 0;
    for (step, (lineno, line)) in t.lines.iter().enumerate() {
        let ret = sys.apply(step as u64, &line.op).map_err(|OpError(r)| InputError::new(&t.file, *lineno, 1, r))?;
        let op = serde_json::to_string(&line.op).unwrap_or_default();
        if let Some(exp) = &line.ret {
            checks += 1;
            if *exp != ret {
                return Ok(Outcome::Diverged(Divergence {
                    file: t.file.clone(),
                    line: *lineno,
                    step,
                    op,
                    field: "ret".into(),
                    expected: serde_json::to_string(exp).unwrap_or_default(),
                    actual: serde_json::to_string(&ret).unwrap_or_default(),
                }));
            }
        }
        if let Some(exp) = &line.expect {
            let obs = sys.observe();
            checks += 1;
            if let Some((field, e, a)) = exp.mismatches(&obs).into_iter().next() {
                return Ok(Outcome::Diverged(Divergence { file: t.file.clone(), line: *lineno, step, op, field: field.into(), expected: e, actual: a }));
            }
        }
    }
    Ok(Outcome::Pass { file: t.file.clone(), steps: t.lines.len(), checks })
}
