//! Bits and sysfs links: `test_bit` / `set_bit` / `clear_bit` /
//! `test_and_set_bit` / `test_and_clear_bit` on path and head flags, and
//! `sysfs_create_link` / `sysfs_remove_link` of a path's link.

use super::Machine;
use crate::state::*;
use crate::step::*;

impl Machine {
    /// Run a bit or link step; returns true when it changed a flag the
    /// selectors read (`READY`, `ANA_PENDING`, the disk).
    #[inline]
    pub(super) fn exec_bits(&self, s: &mut State, t: usize, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        match step {
            Step::TestBit { bit, on, dst } => {
                let v = self.bit_ref(s, t, *bit, *on).map(|r| Self::bit_get(s, r)).unwrap_or(false);
                set!(s, t, *dst, v as u8)
            }
            Step::SetBit { bit, on } | Step::ClearBit { bit, on } => {
                if let Some(r) = self.bit_ref(s, t, *bit, *on) {
                    Self::bit_put(s, r, matches!(step, Step::SetBit { .. }));
                }
                return matches!(bit, Bit::Ready | Bit::AnaPending | Bit::HasDisk);
            }
            Step::TestAndSetBit { bit, on, dst } | Step::TestAndClearBit { bit, on, dst } => {
                let mut old = false;
                if let Some(r) = self.bit_ref(s, t, *bit, *on) {
                    old = Self::bit_get(s, r);
                    Self::bit_put(s, r, matches!(step, Step::TestAndSetBit { .. }));
                }
                set!(s, t, *dst, old as u8);
                return matches!(bit, Bit::Ready | Bit::AnaPending | Bit::HasDisk);
            }
            Step::LinkCreate { p, dst } => {
                let pv = reg(s, *p);
                let mut rc = 0;
                if let Some(pi) = self.touch(s, pv) {
                    if s.links & (1 << pi) != 0 {
                        s.viol |= vbit::DUP_LINK;
                        rc = 1;
                    } else {
                        s.links |= 1 << pi;
                    }
                }
                set!(s, t, *dst, rc)
            }
            Step::LinkRemove { p } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.links &= !(1 << pi);
                }
            }
            _ => {}
        }
        false
    }

    pub(super) fn bit_ref(&self, s: &mut State, t: usize, bit: Bit, on: Option<Reg>) -> Option<(bool, u8)> {
        if bit.is_path_bit() {
            let v = s.threads[t].regs[on? as usize];
            // Membership of ctrl->namespaces is read from the controller's
            // list, not from the namespace.
            let p = if bit == Bit::OnCtrl {
                if v == 0 || v as usize > MAXP {
                    return None;
                }
                v as usize - 1
            } else {
                self.touch(s, v)?
            };
            let b = match bit {
                Bit::Link => pbit::LINK,
                Bit::Ready => pbit::READY,
                Bit::AnaPending => pbit::ANA_PENDING,
                Bit::Removing => pbit::REMOVING,
                Bit::DiskAdded => pbit::DISK_ADDED,
                Bit::OnCtrl => pbit::ON_CTRL,
                _ => pbit::HAS_DISK,
            };
            Some((true, (p as u8) << 4 | b))
        } else {
            let b = match bit {
                Bit::DiskLive => hbit::DISK_LIVE,
                Bit::QueueIfNoPath => hbit::QUEUE_IF_NO_PATH,
                Bit::GdAdded => hbit::GD_ADDED,
                Bit::SuppressPartScan => hbit::SUPPRESS_PART_SCAN,
                Bit::HeadUnlisted => hbit::UNLISTED,
                _ => hbit::CDEV_LIVE,
            };
            Some((false, b))
        }
    }

    pub(super) fn bit_get(s: &State, r: (bool, u8)) -> bool {
        if r.0 {
            s.paths[(r.1 >> 4) as usize].bit(r.1 & 15)
        } else {
            s.hbit(r.1)
        }
    }

    pub(super) fn bit_put(s: &mut State, r: (bool, u8), v: bool) {
        let (word, b) = if r.0 { (&mut s.paths[(r.1 >> 4) as usize].bits, r.1 & 15) } else { (&mut s.head_bits, r.1) };
        if v {
            *word |= 1 << b;
        } else {
            *word &= !(1 << b);
        }
    }
}
