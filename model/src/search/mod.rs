//! The checker's own explicit-state search (replacing stateright's BFS/DFS
//! for `check`): a visited set of 128-bit state fingerprints, properties
//! evaluated once per new state, parent records (4 + 1 bytes per state)
//! for counterexamples, an accounted memory bound, optional partial-order
//! reduction ([`crate::por`]) with the dead-state canonicalisation
//! ([`crate::canon`]) and a level-synchronous multi-threaded BFS.
//!
//! Single-threaded BFS explores states in exactly the order of a FIFO
//! breadth-first search with actions in model order, and checks the
//! properties of a state when it is first discovered, so the first
//! violating state it records for a property is the one the shortest
//! counterexample search finds (the same shortest counterexample).

mod bfs;
mod dfs;
mod level;
mod opts;
mod shared;
mod visited;

pub use opts::{Cond, End, Opts, Tick, DEFAULT_MAX_MEMORY};

use crate::bounds::Mode;
use crate::machine::{Action, Machine};
use crate::state::State;
use shared::{action_of, Records, Shared};
use stateright::Model;
use std::sync::atomic::{AtomicBool, Ordering};

/// The result of a search.
pub struct Outcome {
    /// Generated states (the initial one and every successor, repeats included).
    pub states: usize,
    pub unique: usize,
    pub max_depth: usize,
    /// Per property (in the order given): the discovery index of the first
    /// violating state recorded (with `found_step`, of the state the
    /// violating transition starts from).
    pub found: Vec<Option<u32>>,
    /// Per property: the action code of the violating transition taken
    /// from the state `found` names, when the violation was recorded as a
    /// transition event ([`crate::canon`]) rather than as a new state.
    pub found_step: Vec<Option<u8>>,
    pub end: End,
    /// Peak accounted memory in bytes.
    pub memory: u64,
    parents: Vec<u32>,
    acts: Vec<u8>,
}

impl Outcome {
    /// The path from the initial state to the state discovered as `idx`:
    /// `(state, action taken from it)`, the last with `None`.
    pub fn path(&self, m: &Machine, idx: u32) -> Vec<(State, Option<Action>)> {
        let mut codes = Vec::new();
        let mut j = idx;
        while j != 0 {
            codes.push(self.acts[j as usize]);
            j = self.parents[j as usize];
        }
        codes.reverse();
        let mut out = Vec::with_capacity(codes.len() + 1);
        let mut s = m.init;
        for c in codes {
            let a = action_of(c);
            out.push((s, Some(a)));
            s = m.next_state(&s, a).expect("a recorded action replays");
        }
        out.push((s, None));
        out
    }

    /// The path to the violation of property `i` (the state the search
    /// recorded, or the target of the transition it recorded).
    pub fn witness(&self, m: &Machine, i: usize) -> Option<Vec<(State, Option<Action>)>> {
        let idx = self.found.get(i).copied().flatten()?;
        let mut p = self.path(m, idx);
        if let Some(code) = self.found_step.get(i).copied().flatten() {
            let a = action_of(code);
            let s = p.last().map(|x| x.0)?;
            let n = m.next_state(&s, a)?;
            if let Some(last) = p.last_mut() {
                last.1 = Some(a);
            }
            p.push((n, None));
        }
        Some(p)
    }
}

/// Search from the machine's initial state, checking `props`.
pub fn search(m: &Machine, props: &[Cond], opts: &Opts, stop: &AtomicBool, tick: Option<Tick>) -> Outcome {
    assert!(props.len() <= 64, "at most 64 properties per search");
    let sh = Shared::new(m, props, opts, stop);
    let mut rec = Records::new(props.len());
    let v0 = sh.violations(&m.init);
    rec.record(v0, 0, None);
    // The stored initial state (canonicalised when the search does).
    let mut init = m.init;
    let masks = sh.masks();
    if let Some(c) = opts.canon.as_ref() {
        c.apply(&mut init, &masks);
    }
    sh.visited.insert(sh.key_state(&init, &masks), 1);
    let depth_cut = AtomicBool::new(false);
    if props.is_empty() && opts.stop_when_all_found {
        sh.halt(End::AllFound);
    }
    let max_depth = match opts.mode {
        Mode::Bfs => bfs::run(&sh, &mut rec, &init, &depth_cut, tick),
        Mode::Dfs => dfs::run(&sh, &mut rec, &init, &depth_cut, tick),
    };
    sh.check_limits();
    let end = sh.end.lock().unwrap_or_else(|x| x.into_inner()).take();
    let end = match end {
        Some(e) => e,
        None if depth_cut.load(Ordering::Relaxed) => End::Depth,
        None => End::Complete,
    };
    sh.tick(tick, max_depth);
    Outcome {
        states: sh.states.load(Ordering::Relaxed),
        unique: rec.parents.len(),
        max_depth,
        found: rec.found,
        found_step: rec.found_step,
        end,
        memory: sh.peak.load(Ordering::Relaxed).max(sh.visited.bytes.load(Ordering::Relaxed)),
        parents: rec.parents,
        acts: rec.acts,
    }
}
