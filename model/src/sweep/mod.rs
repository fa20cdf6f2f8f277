//! `sweep`: search the space of small scenarios for violations nobody
//! listed.
//!
//! A [`Vocabulary`] (a JSON file, `model/sweep/*.json`) names revisions,
//! properties files, topologies (scenario headers) and, per driver, the
//! operation templates threads are built from. [`Plan::new`] enumerates,
//! per revision and topology, every scenario of `k` threads (each `k` of
//! `threads`) whose threads run 1..=`ops_per_thread` operations, in a fixed
//! order, and keeps one scenario per symmetry class:
//!
//! * thread permutation: threads are a multiset (sorted by their operation
//!   lists), so `[A, B]` and `[B, A]` are one scenario;
//! * path renaming: a permutation of path ids that maps the topology's
//!   initial model state onto itself (computed, never declared: listed
//!   paths sit at fixed list positions, so in practice the unused slots a
//!   thread's `add_path` fills are the interchangeable ones) and maps the
//!   operation set onto itself; the scenario kept is the least image.
//!
//! Both are exact symmetries of the model, so skipping duplicates loses no
//! verdict; both counts are reported.
//!
//! Each scenario is checked ([`check_with`](crate::checker::check_with): the 14 built-in properties and
//! the vocabulary's data properties) within `max_states`, one JSON line per
//! scenario ([`Line`]), so a run resumes from its file and shards merge.
//! A violation's *root cause* is its [`Key`]: the property, and the
//! function and step of the transition at which the shortest
//! counterexample first violates it. A violation is *catalogued* when a
//! (scenario, property) pair that the revision's expectations
//! ([`Expectations::of`](crate::catalogue::Expectations::of): its catalogue column plus its declared `breaks`)
//! expect VIOLATED has, on the same revision, a shortest counterexample
//! with the same key. [`report`] groups the rest by key and shows, per
//! group, the smallest scenario's counterexample as a swimlane.

mod plan;
mod report;
mod results;
mod run;
mod symmetry;
mod vocab;

pub use plan::{Cell, Item, Plan, DEFAULT_MAX_STATES};
pub use report::{groups, report, summary, Group, REPORT_LIST};
pub use results::{key_of, merge, parse_results, read_results, write_results, FileHeader, Found, Key, Line, ResultsFile, Shard, SWEEP_VERSION};
pub use run::{catalogued_keys, check_item, run, RunStats, SweepRunError};
pub use symmetry::rename_state;
pub use vocab::{fingerprint, op_from_words, op_words, scenario_from_id, scenario_id, SweepError, Topology, Vocabulary};
