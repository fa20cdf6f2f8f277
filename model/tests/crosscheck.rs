//! The model's sequential behaviour agrees with the reference, operation
//! by operation: random valid operation sequences from the one generator
//! (`mpath_reference::opgen`), issued by up to three model threads in a
//! random sequential interleaving (each operation runs to completion before
//! the next starts), are recorded on a revision's reference profile (every
//! `ret` and every observation field) and replayed on that revision's step
//! programs (`mpath_model::replay::replay_on_threads`), which compares the
//! returns and every observation field the model holds.
//!
//! Covered: both drivers (every revision whose step programs have the
//! driver's path arrival), all three iopolicies, every shipped revision and
//! mutant (each against its reference twin from the one registry), and
//! every operation kind the model executes: derived at run time from
//! `op_entry` (per kind and driver, with the revision's functions), the
//! replay's harness writes and `run_works`, so a kind that gains a step
//! program is drawn from then on. What the model cannot express is a
//! counted, named gap: an operation whose *values* `op_entry` refuses is
//! dropped from the sequence (counted by reason), a `ret` the step programs
//! do not compute is not compared (counted), and a replay gap cuts the
//! sequence before its line (counted), the prefix still compared.

use mpath_model::replay::{replay_on_threads, SeqDivergence, SeqOutcome, SeqTrace};
use mpath_model::scenario::op_entry;
use mpath_model::state::{MAXN, MAXP, MAXT};
use mpath_model::RevisionSpec;
use mpath_reference::driver::DriverKind;
use mpath_reference::iopolicy::IoPolicy;
use mpath_reference::opgen::{ctrl_state_machine, Draws, GenState, Mix, OpKind, Rng};
use mpath_reference::ops::Op;
use mpath_reference::trace::{record, Header};
use mpath_reference::Topology;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

const POLICIES: [&str; 3] = ["numa", "round-robin", "queue-depth"];
const DRIVERS: [DriverKind; 2] = [DriverKind::Nvme, DriverKind::Scsi];
/// Model threads issuing operations (the worker is one more).
const THREADS: usize = 3;
const _: () = assert!(THREADS < MAXT);

/// Kinds the generator draws only after another kind (its precondition):
/// where the model does not execute that other kind, the first is never
/// drawn for the model. A named gap, closed as soon as the other kind
/// gains a step program.
const NEEDS: &[(OpKind, OpKind, &str)] = &[(OpKind::Release, OpKind::Open, "release needs an outstanding open")];

/// The kinds of `t`'s mix the generator can reach, and the named gaps.
fn reachable(t: &Target) -> (Vec<OpKind>, Vec<String>) {
    let mut gaps = Vec::new();
    let kinds = t
        .mix
        .kinds
        .iter()
        .copied()
        .filter(|k| match NEEDS.iter().find(|(a, b, _)| a == k && !t.mix.kinds.contains(b)) {
            Some((a, b, why)) => {
                gaps.push(format!("{} not drawn: {why}, and the model does not execute {}", a.name(), b.name()));
                false
            }
            None => true,
        })
        .collect();
    (kinds, gaps)
}

/// One revision and driver as the cross-check runs them.
struct Target {
    rev: String,
    spec: RevisionSpec,
    profile: String,
    driver: DriverKind,
    /// The operation kinds the model executes for this driver and revision.
    mix: Mix,
}

/// Sample values of kind `k` for `driver` (the generator's domains).
fn samples(k: OpKind, driver: DriverKind) -> Vec<Op> {
    let mut st = GenState::new(driver, MAXN, MAXP, false);
    let mut rng = Rng::new(k as u64);
    // Two listed paths, one deleted (not freed), one free slot, one open.
    for p in 0..3 {
        let a = st.arrival(&mut rng, p);
        st.apply(&a);
    }
    st.apply(&Op::DeleteDevice { path: 2 });
    st.apply(&Op::Open);
    (0..200).filter_map(|_| st.op_of(k, &mut rng)).collect()
}

/// Does the model execute `op` on this driver and revision: `run_works`,
/// or an operation `op_entry` maps onto a function the revision's step
/// programs define (harness writes included: they are step programs too).
fn executes(op: &Op, driver: DriverKind, program: &mpath_model::revision::Program) -> Result<(), String> {
    if matches!(op, Op::RunWorks { .. }) {
        return Ok(());
    }
    let (f, _) = op_entry(op, driver)?;
    program.func(f).map(|_| ()).ok_or_else(|| format!("{} has no step program", f))
}

/// The kinds the model executes for `driver` on `spec`: each kind whose
/// sample values `executes` accepts at least once.
fn model_kinds(spec: &RevisionSpec, driver: DriverKind) -> Vec<OpKind> {
    let program = spec.compile().unwrap();
    OpKind::ALL.iter().copied().filter(|&k| k.for_driver(driver) && samples(k, driver).iter().any(|op| executes(op, driver, &program).is_ok())).collect()
}

/// Every shipped revision with every driver whose path arrival it models.
fn targets() -> Vec<Target> {
    let mut out = Vec::new();
    for rev in RevisionSpec::shipped_names() {
        let spec = RevisionSpec::by_name(rev).unwrap();
        let program = spec.compile().unwrap();
        for driver in DRIVERS {
            // The revision models the driver if it has the driver's path
            // arrival; NVMe also with its removal only (nvme-6.12 takes
            // the arrival out: its nvme_alloc_ns is not modelled). 6.12
            // has no SCSI multipath: nvme-6.12 nulls sd_probe.
            let runs = |k: OpKind| samples(k, driver).iter().any(|op| executes(op, driver, &program).is_ok());
            let models = runs(OpKind::AddPath) || (driver == DriverKind::Nvme && runs(OpKind::RemovePath));
            if !models {
                continue;
            }
            let kinds = model_kinds(&spec, driver);
            out.push(Target { rev: rev.to_string(), profile: spec.reference_profile_name(), spec: spec.clone(), driver, mix: Mix::of(&kinds, driver) });
        }
    }
    out
}

#[derive(Clone, Debug)]
struct Case {
    target: usize,
    iopolicy: &'static str,
    nodes: usize,
    paths: usize,
    /// Per operation: (issuing thread, raw draws).
    steps: Vec<(usize, Vec<u32>)>,
}

fn case_strategy(ntargets: usize) -> impl Strategy<Value = Case> {
    (0..ntargets, prop::sample::select(&POLICIES[..]), 1..=MAXN, 1usize..=3, prop::collection::vec((0..THREADS, prop::collection::vec(any::<u32>(), 6)), 1..24))
        .prop_map(|(target, iopolicy, nodes, paths, steps)| Case { target, iopolicy, nodes, paths, steps })
}

/// What the runs found, over all cases.
#[derive(Default)]
struct Tally {
    cases: usize,
    passed: usize,
    ops_compared: usize,
    /// Counted, named gaps.
    gaps: BTreeMap<String, usize>,
    /// (driver, kind) executed by the model in a compared prefix.
    executed: BTreeSet<(String, OpKind)>,
    /// (driver, kind) that met a named gap, with the first reason.
    gapped: BTreeMap<(String, OpKind), String>,
    /// Threads that issued a compared operation, per case, at most.
    max_threads: usize,
}

impl Tally {
    /// Counts gap `reason`, met by an operation of `kind` on `driver`.
    fn gap(&mut self, driver: DriverKind, kind: Option<OpKind>, reason: &str) {
        *self.gaps.entry(reason.to_string()).or_insert(0) += 1;
        if let Some(k) = kind {
            self.gapped.entry((format!("{driver:?}"), k)).or_insert_with(|| reason.to_string());
        }
    }
}

/// The case's header, operations and their threads (after dropping, and
/// counting, the values the model does not express).
fn build(t: &Target, c: &Case, tally: &mut Tally) -> (Header, Vec<Op>, Vec<usize>) {
    let max_paths = MAXP;
    let mut h = Header::new(&t.profile, t.driver, Topology::uniform(c.nodes), max_paths, max_paths);
    h.description = format!("crosscheck {} {:?}", t.rev, t.driver);
    h.iopolicy = c.iopolicy.into();
    h.ctrl_nodes = (0..max_paths).map(|i| if c.nodes > 1 { (i % c.nodes) as i32 } else { -1 }).collect();
    let mut st = GenState::new(t.driver, c.nodes, max_paths, ctrl_state_machine(&t.profile));
    let mut setup_draws = Draws::new(c.steps.iter().map(|s| s.1[0]).collect());
    for p in 0..c.paths as u32 {
        let op = st.arrival(&mut setup_draws, p);
        st.apply(&op);
        h.setup.push(op);
    }
    let program = t.spec.compile().unwrap();
    // v1-v3's step programs select by queue depth with all depths equal
    // (README-model.md, "SCSI is modelled only ..."): only a revision with
    // 6.12's selector reads `nr_active`; elsewhere a depth write is dropped.
    let depths_equal = program.func(mpath_model::machine::QUEUE_DEPTH_SELECTOR).is_none();
    let (mut ops, mut threads) = (Vec::new(), Vec::new());
    let mut lib_added = false;
    let mut dirty = false;
    let mut policy = IoPolicy::from_name(c.iopolicy).unwrap_or_default();
    for (thread, draws) in &c.steps {
        let op = st.next(&t.mix, &mut Draws::new(draws.clone()));
        if depths_equal && matches!(op, Op::SetNrActive { .. }) {
            tally.gap(t.driver, Some(OpKind::SetNrActive), "dropped set_nr_active: queue-depth selection modelled with all depths equal on this revision");
            continue;
        }
        // SCSI's sd_mpath_remove decides on the driver's disk_count, which
        // the model does not keep (it reads the list): equal while every
        // path arrived through sd_probe, not after a library add_device.
        if t.driver == DriverKind::Scsi && lib_added && matches!(op, Op::RemovePath { .. }) {
            tally.gap(t.driver, Some(OpKind::RemovePath), "dropped remove_path: scsi disk_count not modelled (a path added by add_device is not counted)");
            continue;
        }
        lib_added |= matches!(op, Op::AddDevice { .. });
        // The policy in force: the sysfs store, or the library's own
        // mpath_set_iopolicy (a thread operation since issue 13).
        let stored = match &op {
            Op::IopolicyStore { buf } => Some(buf.trim_end()),
            Op::SetIopolicy { val } => Some(val.as_str()),
            _ => None,
        };
        if let Some(Ok(p)) = stored.map(|v| mpath_reference::iopolicy::set_iopolicy(Some(v))) {
            policy = p;
        }
        // ... and a submitted bio is counted in its controller's depth
        // (NVMe under queue-depth, SCSI per host always), which then
        // differs between paths: the sequence ends once the policy is
        // queue-depth with such a count outstanding.
        dirty |= depths_equal && (t.driver == DriverKind::Scsi || policy == IoPolicy::QueueDepth) && matches!(op, Op::SubmitBio { .. });
        let counted = dirty && policy == IoPolicy::QueueDepth;
        match executes(&op, t.driver, &program) {
            Ok(()) => {
                ops.push(op);
                threads.push(*thread);
                if counted {
                    tally.gap(t.driver, None, "cut at queue-depth after a counted submission: controller depths not modelled on this revision");
                    break;
                }
            }
            Err(_) => tally.gap(t.driver, Some(OpKind::of(&op)), &format!("dropped {}: a value op_entry does not map", OpKind::of(&op).name())),
        }
    }
    (h, ops, threads)
}

/// Records the case on the reference and replays it on the model; a
/// divergence is an error naming everything needed to replay it.
fn run_case(targets: &[Target], c: &Case, tally: &mut Tally) -> Result<(), TestCaseError> {
    let t = &targets[c.target];
    tally.cases += 1;
    let (h, ops, threads) = build(t, c, tally);
    // The generator's sequences are valid: the reference accepts every one.
    let mut check = GenState::new(t.driver, c.nodes, MAXP, ctrl_state_machine(&t.profile));
    for op in h.setup.iter().chain(&ops) {
        prop_assert!(check.allows(op), "{}: generated an operation its own state refuses: {op:?}", t.rev);
        check.apply(op);
    }
    let pairs: Vec<(Op, String)> = ops.iter().map(|o| (o.clone(), String::new())).collect();
    let lines = record(&h, &pairs).map_err(|e| TestCaseError::fail(format!("{} {:?}: the reference refuses a generated op: {e}", t.rev, t.driver)))?;
    match compare(&t.spec, t.driver, &h, lines, &threads, tally) {
        Ok(Some(steps)) => {
            tally.passed += 1;
            tally.ops_compared += steps;
            for op in &ops[..steps] {
                tally.executed.insert((format!("{:?}", t.driver), OpKind::of(op)));
            }
            let used: BTreeSet<usize> = threads.iter().take(steps).copied().collect();
            tally.max_threads = tally.max_threads.max(used.len());
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(d) => {
            let json: Vec<String> = ops.iter().map(|o| serde_json::to_string(o).unwrap()).collect();
            Err(TestCaseError::fail(format!(
                "{} ({:?}, {}, {} nodes): model and reference diverge at step {} ({}): {} expected {} but the model gives {}\n  header: {}\n  threads: {:?}\n  ops: [{}]",
                t.rev,
                t.driver,
                c.iopolicy,
                c.nodes,
                d.step,
                d.op,
                d.field,
                d.expected,
                d.actual,
                h.to_json(),
                &threads[..(d.step + 1).min(threads.len())],
                json[..(d.step + 1).min(json.len())].join(", ")
            )))
        }
    }
}

/// Replays the recorded `lines` on `spec`'s step programs, issued by
/// `threads`. Fields the model does not hold are not compared, each gap
/// counted by its reason: `module_refs` (not modelled) always; a `ret`
/// the step programs do not compute, on its line; an `expect` field the
/// state cannot answer (a delayed-removal deadline, 7 or more requeued
/// bios), on its line; any other gap (an operation the replay cannot run
/// here, a violation's details) cuts the sequence before its line.
/// Returns the operations compared (`None`: none), or the divergence.
fn compare(
    spec: &RevisionSpec,
    driver: DriverKind,
    h: &Header,
    mut lines: Vec<mpath_reference::trace::Line>,
    threads: &[usize],
    tally: &mut Tally,
) -> Result<Option<usize>, SeqDivergence> {
    for l in &mut lines {
        if let Some(e) = l.expect.as_mut() {
            e.module_refs = None;
        }
    }
    tally.gap(driver, None, "expect module_refs: module references not modelled (field not compared)");
    let mut trace = SeqTrace { file: "crosscheck".into(), header: h.clone(), lines: lines.into_iter().enumerate().map(|(i, l)| (i + 2, l)).collect() };
    for _ in 0..1000 {
        if trace.lines.is_empty() {
            return Ok(None);
        }
        match replay_on_threads(spec, &trace, threads) {
            SeqOutcome::Pass { steps, .. } => return Ok(Some(steps)),
            SeqOutcome::Diverged(d) => return Err(d),
            SeqOutcome::Gap(g) => {
                let Some(i) = trace.lines.iter().position(|(n, _)| *n == g.line) else {
                    // A header gap: nothing of the case is compared.
                    tally.gap(driver, None, &g.reason);
                    return Ok(None);
                };
                tally.gap(driver, Some(OpKind::of(&trace.lines[i].1.op)), &g.reason);
                let line = &mut trace.lines[i].1;
                let e = line.expect.as_mut();
                match (g.reason.split(':').next().unwrap_or(""), e) {
                    (r, _) if r.starts_with("ret of ") => line.ret = None,
                    ("expect pending_work", Some(e)) => e.pending_work = None,
                    ("expect requeue_len", Some(e)) => e.requeue_len = None,
                    _ => trace.lines.truncate(i),
                }
            }
        }
    }
    Ok(None)
}

/// The proptest seed: fixed (the run is the same every time), or
/// `MPV_XCHECK_SEED` to explore others; printed so a run can be replayed.
fn seed() -> u64 {
    std::env::var("MPV_XCHECK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x6d70_7663_6b31)
}

/// Cases: 16384, or `MPV_XCHECK_CASES`.
fn cases() -> u32 {
    std::env::var("MPV_XCHECK_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(16384)
}

#[test]
fn model_agrees_with_reference() {
    let targets = targets();
    let (seed, cases) = (seed(), cases());
    let start = std::time::Instant::now();
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(Config { cases, rng_seed: RngSeed::Fixed(seed), failure_persistence: None, ..Config::default() });
    let result = runner.run(&case_strategy(targets.len()), |c| run_case(&targets, &c, &mut tally.borrow_mut()));
    let t = tally.into_inner();
    eprintln!(
        "cross-check: seed {seed} (MPV_XCHECK_SEED), {cases} cases (MPV_XCHECK_CASES) over {} revision/driver pairs: {} runs, {} passed, {} operations compared, up to {} threads, {:.1} s",
        targets.len(),
        t.cases,
        t.passed,
        t.ops_compared,
        t.max_threads,
        start.elapsed().as_secs_f64()
    );
    let mut gaps: Vec<_> = t.gaps.iter().collect();
    gaps.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (r, n) in gaps {
        eprintln!("  {n:>5}  {r}");
    }
    if let Err(e) = result {
        panic!("{e}\n(replay this run with MPV_XCHECK_SEED={seed} MPV_XCHECK_CASES={cases})");
    }
    // Every kind the model executes was executed on each driver, in a
    // compared prefix; several threads took part.
    for driver in DRIVERS {
        let want: BTreeSet<OpKind> = targets.iter().filter(|t| t.driver == driver).flat_map(|t| reachable(t).0).collect();
        let d = format!("{driver:?}");
        let missing: Vec<&str> =
            want.iter().filter(|k| !t.executed.contains(&(d.clone(), **k)) && !t.gapped.contains_key(&(d.clone(), **k))).map(|k| k.name()).collect();
        assert!(missing.is_empty(), "{driver:?}: kinds the model executes but no run compared or named a gap for: {missing:?}");
        for k in &want {
            if !t.executed.contains(&(d.clone(), *k)) {
                eprintln!("  {d}: {} only met gaps ({})", k.name(), t.gapped[&(d.clone(), *k)]);
            }
        }
    }
    assert!(t.max_threads >= 2, "no run interleaved several threads");
    assert!(t.passed * 2 >= t.cases, "only {} of {} runs compared anything to the end", t.passed, t.cases);
}

/// The kinds are derived, not listed: both drivers have targets, every
/// revision appears, and each target's mix is exactly the kinds whose
/// operations the model executes, every one of which the generator draws
/// from a fresh state within a bounded sequence.
#[test]
fn every_kind_the_model_executes_is_generated() {
    let targets = targets();
    for driver in DRIVERS {
        assert!(targets.iter().any(|t| t.driver == driver), "no revision models {driver:?}");
    }
    for rev in RevisionSpec::shipped_names() {
        assert!(targets.iter().any(|t| t.rev == rev), "{rev} is not cross-checked");
    }
    for t in &targets {
        // Kinds are those op_entry maps onto this revision's functions.
        assert!(t.mix.kinds.contains(&OpKind::FindPath), "{}: find_path missing", t.rev);
        // 200 sequences of 24 operations from one path (the cases' shape).
        let mut seen = BTreeSet::new();
        for seed in 0..200 {
            let mut st = GenState::new(t.driver, 2, MAXP, ctrl_state_machine(&t.profile));
            let mut rng = Rng::new(seed);
            let a = st.arrival(&mut rng, 0);
            st.apply(&a);
            for _ in 0..24 {
                seen.insert(OpKind::of(&st.next(&t.mix, &mut rng)));
            }
        }
        let (want, gaps) = reachable(t);
        for g in gaps {
            eprintln!("{} {:?}: {g}", t.rev, t.driver);
        }
        let missing: Vec<&str> = want.iter().filter(|k| !seen.contains(k)).map(|k| k.name()).collect();
        assert!(missing.is_empty(), "{} {:?}: never generated: {missing:?}", t.rev, t.driver);
    }
}

/// The cross-check is not vacuous: a revision whose NUMA fast path skips
/// `is_optimized`, compared against the v2 reference, disagrees; against
/// its own reference twin (the registry's, carrying the same mutation) it
/// agrees.
#[test]
fn crosscheck_detects_a_divergent_revision() {
    use mpath_reference::driver::AnaState;
    let run = |rev: &str, profile: &str| {
        let spec = RevisionSpec::by_name(rev).unwrap();
        let t = Target {
            rev: rev.into(),
            profile: profile.into(),
            mix: Mix::of(&model_kinds(&spec, DriverKind::Nvme), DriverKind::Nvme),
            spec,
            driver: DriverKind::Nvme,
        };
        let mut h = Header::new(profile, DriverKind::Nvme, Topology::uniform(1), MAXP, MAXP);
        for p in 0..2 {
            h.setup.push(Op::AddPath { path: p, ctrl: p, capacity: 2048, ana: Some(AnaState::Optimized), alua: None, missing_ops: vec![] });
        }
        let ops = [Op::AnaUpdate { path: 1, state: AnaState::Optimized }, Op::AnaUpdate { path: 0, state: AnaState::Nonoptimized }, Op::FindPath { node: 0 }];
        let lines = record(&h, &ops.iter().map(|o| (o.clone(), String::new())).collect::<Vec<_>>()).unwrap();
        let r = compare(&t.spec, DriverKind::Nvme, &h, lines, &[0, 1, 0], &mut Tally::default());
        assert!(!matches!(r, Ok(Some(n)) if n < 3), "{rev}: not every step compared: {r:?}");
        r.is_ok()
    };
    assert!(!run("mut-numa-no-optimized-check", "v2"));
    assert!(run("mut-numa-no-optimized-check", "mut-numa-no-optimized-check"));
    assert!(!run("v2", "mut-numa-no-optimized-check"));
    assert!(run("v2", "v2"));
}
