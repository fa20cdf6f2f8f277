//! `kunit run`: place the exported suites in a kernel tree, build them with
//! kunit.py and boot (UML, or x86_64 under QEMU with two NUMA nodes)
//! through `conformance/kunit/run-kunit.sh`, which restores the tree
//! afterwards; boot each case expected to oops alone; parse the raw KTAP
//! and report.

use super::export::Export;
use super::report::{join, Summary};
use super::{ktap, Backend, KunitError, RunVerdict};
use crate::parse::Trace;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the kernel-side scripts live: `$MPV_KUNIT_DIR`, else the copy of
/// the embedded conformance/kunit files under the cache dir
/// ([`super::assets::dir`]), so no source tree is needed.
pub fn kunit_dir() -> PathBuf {
    super::assets::dir()
}

/// Suite name per backend (also the KTAP subtest name).
pub fn suite_name(b: Backend) -> &'static str {
    match b {
        Backend::Nvme612 => "mpath_verify_nvme612",
        Backend::Libmultipath => "mpath_verify_lib",
    }
}

/// Checks that `dir` is a Linux source tree kunit.py can drive.
pub fn check_tree(dir: &Path) -> Result<(), KunitError> {
    for f in ["Makefile", "tools/testing/kunit/kunit.py", "drivers/nvme/host/multipath.c"] {
        if !dir.join(f).is_file() {
            return Err(KunitError::NoKernel(format!("{}: not a usable Linux source tree (missing {f})", dir.display())));
        }
    }
    Ok(())
}

/// run-kunit.sh's exit codes that end a run before any verdict (its own
/// one-line message is above on stderr). `no_ktap`: the console held no
/// usable KTAP.
pub fn script_error(code: i32, tree: &Path, build_dir: &Path, no_ktap: bool) -> Option<KunitError> {
    Some(match code {
        2 => KunitError::BadInput(format!("{}: build dir rejected by run-kunit.sh (see its message above)", build_dir.display())),
        3 => KunitError::NoKernel(format!("{}: rejected by run-kunit.sh (see its message above)", tree.display())),
        4 if no_ktap => KunitError::KernelBuild(format!("kernel build or boot failed before any KTAP (build dir {})", build_dir.display())),
        6 => KunitError::NoKernel("a patch does not apply to the tree (see run-kunit.sh's message above)".to_string()),
        7 => KunitError::TreeBusy(format!("{}: in use by another mpath-verify run (see run-kunit.sh's message above)", tree.display())),
        _ => return None,
    })
}

/// Starts run-kunit.sh and waits for it. Ctrl-C reaches the script too
/// (same process group): it stops its build or boot, restores the tree and
/// exits 130, so this process ignores SIGINT meanwhile and then reports the
/// interruption with what was found. Killed outright, this process leaves
/// the script to notice (it watches its parent) and restore.
fn wait_script(cmd: &mut Command) -> std::io::Result<std::process::ExitStatus> {
    let mut child = cmd.spawn()?;
    // SAFETY: replaces and then restores this process's SIGINT disposition;
    // the child was spawned before, so it keeps the default one.
    let old = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let r = child.wait();
    // SAFETY: as above.
    unsafe { libc::signal(libc::SIGINT, old) };
    r
}

/// Boots what `build_dir` holds once, with one KUnit filter, console to
/// `ktap` (run-kunit.sh with MPV_BOOT_ONLY=1: the tree is not touched);
/// returns the console text.
fn boot(tree: &Path, build_dir: &Path, arch: Arch, filter: &str, ktap: &Path) -> Result<String, KunitError> {
    let script = kunit_dir().join("run-kunit.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .arg(tree)
        .arg(build_dir.join("mpv_suite.c"))
        .arg(build_dir)
        .arg(ktap)
        .env("MPV_BOOT_ONLY", "1")
        .env("MPV_ARCH", arch.name())
        .env("MPV_KUNIT_FILTER", filter)
        .env("MPV_TIMEOUT", "120");
    let status = wait_script(&mut cmd).map_err(|e| KunitError::KernelCrash(format!("{}: cannot run: {e}", script.display())))?;
    if status.code() == Some(4) {
        return Err(KunitError::KernelBuild(format!("nothing built in {}", build_dir.display())));
    }
    Ok(std::fs::read_to_string(ktap).unwrap_or_default())
}

pub struct RunResult {
    pub export: Export,
    pub summary: Summary,
    pub verdict: RunVerdict,
    pub ktap_file: PathBuf,
}

/// The architecture a run builds and boots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// User-mode Linux: one CPU, Tiny SRCU, no NUMA; fast.
    Um,
    /// x86_64 under QEMU (KVM when usable): two CPUs on two NUMA nodes.
    X86_64,
}

impl Arch {
    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "um" => Some(Arch::Um),
            "x86_64" => Some(Arch::X86_64),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Arch::Um => "um",
            Arch::X86_64 => "x86_64",
        }
    }
    /// The NUMA nodes the booted kernel has (run-kunit.sh's default QEMU topology).
    pub fn nodes(self) -> Vec<i32> {
        match self {
            Arch::Um => vec![0],
            Arch::X86_64 => vec![0, 1],
        }
    }
}

/// Whether `tree` carries the libmultipath series.
pub fn carries_series(tree: &Path) -> bool {
    tree.join("lib/multipath.c").is_file() && tree.join("include/linux/multipath.h").is_file()
}

/// A suite with no cases, named as `b`'s: compiled, never run (the filter
/// names the other one), and free of any API so it builds whatever the
/// tree carries.
pub fn placeholder_suite(b: Backend) -> String {
    let name = suite_name(b);
    format!("// SPDX-License-Identifier: GPL-2.0\n/* mpath-verify: placeholder, the {} suite is not under test in this run */\n#include <kunit/test.h>\n\nstatic struct kunit_case {name}_cases[] = {{\n\t{{}}\n}};\n\nstatic struct kunit_suite {name}_suite = {{\n\t.name = \"{name}\",\n\t.test_cases = {name}_cases,\n}};\nkunit_test_suite({name}_suite);\n", b.name())
}

/// Writes the two suites into `build_dir` and runs run-kunit.sh once:
/// `nvme_src` becomes drivers/nvme/host/mpv_test.c, `lib_src`
/// lib/mpv_lib_test.c (when the tree carries the series), `patches` are
/// applied to the tree after the wiring and reverted with it; the KUnit
/// filter is `filter`. Returns the script's exit code; the raw KTAP is in
/// `build_dir/mpv.ktap`.
pub fn run_script(tree: &Path, build_dir: &Path, arch: Arch, nvme_src: &str, lib_src: &str, filter: &str, patches: &[PathBuf]) -> Result<i32, KunitError> {
    let write = |name: &str, src: &str| -> Result<PathBuf, KunitError> {
        let f = build_dir.join(name);
        std::fs::write(&f, src).map_err(|e| KunitError::BadInput(format!("{}: cannot write: {e}", f.display())))?;
        Ok(f)
    };
    let suite_file = write("mpv_suite.c", nvme_src)?;
    let lib_file = write("mpv_lib_suite.c", lib_src)?;
    let ktap_file = build_dir.join("mpv.ktap");
    let _ = std::fs::remove_file(&ktap_file);
    let script = kunit_dir().join("run-kunit.sh");
    let list: Vec<String> = patches.iter().map(|p| p.display().to_string()).collect();
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .arg(tree)
        .arg(&suite_file)
        .arg(build_dir)
        .arg(&ktap_file)
        .env("MPV_KUNIT_FILTER", filter)
        .env("MPV_LIB_SUITE", &lib_file)
        .env("MPV_ARCH", arch.name())
        .env("MPV_PATCHES", list.join("\n"));
    let status = wait_script(&mut cmd).map_err(|e| KunitError::BadInput(format!("{}: cannot run: {e}", script.display())))?;
    Ok(status.code().unwrap_or(130))
}

/// Runs `traces` on `backend` in `tree`; an error says why no verdict was reached.
///
/// A tree that carries the series is wired for both suites every time (the
/// one not under test gets an empty suite), so one build directory serves
/// both backends and switching between them rebuilds two objects.
pub fn run(tree: &Path, build_dir: &Path, backend: Backend, arch: Arch, traces: &[Trace]) -> Result<RunResult, KunitError> {
    check_tree(tree)?;
    let lib = carries_series(tree);
    if backend == Backend::Libmultipath && !lib {
        return Err(KunitError::NoKernel(format!(
            "{}: tree does not carry the libmultipath series (no lib/multipath.c); `mpath-verify series prepare` stands one up",
            tree.display()
        )));
    }
    std::fs::create_dir_all(build_dir).map_err(|e| KunitError::BadInput(format!("{}: cannot create: {e}", build_dir.display())))?;
    let suite = suite_name(backend);
    let target = super::export::Target { api: crate::series::Api::detect_tree(tree), nodes: arch.nodes() };
    let x = super::export::export_for(backend, &target, traces, suite);
    let (nvme_src, lib_src) = match backend {
        Backend::Nvme612 => (x.source.clone(), placeholder_suite(Backend::Libmultipath)),
        Backend::Libmultipath => (placeholder_suite(Backend::Nvme612), x.source.clone()),
    };
    let ktap_file = build_dir.join("mpv.ktap");
    if x.cases.is_empty() {
        let _ = std::fs::remove_file(&ktap_file);
        let summary = join(&x, &ktap::SuiteResult { complete: true, ..Default::default() }, &[]);
        return Ok(RunResult { export: x, summary, verdict: RunVerdict::Passed, ktap_file });
    }
    let code = run_script(tree, build_dir, arch, &nvme_src, &lib_src, suite, &[])?;
    let text = std::fs::read_to_string(&ktap_file).unwrap_or_default();
    let parsed = ktap::parse(&text, suite);
    // Each case expected to oops runs alone in a boot of its own.
    let mut oops = Vec::new();
    if matches!(code, 0 | 1) {
        for c in x.cases.iter().filter(|c| c.oops_at.is_some()) {
            let ktap = build_dir.join(format!("mpv-oops-{}.ktap", c.case));
            let osuite = super::export::oops_suite(suite);
            eprintln!("kunit run: {} expects an oops at step {}: booting it alone", c.trace, c.oops_at.unwrap_or(-1));
            let text = boot(tree, build_dir, arch, &format!("{osuite}.{}", c.case), &ktap)?;
            oops.push((c.case.clone(), ktap::parse(&text, &osuite)));
        }
    }
    let summary = join(&x, &parsed, &oops);
    if let Some(e) = script_error(code, tree, build_dir, text.is_empty() || parsed.cases.is_empty()) {
        return Err(e);
    }
    let verdict = match code {
        130 => RunVerdict::Interrupted,
        _ if !parsed.complete => RunVerdict::Crashed,
        _ if summary.failed > 0 || summary.unfinished > 0 || !summary.kernel_reports.is_empty() => RunVerdict::Finding,
        _ => RunVerdict::Passed,
    };
    Ok(RunResult { export: x, summary, verdict, ktap_file })
}
