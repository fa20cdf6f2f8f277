//! KUnit: export traces as KUnit suites for a kernel backend, run them
//! under UML with kunit.py, and map the raw KTAP back to trace steps.

pub mod assets;
pub mod backend;
pub mod c_common;
pub mod drift;
pub mod error;
pub mod export;
pub mod export_lib;
pub mod export_lib_encoding;
pub mod export_lib_ops;
pub mod export_lib_v1;
pub mod export_nvme612;
pub mod ktap;
pub mod race;
pub mod report;
pub mod run;

use serde::Serialize;

pub use error::KunitError;

/// The verdict of a kernel run that completed (`kunit run`, `kunit race`,
/// `kunit check`), in increasing severity; the CLI maps each to its exit
/// code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum RunVerdict {
    /// Every case passed (every schedule reproduced its violation).
    Passed,
    /// A case failed, did not finish, or the kernel reported something
    /// (a schedule not reproduced, an unexpected KASAN or WARN report).
    Finding,
    /// The KTAP is incomplete: the kernel crashed or hung.
    Crashed,
    /// Interrupted (Ctrl-C); what was found is reported.
    Interrupted,
}

/// A kernel backend the exporter can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// Mainline `drivers/nvme/host/multipath.c` of Linux 6.12.
    Nvme612,
    /// The series' `mpath_*` API, for trees that carry it.
    Libmultipath,
}

impl Backend {
    pub fn parse(s: &str) -> Option<Backend> {
        match s {
            "nvme-6.12" => Some(Backend::Nvme612),
            "libmultipath" => Some(Backend::Libmultipath),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Backend::Nvme612 => "nvme-6.12",
            Backend::Libmultipath => "libmultipath",
        }
    }
}
