//! Mutexes: `mutex_lock` / `mutex_unlock` on `head->lock` and `subsys->lock`.

use super::{mutex_idx, Machine};
use crate::state::*;
use crate::step::*;

impl Machine {
    /// Run a mutex step (a blocked `mutex_lock` is not enabled: `Machine::enabled`).
    #[inline]
    pub(super) fn exec_lock(&self, s: &mut State, t: usize, step: &Step) -> bool {
        match step {
            Step::Lock { m } => s.mutex[mutex_idx(*m)] = t as u8 + 1,
            Step::Unlock { m } => s.mutex[mutex_idx(*m)] = 0,
            _ => {}
        }
        false
    }
}
