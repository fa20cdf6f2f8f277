//! `kunit export|run|race|drift|check`: traces as KUnit suites, run on a
//! kernel tree (UML or x86_64 under QEMU), KTAP checked; model schedules
//! forced as interleavings in the kernel's own C.

use crate::exit::{self, Exit};
use clap::Subcommand;
use mpath_conformance::{kunit, parse, series};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum KunitCmd {
    /// Write a self-contained KUnit suite for a backend (nvme-6.12 | libmultipath).
    Export {
        #[command(flatten)]
        suite: SuiteArgs,
        #[arg(short = 'o', long)]
        output: String,
        #[arg(long)]
        json: bool,
    },
    /// Place the suite in a kernel tree, build and boot it (UML, or x86_64
    /// under QEMU with two NUMA nodes), report per trace.
    Run {
        #[arg(long)]
        kernel_src: String,
        /// um (User-mode Linux, node 0 only) or x86_64 (QEMU: KVM when
        /// /dev/kvm is usable, TCG otherwise; 2 CPUs on 2 NUMA nodes).
        #[arg(long, default_value = "um", value_parser = ["um", "x86_64"])]
        arch: String,
        /// kbuild output directory (outside the tree; reused across runs).
        #[arg(long)]
        build_dir: Option<String>,
        #[arg(long, default_value = "nvme-6.12")]
        backend: String,
        #[arg(required = true)]
        traces: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Replay model counterexample schedules (`check` saves them beside each
    /// trace as *.schedule.json) as forced interleavings in the kernel's own
    /// C: REPRODUCED (exit 0) or NOT-REPRODUCED with where the kernel left
    /// the schedule (exit 1). nvme-6.12, UML.
    Race {
        #[arg(required = true)]
        schedules: Vec<String>,
        #[arg(long)]
        kernel_src: String,
        /// kbuild output directory (outside the tree; reused across runs).
        #[arg(long)]
        build_dir: Option<String>,
        /// A mutant as a C patch, applied on top of the schedule points
        /// (conformance/kunit/race/mut-*.patch); repeatable.
        #[arg(long)]
        mutant_patch: Vec<String>,
        /// um (UML: one CPU, Tiny SRCU) or x86_64 (QEMU, 2 CPUs on 2 NUMA
        /// nodes, Tree SRCU, KASAN; the race threads run on a CPU of node
        /// 0). A use-after-free schedule needs x86_64.
        #[arg(long, default_value = "um", value_parser = ["um", "x86_64"])]
        arch: String,
        #[arg(long)]
        json: bool,
    },
    /// Drift check: the harness's mirror of nvme_ns_remove against the
    /// function in the tree (the order of the calls it models).
    Drift {
        #[arg(long)]
        kernel_src: String,
    },
    /// Report from KTAP produced elsewhere (raw console or kunit.py --raw_output=all).
    Check {
        ktap: String,
        #[command(flatten)]
        suite: SuiteArgs,
        #[arg(long)]
        json: bool,
    },
}

/// What `export` and `check` share: the backend and API a suite is for,
/// and the traces it covers.
#[derive(clap::Args)]
pub struct SuiteArgs {
    #[arg(long, default_value = "nvme-6.12")]
    backend: String,
    /// libmultipath: the API the tree's multipath.h declares (v1 or v2).
    #[arg(long, default_value = "v2", value_parser = ["v1", "v2"])]
    api: String,
    #[arg(required = true)]
    traces: Vec<String>,
}

/// Parse every trace or report the first bad one.
pub fn parse_all(files: &[String]) -> Result<Vec<parse::Trace>, Exit> {
    let mut out = Vec::new();
    for f in files {
        match parse::parse_file(f) {
            Ok(t) => out.push(t),
            Err(e) => return Err(exit::report(&e)),
        }
    }
    Ok(out)
}

fn backend(name: &str) -> Result<kunit::Backend, Exit> {
    kunit::Backend::parse(name).ok_or_else(|| {
        eprintln!("error: --backend {name:?}: unknown backend (nvme-6.12 | libmultipath)");
        Exit::BadInput
    })
}

fn print_summary(s: &kunit::report::Summary, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(s).unwrap_or_default());
    } else {
        s.print();
    }
}

fn api_of(name: &str) -> series::Api {
    if name == "v1" {
        series::Api::V1
    } else {
        series::Api::V2
    }
}

/// `check --confirm-in-kernel`: every saved schedule the race engine can
/// drive runs in one boot; the others are listed with the reason.
pub fn confirm_in_kernel_c(schedules: &[String], tree: &Path, build: &Path, arch: kunit::run::Arch, json: bool) -> Exit {
    let mut inputs = Vec::new();
    for f in schedules {
        match kunit::race::RaceInput::load(Path::new(f)) {
            Ok(i) if arch == kunit::run::Arch::Um && i.property == kunit::race::NEEDS_KASAN => {
                println!(
                    "not confirmable in kernel C under UML: {f}: property {} is observed through KASAN, which only the x86_64 build carries (--arch x86_64)",
                    i.property
                )
            }
            Ok(i) => match kunit::race::generate(&i) {
                Ok(_) => inputs.push(i),
                Err(e) => println!("not confirmable in kernel C: {e}"),
            },
            Err(e) => return exit::report(&e),
        }
    }
    if inputs.is_empty() {
        println!("confirm in kernel C: no schedule the race engine can drive");
        return Exit::Ok;
    }
    eprintln!("confirm in kernel C: {} schedule(s) in one boot of {}", inputs.len(), tree.display());
    match kunit::race::run(tree, build, arch, &inputs, &[]) {
        Ok((results, verdict)) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&results).unwrap_or_default());
            } else {
                for r in &results {
                    print!("{}", kunit::race::render(r));
                }
            }
            Exit::from(verdict)
        }
        Err(e) => exit::report(&e),
    }
}

/// The default kbuild output directory of a backend and arch:
/// `~/.cache/mpath-verify/build-<backend>-<arch>`.
pub fn default_build_dir(backend: &str, arch: kunit::run::Arch) -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/tmp".into()).join(".cache/mpath-verify").join(format!("build-{backend}-{}", arch.name()))
}

pub fn arch_of(name: &str) -> kunit::run::Arch {
    kunit::run::Arch::parse(name).unwrap_or(kunit::run::Arch::Um)
}

pub fn cmd_kunit(cmd: KunitCmd) -> Exit {
    let r = match cmd {
        KunitCmd::Export { suite: SuiteArgs { backend, api, traces }, output, json } => export(&backend, &api, &traces, &output, json),
        KunitCmd::Run { kernel_src, arch, build_dir, backend: b, traces, json } => run(&kernel_src, &arch, build_dir, &b, &traces, json),
        KunitCmd::Race { schedules, kernel_src, build_dir, mutant_patch, arch, json } => race(&schedules, &kernel_src, build_dir, &mutant_patch, &arch, json),
        KunitCmd::Drift { kernel_src } => drift(&kernel_src),
        KunitCmd::Check { ktap, suite: SuiteArgs { backend, api, traces }, json } => check(&ktap, &backend, &api, &traces, json),
    };
    r.unwrap_or_else(|e| e)
}

/// `kunit export`: the suite for a backend, written to `output`.
fn export(b: &str, api: &str, traces: &[String], output: &str, json: bool) -> Result<Exit, Exit> {
    let b = backend(b)?;
    let ts = parse_all(traces)?;
    let x = kunit::export::export_for(b, &kunit::export::Target { api: api_of(api), nodes: vec![0] }, &ts, kunit::run::suite_name(b));
    std::fs::write(output, &x.source).map_err(|e| {
        eprintln!("error: {output}: cannot write: {e}");
        Exit::BadInput
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&x).unwrap_or_default());
    } else {
        for k in &x.skipped {
            println!("SKIP {}: {}", k.trace, k.reason);
        }
        println!("wrote {output}: {} cases, {} skipped", x.cases.len(), x.skipped.len());
    }
    Ok(Exit::Ok)
}

/// `kunit run`: place, build, boot, report per trace.
fn run(kernel_src: &str, arch: &str, build_dir: Option<String>, b: &str, traces: &[String], json: bool) -> Result<Exit, Exit> {
    let arch = arch_of(arch);
    let b = backend(b)?;
    let ts = parse_all(traces)?;
    let tree = PathBuf::from(kernel_src);
    let build = build_dir.map(PathBuf::from).unwrap_or_else(|| default_build_dir(b.name(), arch));
    match kunit::run::run(&tree, &build, b, arch, &ts) {
        Ok(r) => {
            print_summary(&r.summary, json);
            eprintln!("raw KTAP: {}", r.ktap_file.display());
            Ok(Exit::from(r.verdict))
        }
        Err(e) => Err(exit::report(&e)),
    }
}

/// `kunit race`: the schedules in one boot.
fn race(schedules: &[String], kernel_src: &str, build_dir: Option<String>, mutant_patch: &[String], arch: &str, json: bool) -> Result<Exit, Exit> {
    let arch = arch_of(arch);
    let tree = PathBuf::from(kernel_src);
    let build = build_dir.map(PathBuf::from).unwrap_or_else(|| default_build_dir("nvme-6.12", arch));
    let mutants: Vec<PathBuf> = mutant_patch.iter().map(PathBuf::from).collect();
    let mut inputs = Vec::new();
    for f in schedules {
        match kunit::race::RaceInput::load(Path::new(f)) {
            Ok(i) => inputs.push(i),
            Err(e) => return Err(exit::report(&e)),
        }
    }
    eprintln!("kunit race: {} schedule(s) in one boot", inputs.len());
    let (results, worst) = kunit::race::run(&tree, &build, arch, &inputs, &mutants).map_err(|e| exit::report(&e))?;
    if !json {
        for r in &results {
            print!("{}", kunit::race::render(r));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&results).unwrap_or_default());
    }
    Ok(Exit::from(worst))
}

/// `kunit drift`: the harness's mirrors against the tree's functions.
fn drift(kernel_src: &str) -> Result<Exit, Exit> {
    let mut exit = Exit::Ok;
    for (m, harness) in kunit::drift::mirrors() {
        let short = m.mirror_fn.split('(').next().unwrap_or("").rsplit(' ').next().unwrap_or("");
        match kunit::drift::check_tree(Path::new(kernel_src), harness, m) {
            Err(e) => return Err(exit::report(&e)),
            Ok(Ok(seq)) => {
                println!("{short} ({}) matches {} in {}: {}", m.mirror_file, m.kernel_fn, m.kernel_file, seq.join(", "));
                println!("not mirrored on purpose: {}", m.omits.join(", "));
            }
            Ok(Err(d)) => {
                println!("DRIFT: {short} ({}) no longer follows {} in {}", m.mirror_file, m.kernel_fn, m.kernel_file);
                println!("  kernel: {}", d.kernel.join(", "));
                println!("  mirror: {}", d.mirror.join(", "));
                exit = Exit::Finding;
            }
        }
    }
    Ok(exit)
}

/// `kunit check`: the report from KTAP produced elsewhere.
fn check(ktap: &str, b: &str, api: &str, traces: &[String], json: bool) -> Result<Exit, Exit> {
    let b = backend(b)?;
    let ts = parse_all(traces)?;
    let text = std::fs::read_to_string(ktap).map_err(|e| {
        eprintln!("error: {ktap}:0:0: cannot read: {e}");
        Exit::BadInput
    })?;
    let x = kunit::export::export_for(b, &kunit::export::Target { api: api_of(api), nodes: vec![0] }, &ts, kunit::run::suite_name(b));
    let parsed = kunit::ktap::parse(&text, kunit::run::suite_name(b));
    // A KTAP that holds the oops suite (one case's own boot) gives
    // the verdicts of the cases expected to oops.
    let osuite = kunit::export::oops_suite(kunit::run::suite_name(b));
    let oops: Vec<(String, kunit::ktap::SuiteResult)> = if text.contains(&format!("# Subtest: {osuite}")) {
        let r = kunit::ktap::parse(&text, &osuite);
        x.cases.iter().filter(|c| c.oops_at.is_some()).map(|c| (c.case.clone(), r.clone())).collect()
    } else {
        Vec::new()
    };
    let s = kunit::report::join(&x, &parsed, &oops);
    print_summary(&s, json);
    Ok(if !parsed.complete && !x.cases.is_empty() {
        Exit::KernelCrash
    } else if s.failed > 0 || s.unfinished > 0 || !s.kernel_reports.is_empty() {
        Exit::Finding
    } else {
        Exit::Ok
    })
}
