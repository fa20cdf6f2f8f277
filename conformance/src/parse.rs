//! Reading a trace file for the CLI: the reference's parser
//! ([`mpath_reference::trace::parse`]: positioned, one-line errors, never a
//! panic), plus a schedule file given as a trace standing for the
//! sequential trace it names (see [`parse_file`]).

use crate::error::InputError;

pub use mpath_reference::trace::Trace;

/// Parses a trace from text; `file` names it in errors (the reference's
/// parser, [`mpath_reference::trace::parse`]).
pub fn parse_str(file: &str, text: &str) -> Result<Trace, InputError> {
    mpath_reference::trace::parse(file, text).map_err(InputError::from)
}

/// Reads and parses a trace file. A schedule file (a JSON object with an
/// `mpath_schedule` key, saved by `check` beside each counterexample trace)
/// is not a trace: its version is checked, then the sequential trace its
/// `trace` field names (relative to the schedule's directory) is read
/// instead, with one line on stderr saying so; a schedule of an
/// unsupported version, or one without a sequential trace, is bad input.
pub fn parse_file(path: &str) -> Result<Trace, InputError> {
    let text = read_text(path)?;
    match schedule_trace(path, &text) {
        None => parse_str(path, &text),
        Some(Err(e)) => Err(e),
        Some(Ok(trace)) => {
            let text = read_text(&trace).map_err(|e| InputError::new(path, 1, 1, format!("its sequential trace {trace}: {}", e.reason)))?;
            eprintln!("{path}: a schedule (mpath_schedule {}), not a trace: replaying its sequential trace {trace}", mpath_model::SCHEDULE_VERSION);
            parse_str(&trace, &text)
        }
    }
}

fn read_text(path: &str) -> Result<String, InputError> {
    mpath_reference::trace::read_text(path).map_err(InputError::from)
}

/// `None` when `text` is not a schedule; else the path of the sequential
/// trace it names, or why it cannot be replayed. A file is a schedule when
/// it is one JSON object with an `mpath_schedule` key, or when it mentions
/// that key and its first line is not a JSON value of its own (a trace's
/// first line always is).
pub fn schedule_trace(path: &str, text: &str) -> Option<Result<String, InputError>> {
    if !text.contains("\"mpath_schedule\"") {
        return None;
    }
    let whole = serde_json::from_str::<serde_json::Value>(text).ok();
    let is_schedule = match &whole {
        Some(v) => v.get("mpath_schedule").is_some(),
        None => text.lines().map(str::trim).find(|l| !l.is_empty()).is_some_and(|l| serde_json::from_str::<serde_json::Value>(l).is_err()),
    };
    if !is_schedule {
        return None;
    }
    let s = match mpath_model::Schedule::parse(path, text) {
        Ok(s) => s,
        Err(e) => return Some(Err(InputError::new(path, e.line, e.column, e.reason))),
    };
    let Some(name) = &s.trace else {
        return Some(Err(InputError::new(
            path,
            1,
            1,
            format!(
                "schedule of {} / {} / {} has no sequential trace (no operation completed before the violation): nothing to replay on the reference",
                s.revision, s.scenario, s.property
            ),
        )));
    };
    let dir = std::path::Path::new(path).parent().unwrap_or(std::path::Path::new(""));
    Some(Ok(dir.join(name).display().to_string()))
}
