//! Violations are values: every layer (reference, model, traces, KUnit)
//! reports them as these types, naming the object, the function and the
//! step at which they happened.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Object {
    Head,
    HeadDisk,
    Path(u32),
    PathDisk(u32),
    /// `current_path[node]` slot.
    CurrentPath(i32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A read or write through an object whose memory was freed.
    UseAfterFree,
    /// A dereference of a NULL gendisk (or of a NULL head disk).
    NullDisk,
    /// A dereference of a NULL pointer other than a disk (v1 R4).
    NullDeref,
    /// An uninitialised pointer published or used (v1 R12).
    JunkPointer,
    /// `current_path[node]` indexed beyond its allocation.
    OutOfBounds,
    /// A `multipath/<path>` link created while it already existed.
    DuplicateLink,
    /// A path-selection loop exceeded the bound derived from the path count.
    NonTermination,
    /// `synchronize_srcu` called from inside a read section of the same domain.
    SelfDeadlock,
    /// A reference count went below zero.
    RefUnderflow,
    /// An operation the caller contract forbids (e.g. a second
    /// `mpath_can_remove_head`), reported but executed as the kernel would.
    ContractBreach,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Violation {
    pub kind: Kind,
    pub object: Object,
    pub function: String,
    /// The trace step (0-based operation index) during which it happened.
    pub step: u64,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} of {:?} in {} at step {}", self.kind, self.object, self.function, self.step)
    }
}
