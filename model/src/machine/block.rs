//! The builtins' execution: the block layer's queue freeze and
//! `q_usage_counter`, requests in flight on a path and their completion
//! (`nvme_mpath_start_request`, `blk_mq_complete_request`, `nvme_end_req`,
//! `del_gendisk`'s wait).

use super::{Builtin, Machine};
use crate::state::*;
use crate::step::*;

impl Machine {
    /// A request starts on path `p` (`nvme_mpath_start_request`): counted
    /// in its controller's `nr_active` under the queue-depth iopolicy.
    /// Returns whether `nr_active` changed.
    pub(super) fn start_request(&self, s: &mut State, p: usize) -> bool {
        let ps = &mut s.paths[p];
        if ps.inflight >= 7 {
            return false;
        }
        let counted = s.iopolicy == IoPolicy::QueueDepth;
        if counted {
            ps.counted |= 1 << ps.inflight;
        }
        ps.inflight += 1;
        if counted {
            let c = (ps.ctrl as usize).min(MAXC - 1);
            if s.nr_active[c] < 253 {
                s.nr_active[c] += 1;
            }
        }
        counted
    }

    /// Request `k` (0 = the oldest) in flight on path `p` ends
    /// (`nvme_end_req`): `atomic_dec_if_positive(&ns->ctrl->nr_active)` if
    /// it was counted. Returns whether `nr_active` changed.
    pub(super) fn end_request(&self, s: &mut State, p: usize, k: u8) -> bool {
        let ps = &mut s.paths[p];
        if k >= ps.inflight {
            return false;
        }
        let counted = ps.counted & (1 << k) != 0;
        let low = ps.counted & ((1u8 << k) - 1);
        ps.counted = low | ((ps.counted >> (k + 1)) << k);
        ps.inflight -= 1;
        let c = (ps.ctrl as usize).min(MAXC - 1);
        if counted && (1..=253).contains(&s.nr_active[c]) {
            s.nr_active[c] -= 1;
            return true;
        }
        false
    }

    /// Execute the carrier step of builtin `b` with the builtin's
    /// semantics; returns true if it changed state the path selectors read.
    pub(super) fn exec_builtin(&self, s: &mut State, t: usize, b: Builtin, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        let path_of = |v: u8| if v == 0 || v as usize > MAXP { None } else { Some(v as usize - 1) };
        match (b, step) {
            (Builtin::QueueEnter, _) => s.threads[t].q_ref = true,
            (Builtin::QueueExit, _) => s.threads[t].q_ref = false,
            (Builtin::FreezeStart, _) => s.q_freeze = s.q_freeze.saturating_add(1),
            (Builtin::FreezeWait, _) => {}
            (Builtin::Unfreeze, _) => s.q_freeze = s.q_freeze.saturating_sub(1),
            (Builtin::SubmitToPath, Step::UsePathDisk { p }) => {
                let v = reg(s, *p);
                self.exec(s, t, step);
                if let Some(pi) = path_of(v) {
                    return self.start_request(s, pi);
                }
            }
            (Builtin::CompleteRequest, Step::Load { dst, on, .. }) => {
                let v = on.map(|r| reg(s, r)).unwrap_or(0);
                let mut x = 0;
                if let Some(pi) = path_of(v) {
                    let ps = &mut s.paths[pi];
                    if ps.inflight > ps.claimed {
                        ps.claimed += 1;
                        x = 1;
                    }
                }
                s.threads[t].regs[*dst as usize] = x;
            }
            (Builtin::EndRequest, Step::DerefPath { p }) => {
                let v = reg(s, *p);
                if let Some(pi) = path_of(v) {
                    if s.paths[pi].inflight > 0 {
                        self.touch(s, v);
                        // Claimed requests are the oldest ones.
                        if s.paths[pi].claimed > 0 {
                            s.paths[pi].claimed -= 1;
                        }
                        return self.end_request(s, pi, 0);
                    }
                }
            }
            (Builtin::DrainRequests, Step::DerefPath { p }) => {
                let v = reg(s, *p);
                self.touch(s, v);
                if let Some(pi) = path_of(v) {
                    let (n, c) = (s.paths[pi].inflight, s.paths[pi].claimed);
                    if n > c {
                        // The device completes the oldest request nobody
                        // else completes; the wait goes on.
                        let top = s.threads[t].depth as usize - 1;
                        s.threads[t].stack[top].pc -= 1;
                        return self.end_request(s, pi, c);
                    }
                }
            }
            // Carriers are checked when the machine is built.
            _ => {}
        }
        false
    }
}
