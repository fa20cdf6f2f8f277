//! SRCU: `srcu_read_lock` / `srcu_read_unlock` / `synchronize_srcu` on
//! `head->srcu` and on the controller's SRCU (`ctrl->srcu`).

use super::Machine;
use crate::state::*;
use crate::step::*;

impl Machine {
    /// Run an SRCU step: a read section's nesting, and a grace period that
    /// waits for the threads inside a read section when it starts.
    #[inline]
    pub(super) fn exec_srcu(&self, s: &mut State, t: usize, step: &Step) -> bool {
        match step {
            Step::SrcuLock => s.threads[t].srcu += 1,
            Step::SrcuUnlock => {
                let th = &mut s.threads[t];
                th.srcu = th.srcu.saturating_sub(1);
                if th.srcu == 0 {
                    for u in s.threads.iter_mut() {
                        u.wait &= !(1 << t);
                    }
                }
            }
            Step::Synchronize => {
                self.touch_head(s);
                let mut w = 0u8;
                for (u, th) in s.threads.iter().enumerate() {
                    if th.srcu > 0 {
                        w |= 1 << u;
                    }
                }
                s.threads[t].wait = w;
            }
            Step::CtrlSrcuLock => s.threads[t].ctrl_srcu += 1,
            Step::CtrlSrcuUnlock => {
                let th = &mut s.threads[t];
                th.ctrl_srcu = th.ctrl_srcu.saturating_sub(1);
                if th.ctrl_srcu == 0 {
                    for u in s.threads.iter_mut() {
                        u.wait_ctrl &= !(1 << t);
                    }
                }
            }
            Step::CtrlSynchronize => {
                let mut w = 0u8;
                for (u, th) in s.threads.iter().enumerate() {
                    if th.ctrl_srcu > 0 {
                        w |= 1 << u;
                    }
                }
                s.threads[t].wait_ctrl = w;
            }
            _ => {}
        }
        false
    }
}
