//! The character device (§12) and the forwarded block-device operations
//! (§13): one shared forwarding path, each op with its own error codes.

use crate::device::EWOULDBLOCK;
use crate::disk::EINVAL;
use crate::driver::{IoctlKind, Template};
use crate::head::System;
use crate::sync::Ordering;
use crate::violation::{Kind, Object};
use serde::{Deserialize, Serialize};

pub const ENOTTY: i32 = 25;
pub const EOPNOTSUPP: i32 = 95;

/// A block-device operation forwarded to the selected path's disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FwdOp {
    PrRegister,
    PrReserve,
    PrRelease,
    PrPreempt,
    PrClear,
    PrReadKeys,
    PrReadReservation,
    ReportZones,
    Getgeo,
    GetUniqueId,
    Ioctl,
}

impl FwdOp {
    pub const ALL: [FwdOp; 11] = [
        FwdOp::PrRegister,
        FwdOp::PrReserve,
        FwdOp::PrRelease,
        FwdOp::PrPreempt,
        FwdOp::PrClear,
        FwdOp::PrReadKeys,
        FwdOp::PrReadReservation,
        FwdOp::ReportZones,
        FwdOp::Getgeo,
        FwdOp::GetUniqueId,
        FwdOp::Ioctl,
    ];

    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The library function that forwards this op.
    pub fn function(self) -> &'static str {
        match self {
            FwdOp::PrRegister => "mpath_pr_register",
            FwdOp::PrReserve => "mpath_pr_reserve",
            FwdOp::PrRelease => "mpath_pr_release",
            FwdOp::PrPreempt => "mpath_pr_preempt",
            FwdOp::PrClear => "mpath_pr_clear",
            FwdOp::PrReadKeys => "mpath_pr_read_keys",
            FwdOp::PrReadReservation => "mpath_pr_read_reservation",
            FwdOp::ReportZones => "mpath_bdev_report_zones",
            FwdOp::Getgeo => "mpath_bdev_getgeo",
            FwdOp::GetUniqueId => "mpath_bdev_get_unique_id",
            FwdOp::Ioctl => "mpath_bdev_ioctl",
        }
    }

    /// What the library returns when the path disk lacks the op.
    /// `None` for ioctl: it calls `fops->ioctl` without a NULL check.
    pub fn missing_ret(self) -> Option<i32> {
        match self {
            FwdOp::ReportZones => Some(-EOPNOTSUPP),
            FwdOp::Getgeo => Some(-ENOTTY),
            FwdOp::GetUniqueId => Some(0),
            FwdOp::Ioctl => None,
            _ => Some(-EOPNOTSUPP), // PR: no pr_ops or the op is missing
        }
    }
}

impl System {
    /// The shared forwarding path: SRCU, select, forward or the op's error.
    /// For `Ioctl`, `kind` selects the `ioctl_begin` early-unlock pattern.
    pub fn forward(&self, node: i32, op: FwdOp, kind: IoctlKind) -> i32 {
        let f = op.function();
        self.head(f);
        let idx = self.srcu.read_lock();
        let v = self.find_path_locked(node);
        let Some(d) = self.sel_id(v, f) else {
            self.srcu.read_unlock(idx);
            return -EWOULDBLOCK;
        };
        let mut unlocked = false;
        let mut opaque = None;
        if op == FwdOp::Ioctl {
            opaque = self.drv.ioctl_begin(|| self.dev(d, f), kind);
            if opaque.is_some() {
                self.srcu.read_unlock(idx); // S07: dropped before the call
                unlocked = true;
            }
        }
        let ret = if op == FwdOp::Ioctl && unlocked && !self.profile.ioctl_path_after_unlock {
            // 6.12: only the pinned controller is used after the unlock.
            0
        } else if !self.path_disk(d, f) {
            0
        } else {
            let missing = self.path(d, f).fops_missing.load(Ordering::Relaxed) & op.bit() != 0;
            match (missing, op.missing_ret()) {
                (false, _) => 0,
                (true, Some(e)) => e,
                (true, None) => {
                    self.violate(Kind::NullDeref, Object::PathDisk(d), f);
                    0
                }
            }
        };
        if let Some(o) = opaque {
            self.drv.ioctl_finish(&self.ctrls[o as usize]);
        }
        if !unlocked {
            self.srcu.read_unlock(idx);
        }
        ret
    }

    /// `mpath_chr_ioctl`: `cdev_ioctl` on the selected path.
    pub fn chr_ioctl(&self, node: i32, kind: IoctlKind) -> i32 {
        const F: &str = "mpath_chr_ioctl";
        self.head(F);
        if !self.drv.has_cdev() {
            return -ENOTTY; // no cdev exists for this driver
        }
        let idx = self.srcu.read_lock();
        let v = self.find_path_locked(node);
        let Some(d) = self.sel_id(v, F) else {
            self.srcu.read_unlock(idx);
            return -EWOULDBLOCK;
        };
        let opaque = self.drv.ioctl_begin(|| self.dev(d, F), kind);
        if opaque.is_some() {
            self.srcu.read_unlock(idx);
        }
        if opaque.is_none() || self.profile.ioctl_path_after_unlock {
            // cdev_ioctl(d) -> _nvme_ns_chr_ioctl(ns) reads ns->ctrl
            self.path(d, "nvme_mpath_cdev_ioctl");
        }
        match opaque {
            Some(o) => self.drv.ioctl_finish(&self.ctrls[o as usize]),
            None => self.srcu.read_unlock(idx),
        }
        0
    }

    /// `mpath_chr_uring_cmd`.
    pub fn chr_uring_cmd(&self, node: i32) -> i32 {
        const F: &str = "mpath_chr_uring_cmd";
        self.head(F);
        if self.profile.uring_no_path_ewouldblock && !self.drv.has_cdev() {
            return -EOPNOTSUPP; // v1 checks the callback before locking
        }
        let idx = self.srcu.read_lock();
        let v = self.find_path_locked(node);
        let ret = match self.sel_id(v, F) {
            None if self.profile.uring_no_path_ewouldblock => -EWOULDBLOCK,
            None => -EINVAL,
            Some(_) if !self.drv.has_cdev() => -EOPNOTSUPP,
            Some(d) => {
                self.path(d, F);
                0
            }
        };
        self.srcu.read_unlock(idx);
        ret
    }
}
