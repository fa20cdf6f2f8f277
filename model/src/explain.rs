//! The explanation of a path through the machine: each transition as the
//! swimlane and the schedule show it (the acting thread, the function, the
//! kernel primitive, the objects the step touched and what it read and
//! wrote), and a counterexample built from a violating path. Above the
//! interpreter and the properties; the checker, the renderer and the
//! schedule format build on it.

use crate::machine::{Action, Machine};
use crate::property;
use crate::state::State;
use crate::step::{Bit, Mutex, Step, JUNK};
use mpath_reference::violation::{Object, Violation};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// A path pointer as a schedule names it: a path id, `NULL` (JSON `null`)
/// or an uninitialised / wild pointer (the string `"junk"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PathRef {
    Null,
    Path(u32),
    Junk,
}

impl PathRef {
    /// The model's pointer encoding: 0 is NULL, `id + 1` path `id`,
    /// anything else (the JUNK value) is not a pointer to a path.
    pub fn of(v: u8) -> PathRef {
        match v {
            0 => PathRef::Null,
            JUNK => PathRef::Junk,
            v if (v as usize) <= crate::state::MAXP => PathRef::Path(v as u32 - 1),
            _ => PathRef::Junk,
        }
    }
}

impl Serialize for PathRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PathRef::Null => s.serialize_unit(),
            PathRef::Path(p) => s.serialize_u32(*p),
            PathRef::Junk => s.serialize_str("junk"),
        }
    }
}

impl<'de> Deserialize<'de> for PathRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Id(u32),
            Word(String),
            Null(()),
        }
        match Raw::deserialize(d)? {
            Raw::Id(p) => Ok(PathRef::Path(p)),
            Raw::Word(w) if w == "junk" => Ok(PathRef::Junk),
            Raw::Word(w) => Err(serde::de::Error::custom(format!("path {w:?}: expected a path id, null or \"junk\""))),
            Raw::Null(()) => Ok(PathRef::Null),
        }
    }
}

/// A present key holding `null` is `Some(PathRef::Null)`, not `None`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathRef>, D::Error> {
    PathRef::deserialize(d).map(Some)
}

/// The objects a step touches, resolved from the machine state. Keys that
/// do not apply to the step are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objects {
    /// The path held (before the step) by the register the step acts on.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub path: Option<PathRef>,
    /// The `current_path[]` slot (node number) a `current_path` load or
    /// store names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    /// The path pointer the step writes into its register.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub result: Option<PathRef>,
    /// `mutex_lock` / `mutex_unlock`: `head` or `subsys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutex: Option<Mutex>,
    /// Bit operations: the bit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bit: Option<Bit>,
}

/// The tag of a worker step (`"s": "work"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkTag {
    #[serde(rename = "work")]
    Work,
}

/// The worker starting a queued work: `{"s": "work", "work": "<function>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkStart {
    pub s: WorkTag,
    /// The function the work runs (`mpath_requeue_work`, ...).
    pub work: String,
}

/// What a schedule step executes: a step of the revision's program in its
/// revision-file form, or the worker starting a work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StepForm {
    Step(Step),
    Work(WorkStart),
}

/// One transition of the interleaving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleStep {
    /// Position in the schedule (0-based; the swimlane's row number).
    pub i: usize,
    /// Acting thread: an index into `threads`, or `worker`.
    pub thread: usize,
    pub thread_name: String,
    /// Index of the thread's operation the step belongs to (operations the
    /// thread completed before the step; 0 for the worker).
    pub op: usize,
    /// Library / driver function the step belongs to.
    pub function: String,
    /// The step; `null` when the operation started has no shared step.
    pub step: Option<StepForm>,
    /// The kernel primitive (as in the swimlane).
    pub primitive: String,
    pub objects: Objects,
    /// Operations this thread had completed after the step.
    pub ops_done: usize,
}

/// Column legend appended to state renderings (thread index -> role).
pub fn swimlane_legend(m: &Machine) -> String {
    let names: Vec<String> = (0..=m.worker).map(|t| format!("T{t}={}", m.thread_name(t))).collect();
    format!("threads: {}\n", names.join(" "))
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

pub fn counterexample(m: &Machine, name: &str, path: &[(State, Option<Action>)]) -> Counterexample {
    let schedule = schedule_steps(m, path);
    let mut steps: Vec<TraceStep> = schedule.iter().map(TraceStep::from).collect();
    for (st, w) in steps.iter_mut().zip(path.windows(2).filter(|w| w[0].1.is_some())) {
        if let (pre, Some(a)) = (&w[0].0, w[0].1) {
            st.values = values(m, pre, &w[1].0, a);
        }
    }
    // The violating transition: the first state that violates the property.
    let idx = path.iter().position(|(s, _)| property::violated(m, name, s)).unwrap_or(path.len().saturating_sub(1));
    let at_rest = property::decl(name).is_some_and(|d| d.at_rest);
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
        final_state: format!("{:?}", last) + &swimlane_legend(m),
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
    use crate::state::{pbit, AccessState, AnaState, Life, MAXP};
    if p >= MAXP {
        return format!("P{p}");
    }
    let ps = &s.paths[p];
    let mut parts: Vec<&str> = vec![if ps.bit(pbit::READY) { "READY" } else { "!READY" }];
    parts.push(match ps.ana {
        Some(AnaState::Optimized) => "optimized",
        Some(AnaState::Nonoptimized) => "non-optimized",
        Some(AnaState::Inaccessible) => "inaccessible",
        Some(AnaState::PersistentLoss) => "persistent-loss",
        Some(AnaState::Change) => "change",
        None => match ps.access {
            AccessState::Optimized => "optimized",
            AccessState::Nonoptimized => "non-optimized",
            AccessState::Other => "other",
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
        Life::Linked => "listed",
        Life::Unlinked => "unlinked",
        Life::Freed => "freed",
        Life::Allocated => "not yet listed",
        _ => "unused",
    });
    format!("P{p} ({})", parts.join(", "))
}

fn pointer(s: &State, v: PathRef) -> String {
    match v {
        PathRef::Null => "NULL".into(),
        PathRef::Junk => "junk (uninitialised)".into(),
        PathRef::Path(p) => path_state(s, p as usize),
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
                if let PathRef::Path(id) = p {
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
