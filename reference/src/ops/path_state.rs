//! Driver state of paths and controllers: NVMe ANA (the log update and raw
//! stores), controller state, NUMA node, failfast, `NVME_NS_READY` /
//! `NVME_NS_ANA_PENDING`, `nr_active`; SCSI device state, ALUA, blocking.

use super::apply::{misrouted, Family};
use super::{Op, OpError, Ret};
use crate::driver::{DriverKind, NVME_NS_ANA_PENDING, NVME_NS_READY};
use crate::head::System;
use crate::sync::{AtomicU32, Ordering};

/// Set or clear `bit` in a path's `ns_flags`.
fn set_ns_flag(f: &AtomicU32, bit: u32, on: bool) {
    if on {
        f.fetch_or(bit, Ordering::Release);
    } else {
        f.fetch_and(!bit, Ordering::Release);
    }
}

impl System {
    pub(super) fn apply_path_state(&self, op: &Op) -> Result<Ret, OpError> {
        use Op::*;
        Ok(match op {
            AnaUpdate { path, state } => {
                self.check_driver(DriverKind::Nvme, "ana_update")?;
                self.check_path(*path)?;
                self.nvme_update_ns_ana_state(*path, *state);
                Ret::None
            }
            SetAnaState { path, state } => {
                self.check_driver(DriverKind::Nvme, "set_ana_state")?;
                self.check_path(*path)?;
                let s = self.path(*path, "set_ana_state");
                s.ana_state.store(*state as u8, Ordering::Relaxed);
                s.access_state.store(crate::driver::ana_to_access(*state) as u8, Ordering::Relaxed);
                Ret::None
            }
            SetCtrlState { ctrl, state } => {
                self.check_driver(DriverKind::Nvme, "set_ctrl_state")?;
                self.check_ctrl(*ctrl)?;
                if self.profile.ctrl_state_machine {
                    Ret::Bool(self.nvme_change_ctrl_state(*ctrl, *state))
                } else {
                    self.ctrls[*ctrl as usize].state.store(*state as u8, Ordering::Release);
                    Ret::None
                }
            }
            SetCtrlNode { ctrl, node } => {
                self.check_ctrl(*ctrl)?;
                if *node != -1 && !self.topo.is_possible(*node) {
                    return Err(OpError(format!("set_ctrl_node: node {node} is not possible")));
                }
                self.ctrls[*ctrl as usize].numa_node.store(*node, Ordering::Relaxed);
                Ret::None
            }
            SetFailfast { ctrl, expired } => {
                self.check_driver(DriverKind::Nvme, "set_failfast")?;
                self.check_ctrl(*ctrl)?;
                self.ctrls[*ctrl as usize].failfast_expired.store(*expired, Ordering::Relaxed);
                Ret::None
            }
            SetReady { path, ready } => {
                self.check_driver(DriverKind::Nvme, "set_ready")?;
                self.check_path(*path)?;
                set_ns_flag(&self.path(*path, "set_ready").ns_flags, NVME_NS_READY, *ready);
                Ret::None
            }
            SetAnaPending { path, pending } => {
                self.check_driver(DriverKind::Nvme, "set_ana_pending")?;
                self.check_path(*path)?;
                set_ns_flag(&self.path(*path, "set_ana_pending").ns_flags, NVME_NS_ANA_PENDING, *pending);
                Ret::None
            }
            SetNrActive { ctrl, n } => {
                self.check_ctrl(*ctrl)?;
                self.ctrls[*ctrl as usize].nr_active.store(*n, Ordering::Relaxed);
                Ret::None
            }
            SetSdevState { path, state } => {
                self.check_driver(DriverKind::Scsi, "set_sdev_state")?;
                self.check_path(*path)?;
                self.path(*path, "set_sdev_state").sdev_state.store(*state as u8, Ordering::Release);
                Ret::None
            }
            SetAluaState { path, state } => {
                self.check_driver(DriverKind::Scsi, "set_alua_state")?;
                self.check_path(*path)?;
                self.set_alua(*path, *state);
                Ret::None
            }
            ScsiBlock { path } => {
                self.check_driver(DriverKind::Scsi, "scsi_block")?;
                self.check_path(*path)?;
                self.scsi_block(*path);
                Ret::None
            }
            _ => return Err(misrouted(Family::PathState, op)),
        })
    }
}
