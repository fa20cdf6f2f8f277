//! # mpath-model
//!
//! An interleaving model of the libmultipath library and its NVMe / SCSI
//! callers, checked with stateright. Threads run driver operations (the
//! reference's [`Op`](mpath_reference::Op) vocabulary); each operation
//! expands into step programs at kernel-primitive granularity (SRCU,
//! mutexes, RCU list steps, `current_path[]` loads and stores, bit
//! operations, sysfs links, works, frees).
//!
//! Revisions are data (`revisions/*.json`: one step program per library or
//! driver function, a `base` plus overrides for mutants), scenarios are
//! data (`scenarios/*.json`: a reference trace header for the initial
//! state, plus threads of operations).
//!
//! Modules: [`step`] (the step language), [`revision`] (loader and
//! compiler), [`scenario`] (loader; initial state from the reference),
//! [`state`] (plain-data state), [`machine`] (interpreter and stateright
//! model), [`property`], [`checker`] (check / report), [`catalogue`],
//! [`render`] (swimlanes), [`trace`] (counterexample to trace),
//! [`schedule`] (counterexample to schedule: the interleaving), [`explore`],
//! [`search`] (the checker's search), [`por`] (partial-order reduction),
//! [`canon`] and [`live`] (dead-state canonicalisation).

pub mod canon;
pub mod catalogue;
pub mod checker;
pub mod dataprop;
pub mod explore;
pub mod live;
pub mod machine;
pub mod por;
pub mod property;
pub mod render;
pub mod replay;
pub mod revision;
pub mod scenario;
pub mod schedule;
pub mod search;
pub mod state;
pub mod step;
pub mod sweep;
pub mod trace;

pub use catalogue::{
    as_expected, catalogue, diff, finding, review, run_catalogue, run_entries, validate_entries, verdict_words, CatalogueResult, DiffRow, Entry, Expect,
    Expectations, Expected, Review, REVIEWS,
};
pub use checker::{check, check_with, Bounds, Counterexample, Mode, ModelError, Progress, PropertyReport, Report, TraceStep, Verdict};
pub use dataprop::{DataProperty, PropertySet, PropsError};
pub use explore::explore;
pub use render::{render_counterexample, swimlane};
pub use revision::RevisionSpec;
pub use scenario::Scenario;
pub use schedule::{Schedule, ScheduleError, ScheduleStep, SCHEDULE_VERSION};
pub use trace::counterexample_to_trace;
