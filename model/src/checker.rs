//! Checking a (revision, scenario) pair with the model's own search
//! ([`crate::search`]) and reporting per-property verdicts. By default one
//! checker thread, no symmetry and no reduction, so state counts and
//! counterexamples are identical across runs; BFS (default) gives the
//! shortest counterexample, DFS uses less memory for "holds" runs.

use crate::dataprop::PropertySet;
use crate::machine::{Action, Machine};
use crate::property;
use crate::render;
use crate::revision::{RevisionError, RevisionSpec};
use crate::scenario::{Scenario, ScenarioError};
use crate::schedule::{Objects, PathRef, ScheduleStep, StepForm, WorkStart, WorkTag};
use crate::search::{self, Cond};
use crate::state::State;
use mpath_reference::violation::{Object, Violation};
use serde::{Deserialize, Serialize};
use stateright::Model;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// One executed transition of a counterexample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceStep {
    /// Index of the acting thread (the worker is last).
    pub thread: usize,
    pub thread_name: String,
    /// Library / driver function the step belongs to.
    pub function: String,
    /// The kernel primitive.
    pub primitive: String,
    /// Operations this thread had completed after this step.
    pub ops_done: usize,
    /// What the step read and wrote: the path it acted on with that path's
    /// state (`P0 (!READY, optimized, listed)`), the pointer or value it
    /// produced, what it stored. Empty for steps that touch neither.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub values: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterexample {
    pub steps: Vec<TraceStep>,
    pub violation: Violation,
    /// Rendering of the final state.
    pub final_state: String,
    /// The same transitions with the step executed and the objects it
    /// touched (`steps[i]` is `schedule[i]` without them), for
    /// [`Schedule`](crate::schedule::Schedule). Not serialised with the
    /// report (`check` saves it as its own file).
    #[serde(skip)]
    pub schedule: Vec<ScheduleStep>,
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

/// Describe each transition of a path.
pub fn trace_steps(m: &Machine, path: &[(State, Option<Action>)]) -> Vec<TraceStep> {
    schedule_steps(m, path).iter().map(TraceStep::from).collect()
}

/// Each transition of a path with its step and objects (the schedule).
pub fn schedule_steps(m: &Machine, path: &[(State, Option<Action>)]) -> Vec<ScheduleStep> {
    let mut out = Vec::new();
    for w in path.windows(2) {
        let (pre, Some(a)) = (&w[0].0, w[0].1) else { continue };
        let post = &w[1].0;
        out.push(detail(m, out.len(), pre, post, a));
    }
    out
}

impl From<&ScheduleStep> for TraceStep {
    fn from(d: &ScheduleStep) -> TraceStep {
        TraceStep {
            thread: d.thread,
            thread_name: d.thread_name.clone(),
            function: d.function.clone(),
            primitive: d.primitive.clone(),
            ops_done: d.ops_done,
            values: String::new(),
        }
    }
}

/// Describe one transition.
pub fn describe(m: &Machine, pre: &State, post: &State, a: Action) -> TraceStep {
    TraceStep::from(&detail(m, 0, pre, post, a))
}

/// Describe one transition (row `i` of its path) with the step it executes
/// and the objects that step touches, resolved from `pre` (the registers
/// before the step) and the step's own result.
pub fn detail(m: &Machine, i: usize, pre: &State, post: &State, a: Action) -> ScheduleStep {
    match a {
        Action::Run(t) => {
            let t = t as usize;
            let op = pre.threads[t].ops_done as usize;
            let mut pre = *pre;
            if pre.threads[t].depth == 0 {
                m.begin_op(&mut pre, t);
            }
            let (function, step, primitive) = match m.resting(&pre, t) {
                Some((f, pc)) => {
                    let step = match m.step_at(f, pc) {
                        Some(crate::step::CStep::Plain(s)) => Some(s.clone()),
                        _ => None,
                    };
                    let primitive = step.as_ref().map(|s| s.primitive()).unwrap_or_else(|| "?".into());
                    (m.program.funcs[f as usize].name.clone(), step, primitive)
                }
                None => ("(operation without shared steps)".into(), None, "-".into()),
            };
            let objects = step.as_ref().map(|s| objects(&pre, t, s)).unwrap_or_default();
            ScheduleStep {
                i,
                thread: t,
                thread_name: m.thread_name(t),
                op,
                function,
                step: step.map(StepForm::Step),
                primitive,
                objects,
                ops_done: post.threads[t].ops_done as usize,
            }
        }
        Action::Work(w) => ScheduleStep {
            i,
            thread: m.worker,
            thread_name: "worker".into(),
            op: 0,
            function: w.function().into(),
            step: Some(StepForm::Work(WorkStart { s: WorkTag::Work, work: w.function().into() })),
            primitive: "work starts".into(),
            objects: Objects::default(),
            ops_done: 0,
        },
    }
}

/// The objects `step`, run by thread `t` from state `s`, touches.
fn objects(s: &State, t: usize, step: &crate::step::Step) -> Objects {
    let o = step.operands();
    let reg = |r: crate::step::Reg| s.threads[t].regs[r as usize];
    Objects {
        path: o.path.map(|r| PathRef::of(reg(r))),
        node: o.node.map(|r| reg(r) as u32),
        result: o.result.and_then(|_| written_pointer(s, t, step)).map(PathRef::of),
        mutex: o.mutex,
        bit: o.bit,
    }
}

/// The path pointer `step` writes into its register when thread `t` runs
/// it from `s` (the interpreter's `exec` for these steps, without the
/// register-only steps folded in after it).
fn written_pointer(s: &State, t: usize, step: &crate::step::Step) -> Option<u8> {
    use crate::state::{LHEAD, MAXN, MAXP, POISON};
    use crate::step::{Step, JUNK};
    let reg = |r: crate::step::Reg| s.threads[t].regs[r as usize];
    match step {
        Step::CpLoad { node, .. } => {
            let n = reg(*node) as usize;
            Some(if n < MAXN { s.cp[n] } else { 0 })
        }
        Step::ListFirst { .. } => Some(s.head_next),
        Step::ListNext { r } | Step::NextDev { r } => {
            let v = reg(*r);
            let mut n = 0;
            if v != 0 && v != JUNK && (v as usize) <= MAXP {
                n = s.paths[v as usize - 1].next;
                if n == POISON {
                    n = 0;
                }
            }
            if n == LHEAD && matches!(step, Step::NextDev { .. }) {
                n = s.head_next;
            }
            Some(n)
        }
        _ => None,
    }
}

fn counterexample(m: &Machine, name: &str, path: &[(State, Option<Action>)]) -> Counterexample {
    let schedule = schedule_steps(m, path);
    let mut steps: Vec<TraceStep> = schedule.iter().map(TraceStep::from).collect();
    for (st, w) in steps.iter_mut().zip(path.windows(2).filter(|w| w[0].1.is_some())) {
        if let (pre, Some(a)) = (&w[0].0, w[0].1) {
            st.values = values(m, pre, &w[1].0, a);
        }
    }
    // The violating transition: the first state that violates the property.
    let idx = path.iter().position(|(s, _)| property::violated(m, name, s)).unwrap_or(path.len().saturating_sub(1));
    let at_rest = matches!(name, property::LINK_BIT_MATCHES | property::NO_LEAKED_GENDISK | property::NO_STRANDED_REQUEUE);
    let data_label = m.data_props.get(name).and_then(|p| p.state_label());
    let (function, object) = if idx > 0 {
        let st = &steps[idx - 1];
        let f = if let Some(l) = data_label {
            l.to_string()
        } else if at_rest {
            "(at rest)".to_string()
        } else if name == property::NO_DEADLOCK {
            "(all threads blocked)".to_string()
        } else {
            st.function.clone()
        };
        (f, object_of(m, name, &path[idx].0, &path[idx - 1].0))
    } else {
        ("(initial state)".into(), Object::Head)
    };
    let last = &path.last().map(|(s, _)| *s).unwrap_or(m.init);
    Counterexample {
        steps,
        schedule,
        violation: Violation {
            kind: if m.data_props.get(name).is_some() { mpath_reference::violation::Kind::ContractBreach } else { property::kind_of(name) },
            object,
            function,
            step: idx.saturating_sub(1) as u64,
        },
        final_state: format!("{:?}", last) + &render::swimlane_legend(m),
    }
}

fn object_of(m: &Machine, name: &str, s: &State, pre: &State) -> Object {
    match name {
        property::NO_STALE_PATH => property::stale(m, s).map(|p| Object::Path(p as u32)).unwrap_or(Object::Head),
        property::NO_LINK_FOR_REMOVED => property::link_left(m, s).map(|p| Object::Path(p as u32)).unwrap_or(Object::Head),
        property::LINK_BIT_MATCHES => property::link_mismatch(m, s).map(|p| Object::Path(p as u32)).unwrap_or(Object::Head),
        property::NO_LEAKED_GENDISK => Object::HeadDisk,
        property::NO_NULL_DISK => Object::HeadDisk,
        property::NO_JUNK_POINTER => Object::CurrentPath(0),
        property::NO_USE_AFTER_FREE if s.viol & crate::state::vbit::UAF_HEAD != 0 && pre.viol & crate::state::vbit::UAF_HEAD == 0 => Object::Head,
        _ => {
            // The path the acting thread's step touched, if any.
            let changed = (0..crate::state::MAXT).find(|&t| s.threads[t] != pre.threads[t]);
            match changed {
                Some(t) => {
                    let r = pre.threads[t].regs;
                    let v = [crate::step::Reg::Path, crate::step::Reg::Dev, crate::step::Reg::Found, crate::step::Reg::Ret, crate::step::Reg::Old]
                        .iter()
                        .map(|&x| r[x as usize])
                        .find(|&v| v != 0 && (v as usize) <= crate::state::MAXP);
                    v.map(|v| Object::Path(v as u32 - 1)).unwrap_or(Object::Head)
                }
                None => Object::Head,
            }
        }
    }
}

/// A path's state as a reviewer reads it: `P0 (READY, optimized, listed)`.
pub fn path_state(s: &State, p: usize) -> String {
    use crate::state::{life, pbit, MAXP};
    if p >= MAXP {
        return format!("P{p}");
    }
    let ps = &s.paths[p];
    let mut parts: Vec<&str> = vec![if ps.bit(pbit::READY) { "READY" } else { "!READY" }];
    parts.push(match ps.ana {
        1 => "optimized",
        2 => "non-optimized",
        3 => "inaccessible",
        4 => "persistent-loss",
        15 => "change",
        _ => match ps.access {
            0 => "optimized",
            1 => "non-optimized",
            _ => "other",
        },
    });
    if ps.bit(pbit::ANA_PENDING) {
        parts.push("ANA_PENDING");
    }
    if ps.bit(pbit::REMOVING) {
        parts.push("REMOVING");
    }
    if ps.bit(pbit::LINK) {
        parts.push("LINK");
    }
    parts.push(match ps.life {
        life::LINKED => "listed",
        life::UNLINKED => "unlinked",
        life::FREED => "freed",
        life::ALLOCATED => "not yet listed",
        _ => "unused",
    });
    format!("P{p} ({})", parts.join(", "))
}

fn pointer(s: &State, v: crate::schedule::PathRef) -> String {
    match v {
        crate::schedule::PathRef::Null => "NULL".into(),
        crate::schedule::PathRef::Junk => "junk (uninitialised)".into(),
        crate::schedule::PathRef::Path(p) => path_state(s, p as usize),
    }
}

/// What a transition's shared step read and wrote (see
/// [`TraceStep::values`]); path states are read before the step, results
/// after it.
pub fn values(m: &Machine, pre: &State, post: &State, a: Action) -> String {
    use crate::step::Step;
    let Action::Run(t) = a else { return String::new() };
    let t = t as usize;
    let mut pre = *pre;
    if pre.threads[t].depth == 0 {
        m.begin_op(&mut pre, t);
    }
    let Some((f, pc)) = m.resting(&pre, t) else { return String::new() };
    let Some(crate::step::CStep::Plain(step)) = m.step_at(f, pc) else { return String::new() };
    let o = objects(&pre, t, step);
    let reg = |r: crate::step::Reg| post.threads[t].regs[r as usize];
    let mut parts: Vec<String> = Vec::new();
    match step {
        Step::CpStore { .. } => {
            if let (Some(n), Some(p)) = (o.node, o.path) {
                parts.push(format!("stored {} in current_path[{n}]", pointer(&pre, p)));
            }
        }
        Step::CpLoad { .. } => {
            if let (Some(n), Some(p)) = (o.node, o.result) {
                parts.push(format!("current_path[{n}] is {}", pointer(&pre, p)));
            }
        }
        _ => {
            if let Some(p) = o.path {
                let mut text = pointer(&pre, p);
                // A step that changes the path shows the state it left.
                if let crate::schedule::PathRef::Path(id) = p {
                    let after = path_state(post, id as usize);
                    if after != text {
                        text = format!("{text} now {}", after.split_once(' ').map(|x| x.1).unwrap_or(""));
                    }
                }
                parts.push(text);
            }
            if let Some(r) = o.result {
                let r = format!("-> {}", pointer(&pre, r));
                match parts.last_mut() {
                    Some(l) => {
                        l.push(' ');
                        l.push_str(&r);
                    }
                    None => parts.push(r.trim_start_matches("-> ").to_string()),
                }
            }
        }
    }
    let dst = match step {
        Step::ListEmpty { dst } | Step::ListSingular { dst } | Step::CpClearMatching { dst, .. } | Step::RefDecAndTest { dst } | Step::RequeueTake { dst } => {
            Some(*dst)
        }
        Step::TestBit { dst, .. } | Step::TestAndSetBit { dst, .. } | Step::TestAndClearBit { dst, .. } | Step::Load { dst, .. } => Some(*dst),
        _ => None,
    };
    if let Some(d) = dst {
        let v = reg(d);
        let word = match step {
            Step::RequeueTake { .. } => format!("{v} bio(s)"),
            Step::Load { what: crate::step::Pred::Iopolicy, .. } => {
                ["numa", "round-robin", "queue-depth"].get(v as usize).map(|x| x.to_string()).unwrap_or_else(|| v.to_string())
            }
            Step::Load { what: crate::step::Pred::Access, .. } => {
                ["optimized", "non-optimized", "other"].get(v as usize).map(|x| x.to_string()).unwrap_or_else(|| v.to_string())
            }
            Step::Load { what, .. }
                if !matches!(
                    what,
                    crate::step::Pred::IsDisabled
                        | crate::step::Pred::IsOptimized
                        | crate::step::Pred::IsAvailable
                        | crate::step::Pred::CtrlLive
                        | crate::step::Pred::CapacityMismatch
                        | crate::step::Pred::HasHeadDisk
                ) =>
            {
                v.to_string()
            }
            _ => (if v != 0 { "true" } else { "false" }).to_string(),
        };
        parts.push(if parts.is_empty() { word } else { format!("returns {word}") });
    }
    parts.join(", ")
}
