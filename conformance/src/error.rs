//! The one-line bad-input error, `file:line:column: reason`, that every
//! parser and loader of this crate returns for a file it cannot accept.
//! (Exit codes are the CLI's: `cli/src/exit.rs` maps each error type to
//! one.)

use std::fmt;

/// Bad input, located: `file:line:column: reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl InputError {
    pub fn new(file: &str, line: usize, column: usize, reason: impl Into<String>) -> Self {
        InputError { file: file.to_string(), line, column, reason: reason.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", mpath_reference::trace::one_line(&self.file), self.line, self.column, mpath_reference::trace::one_line(&self.reason))
    }
}

impl std::error::Error for InputError {}

impl From<mpath_reference::trace::TraceError> for InputError {
    fn from(e: mpath_reference::trace::TraceError) -> InputError {
        InputError { file: e.file, line: e.line, column: e.column, reason: e.reason }
    }
}
