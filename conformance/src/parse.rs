//! Parsing a trace file (JSON Lines, format version 1) with positioned,
//! one-line errors. Never panics on any input. A schedule file given as a
//! trace stands for the sequential trace it names (see [`parse_file`]).

use crate::exit::InputError;
use mpath_reference::trace::{Header, Line, MAX_OPS};
use mpath_reference::Profile;

/// A parsed trace: its header, its op lines and each line's position.
#[derive(Clone, Debug)]
pub struct Trace {
    pub file: String,
    pub header: Header,
    pub profile: Profile,
    /// (1-based file line number, op line).
    pub lines: Vec<(usize, Line)>,
}

fn json_err(file: &str, lineno: usize, e: &serde_json::Error) -> InputError {
    let mut msg = e.to_string();
    // serde_json appends " at line L column C": the position is ours.
    if let Some(i) = msg.rfind(" at line ") {
        msg.truncate(i);
    }
    if e.is_eof() {
        msg = format!("truncated JSON ({msg})");
    }
    InputError::new(file, lineno, e.column().max(1), msg)
}

/// Parses a trace from text; `file` names it in errors.
pub fn parse_str(file: &str, text: &str) -> Result<Trace, InputError> {
    let mut header: Option<(Header, Profile)> = None;
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        match &header {
            None => {
                let h: Header = serde_json::from_str(l).map_err(|e| json_err(file, lineno, &e))?;
                let p = h.validate().map_err(|r| InputError::new(file, lineno, 1, r))?;
                header = Some((h, p));
            }
            Some(_) => {
                if lines.len() >= MAX_OPS {
                    return Err(InputError::new(file, lineno, 1, format!("more than {MAX_OPS} operations")));
                }
                let line: Line = serde_json::from_str(l).map_err(|e| json_err(file, lineno, &e))?;
                lines.push((lineno, line));
            }
        }
    }
    let (header, profile) = header.ok_or_else(|| InputError::new(file, 1, 1, "empty trace: no header line"))?;
    Ok(Trace { file: file.to_string(), header, profile, lines })
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
    let bytes = std::fs::read(path).map_err(|e| InputError::new(path, 0, 0, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        InputError::new(path, line, 1, "not valid UTF-8")
    })
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
