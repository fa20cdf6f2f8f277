//! What a check may explore: the search order and the bounds (depth,
//! states, time, memory), symmetry, threads and partial-order reduction.
//! The checker's input and the search's options; below both.

use serde::{Deserialize, Serialize};

/// The search order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Breadth-first: shortest counterexamples.
    #[default]
    Bfs,
    /// Depth-first: less memory for exhaustive "holds" runs.
    Dfs,
}

/// Search bounds. `None` = unbounded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Bounds {
    #[serde(default)]
    pub max_depth: Option<usize>,
    #[serde(default)]
    pub max_states: Option<usize>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub mode: Mode,
    /// Symmetry reduction over threads running identical operations
    /// (forces DFS: stateright 0.31 applies symmetry in DFS only). Counts
    /// stay deterministic (one checker thread).
    #[serde(default)]
    pub symmetry: bool,
    /// Checker threads (BFS; 0 or 1 = one). Verdicts do not depend on it;
    /// with more than one, counts may differ from run to run when a bound
    /// cuts a level short, and counterexamples come from a separate
    /// single-threaded shortest search.
    #[serde(default)]
    pub threads: usize,
    /// Partial-order reduction ([`crate::por`]): explores one thread's
    /// step alone where it commutes with everything the others can still
    /// do. Same verdicts, fewer states; counterexamples still come from
    /// the unreduced shortest search. Not combined with `symmetry`, and off
    /// when data properties of mode `always` / `after` are checked.
    #[serde(default)]
    pub reduction: bool,
    /// Memory bound in bytes for the visited set, frontier and parent
    /// records (`None`: [`crate::search::DEFAULT_MAX_MEMORY`], 8 GiB). A
    /// check that would exceed it stops: "bound reached".
    #[serde(default)]
    pub max_memory: Option<u64>,
}
