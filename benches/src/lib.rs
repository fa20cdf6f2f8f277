//! # mpath-benches
//!
//! Benchmarks of the path-find hot loops, the Rust reference and the kernel
//! C (Linux 6.12 NVMe under UML KUnit) on the same workloads, joined in one
//! report.
//!
//! - [`workloads`]: the shared definitions (exported as `workloads.json`);
//! - `benches/pathsel.rs`: criterion benches of the reference, one per
//!   workload (id = workload name), plus reader scaling;
//! - [`kunit`]: the KUnit benchmark suite generator and the KTAP parser;
//! - [`report`]: `report(criterion_dir, kernel_ktap, out_dir)`, the joined
//!   markdown table and one SVG per path-selection family.

pub mod kunit;
pub mod report;
pub mod workloads;

pub use kunit::{generate_suite, parse_ktap, run_kernel, KernelResult};
pub use report::{report, BenchError, Report};
pub use workloads::Workload;
