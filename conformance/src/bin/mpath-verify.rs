//! `mpath-verify`: the one CLI. It parses arguments and prints; the work
//! lives in the crates.

use clap::{Parser, Subcommand, ValueEnum};
use mpath_conformance::exit::Exit;
use mpath_conformance::{gen, kunit, modelcli, parse, replay, series};
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
    /// Model-check the review catalogue (default) or one scenario on a revision.
    Check {
        /// A shipped revision (v1, v2, v3, nvme-6.12, v2-fixed, mut-*) or a revision file.
        #[arg(long, default_value = "v2")]
        revision: String,
        /// A shipped scenario name or a scenario file.
        #[arg(long, conflicts_with = "catalogue")]
        scenario: Option<String>,
        /// Check every catalogue entry (the default when no scenario is given).
        #[arg(long)]
        catalogue: bool,
        /// A properties file (the predicate language of model/README-model.md,
        /// "Properties as data"): its properties are checked with the
        /// built-in ones and reported the same way. Repeatable.
        #[arg(long, value_name = "FILE", requires = "scenario")]
        properties: Vec<String>,
        #[command(flatten)]
        bounds: BoundArgs,
        /// Where counterexample traces are saved.
        #[arg(long, default_value = "out/counterexamples")]
        save_dir: String,
        /// Swimlane width in columns (cells wrap inside it) [default: the
        /// terminal's width; 100 when stdout is not a terminal].
        #[arg(long)]
        width: Option<usize>,
        /// text (table and swimlanes), email (a 72-column plain-text report
        /// to paste into a mailing-list reply) or markdown (for an issue
        /// tracker). --json overrides it.
        #[arg(long, default_value = "text", value_parser = ["text", "email", "markdown"])]
        format: String,
        /// With --scenario: show only this property's counterexample (the
        /// swimlane, or the one finding an email / Markdown report is about).
        #[arg(long, requires = "scenario")]
        property: Option<String>,
        /// A kernel tree for the revision's names: each swimlane function is
        /// followed by its definition's file:line in that tree.
        #[arg(long, value_name = "TREE")]
        kernel_src: Option<String>,
        /// Replay every violation found as a forced interleaving in this
        /// kernel tree's own C (`kunit race`, UML, one boot); schedules the
        /// race engine cannot drive are listed with the reason.
        #[arg(long, value_name = "TREE")]
        confirm_in_kernel: Option<String>,
        /// kbuild output directory for --confirm-in-kernel.
        #[arg(long, requires = "confirm_in_kernel")]
        build_dir: Option<String>,
        /// Architecture for --confirm-in-kernel: um, or x86_64 (QEMU, KASAN:
        /// the only build that observes a use-after-free).
        #[arg(long, default_value = "um", value_parser = ["um", "x86_64"], requires = "confirm_in_kernel")]
        arch: String,
        #[arg(long)]
        json: bool,
    },
    /// The review catalogue: `list` prints each claim, who raised it where, and
    /// its expected verdicts.
    Catalogue {
        #[command(subcommand)]
        cmd: CatalogueCmd,
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
        cmd: Option<SweepCmd>,
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
    },
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
        cmd: BenchCmd,
    },
    /// Export traces as KUnit suites, run them on a kernel, check KTAP.
    Kunit {
        #[command(subcommand)]
        cmd: KunitCmd,
    },
    /// Kernel trees carrying a libmultipath series.
    Series {
        #[command(subcommand)]
        cmd: SeriesCmd,
    },
}

#[derive(clap::Args)]
struct SweepReportArgs {
    /// Swimlane width in columns [default: the terminal's; 100 when not a terminal].
    #[arg(long)]
    width: Option<usize>,
    /// Compare the group summary with this file (exit 1 if it differs);
    /// MPV_BLESS=1 writes it instead.
    #[arg(long, value_name = "FILE")]
    expect: Option<String>,
    /// Print only the group summary (no swimlanes).
    #[arg(long)]
    summary: bool,
}

#[derive(Subcommand)]
enum SweepCmd {
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

#[derive(Subcommand)]
enum CatalogueCmd {
    /// Each entry: its claim in one line, who raised it and where (patch
    /// subject, Message-ID), the scenario and property, and the expected
    /// verdict per revision in words. Nothing is checked.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum SeriesCmd {
    /// Apply a series (directory of patch mails or mbox) to a scratch copy of
    /// the base tree, with the 6.12 shim if needed; the last line is the tree.
    #[command(group = clap::ArgGroup::new("from").required(true).args(["series", "tree"]))]
    Prepare {
        /// A directory of patch mails or an mbox (`b4 am`).
        #[arg(long)]
        series: Option<String>,
        /// A tree that already carries the series: validated, never modified.
        #[arg(long)]
        tree: Option<String>,
        /// The unpacked base tree (never modified) [default: $MPATH_KERNEL_CACHE/linux-source-6.12].
        #[arg(long)]
        kernel_src: Option<String>,
        /// Where series/<basename(kernel-src)> lives [default: $MPATH_KERNEL_CACHE or ~/.cache/mpath-verify].
        #[arg(long)]
        cache: Option<String>,
        /// Overwrite files of the scratch tree that were edited outside prepare.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
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
        #[arg(long, default_value = "target/mpv-bench-run")]
        work_dir: String,
        #[arg(long, default_value = "benches/report/run.json")]
        out: String,
        #[arg(long, default_value = "benches/report")]
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
        #[arg(long, default_value = "target/mpv-bench-build")]
        build_dir: String,
        #[arg(long, default_value = "target/mpv-bench-kernel.ktap")]
        ktap: String,
    },
}

#[derive(Subcommand)]
enum KunitCmd {
    /// Write a self-contained KUnit suite for a backend (nvme-6.12 | libmultipath).
    Export {
        #[arg(long, default_value = "nvme-6.12")]
        backend: String,
        /// libmultipath: the API the tree's multipath.h declares (v1 or v2).
        #[arg(long, default_value = "v2", value_parser = ["v1", "v2"])]
        api: String,
        #[arg(required = true)]
        traces: Vec<String>,
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
        #[arg(long, default_value = "nvme-6.12")]
        backend: String,
        /// libmultipath: the API the tree's multipath.h declares (v1 or v2).
        #[arg(long, default_value = "v2", value_parser = ["v1", "v2"])]
        api: String,
        #[arg(required = true)]
        traces: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct BoundArgs {
    /// Stop exploring below this depth (verdict "bound reached" if nothing was found).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Stop after this many unique states.
    #[arg(long)]
    max_states: Option<usize>,
    /// Stop after this many seconds.
    #[arg(long)]
    timeout: Option<u64>,
    /// Depth-first search (less memory; counterexamples may not be shortest).
    #[arg(long)]
    dfs: bool,
    /// Symmetry reduction over identical threads.
    #[arg(long)]
    symmetry: bool,
    /// Checker threads (BFS). Verdicts do not depend on it; counterexamples
    /// then come from a separate single-threaded shortest search.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Partial-order reduction (same verdicts, fewer states; model/README-model.md).
    #[arg(long)]
    reduce: bool,
    /// Memory bound in MiB for the checker's visited set, frontier and records
    /// (default 8192); a check that would exceed it stops: "bound reached".
    #[arg(long)]
    max_memory: Option<u64>,
}

impl BoundArgs {
    fn bounds(&self) -> mpath_model::Bounds {
        mpath_model::Bounds {
            max_depth: self.max_depth,
            max_states: self.max_states,
            timeout_ms: self.timeout.map(|s| s * 1000),
            mode: if self.dfs { mpath_model::Mode::Dfs } else { mpath_model::Mode::Bfs },
            symmetry: self.symmetry,
            threads: self.threads,
            reduction: self.reduce,
            max_memory: self.max_memory.map(|mb| mb << 20),
        }
    }
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`mpath-verify check | head`) like any
    // Unix filter, instead of panicking inside println!.
    // SAFETY: restoring the default disposition of one signal at start-up,
    // before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Replay { traces, json } => cmd_replay(&traces, json),
        Cmd::ModelReplay { traces, json } => modelcli::cmd_model_replay(&traces, json),
        Cmd::Gen { seed, ops, revision, driver, nodes, paths, kernel, lib, driver_ops, output } => {
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
                Err(e) => {
                    eprintln!("error: gen: {e}");
                    Exit::BadInput
                }
            }
        }
        Cmd::Revisions { json } => cmd_revisions(json),
        Cmd::Catalogue { cmd: CatalogueCmd::List { json } } => {
            let entries = mpath_model::catalogue();
            if json {
                println!("{}", serde_json::to_string_pretty(&mpath_conformance::verdicts::catalogue_json(&entries)).unwrap_or_default());
            } else {
                print!("{}", mpath_conformance::verdicts::catalogue_list(&entries));
            }
            Exit::Ok
        }
        Cmd::Check {
            revision,
            scenario,
            catalogue: _,
            properties,
            bounds,
            save_dir,
            width,
            format,
            property,
            kernel_src,
            confirm_in_kernel,
            build_dir,
            arch,
            json,
        } => {
            let arch = kunit::run::Arch::parse(&arch).unwrap_or(kunit::run::Arch::Um);
            let format = mpath_conformance::verdicts::Format::parse(&format).unwrap_or(mpath_conformance::verdicts::Format::Text);
            let opts = modelcli::CheckOpts {
                revision,
                scenario,
                properties,
                bounds: bounds.bounds(),
                json,
                save_dir: save_dir.into(),
                width: mpath_conformance::verdicts::lane_width(width),
                format,
                kernel_src: kernel_src.map(Into::into),
                property,
            };
            match confirm_in_kernel {
                None => modelcli::cmd_check(&opts),
                Some(tree) => {
                    let build = build_dir.map(std::path::PathBuf::from).unwrap_or_else(|| {
                        std::env::var_os("HOME")
                            .map(std::path::PathBuf::from)
                            .unwrap_or_else(|| "/tmp".into())
                            .join(format!(".cache/mpath-verify/build-nvme-6.12-{}", arch.name()))
                    });
                    let (exit, schedules) = modelcli::cmd_check_saving(&opts);
                    if exit == Exit::BadInput || exit == Exit::Interrupted {
                        exit
                    } else {
                        let confirmed = confirm_in_kernel_c(&schedules, std::path::Path::new(&tree), &build, arch, opts.json);
                        if (confirmed as i32) > (exit as i32) {
                            confirmed
                        } else {
                            exit
                        }
                    }
                }
            }
        }
        Cmd::Diff { r1, r2, bounds, json } => modelcli::cmd_diff(&r1, &r2, &bounds.bounds(), json),
        Cmd::Sweep { cmd, vocabulary, output, shard, resume, report } => {
            modelcli::install_ctrlc();
            match cmd {
                Some(SweepCmd::Merge { files, output, report: r }) => {
                    modelcli::cmd_sweep_merge(&files, &output, mpath_conformance::verdicts::lane_width(r.width), r.expect.as_deref(), r.summary)
                }
                Some(SweepCmd::Report { file, report: r }) => {
                    modelcli::sweep_report_file(&file, mpath_conformance::verdicts::lane_width(r.width), r.expect.as_deref(), r.summary)
                }
                None => match vocabulary {
                    None => {
                        eprintln!("error: sweep: give a vocabulary file (e.g. model/sweep/ci.json), or `sweep merge` / `sweep report`");
                        Exit::BadInput
                    }
                    Some(v) => modelcli::cmd_sweep(&modelcli::SweepOpts {
                        vocabulary: v,
                        output,
                        shard,
                        resume,
                        width: mpath_conformance::verdicts::lane_width(report.width),
                        expect: report.expect,
                        summary_only: report.summary,
                    }),
                },
            }
        }
        Cmd::Explore { scenario, revision, addr } => modelcli::cmd_explore(&revision, &scenario, &addr),
        Cmd::Kunit { cmd } => cmd_kunit(cmd),
        Cmd::Shuttle { args } => cmd_shuttle(&args),
        Cmd::Bench { cmd } => cmd_bench(cmd),
        Cmd::Series { cmd } => cmd_series(cmd),
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

fn cmd_revisions(json: bool) -> Exit {
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

/// Parse every trace or report the first bad one.
fn parse_all(files: &[String]) -> Result<Vec<parse::Trace>, Exit> {
    let mut out = Vec::new();
    for f in files {
        match parse::parse_file(f) {
            Ok(t) => out.push(t),
            Err(e) => {
                eprintln!("error: {e}");
                return Err(Exit::BadInput);
            }
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

fn api_of(name: &str) -> mpath_conformance::series::Api {
    if name == "v1" {
        mpath_conformance::series::Api::V1
    } else {
        mpath_conformance::series::Api::V2
    }
}

/// `check --confirm-in-kernel`: every saved schedule the race engine can
/// drive runs in one boot; the others are listed with the reason.
fn confirm_in_kernel_c(schedules: &[String], tree: &std::path::Path, build: &std::path::Path, arch: kunit::run::Arch, json: bool) -> Exit {
    let mut inputs = Vec::new();
    for f in schedules {
        match kunit::race::RaceInput::load(std::path::Path::new(f)) {
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
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::BadInput;
            }
        }
    }
    if inputs.is_empty() {
        println!("confirm in kernel C: no schedule the race engine can drive");
        return Exit::Ok;
    }
    eprintln!("confirm in kernel C: {} schedule(s) in one boot of {}", inputs.len(), tree.display());
    match kunit::race::run(tree, build, arch, &inputs, &[]) {
        Ok((results, exit)) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&results).unwrap_or_default());
            } else {
                for r in &results {
                    print!("{}", kunit::race::render(r));
                }
            }
            exit
        }
        Err((code, msg)) => {
            eprintln!("error: {msg}");
            code
        }
    }
}

fn cmd_kunit(cmd: KunitCmd) -> Exit {
    let r = (|| -> Result<Exit, Exit> {
        match cmd {
            KunitCmd::Export { backend: b, api, traces, output, json } => {
                let b = backend(&b)?;
                let ts = parse_all(&traces)?;
                let x = kunit::export::export_for(b, &kunit::export::Target { api: api_of(&api), nodes: vec![0] }, &ts, kunit::run::suite_name(b));
                std::fs::write(&output, &x.source).map_err(|e| {
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
            KunitCmd::Run { kernel_src, arch, build_dir, backend: b, traces, json } => {
                let arch = kunit::run::Arch::parse(&arch).unwrap_or(kunit::run::Arch::Um);
                let b = backend(&b)?;
                let ts = parse_all(&traces)?;
                let tree = std::path::PathBuf::from(&kernel_src);
                let build = build_dir.map(std::path::PathBuf::from).unwrap_or_else(|| {
                    std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_else(|| "/tmp".into()).join(".cache/mpath-verify").join(format!(
                        "build-{}-{}",
                        b.name(),
                        arch.name()
                    ))
                });
                match kunit::run::run(&tree, &build, b, arch, &ts) {
                    Ok(r) => {
                        print_summary(&r.summary, json);
                        eprintln!("raw KTAP: {}", r.ktap_file.display());
                        Ok(r.exit)
                    }
                    Err((code, msg)) => {
                        eprintln!("error: {msg}");
                        Err(code)
                    }
                }
            }
            KunitCmd::Race { schedules, kernel_src, build_dir, mutant_patch, arch, json } => {
                let arch = kunit::run::Arch::parse(&arch).unwrap_or(kunit::run::Arch::Um);
                let tree = std::path::PathBuf::from(&kernel_src);
                let build = build_dir.map(std::path::PathBuf::from).unwrap_or_else(|| {
                    std::env::var_os("HOME")
                        .map(std::path::PathBuf::from)
                        .unwrap_or_else(|| "/tmp".into())
                        .join(format!(".cache/mpath-verify/build-nvme-6.12-{}", arch.name()))
                });
                let mutants: Vec<std::path::PathBuf> = mutant_patch.iter().map(std::path::PathBuf::from).collect();
                let mut inputs = Vec::new();
                for f in &schedules {
                    match kunit::race::RaceInput::load(std::path::Path::new(f)) {
                        Ok(i) => inputs.push(i),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return Err(Exit::BadInput);
                        }
                    }
                }
                eprintln!("kunit race: {} schedule(s) in one boot", inputs.len());
                let (results, worst) = match kunit::race::run(&tree, &build, arch, &inputs, &mutants) {
                    Ok(x) => x,
                    Err((code, msg)) => {
                        eprintln!("error: {msg}");
                        return Err(code);
                    }
                };
                if !json {
                    for r in &results {
                        print!("{}", kunit::race::render(r));
                    }
                }
                if json {
                    println!("{}", serde_json::to_string_pretty(&results).unwrap_or_default());
                }
                Ok(worst)
            }
            KunitCmd::Drift { kernel_src } => {
                let mut exit = Exit::Ok;
                for (m, harness) in kunit::drift::mirrors() {
                    let short = m.mirror_fn.split('(').next().unwrap_or("").rsplit(' ').next().unwrap_or("");
                    match kunit::drift::check_tree(std::path::Path::new(&kernel_src), harness, m) {
                        Err(e) => {
                            eprintln!("error: {e}");
                            return Err(Exit::NoKernel);
                        }
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
            KunitCmd::Check { ktap, backend: b, api, traces, json } => {
                let b = backend(&b)?;
                let ts = parse_all(&traces)?;
                let text = std::fs::read_to_string(&ktap).map_err(|e| {
                    eprintln!("error: {ktap}:0:0: cannot read: {e}");
                    Exit::BadInput
                })?;
                let x = kunit::export::export_for(b, &kunit::export::Target { api: api_of(&api), nodes: vec![0] }, &ts, kunit::run::suite_name(b));
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
        }
    })();
    r.unwrap_or_else(|e| e)
}

fn cmd_series(cmd: SeriesCmd) -> Exit {
    match cmd {
        SeriesCmd::Prepare { series: s, tree, kernel_src, cache, force, json } => {
            let source = match (s, tree) {
                (Some(s), _) => series::Source::Series(s.into()),
                (None, Some(t)) => series::Source::Tree(t.into()),
                (None, None) => {
                    eprintln!("error: series prepare: give --series PATH or --tree TREE");
                    return Exit::BadInput;
                }
            };
            let mut o = series::PrepareOpts::new(source);
            o.force = force;
            if let Some(k) = kernel_src {
                o.kernel_src = k.into();
            }
            if let Some(c) = cache {
                o.cache = c.into();
            }
            match series::prepare(&o) {
                Ok(p) => {
                    if json {
                        println!("{}", serde_json::to_string(&p).unwrap_or_default());
                    } else {
                        for l in p.report_lines() {
                            println!("{l}");
                        }
                        println!("{}", p.tree.display());
                    }
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    e.exit()
                }
            }
        }
    }
}

/// Runs the shuttle companion binary that sits next to this executable.
fn cmd_shuttle(args: &[String]) -> Exit {
    let exe = std::env::current_exe().ok().and_then(|p| p.parent().map(|d| d.join("mpath-verify-shuttle")));
    let Some(exe) = exe.filter(|p| p.is_file()) else {
        eprintln!("error: mpath-verify-shuttle not found next to this binary; build it with `cargo build --release -p mpath-shuttle --features shuttle --bin mpath-verify-shuttle`");
        return Exit::BadInput;
    };
    match std::process::Command::new(&exe).args(args).status() {
        Ok(st) => match st.code() {
            Some(0) => Exit::Ok,
            Some(1) => Exit::Finding,
            Some(2) => Exit::BadInput,
            _ => Exit::Interrupted,
        },
        Err(e) => {
            eprintln!("error: {}: cannot run: {e}", exe.display());
            Exit::BadInput
        }
    }
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

fn cmd_bench(cmd: BenchCmd) -> Exit {
    use std::path::Path;
    match cmd {
        BenchCmd::Run { arch, rounds, max_secs, kernel_src, work_dir, out, report_dir, readme } => {
            let arches = match mpath_benches::run::Arch::parse_list(&arch) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Exit::BadInput;
                }
            };
            let src = kernel_src.map(std::path::PathBuf::from).unwrap_or_else(|| mpath_benches::run::cache_dir().join("linux-source-6.12"));
            if let Err(e) = kunit::run::check_tree(&src) {
                eprintln!("error: {e}");
                return Exit::NoKernel;
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
                Err(e) => {
                    eprintln!("error: bench run: {e}");
                    return Exit::KernelBuild;
                }
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
                eprintln!("error: {e}");
                return Exit::NoKernel;
            }
            match mpath_benches::kunit::run_kernel(Path::new(&kernel_src), Path::new(&build_dir), Path::new(&ktap)) {
                Ok(res) => {
                    println!("{} kernel workload results; raw KTAP in {ktap}", res.len());
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("error: bench kernel: {e}");
                    Exit::KernelBuild
                }
            }
        }
    }
}
