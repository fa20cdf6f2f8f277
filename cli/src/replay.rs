//! The corpus and the registries: `replay` (traces on the reference),
//! `model-replay` (traces on the model's step programs), `gen` (a random
//! trace), `revisions` and `catalogue list`.

use crate::args::Driver;
use crate::exit::{self, Exit};
use clap::Subcommand;
use mpath_conformance::{gen, parse, replay};
use mpath_reference::Profile;

#[derive(Subcommand)]
pub enum CatalogueCmd {
    /// Each entry: its claim in one line, who raised it and where (patch
    /// subject, Message-ID), the scenario and property, and the expected
    /// verdict per revision in words. Nothing is checked.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct GenArgs {
    #[arg(long)]
    seed: u64,
    #[arg(long)]
    ops: usize,
    #[arg(long, default_value = "v2")]
    revision: String,
    #[arg(long, value_enum, default_value = "nvme")]
    driver: Driver,
    /// NUMA nodes (default chosen by the seed, 1..=3).
    #[arg(long)]
    nodes: Option<usize>,
    /// Initial paths (default chosen by the seed, 1..=4).
    #[arg(long)]
    paths: Option<usize>,
    /// A trace the nvme-6.12 KUnit backend can drive (revision nvme-6.12, node 0).
    #[arg(long, conflicts_with = "lib")]
    kernel: bool,
    /// A trace the libmultipath KUnit backend can drive (revision v2, node 0;
    /// with --driver-ops, --revision v1 or v2).
    #[arg(long)]
    lib: bool,
    /// With --lib: also the driver's side (path arrival and removal, ANA
    /// updates, sysfs links, delayed removal) on a real head gendisk.
    #[arg(long, requires = "lib")]
    driver_ops: bool,
    #[arg(short = 'o', long)]
    output: String,
}

/// `gen`: a random valid trace with expectations from the reference.
pub fn cmd_gen(a: GenArgs) -> Exit {
    let GenArgs { seed, ops, revision, driver, nodes, paths, kernel, lib, driver_ops, output } = a;
    let o = gen::GenOpts { seed, ops, revision, driver: driver.into(), nodes, paths };
    let text = if kernel {
        gen::generate_kernel_numa(seed, ops, paths, nodes.unwrap_or(1))
    } else if lib && driver_ops {
        gen::generate_lib_driver_rev(seed, ops, paths, &o.revision)
    } else if lib {
        gen::generate_lib(seed, ops, paths)
    } else {
        gen::generate(&o)
    };
    match text {
        Ok(text) => match std::fs::write(&output, text) {
            Ok(()) => {
                eprintln!("wrote {output} (seed {seed}, {ops} ops)");
                Exit::Ok
            }
            Err(e) => {
                eprintln!("error: {output}: cannot write: {e}");
                Exit::BadInput
            }
        },
        Err(e) => exit::fail(format!("gen: {e}"), Exit::from(&e)),
    }
}

/// `catalogue list`.
pub fn cmd_catalogue(cmd: CatalogueCmd) -> Exit {
    let CatalogueCmd::List { json } = cmd;
    let entries = mpath_model::catalogue();
    if json {
        println!("{}", serde_json::to_string_pretty(&mpath_conformance::verdicts::catalogue_json(&entries)).unwrap_or_default());
    } else {
        print!("{}", mpath_conformance::verdicts::catalogue_list(&entries));
    }
    Exit::Ok
}

/// `replay TRACE...`: each trace on the reference; PASS / DIVERGED / BAD-INPUT.
pub fn cmd_replay(traces: &[String], json: bool) -> Exit {
    let mut worst = Exit::Ok;
    let (mut pass, mut div, mut bad) = (0, 0, 0);
    for f in traces {
        let res = parse::parse_file(f).and_then(|t| replay::replay(&t));
        match res {
            Ok(replay::Outcome::Pass { file, steps, checks }) => {
                pass += 1;
                if json {
                    println!("{}", serde_json::json!({"file": file, "result": "pass", "steps": steps, "checks": checks}));
                } else {
                    println!("PASS {file} ({steps} steps, {checks} checks)");
                }
            }
            Ok(replay::Outcome::Diverged(d)) => {
                div += 1;
                if worst == Exit::Ok {
                    worst = Exit::Finding;
                }
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"file": d.file, "result": "diverged", "line": d.line, "step": d.step, "op": d.op, "field": d.field, "expected": d.expected, "actual": d.actual})
                    );
                } else {
                    println!("DIVERGED {d}");
                }
            }
            Err(e) => {
                bad += 1;
                worst = Exit::BadInput;
                if json {
                    println!("{}", serde_json::json!({"file": e.file, "result": "bad_input", "line": e.line, "column": e.column, "reason": e.reason}));
                } else {
                    println!("BAD-INPUT {e}");
                }
            }
        }
    }
    if !json {
        eprintln!("{pass} passed, {div} diverged, {bad} bad input");
    }
    worst
}

pub fn cmd_revisions(json: bool) -> Exit {
    // One registry (model/revisions/<name>.json): the reference profile and
    // the step programs of each revision, listed with what differs from
    // its base on each side.
    let mut rows = Vec::new();
    for name in Profile::all_names() {
        let (Some(p), Ok(spec)) = (Profile::by_name(name), mpath_model::RevisionSpec::by_name(name)) else {
            eprintln!("error: revision {name}: not resolvable on both sides of the registry");
            return Exit::BadInput;
        };
        let base = Profile::base_of(name);
        let diffs = match &base {
            Some(b) => Profile::by_name(b).map(|bp| p.differences_from(&bp)).unwrap_or_default(),
            None => Vec::new(),
        };
        let funcs = mpath_model::revision::overridden_functions(name);
        rows.push((name, base, diffs, funcs, p, spec.description.clone()));
    }
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, b, d, f, p, desc)| serde_json::json!({"name": n, "base": b, "description": desc, "reference_differences": d, "step_programs_overridden": f, "profile": p}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        for (n, b, d, f, _, _) in &rows {
            match b {
                None => println!("{n}: (baseline: every profile field and step program)"),
                Some(b) => println!(
                    "{n}: base {b}; reference: {}; step programs: {}",
                    if d.is_empty() { "(same)".to_string() } else { d.join(", ") },
                    if f.is_empty() { "(same)".to_string() } else { f.join(", ") }
                ),
            }
        }
    }
    Exit::Ok
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
        let t = match parse::parse_file(f) {
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
