//! `mpath-verify`: the one CLI. It parses arguments and prints; the work
//! lives in the library crates. One module per family of subcommands:
//!
//! - [`replay`]: `replay`, `model-replay`, `gen`, `revisions`, `catalogue list`;
//! - [`check`]: `check` (with `--confirm-in-kernel`);
//! - [`model`]: `diff`, `explore` and what the model commands share;
//! - [`sweep`]: `sweep`, `sweep merge`, `sweep report`;
//! - [`kunit`]: `kunit export|run|race|drift|check`;
//! - [`series`]: `series prepare`;
//! - [`bench`]: `bench run|report|kernel|workloads|kunit-gen|kunit-parse`;
//! - [`shuttle`]: `shuttle ...` (the companion binary);
//! - [`exit`]: the exit codes and where library errors become them.

mod args;
mod bench;
mod check;
mod exit;
mod kunit;
mod model;
mod replay;
mod series;
mod shuttle;
mod sweep;

use args::{BoundArgs, SweepReportArgs};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "mpath-verify", version, about = "Verify the Linux libmultipath path-selection code: reference, model, kernel conformance, benchmarks")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Model-check the review catalogue (default) or one scenario on a revision.
    Check(check::CheckArgs),
    /// The review catalogue: `list` prints each claim, who raised it where, and
    /// its expected verdicts.
    Catalogue {
        #[command(subcommand)]
        cmd: replay::CatalogueCmd,
    },
    /// Run the catalogue and every scenario on two revisions; print only changed verdicts.
    Diff {
        r1: String,
        r2: String,
        #[command(flatten)]
        bounds: BoundArgs,
        #[arg(long)]
        json: bool,
    },
    /// Search the space of small scenarios for violations the catalogue does
    /// not list: enumerate a vocabulary (model/sweep/*.json), check every
    /// scenario, write one JSON line per scenario, print the violations
    /// grouped by root cause. Exit 0 nothing uncatalogued, 1 uncatalogued
    /// violations (with --expect: the summary differs), 2 bad input, 6 a
    /// bound reached, 130 interrupted (rerun with --resume).
    #[command(args_conflicts_with_subcommands = true)]
    Sweep {
        #[command(subcommand)]
        cmd: Option<sweep::SweepCmd>,
        /// The vocabulary file.
        vocabulary: Option<String>,
        /// Results file [default: out/sweep/<stem>.jsonl, or <stem>-<i>-of-<n>.jsonl with --shard].
        #[arg(short = 'o', long)]
        output: Option<String>,
        /// Check shard i of n (1-based i: the scenarios whose 0-based index
        /// mod n is i-1), e.g. --shard $SLURM_ARRAY_TASK_ID/16.
        #[arg(long, default_value = "1/1")]
        shard: String,
        /// Go on from the results file: scenarios already in it are skipped,
        /// an incomplete last line is rewritten.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        report: SweepReportArgs,
    },
    /// Serve stateright's Explorer for a scenario on 127.0.0.1.
    Explore {
        scenario: String,
        #[arg(long, default_value = "v2")]
        revision: String,
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: String,
    },
    /// Replay traces against the reference; exit 0 all pass, 1 divergence, 2 bad input.
    Replay {
        #[arg(required = true)]
        traces: Vec<String>,
        /// One JSON object per trace on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Replay traces sequentially on the model's step programs (the corpus's
    /// third execution); gaps counted by reason. Exit 0 no divergence, 1 divergence, 2 bad input.
    ModelReplay {
        #[arg(required = true)]
        traces: Vec<String>,
        /// One JSON object per trace, then the summary.
        #[arg(long)]
        json: bool,
    },
    /// Generate a random valid trace with expectations from the reference.
    Gen(replay::GenArgs),
    /// List the revisions and mutants with their differences from v2.
    Revisions {
        #[arg(long)]
        json: bool,
    },
    /// Shuttle schedules on the reference: `replay FILE`, `run SCENARIO`, `list`
    /// (runs the companion binary mpath-verify-shuttle, built with the shuttle feature).
    #[command(disable_help_flag = true)]
    Shuttle {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Benchmarks: join criterion and kernel results, or run the kernel side.
    Bench {
        #[command(subcommand)]
        cmd: bench::BenchCmd,
    },
    /// Export traces as KUnit suites, run them on a kernel, check KTAP.
    Kunit {
        #[command(subcommand)]
        cmd: kunit::KunitCmd,
    },
    /// Kernel trees carrying a libmultipath series.
    Series {
        #[command(subcommand)]
        cmd: series::SeriesCmd,
    },
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`mpath-verify check | head`) like any
    // Unix filter, instead of panicking inside println!.
    // SAFETY: restoring the default disposition of one signal at start-up,
    // before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let code = match Cli::parse().cmd {
        Cmd::Replay { traces, json } => replay::cmd_replay(&traces, json),
        Cmd::ModelReplay { traces, json } => replay::cmd_model_replay(&traces, json),
        Cmd::Gen(a) => replay::cmd_gen(a),
        Cmd::Revisions { json } => replay::cmd_revisions(json),
        Cmd::Catalogue { cmd } => replay::cmd_catalogue(cmd),
        Cmd::Check(a) => check::cmd_check(a),
        Cmd::Diff { r1, r2, bounds, json } => model::cmd_diff(&r1, &r2, &bounds.bounds(), json),
        Cmd::Sweep { cmd, vocabulary, output, shard, resume, report } => sweep::cmd(cmd, vocabulary, output, shard, resume, report),
        Cmd::Explore { scenario, revision, addr } => model::cmd_explore(&revision, &scenario, &addr),
        Cmd::Kunit { cmd } => kunit::cmd_kunit(cmd),
        Cmd::Shuttle { args } => shuttle::cmd_shuttle(&args),
        Cmd::Bench { cmd } => bench::cmd_bench(cmd),
        Cmd::Series { cmd } => series::cmd_series(cmd),
    };
    exit::code(code)
}
