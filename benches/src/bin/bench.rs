//! `bench`: the command-line face of mpath-benches.
//!
//! ```text
//! bench workloads [OUT]                         write workloads.json (default benches/workloads.json)
//! bench kunit-gen [OUT.c]                       write the KUnit bench suite (default stdout)
//! bench kunit-parse KTAP                        print the parsed mpv-bench lines as JSON
//! bench kernel --kernel-src DIR [--build DIR] [--ktap FILE]
//!                                               generate, build and run the suite under UML
//! bench run [--arch um|x86_64|um,x86_64] [--rounds N] [--max-secs S] [--kernel-src DIR] [--work DIR] [--out FILE] [--report DIR] [--readme FILE]
//!                                               kernel and reference in alternating rounds -> run.json, then the report
//! bench report [--run FILE] [--out DIR] [--readme FILE] [--check]
//!                                               run.json -> report.md, results.json, SVGs, README block
//! ```
//! Defaults: run.json in benches/report, README.md of the workspace;
//! `--check` writes nothing and exits 1 when the README's block differs.

use mpath_benches::run::{self, Arch, RunFile, RunOptions};
use mpath_benches::{kunit, report, workloads};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  bench workloads [OUT]\n  bench kunit-gen [OUT.c]\n  bench kunit-parse KTAP\n  bench kernel --kernel-src DIR [--build DIR] [--ktap FILE]\n  bench run [--arch um|x86_64|um,x86_64] [--rounds N] [--max-secs S] [--kernel-src DIR] [--work DIR] [--out FILE] [--report DIR] [--readme FILE]\n  bench report [--run FILE] [--out DIR] [--readme FILE] [--check]"
    );
    ExitCode::from(2)
}

/// `--name value` options after the subcommand (`--check` takes none).
fn opts(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(name) = a.strip_prefix("--") else { return Err(format!("unexpected argument {a:?}")) };
        if name == "check" {
            out.push((name.to_string(), String::new()));
            continue;
        }
        let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
        out.push((name.to_string(), v.clone()));
    }
    Ok(out)
}

fn get(o: &[(String, String)], k: &str) -> Option<PathBuf> {
    o.iter().rev().find(|(n, _)| n == k).map(|(_, v)| PathBuf::from(v))
}

/// `bench run`'s options, with their defaults.
fn run_options(o: &[(String, String)]) -> Result<RunOptions, String> {
    let arches = Arch::parse_list(&o.iter().rev().find(|(k, _)| k == "arch").map(|(_, v)| v.clone()).unwrap_or_else(|| "um".into()))?;
    let num = |k: &str, d: u64| -> Result<u64, String> {
        match o.iter().rev().find(|(n, _)| n == k) {
            Some((_, v)) => v.parse::<u64>().map_err(|e| format!("--{k} {v:?}: {e}")),
            None => Ok(d),
        }
    };
    let kernel_src = get(o, "kernel-src").unwrap_or_else(|| run::cache_dir().join("linux-source-6.12"));
    if !kernel_src.join("drivers/nvme/host/multipath.c").is_file() {
        return Err(format!("{}: not an unpacked linux-source-6.12 tree (conformance/kunit/setup-kernel.sh makes one)", kernel_src.display()));
    }
    Ok(RunOptions {
        build_dirs: arches.iter().map(|a| (*a, run::default_build_dir(*a))).collect(),
        arches,
        rounds: num("rounds", 15)? as usize,
        max_secs: num("max-secs", 900)?,
        kernel_src,
        work_dir: get(o, "work").unwrap_or_else(|| manifest().join("../target/mpv-bench-run")),
    })
}

/// Render the report of `f` (`--report`/`--out` dir, `--readme`); with
/// `check`, write nothing and fail when the README's block is stale.
fn render(f: &RunFile, out: &Path, o: &[(String, String)], check: bool) -> Result<(), String> {
    let readme = get(o, "readme").unwrap_or_else(|| manifest().join("../README.md"));
    if check {
        if !report::readme_is_current(f, &readme).map_err(|e| e.0)? {
            return Err(format!("{}: the bench table differs from what `bench report` renders; run `bench report`", readme.display()));
        }
        eprintln!("{}: the bench table is current", readme.display());
        return Ok(());
    }
    let rep = report::report(f, out, Some(&readme)).map_err(|e| e.0)?;
    print!("{}", report::summary(f, &rep.rows));
    for p in &rep.files {
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("workloads") => {
            let out = args.get(1).map(PathBuf::from).unwrap_or_else(|| manifest().join("workloads.json"));
            std::fs::write(&out, workloads::to_json()).map_err(|e| format!("{}: {e}", out.display()))?;
            eprintln!("wrote {} ({} workloads)", out.display(), workloads::all().len());
        }
        Some("kunit-gen") => {
            let c = kunit::generate_suite(&workloads::all())?;
            match args.get(1) {
                Some(p) => std::fs::write(p, c).map_err(|e| format!("{p}: {e}"))?,
                None => print!("{c}"),
            }
        }
        Some("kunit-parse") => {
            let p = args.get(1).ok_or("kunit-parse needs a KTAP file")?;
            let text = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
            let r = kunit::parse_ktap(&text)?;
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        }
        Some("kernel") => {
            let o = opts(&args[1..])?;
            let src = get(&o, "kernel-src").ok_or("kernel needs --kernel-src DIR (see conformance/kunit/setup-kernel.sh)")?;
            let build = get(&o, "build").unwrap_or_else(|| run::default_build_dir(Arch::Um));
            let ktap = get(&o, "ktap").unwrap_or_else(|| manifest().join("../target/mpv-bench-kernel.ktap"));
            if let Some(d) = ktap.parent() {
                std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            }
            let r = kunit::run_kernel(&src, &build, &ktap)?;
            let measured = r.iter().filter(|x| x.ns_per_op.is_some()).count();
            eprintln!("kernel: {measured} workloads measured, {} skipped; KTAP in {}", r.len() - measured, ktap.display());
        }
        Some("run") => {
            let o = opts(&args[1..])?;
            let ro = run_options(&o)?;
            let out = get(&o, "out").unwrap_or_else(|| manifest().join("report/run.json"));
            let f = run::run(&ro)?;
            std::fs::write(&out, f.to_json()).map_err(|e| format!("{}: {e}", out.display()))?;
            eprintln!("wrote {} ({} rounds)", out.display(), f.rounds.len());
            let dir = get(&o, "report").unwrap_or_else(|| manifest().join("report"));
            for p in run::keep_last_ktap(&f, &ro.work_dir, &dir)? {
                eprintln!("wrote {}", p.display());
            }
            render(&f, &dir, &o, false)?;
        }
        Some("report") => {
            let o = opts(&args[1..])?;
            let p = get(&o, "run").unwrap_or_else(|| manifest().join("report/run.json"));
            let f = RunFile::read(&p)?;
            let dir = get(&o, "out").unwrap_or_else(|| manifest().join("report"));
            render(&f, &dir, &o, o.iter().any(|(k, _)| k == "check"))?;
        }
        _ => return Err(String::new()),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_empty() => usage(),
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
