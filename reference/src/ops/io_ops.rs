//! I/O: path selection (`mpath_find_path`, `call_for_device`), bio
//! submission, completion and failover, the requeue and other work items,
//! time, and the forwarded ops (chr ioctl, uring cmd, bdev ioctl, PR ops...).

use super::apply::{misrouted, Family};
use super::{Op, OpError, Ret};
use crate::driver::IoctlKind;
use crate::head::System;

impl System {
    pub(super) fn apply_io(&self, op: &Op) -> Result<Ret, OpError> {
        use Op::*;
        Ok(match op {
            FindPath { node } => {
                self.check_node(*node)?;
                Ret::Path(self.find_path(*node))
            }
            SubmitBio { node } => {
                self.check_node(*node)?;
                Ret::Submit(self.submit_bio(*node))
            }
            Failover { path, ana_error } => {
                self.check_path(*path)?;
                Ret::Bool(self.drv_failover(*path, *ana_error))
            }
            Complete { path } => {
                self.check_path(*path)?;
                Ret::Bool(self.complete_bio(*path).is_some())
            }
            RunWorks { node } => {
                self.check_node(*node)?;
                Ret::Works(self.run_works(*node))
            }
            AdvanceTime { secs } => {
                if *secs > 1_000_000 {
                    return Err(OpError(format!("advance_time: {secs} s is more than 1000000")));
                }
                self.work.advance(*secs);
                Ret::None
            }
            CallForDevice { node } => {
                self.check_node(*node)?;
                Ret::Int(self.call_for_device(*node).0 as i64)
            }
            ChrIoctl { node, kind } => {
                self.check_node(*node)?;
                Ret::Int(self.chr_ioctl(*node, *kind) as i64)
            }
            UringCmd { node } => {
                self.check_node(*node)?;
                Ret::Int(self.chr_uring_cmd(*node) as i64)
            }
            Forward { node, fwd, kind } => {
                self.check_node(*node)?;
                Ret::Int(self.forward(*node, *fwd, kind.unwrap_or(IoctlKind::Ns)) as i64)
            }
            _ => return Err(misrouted(Family::Io, op)),
        })
    }
}
