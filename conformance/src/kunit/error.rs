//! Why a kernel run (`kunit run`, `kunit race`) ended before any verdict:
//! one variant per cause, each carrying its one-line message (the tree,
//! build dir or schedule it names, and the reason). The CLI maps each to
//! its exit code (`cli/src/exit.rs`); nothing here prints.

use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KunitError {
    /// What the run was given cannot be run: a schedule the race engine
    /// refuses, schedules of two kernel C backends, a property the
    /// architecture cannot observe, a missing patch, a build dir that
    /// cannot be created or written (or that run-kunit.sh rejects).
    #[error("{0}")]
    BadInput(String),
    /// The kernel tree is missing, not a Linux tree kunit.py can drive,
    /// lacks the series the run needs, or a patch does not apply to it.
    #[error("{0}")]
    NoKernel(String),
    /// The kernel build (or boot) failed before any KTAP.
    #[error("{0}")]
    KernelBuild(String),
    /// run-kunit.sh itself could not be started for a boot.
    #[error("{0}")]
    KernelCrash(String),
    /// Another mpath-verify run holds the kernel tree (run-kunit.sh's lock).
    #[error("{0}")]
    TreeBusy(String),
}
