//! The sequential replay: a trace's operations issued by one or more model
//! threads, each to completion before the next starts, every `ret` and
//! `expect` compared.

use super::ctx::{Ctx, Stop};
use super::observe::{observe_at, violation_text, EVENT_VIOLATIONS};
use super::rules::{expect_gap, static_rule, RetRule};
use super::seq::{gap, op_name, SeqDivergence, SeqOutcome, SeqTrace};
use crate::machine::Machine;
use crate::revision::RevisionSpec;
use crate::scenario::{arrival_state, state_of_system, Scenario, ThreadSpec};
use crate::state::*;
use crate::step::WorkKind;
use mpath_reference::driver::DriverKind;
use mpath_reference::ops::{Op, Ret};
use mpath_reference::revision::Profile;
use mpath_reference::trace::{Header, Line};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Replays `t` on the step programs of the revision its header names.
pub fn replay(t: &SeqTrace) -> SeqOutcome {
    match RevisionSpec::by_name(&t.header.revision) {
        Ok(spec) => replay_on(&spec, t),
        Err(_) => gap(1, format!("revision {} has no step programs", t.header.revision)),
    }
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
    let setup = match Setup::new(spec, t, nthreads) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let rules = match ret_rules(&setup.m, t, &setup.profile, setup.tracks_requests) {
        Ok(r) => r,
        Err(o) => return o,
    };
    let Setup { m, bios_failed, queue, now, caps, .. } = setup;
    let mut cx = Ctx { m, bios_failed, queue, now, inflight_before: Vec::new() };
    let mut s = cx.m.init;
    let mut checks = 0;
    for (step, ((lineno, line), rule)) in t.lines.iter().zip(rules).enumerate() {
        let thread = threads.get(step).copied().unwrap_or(0);
        match run_line(&mut cx, &mut s, &t.header, &caps, (step, *lineno), line, rule, thread) {
            Ok(c) => checks += c,
            Err(o) => return o,
        }
    }
    SeqOutcome::Pass { steps: t.lines.len(), checks }
}

/// What a replay starts from: the machine (initial state from the
/// reference's setup, with a clock), and the reference's bookkeeping after
/// the setup the model's state does not keep.
struct Setup {
    m: Machine,
    profile: Profile,
    tracks_requests: bool,
    bios_failed: u64,
    queue: Vec<WorkKind>,
    now: u64,
    /// The setup's capacity classes (for path arrivals).
    caps: Vec<u64>,
}

impl Setup {
    /// The header's limits checked against the model's bounds (a gap
    /// otherwise), the revision compiled, the setup run on the reference.
    fn new(spec: &RevisionSpec, t: &SeqTrace, nthreads: usize) -> Result<Setup, SeqOutcome> {
        let h = &t.header;
        if h.profile.is_some() {
            return Err(gap(1, "header profile overrides (the step programs are per named revision)"));
        }
        if h.max_paths > MAXP {
            return Err(gap(1, format!("max_paths above the model's {MAXP} path slots")));
        }
        if h.nr_ctrls > MAXC {
            return Err(gap(1, format!("nr_ctrls above the model's {MAXC} controllers")));
        }
        let n = h.topology.possible.len();
        if n > MAXN || h.topology.possible != (0..n as i32).collect::<Vec<_>>() || h.topology.online != (0..h.topology.online.len() as i32).collect::<Vec<_>>()
        {
            return Err(gap(1, format!("topology beyond the model's nodes 0..{MAXN}")));
        }
        let profile = match h.validate() {
            Ok(p) => p,
            Err(e) => return Err(gap(1, format!("header: {e}"))),
        };
        let program = match spec.compile() {
            Ok(p) => Arc::new(p),
            Err(e) => return Err(gap(1, format!("revision does not compile: {e}"))),
        };
        let sys = match h.instantiate() {
            Ok(s) => s,
            Err(e) => return Err(gap(1, format!("setup: {e}"))),
        };
        let init = match state_of_system(&sys) {
            Ok(s) => s,
            Err(e) => return Err(gap(1, e)),
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
            Err(e) => return Err(gap(1, e.to_string())),
        };
        let tracks_requests = program.func("submit_bio_noacct").is_some();
        let now = sys.work.now.load(std::sync::atomic::Ordering::Relaxed);
        let caps = crate::scenario::capacity_classes(&sys);
        Ok(Setup { m, profile, tracks_requests, bios_failed, queue, now, caps })
    }
}

/// Every line checked for what the model cannot express before anything
/// runs: its ret rule, or the first gap.
fn ret_rules(m: &Machine, t: &SeqTrace, profile: &Profile, tracks_requests: bool) -> Result<Vec<RetRule>, SeqOutcome> {
    let h = &t.header;
    let mut rules = Vec::with_capacity(t.lines.len());
    let mut submitted = false;
    // A path lacking a forwarded op (`missing_ops`) answers with that op's
    // errno: the state does not keep which ops a path disk lacks.
    let fops_missing =
        h.setup.iter().chain(t.lines.iter().map(|(_, l)| &l.op)).any(|o| matches!(o, Op::AddPath { missing_ops, .. } if !missing_ops.is_empty()));
    for (lineno, line) in &t.lines {
        let name = op_name(&line.op);
        let rule = match static_rule(m, &line.op, profile, tracks_requests, submitted, fops_missing) {
            Ok(r) => r,
            Err(reason) => return Err(gap(*lineno, reason)),
        };
        if line.ret.is_some() && rule.is_none() {
            return Err(gap(*lineno, format!("ret of {name}: not computed by the step programs")));
        }
        if let Some(e) = &line.expect {
            if let Some(reason) = expect_gap(e) {
                return Err(gap(*lineno, reason));
            }
        }
        submitted |= matches!(line.op, Op::SubmitBio { .. } | Op::RunWorks { .. });
        rules.push(rule.unwrap_or(RetRule::Nothing));
    }
    Ok(rules)
}
/// Run one line (`at`: its index and file line) on `thread` and compare
/// its `ret` and `expect`; returns the checks made, or how the replay stops.
#[allow(clippy::too_many_arguments)] // one line: the replay's context, the line and where it runs
fn run_line(cx: &mut Ctx, s: &mut State, h: &Header, caps: &[u64], at: (usize, usize), line: &Line, rule: RetRule, thread: usize) -> Result<usize, SeqOutcome> {
    let (step, lineno) = at;
    let name = op_name(&line.op);
    let diverge = |field: &str, expected: String, actual: String| {
        SeqOutcome::Diverged(SeqDivergence {
            line: lineno,
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
        match cx.run_works(s, node) {
            Ok(ran) => Ret::Works(ran),
            Err(Stop::Gap(r)) => return Err(gap(lineno, r)),
            Err(Stop::Progress(why)) => return Err(diverge("progress", "the operation completes".into(), why)),
        }
    } else {
        before_op(s, cx.m.driver, h, caps, lineno, &line.op)?;
        match cx.run_op(s, thread, &line.op, rule) {
            Ok(r) => r,
            Err(Stop::Gap(r)) => return Err(gap(lineno, r)),
            Err(Stop::Progress(why)) => return Err(diverge("progress", format!("{name} completes"), why)),
        }
    };
    let mut checks = 0;
    if let Some(exp) = &line.ret {
        checks += 1;
        if *exp != ret {
            return Err(diverge("ret", serde_json::to_string(exp).unwrap_or_default(), serde_json::to_string(&ret).unwrap_or_default()));
        }
    }
    if let Some(exp) = &line.expect {
        checks += 1;
        let obs = observe_at(&cx.m, s, cx.bios_failed, &cx.queue, Some(cx.now));
        if let Some((field, e, a)) = exp.mismatches(&obs).into_iter().next() {
            let a = if field == "violations" && s.viol & EVENT_VIOLATIONS != 0 { violation_text(s.viol) } else { a };
            return Err(diverge(field, e, a));
        }
    }
    Ok(checks)
}

/// Before an operation runs: the removal of the last SCSI path is a gap,
/// and an arriving path starts allocated and unpublished, as in a
/// scenario thread (`scenario::arrival_state`).
fn before_op(s: &mut State, driver: DriverKind, h: &Header, caps: &[u64], lineno: usize, op: &Op) -> Result<(), SeqOutcome> {
    let name = op_name(op);
    if let (DriverKind::Scsi, Op::RemovePath { path, .. }) = (driver, op) {
        if s.list() == [*path as u8] {
            return Err(gap(lineno, "op remove_path of the last scsi path: the head removal after it not modelled in step programs"));
        }
    }
    if let Op::AddPath { path, .. } | Op::AddDevice { path, .. } = *op {
        let i = path as usize;
        if i >= MAXP || s.paths[i].life != Life::Unused {
            return Err(gap(lineno, format!("op {name} of a path slot used before: re-adding a path not modelled")));
        }
        match arrival_state(h, op, caps) {
            Ok(p) => s.paths[i] = p,
            Err(e) if e.contains("must be one the setup already uses") => {
                return Err(gap(lineno, format!("op {name} with a capacity the setup does not use (the state's capacity classes come from the setup)")))
            }
            Err(_) => return Err(gap(lineno, format!("op {name}: the reference refuses the arrival after the setup"))),
        }
    }
    Ok(())
}
