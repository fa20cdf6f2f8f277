//! Operations on the head and its gendisk: allocation (with error
//! injection), `set_live`, removal, `put_disk`, open / release, v3's
//! `mpath_head_uninit`.

use super::apply::{misrouted, Family};
use super::{Op, OpError, Ret};
use crate::head::System;
use crate::sync::Ordering;

impl System {
    pub(super) fn apply_head_disk(&self, op: &Op) -> Result<Ret, OpError> {
        use Op::*;
        Ok(match op {
            AllocHeadDisk { fail, capacity } => Ret::Int(self.alloc_head_disk(*fail, *capacity) as i64),
            FailNextAddDisk => {
                self.disk.fail_next_add.store(true, Ordering::Relaxed);
                Ret::None
            }
            SetLive { path } => {
                self.check_path(*path)?;
                self.set_live(*path);
                Ret::None
            }
            RemoveDisk => {
                self.remove_disk();
                Ret::None
            }
            PutDisk => {
                self.put_disk(self.topo.online[0]);
                Ret::None
            }
            Open => Ret::Int(self.bdev_open() as i64),
            Release => {
                self.bdev_release();
                Ret::None
            }
            HeadUninit => Ret::Bool(self.head_uninit()),
            _ => return Err(misrouted(Family::HeadDisk, op)),
        })
    }
}
