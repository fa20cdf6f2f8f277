//! Parsing a trace file (JSON Lines, format version 1) with positioned,
//! one-line errors. Never panics on any input.

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

/// Reads and parses a trace file.
pub fn parse_file(path: &str) -> Result<Trace, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError::new(path, 0, 0, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        InputError::new(path, line, 1, "not valid UTF-8")
    })?;
    parse_str(path, &text)
}
