//! The `check`, `diff` and `explore` commands: thin wrappers over
//! `mpath-model` that print tables and swimlanes, show progress, stop
//! cleanly on Ctrl-C and save counterexamples as replayable traces, each
//! with its schedule (the interleaving) beside it.

use crate::exit::Exit;
use crate::verdicts::{self, Finding, Fix, Format, TableRow};
use mpath_model::render::{render_counterexample_with, LaneOpts};
use mpath_model::{
    as_expected, catalogue, check, check_with, counterexample_to_trace, finding, run_catalogue, Bounds, Expect, Expectations, PropertySet, Report,
    RevisionSpec, Scenario, Schedule, Verdict,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Set by the Ctrl-C handler.
pub static STOP: AtomicBool = AtomicBool::new(false);

pub fn install_ctrlc() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(Exit::Interrupted as i32);
        }
        eprintln!("\ninterrupted: finishing with what was found (Ctrl-C again to abort)");
    });
}

pub struct CheckOpts {
    pub revision: String,
    pub scenario: Option<String>,
    /// Properties files (data properties, checked with the built-in ones).
    pub properties: Vec<String>,
    pub bounds: Bounds,
    pub json: bool,
    pub save_dir: PathBuf,
    /// Swimlane width (total columns; see `verdicts::lane_width`).
    pub width: usize,
    /// Text (table and swimlanes), email (72 columns) or Markdown.
    pub format: Format,
    /// A kernel tree in which each swimlane function's definition line is
    /// looked up (the revision's `source` files).
    pub kernel_src: Option<PathBuf>,
    /// With a scenario: only this property's counterexample is shown
    /// (swimlane, or the email / Markdown report's interleaving).
    pub property: Option<String>,
}

#[derive(Serialize)]
struct Row {
    id: Option<&'static str>,
    scenario: String,
    property: String,
    expected: Option<Expect>,
    verdict: Verdict,
    as_expected: bool,
    /// Where `expected` comes from when it is not the revision's own
    /// catalogue column (`"v2"`, `"mut-no-sync1 breaks"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_from: Option<String>,
    /// The finding, when the verdict is not as expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    counterexample_trace: Option<String>,
    /// The counterexample's schedule (the interleaving), saved beside the trace.
    counterexample_schedule: Option<String>,
}

/// An error about the `--revision` / `--scenario` argument `arg` in one
/// line: `file:line:column: reason` when a file failed to parse, otherwise
/// the reason once (no repeated `revision X:` prefix, no position repeated
/// at the end as serde_json writes it).
pub fn one_line(arg: &str, text: &str) -> String {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let mut t = text.trim().replace('\n', " ");
    if let Some(i) = t.rfind(" at line ") {
        if t[i + 9..].split_once(" column ").is_some_and(|(l, c)| digits(l) && digits(c)) {
            t.truncate(i);
        }
    }
    loop {
        let before = t.len();
        for p in
            [format!("revision {arg}: "), format!("scenario {arg}: "), "revision <text>: ".to_string(), "scenario <text>: ".to_string(), format!("{arg}: ")]
        {
            if let Some(r) = t.strip_prefix(p.as_str()) {
                t = r.to_string();
            }
        }
        if t.len() == before {
            break;
        }
    }
    if let Some((l, rest)) = t.strip_prefix("line ").and_then(|r| r.split_once(", column ")) {
        if let Some((c, reason)) = rest.split_once(": ") {
            if digits(l) && digits(c) {
                return format!("{arg}:{l}:{c}: {reason}");
            }
        }
    }
    if t.contains("(os error ") && !t.starts_with("cannot read") {
        t = format!("cannot read: {t}");
    }
    if (arg.contains('/') || arg.ends_with(".json")) && !t.contains(arg) {
        format!("{arg}: {t}")
    } else {
        t
    }
}

fn load_rev(name: &str) -> Result<RevisionSpec, Exit> {
    RevisionSpec::load(name).map_err(|e| {
        eprintln!("error: {}", one_line(name, &e.to_string()));
        Exit::BadInput
    })
}

fn load_scenario(name: &str) -> Result<Scenario, Exit> {
    Scenario::load(name).map_err(|e| {
        eprintln!("error: {}", one_line(name, &e.to_string()));
        Exit::BadInput
    })
}

fn progress_bar(label: String) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    pb.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()));
    pb.set_message(label);
    pb
}

/// Save a counterexample as a trace (`<stem>.jsonl`, when an operation
/// completed) and, beside it, its schedule (`<stem>.schedule.json`, the
/// interleaving, naming the trace); returns the paths written.
fn save_counterexample(rev: &RevisionSpec, sc: &Scenario, rep: &Report, prop: &str, dir: &Path) -> (Option<String>, Option<String>) {
    let Some(ce) = rep.properties.iter().find(|p| p.property == prop).and_then(|p| p.counterexample.as_ref()) else { return (None, None) };
    if std::fs::create_dir_all(dir).is_err() {
        return (None, None);
    }
    let stem = format!("{}-{}-{}", sanitize(&rep.revision), sanitize(&rep.scenario), sanitize(prop));
    let trace_name = format!("{stem}.jsonl");
    let trace = counterexample_to_trace(rev, sc, ce).and_then(|(h, lines)| {
        let file = dir.join(&trace_name);
        std::fs::write(&file, mpath_reference::trace::to_jsonl(&h, &lines)).ok()?;
        Some(file.display().to_string())
    });
    let schedule = Schedule::from_counterexample(rev, sc, prop, ce, trace.as_ref().map(|_| trace_name.clone())).and_then(|s| {
        let file = dir.join(format!("{stem}.schedule.json"));
        std::fs::write(&file, s.to_json()).ok()?;
        Some(file.display().to_string())
    });
    (trace, schedule)
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect()
}

fn swimlanes(rev: &RevisionSpec, sc: &Scenario, rep: &Report, lane: &LaneOpts, only: Option<&str>) {
    let Ok(m) = mpath_model::checker::machine(rev, sc, Arc::new(AtomicBool::new(false))) else { return };
    for p in rep.violated() {
        if only.is_some_and(|o| o != p.property) {
            continue;
        }
        if let Some(ce) = &p.counterexample {
            println!("\n--- counterexample: {} / {} / {} ({} steps) ---", rep.revision, rep.scenario, p.property, ce.steps.len());
            print!("{}", render_counterexample_with(&m, ce, lane));
        }
    }
}

/// Candidate fixes shipped outside `model/revisions` (the kernel race
/// engine's twins of its C patches), as `--revision` takes them.
const RACE_FIXES: &[(&str, &str)] = &[("conformance/kunit/race/fix-612-rr-removing.json", include_str!("../kunit/race/fix-612-rr-removing.json"))];

/// The fix variants of `rev` that declare they make one of `props` hold on
/// scenario `scenario` (a revision whose `base` is `rev` and whose `fixes`
/// name the pair), each checked on the scenario.
pub fn fix_variants(rev: &RevisionSpec, sc: &Scenario, props: &[String], bounds: &Bounds) -> Vec<Fix> {
    let mut cands: Vec<(String, RevisionSpec)> = RevisionSpec::shipped_names()
        .into_iter()
        .filter(|n| !n.starts_with("mut-"))
        .filter_map(|n| RevisionSpec::by_name(n).ok().map(|r| (n.to_string(), r)))
        .collect();
    cands.extend(RACE_FIXES.iter().filter_map(|(path, text)| RevisionSpec::from_text(path, text).ok().map(|r| (path.to_string(), r))));
    let mut out = Vec::new();
    for (spec, c) in cands {
        if c.base.as_deref() != Some(rev.name.as_str()) {
            continue;
        }
        let fixed: Vec<String> = c
            .fixes
            .iter()
            .filter(|d| props.contains(&d.property) && Scenario::load(&d.scenario).is_ok_and(|s| s.name == sc.name))
            .map(|d| d.property.clone())
            .collect();
        if fixed.is_empty() {
            continue;
        }
        let (checked, states) = match check(&c, sc, bounds, None, &STOP) {
            Ok(r) => (fixed.iter().filter_map(|p| r.verdict(p).map(|v| (p.clone(), v))).collect(), r.states),
            Err(_) => (Vec::new(), 0),
        };
        out.push(Fix { name: c.name.clone(), spec, description: c.description.clone(), checked, states });
    }
    out
}

/// One scenario's result as a [`Finding`] for `--format email|markdown`.
fn finding_of<'a>(o: &CheckOpts, rev: &RevisionSpec, sc: &Scenario, rep: &'a Report, rows: &[TableRow], _reports: &[(Scenario, Report)]) -> Finding<'a> {
    let entries: Vec<mpath_model::Entry> =
        catalogue().into_iter().filter(|e| e.scenario == sc.name && rows.iter().any(|r| r.property == e.property && r.id.is_some())).collect();
    let shown: Vec<&TableRow> = rows
        .iter()
        .filter(|r| r.verdict == Verdict::Violated && (r.id.is_some() || !r.as_expected) && o.property.as_ref().is_none_or(|p| *p == r.property))
        .collect();
    let names: Vec<String> = match mpath_model::checker::machine(rev, sc, Arc::new(AtomicBool::new(false))) {
        Ok(m) => (0..=m.worker).map(|t| m.thread_name(t)).collect(),
        Err(_) => Vec::new(),
    };
    let counterexamples = shown
        .iter()
        .filter_map(|r| {
            rep.properties.iter().find(|p| p.property == r.property).and_then(|p| p.counterexample.as_ref()).map(|ce| (r.property.clone(), ce, names.clone()))
        })
        .collect();
    let props: Vec<String> = shown.iter().map(|r| r.property.clone()).collect();
    let about = rev.description.split([':', '(']).next().unwrap_or("").trim().to_string();
    Finding {
        revision: rev.name.clone(),
        revision_about: if about.is_empty() { rev.name.clone() } else { about },
        scenario: sc.name.clone(),
        entries,
        rows: rows.to_vec(),
        counterexamples,
        source: rev.source.clone(),
        checker_mode: rep.checker_mode.clone(),
        fixes: if props.is_empty() { Vec::new() } else { fix_variants(rev, sc, &props, &o.bounds) },
        command: format!(
            "mpath-verify check --revision {} --scenario {}{}",
            o.revision,
            o.scenario.as_deref().unwrap_or(&sc.name),
            o.property.as_deref().map(|p| format!(" --property {p}")).unwrap_or_default()
        ),
        kernel_command: ["nvme-6.12", "v2"].contains(&rev.name.as_str()).then(|| {
            format!("mpath-verify check --revision {} --scenario {} --confirm-in-kernel \"$TREE\"", o.revision, o.scenario.as_deref().unwrap_or(&sc.name))
        }),
    }
}

/// `mpath-verify check`.
pub fn cmd_check(o: &CheckOpts) -> Exit {
    cmd_check_saving(o).0
}

/// `check`, also returning the schedules it saved (for
/// `--confirm-in-kernel`).
pub fn cmd_check_saving(o: &CheckOpts) -> (Exit, Vec<String>) {
    let mut saved = Vec::new();
    let exit = check_inner(o, &mut saved);
    (exit, saved)
}

fn load_properties(files: &[String]) -> Result<PropertySet, Exit> {
    let mut set = PropertySet::default();
    for f in files {
        let r = PropertySet::load(f).and_then(|p| set.extend(p));
        if let Err(e) = r {
            eprintln!("error: {e}");
            return Err(Exit::BadInput);
        }
    }
    Ok(set)
}

fn check_inner(o: &CheckOpts, saved: &mut Vec<String>) -> Exit {
    install_ctrlc();
    let props = match load_properties(&o.properties) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let rev = match load_rev(&o.revision) {
        Ok(r) => r,
        Err(e) => return e,
    };
    // The expectations (catalogue column, inherited through `base`, plus
    // the revision's `breaks` / `fixes`); also rejects a catalogue entry
    // naming an unknown property.
    let exps = match Expectations::of(&rev) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    let own = exps.is_own_column();
    let from = |e: Option<&mpath_model::Expected>| e.map(|x| x.from.clone()).filter(|_| !own);
    let mut rows: Vec<Row> = Vec::new();
    let mut reports: Vec<(Scenario, Report)> = Vec::new();
    let mut unexpected = false;
    let mut bound = false;
    match &o.scenario {
        None => {
            let pb = progress_bar(format!("model-checking the review catalogue on {}", o.revision));
            pb.enable_steady_tick(std::time::Duration::from_millis(200));
            let res = run_catalogue(&rev, &o.bounds, &STOP);
            pb.finish_and_clear();
            let res = match res {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Exit::BadInput;
                }
            };
            for r in res {
                let spec = exps.pairs.iter().find(|x| x.scenario == r.scenario).map(|x| x.scenario_spec.clone()).unwrap_or_else(|| r.scenario.clone());
                let sc = match load_scenario(&spec) {
                    Ok(s) => s,
                    Err(e) => return e,
                };
                unexpected |= !r.matches_expectation && r.verdict != Verdict::BoundReached && r.verdict != Verdict::Interrupted;
                bound |= matches!(r.verdict, Verdict::BoundReached | Verdict::Interrupted);
                let (saved, schedule) =
                    if r.verdict == Verdict::Violated { save_counterexample(&rev, &sc, &r.report, &r.property, &o.save_dir) } else { (None, None) };
                let e = exps.get(&r.scenario, &r.property);
                if !reports.iter().any(|(_, x)| x.scenario == r.report.scenario) {
                    reports.push((sc, r.report.clone()));
                }
                rows.push(Row {
                    id: r.entry.as_ref().map(|e| e.id),
                    scenario: r.scenario.clone(),
                    property: r.property.clone(),
                    expected: r.expected,
                    verdict: r.verdict,
                    as_expected: r.matches_expectation,
                    expected_from: from(e),
                    note: finding(r.verdict, e),
                    counterexample_trace: saved,
                    counterexample_schedule: schedule,
                });
            }
        }
        Some(name) => {
            if let Some(p) = o.property.as_deref().filter(|p| !mpath_model::property::names().contains(p)) {
                eprintln!("error: --property {p}: unknown property (known: {})", mpath_model::property::names().join(", "));
                return Exit::BadInput;
            }
            let sc = match load_scenario(name) {
                Ok(s) => s,
                Err(e) => return e,
            };
            let pb = progress_bar(format!("checking {name} on {}", o.revision));
            let tick = |p: &mpath_model::Progress| {
                pb.set_message(format!("checking {name} on {}: {} states, {} unique, depth {}", o.revision, p.states, p.unique_states, p.max_depth));
                pb.tick();
            };
            let rep = check_with(&rev, &sc, &props, &o.bounds, Some(&tick), &STOP);
            pb.finish_and_clear();
            let rep = match rep {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Exit::BadInput;
                }
            };
            let entries = catalogue();
            for p in &rep.properties {
                let entry = entries.iter().find(|e| e.scenario == rep.scenario && e.property == p.property);
                let e = exps.get(&rep.scenario, &p.property);
                let expected = e.map(|x| x.expect);
                let ok = as_expected(p.verdict, expected);
                // A verdict against the expectation is a finding both ways:
                // an unexpected violation, and an expected violation that
                // no longer happens (the race was fixed or the model lost it).
                unexpected |= !ok && matches!(p.verdict, Verdict::Violated | Verdict::Holds);
                bound |= matches!(p.verdict, Verdict::BoundReached | Verdict::Interrupted);
                let (saved, schedule) =
                    if p.verdict == Verdict::Violated { save_counterexample(&rev, &sc, &rep, &p.property, &o.save_dir) } else { (None, None) };
                rows.push(Row {
                    id: entry.map(|e| e.id),
                    scenario: rep.scenario.clone(),
                    property: p.property.clone(),
                    expected,
                    verdict: p.verdict,
                    as_expected: ok,
                    expected_from: from(e),
                    note: finding(p.verdict, e),
                    counterexample_trace: saved,
                    counterexample_schedule: schedule,
                });
            }
            reports.push((sc, rep));
        }
    }
    saved.extend(rows.iter().filter_map(|r| r.counterexample_schedule.clone()));
    let table_rows: Vec<TableRow> = rows
        .iter()
        .map(|r| {
            let rep = reports.iter().map(|(_, x)| x).find(|x| x.scenario == r.scenario);
            let (states, unique, depth, ms, ups) =
                rep.map(|x| (x.states, x.unique_states, x.max_depth, x.elapsed_ms, x.unique_states_per_sec)).unwrap_or_default();
            TableRow {
                id: r.id,
                scenario: r.scenario.clone(),
                property: r.property.clone(),
                expected: r.expected,
                verdict: r.verdict,
                as_expected: r.as_expected,
                note: r.note.clone(),
                states,
                unique,
                depth,
                ms: ms as u128,
                unique_per_sec: ups,
            }
        })
        .collect();
    let lane = LaneOpts { width: o.width, source: rev.source.clone(), tree: o.kernel_src.clone() };
    if o.json {
        let out = serde_json::json!({
            "revision": o.revision,
            "rows": rows,
            "reports": reports.iter().map(|(_, r)| r).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else if o.format != Format::Text {
        match (&o.scenario, reports.first()) {
            (Some(_), Some((sc, rep))) => {
                let f = finding_of(o, &rev, sc, rep, &table_rows, &reports);
                print!("{}", if o.format == Format::Email { verdicts::finding_email(&f) } else { verdicts::finding_markdown(&f, o.width) });
            }
            _ => print!(
                "{}",
                if o.format == Format::Email {
                    verdicts::catalogue_email(&o.revision, &table_rows, &catalogue())
                } else {
                    verdicts::catalogue_markdown(&o.revision, &table_rows)
                }
            ),
        }
    } else {
        print!("{}", verdicts::table(&table_rows));
        if !own {
            match &exps.column {
                Some(c) => println!(
                    "expected verdicts: catalogue column {c} ({}){}",
                    exps.derivation,
                    if exps.pairs.iter().any(|p| p.expected.from != *c) { ", then the declared breaks / fixes" } else { "" }
                ),
                None => println!("expected verdicts: no catalogue column ({}): only the declared breaks / fixes", exps.derivation),
            }
        }
        if let Some((_, r)) = reports.first() {
            println!("checker: {}", r.checker_mode);
        }
        let show_all = o.scenario.is_some();
        for (sc, rep) in &reports {
            if show_all {
                swimlanes(&rev, sc, rep, &lane, o.property.as_deref());
                continue;
            }
            for r in rows.iter().filter(|r| r.scenario == rep.scenario && r.verdict == Verdict::Violated) {
                swimlanes(&rev, sc, rep, &lane, Some(r.property.as_str()));
            }
        }
        for r in &rows {
            if let Some(t) = &r.counterexample_trace {
                println!("saved counterexample trace: {t}");
            }
            if let Some(s) = &r.counterexample_schedule {
                println!("saved counterexample schedule: {s}");
            }
        }
    }
    if STOP.load(Ordering::SeqCst) {
        Exit::Interrupted
    } else if unexpected {
        Exit::Finding
    } else if bound {
        Exit::Bound
    } else {
        Exit::Ok
    }
}

/// `mpath-verify diff R1 R2`.
pub fn cmd_diff(r1: &str, r2: &str, bounds: &Bounds, json: bool) -> Exit {
    install_ctrlc();
    let (a, b) = match (load_rev(r1), load_rev(r2)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let pb = progress_bar(format!("running every scenario on {r1} and {r2}"));
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    let rows = mpath_model::diff(&a, &b, bounds, &STOP);
    pb.finish_and_clear();
    let rows = match rows {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else if rows.is_empty() {
        println!("no verdict changes between {r1} and {r2}");
    } else {
        println!("{:<18} {:<30} {:<14} {:<14}", "scenario", "property", r1, r2);
        for r in &rows {
            println!("{:<18} {:<30} {:<14} {:<14}", r.scenario, r.property, r.left.to_string(), r.right.to_string());
        }
    }
    if STOP.load(Ordering::SeqCst) {
        Exit::Interrupted
    } else {
        Exit::Ok
    }
}

/// `mpath-verify explore SCENARIO`.
pub fn cmd_explore(revision: &str, scenario: &str, addr: &str) -> Exit {
    let rev = match load_rev(revision) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let sc = match load_scenario(scenario) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if !addr.starts_with("127.0.0.1:") && !addr.starts_with("localhost:") {
        eprintln!("error: --addr {addr}: the Explorer only listens on 127.0.0.1");
        return Exit::BadInput;
    }
    println!("Explorer for {scenario} on {revision}: http://{addr}/ (Ctrl-C to stop)");
    match mpath_model::explore(&rev, &sc, addr) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("error: {e}");
            Exit::BadInput
        }
    }
}

/// `model-replay TRACE...`: the traces replayed sequentially on the
/// model's step programs (`mpath_model::replay`). Prints one line per trace
/// (PASS / DIVERGED / GAP / BAD-INPUT), then the summary with the gaps
/// counted by reason. Exit 0 when nothing diverged (gaps are the model's
/// documented limits, not findings), 1 on a divergence, 2 on bad input.
pub fn cmd_model_replay(traces: &[String], json: bool) -> Exit {
    use mpath_model::replay::{replay, CorpusReport, SeqOutcome, SeqTrace};
    let mut report = CorpusReport::default();
    let mut bad = 0;
    for f in traces {
        let t = match crate::parse::parse_file(f) {
            Ok(t) => t,
            Err(e) => {
                bad += 1;
                if json {
                    println!("{}", serde_json::json!({"file": e.file, "result": "bad_input", "line": e.line, "column": e.column, "reason": e.reason}));
                } else {
                    println!("BAD-INPUT {e}");
                }
                continue;
            }
        };
        let st = SeqTrace { file: t.file.clone(), header: t.header, lines: t.lines };
        let o = replay(&st);
        if json {
            let v = match &o {
                SeqOutcome::Pass { steps, checks } => serde_json::json!({"file": st.file, "result": "pass", "steps": steps, "checks": checks}),
                SeqOutcome::Diverged(d) => {
                    serde_json::json!({"file": st.file, "result": "diverged", "line": d.line, "step": d.step, "op": d.op, "field": d.field, "expected": d.expected, "actual": d.actual})
                }
                SeqOutcome::Gap(g) => serde_json::json!({"file": st.file, "result": "gap", "line": g.line, "reason": g.reason}),
            };
            println!("{v}");
        } else {
            println!("{}", o.render(&st.file));
        }
        report.outcomes.push((st.file, o));
    }
    if json {
        let gaps: serde_json::Map<String, serde_json::Value> = report.gaps().into_iter().map(|(k, v)| (k, v.into())).collect();
        println!(
            "{}",
            serde_json::json!({"summary": {"traces": report.outcomes.len(), "passed": report.passed(), "checks": report.checks(), "diverged": report.diverged().len(), "bad_input": bad, "gaps": gaps}})
        );
    } else {
        print!("{}", report.summary());
        if bad > 0 {
            println!("{bad} bad input");
        }
    }
    if bad > 0 {
        Exit::BadInput
    } else if !report.diverged().is_empty() {
        Exit::Finding
    } else {
        Exit::Ok
    }
}

/// `sweep`: the options of a run.
pub struct SweepOpts {
    pub vocabulary: String,
    pub output: Option<String>,
    pub shard: String,
    pub resume: bool,
    pub width: usize,
    pub expect: Option<String>,
    /// Print only the group summary (no swimlanes).
    pub summary_only: bool,
}

fn sweep_bad(e: impl std::fmt::Display) -> Exit {
    eprintln!("error: {}", e.to_string().replace('\n', " "));
    Exit::BadInput
}

/// `mpath-verify sweep VOCAB`: enumerate, check, write the results file,
/// print the report.
pub fn cmd_sweep(o: &SweepOpts) -> Exit {
    use mpath_model::sweep;
    let shard = match sweep::Shard::parse(&o.shard) {
        Ok(s) => s,
        Err(e) => return sweep_bad(format!("--shard: {e}")),
    };
    let plan = match sweep::Plan::load(&o.vocabulary) {
        Ok(p) => p,
        Err(e) => return sweep_bad(e),
    };
    let out = o.output.clone().unwrap_or_else(|| {
        let stem = Path::new(&o.vocabulary).file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| "sweep".into());
        if shard == sweep::Shard::ALL {
            format!("out/sweep/{stem}.jsonl")
        } else {
            format!("out/sweep/{stem}-{}-of-{}.jsonl", shard.i, shard.n)
        }
    });
    let total = (0..plan.len()).filter(|&i| shard.takes(i)).count();
    eprintln!(
        "sweep {}: {} revisions x {} topologies, {} scenarios enumerated, {} thread-permutation + {} path-renaming duplicates skipped, {} to check; shard {shard}: {total}; results -> {out}",
        plan.vocabulary.name,
        plan.vocabulary.revisions.len(),
        plan.vocabulary.topologies.len(),
        plan.enumerated,
        plan.thread_duplicates,
        plan.path_duplicates,
        plan.len()
    );
    let pb = indicatif::ProgressBar::with_draw_target(Some(total as u64), indicatif::ProgressDrawTarget::stderr());
    pb.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed}<{eta}] {msg}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // Not a terminal (a batch job's log): a plain line every 5 %.
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let step = (total / 20).max(1);
    let t0 = std::time::Instant::now();
    let progress = |done: usize, total: usize, what: &str| {
        pb.set_position(done as u64);
        pb.set_message(what.to_string());
        if plain && done > 0 && (done.is_multiple_of(step) || done == total) {
            eprintln!("sweep: {done}/{total} scenarios ({} s)", t0.elapsed().as_secs());
        }
    };
    let stats = match sweep::run(&plan, shard, &out, o.resume, &STOP, &progress) {
        Ok(s) => s,
        Err(sweep::SweepRunError::Input(e)) => {
            pb.finish_and_clear();
            return sweep_bad(e);
        }
        Err(e) => {
            pb.finish_and_clear();
            eprintln!("error: {e}");
            return Exit::BadInput;
        }
    };
    pb.finish_and_clear();
    eprintln!(
        "sweep: {} checked now, {} already in {out}{}",
        stats.checked,
        stats.resumed,
        if stats.interrupted { "; interrupted: rerun with --resume to go on" } else { "" }
    );
    if stats.interrupted {
        return Exit::Interrupted;
    }
    sweep_report_file(&out, o.width, o.expect.as_deref(), o.summary_only)
}

/// `mpath-verify sweep merge A B ... -o OUT`, then the report.
pub fn cmd_sweep_merge(files: &[String], output: &str, width: usize, expect: Option<&str>, summary_only: bool) -> Exit {
    use mpath_model::sweep;
    let (h, lines) = match sweep::merge(files) {
        Ok(x) => x,
        Err(e) => return sweep_bad(e),
    };
    if let Err(e) = sweep::write_results(output, &h, &lines) {
        return sweep_bad(format!("{output}: {e}"));
    }
    eprintln!("sweep merge: {} files, {} scenarios, shard {} -> {output}", files.len(), lines.len(), h.shard);
    sweep_report_file(output, width, expect, summary_only)
}

/// The report of a results file; with `expect`, the group summary is
/// compared with that file (`MPV_BLESS=1` rewrites it).
pub fn sweep_report_file(file: &str, width: usize, expect: Option<&str>, summary_only: bool) -> Exit {
    use mpath_model::sweep;
    let r = match sweep::read_results(file) {
        Ok(r) => r,
        Err(e) => return sweep_bad(e),
    };
    if r.truncated {
        eprintln!("note: {file}: the last line is incomplete and is left out (resume the run with --resume)");
    }
    let summary = sweep::summary(&r.header, &r.lines);
    if summary_only {
        print!("{summary}");
    } else {
        match sweep::report(&r.header, &r.lines, width, &STOP) {
            Ok(t) => print!("{t}"),
            Err(e) => return sweep_bad(e),
        }
    }
    if let Some(x) = expect {
        if std::env::var("MPV_BLESS").is_ok_and(|v| v == "1") {
            if let Err(e) = std::fs::write(x, &summary) {
                return sweep_bad(format!("{x}: {e}"));
            }
            eprintln!("sweep: wrote the group summary to {x} (MPV_BLESS=1)");
            return Exit::Ok;
        }
        let want = match std::fs::read_to_string(x) {
            Ok(t) => t,
            Err(e) => return sweep_bad(format!("{x}:1:1: cannot read: {e}")),
        };
        if want != summary {
            eprintln!("sweep: the group summary differs from {x} (regenerate with MPV_BLESS=1 after reading the diff):");
            for (a, b) in want.lines().zip(summary.lines()).filter(|(a, b)| a != b).take(10) {
                eprintln!("  expected: {a}\n  got:      {b}");
            }
            if want.lines().count() != summary.lines().count() {
                eprintln!("  expected {} lines, got {}", want.lines().count(), summary.lines().count());
            }
            return Exit::Finding;
        }
        eprintln!("sweep: the group summary matches {x}");
        return Exit::Ok;
    }
    let groups = sweep::groups(&r.lines);
    if groups.iter().any(|g| g.catalogued.is_none()) {
        Exit::Finding
    } else if r.lines.iter().any(|l| l.bound_reached()) {
        Exit::Bound
    } else {
        Exit::Ok
    }
}
