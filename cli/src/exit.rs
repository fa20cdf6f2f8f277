//! Exit codes at the CLI's edge: the one place where what the library
//! crates return becomes the process's exit status.
//!
//! The codes are [`Exit`] (mpath-conformance's `exit` module, the table of
//! the README's "Exit codes"): 0 ok, 1 finding, 2 bad input, 3 no kernel,
//! 4 kernel build, 5 kernel crash, 6 bound, 7 tree busy, 130 interrupted.
//! Library errors stay typed (thiserror enums, `(Exit, String)` from the
//! kernel runners); the subcommand modules print them as one `error: ...`
//! line through [`fail`] and return the code chosen here.

pub use mpath_conformance::exit::Exit;
use mpath_conformance::series::SeriesError;
use std::process::ExitCode;

/// The process exit status of `e`.
pub fn code(e: Exit) -> ExitCode {
    ExitCode::from(e as i32 as u8)
}

/// Prints `error: <e>` on stderr and returns `code`.
pub fn fail(e: impl std::fmt::Display, code: Exit) -> Exit {
    eprintln!("error: {e}");
    code
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

/// A kernel tree kunit.py cannot drive (`kunit::run::check_tree`).
pub fn no_kernel(e: impl std::fmt::Display) -> Exit {
    fail(e, Exit::NoKernel)
}

/// The kernel runners (`kunit run`, `kunit race`) return their code with
/// the message: bad input, no kernel, build failed, crash, tree busy.
pub fn runner((code, msg): (Exit, String)) -> Exit {
    fail(msg, code)
}

/// mpath-benches reports a failed kernel build or boot of `bench run` /
/// `bench kernel` as a message: a kernel build failure.
pub fn bench_kernel(what: &str, e: impl std::fmt::Display) -> Exit {
    fail(format!("{what}: {e}"), Exit::KernelBuild)
}

/// `series prepare`'s errors: a malformed or incomplete series, or one
/// that does not apply, is bad input; a missing tree or tool, no kernel.
pub fn series(e: &SeriesError) -> Exit {
    e.exit()
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
