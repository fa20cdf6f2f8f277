//! How to search ([`Opts`]), why a search ended ([`End`]), what it checks
//! ([`Cond`]) and how it reports progress ([`Tick`]).

use crate::bounds::Mode;
use crate::machine::Machine;
use crate::state::State;
use std::time::Duration;

/// Default bound on the memory the search accounts for (visited set,
/// frontier, parent records): 8 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 8 << 30;

/// A property condition (true = holds in the state).
pub type Cond = fn(&Machine, &State) -> bool;

/// How to search.
#[derive(Clone, Debug)]
pub struct Opts {
    pub mode: Mode,
    /// Checker threads (BFS only; DFS always runs on one).
    pub threads: usize,
    pub symmetry: bool,
    pub reduction: bool,
    pub max_depth: Option<usize>,
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    pub max_memory: u64,
    /// Stop as soon as every property has a violation.
    pub stop_when_all_found: bool,
    /// Dead-state canonicalisation ([`crate::canon`]), with the reduction.
    pub canon: Option<crate::canon::Canon>,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            mode: Mode::Bfs,
            threads: 1,
            symmetry: false,
            reduction: false,
            max_depth: None,
            max_states: None,
            timeout: None,
            max_memory: DEFAULT_MAX_MEMORY,
            stop_when_all_found: true,
            canon: None,
        }
    }
}

/// Why the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every reachable state (of the reduced graph, with reduction) was
    /// explored.
    Complete,
    /// Every property has a violation (the rest was not explored).
    AllFound,
    Depth,
    States,
    Time,
    Memory,
    Interrupted,
}

/// Progress callback argument: (states, unique, depth, elapsed).
pub type Tick<'a> = &'a dyn Fn(usize, usize, usize, Duration);
