//! Checking a (revision, scenario) pair with the model's own search
//! ([`crate::search`]) and reporting per-property verdicts. By default one
//! checker thread, no symmetry and no reduction, so state counts and
//! counterexamples are identical across runs; BFS (default) gives the
//! shortest counterexample, DFS uses less memory for "holds" runs.

use crate::dataprop::PropertySet;
use crate::explain::counterexample;
use crate::machine::{Action, Machine};
use crate::property;
use crate::revision::{RevisionError, RevisionSpec};
use crate::scenario::{Scenario, ScenarioError};
use crate::search::{self, Cond};
use crate::state::State;
use serde::{Deserialize, Serialize};
use stateright::Model;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::bounds::{Bounds, Mode};
pub use crate::explain::{describe, detail, path_state, schedule_steps, trace_steps, values, Counterexample, TraceStep};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Exhaustive search within the scenario found no violation.
    Holds,
    /// A counterexample was found.
    Violated,
    /// The search stopped at a depth, state-count or time bound first.
    BoundReached,
    /// The search was stopped (Ctrl-C) before it finished.
    Interrupted,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "VIOLATED",
            Verdict::BoundReached => "bound reached",
            Verdict::Interrupted => "interrupted",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyReport {
    pub property: String,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Counterexample>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub revision: String,
    pub scenario: String,
    /// e.g. "bfs, 1 thread, no symmetry".
    pub checker_mode: String,
    pub properties: Vec<PropertyReport>,
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed_ms: u64,
    pub unique_states_per_sec: f64,
    /// Peak memory the search accounted for (visited set, frontier, parent
    /// records), bytes.
    #[serde(default)]
    pub memory_bytes: u64,
}

impl Report {
    pub fn verdict(&self, property: &str) -> Option<Verdict> {
        self.properties.iter().find(|p| p.property == property).map(|p| p.verdict)
    }
    pub fn violated(&self) -> Vec<&PropertyReport> {
        self.properties.iter().filter(|p| p.verdict == Verdict::Violated).collect()
    }
    /// The report without timing, for determinism comparisons.
    pub fn deterministic_part(&self) -> String {
        let mut r = self.clone();
        r.elapsed_ms = 0;
        r.unique_states_per_sec = 0.0;
        r.memory_bytes = 0;
        serde_json::to_string(&r).unwrap_or_default()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "revision {} / scenario {} [{}]: {} states, {} unique, depth {}, {} ms, {:.0} unique states/s, {} MiB",
            self.revision,
            self.scenario,
            self.checker_mode,
            self.states,
            self.unique_states,
            self.max_depth,
            self.elapsed_ms,
            self.unique_states_per_sec,
            self.memory_bytes.div_ceil(1 << 20)
        )?;
        for p in &self.properties {
            write!(f, "  {:<34} {}", p.property, p.verdict)?;
            if let Some(c) = &p.counterexample {
                write!(f, "  ({} steps; {})", c.steps.len(), c.violation)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Progress of a running check.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Revision(#[from] RevisionError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The catalogue or a revision's expectations are unusable (an unknown
    /// property, no expectation column).
    #[error("{0}")]
    Catalogue(String),
}

/// Build the model for a revision and scenario.
pub fn machine(revision: &RevisionSpec, scenario: &Scenario, stop: Arc<AtomicBool>) -> Result<Machine, ModelError> {
    let program = Arc::new(revision.compile()?);
    Ok(Machine::new(program, scenario, &revision.setup_profile_name(), stop)?)
}

/// The model with data properties ([`PropertySet`]) checked after the
/// built-in ones.
pub fn machine_with(revision: &RevisionSpec, scenario: &Scenario, props: &PropertySet, stop: Arc<AtomicBool>) -> Result<Machine, ModelError> {
    let mut m = machine(revision, scenario, stop)?;
    m.data_props = Arc::new(props.clone());
    Ok(m)
}

/// Check every built-in property of `scenario` on `revision`.
pub fn check(
    revision: &RevisionSpec,
    scenario: &Scenario,
    bounds: &Bounds,
    progress: Option<&dyn Fn(&Progress)>,
    stop: &AtomicBool,
) -> Result<Report, ModelError> {
    check_with(revision, scenario, &PropertySet::default(), bounds, progress, stop)
}

/// [`check`], then the data properties `props` in the same search,
/// reported after the built-in ones, the same way.
pub fn check_with(
    revision: &RevisionSpec,
    scenario: &Scenario,
    props: &PropertySet,
    bounds: &Bounds,
    progress: Option<&dyn Fn(&Progress)>,
    stop: &AtomicBool,
) -> Result<Report, ModelError> {
    let inner_stop = Arc::new(AtomicBool::new(false));
    let m = machine_with(revision, scenario, props, inner_stop)?;
    let names: Vec<&'static str> = m.properties().iter().map(|p| p.name).collect();
    let conds: Vec<Cond> = m.properties().iter().map(|p| p.condition).collect();
    let threads = if bounds.mode == Mode::Dfs { 1 } else { bounds.threads.max(1) };
    // Data properties read any field at any time: only at_rest / at_end
    // ones (terminal-state predicates) keep the reduction sound.
    let data_ok = props.props.iter().all(|p| matches!(p.when, crate::dataprop::When::AtRest | crate::dataprop::When::AtEnd));
    let reduction = bounds.reduction && !bounds.symmetry && data_ok;
    let opts = search::Opts {
        mode: bounds.mode,
        threads,
        symmetry: bounds.symmetry,
        reduction,
        max_depth: bounds.max_depth,
        max_states: bounds.max_states,
        timeout: bounds.timeout_ms.map(Duration::from_millis),
        max_memory: bounds.max_memory.unwrap_or(search::DEFAULT_MAX_MEMORY),
        stop_when_all_found: true,
        canon: reduction.then(|| crate::canon::Canon::new(&m, &names, !props.props.is_empty())),
    };
    let tick = |states: usize, unique: usize, depth: usize, elapsed: Duration| {
        if let Some(p) = progress {
            p(&Progress { states, unique_states: unique, max_depth: depth, elapsed });
        }
    };
    let start = Instant::now();
    let out = search::search(&m, &conds, &opts, stop, Some(&tick));
    let elapsed = start.elapsed();
    // Counterexamples: the main search's own paths are the shortest ones
    // when it is the plain single-threaded BFS; otherwise a separate
    // deterministic BFS finds them (falling back to the main search's
    // path, a real interleaving, when that search hits its limit).
    let plain = opts.mode == Mode::Bfs && threads == 1 && !reduction && !opts.symmetry;
    let violated: Vec<usize> = (0..names.len()).filter(|&i| out.found[i].is_some()).collect();
    let shortest = if plain || violated.is_empty() {
        None
    } else {
        let vc: Vec<Cond> = violated.iter().map(|&i| conds[i]).collect();
        let o = search::Opts { max_states: Some(SHORTEST_LIMIT), max_memory: opts.max_memory, ..search::Opts::default() };
        Some(search::search(&m, &vc, &o, stop, None))
    };
    let mut reports = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (verdict, ce) = match out.found[i] {
            Some(idx) => {
                let from_short = shortest.as_ref().and_then(|o| violated.iter().position(|&v| v == i).and_then(|k| o.witness(&m, k)));
                let path = from_short.unwrap_or_else(|| truncate(&m, name, &out.witness(&m, i).unwrap_or_else(|| out.path(&m, idx))));
                (Verdict::Violated, Some(counterexample(&m, name, &path)))
            }
            None => match out.end {
                search::End::Interrupted => (Verdict::Interrupted, None),
                search::End::Complete | search::End::AllFound => (Verdict::Holds, None),
                _ => (Verdict::BoundReached, None),
            },
        };
        reports.push(PropertyReport { property: name.to_string(), verdict, counterexample: ce });
    }
    let secs = elapsed.as_secs_f64().max(1e-6);
    let mut mode = format!(
        "{}, {} thread{}, {}",
        match opts.mode {
            Mode::Bfs => "bfs",
            Mode::Dfs => "dfs",
        },
        threads,
        if threads == 1 { "" } else { "s" },
        if bounds.symmetry { "thread symmetry" } else { "no symmetry" }
    );
    if reduction {
        mode.push_str(", partial-order reduction");
    } else if bounds.reduction {
        mode.push_str(if bounds.symmetry { ", no reduction (with symmetry)" } else { ", no reduction (data properties of mode always/after)" });
    }
    if out.end == search::End::Memory {
        mode.push_str(&format!(", memory bound {} MiB reached", opts.max_memory >> 20));
    }
    Ok(Report {
        revision: revision.name.clone(),
        scenario: scenario.name.clone(),
        checker_mode: mode,
        properties: reports,
        states: out.states,
        unique_states: out.unique,
        max_depth: out.max_depth,
        elapsed_ms: elapsed.as_millis() as u64,
        unique_states_per_sec: out.unique as f64 / secs,
        memory_bytes: out.memory,
    })
}

/// State limit of the shortest-counterexample search.
pub const SHORTEST_LIMIT: usize = 3_000_000;

/// Breadth-first search for the shortest path from the initial state to a
/// state violating `name` (deterministic: actions in model order; the
/// first violating state discovered).
pub fn shortest_path(m: &Machine, name: &str, limit: usize) -> Option<Vec<(State, Option<Action>)>> {
    let prop = m.properties().into_iter().find(|p| p.name == name)?;
    let o = search::Opts { max_states: Some(limit), ..search::Opts::default() };
    let out = search::search(m, &[prop.condition], &o, &AtomicBool::new(false), None);
    out.found[0].map(|j| out.path(m, j))
}

/// Cut a path at its first state violating `name`.
fn truncate(m: &Machine, name: &str, path: &[(State, Option<Action>)]) -> Vec<(State, Option<Action>)> {
    let idx = path.iter().position(|(s, _)| property::violated(m, name, s)).unwrap_or(path.len().saturating_sub(1));
    let mut v: Vec<_> = path[..=idx].to_vec();
    if let Some(last) = v.last_mut() {
        last.1 = None;
    }
    v
}
