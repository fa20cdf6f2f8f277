//! `bench run|report|kernel|workloads|kunit-gen|kunit-parse`: the
//! reference and Linux 6.12's NVMe path selection on the same workloads,
//! measured in alternating rounds, and the report (mpath-benches).

use crate::exit::{self, Exit};
use clap::Subcommand;
use mpath_conformance::kunit;
use std::path::Path;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Kernel suite and reference in alternating rounds (one window per ratio) -> run.json, then the report.
    Run {
        /// Kernel sides: um, x86_64 (QEMU, 2 CPUs, 8 NUMA nodes, no KASAN; its own cached build), or um,x86_64.
        #[arg(long, default_value = "um")]
        arch: String,
        /// Rounds (each: every kernel side boots once, the reference runs once).
        #[arg(long, default_value_t = 15)]
        rounds: usize,
        /// No new round starts after this many seconds (once 3 rounds ran).
        #[arg(long, default_value_t = 900)]
        max_secs: u64,
        /// Unpacked linux-source-6.12 [default: ~/.cache/mpath-verify/linux-source-6.12].
        #[arg(long)]
        kernel_src: Option<String>,
        /// Raw KTAP of every round and the generated suite.
        #[arg(long, visible_alias = "work", default_value = "target/mpv-bench-run")]
        work_dir: String,
        #[arg(long, default_value = "benches/report/run.json")]
        out: String,
        #[arg(long, visible_alias = "report", default_value = "benches/report")]
        report_dir: String,
        #[arg(long, default_value = "README.md")]
        readme: String,
    },
    /// Render run.json into report.md, results.json, one SVG per policy and the README's bench table.
    Report {
        #[arg(long, default_value = "benches/report/run.json")]
        run: String,
        #[arg(long, default_value = "benches/report")]
        out: String,
        #[arg(long, default_value = "README.md")]
        readme: String,
        /// Write nothing; exit 1 when the README's table differs from the rendering.
        #[arg(long)]
        check: bool,
        #[arg(long)]
        json: bool,
    },
    /// Run the same workloads once as a KUnit benchmark suite against nvme-6.12 under UML.
    Kernel {
        #[arg(long)]
        kernel_src: String,
        #[arg(long, visible_alias = "build", default_value = "target/mpv-bench-build")]
        build_dir: String,
        #[arg(long, default_value = "target/mpv-bench-kernel.ktap")]
        ktap: String,
    },
    /// Write the shared workload definitions (workloads.json).
    Workloads {
        /// Output file.
        #[arg(default_value = "benches/workloads.json")]
        out: String,
    },
    /// Write the KUnit benchmark suite of every workload (C; stdout without OUT).
    KunitGen { out: Option<String> },
    /// Print the mpv-bench lines of a KTAP file as JSON.
    KunitParse { ktap: String },
}

/// `bench report` (and the end of `bench run`): render, or with `check`
/// compare the README's table with the rendering (exit 1 when stale).
fn bench_render(f: &mpath_benches::RunFile, out: &std::path::Path, readme: &std::path::Path, check: bool, json: bool) -> Exit {
    if check {
        return match mpath_benches::report::readme_is_current(f, readme) {
            Ok(true) => {
                println!("{}: the bench table is current", readme.display());
                Exit::Ok
            }
            Ok(false) => {
                eprintln!("{}: the bench table differs from what `bench report` renders; run `mpath-verify bench report`", readme.display());
                Exit::Finding
            }
            Err(e) => {
                eprintln!("error: bench report: {e}");
                Exit::BadInput
            }
        };
    }
    match mpath_benches::report(f, out, Some(readme)) {
        Ok(r) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&r.rows).unwrap_or_default());
            } else {
                for p in &r.files {
                    println!("wrote {}", p.display());
                }
                print!("{}", mpath_benches::report::summary(f, &r.rows));
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: bench report: {e}");
            Exit::BadInput
        }
    }
}

/// mpath-benches finds run-kunit.sh through `$MPV_KUNIT_DIR` (it does not
/// depend on the conformance crate, which embeds the harness): unless the
/// user set it, point it at the embedded copy under the cache dir. Called
/// before any thread is started.
fn use_embedded_harness() {
    if std::env::var_os("MPV_KUNIT_DIR").is_none() {
        std::env::set_var("MPV_KUNIT_DIR", kunit::assets::dir());
    }
}

pub fn cmd_bench(cmd: BenchCmd) -> Exit {
    if matches!(cmd, BenchCmd::Run { .. } | BenchCmd::Kernel { .. }) {
        use_embedded_harness();
    }
    match cmd {
        BenchCmd::Run { arch, rounds, max_secs, kernel_src, work_dir, out, report_dir, readme } => {
            let arches = match mpath_benches::run::Arch::parse_list(&arch) {
                Ok(a) => a,
                Err(e) => return exit::bad_input(e),
            };
            let src = kernel_src.map(std::path::PathBuf::from).unwrap_or_else(|| mpath_benches::run::cache_dir().join("linux-source-6.12"));
            if let Err(e) = kunit::run::check_tree(&src) {
                return exit::report(&e);
            }
            let opts = mpath_benches::run::RunOptions {
                build_dirs: arches.iter().map(|a| (*a, mpath_benches::run::default_build_dir(*a))).collect(),
                arches,
                rounds,
                max_secs,
                kernel_src: src,
                work_dir: work_dir.into(),
            };
            let f = match mpath_benches::run::run(&opts) {
                Ok(f) => f,
                Err(e) => return exit::bench_kernel("bench run", e),
            };
            if let Err(e) = std::fs::write(&out, f.to_json()) {
                eprintln!("error: {out}: {e}");
                return Exit::BadInput;
            }
            println!("wrote {out} ({} rounds)", f.rounds.len());
            match mpath_benches::run::keep_last_ktap(&f, &opts.work_dir, Path::new(&report_dir)) {
                Ok(ps) => ps.iter().for_each(|p| println!("wrote {}", p.display())),
                Err(e) => {
                    eprintln!("error: bench run: {e}");
                    return Exit::BadInput;
                }
            }
            bench_render(&f, Path::new(&report_dir), Path::new(&readme), false, false)
        }
        BenchCmd::Report { run, out, readme, check, json } => match mpath_benches::RunFile::read(Path::new(&run)) {
            Ok(f) => bench_render(&f, Path::new(&out), Path::new(&readme), check, json),
            Err(e) => {
                eprintln!("error: bench report: {e}");
                Exit::BadInput
            }
        },
        BenchCmd::Kernel { kernel_src, build_dir, ktap } => {
            if let Err(e) = kunit::run::check_tree(Path::new(&kernel_src)) {
                return exit::report(&e);
            }
            match mpath_benches::kunit::run_kernel(Path::new(&kernel_src), Path::new(&build_dir), Path::new(&ktap)) {
                Ok(res) => {
                    println!("{} kernel workload results; raw KTAP in {ktap}", res.len());
                    Exit::Ok
                }
                Err(e) => exit::bench_kernel("bench kernel", e),
            }
        }
        BenchCmd::Workloads { out } => workloads(&out),
        BenchCmd::KunitGen { out } => kunit_gen(out.as_deref()),
        BenchCmd::KunitParse { ktap } => kunit_parse(&ktap),
    }
}

/// `bench workloads [OUT]`: the shared definitions as JSON.
fn workloads(out: &str) -> Exit {
    use mpath_benches::workloads;
    if let Err(e) = std::fs::write(out, workloads::to_json()) {
        eprintln!("error: {out}: {e}");
        return Exit::BadInput;
    }
    eprintln!("wrote {out} ({} workloads)", workloads::all().len());
    Exit::Ok
}

/// `bench kunit-gen [OUT.c]`: the KUnit benchmark suite (stdout without OUT).
fn kunit_gen(out: Option<&str>) -> Exit {
    let c = match mpath_benches::generate_suite(&mpath_benches::workloads::all()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: bench kunit-gen: {e}");
            return Exit::BadInput;
        }
    };
    match out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, c) {
                eprintln!("error: {p}: {e}");
                return Exit::BadInput;
            }
        }
        None => print!("{c}"),
    }
    Exit::Ok
}

/// `bench kunit-parse KTAP`: the parsed mpv-bench lines as JSON.
fn kunit_parse(path: &str) -> Exit {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return Exit::BadInput;
        }
    };
    match mpath_benches::parse_ktap(&text) {
        Ok(r) => {
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {path}: {e}");
            Exit::BadInput
        }
    }
}
