//! Disks, references and frees: the head gendisk (`device_add_disk`,
//! `del_gendisk`, its cdev, NULL / freed dereferences), a path's disk
//! use, the head refcount, `kfree` of a path or the head, the ioctl
//! bracket and `yield`.

use super::Machine;
use crate::state::*;
use crate::step::*;
use mpath_reference::driver::DriverKind;

impl Machine {
    /// Run a disk, reference or free step; returns true when it freed a path.
    #[inline]
    pub(super) fn exec_disk(&self, s: &mut State, t: usize, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        match step {
            Step::DerefHeadDisk => {
                if s.disk == DiskState::None || s.disk == DiskState::ErrPtr {
                    s.viol |= vbit::NULL_DISK;
                } else if s.disk == DiskState::Freed {
                    s.viol |= vbit::UAF_HEAD;
                }
            }
            Step::DeviceAddDisk { dst } => {
                if s.disk != DiskState::Allocated {
                    s.viol |= vbit::NULL_DISK;
                } else {
                    s.head_bits |= 1 << hbit::GD_ADDED;
                }
                set!(s, t, *dst, 0)
            }
            Step::DelGendisk => {
                self.touch_head(s);
                s.head_bits &= !(1 << hbit::GD_ADDED);
            }
            Step::AddCdev => s.head_bits |= 1 << hbit::CDEV_LIVE,
            Step::DelCdev => s.head_bits &= !(1 << hbit::CDEV_LIVE),
            Step::DerefPath { p } => {
                let v = reg(s, *p);
                self.touch(s, v);
            }
            Step::UsePathDisk { p } => {
                let v = reg(s, *p);
                if let Some(pi) = self.touch(s, v) {
                    if !s.paths[pi].bit(pbit::HAS_DISK) {
                        s.viol |= vbit::NULL_DISK;
                    }
                }
            }
            Step::RefDecAndTest { dst } => {
                self.touch_head(s);
                s.head_ref -= 1;
                let z = (s.head_ref == 0) as u8;
                set!(s, t, *dst, z)
            }
            Step::WaitRefZero => {}
            Step::WakeUpVar => {}
            Step::HeadCleanup => self.touch_head(s),
            Step::FreeHead => {
                self.touch_head(s);
                s.head_life = Life::Freed;
            }
            Step::FreePath { p } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].life = Life::Freed;
                }
                return true;
            }
            Step::IoctlBegin { p } => {
                let pv = reg(s, *p);
                self.touch(s, pv);
                let d = (self.driver == DriverKind::Nvme && reg(s, Reg::Arg) == 1) as u8;
                set!(s, t, Reg::Data, d)
            }
            Step::IoctlFinish => set!(s, t, Reg::Data, 0),
            Step::Yield => {}
            _ => {}
        }
        false
    }
}
