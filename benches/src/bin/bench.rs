//! `bench`: the command-line face of mpath-benches.
//!
//! ```text
//! bench workloads [OUT]                         write workloads.json (default benches/workloads.json)
//! bench kunit-gen [OUT.c]                       write the KUnit bench suite (default stdout)
//! bench kunit-parse KTAP                        print the parsed mpv-bench lines as JSON
//! bench kernel --kernel-src DIR [--build DIR] [--ktap FILE]
//!                                               generate, build and run the suite under UML
//! bench report [--criterion DIR] [--kernel KTAP] [--out DIR]
//!                                               join into report.md + SVGs (default benches/report)
//! ```

use mpath_benches::{kunit, report, workloads};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn usage() -> ExitCode {
    eprintln!(
        "usage:\n  bench workloads [OUT]\n  bench kunit-gen [OUT.c]\n  bench kunit-parse KTAP\n  bench kernel --kernel-src DIR [--build DIR] [--ktap FILE]\n  bench report [--criterion DIR] [--kernel KTAP] [--out DIR]"
    );
    ExitCode::from(2)
}

/// `--name value` options after the subcommand.
fn opts(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(name) = a.strip_prefix("--") else { return Err(format!("unexpected argument {a:?}")) };
        let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
        out.push((name.to_string(), v.clone()));
    }
    Ok(out)
}

fn get(o: &[(String, String)], k: &str) -> Option<PathBuf> {
    o.iter().rev().find(|(n, _)| n == k).map(|(_, v)| PathBuf::from(v))
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
            let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
            let build = get(&o, "build").unwrap_or_else(|| Path::new(&home).join(".cache/mpath-benches/build-bench-6.12"));
            let ktap = get(&o, "ktap").unwrap_or_else(|| manifest().join("report/kernel.ktap"));
            if let Some(d) = ktap.parent() {
                std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            }
            let r = kunit::run_kernel(&src, &build, &ktap)?;
            let measured = r.iter().filter(|x| x.ns_per_op.is_some()).count();
            eprintln!("kernel: {measured} workloads measured, {} skipped; KTAP in {}", r.len() - measured, ktap.display());
        }
        Some("report") => {
            let o = opts(&args[1..])?;
            let crit = get(&o, "criterion").unwrap_or_else(|| manifest().join("../target/criterion"));
            let crit = crit.canonicalize().unwrap_or(crit);
            let kernel = get(&o, "kernel");
            let out = get(&o, "out").unwrap_or_else(|| manifest().join("report"));
            let rep = report::report(&crit, kernel.as_deref(), &out).map_err(|e| e.0)?;
            print!("{}", report::markdown(&rep.rows));
            for f in &rep.files {
                eprintln!("wrote {}", f.display());
            }
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
