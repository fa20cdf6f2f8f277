//! Path selection (`find_path`): the predicate loads a selector makes
//! (`is_disabled`, `is_optimized`, ...) and `consider`, the selectors'
//! comparison of one candidate, with what each selector saw recorded for
//! the instrumentation at `mpath_find_path`'s return.

use super::Machine;
use crate::state::*;
use crate::step::*;
use mpath_reference::driver::{CtrlState, DriverKind};

impl Machine {
    /// Run a `load` or `consider` step.
    #[inline]
    pub(super) fn exec_select(&self, s: &mut State, t: usize, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        match step {
            Step::Load { dst, what, on } => {
                let pv = on.map(|r| reg(s, r)).unwrap_or(0);
                let needs_path = matches!(
                    what,
                    Pred::IsDisabled | Pred::IsOptimized | Pred::IsAvailable | Pred::Access | Pred::CtrlLive | Pred::CapacityMismatch | Pred::CtrlIndex
                );
                let p = if needs_path { self.touch(s, pv) } else { None };
                if needs_path && p.is_none() {
                    set!(s, t, *dst, 0);
                    return false;
                }
                let v = match (what, p) {
                    (Pred::IsDisabled, Some(p)) => {
                        self.see(s, t, p);
                        self.is_disabled(s, p) as u8
                    }
                    (Pred::IsOptimized, Some(p)) => {
                        self.see(s, t, p);
                        self.is_optimized(s, p) as u8
                    }
                    (Pred::IsAvailable, Some(p)) => self.is_available(s, p) as u8,
                    (Pred::Access, Some(p)) => {
                        self.see(s, t, p);
                        s.paths[p].access as u8
                    }
                    (Pred::CtrlLive, Some(p)) => (self.ctrl_state(s, p) == CtrlState::Live) as u8,
                    (Pred::CapacityMismatch, Some(p)) => (s.paths[p].cap != s.head_cap) as u8,
                    (Pred::HasHeadDisk, _) => (s.disk != DiskState::None) as u8,
                    (Pred::RefCount, _) => s.head_ref.max(0) as u8,
                    (Pred::Iopolicy, _) => s.iopolicy as u8,
                    (Pred::IsCtrlIoctl, _) => (self.driver == DriverKind::Nvme && reg(s, Reg::Arg) == 1) as u8,
                    (Pred::CtrlIndex, Some(p)) => s.paths[p].ctrl,
                    (Pred::RemovalSecs, _) => s.removal_secs,
                    _ => 0,
                };
                set!(s, t, *dst, v)
            }
            Step::Consider { mode } => {
                let src = if *mode == ConsiderMode::RoundRobinOld { Reg::Old } else { Reg::Dev };
                let v = reg(s, src);
                let Some(p) = self.touch(s, v) else { return false };
                self.see(s, t, p);
                let dis = self.is_disabled(s, p);
                let acc = s.paths[p].access;
                let qd = self.qd_fn.is_some() && self.resting_func(s, t) == self.qd_fn;
                let th = &mut s.threads[t];
                let r = &mut th.regs;
                match mode {
                    ConsiderMode::FindPath => {
                        if !dis {
                            let numa = s.paths[p].numa;
                            let node = r[Reg::N as usize] as usize;
                            let d = if qd {
                                // nvme_queue_depth_path: depth = atomic_read(&ns->ctrl->nr_active)
                                s.nr_active[(s.paths[p].ctrl as usize).min(MAXC - 1)]
                            } else if numa >= 0 && s.iopolicy == IoPolicy::Numa && node < MAXN && (numa as usize) < MAXN {
                                self.distances[node][numa as usize]
                            } else {
                                10
                            };
                            if acc == AccessState::Optimized && d < r[Reg::FoundD as usize] {
                                r[Reg::Found as usize] = v;
                                r[Reg::FoundD as usize] = d;
                            } else if acc == AccessState::Nonoptimized && d < r[Reg::FallbackD as usize] {
                                r[Reg::Fallback as usize] = v;
                                r[Reg::FallbackD as usize] = d;
                            }
                        }
                    }
                    ConsiderMode::RoundRobin => {
                        r[Reg::Tmp as usize] = 0;
                        if !dis && acc == AccessState::Optimized {
                            r[Reg::Found as usize] = v;
                            r[Reg::Tmp as usize] = 1;
                        } else if !dis && acc == AccessState::Nonoptimized {
                            r[Reg::Found as usize] = v;
                        }
                    }
                    ConsiderMode::RoundRobinOld => {
                        let found = r[Reg::Found as usize];
                        r[Reg::Tmp as usize] = (!dis && (acc == AccessState::Optimized || (found == 0 && acc == AccessState::Nonoptimized))) as u8;
                    }
                }
            }
            _ => {}
        }
        false
    }

    /// Record what a selector saw when it read path `p`.
    pub(super) fn see(&self, s: &mut State, t: usize, p: usize) {
        let dis = self.is_disabled(s, p);
        let unl = s.paths[p].life != Life::Linked;
        let th = &mut s.threads[t];
        if th.in_find == 0 {
            return;
        }
        let b = 1u8 << p;
        th.seen_disabled = if dis { th.seen_disabled | b } else { th.seen_disabled & !b };
        th.seen_unlinked = if unl { th.seen_unlinked | b } else { th.seen_unlinked & !b };
    }

    /// The instrumentation at `mpath_find_path`'s return.
    pub(super) fn check_selection(&self, s: &mut State, t: usize) {
        let th = s.threads[t];
        let r = th.regs[Reg::Ret as usize];
        if r == JUNK {
            s.viol |= vbit::JUNK;
            return;
        }
        if r != 0 && (r as usize) <= MAXP {
            let b = 1u8 << (r - 1);
            if th.seen_disabled & b != 0 {
                s.viol |= vbit::DISABLED_RET;
            }
            if th.seen_unlinked & b != 0 {
                s.viol |= vbit::UNLINKED_RET;
            }
        }
        if th.in_find == 1 && !th.disturbed {
            let any = (0..self.npaths as usize).any(|p| self.optimized_usable(s, p));
            let ok = r != 0 && (r as usize) <= MAXP && self.optimized_usable(s, r as usize - 1);
            if any && !ok {
                s.viol |= vbit::QUALITY;
            }
        }
    }
}
