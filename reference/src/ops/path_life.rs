//! Path arrival and removal: the driver's (`add_path`, `remove_path`,
//! `revalidate`) and the library's own calls (`mpath_add_device`,
//! `mpath_delete_device`, freeing, clearing `current_path[]`,
//! `mpath_revalidate_paths`), and the path capacity they compare.

use super::apply::{misrouted, Family};
use super::{Op, OpError, Ret, DEFAULT_CAPACITY};
use crate::driver::{AluaState, DriverKind};
use crate::drvops::PathSetup;
use crate::head::System;
use crate::sync::Ordering;

impl System {
    pub(super) fn apply_path_life(&self, op: &Op) -> Result<Ret, OpError> {
        use Op::*;
        Ok(match op {
            AddPath { path, ctrl, capacity, ana, alua, missing_ops } => {
                self.check_new_path(*path, *ctrl)?;
                if self.kind() == DriverKind::Scsi && ana.is_some() {
                    return Err(OpError("add_path: `ana` is NVMe-only; use `alua` for scsi".into()));
                }
                if self.kind() == DriverKind::Nvme && alua.is_some() {
                    return Err(OpError("add_path: `alua` is SCSI-only; use `ana` for nvme".into()));
                }
                let setup = PathSetup {
                    ctrl: *ctrl,
                    numa_node: self.ctrls[*ctrl as usize].numa_node.load(Ordering::Relaxed),
                    capacity: *capacity,
                    ana: *ana,
                    alua: alua.unwrap_or(AluaState::Optimal),
                    fops_missing: missing_ops.iter().fold(0, |m, o| m | o.bit()),
                };
                self.drv_add_path(*path, &setup);
                Ret::None
            }
            RemovePath { path, node } => {
                self.check_path(*path)?;
                self.check_node(*node)?;
                self.drv_remove_path(*path, *node);
                Ret::None
            }
            Revalidate { path } => {
                self.check_path(*path)?;
                Ret::Paths(self.drv_revalidate(*path))
            }
            SetCapacity { path, sectors } => {
                self.check_path(*path)?;
                self.path(*path, "set_capacity").capacity.store(*sectors, Ordering::Relaxed);
                Ret::None
            }
            AddDevice { path, ctrl, ana } => {
                self.check_new_path(*path, *ctrl)?;
                let setup = PathSetup {
                    ctrl: *ctrl,
                    numa_node: self.ctrls[*ctrl as usize].numa_node.load(Ordering::Relaxed),
                    capacity: DEFAULT_CAPACITY,
                    ana: *ana,
                    alua: AluaState::Optimal,
                    fops_missing: 0,
                };
                self.lib_add_device(*path, &setup);
                Ret::None
            }
            DeleteDevice { path } => {
                self.check_path(*path)?;
                Ret::Bool(self.delete_device(*path))
            }
            FreePath { path } => {
                self.check_path(*path)?;
                self.free_path(*path);
                Ret::None
            }
            HeadDevicesEmpty => Ret::Bool(self.head_devices_empty()),
            ClearCurrentPath { path } => {
                self.check_path(*path)?;
                Ret::Bool(self.clear_current_path(*path))
            }
            ClearPaths => {
                self.clear_paths();
                Ret::None
            }
            RevalidatePaths => Ret::Paths(self.revalidate_paths(true)),
            _ => return Err(misrouted(Family::PathLife, op)),
        })
    }

    /// `AddDevice`: allocate a path whose disk is added and call
    /// `mpath_add_device` only (no driver follow-up).
    fn lib_add_device(&self, p: u32, s: &PathSetup) {
        self.drv_add_path_alloc_only(p, s);
        self.add_device(p);
    }
}
