//! The kernel side of the benches: a generator of a KUnit benchmark suite
//! (C) for Linux 6.12 NVMe under UML, built on the conformance harness
//! `conformance/kunit/nvme-6.12/mpv_harness.h`, and a parser of the KTAP
//! diagnostic lines it prints.
//!
//! The suite has one parameterised case, `mpvb_pathsel`, whose parameters
//! are the [`Workload`]s (param description = workload name). Each builds
//! the head with the harness (`mpv_world_new`, `mpv_add_ctrl`,
//! `mpv_add_path`, which hold up to 128 controllers and paths), applies the
//! workload's states, primes it as the reference does, checks that the
//! first timed operation selects the path the reference selects (so both
//! sides really run the same workload), then times batches with
//! `ktime_get_ns()` and prints
//!
//! ```text
//! # mpv-bench: <workload> ns_per_op=<x.yyy> iters=<n> batches=<b> min=<x.yyy>
//! # mpv-bench: <workload> skip=needs-numa nodes=<k>
//! ```
//!
//! Under UML only node 0 exists (`nr_node_ids == 1`), so workloads with
//! more than one node are skipped there and reported as "needs NUMA"; the
//! x86_64 bench guest has 8 nodes ([`crate::run::X86_64_NODES`]) and runs
//! them all. Each case pins itself to a CPU of the caller's node.
//!
//! A second case, `mpvb_reader_scaling`, prints `reader_scaling/t1` and
//! `/t2` (1 or 2 reader kthreads on CPUs 0 and 1 calling `nvme_find_path`
//! while the case's thread flips a path every 20 µs), or
//! `skip=needs-smp` with fewer CPUs (UML: t2).

pub use crate::ktap::{parse_ktap, KernelResult, TAG};
use crate::workloads::{Action, Workload};
use mpath_reference::iopolicy::IoPolicy;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Suite name (KUnit `kunit_suite.name`).
pub const SUITE: &str = "mpv_nvme612_bench";
/// The workload the reader-scaling case (`reader_scaling/t1`, `/t2`) runs
/// on, on both sides.
pub const SCALING_WORKLOAD: &str = "numa_hit.all_opt.p8.n1";
/// Reader counts of the reader-scaling case (`reader_scaling/t<n>`).
pub const SCALING_READERS: [usize; 2] = [1, 2];
/// A scaling batch runs this many calibrated batches' iterations.
pub const SCALING_BATCH_MUL: u64 = 4;
/// Target duration of one timed batch: calibration doubles the batch
/// until the fastest of [`CALIBRATION_TRIES`] batches of that size takes
/// at least this long (one batch slowed by a preemption does not end the
/// calibration early).
pub const BATCH_TARGET_NS: u64 = 1_000_000;
/// Batches timed per workload per round; the round's figure is the
/// fastest (and the median is kept beside it).
pub const BATCHES: u32 = 31;
/// Batches of each size tried while calibrating.
pub const CALIBRATION_TRIES: u32 = 3;

fn iopolicy_c(name: &str) -> &'static str {
    match IoPolicy::from_name(name) {
        Some(IoPolicy::RoundRobin) => "NVME_IOPOLICY_RR",
        Some(IoPolicy::QueueDepth) => "NVME_IOPOLICY_QD",
        _ => "NVME_IOPOLICY_NUMA",
    }
}

fn action_c(a: Action) -> &'static str {
    match a {
        Action::FindPath => "MPVB_FIND",
        Action::FindPathRescan => "MPVB_RESCAN",
        Action::ClearCurrentPathHit => "MPVB_CLEAR_HIT",
        Action::ClearCurrentPathMiss => "MPVB_CLEAR_MISS",
        Action::SrcuReadPair => "MPVB_SRCU",
    }
}

/// What the reference returns for the first timed operation after priming:
/// a path id, -1 for none, or `i32::MIN` for "not a path" (clear / srcu).
pub fn reference_first(w: &Workload) -> Result<i32, String> {
    let sys = w.build()?;
    let idx = w.action.in_read_section().then(|| sys.srcu.read_lock());
    let v = w.op(&sys);
    if let Some(i) = idx {
        sys.srcu.read_unlock(i);
    }
    Ok(match w.action {
        Action::FindPath | Action::FindPathRescan => {
            if v == mpath_reference::head::CP_NULL {
                -1
            } else {
                v as i32 - 1
            }
        }
        Action::ClearCurrentPathHit | Action::ClearCurrentPathMiss => v as i32,
        Action::SrcuReadPair => i32::MIN,
    })
}

fn c_array<T: std::fmt::Display>(out: &mut String, ty: &str, name: &str, vals: impl IntoIterator<Item = T>) {
    let _ = write!(out, "static const {ty} {name}[] = {{");
    for (i, v) in vals.into_iter().enumerate() {
        if i % 16 == 0 {
            out.push_str("\n\t");
        } else {
            out.push(' ');
        }
        let _ = write!(out, "{v},");
    }
    out.push_str("\n};\n");
}

/// The KUnit benchmark suite for `workloads` (C source, includes
/// `mpv_harness.h`). Fails only if a workload does not build on the
/// reference (needed for the expected first selection).
pub fn generate_suite(workloads: &[Workload]) -> Result<String, String> {
    let mut s = String::new();
    s.push_str(HEADER_C);
    for (i, w) in workloads.iter().enumerate() {
        let _ = writeln!(s, "\n/* {} */", w.name);
        c_array(&mut s, "s16", &format!("mpvb_ctrl_node_{i}"), w.ctrls.iter().map(|c| c.node));
        c_array(&mut s, "s32", &format!("mpvb_nr_active_{i}"), w.ctrls.iter().map(|c| c.nr_active));
        c_array(&mut s, "u16", &format!("mpvb_path_ctrl_{i}"), w.paths.iter().map(|p| p.ctrl));
        c_array(&mut s, "u8", &format!("mpvb_path_ana_{i}"), w.paths.iter().map(|p| p.ana.kernel_name()));
        c_array(&mut s, "u8", &format!("mpvb_path_ready_{i}"), w.paths.iter().map(|p| p.ready as u8));
    }
    s.push_str("\nstatic const struct mpvb_wl mpvb_wls[] = {\n");
    for (i, w) in workloads.iter().enumerate() {
        let first = reference_first(w)?;
        let first = if first == i32::MIN { "MPVB_NO_CHECK".to_string() } else { first.to_string() };
        let _ = writeln!(
            s,
            "\t{{ .name = \"{}\", .iopolicy = {}, .action = {}, .nodes = {}, .node = {},\n\t  .nr_ctrls = {}, .nr_paths = {}, .expect_first = {},\n\t  .ctrl_node = mpvb_ctrl_node_{i}, .nr_active = mpvb_nr_active_{i},\n\t  .path_ctrl = mpvb_path_ctrl_{i}, .path_ana = mpvb_path_ana_{i}, .path_ready = mpvb_path_ready_{i} }},",
            w.name,
            iopolicy_c(&w.iopolicy),
            action_c(w.action),
            w.nodes,
            w.node,
            w.ctrls.len(),
            w.paths.len(),
            first,
        );
    }
    s.push_str("};\n");
    let scaling = workloads
        .iter()
        .position(|w| w.name == SCALING_WORKLOAD)
        .ok_or_else(|| format!("the reader-scaling workload {SCALING_WORKLOAD} is not in the workload list"))?;
    let _ = writeln!(s, "\n/* reader_scaling runs on {SCALING_WORKLOAD} */\n#define MPVB_SCALING_WL\t{scaling}");
    s.push('\n');
    s.push_str(BODY_C);
    Ok(s)
}

/// The suite's fixed C before the generated tables: the prelude, the
/// constants (the Rust constants above, checked by a test), the workload
/// descriptor.
const HEADER_C: &str = include_str!("../kunit/mpvb_suite_head.c.in");

/// The suite's fixed C after the generated tables: building a head,
/// timing batches, the two cases.
const BODY_C: &str = include_str!("../kunit/mpvb_suite_body.c.in");

/// The KUnit harness (run-kunit.sh and its files): `$MPV_KUNIT_DIR`, which
/// `mpath-verify bench` points at its embedded copy of conformance/kunit
/// (written under the cache dir, so an installed binary needs no source
/// tree), else conformance/kunit of this workspace.
pub fn harness_dir() -> PathBuf {
    std::env::var_os("MPV_KUNIT_DIR").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/kunit"))
}

/// Generate the suite for every workload, build and run it under UML with
/// `run-kunit.sh <kernel_src> <suite> <build_dir> <ktap_out>`, and parse
/// the result. `kernel_src` is an unpacked linux-source-6.12 tree (see
/// `conformance/kunit/setup-kernel.sh`); `build_dir` must lie outside it.
/// The raw output is kept at `ktap_out`.
pub fn run_kernel(kernel_src: &Path, build_dir: &Path, ktap_out: &Path) -> Result<Vec<KernelResult>, String> {
    let suite = generate_suite(&crate::workloads::all())?;
    std::fs::create_dir_all(build_dir).map_err(|e| format!("{}: {e}", build_dir.display()))?;
    let suite_path = build_dir.join("mpv_bench_suite.c");
    std::fs::write(&suite_path, suite).map_err(|e| format!("{}: {e}", suite_path.display()))?;
    let script = harness_dir().join("run-kunit.sh");
    let status = std::process::Command::new("bash")
        .arg(&script)
        .arg(kernel_src)
        .arg(&suite_path)
        .arg(build_dir)
        .arg(ktap_out)
        .env("MPV_KUNIT_FILTER", format!("{SUITE}*"))
        .status()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    let text = std::fs::read_to_string(ktap_out).map_err(|e| format!("{}: {e}", ktap_out.display()))?;
    let res = parse_ktap(&text)?;
    if !status.success() {
        return Err(format!("run-kunit.sh exited {status} ({} bench lines parsed; output in {})", res.len(), ktap_out.display()));
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads;

    #[test]
    fn suite_has_every_workload_and_the_reference_expectations() {
        let all = workloads::all();
        let c = generate_suite(&all).unwrap();
        assert!(c.contains("#include \"mpv_harness.h\""));
        assert!(c.contains("KUNIT_CASE_PARAM(mpvb_pathsel, mpvb_gen_params)"));
        for w in &all {
            assert!(c.contains(&format!(".name = \"{}\"", w.name)), "{}", w.name);
        }
        // one_opt_last: the reference picks the last path; the kernel is checked against it.
        let w = workloads::by_name("numa_rescan.one_opt_last.p8.n1").unwrap();
        assert_eq!(reference_first(&w).unwrap(), 7);
        assert!(c.contains(".name = \"numa_rescan.one_opt_last.p8.n1\", .iopolicy = NVME_IOPOLICY_NUMA, .action = MPVB_RESCAN, .nodes = 1, .node = 0,\n\t  .nr_ctrls = 8, .nr_paths = 8, .expect_first = 7,"));
        // round-robin over all-optimized paths moves from the primed path 0 to 1.
        let w = workloads::by_name("round_robin.all_opt.p4.n1").unwrap();
        assert_eq!(reference_first(&w).unwrap(), 1);
        assert_eq!(reference_first(&workloads::Workload::srcu_pair()).unwrap(), i32::MIN);
        assert!(c.contains("NVME_IOPOLICY_QD") && c.contains("NVME_IOPOLICY_RR"));
        // reader scaling: its case, its workload's index, the reader counts of SCALING_READERS
        assert!(c.contains("KUNIT_CASE_PARAM(mpvb_reader_scaling, mpvb_scaling_gen_params)"));
        let idx = all.iter().position(|w| w.name == SCALING_WORKLOAD).unwrap();
        assert!(c.contains(&format!("#define MPVB_SCALING_WL\t{idx}\n")), "{idx}");
        let readers: Vec<String> = SCALING_READERS.iter().map(|r| r.to_string()).collect();
        assert!(c.contains(&format!("mpvb_scaling_readers[] = {{ {} }};", readers.join(", "))));
        assert!(c.contains(&format!("#define MPVB_SCALING_BATCH_MUL\t{SCALING_BATCH_MUL}")));
        assert!(
            c.contains(&format!("#define MPVB_BATCHES\t\t{BATCHES}\n"))
                && c.contains(&format!("#define MPVB_CALIBRATION_TRIES\t{CALIBRATION_TRIES}\n"))
                && c.contains(&format!("MPVB_BATCH_TARGET_NS\t{BATCH_TARGET_NS}ULL"))
        );
        // without the scaling workload there is no suite
        let without: Vec<_> = all.iter().filter(|w| w.name != SCALING_WORKLOAD).cloned().collect();
        assert!(generate_suite(&without).unwrap_err().contains(SCALING_WORKLOAD));
    }
}
