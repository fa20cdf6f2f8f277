//! What the checker threads of one search share ([`Shared`]: the visited
//! set, the open properties, counters, limits) and what the search records
//! per discovered state ([`Records`]: parent, action, first violations).

use super::opts::{Cond, End, Opts};
use super::visited::Visited;
use crate::canon::Masks;
use crate::machine::{Action, Machine};
use crate::state::State;
use crate::step::WorkKind;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The action's code in the parent records.
pub(super) fn code_of(a: Action) -> u8 {
    match a {
        Action::Run(t) => t,
        Action::Work(w) => 0x80 | WorkKind::ALL.iter().position(|&k| k == w).unwrap_or(0) as u8,
    }
}

/// The action a code stands for.
pub(super) fn action_of(c: u8) -> Action {
    if c & 0x80 != 0 {
        Action::Work(WorkKind::ALL[(c & 0x7f) as usize])
    } else {
        Action::Run(c)
    }
}

/// One search's shared context.
pub(super) struct Shared<'a> {
    pub(super) m: &'a Machine,
    pub(super) props: &'a [Cond],
    pub(super) opts: &'a Opts,
    pub(super) visited: Visited,
    /// Properties still without a violation (bit per property).
    pub(super) open: AtomicU64,
    pub(super) unique: AtomicUsize,
    pub(super) states: AtomicUsize,
    pub(super) halt: AtomicBool,
    pub(super) end: Mutex<Option<End>>,
    pub(super) start: Instant,
    pub(super) stop: &'a AtomicBool,
    /// Bytes of the frontier and records (besides the visited set).
    pub(super) other_bytes: AtomicU64,
    pub(super) peak: AtomicU64,
    pub(super) por: Option<crate::por::Por>,
}

impl Shared<'_> {
    pub(super) fn halt(&self, e: End) {
        let mut g = self.end.lock().unwrap_or_else(|x| x.into_inner());
        if g.is_none() {
            *g = Some(e);
        }
        self.halt.store(true, Ordering::Relaxed);
    }
    /// The fingerprint of `n` (canonicalised with `masks` when the search
    /// canonicalises; `n` itself may be a raw successor).
    pub(super) fn key_state(&self, n: &State, masks: &Masks) -> u128 {
        if self.opts.symmetry {
            n.canonical().fingerprint()
        } else if let Some(c) = self.opts.canon.as_ref() {
            let mut k = *n;
            c.apply(&mut k, masks);
            k.fingerprint()
        } else {
            n.fingerprint()
        }
    }
    /// The canonicalisation's masks for the properties open now (taken
    /// between BFS levels only, so a level's states do not depend on the
    /// threads' schedule).
    pub(super) fn masks(&self) -> Masks {
        self.opts.canon.as_ref().map(|c| c.masks(self.open.load(Ordering::Relaxed))).unwrap_or_default()
    }
    /// A successor `n` of a stored state: the properties its transition
    /// violates as events (violation bits of open properties it sets), then
    /// `n` canonicalised. Returns the violated properties.
    #[inline]
    pub(super) fn settle(&self, n: &mut State, masks: &Masks) -> u64 {
        let Some(c) = self.opts.canon.as_ref() else { return 0 };
        let v = if n.viol & masks.events != 0 { self.violations(n) } else { 0 };
        c.apply(n, masks);
        v
    }
    /// Violated properties among the open ones (bit mask).
    pub(super) fn violations(&self, s: &State) -> u64 {
        let open = self.open.load(Ordering::Relaxed);
        let mut v = 0;
        let mut bits = open;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if !(self.props[i])(self.m, s) {
                v |= 1 << i;
            }
        }
        if v != 0 {
            let left = self.open.fetch_and(!v, Ordering::Relaxed) & !v;
            if left == 0 && self.opts.stop_when_all_found {
                self.halt(End::AllFound);
            }
        }
        v
    }
    /// Periodic checks (time, interrupt, memory).
    pub(super) fn check_limits(&self) {
        if self.stop.load(Ordering::Relaxed) {
            self.halt(End::Interrupted);
        }
        if self.opts.timeout.is_some_and(|t| self.start.elapsed() >= t) {
            self.halt(End::Time);
        }
        let mem = self.visited.bytes.load(Ordering::Relaxed) + self.other_bytes.load(Ordering::Relaxed);
        self.peak.fetch_max(mem, Ordering::Relaxed);
        if mem > self.opts.max_memory {
            self.halt(End::Memory);
        }
    }
}

/// Per discovered state (its discovery index): the parent's index and the
/// action code taken from it; per property, the first violation recorded.
pub(super) struct Records {
    pub(super) found: Vec<Option<u32>>,
    pub(super) found_step: Vec<Option<u8>>,
    pub(super) parents: Vec<u32>,
    pub(super) acts: Vec<u8>,
}

impl Records {
    /// The records of a search of `props` properties, holding the initial state.
    pub(super) fn new(props: usize) -> Records {
        Records { found: vec![None; props], found_step: vec![None; props], parents: vec![0], acts: vec![0] }
    }

    /// Record violations `v` (bit per property) for the properties without
    /// one yet: of the state discovered as `idx`, or with `step`, of the
    /// transition by that action code from it.
    #[inline]
    pub(super) fn record(&mut self, v: u64, idx: u32, step: Option<u8>) {
        let mut bits = v;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.found[i].is_none() {
                self.found[i] = Some(idx);
                self.found_step[i] = step;
            }
        }
    }

    /// A state discovered from `parent` by action code `a`, violating `v`:
    /// recorded, its discovery index returned.
    #[inline]
    pub(super) fn discover(&mut self, parent: u32, a: u8, v: u64) -> u32 {
        let idx = self.parents.len() as u32;
        self.parents.push(parent);
        self.acts.push(a);
        self.record(v, idx, None);
        idx
    }
}

impl<'a> Shared<'a> {
    /// A fresh context: nothing visited, every property open, one state
    /// (the initial one) generated and discovered.
    pub(super) fn new(m: &'a Machine, props: &'a [Cond], opts: &'a Opts, stop: &'a AtomicBool) -> Shared<'a> {
        Shared {
            m,
            props,
            opts,
            visited: Visited::new(),
            open: AtomicU64::new(if props.len() == 64 { u64::MAX } else { (1u64 << props.len()) - 1 }),
            unique: AtomicUsize::new(1),
            states: AtomicUsize::new(1),
            halt: AtomicBool::new(false),
            end: Mutex::new(None),
            start: Instant::now(),
            stop,
            other_bytes: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            por: (opts.reduction && !opts.symmetry).then(|| crate::por::Por::new(m)),
        }
    }

    /// Report progress.
    pub(super) fn tick(&self, tick: Option<super::opts::Tick>, depth: usize) {
        if let Some(t) = tick {
            t(self.states.load(Ordering::Relaxed), self.unique.load(Ordering::Relaxed), depth, self.start.elapsed());
        }
    }
}
