//! A trace as the sequential replay reads it ([`SeqTrace`]) and what a
//! replay gives ([`SeqOutcome`]: pass, divergence, or a modelling gap).

use mpath_reference::ops::Op;
use mpath_reference::trace::{Header, Line};

/// A trace as the sequential replay reads it.
#[derive(Clone, Debug)]
pub struct SeqTrace {
    pub file: String,
    pub header: Header,
    /// (1-based file line, op line).
    pub lines: Vec<(usize, Line)>,
}

/// Parses a trace (JSON Lines, format version 1) with the reference's
/// parser ([`mpath_reference::trace::parse`]). Errors are one line,
/// `file:line:column: reason`.
pub fn parse_trace(file: &str, text: &str) -> Result<SeqTrace, String> {
    mpath_reference::trace::parse(file, text).map(SeqTrace::from).map_err(|e| e.to_string())
}

/// Reads and parses a trace file.
pub fn load_trace(path: &str) -> Result<SeqTrace, String> {
    mpath_reference::trace::load(path).map(SeqTrace::from).map_err(|e| e.to_string())
}

impl From<mpath_reference::trace::Trace> for SeqTrace {
    fn from(t: mpath_reference::trace::Trace) -> SeqTrace {
        SeqTrace { file: t.file, header: t.header, lines: t.lines }
    }
}

/// Where the model's answer differs from the trace's expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqDivergence {
    pub line: usize,
    pub step: usize,
    pub op: String,
    /// `ret`, an observation field, or `progress` (the operation blocked or
    /// spun in the model).
    pub field: String,
    pub expected: String,
    pub actual: String,
}

/// A modelling gap: why the trace cannot be replayed on the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The line that needs what is missing (1 for the header).
    pub line: usize,
    /// The gap, worded without trace-specific numbers so that traces with
    /// the same gap count together.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeqOutcome {
    Pass { steps: usize, checks: usize },
    Diverged(SeqDivergence),
    Gap(Gap),
}

impl SeqOutcome {
    /// One line: `PASS file (N steps, K checks)`, `DIVERGED file:line: ...`,
    /// `GAP file:line: reason`.
    pub fn render(&self, file: &str) -> String {
        match self {
            SeqOutcome::Pass { steps, checks } => format!("PASS {file} ({steps} steps, {checks} checks)"),
            SeqOutcome::Diverged(d) => {
                format!("DIVERGED {file}:{}: step {} ({}): {} expected {} but the model gives {}", d.line, d.step, d.op, d.field, d.expected, d.actual)
            }
            SeqOutcome::Gap(g) => format!("GAP {file}:{}: {}", g.line, g.reason),
        }
    }
}

/// A gap at `line`.
pub(super) fn gap(line: usize, reason: impl Into<String>) -> SeqOutcome {
    SeqOutcome::Gap(Gap { line, reason: reason.into() })
}

/// The trace's operation name (`"op"` in the format).
pub fn op_name(op: &Op) -> String {
    serde_json::to_value(op).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(str::to_string)).unwrap_or_default()
}
