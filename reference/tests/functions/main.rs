//! Unit tests of the library functions' edge cases, one module per spec
//! section group (`/work/shared/spec/libmultipath.md`). Every expected
//! value is taken from the spec, not from the reference's output.

mod cdev;
mod devices;
mod drivers;
mod head;
mod io;
mod iopolicy;
mod revisions;
mod select;
mod util;
