//! `kunit race`: a model counterexample's schedule replayed as a forced
//! interleaving in the kernel's own C.
//!
//! The schedule (`mpath_model::schedule`, saved by `check` beside each
//! counterexample trace) lists every shared step of every model thread in
//! the order the model ran them. Each step maps to a *schedule point* of the
//! kernel side ([`POINTS`]): a `MPV_SCHED("<point>", obj)` that
//! `conformance/kunit/race/nvme-6.12-sched.patch` places in 6.12's
//! `drivers/nvme/host/multipath.c`, or a point of the harness's mirrors of
//! `nvme_ns_remove()` / `nvme_ns_head_submit_bio()` (`mpv_race.h`). A step
//! with no point of its own (a list-walk `next` inside
//! `list_for_each_entry_srcu`, a lock 6.12 does not take) runs in the
//! kernel with the same thread's previous point; when another thread's step
//! lies between them in the model, the run says so (an approximation, not
//! a silent reordering). A step of a function the table does not know is
//! refused: the replay never guesses.
//!
//! The generated suite (one KUnit case) starts one kthread per model thread,
//! releases them point by point in the model's order, and prints a verdict:
//! REPRODUCED (the property's consequence, read from kernel objects) or
//! NOT-REPRODUCED (where the kernel left the schedule, both positions).

//! One module per concept: [`backend`] (the kernel C a schedule runs on and
//! the embedded engine), [`input`] (the schedule as read), [`points`] (the
//! step -> schedule point tables), [`mirror`] (the harness's restated
//! statements and their lines in the tree), [`generate`] (the C case and
//! the suite), [`run`] (build, boot, verdicts), [`ktap`] (the diagnostics
//! read back) and [`render`] (the swimlane and report).

pub mod backend;
pub mod generate;
pub mod input;
pub mod ktap;
pub mod mirror;
pub mod points;
pub mod render;
pub mod run;

pub use backend::{RaceBackend, NEEDS_KASAN, RACE_ENGINE, RACE_LIB, RACE_NVME, RACE_SUITE, SCHED_PATCH};
pub use generate::{assemble, generate, race_setup, HookedStep, RaceSuite, Undrivable};
pub use input::{RStep, RaceInput};
pub use ktap::{parse_ktap, point_lines, unpatched_line, RaceResult};
pub use mirror::{is_mirror_point, mirror_defines, KERNEL_CALL_POINT};
pub use points::{place, property_c, Place, PointRow, POINTS, POINTS_LIB};
pub use render::{render, swimlane};
pub use run::run;
