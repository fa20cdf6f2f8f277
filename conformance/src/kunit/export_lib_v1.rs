//! The v1 API section of the libmultipath suite's C prelude: the driver
//! glue a v1 driver writes around the same observation rows and ops.
//!
//! v1 differs in nearly every call: the head's gendisk lives in a
//! `struct mpath_disk` of its own (with its partition-scan work and kref,
//! and `mpath_free_disk` puts the head), the access state comes from a
//! `get_access_state` callback (OPTIMIZED, ACTIVE, INVALID), a device has
//! no back-pointer to its head (the callbacks find the world through the
//! suite's path, `mpvl_path::w`), `mpath_delete_device` returns nothing and
//! there is no `mpath_head_devices_empty` (the driver reads the list, as
//! NVMe reads its own), the iopolicy store calls the driver's `update` only
//! when the policy changes, and the driver supplies the delayed removal
//! work. The queue-depth selector reads `mpath_device.nr_active`, which
//! nothing maintains in v1; the suite maintains nothing either.

/// The v1 API's own state: the head's `struct mpath_disk`.
pub const C_API_V1_TYPES: &str = include_str!("../../kunit/libmultipath/mpvl_api_v1_types.h");

/// The v1 API section.
pub const C_API_V1: &str = include_str!("../../kunit/libmultipath/mpvl_api_v1.h");
