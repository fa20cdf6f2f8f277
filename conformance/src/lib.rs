//! # mpath-conformance
//!
//! The trace format's parser (with file:line:column errors), replay of
//! traces against the reference, the random trace generator, and the KUnit
//! exporter / runner / KTAP checker that tie traces to the real kernel, and
//! `series prepare`, which stands up a kernel tree carrying a libmultipath
//! series.

pub mod error;
pub mod fuzzing;
pub mod gen;
pub mod kunit;
pub mod parse;
pub mod replay;
pub mod series;
pub mod verdicts;

pub use error::InputError;
