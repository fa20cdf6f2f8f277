//! The kernel C a schedule runs on, and the race engine embedded in
//! generated suites.

use super::input::RaceInput;
use serde::Serialize;

/// The race engine, embedded in generated suites.
pub const RACE_ENGINE: &str = include_str!("../../../kunit/race/mpv_race_core.h");
/// Its nvme-6.12 backend (after the core).
pub const RACE_NVME: &str = include_str!("../../../kunit/nvme-6.12/mpv_race.h");
/// Its libmultipath (v2 API) backend (after the core).
pub const RACE_LIB: &str = include_str!("../../../kunit/race/mpvl_race.h");

/// The kernel C a schedule runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RaceBackend {
    /// Linux 6.12's drivers/nvme/host/multipath.c.
    Nvme612,
    /// The series' lib/multipath.c, v2 API.
    LibV2,
}

impl RaceBackend {
    /// By the reference profile the schedule's traces use (a mutant's is
    /// its base's).
    pub fn of(input: &RaceInput) -> Result<RaceBackend, String> {
        match input.header.revision.as_str() {
            "nvme-6.12" => Ok(RaceBackend::Nvme612),
            "v2" => Ok(RaceBackend::LibV2),
            other => Err(format!(
                "{}: revision {} (reference profile {other}): kunit race replays nvme-6.12 schedules on Linux 6.12 and v2 schedules on the series' lib/multipath.c",
                input.file, input.revision
            )),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            RaceBackend::Nvme612 => "nvme-6.12",
            RaceBackend::LibV2 => "libmultipath v2",
        }
    }
    /// The schedule-point patch (under conformance/kunit).
    pub fn patch(self) -> &'static str {
        match self {
            RaceBackend::Nvme612 => SCHED_PATCH,
            RaceBackend::LibV2 => "race/lib-v2-sched.patch",
        }
    }
    /// The file the patch points, in the tree.
    pub fn file(self) -> &'static str {
        match self {
            RaceBackend::Nvme612 => "drivers/nvme/host/multipath.c",
            RaceBackend::LibV2 => "lib/multipath.c",
        }
    }
}
/// The schedule-point patch for 6.12's multipath.c.
pub const SCHED_PATCH: &str = "race/nvme-6.12-sched.patch";
/// The property only a KASAN build can observe.
pub const NEEDS_KASAN: &str = "no_use_after_free";
/// KUnit suite name of race runs.
pub const RACE_SUITE: &str = "mpath_verify_race";
