//! `sweep VOCABULARY`, `sweep merge`, `sweep report`: the search of the
//! space of small scenarios for violations the catalogue does not list.

use crate::args::SweepReportArgs;
use crate::exit::Exit;
use crate::model::{install_ctrlc, STOP};
use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum SweepCmd {
    /// Merge results files of one vocabulary (shards), then print the report.
    Merge {
        #[arg(required = true)]
        files: Vec<String>,
        #[arg(short = 'o', long)]
        output: String,
        #[command(flatten)]
        report: SweepReportArgs,
    },
    /// Print the report of a results file.
    Report {
        file: String,
        #[command(flatten)]
        report: SweepReportArgs,
    },
}

/// `sweep ...`: the subcommand, or a run over `vocabulary`.
pub fn cmd(cmd: Option<SweepCmd>, vocabulary: Option<String>, output: Option<String>, shard: String, resume: bool, report: SweepReportArgs) -> Exit {
    use mpath_conformance::verdicts::lane_width;
    install_ctrlc();
    match cmd {
        Some(SweepCmd::Merge { files, output, report: r }) => cmd_sweep_merge(&files, &output, lane_width(r.width), r.expect.as_deref(), r.summary),
        Some(SweepCmd::Report { file, report: r }) => sweep_report_file(&file, lane_width(r.width), r.expect.as_deref(), r.summary),
        None => match vocabulary {
            None => {
                eprintln!("error: sweep: give a vocabulary file (e.g. model/sweep/ci.json), or `sweep merge` / `sweep report`");
                Exit::BadInput
            }
            Some(v) => cmd_sweep(&SweepOpts {
                vocabulary: v,
                output,
                shard,
                resume,
                width: lane_width(report.width),
                expect: report.expect,
                summary_only: report.summary,
            }),
        },
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
