//! Running stateright on a (revision, scenario) pair and reporting
//! per-property verdicts. Always one checker thread and no symmetry
//! reduction, so state counts and counterexamples are identical across
//! runs; BFS (default) gives the shortest counterexample, DFS uses less
//! memory for "holds" runs.

use crate::dataprop::PropertySet;
use crate::machine::{Action, Machine};
use crate::property;
use crate::render;
use crate::revision::{RevisionError, RevisionSpec};
use crate::schedule::{Objects, PathRef, ScheduleStep, StepForm, WorkStart, WorkTag};
use crate::scenario::{Scenario, ScenarioError};
use crate::state::State;
use mpath_reference::violation::{Object, Violation};
use serde::{Deserialize, Serialize};
use stateright::{Checker, Model};
use std::sync::atomic::{AtomicBool, Ordering};
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
        serde_json::to_string(&r).unwrap_or_default()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "revision {} / scenario {} [{}]: {} states, {} unique, depth {}, {} ms, {:.0} unique states/s",
            self.revision, self.scenario, self.checker_mode, self.states, self.unique_states, self.max_depth, self.elapsed_ms, self.unique_states_per_sec
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
pub fn check(revision: &RevisionSpec, scenario: &Scenario, bounds: &Bounds, progress: Option<&dyn Fn(&Progress)>, stop: &AtomicBool) -> Result<Report, ModelError> {
    check_with(revision, scenario, &PropertySet::default(), bounds, progress, stop)
}

/// [`check`], then the data properties `props` in the same search,
/// reported after the built-in ones, the same way.
pub fn check_with(revision: &RevisionSpec, scenario: &Scenario, props: &PropertySet, bounds: &Bounds, progress: Option<&dyn Fn(&Progress)>, stop: &AtomicBool) -> Result<Report, ModelError> {
    let inner_stop = Arc::new(AtomicBool::new(stop.load(Ordering::Relaxed)));
    let m = machine_with(revision, scenario, props, inner_stop.clone())?;
    let data_names = props.names();
    let m2 = m.clone();
    let start = Instant::now();
    let mut b = m.checker();
    if let Some(d) = bounds.max_depth {
        b = b.target_max_depth(d);
    }
    if let Some(n) = bounds.max_states {
        b = b.target_state_count(n);
    }
    if let Some(t) = bounds.timeout_ms {
        b = b.timeout(Duration::from_millis(t));
    }
    let mode = if bounds.symmetry { Mode::Dfs } else { bounds.mode };
    if bounds.symmetry {
        b = b.symmetry();
    }
    let (states, unique, depth, discoveries) = match mode {
        Mode::Bfs => run(b.spawn_bfs(), start, progress, stop, &inner_stop),
        Mode::Dfs => run(b.spawn_dfs(), start, progress, stop, &inner_stop),
    };
    let elapsed = start.elapsed();
    let interrupted = inner_stop.load(Ordering::Relaxed);
    let bound_hit = bounds.max_depth.is_some_and(|d| depth >= d)
        || bounds.max_states.is_some_and(|n| states >= n)
        || bounds.timeout_ms.is_some_and(|t| elapsed >= Duration::from_millis(t));
    let mut props = Vec::new();
    for name in property::names().into_iter().chain(data_names) {
        let found = discoveries.iter().find(|(n, _)| *n == name);
        let (verdict, ce) = match found {
            Some((_, path)) => {
                // stateright keeps the *last* violating state it met; search
                // the shortest path ourselves (falls back to truncating).
                let short = shortest_path(&m2, name, SHORTEST_LIMIT).unwrap_or_else(|| truncate(&m2, name, path));
                (Verdict::Violated, Some(counterexample(&m2, name, &short)))
            }
            None if interrupted => (Verdict::Interrupted, None),
            None if bound_hit => (Verdict::BoundReached, None),
            None => (Verdict::Holds, None),
        };
        props.push(PropertyReport { property: name.to_string(), verdict, counterexample: ce });
    }
    let secs = elapsed.as_secs_f64().max(1e-6);
    Ok(Report {
        revision: revision.name.clone(),
        scenario: scenario.name.clone(),
        checker_mode: format!(
            "{}, 1 thread, {}",
            match mode {
                Mode::Bfs => "bfs",
                Mode::Dfs => "dfs",
            },
            if bounds.symmetry { "thread symmetry" } else { "no symmetry" }
        ),
        properties: props,
        states,
        unique_states: unique,
        max_depth: depth,
        elapsed_ms: elapsed.as_millis() as u64,
        unique_states_per_sec: unique as f64 / secs,
    })
}

/// State limit of the shortest-counterexample search.
pub const SHORTEST_LIMIT: usize = 3_000_000;

/// Breadth-first search for the shortest path from the initial state to a
/// state violating `name` (deterministic: actions in model order).
pub fn shortest_path(m: &Machine, name: &str, limit: usize) -> Option<Vec<(State, Option<Action>)>> {
    use std::collections::hash_map::Entry;
    use std::collections::{HashMap, VecDeque};
    let prop = m.properties().into_iter().find(|p| p.name == name)?;
    let bad = |s: &State| !(prop.condition)(m, s);
    let mut arena: Vec<(State, usize, Option<Action>)> = vec![(m.init, usize::MAX, None)];
    let mut seen: HashMap<State, ()> = HashMap::new();
    seen.insert(m.init, ());
    let mut queue = VecDeque::from([0usize]);
    let mut actions = Vec::new();
    let mut hit = None;
    if bad(&m.init) {
        hit = Some(0);
    }
    while hit.is_none() {
        let Some(i) = queue.pop_front() else { break };
        let s = arena[i].0;
        actions.clear();
        m.actions(&s, &mut actions);
        for &a in &actions {
            let Some(n) = m.next_state(&s, a) else { continue };
            if let Entry::Vacant(e) = seen.entry(n) {
                e.insert(());
                arena.push((n, i, Some(a)));
                let j = arena.len() - 1;
                if bad(&n) {
                    hit = Some(j);
                    break;
                }
                queue.push_back(j);
            }
        }
        if arena.len() > limit {
            return None;
        }
    }
    let mut j = hit?;
    let mut rev = Vec::new();
    loop {
        let (s, parent, a) = arena[j];
        rev.push((s, a));
        if parent == usize::MAX {
            break;
        }
        j = parent;
    }
    // rev holds (state, action that produced it); re-pair as (state, next action).
    rev.reverse();
    let mut out = Vec::with_capacity(rev.len());
    for k in 0..rev.len() {
        let next = rev.get(k + 1).and_then(|(_, a)| *a);
        out.push((rev[k].0, next));
    }
    Some(out)
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

type Found = Vec<(&'static str, Vec<(State, Option<Action>)>)>;

fn run<C: Checker<Machine>>(c: C, start: Instant, progress: Option<&dyn Fn(&Progress)>, stop: &AtomicBool, inner: &AtomicBool) -> (usize, usize, usize, Found) {
    let mut sleep = 1u64;
    while !c.is_done() {
        if stop.load(Ordering::Relaxed) {
            inner.store(true, Ordering::Relaxed);
        }
        if let Some(p) = progress {
            p(&Progress { states: c.state_count(), unique_states: c.unique_state_count(), max_depth: c.max_depth(), elapsed: start.elapsed() });
        }
        std::thread::sleep(Duration::from_millis(sleep));
        sleep = (sleep * 2).min(50);
    }
    let c = c.join();
    if let Some(p) = progress {
        p(&Progress { states: c.state_count(), unique_states: c.unique_state_count(), max_depth: c.max_depth(), elapsed: start.elapsed() });
    }
    let mut found: Found = c.discoveries().into_iter().map(|(n, p)| (n, p.into_vec())).collect();
    found.sort_by_key(|(n, _)| *n);
    (c.state_count(), c.unique_state_count(), c.max_depth(), found)
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
        TraceStep { thread: d.thread, thread_name: d.thread_name.clone(), function: d.function.clone(), primitive: d.primitive.clone(), ops_done: d.ops_done, values: String::new() }
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
        let f = if let Some(l) = data_label { l.to_string() } else if at_rest { "(at rest)".to_string() } else if name == property::NO_DEADLOCK { "(all threads blocked)".to_string() } else { st.function.clone() };
        (f, object_of(m, name, &path[idx].0, &path[idx - 1].0))
    } else {
        ("(initial state)".into(), Object::Head)
    };
    let last = &path.last().map(|(s, _)| *s).unwrap_or(m.init);
    Counterexample {
        steps,
        schedule,
        violation: Violation { kind: if m.data_props.get(name).is_some() { mpath_reference::violation::Kind::ContractBreach } else { property::kind_of(name) }, object, function, step: idx.saturating_sub(1) as u64 },
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
        Step::ListEmpty { dst } | Step::ListSingular { dst } | Step::CpClearMatching { dst, .. } | Step::RefDecAndTest { dst } | Step::RequeueTake { dst } => Some(*dst),
        Step::TestBit { dst, .. } | Step::TestAndSetBit { dst, .. } | Step::TestAndClearBit { dst, .. } | Step::Load { dst, .. } => Some(*dst),
        _ => None,
    };
    if let Some(d) = dst {
        let v = reg(d);
        let word = match step {
            Step::RequeueTake { .. } => format!("{v} bio(s)"),
            Step::Load { what: crate::step::Pred::Iopolicy, .. } => ["numa", "round-robin", "queue-depth"].get(v as usize).map(|x| x.to_string()).unwrap_or_else(|| v.to_string()),
            Step::Load { what: crate::step::Pred::Access, .. } => ["optimized", "non-optimized", "other"].get(v as usize).map(|x| x.to_string()).unwrap_or_else(|| v.to_string()),
            Step::Load { what, .. } if !matches!(what, crate::step::Pred::IsDisabled | crate::step::Pred::IsOptimized | crate::step::Pred::IsAvailable | crate::step::Pred::CtrlLive | crate::step::Pred::CapacityMismatch | crate::step::Pred::HasHeadDisk) => v.to_string(),
            _ => (if v != 0 { "true" } else { "false" }).to_string(),
        };
        parts.push(if parts.is_empty() { word } else { format!("returns {word}") });
    }
    parts.join(", ")
}
