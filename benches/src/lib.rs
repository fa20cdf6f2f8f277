//! # mpath-benches
//!
//! Benchmarks of the path-find hot loops, the Rust reference and the kernel
//! C (Linux 6.12 NVMe as KUnit, under UML and x86_64 QEMU) on the same
//! workloads, measured in alternating rounds and joined in one report.
//!
//! - [`workloads`]: the shared definitions (exported as `workloads.json`);
//! - [`kunit`]: the KUnit benchmark suite generator (its fixed C in
//!   `benches/kunit/*.c.in`) and the kernel run;
//! - [`ktap`]: the parser of the suite's `# mpv-bench:` lines;
//! - [`measure`]: the reference timed with the kernel suite's method;
//! - [`run`]: `bench run`, the interleaved rounds, into a [`run::RunFile`];
//! - [`analysis`]: per-round ratios, their statistics and the verdicts;
//! - [`report`]: `bench report`, the tables (README block included) and,
//!   with [`plot`], one SVG per path-selection family, from a run file;
//! - `benches/pathsel.rs`: criterion benches of the reference (profiling
//!   and CI's build-and-run-once; not used by the report).

pub mod analysis;
pub mod ktap;
pub mod kunit;
pub mod measure;
pub mod plot;
pub mod report;
pub mod run;
pub mod workloads;

pub use kunit::{generate_suite, parse_ktap, run_kernel, KernelResult};
pub use report::{report, BenchError, Report};
pub use run::RunFile;
pub use workloads::Workload;
