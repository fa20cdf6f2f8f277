//! The driver predicates (`is_disabled`, `is_optimized`, `available`,
//! shared with the reference through `mpath_reference::driver::predicates`)
//! on a model path, and the selection notions the properties use.

use super::Machine;
use crate::state::*;
use mpath_reference::driver::predicates;

/// A model path as the driver predicates (`mpath_reference::driver::
/// predicates`, shared with the reference) read it.
struct ModelPath<'a> {
    s: &'a State,
    p: usize,
}

impl predicates::PathView for ModelPath<'_> {
    fn ctrl_state(&self) -> u8 {
        self.s.ctrls[(self.s.paths[self.p].ctrl as usize).min(MAXC - 1)].state() as u8
    }
    fn failfast_expired(&self) -> bool {
        self.s.ctrls[(self.s.paths[self.p].ctrl as usize).min(MAXC - 1)].failfast_expired()
    }
    fn ns_flags(&self) -> (bool, bool) {
        let ps = &self.s.paths[self.p];
        (ps.bit(pbit::READY), ps.bit(pbit::ANA_PENDING))
    }
    fn ana(&self) -> u8 {
        opt_byte(self.s.paths[self.p].ana)
    }
    fn sdev(&self) -> u8 {
        opt_byte(self.s.paths[self.p].sdev)
    }
    fn alua(&self) -> u8 {
        self.s.paths[self.p].alua as u8
    }
}

impl Machine {
    pub(super) fn ctrl_state(&self, s: &State, p: usize) -> CtrlState {
        s.ctrls[(s.paths[p].ctrl as usize).min(MAXC - 1)].state()
    }

    pub fn is_disabled(&self, s: &State, p: usize) -> bool {
        predicates::is_disabled(self.driver, &ModelPath { s, p })
    }

    pub fn is_optimized(&self, s: &State, p: usize) -> bool {
        predicates::is_optimized(self.driver, &ModelPath { s, p })
    }

    pub fn is_available(&self, s: &State, p: usize) -> bool {
        predicates::available(self.driver, &ModelPath { s, p })
    }

    /// An OPTIMIZED, usable, linked path (the quality property's notion).
    pub fn optimized_usable(&self, s: &State, p: usize) -> bool {
        s.paths[p].life == Life::Linked && !self.is_disabled(s, p) && self.is_optimized(s, p) && s.paths[p].access == AccessState::Optimized
    }

    /// A linked path the selectors would pick (not disabled, opt/nonopt).
    pub fn selectable(&self, s: &State, p: usize) -> bool {
        s.paths[p].life == Life::Linked && !self.is_disabled(s, p) && s.paths[p].access != AccessState::Other
    }
}
