//! The step language: primitive steps at kernel-primitive granularity.
//!
//! A library or driver function is a list of [`Step`]s (see
//! `revisions/*.json`). Steps that touch shared state (SRCU, mutexes, list
//! pointers, `current_path[]`, bit operations, sysfs, works, frees) are one
//! atomic transition each; steps that only touch the thread's registers
//! (`set`, `goto`, `if_*`, `call`, `return`, `label`) are *local* and are
//! folded into the neighbouring transition (they are invisible to other
//! threads, so this loses no interleaving).
//!
//! Values are `u8`: a path pointer is `0` (NULL) or `path id + 1`, [`JUNK`]
//! is an uninitialised pointer; booleans are 0/1.

mod describe;
mod operand;
mod vocab;

pub use describe::{reg_name, Operands};
pub use operand::{Bit, ConsiderMode, Field, Mutex, Named, Pred, Reg, Val, WorkKind, INF, JUNK, NREG};
pub use vocab::{CStep, Step};
