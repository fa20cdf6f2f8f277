//! Controller and namespace state: capacity, ANA state, the iopolicy,
//! a path's disk pointer, the harness pokes (controller state, failfast,
//! `nr_active`, SCSI sdev / ALUA state), `nvme_change_ctrl_state`.

use super::Machine;
use crate::state::*;
use crate::step::*;

impl Machine {
    /// Run a controller / namespace state step; returns true when it changed
    /// what the selectors read.
    #[inline]
    pub(super) fn exec_ctrl(&self, s: &mut State, t: usize, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        match step {
            Step::SetCapacity { p, v } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].cap = *v;
                }
            }
            Step::HeadTakeCapacity { p } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.head_cap = s.paths[pi].cap;
                }
            }
            Step::SetAna { p, src } => {
                let pv = reg(s, *p);
                // 0 = no descriptor (unset); any other byte not an ANA
                // state cannot reach here (`RevisionSpec::compile`: a typed
                // store reads `arg`, the operation's typed argument).
                let a = match reg(s, *src) {
                    0 => None,
                    v => AnaState::try_from(v).ok(),
                };
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].ana = a;
                    s.paths[pi].access = match a {
                        Some(AnaState::Optimized) => AccessState::Optimized,
                        Some(AnaState::Nonoptimized) => AccessState::Nonoptimized,
                        _ => AccessState::Other,
                    };
                }
                return true;
            }
            Step::SetIopolicy { src } => {
                // A byte naming no policy is refused at compile time
                // (`RevisionSpec::compile`): no change.
                if let Ok(p) = IoPolicy::try_from(reg(s, *src)) {
                    s.iopolicy = p;
                }
                return true;
            }
            Step::ClearDisk { p } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].bits &= !(1 << pbit::HAS_DISK);
                }
                return true;
            }
            Step::Poke { field, on, src } => {
                let v = reg(s, *src);
                let o = reg(s, *on);
                match field {
                    Field::CtrlState | Field::Failfast | Field::NrActive => {
                        let c = (o as usize).min(MAXC - 1);
                        match field {
                            // A byte naming no state is refused at compile time
                            // (`RevisionSpec::compile`); never stored.
                            Field::CtrlState => {
                                if let Ok(st) = CtrlState::try_from(v) {
                                    s.ctrls[c].set_state(st)
                                }
                            }
                            Field::Failfast => s.ctrls[c].set_failfast_expired(v != 0),
                            _ => s.nr_active[c] = v,
                        }
                    }
                    Field::SdevState | Field::AluaState => {
                        // A byte naming no state is refused at compile time
                        // (`RevisionSpec::compile`); never stored.
                        if let Some(pi) = self.touch(s, o) {
                            if *field == Field::SdevState {
                                if let Ok(st) = SdevState::try_from(v) {
                                    s.paths[pi].sdev = Some(st);
                                }
                            } else if let Ok(st) = AluaState::try_from(v) {
                                s.paths[pi].alua = st;
                            }
                        }
                    }
                }
                return true;
            }
            Step::ChangeCtrlState { ctrl, state, table, dst } => {
                let c = (reg(s, *ctrl) as usize).min(MAXC - 1);
                let old = s.ctrls[c].state();
                // A byte naming no state is refused at compile time
                // (`RevisionSpec::compile`): no change.
                let new = CtrlState::try_from(reg(s, *state)).ok();
                let mut changed = new.is_some();
                if let (Some(new), true) = (new, *table) {
                    changed = old.nvme_may_become(new);
                    if changed && new == CtrlState::Live && old == CtrlState::Connecting {
                        s.ctrls[c].set_failfast_expired(false);
                    }
                }
                if let (Some(new), true) = (new, changed) {
                    s.ctrls[c].set_state(new);
                }
                set!(s, t, *dst, changed as u8);
                return changed;
            }
            Step::SetSdevState { p, v } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].sdev = Some(*v);
                }
                return true;
            }
            _ => {}
        }
        false
    }
}
