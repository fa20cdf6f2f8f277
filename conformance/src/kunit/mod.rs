//! KUnit: export traces as KUnit suites for a kernel backend, run them
//! under UML with kunit.py, and map the raw KTAP back to trace steps.

pub mod assets;
pub mod backend;
pub mod c_common;
pub mod drift;
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
