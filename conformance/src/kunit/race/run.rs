//! A race run: wire the suite, apply the schedule-point patch, build, boot,
//! and read a verdict per schedule.

use super::backend::{RaceBackend, NEEDS_KASAN, RACE_SUITE};
use super::generate::{assemble, generate};
use super::input::RaceInput;
use super::ktap::{case_text, parse_ktap, point_lines, RaceResult};
use super::mirror::mirror_defines;
use crate::kunit::{KunitError, RunVerdict};
use std::path::{Path, PathBuf};

/// Runs schedules on the kernel tree in one boot: wires the race suite
/// (a case per schedule), applies the schedule-point patch (and `mutants`,
/// C patches applied on top of it), builds, boots, restores the tree.
pub fn run(
    tree: &Path,
    build_dir: &Path,
    arch: crate::kunit::run::Arch,
    inputs: &[RaceInput],
    mutants: &[PathBuf],
) -> Result<(Vec<RaceResult>, RunVerdict), KunitError> {
    if arch == crate::kunit::run::Arch::Um {
        if let Some(i) = inputs.iter().find(|i| i.property == NEEDS_KASAN) {
            return Err(KunitError::BadInput(format!(
                "{}: property {NEEDS_KASAN} is observed through KASAN, which only the x86_64 build carries: add --arch x86_64",
                i.file
            )));
        }
    }
    crate::kunit::run::check_tree(tree)?;
    let mut cases = Vec::new();
    for input in inputs {
        cases.push(generate(input).map_err(|e| KunitError::BadInput(e.0))?);
    }
    let Some(backend) = cases.first().map(|c| c.backend) else {
        return Err(KunitError::BadInput("no schedule to run".to_string()));
    };
    if let Some(c) = cases.iter().find(|c| c.backend != backend) {
        return Err(KunitError::BadInput(format!(
            "{}: a {} schedule; one run replays schedules of one kernel C ({})",
            c.case,
            c.backend.name(),
            backend.name()
        )));
    }
    if backend == RaceBackend::LibV2 && (!crate::kunit::run::carries_series(tree) || crate::series::Api::detect_tree(tree) != crate::series::Api::V2) {
        return Err(KunitError::NoKernel(format!(
            "{}: v2 schedules run on the series' lib/multipath.c: the tree must carry the v2 series (`mpath-verify series prepare`)",
            tree.display()
        )));
    }
    // The booted kernel's nodes against the model's: a loop over every
    // node (mpath_clear_current_path, set_live's per-node selection) also
    // visits nodes the model does not have.
    let nodes = arch.nodes();
    for (c, input) in cases.iter_mut().zip(inputs) {
        let online = &input.header.topology.online;
        if nodes.iter().any(|n| !online.contains(n)) {
            c.approximations.push(format!(
                "the model's online nodes are {online:?}, the booted {} kernel's {nodes:?}: for_each_node loops in the kernel (current_path[] per node) also visit the nodes the model lacks",
                arch.name()
            ));
        }
    }
    let (source, cases) = assemble(cases, &mirror_defines(Some(tree)));
    for (c, input) in cases.iter().zip(inputs) {
        for a in &c.approximations {
            eprintln!("kunit race: {}: approximation: {a}", input.file);
        }
    }
    std::fs::create_dir_all(build_dir).map_err(|e| KunitError::BadInput(format!("{}: cannot create: {e}", build_dir.display())))?;
    let mut patches = vec![crate::kunit::run::kunit_dir().join(backend.patch())];
    for m in mutants {
        if !m.is_file() {
            return Err(KunitError::BadInput(format!("{}: no such patch", m.display())));
        }
        patches.push(m.clone());
    }
    let (nvme_src, lib_src) = match backend {
        RaceBackend::Nvme612 => (source, crate::kunit::run::placeholder_suite(crate::kunit::Backend::Libmultipath)),
        RaceBackend::LibV2 => (crate::kunit::run::placeholder_suite(crate::kunit::Backend::Nvme612), source),
    };
    let code = crate::kunit::run::run_script(tree, build_dir, arch, &nvme_src, &lib_src, RACE_SUITE, &patches)?;
    let text = std::fs::read_to_string(build_dir.join("mpv.ktap")).unwrap_or_default();
    if let Some(e) = crate::kunit::run::script_error(code, tree, build_dir, text.is_empty()) {
        return Err(e);
    }
    // Line numbers: the tree's multipath.c with the schedule points only
    // (computed aside: the tree itself is restored by now).
    let points = patched_file(tree, backend.file(), &patches[..1]).map(|p| point_lines(&p)).unwrap_or_default();
    let mut results = Vec::new();
    let mut worst = RunVerdict::Passed;
    for (c, input) in cases.iter().zip(inputs) {
        let text = case_text(&text, &c.case);
        let (mut reproduced, mut verdict, log) = parse_ktap(text, &points);
        let kernel_reports = crate::kunit::ktap::kernel_reports_in(text);
        // A use-after-free is reproduced only by KASAN saying so.
        let uaf: Vec<&String> = kernel_reports.iter().filter(|r| r.contains("KASAN: ") && r.contains("use-after-free")).collect();
        if input.property == NEEDS_KASAN && reproduced == Some(true) && uaf.is_empty() {
            reproduced = Some(false);
            verdict = format!("NOT-REPRODUCED a race thread's KASAN probe failed but the console has no KASAN use-after-free report (was: {verdict})");
        }
        // Reports that are the reproduced violation's evidence are not
        // findings of their own.
        let unexpected = kernel_reports.iter().filter(|r| !(input.property == NEEDS_KASAN && reproduced == Some(true) && uaf.contains(r))).count();
        let result = RaceResult {
            schedule: input.file.clone(),
            case: c.case.clone(),
            reproduced,
            verdict,
            log,
            approximations: c.approximations.clone(),
            kernel_reports,
            mutant_patches: mutants.iter().map(|m| m.display().to_string()).collect(),
        };
        let v = if code == 130 {
            RunVerdict::Interrupted
        } else if result.reproduced.is_none() {
            RunVerdict::Crashed
        } else if unexpected > 0 || result.reproduced == Some(false) {
            RunVerdict::Finding
        } else {
            RunVerdict::Passed
        };
        worst = worst.max(v);
        results.push(result);
    }
    Ok((results, worst))
}

/// multipath.c of `tree` with `patches` applied, computed in a temp dir
/// (for mapping point lines back); None when `patch` cannot do it.
fn patched_file(tree: &Path, file: &str, patches: &[PathBuf]) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("mpv-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let f = dir.join("multipath.c");
    std::fs::copy(tree.join(file), &f).ok()?;
    for p in patches {
        let ok = std::process::Command::new("patch").arg("-s").arg("-N").arg("-F").arg("0").arg(&f).arg("-i").arg(p).status().ok()?.success();
        if !ok {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
    }
    let s = std::fs::read_to_string(&f).ok();
    let _ = std::fs::remove_dir_all(&dir);
    s
}
