//! Exit codes at the CLI's edge: the one place where what the library
//! crates return becomes the process's exit status.
//!
//! The codes are [`Exit`], the table of the README's "Subcommands": 0 ok,
//! 1 finding, 2 bad input, 3 no kernel, 4 kernel build, 5 kernel crash,
//! 6 bound, 7 tree busy, 130 interrupted. Library errors stay typed
//! (thiserror enums such as [`KunitError`] and [`SeriesError`], and
//! verdicts such as [`RunVerdict`]); this module maps each to its code, and
//! the subcommand modules print an error as one `error: ...` line through
//! [`fail`] (or one of the helpers here) and return the code.

use mpath_conformance::gen::GenError;
use mpath_conformance::kunit::{KunitError, RunVerdict};
use mpath_conformance::series::SeriesError;
use mpath_conformance::InputError;
use mpath_model::schedule::ScheduleError;
use mpath_model::ModelError;
use mpath_model::PropsError;
use std::process::ExitCode;

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

/// Why a kernel run ended before a verdict.
impl From<&KunitError> for Exit {
    fn from(e: &KunitError) -> Exit {
        match e {
            KunitError::BadInput(_) => Exit::BadInput,
            KunitError::NoKernel(_) => Exit::NoKernel,
            KunitError::KernelBuild(_) => Exit::KernelBuild,
            KunitError::KernelCrash(_) => Exit::KernelCrash,
            KunitError::TreeBusy(_) => Exit::TreeBusy,
        }
    }
}

/// A completed kernel run's verdict.
impl From<RunVerdict> for Exit {
    fn from(v: RunVerdict) -> Exit {
        match v {
            RunVerdict::Passed => Exit::Ok,
            RunVerdict::Finding => Exit::Finding,
            RunVerdict::Crashed => Exit::KernelCrash,
            RunVerdict::Interrupted => Exit::Interrupted,
        }
    }
}

/// `series prepare`'s errors: a malformed or incomplete series, or one
/// that does not apply, is bad input; a missing tree or tool, no kernel.
impl From<&SeriesError> for Exit {
    fn from(e: &SeriesError) -> Exit {
        match e {
            SeriesError::BadSeries { .. } | SeriesError::Incomplete { .. } | SeriesError::DoesNotApply { .. } | SeriesError::Shim { .. } => Exit::BadInput,
            SeriesError::Kernel { .. } | SeriesError::Tool { .. } => Exit::NoKernel,
        }
    }
}

/// `gen` refuses its options (or its generator got stuck): bad input.
impl From<&GenError> for Exit {
    fn from(_: &GenError) -> Exit {
        Exit::BadInput
    }
}

/// A file a parser or loader refuses (`file:line:column: reason`): bad input.
impl From<&InputError> for Exit {
    fn from(_: &InputError) -> Exit {
        Exit::BadInput
    }
}

/// A schedule file `kunit race` / `--confirm-in-kernel` cannot read: bad input.
impl From<&ScheduleError> for Exit {
    fn from(_: &ScheduleError) -> Exit {
        Exit::BadInput
    }
}

/// A revision, scenario or catalogue the model checker cannot use: bad
/// input.
impl From<&ModelError> for Exit {
    fn from(_: &ModelError) -> Exit {
        Exit::BadInput
    }
}

/// A properties file (`--properties`) that does not parse: bad input.
impl From<&PropsError> for Exit {
    fn from(_: &PropsError) -> Exit {
        Exit::BadInput
    }
}

/// The process exit status of `e`.
pub fn code(e: Exit) -> ExitCode {
    ExitCode::from(e as i32 as u8)
}

/// Prints `error: <e>` on stderr and returns `code`.
pub fn fail(e: impl std::fmt::Display, code: Exit) -> Exit {
    eprintln!("error: {e}");
    code
}

/// Prints a typed library error as `error: <e>` and returns its code.
pub fn report<'a, E: std::fmt::Display + 'a>(e: &'a E) -> Exit
where
    Exit: From<&'a E>,
{
    fail(e, Exit::from(e))
}

/// The more severe of two outcomes (the higher code).
pub fn worst(a: Exit, b: Exit) -> Exit {
    if (b as i32) > (a as i32) {
        b
    } else {
        a
    }
}

/// Bad input (a flag's value, a file that cannot be read or written).
pub fn bad_input(e: impl std::fmt::Display) -> Exit {
    fail(e, Exit::BadInput)
}

/// mpath-benches reports a failed kernel build or boot of `bench run` /
/// `bench kernel` as a message: a kernel build failure.
pub fn bench_kernel(what: &str, e: impl std::fmt::Display) -> Exit {
    fail(format!("{what}: {e}"), Exit::KernelBuild)
}

/// The exit status of a companion process (`mpath-verify-shuttle`), which
/// uses the same codes 0, 1 and 2; anything else (a signal) is reported as
/// an interruption.
pub fn of_child(status: Option<i32>) -> Exit {
    match status {
        Some(0) => Exit::Ok,
        Some(1) => Exit::Finding,
        Some(2) => Exit::BadInput,
        _ => Exit::Interrupted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kunit_errors_keep_their_codes() {
        let m = || "m".to_string();
        let codes: Vec<i32> =
            [KunitError::BadInput(m()), KunitError::NoKernel(m()), KunitError::KernelBuild(m()), KunitError::KernelCrash(m()), KunitError::TreeBusy(m())]
                .iter()
                .map(|e| Exit::from(e) as i32)
                .collect();
        assert_eq!(codes, [2, 3, 4, 5, 7]);
    }

    #[test]
    fn run_verdicts_keep_their_codes_and_order() {
        let vs = [RunVerdict::Passed, RunVerdict::Finding, RunVerdict::Crashed, RunVerdict::Interrupted];
        assert_eq!(vs.map(|v| Exit::from(v) as i32), [0, 1, 5, 130]);
        // the worst verdict of a race run is the worst exit code
        for a in vs {
            for b in vs {
                assert_eq!(Exit::from(a.max(b)), worst(Exit::from(a), Exit::from(b)));
            }
        }
    }

    #[test]
    fn series_errors_are_bad_input_or_no_kernel() {
        let s = || "s".to_string();
        let input = [
            SeriesError::BadSeries { path: s(), reason: s() },
            SeriesError::Incomplete { path: s(), version: s(), have: 1, total: 2, missing: s() },
            SeriesError::DoesNotApply { file: s(), number: s(), reason: s() },
            SeriesError::Shim { file: s(), reason: s() },
        ];
        assert!(input.iter().all(|e| Exit::from(e) == Exit::BadInput));
        let kernel = [SeriesError::Kernel { path: s(), reason: s() }, SeriesError::Tool { reason: s() }];
        assert!(kernel.iter().all(|e| Exit::from(e) == Exit::NoKernel));
    }
}
