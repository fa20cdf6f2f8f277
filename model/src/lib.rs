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
//! Modules, from the bottom up (no module depends on one above it;
//! `scripts/module-cycles` checks it): [`step`] (the step language),
//! [`state`] (plain-data state), [`property`] (the built-in properties,
//! each declared once, over a [`property::View`] of the machine),
//! [`dataprop`] (properties written as data: the language; `eval` runs
//! them on the machine), [`source`] (a revision's own names),
//! [`scenario`] (loader; initial state from the reference), [`revision`]
//! (loader and compiler), [`machine`] (the interpreter), [`explain`]
//! (each transition and a counterexample in words and objects),
//! [`system`] (the machine as a stateright model), [`bounds`], [`por`],
//! [`search`] (with [`canon`] and [`live`]: dead-state canonicalisation),
//! [`checker`] (check / report), [`render`] (swimlanes), [`schedule`] (counterexample to
//! schedule: the interleaving), [`trace`] (counterexample to trace),
//! [`catalogue`], [`sweep`], [`replay`], [`explore`].

pub mod bounds;
pub mod canon;
pub mod catalogue;
pub mod checker;
pub mod dataprop;
pub mod explain;
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
pub mod source;
pub mod state;
pub mod step;
pub mod sweep;
pub mod system;
pub mod trace;

pub use catalogue::{
    as_expected, catalogue, diff, finding, review, run_catalogue, run_entries, validate_entries, verdict_words, CatalogueResult, DiffRow, Entry, Expect,
    Expectations, Expected, Review, REVIEWS,
};
pub use checker::{check, check_with, Bounds, Mode, ModelError, Progress, PropertyReport, Report, Verdict};
pub use dataprop::{DataProperty, PropertySet, PropsError};
pub use explain::{Counterexample, TraceStep};
pub use explore::explore;
pub use render::{render_counterexample, swimlane};
pub use revision::RevisionSpec;
pub use scenario::Scenario;
pub use schedule::{Schedule, ScheduleError, ScheduleStep, SCHEDULE_VERSION};
pub use trace::counterexample_to_trace;
