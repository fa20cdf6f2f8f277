//! Exit codes shared by every `mpath-verify` subcommand, and the one-line
//! bad-input error.

use std::fmt;

/// Process exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Exit {
    /// Every expectation held / every property held or was expected to fail.
    Ok = 0,
    /// A divergence or an unexpected property violation.
    Finding = 1,
    /// Bad input: malformed trace, unknown revision or scenario, bad flag value.
    BadInput = 2,
    /// The kernel tree is missing or not a Linux source tree.
    NoKernel = 3,
    /// The kernel (UML) build failed.
    KernelBuild = 4,
    /// The UML kernel crashed or produced no complete KTAP.
    KernelCrash = 5,
    /// A state-space or time bound was reached before a verdict.
    Bound = 6,
    /// Another mpath-verify run holds the kernel tree (run-kunit.sh's lock).
    TreeBusy = 7,
    /// Interrupted (Ctrl-C); partial results were printed and saved.
    Interrupted = 130,
}

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
