//! `bench run`: the kernel suite and the reference measured in alternating
//! rounds, so that every ratio is taken from one window of the machine's
//! load.
//!
//! Each kernel side (UML and/or x86_64 under QEMU) is first built with
//! `run-kunit.sh` (incremental after the first time) and booted once as a
//! warm-up. A round then boots each kernel side once (`MPV_BOOT_ONLY=1`:
//! the [`crate::kunit`] suite, every workload) and runs the reference once
//! ([`crate::measure::reference_round`]); the order flips every round, so
//! a load trend does not favour one side.
//! Everything lands in one [`RunFile`] (`benches/report/run.json`), from
//! which `bench report` renders the tables and plots.

use crate::kunit::{self, KernelResult, SUITE};
use crate::measure;
use crate::workloads::{self, Workload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Version of the run file format.
pub const RUN_FORMAT: u32 = 1;
/// The reference's side name in a [`RunFile`].
pub const REFERENCE: &str = "reference";

/// A kernel side: where the kernel C runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Arch {
    /// User-mode Linux: native execution, one CPU, Tiny SRCU, one node.
    Um = 0,
    /// x86_64 under QEMU: 2 CPUs, Tree SRCU, [`X86_64_NODES`] NUMA nodes.
    X86_64 = 1,
}

/// NUMA nodes of the x86_64 bench guest: CPU 0 on node 0, CPU 1 on node 1,
/// nodes 2.. memory-only, so that every workload (up to 8 nodes) runs.
pub const X86_64_NODES: usize = 8;

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::Um, Arch::X86_64];
    pub fn name(self) -> &'static str {
        match self {
            Arch::Um => "um",
            Arch::X86_64 => "x86_64",
        }
    }
    pub fn from_name(s: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == s)
    }
    /// Parse `um`, `x86_64` or a comma-separated list of them.
    pub fn parse_list(s: &str) -> Result<Vec<Arch>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let a = Arch::from_name(part).ok_or_else(|| format!("--arch: unknown arch {part:?} (um, x86_64, or a comma-separated list)"))?;
            if !out.contains(&a) {
                out.push(a);
            }
        }
        if out.is_empty() {
            return Err("--arch: empty list".into());
        }
        Ok(out)
    }
    /// `-m 1024` split over the nodes (QEMU needs the sizes to add up).
    pub fn qemu_topology() -> String {
        let mut s = String::from("-smp 2");
        let sizes = [384, 256, 64, 64, 64, 64, 64, 64];
        for (n, mb) in sizes.iter().enumerate().take(X86_64_NODES) {
            s.push_str(&format!(" -object memory-backend-ram,size={mb}M,id=m{n}"));
        }
        for n in 0..X86_64_NODES {
            let cpus = if n < 2 { format!(",cpus={n}") } else { String::new() };
            s.push_str(&format!(" -numa node,nodeid={n}{cpus},memdev=m{n}"));
        }
        s
    }
}

/// One side's figure for one workload in one round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Median batch, ns per operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub med: Option<f64>,
    /// Fastest batch, ns per operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Why there is no number (`needs-numa`, `needs-smp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
}

impl From<&KernelResult> for Figure {
    fn from(k: &KernelResult) -> Figure {
        Figure { med: k.ns_per_op, min: k.min_ns_per_op, skip: k.skip.clone() }
    }
}

/// A side of the run (reference, or a kernel arch) and how it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SideInfo {
    /// `reference`, `um` or `x86_64`.
    pub name: String,
    /// How it ran: the QEMU accelerator (`-accel kvm -cpu host`, `-accel
    /// tcg`), `um`, or the reference's build profile.
    pub detail: String,
    /// Timings under instruction emulation (QEMU TCG): not comparable
    /// with native ns.
    pub emulated: bool,
}

/// One round: every side once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Sides in the order they ran.
    pub order: Vec<String>,
    /// 1-minute load average when the round started.
    pub load: f64,
    /// side -> workload -> figure.
    pub figures: BTreeMap<String, BTreeMap<String, Figure>>,
}

/// The result of one `bench run` (`benches/report/run.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    pub mpath_bench_run: u32,
    /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub started: String,
    pub finished: String,
    /// CPU model, CPUs, kernel of the machine.
    pub machine: String,
    /// The kernel tree measured (its directory name).
    pub kernel: String,
    pub sides: Vec<SideInfo>,
    pub rounds: Vec<Round>,
}

impl RunFile {
    pub fn side(&self, name: &str) -> Option<&SideInfo> {
        self.sides.iter().find(|s| s.name == name)
    }
    /// Kernel sides present, in [`Arch`] order.
    pub fn kernel_arches(&self) -> Vec<Arch> {
        Arch::ALL.into_iter().filter(|a| self.side(a.name()).is_some()).collect()
    }
    /// Parse a run file; errors name the file.
    pub fn read(path: &Path) -> Result<RunFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let f: RunFile = serde_json::from_str(&text).map_err(|e| format!("{}: line {}: {e}", path.display(), e.line()))?;
        if f.mpath_bench_run != RUN_FORMAT {
            return Err(format!("{}: line 1: run format {} (this build reads {RUN_FORMAT})", path.display(), f.mpath_bench_run));
        }
        Ok(f)
    }
    /// Pretty JSON with each round on one line (the file stays small and
    /// a rerun's diff is one line per round).
    pub fn to_json(&self) -> String {
        let head = RunFile { rounds: Vec::new(), ..self.clone() };
        let pretty = serde_json::to_string_pretty(&head).expect("run file serialises");
        let rounds: Vec<String> = self.rounds.iter().map(|r| format!("    {}", serde_json::to_string(r).expect("round serialises"))).collect();
        let body = if rounds.is_empty() { "[]".to_string() } else { format!("[\n{}\n  ]", rounds.join(",\n")) };
        let mut s = pretty.replacen("\"rounds\": []", &format!("\"rounds\": {body}"), 1);
        s.push('\n');
        s
    }
}

/// What `bench run` needs to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub arches: Vec<Arch>,
    /// Rounds to run (at least [`MIN_ROUNDS`] unless interrupted by an error).
    pub rounds: usize,
    /// No new round starts after this many seconds of rounds (the build
    /// before them not counted; once [`MIN_ROUNDS`] ran).
    pub max_secs: u64,
    pub kernel_src: PathBuf,
    /// Build dir per arch.
    pub build_dirs: BTreeMap<Arch, PathBuf>,
    /// Raw KTAP of every round: `<work>/<arch>-round<i>.ktap`.
    pub work_dir: PathBuf,
}

/// The CPU `bench run` pins UML's boots and the reference's timing thread
/// to (`taskset -c` / `sched_setaffinity`), so that both kernels' timed
/// loops and the reference's run on the same core and never migrate
/// mid-batch: `MPV_BENCH_CPU` (a CPU number, or `none` for no pinning),
/// default the last CPU. The x86_64 guest is not pinned (its 2 vCPUs need
/// 2 CPUs).
pub fn bench_cpu() -> Result<Option<usize>, String> {
    let cpus = measure::online_cpus();
    match std::env::var("MPV_BENCH_CPU") {
        Ok(v) if v == "none" => Ok(None),
        Ok(v) => match v.parse::<usize>() {
            Ok(c) if c < cpus => Ok(Some(c)),
            _ => Err(format!("MPV_BENCH_CPU={v:?}: not a CPU of this machine (0..{}) or `none`", cpus - 1)),
        },
        Err(_) => Ok(Some(cpus - 1)),
    }
}

/// Fewest rounds a judgement needs (the spread needs a few points).
pub const MIN_ROUNDS: usize = 3;

/// Default build dir of an arch's bench kernel: its own configuration
/// (nvme-6.12.kunitconfig; x86_64 adds NUMA/SMP, no KASAN) under the
/// mpath-verify cache.
pub fn default_build_dir(arch: Arch) -> PathBuf {
    cache_dir().join(format!("build-bench-6.12-{}", arch.name()))
}

/// `$MPATH_KERNEL_CACHE`, else `~/.cache/mpath-verify`.
pub fn cache_dir() -> PathBuf {
    if let Some(c) = std::env::var_os("MPATH_KERNEL_CACHE") {
        return PathBuf::from(c);
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp")).join(".cache/mpath-verify")
}

fn now_utc() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok())).unwrap_or(0.0)
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string()));
    let cpus = measure::online_cpus();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{} x {}, Linux {}", cpus, model.unwrap_or_else(|| "unknown CPU".into()), kernel.trim())
}

/// Boot `arch`'s kernel once: with `round` `None` build it first
/// (run-kunit.sh: wiring, incremental build, boot, verdict; the warm-up
/// before the rounds), else boot what is built (`MPV_BOOT_ONLY=1`).
/// Returns the parsed figures and the accelerator line.
/// `force_tcg`: the warm-up ended under TCG (KVM unusable or hung), so
/// the rounds go to TCG at once instead of waiting out a KVM boot each.
/// `cpu`: pin a UML round's boot to this CPU (`taskset -c`).
fn kernel_round(
    arch: Arch,
    opts: &RunOptions,
    round: Option<usize>,
    suite: &Path,
    force_tcg: bool,
    cpu: Option<usize>,
) -> Result<(Vec<KernelResult>, String), String> {
    let build = &opts.build_dirs[&arch];
    let tag = round.map(|r| format!("round{r}")).unwrap_or_else(|| "build".into());
    let ktap = opts.work_dir.join(format!("{}-{tag}.ktap", arch.name()));
    let script = kunit::harness_dir().join("run-kunit.sh");
    let pin = cpu.filter(|_| arch == Arch::Um && round.is_some());
    let mut cmd = match pin {
        Some(c) => {
            let mut t = std::process::Command::new("taskset");
            t.arg("-c").arg(c.to_string()).arg("bash");
            t
        }
        None => std::process::Command::new("bash"),
    };
    cmd.arg(&script).arg(&opts.kernel_src).arg(suite).arg(build).arg(&ktap);
    cmd.env("MPV_KUNIT_FILTER", format!("{SUITE}*")).env("MPV_ARCH", arch.name());
    if arch == Arch::X86_64 {
        cmd.env("MPV_KASAN", "0").env("MPV_KVM_CPU_FALLBACK", "1").env("MPV_QEMU_ARGS", Arch::qemu_topology());
    }
    if round.is_some() {
        cmd.env("MPV_BOOT_ONLY", "1");
    }
    if force_tcg {
        cmd.env("MPV_QEMU_ACCEL", "tcg");
    }
    // stdout is run-kunit's verdict (the KTAP is checked below); stderr shows progress.
    let out = cmd.stdout(std::process::Stdio::null()).status().map_err(|e| format!("{}: {e}", script.display()))?;
    let text = std::fs::read_to_string(&ktap).map_err(|e| format!("{}: {e}", ktap.display()))?;
    if !out.success() {
        return Err(format!("{} {tag}: run-kunit.sh exited {out}; output in {}", arch.name(), ktap.display()));
    }
    if let Some(l) = text.lines().find(|l| l.trim_start().starts_with("not ok")) {
        return Err(format!("{} {tag}: a bench case failed ({}); output in {}", arch.name(), l.trim(), ktap.display()));
    }
    let res = kunit::parse_ktap(&text).map_err(|e| format!("{}: {e}", ktap.display()))?;
    let mut accel = std::fs::read_to_string(ktap.with_extension("ktap.accel")).unwrap_or_else(|_| arch.name().into()).trim().to_string();
    if let Some(c) = pin {
        accel.push_str(&format!(", boots pinned to CPU {c}"));
    }
    Ok((res, accel))
}

/// Copy the last round's raw KTAP of each kernel side of `f` into `dir`
/// as `kernel-<arch>.ktap` (the evidence the report's last round parsed).
pub fn keep_last_ktap(f: &RunFile, work_dir: &Path, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let Some(last) = f.rounds.len().checked_sub(1) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for a in f.kernel_arches() {
        let from = work_dir.join(format!("{}-round{last}.ktap", a.name()));
        let to = dir.join(format!("kernel-{}.ktap", a.name()));
        std::fs::copy(&from, &to).map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))?;
        out.push(to);
    }
    Ok(out)
}

/// Every name a complete round carries: the workloads and reader scaling.
pub fn expected_names(list: &[Workload]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|w| w.name.clone()).collect();
    v.extend(kunit::SCALING_READERS.iter().map(|r| format!("reader_scaling/t{r}")));
    v
}

fn check_complete(side: &str, round: usize, res: &[KernelResult], names: &[String]) -> Result<(), String> {
    for n in names {
        if !res.iter().any(|r| &r.workload == n) {
            return Err(format!("{side} round {round}: no figure for {n} (the boot stopped early?)"));
        }
    }
    Ok(())
}

/// Run the interleaved measurement (see the module docs). Progress goes
/// to stderr.
pub fn run(opts: &RunOptions) -> Result<RunFile, String> {
    let list = workloads::all();
    let names = expected_names(&list);
    std::fs::create_dir_all(&opts.work_dir).map_err(|e| format!("{}: {e}", opts.work_dir.display()))?;
    let suite = opts.work_dir.join("mpv_bench_suite.c");
    std::fs::write(&suite, kunit::generate_suite(&list)?).map_err(|e| format!("{}: {e}", suite.display()))?;
    let cpu = bench_cpu()?;
    let pinned = cpu.map(|c| format!(", pinned to CPU {c}")).unwrap_or_default();
    let mut sides: Vec<SideInfo> = vec![SideInfo {
        name: REFERENCE.into(),
        detail: if cfg!(debug_assertions) { "debug build (not representative)".into() } else { format!("release build, in-process{pinned}") },
        emulated: false,
    }];
    // Build (incremental after the first time) and boot each side once; the
    // rounds then only boot, so every round does the same work.
    for arch in &opts.arches {
        let ts = Instant::now();
        let (res, accel) = kernel_round(*arch, opts, None, &suite, false, None)?;
        check_complete(arch.name(), 0, &res, &names)?;
        let emulated = accel.contains("tcg");
        if emulated {
            eprintln!(
                "bench run: NOTICE: {} runs under QEMU TCG (instruction emulation): its ns are not comparable with native ones; the report marks them",
                arch.name()
            );
        }
        eprintln!("bench run: {} built and booted in {:.0} s ({accel})", arch.name(), ts.elapsed().as_secs_f64());
        let detail = if *arch == Arch::Um { format!("{accel}{}", cpu.map(|c| format!(", boots pinned to CPU {c}")).unwrap_or_default()) } else { accel };
        sides.push(SideInfo { name: arch.name().into(), detail, emulated });
    }
    let started = now_utc();
    let t0 = Instant::now();
    let mut rounds = Vec::new();
    for i in 0..opts.rounds.max(1) {
        if i >= MIN_ROUNDS && t0.elapsed().as_secs() >= opts.max_secs {
            eprintln!("bench run: --max-secs {} reached after {i} rounds", opts.max_secs);
            break;
        }
        let mut order: Vec<String> = opts.arches.iter().map(|a| a.name().to_string()).collect();
        if i % 2 == 1 {
            order.insert(0, REFERENCE.into());
        } else {
            order.push(REFERENCE.into());
        }
        let load = load1();
        let mut figures = BTreeMap::new();
        for side in &order {
            let ts = Instant::now();
            let res = if side == REFERENCE {
                measure::reference_round(&list, cpu)?
            } else {
                let arch = Arch::from_name(side).expect("arch side");
                let tcg = sides.iter().any(|s| &s.name == side && s.emulated);
                let (res, accel) = kernel_round(arch, opts, Some(i), &suite, tcg, cpu)?;
                // A KVM boot that failed falls back to TCG: say so for that side.
                if accel.contains("tcg") {
                    if let Some(si) = sides.iter_mut().find(|s| &s.name == side).filter(|s| !s.emulated) {
                        eprintln!("bench run: NOTICE: {side} round {i} ran under TCG: the side is marked emulated");
                        si.emulated = true;
                        si.detail = accel;
                    }
                }
                res
            };
            check_complete(side, i, &res, &names)?;
            eprintln!("bench run: round {}/{}: {side} in {:.1} s (load {load:.1})", i + 1, opts.rounds, ts.elapsed().as_secs_f64());
            figures.insert(side.clone(), res.iter().map(|r| (r.workload.clone(), Figure::from(r))).collect());
        }
        rounds.push(Round { order, load, figures });
    }
    sides.sort_by_key(|s| (s.name != REFERENCE, Arch::from_name(&s.name)));
    Ok(RunFile {
        mpath_bench_run: RUN_FORMAT,
        started,
        finished: now_utc(),
        machine: machine(),
        kernel: opts.kernel_src.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        sides,
        rounds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_lists_and_topology() {
        assert_eq!(Arch::parse_list("um").unwrap(), vec![Arch::Um]);
        assert_eq!(Arch::parse_list("um,x86_64,um").unwrap(), vec![Arch::Um, Arch::X86_64]);
        assert!(Arch::parse_list("arm64").unwrap_err().contains("arm64"));
        assert!(Arch::parse_list(",").is_err());
        let t = Arch::qemu_topology();
        assert!(t.starts_with("-smp 2 "));
        assert!(t.contains("-numa node,nodeid=0,cpus=0,memdev=m0") && t.contains("-numa node,nodeid=1,cpus=1,memdev=m1"));
        assert!(t.contains("-numa node,nodeid=7,memdev=m7"));
        // the node memory adds up to kunit.py's -m 1024
        let total: u32 = t.split("size=").skip(1).map(|x| x.split('M').next().unwrap().parse::<u32>().unwrap()).sum();
        assert_eq!(total, 1024);
        // every workload fits the guest's nodes
        assert!(workloads::all().iter().all(|w| w.nodes <= X86_64_NODES));
    }

    #[test]
    fn completeness_names_the_missing_workload() {
        let list = workloads::all();
        let names = expected_names(&list);
        assert_eq!(names.len(), list.len() + 2);
        let res: Vec<KernelResult> = names
            .iter()
            .skip(1)
            .map(|n| KernelResult { workload: n.clone(), ns_per_op: Some(1.0), iters: Some(1), min_ns_per_op: Some(1.0), skip: None })
            .collect();
        let e = check_complete("um", 2, &res, &names).unwrap_err();
        assert!(e.contains(&names[0]) && e.contains("um round 2"), "{e}");
    }

    #[test]
    fn run_file_round_trips_and_rejects_other_formats() {
        let mut f = RunFile {
            mpath_bench_run: RUN_FORMAT,
            started: "a".into(),
            finished: "b".into(),
            machine: "m".into(),
            kernel: "k".into(),
            sides: vec![SideInfo { name: REFERENCE.into(), detail: "d".into(), emulated: false }],
            rounds: vec![],
        };
        let d = std::env::temp_dir().join(format!("mpath-benches-run-{}", std::process::id()));
        let fig = |med| Figure { med: Some(med), min: Some(med / 2.0), skip: None };
        let round = Round { order: vec![REFERENCE.into()], load: 1.5, figures: [(REFERENCE.to_string(), [("w".to_string(), fig(3.0))].into())].into() };
        f.rounds = vec![round.clone(), round];
        let text = f.to_json();
        assert_eq!(text.lines().filter(|l| l.trim_start().starts_with("{\"order\"")).count(), 2, "{text}");
        assert_eq!(serde_json::from_str::<RunFile>(&text).unwrap(), f);
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("run.json");
        std::fs::write(&p, f.to_json()).unwrap();
        assert_eq!(RunFile::read(&p).unwrap(), f);
        f.mpath_bench_run = 99;
        std::fs::write(&p, f.to_json()).unwrap();
        assert!(RunFile::read(&p).unwrap_err().contains("run format 99"));
        std::fs::write(&p, "{\n\"mpath_bench_run\": \"x\"}").unwrap();
        let e = RunFile::read(&p).unwrap_err();
        assert!(e.contains("run.json: line 2"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
