//! The model as the third execution of the trace corpus: a sequential mode
//! of the step-program interpreter. A trace's operations run one after
//! another on one thread (the work-queue worker only inside `run_works`),
//! from the state the reference computes for the trace's header and setup,
//! and every `ret` and `expect` field of the trace is compared with what
//! the step programs produce, as `replay` does on the reference.
//!
//! A trace the model cannot express is not replayed: it is a [`Gap`] with
//! a reason naming the modelling gap (an operation without a step program,
//! a field the state does not hold, a bound). Gaps are decided from the
//! trace and the model state, never from the expected values' agreement,
//! so a wrong answer is a divergence, not a gap.

use crate::machine::{Action, Machine, OpCall};
use crate::revision::RevisionSpec;
use crate::scenario::{arrival_state, op_entry, state_of_system, Scenario, ThreadSpec};
use crate::state::*;
use crate::step::{CStep, Step, WorkKind, JUNK};
use mpath_reference::driver::DriverKind;
use mpath_reference::io::Submit;
use mpath_reference::ops::{Observation, Op, Ret};
use mpath_reference::trace::{Header, Line};
use mpath_reference::work::Work;
use stateright::Model;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A trace as the sequential replay reads it.
#[derive(Clone, Debug)]
pub struct SeqTrace {
    pub file: String,
    pub header: Header,
    /// (1-based file line, op line).
    pub lines: Vec<(usize, Line)>,
}

/// Parses a trace (JSON Lines, format version 1) with the reference's
/// parser ([`mpath_reference::trace::parse`]). Errors are one line,
/// `file:line:column: reason`.
pub fn parse_trace(file: &str, text: &str) -> Result<SeqTrace, String> {
    mpath_reference::trace::parse(file, text).map(SeqTrace::from).map_err(|e| e.to_string())
}

/// Reads and parses a trace file.
pub fn load_trace(path: &str) -> Result<SeqTrace, String> {
    mpath_reference::trace::load(path).map(SeqTrace::from).map_err(|e| e.to_string())
}

impl From<mpath_reference::trace::Trace> for SeqTrace {
    fn from(t: mpath_reference::trace::Trace) -> SeqTrace {
        SeqTrace { file: t.file, header: t.header, lines: t.lines }
    }
}

/// Where the model's answer differs from the trace's expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqDivergence {
    pub line: usize,
    pub step: usize,
    pub op: String,
    /// `ret`, an observation field, or `progress` (the operation blocked or
    /// spun in the model).
    pub field: String,
    pub expected: String,
    pub actual: String,
}

/// A modelling gap: why the trace cannot be replayed on the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The line that needs what is missing (1 for the header).
    pub line: usize,
    /// The gap, worded without trace-specific numbers so that traces with
    /// the same gap count together.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeqOutcome {
    Pass { steps: usize, checks: usize },
    Diverged(SeqDivergence),
    Gap(Gap),
}

impl SeqOutcome {
    /// One line: `PASS file (N steps, K checks)`, `DIVERGED file:line: ...`,
    /// `GAP file:line: reason`.
    pub fn render(&self, file: &str) -> String {
        match self {
            SeqOutcome::Pass { steps, checks } => format!("PASS {file} ({steps} steps, {checks} checks)"),
            SeqOutcome::Diverged(d) => {
                format!("DIVERGED {file}:{}: step {} ({}): {} expected {} but the model gives {}", d.line, d.step, d.op, d.field, d.expected, d.actual)
            }
            SeqOutcome::Gap(g) => format!("GAP {file}:{}: {}", g.line, g.reason),
        }
    }
}

fn gap(line: usize, reason: impl Into<String>) -> SeqOutcome {
    SeqOutcome::Gap(Gap { line, reason: reason.into() })
}

/// The trace's operation name (`"op"` in the format).
pub fn op_name(op: &Op) -> String {
    serde_json::to_value(op).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(str::to_string)).unwrap_or_default()
}

/// Replays `t` on the step programs of the revision its header names.
pub fn replay(t: &SeqTrace) -> SeqOutcome {
    match RevisionSpec::by_name(&t.header.revision) {
        Ok(spec) => replay_on(&spec, t),
        Err(_) => gap(1, format!("revision {} has no step programs", t.header.revision)),
    }
}

/// How the model's answer to an operation becomes a trace `ret`.
#[derive(Clone, Copy, Debug)]
enum RetRule {
    /// The operation returns nothing (`"none"`).
    Nothing,
    /// The path pointer left in the `ret` register.
    RegPath,
    /// The boolean left in the `ret` register.
    RegBool,
    /// What the bio met first: a path's disk, the requeue list, or failure.
    Submitted,
    /// The paths whose sysfs link the operation created, in order.
    LinksMade,
    /// The works the worker ran, in order.
    WorksRun,
    /// A valid sysfs store returns its byte count (an invalid one its
    /// errno, without running anything that changes state).
    Count(i64),
    /// `delayed_removal_secs_show`: the number in `ret`, then a newline.
    SecsShown,
    /// `iopolicy_show`: the name of the policy in `ret`, then a newline.
    PolicyShown,
    /// 0 when the operation found a path (`ret`), else the errno given.
    FoundOr(i64),
    /// The first value when the operation found a path (`found`), else the
    /// second.
    FoundElse(i64, i64),
    /// `complete` on revisions that track requests: whether the path had a
    /// request in flight that the operation ended (its count dropped).
    RequestEnded(u32),
    /// `revalidate`: the paths `nvme_mpath_revalidate_paths_cb` cleared
    /// READY on (capacity mismatch), in order; SCSI none.
    Revalidated,
}

/// Operations naming a path or controller index, which the step programs
/// use unchecked (the reference refuses one outside the header's).
fn index_in_range(m: &Machine, op: &Op) -> bool {
    match *op {
        Op::SetAnaState { path, .. } | Op::SetSdevState { path, .. } | Op::SetAluaState { path, .. } => (path as usize) < m.npaths as usize,
        Op::SetCtrlState { ctrl, .. } | Op::SetFailfast { ctrl, .. } | Op::SetNrActive { ctrl, .. } => (ctrl as usize) < m.scenario.header.nr_ctrls,
        _ => true,
    }
}

struct Ctx {
    m: Machine,
    /// `bios_failed`: the reference's count after setup, plus every
    /// `bio_fail` step the model ran since.
    bios_failed: u64,
    /// The pending works in the order the model queued them (the state
    /// keeps a set; a `queue_work` of a pending work queues nothing, as in
    /// the kernel): what `run_works` runs first and `pending_work` lists.
    queue: Vec<WorkKind>,
    /// The virtual clock (seconds; the reference's after setup, plus every
    /// `advance_time`): an armed removal timer is listed as
    /// `remove_head@(now + seconds left)`.
    now: u64,
    /// Requests in flight per path when the running operation began.
    inflight_before: Vec<u8>,
}

/// Replays `t` on `spec`'s step programs (the initial state is still the
/// one the reference computes for the trace's own header).
pub fn replay_on(spec: &RevisionSpec, t: &SeqTrace) -> SeqOutcome {
    replay_on_threads(spec, t, &[])
}

/// [`replay_on`] with the operations issued by several model threads:
/// line `i` runs on thread `threads[i]` (thread 0 where `threads` is
/// short), each operation to completion before the next starts (a
/// sequential interleaving at operation granularity). At most
/// `MAXT - 1` threads.
pub fn replay_on_threads(spec: &RevisionSpec, t: &SeqTrace, threads: &[usize]) -> SeqOutcome {
    let nthreads = threads.iter().max().map_or(1, |&m| m + 1);
    if nthreads > MAXT - 1 {
        return gap(1, format!("more than the model's {} threads", MAXT - 1));
    }
    let h = &t.header;
    if h.profile.is_some() {
        return gap(1, "header profile overrides (the step programs are per named revision)");
    }
    if h.max_paths > MAXP {
        return gap(1, format!("max_paths above the model's {MAXP} path slots"));
    }
    if h.nr_ctrls > MAXC {
        return gap(1, format!("nr_ctrls above the model's {MAXC} controllers"));
    }
    let n = h.topology.possible.len();
    if n > MAXN || h.topology.possible != (0..n as i32).collect::<Vec<_>>() || h.topology.online != (0..h.topology.online.len() as i32).collect::<Vec<_>>() {
        return gap(1, format!("topology beyond the model's nodes 0..{MAXN}"));
    }
    let profile = match h.validate() {
        Ok(p) => p,
        Err(e) => return gap(1, format!("header: {e}")),
    };
    let program = match spec.compile() {
        Ok(p) => Arc::new(p),
        Err(e) => return gap(1, format!("revision does not compile: {e}")),
    };
    let sys = match h.instantiate() {
        Ok(s) => s,
        Err(e) => return gap(1, format!("setup: {e}")),
    };
    let init = match state_of_system(&sys) {
        Ok(s) => s,
        Err(e) => return gap(1, e),
    };
    let bios_failed = sys.bios_failed.load(std::sync::atomic::Ordering::Relaxed);
    // The work queue's order, as the reference holds it after setup.
    let queue: Vec<WorkKind> = sys
        .work
        .pending()
        .iter()
        .map(|w| match w.as_str() {
            "requeue" => WorkKind::Requeue,
            "partition_scan" => WorkKind::PartitionScan,
            _ => WorkKind::RemoveHead,
        })
        .collect();
    let sc = Scenario {
        name: t.file.clone(),
        description: String::new(),
        header: h.clone(),
        threads: (0..nthreads).map(|i| ThreadSpec { name: format!("T{i}"), ops: Vec::new() }).collect(),
    };
    // The trace drives a virtual clock: the removal timer waits for
    // `advance_time`.
    let m = match Machine::with_init_clock(program.clone(), &sc, init, Arc::new(AtomicBool::new(false)), true) {
        Ok(m) => m,
        Err(e) => return gap(1, e.to_string()),
    };
    let tracks_requests = program.func("submit_bio_noacct").is_some();

    // Every line is checked for what the model cannot express before
    // anything runs.
    let mut rules = Vec::with_capacity(t.lines.len());
    let mut submitted = false;
    // A path lacking a forwarded op (`missing_ops`) answers with that op's
    // errno: the state does not keep which ops a path disk lacks.
    let fops_missing =
        h.setup.iter().chain(t.lines.iter().map(|(_, l)| &l.op)).any(|o| matches!(o, Op::AddPath { missing_ops, .. } if !missing_ops.is_empty()));
    for (lineno, line) in &t.lines {
        let name = op_name(&line.op);
        let rule = match static_rule(&m, &line.op, &profile, tracks_requests, submitted, fops_missing) {
            Ok(r) => r,
            Err(reason) => return gap(*lineno, reason),
        };
        if line.ret.is_some() && rule.is_none() {
            return gap(*lineno, format!("ret of {name}: not computed by the step programs"));
        }
        if let Some(e) = &line.expect {
            if let Some(reason) = expect_gap(e) {
                return gap(*lineno, reason);
            }
        }
        submitted |= matches!(line.op, Op::SubmitBio { .. } | Op::RunWorks { .. });
        rules.push(rule.unwrap_or(RetRule::Nothing));
    }

    let now = sys.work.now.load(std::sync::atomic::Ordering::Relaxed);
    let caps = crate::scenario::capacity_classes(&sys);
    let mut cx = Ctx { m, bios_failed, queue, now, inflight_before: Vec::new() };
    let mut s = cx.m.init;
    let mut checks = 0;
    for (step, ((lineno, line), rule)) in t.lines.iter().zip(rules).enumerate() {
        let name = op_name(&line.op);
        let diverge = |field: &str, expected: String, actual: String| {
            SeqOutcome::Diverged(SeqDivergence {
                line: *lineno,
                step,
                op: serde_json::to_string(&line.op).unwrap_or_default(),
                field: field.into(),
                expected,
                actual,
            })
        };
        if let Op::AdvanceTime { secs } = line.op {
            cx.now += secs;
        }
        let ret = if let Op::RunWorks { node } = line.op {
            match cx.run_works(&mut s, node) {
                Ok(ran) => Ret::Works(ran),
                Err(Stop::Gap(r)) => return gap(*lineno, r),
                Err(Stop::Progress(why)) => return diverge("progress", "the operation completes".into(), why),
            }
        } else {
            if let (DriverKind::Scsi, Op::RemovePath { path, .. }) = (cx.m.driver, &line.op) {
                if s.list() == [*path as u8] {
                    return gap(*lineno, "op remove_path of the last scsi path: the head removal after it not modelled in step programs");
                }
            }
            // An arriving path starts allocated and unpublished, as in a
            // scenario thread (`scenario::arrival_state`).
            if let Op::AddPath { path, .. } | Op::AddDevice { path, .. } = line.op {
                let i = path as usize;
                if i >= MAXP || s.paths[i].life != life::UNUSED {
                    return gap(*lineno, format!("op {name} of a path slot used before: re-adding a path not modelled"));
                }
                match arrival_state(h, &line.op, &caps) {
                    Ok(p) => s.paths[i] = p,
                    Err(e) if e.contains("must be one the setup already uses") => {
                        return gap(*lineno, format!("op {name} with a capacity the setup does not use (the state's capacity classes come from the setup)"))
                    }
                    Err(_) => return gap(*lineno, format!("op {name}: the reference refuses the arrival after the setup")),
                }
            }
            match cx.run_op(&mut s, threads.get(step).copied().unwrap_or(0), &line.op, rule) {
                Ok(r) => r,
                Err(Stop::Gap(r)) => return gap(*lineno, r),
                Err(Stop::Progress(why)) => return diverge("progress", format!("{name} completes"), why),
            }
        };
        if let Some(exp) = &line.ret {
            checks += 1;
            if *exp != ret {
                return diverge("ret", serde_json::to_string(exp).unwrap_or_default(), serde_json::to_string(&ret).unwrap_or_default());
            }
        }
        if let Some(exp) = &line.expect {
            checks += 1;
            let obs = observe_at(&cx.m, &s, cx.bios_failed, &cx.queue, Some(cx.now));
            if let Some((field, e, a)) = exp.mismatches(&obs).into_iter().next() {
                let a = if field == "violations" && s.viol & EVENT_VIOLATIONS != 0 { violation_text(s.viol) } else { a };
                return diverge(field, e, a);
            }
        }
    }
    SeqOutcome::Pass { steps: t.lines.len(), checks }
}

/// The interpreter's event violations that are reference violations (the
/// others are property instrumentation of `mpath_find_path`).
const EVENT_VIOLATIONS: u16 = vbit::UAF_PATH | vbit::UAF_HEAD | vbit::NULL_DISK | vbit::JUNK | vbit::DUP_LINK | vbit::NONTERM;

fn violation_text(v: u16) -> String {
    let names = [
        (vbit::UAF_PATH, "use_after_free(path)"),
        (vbit::UAF_HEAD, "use_after_free(head)"),
        (vbit::NULL_DISK, "null_disk"),
        (vbit::JUNK, "junk_pointer"),
        (vbit::DUP_LINK, "duplicate_link"),
        (vbit::NONTERM, "non_termination"),
    ];
    let got: Vec<&str> = names.iter().filter(|(b, _)| v & b != 0).map(|(_, n)| *n).collect();
    format!("[{}] (model violation kinds)", got.join(", "))
}

/// What is decided from the operation alone: the ret rule (`None`: the
/// step programs do not compute this operation's `ret`), or a gap.
fn static_rule(
    m: &Machine,
    op: &Op,
    profile: &mpath_reference::revision::Profile,
    tracks_requests: bool,
    submitted: bool,
    fops_missing: bool,
) -> Result<Option<RetRule>, String> {
    let ctrl_state_machine = profile.ctrl_state_machine;
    let name = op_name(op);
    if !index_in_range(m, op) {
        return Err(format!("op {name}: a path or controller outside the header's (bad input: the reference replay refuses it)"));
    }
    if let Op::RunWorks { .. } = op {
        return Ok(Some(RetRule::WorksRun));
    }
    if let Op::DelayedRemovalSecsStore { buf } = op {
        if mpath_reference::removal::kstrtouint(buf).is_ok_and(|v| v >= 255) {
            return Err(format!("op {name} of 255 s or more: the model's delayed_removal_secs saturates at 255"));
        }
    }
    let (func, _) = match op_entry(op, m.driver) {
        Ok(e) => e,
        Err(_) => return Err(format!("op {name} not modelled in step programs")),
    };
    if m.program.func(func).is_none() {
        return Err(format!("op {name}: no step program on this revision"));
    }
    if !tracks_requests {
        match op {
            Op::Failover { .. } | Op::Complete { .. } => return Err(format!("op {name}: requests in flight not tracked by this revision's step programs")),
            Op::RemovePath { .. } | Op::FreePath { .. } if submitted => {
                return Err(format!("op {name} after a submission: requests in flight not tracked by this revision's step programs"))
            }
            _ => {}
        }
    }
    let invalid = func == "op_sysfs_store_invalid";
    Ok(match op {
        Op::FindPath { .. } => Some(RetRule::RegPath),
        Op::ClearCurrentPath { .. } | Op::DeleteDevice { .. } | Op::HeadDevicesEmpty | Op::CanRemoveHead => Some(RetRule::RegBool),
        Op::SubmitBio { .. } => Some(RetRule::Submitted),
        Op::AddSysfsLink => Some(RetRule::LinksMade),
        Op::IopolicyStore { .. } if invalid => Some(RetRule::Count(-(mpath_reference::disk::EINVAL as i64))),
        Op::DelayedRemovalSecsStore { buf } if invalid => Some(RetRule::Count(mpath_reference::removal::kstrtouint(buf).err().unwrap_or(0) as i64)),
        Op::SetIopolicy { val } => Some(RetRule::Count(mpath_reference::iopolicy::set_iopolicy(Some(val)).err().unwrap_or(0) as i64)),
        Op::IopolicyStore { buf } | Op::DelayedRemovalSecsStore { buf } => Some(RetRule::Count(buf.len() as i64)),
        Op::DelayedRemovalSecsShow => Some(RetRule::SecsShown),
        Op::IopolicyShow => Some(RetRule::PolicyShown),
        Op::CallForDevice { .. } => Some(RetRule::FoundOr(-(mpath_reference::device::EWOULDBLOCK as i64))),
        Op::SetCtrlState { .. } if ctrl_state_machine => Some(RetRule::RegBool),
        // NVMe: 0 once a path is selected (the ioctl itself succeeds), else
        // -EWOULDBLOCK; SCSI has no cdev: -ENOTTY.
        Op::ChrIoctl { .. } if m.driver == DriverKind::Nvme => Some(RetRule::FoundOr(-(mpath_reference::device::EWOULDBLOCK as i64))),
        Op::ChrIoctl { .. } => Some(RetRule::Count(-(mpath_reference::fwd::ENOTTY as i64))),
        // mpath_chr_uring_cmd: NVMe 0 on a selected path; SCSI (no cdev)
        // -EOPNOTSUPP, on v1 before locking; no path: -EINVAL (v1
        // -EWOULDBLOCK).
        Op::UringCmd { .. } => {
            let (eop, einval, ewb) =
                (-(mpath_reference::fwd::EOPNOTSUPP as i64), -(mpath_reference::disk::EINVAL as i64), -(mpath_reference::device::EWOULDBLOCK as i64));
            let none = if profile.uring_no_path_ewouldblock { ewb } else { einval };
            Some(match m.driver {
                DriverKind::Nvme => RetRule::FoundElse(0, none),
                DriverKind::Scsi if profile.uring_no_path_ewouldblock => RetRule::Count(eop),
                DriverKind::Scsi => RetRule::FoundElse(eop, none),
            })
        }
        Op::Forward { .. } if fops_missing => return Err(format!("op {name} with a path lacking the op: the ops a path disk lacks not modelled")),
        Op::Forward { .. } => Some(RetRule::FoundElse(0, -(mpath_reference::device::EWOULDBLOCK as i64))),
        Op::Failover { .. } if tracks_requests => Some(RetRule::RegBool),
        Op::Complete { path } if tracks_requests => Some(RetRule::RequestEnded(*path)),
        Op::Revalidate { .. } | Op::RevalidatePaths => Some(RetRule::Revalidated),
        Op::RemovePath { .. }
        | Op::AnaUpdate { .. }
        | Op::SetLive { .. }
        | Op::RemoveDisk
        | Op::Release
        | Op::ScsiBlock { .. }
        | Op::RemoveSysfsLink { .. }
        | Op::ClearPaths
        | Op::Synchronize
        | Op::FreePath { .. }
        | Op::SetReady { .. }
        | Op::SetAnaPending { .. }
        | Op::SetAnaState { .. }
        | Op::SetCtrlState { .. }
        | Op::SetFailfast { .. }
        | Op::SetNrActive { .. }
        | Op::SetSdevState { .. }
        | Op::SetAluaState { .. }
        | Op::AdvanceTime { .. }
        | Op::AddPath { .. }
        | Op::AddDevice { .. } => Some(RetRule::Nothing),
        _ => None,
    })
}

/// An expectation the model's state cannot answer.
fn expect_gap(e: &Observation) -> Option<String> {
    if e.module_refs.is_some() {
        return Some("expect module_refs: module references not modelled".into());
    }
    if e.violations.as_ref().is_some_and(|v| !v.is_empty()) {
        return Some("expect violations: a violation's object, function and step not modelled (the state keeps kinds)".into());
    }
    if e.requeue_len.is_some_and(|n| n >= 7) {
        return Some("expect requeue_len: 7 or more bios (the state saturates at 7)".into());
    }
    None
}

enum Stop {
    Gap(String),
    Progress(String),
}

/// What a running operation did that its `ret` reports.
#[derive(Default)]
struct Events {
    submit: Option<Submit>,
    links: Vec<u32>,
    /// Paths the revalidation callback cleared READY on.
    revalidated: Vec<u32>,
}

impl Ctx {
    fn where_is(&self, s: &State, t: usize) -> String {
        match self.m.resting(s, t) {
            Some((f, pc)) => format!("{} step {pc}", self.m.program.funcs[f as usize].name),
            None => "idle".into(),
        }
    }

    /// Runs thread `t` (already started) until its operation returns,
    /// recording the events `ret` is made of and counting failed bios.
    fn finish(&mut self, s: &mut State, t: usize, ev: &mut Events) -> Result<(), Stop> {
        let mut guard = 0u32;
        while s.threads[t].depth > 0 {
            if s.threads[t].stuck {
                return Err(Stop::Progress(format!("a loop that does not terminate in {}", self.where_is(s, t))));
            }
            if !self.m.enabled(s, t) {
                return Err(Stop::Progress(format!("blocked in {}", self.where_is(s, t))));
            }
            if let Some((f, pc)) = self.m.resting(s, t) {
                if let Some(CStep::Plain(step)) = self.m.step_at(f, pc) {
                    match step {
                        Step::UsePathDisk { p } => {
                            let v = s.threads[t].regs[*p as usize];
                            if v == JUNK {
                                self.bios_failed += 1;
                                ev.submit.get_or_insert(Submit::Failed);
                            } else if v != 0 {
                                ev.submit.get_or_insert(Submit::Path(v as u32 - 1));
                            }
                        }
                        Step::RequeueAdd => {
                            ev.submit.get_or_insert(Submit::Requeued);
                        }
                        Step::BioFail => {
                            self.bios_failed += 1;
                            ev.submit.get_or_insert(Submit::Failed);
                        }
                        // Requests still in flight on a path being freed
                        // complete with an error (as the reference's
                        // `free_path` has it).
                        Step::FreePath { p } => {
                            let v = s.threads[t].regs[*p as usize];
                            if v != 0 && v as usize <= MAXP && s.paths[v as usize - 1].life != life::FREED {
                                self.bios_failed += s.paths[v as usize - 1].inflight as u64;
                            }
                        }
                        Step::ClearBit { bit: crate::step::Bit::Ready, on: Some(r) }
                            if self.m.program.funcs[f as usize].name == "nvme_mpath_revalidate_paths_cb" =>
                        {
                            let v = s.threads[t].regs[*r as usize];
                            if v != 0 && (v as usize) <= MAXP {
                                ev.revalidated.push(v as u32 - 1);
                            }
                        }
                        _ => {}
                    }
                }
            }
            let links = s.links;
            self.m.run(s, t);
            for w in WorkKind::ALL {
                if s.pending & w.bit() != 0 && !self.queue.contains(&w) {
                    self.queue.push(w);
                }
            }
            for p in 0..MAXP as u32 {
                if s.links & !links & (1 << p) != 0 {
                    ev.links.push(p);
                }
            }
            guard += 1;
            if guard > 100_000 {
                return Err(Stop::Progress(format!("more than 100000 steps in {}", self.where_is(s, t))));
            }
        }
        if s.threads[t].stuck {
            return Err(Stop::Progress("a loop that does not terminate".into()));
        }
        Ok(())
    }

    fn run_op(&mut self, s: &mut State, t: usize, op: &Op, rule: RetRule) -> Result<Ret, Stop> {
        let (name, args) = op_entry(op, self.m.driver).map_err(Stop::Gap)?;
        let func = self.m.program.func(name).ok_or_else(|| Stop::Gap(format!("op {}: no step program on this revision", op_name(op))))? as u8;
        self.m.threads[t].ops = vec![OpCall { op: op.clone(), func, args }];
        s.threads[t].ops_done = 0;
        self.m.record_ret = true;
        self.inflight_before = s.paths.iter().map(|p| p.inflight).collect();
        self.m.begin_op(s, t);
        let mut ev = Events::default();
        self.finish(s, t, &mut ev)?;
        let reg = s.threads[t].last_ret;
        let ended = |p: u32| self.inflight_before.get(p as usize).is_some_and(|&n| n > s.paths[p as usize].inflight);
        Ok(match rule {
            RetRule::Nothing => Ret::None,
            RetRule::RegPath => Ret::Path(match reg {
                0 => None,
                JUNK => return Err(Stop::Progress("an uninitialised pointer returned".into())),
                v => Some(v as u32 - 1),
            }),
            RetRule::RegBool => Ret::Bool(reg != 0),
            RetRule::Submitted => Ret::Submit(ev.submit.ok_or_else(|| Stop::Progress("the bio was neither submitted, requeued nor failed".into()))?),
            RetRule::LinksMade => Ret::Paths(ev.links),
            RetRule::Count(n) => Ret::Int(n),
            RetRule::WorksRun => Ret::None,
            RetRule::SecsShown => Ret::Str(format!("{reg}\n")),
            RetRule::PolicyShown => Ret::Str(match mpath_reference::iopolicy::iopolicy_name(reg) {
                Some(n) => format!("{n}\n"),
                None => String::new(),
            }),
            RetRule::FoundOr(e) => Ret::Int(if reg != 0 { 0 } else { e }),
            RetRule::FoundElse(a, b) => Ret::Int(if reg != 0 { a } else { b }),
            RetRule::RequestEnded(p) => Ret::Bool(ended(p)),
            RetRule::Revalidated => Ret::Paths(ev.revalidated),
        })
    }

    /// `run_works`: the worker runs every pending work until none is left.
    fn run_works(&mut self, s: &mut State, node: i32) -> Result<Vec<Work>, Stop> {
        let mut ran = Vec::new();
        let wk = self.m.worker;
        while s.pending != 0 {
            self.queue.retain(|w| s.pending & w.bit() != 0);
            let Some(&w) = self.queue.first() else {
                return Err(Stop::Progress("a work is pending that was never queued".into()));
            };
            if w == WorkKind::Requeue && node != 0 {
                return Err(Stop::Gap("run_works on a node other than 0: the model's worker resubmits on node 0".into()));
            }
            if self.m.program.func(w.function()).is_none() {
                return Err(Stop::Gap(format!("work {}: no step program on this revision", w.function())));
            }
            // SCSI's remove work ends with the head's last put
            // (sd_mpath_put_disk -> mpath_put_disk), which flushes the
            // requeue work inside it; the step programs stop at
            // mpath_remove_disk (put_disk is not a modelled operation).
            if w == WorkKind::RemoveHead && self.m.driver == DriverKind::Scsi {
                return Err(Stop::Gap(
                    "scsi remove work: its final head put (mpath_put_disk, which flushes the requeue work) not modelled in step programs".into(),
                ));
            }
            *s = self.m.next_state(s, Action::Work(w)).ok_or_else(|| Stop::Progress(format!("{} cannot start", w.function())))?;
            self.queue.remove(0);
            let mut ev = Events::default();
            self.finish(s, wk, &mut ev)?;
            ran.push(match w {
                WorkKind::Requeue => Work::Requeue,
                WorkKind::PartitionScan => Work::PartitionScan,
                WorkKind::RemoveHead => Work::RemoveHead,
            });
            if ran.len() > 1000 {
                break;
            }
        }
        Ok(ran)
    }
}

/// The trace observation of a model state (every field the model holds;
/// `module_refs` is left out: not modelled), pending works in the
/// canonical order.
pub fn observe(m: &Machine, s: &State, bios_failed: u64) -> Observation {
    observe_queued(m, s, bios_failed, &WorkKind::ALL)
}

/// [`observe`] with the pending works listed in `queue`'s order.
pub fn observe_queued(m: &Machine, s: &State, bios_failed: u64, queue: &[WorkKind]) -> Observation {
    observe_at(m, s, bios_failed, queue, None)
}

/// [`observe_queued`] with the clock: an armed removal timer is listed
/// last as `remove_head@DEADLINE` (`remove_head@?` without a clock), as the
/// reference lists it.
pub fn observe_at(m: &Machine, s: &State, bios_failed: u64, queue: &[WorkKind], now: Option<u64>) -> Observation {
    let cp = (0..m.nnodes as usize)
        .map(|n| match s.cp[n] {
            0 => None,
            JUNK => Some(-1),
            v => Some(v as i64 - 1),
        })
        .collect();
    let live = |p: usize| matches!(s.paths[p].life, life::ALLOCATED | life::LINKED | life::UNLINKED);
    let with = |b: u8| (0..m.npaths as usize).filter(|&p| live(p) && s.paths[p].bit(b)).map(|p| p as u32).collect::<Vec<_>>();
    let nvme = m.driver == DriverKind::Nvme;
    let head_disk = match s.disk {
        disk::NONE => "none",
        disk::ERR_PTR => "err_ptr",
        disk::FREED => "freed",
        _ if s.hbit(hbit::GD_ADDED) => "added",
        _ => "allocated",
    };
    let pending = queue
        .iter()
        .filter(|w| s.pending & w.bit() != 0)
        .map(|w| match w {
            WorkKind::Requeue => "requeue".to_string(),
            WorkKind::PartitionScan => "partition_scan".to_string(),
            WorkKind::RemoveHead => "remove_head".to_string(),
        })
        .chain((s.timer != 0).then(|| match now {
            Some(t) => format!("remove_head@{}", t + s.timer as u64),
            None => "remove_head@?".to_string(),
        }))
        .collect::<Vec<_>>();
    Observation {
        current_path: Some(cp),
        dev_list: Some(s.list().iter().map(|&p| p as u32).collect()),
        head_flags: Some(s.hbit(hbit::DISK_LIVE) as u32 | (s.hbit(hbit::QUEUE_IF_NO_PATH) as u32) << 1),
        link_bits: Some(with(pbit::LINK)),
        links: Some((0..MAXP as u32).filter(|&p| s.links & (1 << p) != 0).collect()),
        ready: nvme.then(|| with(pbit::READY)),
        ana_pending: nvme.then(|| with(pbit::ANA_PENDING)),
        requeue_len: Some(s.requeue as usize),
        head_disk: Some(head_disk.to_string()),
        head_ref: Some(s.head_ref as i32),
        module_refs: None,
        pending_work: Some(pending),
        bios_failed: Some(bios_failed),
        violations: (s.viol & EVENT_VIOLATIONS == 0).then(Vec::new),
    }
}

/// The corpus summary: per-trace outcomes, and gaps counted by reason.
#[derive(Clone, Debug, Default)]
pub struct CorpusReport {
    pub outcomes: Vec<(String, SeqOutcome)>,
}

impl CorpusReport {
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| matches!(o, SeqOutcome::Pass { .. })).count()
    }
    pub fn diverged(&self) -> Vec<&(String, SeqOutcome)> {
        self.outcomes.iter().filter(|(_, o)| matches!(o, SeqOutcome::Diverged(_))).collect()
    }
    /// Gap reason -> number of traces.
    pub fn gaps(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for (_, o) in &self.outcomes {
            if let SeqOutcome::Gap(g) = o {
                *m.entry(g.reason.clone()).or_insert(0) += 1;
            }
        }
        m
    }
    pub fn checks(&self) -> usize {
        self.outcomes.iter().map(|(_, o)| if let SeqOutcome::Pass { checks, .. } = o { *checks } else { 0 }).sum()
    }
    /// The totals line and one line per gap reason (count first, most
    /// frequent first, then by reason): deterministic.
    pub fn summary(&self) -> String {
        let gaps = self.gaps();
        let ngap: usize = gaps.values().sum();
        let mut out = format!(
            "model replay: {} traces: {} passed ({} checks), {} diverged, {} not expressible ({} gap reasons)\n",
            self.outcomes.len(),
            self.passed(),
            self.checks(),
            self.diverged().len(),
            ngap,
            gaps.len()
        );
        let mut v: Vec<(&String, &usize)> = gaps.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (r, n) in v {
            out.push_str(&format!("  {n:>3}  {r}\n"));
        }
        out
    }
}

/// Replays every trace (each on its header's revision).
pub fn replay_all(traces: &[SeqTrace]) -> CorpusReport {
    CorpusReport { outcomes: traces.iter().map(|t| (t.file.clone(), replay(t))).collect() }
}

/// Replays every trace on `spec`'s step programs.
pub fn replay_all_on(spec: &RevisionSpec, traces: &[SeqTrace]) -> CorpusReport {
    CorpusReport { outcomes: traces.iter().map(|t| (t.file.clone(), replay_on(spec, t))).collect() }
}
