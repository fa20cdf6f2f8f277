//! `check`: the review catalogue (default) or one scenario on a revision,
//! model-checked; a table and swimlanes (or an email / Markdown report, or
//! JSON), counterexamples saved as replayable traces, each with its
//! schedule (the interleaving) beside it; with `--confirm-in-kernel`, the
//! schedules replayed in a kernel tree's own C.

use crate::args::BoundArgs;
use crate::exit::{self, Exit};
use crate::model::{install_ctrlc, load_rev, load_scenario, progress_bar, STOP};
use mpath_conformance::verdicts::{self, Finding, Fix, Format, TableRow};
use mpath_model::render::{render_counterexample_with, LaneOpts};
use mpath_model::{
    as_expected, catalogue, check, check_with, counterexample_to_trace, finding, run_catalogue, Bounds, Expect, Expectations, PropertySet, Report,
    RevisionSpec, Scenario, Schedule, Verdict,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// A shipped revision (v1, v2, v3, nvme-6.12, v2-fixed, mut-*) or a revision file.
    #[arg(long, default_value = "v2")]
    pub revision: String,
    /// A shipped scenario name or a scenario file.
    #[arg(long, conflicts_with = "catalogue")]
    pub scenario: Option<String>,
    /// Check every catalogue entry (the default when no scenario is given).
    #[arg(long)]
    pub catalogue: bool,
    /// A properties file (the predicate language of model/README-model.md,
    /// "Properties as data"): its properties are checked with the
    /// built-in ones and reported the same way. Repeatable.
    #[arg(long, value_name = "FILE", requires = "scenario")]
    pub properties: Vec<String>,
    #[command(flatten)]
    pub bounds: BoundArgs,
    /// Where counterexample traces are saved.
    #[arg(long, default_value = "out/counterexamples")]
    pub save_dir: String,
    /// Swimlane width in columns (cells wrap inside it) [default: the
    /// terminal's width; 100 when stdout is not a terminal].
    #[arg(long)]
    pub width: Option<usize>,
    /// text (table and swimlanes), email (a 72-column plain-text report
    /// to paste into a mailing-list reply) or markdown (for an issue
    /// tracker). --json overrides it.
    #[arg(long, default_value = "text", value_parser = ["text", "email", "markdown"])]
    pub format: String,
    /// With --scenario: show only this property's counterexample (the
    /// swimlane, or the one finding an email / Markdown report is about).
    #[arg(long, requires = "scenario")]
    pub property: Option<String>,
    /// A kernel tree for the revision's names: each swimlane function is
    /// followed by its definition's file:line in that tree.
    #[arg(long, value_name = "TREE")]
    pub kernel_src: Option<String>,
    /// Replay every violation found as a forced interleaving in this
    /// kernel tree's own C (`kunit race`, UML, one boot); schedules the
    /// race engine cannot drive are listed with the reason.
    #[arg(long, value_name = "TREE")]
    pub confirm_in_kernel: Option<String>,
    /// kbuild output directory for --confirm-in-kernel.
    #[arg(long, requires = "confirm_in_kernel")]
    pub build_dir: Option<String>,
    /// Architecture for --confirm-in-kernel: um, or x86_64 (QEMU, KASAN:
    /// the only build that observes a use-after-free).
    #[arg(long, default_value = "um", value_parser = ["um", "x86_64"], requires = "confirm_in_kernel")]
    pub arch: String,
    #[arg(long)]
    pub json: bool,
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
const RACE_FIXES: &[(&str, &str)] =
    &[("conformance/kunit/race/fix-612-rr-removing.json", include_str!("../../conformance/kunit/race/fix-612-rr-removing.json"))];

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

/// `mpath-verify check`: the options, then the check; with
/// `--confirm-in-kernel`, the saved schedules replayed in the tree's C.
pub fn cmd_check(a: CheckArgs) -> Exit {
    let arch = crate::kunit::arch_of(&a.arch);
    let format = Format::parse(&a.format).unwrap_or(Format::Text);
    let opts = CheckOpts {
        revision: a.revision,
        scenario: a.scenario,
        properties: a.properties,
        bounds: a.bounds.bounds(),
        json: a.json,
        save_dir: a.save_dir.into(),
        width: verdicts::lane_width(a.width),
        format,
        kernel_src: a.kernel_src.map(Into::into),
        property: a.property,
    };
    let mut saved = Vec::new();
    let exit = check_inner(&opts, &mut saved);
    let Some(tree) = a.confirm_in_kernel else { return exit };
    if exit == Exit::BadInput || exit == Exit::Interrupted {
        return exit;
    }
    let build = a.build_dir.map(PathBuf::from).unwrap_or_else(|| crate::kunit::default_build_dir("nvme-6.12", arch));
    let confirmed = crate::kunit::confirm_in_kernel_c(&saved, Path::new(&tree), &build, arch, opts.json);
    exit::worst(exit, confirmed)
}

fn load_properties(files: &[String]) -> Result<PropertySet, Exit> {
    let mut set = PropertySet::default();
    for f in files {
        let r = PropertySet::load(f).and_then(|p| set.extend(p));
        if let Err(e) = r {
            return Err(exit::report(&e));
        }
    }
    Ok(set)
}

/// What a check found: one row per (scenario, property), the scenarios'
/// reports, and whether a verdict went against its expectation or a bound
/// was reached.
#[derive(Default)]
struct Found {
    rows: Vec<Row>,
    reports: Vec<(Scenario, Report)>,
    unexpected: bool,
    bound: bool,
}

/// Where `expected` comes from, when it is not the revision's own column.
fn expected_from(e: Option<&mpath_model::Expected>, own: bool) -> Option<String> {
    e.map(|x| x.from.clone()).filter(|_| !own)
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
        Err(e) => return exit::report(&e),
    };
    let found = match &o.scenario {
        None => check_catalogue(o, &rev, &exps),
        Some(name) => check_scenario(o, name, &rev, &exps, &props),
    };
    let found = match found {
        Ok(f) => f,
        Err(e) => return e,
    };
    saved.extend(found.rows.iter().filter_map(|r| r.counterexample_schedule.clone()));
    print_check(o, &rev, &exps, &found);
    if STOP.load(Ordering::SeqCst) {
        Exit::Interrupted
    } else if found.unexpected {
        Exit::Finding
    } else if found.bound {
        Exit::Bound
    } else {
        Exit::Ok
    }
}

/// Every catalogue entry on `rev`.
fn check_catalogue(o: &CheckOpts, rev: &RevisionSpec, exps: &Expectations) -> Result<Found, Exit> {
    let own = exps.is_own_column();
    let mut f = Found::default();
    let pb = progress_bar(format!("model-checking the review catalogue on {}", o.revision));
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    let res = run_catalogue(rev, &o.bounds, &STOP);
    pb.finish_and_clear();
    let res = match res {
        Ok(r) => r,
        Err(e) => return Err(exit::report(&e)),
    };
    for r in res {
        let spec = exps.pairs.iter().find(|x| x.scenario == r.scenario).map(|x| x.scenario_spec.clone()).unwrap_or_else(|| r.scenario.clone());
        let sc = load_scenario(&spec)?;
        f.unexpected |= !r.matches_expectation && r.verdict != Verdict::BoundReached && r.verdict != Verdict::Interrupted;
        f.bound |= matches!(r.verdict, Verdict::BoundReached | Verdict::Interrupted);
        let (saved, schedule) = if r.verdict == Verdict::Violated { save_counterexample(rev, &sc, &r.report, &r.property, &o.save_dir) } else { (None, None) };
        let e = exps.get(&r.scenario, &r.property);
        if !f.reports.iter().any(|(_, x)| x.scenario == r.report.scenario) {
            f.reports.push((sc, r.report.clone()));
        }
        f.rows.push(Row {
            id: r.entry.as_ref().map(|e| e.id),
            scenario: r.scenario.clone(),
            property: r.property.clone(),
            expected: r.expected,
            verdict: r.verdict,
            as_expected: r.matches_expectation,
            expected_from: expected_from(e, own),
            note: finding(r.verdict, e),
            counterexample_trace: saved,
            counterexample_schedule: schedule,
        });
    }
    Ok(f)
}

/// One scenario on `rev`, with the data properties of `props`.
fn check_scenario(o: &CheckOpts, name: &str, rev: &RevisionSpec, exps: &Expectations, props: &PropertySet) -> Result<Found, Exit> {
    let own = exps.is_own_column();
    let mut f = Found::default();
    if let Some(p) = o.property.as_deref().filter(|p| !mpath_model::property::names().contains(p)) {
        eprintln!("error: --property {p}: unknown property (known: {})", mpath_model::property::names().join(", "));
        return Err(Exit::BadInput);
    }
    let sc = load_scenario(name)?;
    let pb = progress_bar(format!("checking {name} on {}", o.revision));
    let tick = |p: &mpath_model::Progress| {
        pb.set_message(format!("checking {name} on {}: {} states, {} unique, depth {}", o.revision, p.states, p.unique_states, p.max_depth));
        pb.tick();
    };
    let rep = check_with(rev, &sc, props, &o.bounds, Some(&tick), &STOP);
    pb.finish_and_clear();
    let rep = match rep {
        Ok(r) => r,
        Err(e) => return Err(exit::report(&e)),
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
        f.unexpected |= !ok && matches!(p.verdict, Verdict::Violated | Verdict::Holds);
        f.bound |= matches!(p.verdict, Verdict::BoundReached | Verdict::Interrupted);
        let (saved, schedule) = if p.verdict == Verdict::Violated { save_counterexample(rev, &sc, &rep, &p.property, &o.save_dir) } else { (None, None) };
        f.rows.push(Row {
            id: entry.map(|e| e.id),
            scenario: rep.scenario.clone(),
            property: p.property.clone(),
            expected,
            verdict: p.verdict,
            as_expected: ok,
            expected_from: expected_from(e, own),
            note: finding(p.verdict, e),
            counterexample_trace: saved,
            counterexample_schedule: schedule,
        });
    }
    f.reports.push((sc, rep));
    Ok(f)
}

/// The rows as the verdict table shows them (with their scenario's figures).
fn table_rows(f: &Found) -> Vec<TableRow> {
    f.rows
        .iter()
        .map(|r| {
            let rep = f.reports.iter().map(|(_, x)| x).find(|x| x.scenario == r.scenario);
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
        .collect()
}

/// JSON, an email / Markdown report, or the table and swimlanes.
fn print_check(o: &CheckOpts, rev: &RevisionSpec, exps: &Expectations, f: &Found) {
    let (rows, reports) = (&f.rows, &f.reports);
    let table_rows = table_rows(f);
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
                let f = finding_of(o, rev, sc, rep, &table_rows, reports);
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
        print_text_tail(o, rev, exps, f);
    }
}

/// After the table: where the expectations come from, the checker, the
/// swimlanes, the files saved.
fn print_text_tail(o: &CheckOpts, rev: &RevisionSpec, exps: &Expectations, f: &Found) {
    let (rows, reports) = (&f.rows, &f.reports);
    let lane = LaneOpts { width: o.width, source: rev.source.clone(), tree: o.kernel_src.clone() };
    if !exps.is_own_column() {
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
    for (sc, rep) in reports {
        if show_all {
            swimlanes(rev, sc, rep, &lane, o.property.as_deref());
            continue;
        }
        for r in rows.iter().filter(|r| r.scenario == rep.scenario && r.verdict == Verdict::Violated) {
            swimlanes(rev, sc, rep, &lane, Some(r.property.as_str()));
        }
    }
    for r in rows {
        if let Some(t) = &r.counterexample_trace {
            println!("saved counterexample trace: {t}");
        }
        if let Some(s) = &r.counterexample_schedule {
            println!("saved counterexample schedule: {s}");
        }
    }
}
