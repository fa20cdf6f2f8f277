//! Dead-state canonicalisation (part of `--reduce`): the checker stores and
//! fingerprints a state with the bookkeeping that cannot change any future
//! step, nor any property still to decide, reset to zero, so states that
//! differ only there are one state.
//!
//! * **Violation bits as events.** No step reads [`State::viol`] (the
//!   interpreter only ORs bits into it), so the successors of a state do
//!   not depend on it and a transition sets the same bits whatever the
//!   state had. The checker keeps `viol` at zero in stored states and
//!   checks the properties on every transition that sets a bit of a
//!   property still open (the successor as the interpreter produced it),
//!   recording the transition as the witness even when its target state
//!   is already known. A violation bit reachable in the full model is set
//!   by some reachable transition, and every transition of a stored state
//!   is computed (or, with the partial-order reduction, the argument in
//!   README-model.md carries over with violations as transition events).
//!   Not applied when a data property is checked (an `at_rest` property
//!   may read `viol.*`).
//! * **The find_path instrumentation outside find_path.** A thread's
//!   `disturbed`, `seen_disabled` and `seen_unlinked` are reset when it
//!   enters `mpath_find_path` (`in_find` 0 -> 1) and read only at that
//!   function's return (and written only while `in_find > 0`): with
//!   `in_find == 0` they are dead, and zeroed.
//! * **Instrumentation of decided properties.** `disturbed` is read only
//!   to decide `optimized_path_preferred`, `seen_disabled` only for
//!   `no_disabled_path_returned`, `seen_unlinked` only for
//!   `no_unlinked_path_returned`. Once that property has a violation it is
//!   dead everywhere and zeroed. The mask changes only between BFS levels
//!   (so the states of each level, and the counts, do not depend on the
//!   checker threads' schedule). Merging under a coarser mask is sound:
//!   a state already stored under the finer mask is equivalent, under the
//!   coarser one, to every state whose coarse form equals its stored form.
//! * **Dead registers** ([`crate::live`]): a register no future step of
//!   its thread may read before overwriting it is zeroed. Nothing else
//!   reads a thread's registers (other threads, properties and the
//!   reduction's footprints do not; the one enabledness rule that does,
//!   `DrainRequests`, is a builtin, whose threads keep every register).

use crate::property;
use crate::state::{vbit, State};

/// What the search canonicalises, and the property each piece serves.
#[derive(Clone, Debug, Default)]
pub struct Canon {
    /// Keep `viol` at zero in stored states (violations are transition
    /// events).
    pub strip_viol: bool,
    /// Per property (search order): the violation bits it reads (0 for a
    /// property that reads none).
    pub viol_of: Vec<u16>,
    /// Property indices of `optimized_path_preferred`,
    /// `no_disabled_path_returned`, `no_unlinked_path_returned`.
    pub quality: Option<usize>,
    pub disabled_ret: Option<usize>,
    pub unlinked_ret: Option<usize>,
    /// Register liveness: dead registers are zeroed.
    pub live: crate::live::Liveness,
}

/// Per-level masks derived from the properties still open.
#[derive(Clone, Copy, Debug, Default)]
pub struct Masks {
    /// Violation bits whose setting must be checked (bits of open properties).
    pub events: u16,
    pub keep_disturbed: bool,
    pub keep_seen_disabled: bool,
    pub keep_seen_unlinked: bool,
}

impl Masks {
    /// Does the find_path instrumentation still serve an open property?
    /// (Always, without the canonicalisation.)
    pub fn instrumentation(&self) -> bool {
        self.keep_disturbed || self.keep_seen_disabled || self.keep_seen_unlinked
    }
}

/// The violation bits a built-in property reads.
fn vbits(name: &str) -> u16 {
    match name {
        property::NO_USE_AFTER_FREE => vbit::UAF_PATH | vbit::UAF_HEAD,
        property::NO_NULL_DISK => vbit::NULL_DISK,
        property::NO_JUNK_POINTER => vbit::JUNK,
        property::NO_DUPLICATE_LINK => vbit::DUP_LINK,
        property::SELECTION_TERMINATES => vbit::NONTERM,
        property::OPTIMIZED_PREFERRED => vbit::QUALITY,
        property::NO_UNLINKED_RETURNED => vbit::UNLINKED_RET,
        property::NO_DISABLED_RETURNED => vbit::DISABLED_RET,
        _ => 0,
    }
}

impl Canon {
    /// For the properties `names` (in search order); `strip_viol` only when
    /// no data property is checked.
    pub fn new(m: &crate::machine::Machine, names: &[&str], data_props: bool) -> Canon {
        let pos = |n: &str| names.iter().position(|&x| x == n);
        Canon {
            strip_viol: !data_props,
            viol_of: names.iter().map(|n| vbits(n)).collect(),
            quality: pos(property::OPTIMIZED_PREFERRED),
            disabled_ret: pos(property::NO_DISABLED_RETURNED),
            unlinked_ret: pos(property::NO_UNLINKED_RETURNED),
            live: crate::live::Liveness::new(m),
        }
    }

    /// The masks when the properties in `open` (bit per property) are
    /// still without a violation.
    pub fn masks(&self, open: u64) -> Masks {
        let is_open = |i: Option<usize>| i.is_none_or(|i| open & (1 << i) != 0);
        let mut events = 0;
        for (i, &v) in self.viol_of.iter().enumerate() {
            if open & (1 << i) != 0 {
                events |= v;
            }
        }
        Masks {
            events: if self.strip_viol { events } else { 0 },
            keep_disturbed: is_open(self.quality),
            keep_seen_disabled: is_open(self.disabled_ret),
            keep_seen_unlinked: is_open(self.unlinked_ret),
        }
    }

    /// Reset the dead bookkeeping of `s` (see the module documentation).
    #[inline]
    pub fn apply(&self, s: &mut State, m: &Masks) {
        if self.strip_viol {
            s.viol = 0;
        }
        for th in s.threads.iter_mut() {
            self.live.apply(th);
            if th.in_find == 0 {
                th.disturbed = false;
                th.seen_disabled = 0;
                th.seen_unlinked = 0;
            } else {
                th.disturbed &= m.keep_disturbed;
                if !m.keep_seen_disabled {
                    th.seen_disabled = 0;
                }
                if !m.keep_seen_unlinked {
                    th.seen_unlinked = 0;
                }
            }
        }
    }
}
