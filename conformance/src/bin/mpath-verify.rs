//! `mpath-verify`: the one CLI. It parses arguments and prints; the work
//! lives in the crates.

use clap::{Parser, Subcommand, ValueEnum};
use mpath_conformance::exit::Exit;
use mpath_conformance::{gen, parse, replay};
use mpath_reference::{DriverKind, Profile};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "mpath-verify", version, about = "Verify the Linux libmultipath path-selection code: reference, model, kernel conformance, benchmarks")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Driver {
    Nvme,
    Scsi,
}

impl From<Driver> for DriverKind {
    fn from(d: Driver) -> DriverKind {
        match d {
            Driver::Nvme => DriverKind::Nvme,
            Driver::Scsi => DriverKind::Scsi,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Replay traces against the reference; exit 0 all pass, 1 divergence, 2 bad input.
    Replay {
        #[arg(required = true)]
        traces: Vec<String>,
        /// One JSON object per trace on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Generate a random valid trace with expectations from the reference.
    Gen {
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
        #[arg(short = 'o', long)]
        output: String,
    },
    /// List the revisions and mutants with their differences from v2.
    Revisions {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Replay { traces, json } => cmd_replay(&traces, json),
        Cmd::Gen { seed, ops, revision, driver, nodes, paths, output } => {
            let o = gen::GenOpts { seed, ops, revision, driver: driver.into(), nodes, paths };
            match gen::generate(&o) {
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
                Err(e) => {
                    eprintln!("error: gen: {e}");
                    Exit::BadInput
                }
            }
        }
        Cmd::Revisions { json } => cmd_revisions(json),
    };
    ExitCode::from(code as i32 as u8)
}

fn cmd_replay(traces: &[String], json: bool) -> Exit {
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
                    println!("{}", serde_json::json!({"file": d.file, "result": "diverged", "line": d.line, "step": d.step, "op": d.op, "field": d.field, "expected": d.expected, "actual": d.actual}));
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

fn cmd_revisions(json: bool) -> Exit {
    let all: Vec<Profile> = Profile::NAMES.iter().chain(Profile::MUTANTS).filter_map(|n| Profile::by_name(n)).collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
    } else {
        for p in &all {
            let d = p.differences_from_v2();
            println!("{}: {}", p.name, if d.is_empty() { "(baseline)".to_string() } else { d.join("; ") });
        }
    }
    Exit::Ok
}
