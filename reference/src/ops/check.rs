//! Argument checks of [`super::Op`]s: a path, controller or node a system
//! does not have, or an operation of the other driver, is bad input (an
//! [`OpError`] the caller reports with the trace position), not a finding.

use super::OpError;
use crate::driver::DriverKind;
use crate::head::{Life, System};

impl System {
    /// `p` is a path slot that was added.
    pub(super) fn check_path(&self, p: u32) -> Result<(), OpError> {
        if p as usize >= self.paths.len() {
            return Err(OpError(format!("path {p} out of range (max_paths {})", self.paths.len())));
        }
        if self.paths[p as usize].life() == Life::Unused {
            return Err(OpError(format!("path {p} was never added")));
        }
        Ok(())
    }

    /// `p` is a path slot never used, on an existing controller.
    pub(super) fn check_new_path(&self, p: u32, ctrl: u32) -> Result<(), OpError> {
        if p as usize >= self.paths.len() {
            return Err(OpError(format!("path {p} out of range (max_paths {})", self.paths.len())));
        }
        if !matches!(self.paths[p as usize].life(), Life::Unused) {
            return Err(OpError(format!("path {p} already exists")));
        }
        self.check_ctrl(ctrl)
    }

    pub(super) fn check_ctrl(&self, c: u32) -> Result<(), OpError> {
        if c as usize >= self.ctrls.len() {
            return Err(OpError(format!("ctrl {c} out of range (nr_ctrls {})", self.ctrls.len())));
        }
        Ok(())
    }

    pub(super) fn check_node(&self, n: i32) -> Result<(), OpError> {
        if !self.topo.online.contains(&n) {
            return Err(OpError(format!("node {n} is not an online node")));
        }
        Ok(())
    }

    /// `op` is an operation of driver `want`.
    pub(super) fn check_driver(&self, want: DriverKind, op: &str) -> Result<(), OpError> {
        if self.kind() != want {
            return Err(OpError(format!("{op} is a {:?} operation; this trace drives {:?}", want, self.kind()).to_lowercase()));
        }
        Ok(())
    }
}
