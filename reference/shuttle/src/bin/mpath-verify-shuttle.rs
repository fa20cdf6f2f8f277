//! Companion binary for `mpath-verify shuttle ...`, built with the
//! `shuttle` feature (shuttle's primitives only work inside a shuttle run,
//! so the main CLI cannot carry the feature). Usage:
//!   mpath-verify-shuttle replay FILE
//!   mpath-verify-shuttle run SCENARIO [--revision R] [--pct DEPTH] [--iters N] [--seed S]
//!   mpath-verify-shuttle list
//! Exit codes: 0 passed / reproduced as recorded, 1 failure found, 2 bad input.

use mpath_shuttle::{self as ss, Outcome, RunSpec, SchedulerKind};
use std::path::Path;
use std::process::ExitCode;

fn bad(msg: String) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("replay") => {
            let Some(f) = args.get(1) else { return bad("usage: shuttle replay FILE".into()) };
            match ss::replay_schedule(Path::new(f)) {
                Ok(o) => {
                    println!("{o}");
                    if o.failed() {
                        ExitCode::from(1)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => bad(e),
            }
        }
        Some("list") => {
            for s in ss::SCENARIOS {
                println!("{}", s.name);
            }
            ExitCode::SUCCESS
        }
        Some("run") => {
            let Some(name) = args.get(1) else { return bad("usage: shuttle run SCENARIO [--revision R] [--pct D] [--iters N] [--seed S]".into()) };
            if ss::find(name).is_none() {
                return bad(format!("unknown scenario {name:?} (see `shuttle list`)"));
            }
            let mut rev = "v2".to_string();
            let mut sched = SchedulerKind::Random;
            let mut iters = ss::iterations(5000);
            let mut seed = None;
            let mut i = 2;
            while i < args.len() {
                let v = args.get(i + 1).cloned().unwrap_or_default();
                match args[i].as_str() {
                    "--revision" => rev = v,
                    "--pct" => match v.parse() {
                        Ok(d) => sched = SchedulerKind::Pct { depth: d },
                        Err(_) => return bad(format!("--pct {v:?}: not a number")),
                    },
                    "--iters" => match v.parse() {
                        Ok(n) => iters = n,
                        Err(_) => return bad(format!("--iters {v:?}: not a number")),
                    },
                    "--seed" => match v.parse() {
                        Ok(s) => seed = Some(s),
                        Err(_) => return bad(format!("--seed {v:?}: not a number")),
                    },
                    other => return bad(format!("unknown flag {other:?}")),
                }
                i += 2;
            }
            let profile = match ss::profile(&rev) {
                Ok(p) => p,
                Err(e) => return bad(e),
            };
            let mut spec = RunSpec::new(name, profile, sched, iters);
            if let Some(s) = seed {
                spec.seed = s;
            }
            println!("shuttle: {name} on {rev}, {sched}, {iters} executions, seed {}", spec.seed);
            match ss::run(&spec) {
                Ok(o) => {
                    println!("{o}");
                    if matches!(o, Outcome::Failed(_)) {
                        ExitCode::from(1)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => bad(e),
            }
        }
        _ => bad("usage: mpath-verify shuttle (replay FILE | run SCENARIO [...] | list)".into()),
    }
}
