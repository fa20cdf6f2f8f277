//! # mpath-reference
//!
//! An executable reference of the Linux libmultipath library
//! (`lib/multipath.c`, v2 semantics by default) and of how NVMe and SCSI
//! call it. Sequential results are the expectations that the model, the
//! loom/shuttle runs and the kernel itself are checked against.
//!
//! Module map: `sync` (std|loom|shuttle facade), `srcu`, `rculist`,
//! `head` (the shared objects and checked accessors), `select` (numa / rr /
//! qd), `io` (submit, requeue), `device` (add/delete, clear, revalidate,
//! sysfs links), `disk` (head lifetime, gendisk, set_live), `removal`
//! (delayed removal), `iopolicy`, `fwd` (cdev, ioctl and forwarded ops),
//! `work`, `driver` (template trait, NVMe, SCSI), `drvops` (driver call
//! orders), `revision` (profiles as data), `topology`, `violation`, `ops`
//! (the vocabulary, and applying it: one child module per family of
//! operations), `opgen` (the one operation generator).

pub mod device;
pub mod disk;
pub mod driver;
pub mod drvops;
pub mod fwd;
pub mod head;
pub mod io;
pub mod iopolicy;
pub mod opgen;
pub mod ops;
pub mod rculist;
pub mod removal;
pub mod revision;
pub mod select;
pub mod srcu;
pub mod sync;
pub mod topology;
pub mod trace;
pub mod violation;
pub mod work;

pub use driver::DriverKind;
pub use head::{Config, System};
pub use ops::{Observation, Op, OpError, Ret};
pub use revision::Profile;
pub use topology::Topology;
pub use violation::{Kind as ViolationKind, Object, Violation};
