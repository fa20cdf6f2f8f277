//! Works and the requeue list: `queue_work`, `cancel_work`
//! (`cancel_delayed_work`), `mod_delayed_work` of the removal and its
//! timer, the clock, `delayed_removal_secs`, `blk_steal_bios` /
//! requeue, `bio_io_error`.

use super::Machine;
use crate::state::*;
use crate::step::*;

impl Machine {
    /// Run a work, timer or requeue step.
    #[inline]
    pub(super) fn exec_work(&self, s: &mut State, t: usize, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        match step {
            Step::QueueWork { w } => s.pending |= w.bit(),
            Step::CancelWork { w, dst } => {
                // The removal work is also pending while its timer is armed.
                let armed = *w == WorkKind::RemoveHead && s.timer != 0;
                let was = s.pending & w.bit() != 0 || armed;
                s.pending &= !w.bit();
                if armed {
                    s.timer = 0;
                }
                set!(s, t, *dst, was as u8)
            }
            Step::ModDelayedWork => {
                let rh = WorkKind::RemoveHead.bit();
                if self.clocked && s.removal_secs != 0 {
                    // Re-armed: a queued, not started instance waits again.
                    s.pending &= !rh;
                    s.timer = s.removal_secs;
                } else {
                    s.timer = 0;
                    s.pending |= rh;
                }
            }
            Step::AdvanceTime { secs } => {
                let d = reg(s, *secs);
                if s.timer != 0 && s.timer != 255 {
                    if d >= s.timer {
                        s.timer = 0;
                        s.pending |= WorkKind::RemoveHead.bit();
                    } else {
                        s.timer -= d;
                    }
                }
            }
            Step::StoreRemovalSecs { src } => s.removal_secs = reg(s, *src),
            Step::RequeueAdd => s.requeue = (s.requeue + 1).min(7),
            Step::RequeueTake { dst } => {
                let n = s.requeue;
                s.requeue = 0;
                set!(s, t, *dst, n)
            }
            Step::BioFail => {}
            _ => {}
        }
        false
    }
}
