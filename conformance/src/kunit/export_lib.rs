//! The `libmultipath` backend: the series' own `lib/multipath.c`, driven
//! through its exported `mpath_*` API, for a tree that carries the series
//! (`mpath-verify series prepare`): v2, or v1 (`export_lib_v1`).
//!
//! Case bodies call only the suite's `mpvl_*` wrappers, so one emitter
//! serves both APIs. The C prelude is a shared head and core (world,
//! template callbacks, paths, removal, selection under the watchdog,
//! observation rows) and one section per API implementing the driver glue
//! that differs (the contract is the prototype block in the core).
//!
//! The suite plays the driver: an NVMe-like template whose callbacks read
//! per-path test state (controller state, READY, ANA), real gendisks for
//! the head (`mpath_alloc_head_disk`) and for each path, and the calls the
//! trace names. Every reported check reads library objects: `dev_list`
//! walked under SRCU, `current_path[]`, the head and device flag bits, the
//! head's kref, its gendisk state, the requeue list. Driver-side fields
//! (READY, ANA pending) are the suite's own state and are counted as not
//! applicable, never as kernel checks.
//!
//! An expected non-termination is confirmed in C: the template's
//! `is_disabled` callback, which the selection loop calls once per path it
//! visits, counts the calls of one selection; past a bound no terminating
//! selection can reach, it records the spin, lets the loop out (that one
//! path reads as usable) and the suite restores `current_path[]` and the
//! path's state, so the trace goes on from the state the reference kept.

use super::backend::{c_str, quoted, step_text, Case, KunitBackend, Target};
use crate::parse::Trace;
use mpath_reference::driver::{ana_to_access, predicates, AccessState, AnaState, CtrlState, DriverKind};
use mpath_reference::ops::{Op, Ret};
use mpath_reference::violation::Kind;
use std::fmt::Write as _;

/// Kconfig/Makefile wiring, quoted in the generated file's header comment.
pub const KCONFIG_FRAGMENT: &str = include_str!("../../kunit/wiring/lib-Kconfig.fragment");
pub const MAKEFILE_FRAGMENT: &str = include_str!("../../kunit/wiring/lib-Makefile.fragment");
pub const KUNITCONFIG: &str = include_str!("../../kunit/libmultipath.kunitconfig");

/// Paths and controllers one case can hold.
pub const LIB_MAX: usize = 16;

/// The head of the suite's C: includes and constants.
const C_HEAD: &str = include_str!("../../kunit/libmultipath/mpvl_head.h");

/// The suite's world and the template callbacks every revision shares,
/// then the contract each API section implements.
const C_CORE: &str = include_str!("../../kunit/libmultipath/mpvl_core.h");

/// The v2 API's own state: the watchdog saves the access state it forces.
const C_API_V2_TYPES: &str = include_str!("../../kunit/libmultipath/mpvl_api_v2_types.h");

/// The v2 API section: the driver glue of the v2 series (`mpath_head`
/// carries the gendisk, `drvdata`, `access_state` in the device).
const C_API_V2: &str = include_str!("../../kunit/libmultipath/mpvl_api_v2.h");

/// The C prelude for a tree whose `multipath.h` declares `api`: the
/// shared head and core, then the API's own section.
pub fn prelude(api: crate::series::Api) -> String {
    let (types, body) = match api {
        crate::series::Api::V1 => (super::export_lib_v1::C_API_V1_TYPES, super::export_lib_v1::C_API_V1),
        _ => (C_API_V2_TYPES, C_API_V2),
    };
    let mut core = C_CORE.to_string();
    for (placeholder, c) in predicates_c().expect("the predicate table fits the suite's C encoding (tested)") {
        core = core.replace(placeholder, &c);
    }
    [C_HEAD, types, &core, body].concat()
}

/// `enum mpvl_ctrl`'s enumerators, in declaration order.
const MPVL_CTRL: [&str; 4] = ["MPVL_CTRL_OTHER", "MPVL_CTRL_LIVE", "MPVL_CTRL_DELETING", "MPVL_CTRL_RECONNECTING"];
/// `enum mpvl_ana`'s enumerators, in declaration order.
const MPVL_ANA: [&str; 3] = ["MPVL_ANA_OPTIMIZED", "MPVL_ANA_NONOPTIMIZED", "MPVL_ANA_OTHER"];

/// `expr == A || expr == B ...` over the C enumerators (`enc` of each
/// member of `set`, in `order`), parenthesised when there are several;
/// an error when `set` splits an enumerator's class (two states the C
/// encodes alike, one in the set and one not: the C cannot say it).
fn c_condition<T: Copy + PartialEq + std::fmt::Debug>(
    expr: &str,
    set: &[T],
    all: &[T],
    enc: impl Fn(T) -> &'static str,
    order: &[&str],
) -> Result<String, String> {
    for &a in all {
        for &b in all {
            if enc(a) == enc(b) && set.contains(&a) != set.contains(&b) {
                return Err(format!("{a:?} and {b:?} are both {} in the suite's C, but the predicate table tells them apart", enc(a)));
            }
        }
    }
    let names: Vec<&str> = order.iter().copied().filter(|n| set.iter().any(|&x| enc(x) == *n)).collect();
    let terms: Vec<String> = names.iter().map(|n| format!("{expr} == {n}")).collect();
    Ok(match terms.len() {
        0 => "false".to_string(),
        1 => terms[0].clone(),
        _ => format!("({})", terms.join(" || ")),
    })
}

/// The C bodies of the suite's `is_disabled` / `is_optimized` /
/// `available_path` (placeholders in the core), generated from the one
/// predicate table, `mpath_reference::driver::predicates`: the controller
/// states each accepts, in the suite's encoding (`ctrl_c`, `ana_c`). The
/// suite has no FAILFAST_EXPIRED flag (its traces never set one).
pub fn predicates_c() -> Result<Vec<(&'static str, String)>, String> {
    predicates_c_from(predicates::NVME_CTRL_AVAILABLE, predicates::NVME_CTRL_ENABLED, predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED)
}

/// [`predicates_c`] from given state sets (a test alters them).
pub fn predicates_c_from(
    available: &[CtrlState],
    enabled: &[CtrlState],
    optimized: &[CtrlState],
    ana_optimized: &[AnaState],
) -> Result<Vec<(&'static str, String)>, String> {
    const ANA_ALL: [AnaState; 5] = [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change];
    let ctrl = |expr: &str, set: &[CtrlState]| c_condition(expr, set, &CtrlState::ALL, ctrl_c, &MPVL_CTRL);
    let avail = ctrl("s", available)?;
    let enabled = ctrl("s", enabled)?;
    let optimized = ctrl("mpvl_w(d)->ctrl[mpvl_p(d)->ctrl]", optimized)?;
    let ana = c_condition("mpvl_p(d)->ana", ana_optimized, &ANA_ALL, ana_c, &MPVL_ANA)?;
    // `!(x)` of a single term keeps the parentheses of the C.
    let enabled = enabled.strip_prefix('(').and_then(|e| e.strip_suffix(')')).map(str::to_string).unwrap_or(enabled);
    Ok(vec![
        ("@NVME_CTRL_AVAILABLE@", avail.trim_start_matches('(').trim_end_matches(')').to_string()),
        ("@NVME_CTRL_ENABLED@", enabled),
        ("@NVME_CTRL_OPTIMIZED@", optimized),
        ("@NVME_ANA_OPTIMIZED@", ana),
    ])
}

/// The suite's ANA encoding (`enum mpvl_ana`).
fn ana_c(a: AnaState) -> &'static str {
    match ana_to_access(a) {
        AccessState::Optimized => "MPVL_ANA_OPTIMIZED",
        AccessState::Nonoptimized => "MPVL_ANA_NONOPTIMIZED",
        AccessState::Other => "MPVL_ANA_OTHER",
    }
}

/// The suite's controller encoding (`enum mpvl_ctrl`), after NVMe's
/// `nvme_path_is_disabled` / `nvme_available_path` readings.
fn ctrl_c(s: CtrlState) -> &'static str {
    match s {
        CtrlState::Live => "MPVL_CTRL_LIVE",
        CtrlState::Deleting => "MPVL_CTRL_DELETING",
        CtrlState::Resetting | CtrlState::Connecting => "MPVL_CTRL_RECONNECTING",
        _ => "MPVL_CTRL_OTHER",
    }
}

const IOPOLICY_C: [&str; 3] = ["MPATH_IOPOLICY_NUMA", "MPATH_IOPOLICY_RR", "MPATH_IOPOLICY_QD"];

/// One case being emitted.
struct Emit<'a> {
    out: String,
    checks: usize,
    na: usize,
    /// trace path id -> suite index
    map: Vec<Option<usize>>,
    nr: usize,
    trace: &'a Trace,
    /// Some op may have added the head gendisk (put_disk would then free a
    /// registered disk under the block layer).
    maybe_live: bool,
    /// The step at which the trace expects a NULL dereference.
    oops_at: Option<i64>,
    /// The API the tree declares.
    api: crate::series::Api,
    /// The kernel's NUMA node ids.
    nodes: Vec<i32>,
}

impl Emit<'_> {
    fn line(&mut self, s: &str) {
        self.out.push('\t');
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn idx(&self, p: u32) -> Result<usize, String> {
        self.map.get(p as usize).copied().flatten().ok_or_else(|| format!("path {p} unknown"))
    }

    /// `expr;`, or an expectation on it when the trace states its result.
    fn call(&mut self, expr: &str, want: Option<String>) {
        match want {
            Some(e) => {
                self.checks += 1;
                self.line(&format!("MPVL_EXPECT_EQ(w, {expr}, {e});"));
            }
            None => self.line(&format!("{expr};")),
        }
    }

    fn show(&mut self, show: &str, arg: usize, ret: Option<&Ret>) {
        match ret {
            Some(Ret::Str(x)) => {
                self.checks += 1;
                self.line(&format!("MPVL_EXPECT_STREQ(w, mpvl_show(w, {show}, {arg}), {});", c_str(x)));
            }
            _ => self.line(&format!("mpvl_show(w, {show}, {arg});")),
        }
    }

    fn op(&mut self, step: i64, op: &Op, ret: Option<&Ret>, spin: bool) -> Result<(), String> {
        let h = &self.trace.header;
        match op {
            Op::AddDevice { path, ctrl, ana } => {
                let node = h.ctrl_nodes.get(*ctrl as usize).copied().unwrap_or(-1);
                if node >= 0 && !self.nodes.contains(&node) {
                    return Err(format!("ctrl_nodes name node {node}, which this kernel does not have"));
                }
                let node = if node < 0 { "NUMA_NO_NODE".to_string() } else { node.to_string() };
                let nr = self.nr;
                self.line(&format!("KUNIT_ASSERT_EQ(test, mpvl_add(w, {ctrl}, {}, {node}), {nr});", ana_c(ana.unwrap_or(AnaState::Optimized))));
                let max_paths = self.map.len();
                *self.map.get_mut(*path as usize).ok_or_else(|| format!("step {step}: path {path} out of range (max_paths {max_paths})"))? = Some(nr);
                self.nr += 1;
            }
            Op::AddPath { path, ctrl, capacity, ana, alua: _, missing_ops } => {
                if !missing_ops.is_empty() {
                    return Err(format!("step {step}: add_path with missing block_device_operations only matters to forwarding, which is not driven"));
                }
                let node = h.ctrl_nodes.get(*ctrl as usize).copied().unwrap_or(-1);
                if node >= 0 && !self.nodes.contains(&node) {
                    return Err(format!("ctrl_nodes name node {node}, which this kernel does not have"));
                }
                let node = if node < 0 { "NUMA_NO_NODE".to_string() } else { node.to_string() };
                let nr = self.nr;
                let a = ana.unwrap_or(AnaState::Optimized);
                self.line(&format!("KUNIT_ASSERT_EQ(test, mpvl_add_path(w, {ctrl}, {}, {}, {node}), {nr});", ana_c(a), ana.is_none()));
                if *capacity != mpath_reference::ops::DEFAULT_CAPACITY {
                    self.line(&format!("set_capacity(w->p[{nr}]->dev.disk, {capacity}ULL);"));
                }
                let max_paths = self.map.len();
                *self.map.get_mut(*path as usize).ok_or_else(|| format!("step {step}: path {path} out of range (max_paths {max_paths})"))? = Some(nr);
                self.nr += 1;
                self.maybe_live = true;
            }
            Op::AnaUpdate { path, state } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpvl_ana_update(w, {i}, {});", ana_c(*state)));
                self.maybe_live = true;
            }
            Op::SetLive { path } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpvl_set_live(w, {i});"));
                self.maybe_live = true;
            }
            Op::AddSysfsLink => {
                if !h.head_disk {
                    return Err(format!("step {step}: add_sysfs_link without a head gendisk dereferences NULL"));
                }
                self.line("mpvl_add_sysfs_link(w);");
                self.na += ret.is_some() as usize;
            }
            Op::RemoveSysfsLink { path } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpvl_remove_sysfs_link(w, {i});"));
            }
            Op::RemoveDisk => {
                if self.api == crate::series::Api::V1 && !h.head_disk {
                    return Err(format!("step {step}: remove_disk without a head gendisk: v1's mpath_remove_disk takes the struct mpath_disk a driver without one does not have"));
                }
                self.line("mpvl_remove_disk(w);");
            }
            Op::PutDisk => {
                if self.maybe_live {
                    return Err(format!("step {step}: put_disk after the head gendisk may have been added frees a registered disk under the block layer"));
                }
                self.line("if (w->head_disk) {\n\t\tmpvl_put_disk(w);\n\t\tw->head_disk_put = true;\n\t}");
            }
            Op::AllocHeadDisk { fail, capacity } => {
                if *fail {
                    return Err(format!("step {step}: alloc_head_disk failure injection (blk_alloc_disk returning an error) is not driven"));
                }
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.call(&format!("mpvl_alloc_head_disk(w, {capacity}ULL)"), want);
            }
            Op::RemovePath { path, node: 0 } => {
                let i = self.idx(*path)?;
                let pr = &self.trace.profile;
                let syncs: Vec<&str> = [(pr.remove_sync1, "MPVL_SYNC1"), (pr.remove_sync2, "MPVL_SYNC2"), (pr.remove_sync3, "MPVL_SYNC3")]
                    .iter()
                    .filter(|x| x.0)
                    .map(|x| x.1)
                    .collect();
                let syncs = if syncs.is_empty() { "0".to_string() } else { syncs.join(" | ") };
                self.line(&format!("mpvl_remove_path(w, {i}, {syncs}, {});", pr.delayed_removal));
            }
            Op::RunWorks { node: 0 } => {
                self.line("mpvl_flush_works(w);");
                if let Some(Ret::Works(ws)) = ret {
                    if ws.contains(&mpath_reference::work::Work::RemoveHead) {
                        self.checks += 1;
                        self.line("MPVL_EXPECT_EQ(w, mpvl_run_remove_work(w), true);");
                    }
                    // Which of the self-running works ran at this very step is
                    // timing, not a property of the C.
                    self.na += 1;
                }
            }
            Op::AdvanceTime { .. } => self.line("/* the trace's clock: the removal it makes due runs at run_works */"),
            Op::SetAnaState { path, state } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpvl_set_ana(w, {i}, {});", ana_c(*state)));
            }
            Op::SetCtrlState { ctrl, state } => self.line(&format!("w->ctrl[{ctrl}] = {};", ctrl_c(*state))),
            Op::SetReady { path, ready } => {
                let i = self.idx(*path)?;
                self.line(&format!("w->p[{i}]->ready = {ready};"));
            }
            Op::SetAnaPending { path, pending } => {
                let i = self.idx(*path)?;
                self.line(&format!("w->p[{i}]->ana_pending = {pending};"));
            }
            Op::SetNrActive { ctrl, n } => self.line(&format!("w->nr_active[{ctrl}] = {n};")),
            Op::SetCapacity { path, sectors } => {
                let i = self.idx(*path)?;
                self.line(&format!("set_capacity(w->p[{i}]->dev.disk, {sectors}ULL);"));
            }
            Op::Synchronize => self.line("mpvl_synchronize(w);"),
            Op::FindPath { node } if self.nodes.contains(node) => {
                // Under a spin the return value is the watchdog's, not the
                // kernel's: only the did-not-terminate verdict is checked.
                let want = if spin {
                    None
                } else {
                    match ret {
                        Some(Ret::Path(Some(p))) => Some(self.idx(*p)?.to_string()),
                        Some(Ret::Path(None)) => Some("MPVL_NONE".into()),
                        _ => None,
                    }
                };
                self.checks += 1; // the terminated / did-not-terminate verdict
                self.call(&format!("mpvl_find_path(w, {node}, {spin})"), want);
            }
            Op::CallForDevice { node } if self.nodes.contains(node) => {
                if spin {
                    return Err(format!("step {step}: call_for_device expected not to terminate: only find_path carries the watchdog verdict"));
                }
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.checks += 1; // the terminated verdict, inside
                self.call(&format!("mpvl_call_for_device(w, {node})"), want);
            }
            Op::ClearCurrentPath { path } => {
                let i = self.idx(*path)?;
                self.call(&format!("mpvl_clear_current_path(w, {i})"), ret_bool(ret));
            }
            Op::ClearPaths => self.line("mpvl_clear_paths(w);"),
            Op::DeleteDevice { path } => {
                let i = self.idx(*path)?;
                self.call(&format!("mpvl_delete_device(w, {i})"), ret_bool(ret));
            }
            Op::HeadDevicesEmpty => self.call("mpvl_devices_empty(w)", ret_bool(ret)),
            Op::RevalidatePaths => {
                if !h.head_disk {
                    return Err(format!("step {step}: revalidate_paths without a head gendisk dereferences NULL in get_capacity (the reference reports it; a KUnit run would oops)"));
                }
                self.line("mpvl_revalidate_paths(w);");
            }
            Op::SetIopolicy { val } => {
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.call(&format!("mpvl_set_iopolicy(w, {})", c_str(val)), want);
            }
            Op::IopolicyStore { buf } => {
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.call(&format!("mpvl_iopolicy_store(w, {})", c_str(buf)), want);
            }
            Op::IopolicyShow => self.show("mpvl_iopolicy_show", 0, ret),
            Op::NumaNodesShow { path } => {
                let i = self.idx(*path)?;
                self.show("mpvl_numa_nodes_show", i, ret);
            }
            Op::DelayedRemovalSecsShow => self.show("mpvl_delayed_show", 0, ret),
            Op::DelayedRemovalSecsStore { buf } => {
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.call(&format!("mpvl_delayed_store(w, {})", c_str(buf)), want);
            }
            Op::CanRemoveHead => {
                if !h.head_disk {
                    return Err(format!("step {step}: can_remove_head without a head gendisk schedules an uninitialised remove_work"));
                }
                self.call("mpvl_can_remove_head(w)", ret_bool(ret));
            }
            other => {
                let name = serde_json::to_value(other).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from)).unwrap_or_default();
                return Err(format!("step {step}: {}", not_drivable(&name)));
            }
        }
        Ok(())
    }

    fn expect(&mut self, step: i64, o: &mpath_reference::Observation) -> Result<(), String> {
        let mut rows: Vec<String> = Vec::new();
        if let Some(cp) = &o.current_path {
            for (node, v) in cp.iter().enumerate() {
                let e = match v {
                    None => -1,
                    Some(p) if *p >= 0 => self.idx(*p as u32)? as i64,
                    Some(_) => {
                        return Err(format!(
                            "step {step}: expects an uninitialised current_path pointer (v1 R12), which KUnit cannot read without undefined behaviour"
                        ))
                    }
                };
                rows.push(format!("{{ MPVL_X_CP, {node}, {e} }}"));
            }
        }
        if let Some(list) = &o.dev_list {
            for (p, m) in self.map.iter().enumerate() {
                if let Some(i) = m {
                    let pos = list.iter().position(|x| *x as usize == p).map(|x| x as i64).unwrap_or(-1);
                    rows.push(format!("{{ MPVL_X_LIST_POS, {i}, {pos} }}"));
                }
            }
            rows.push(format!("{{ MPVL_X_LIST_LEN, 0, {} }}", list.len()));
        }
        if let Some(bits) = &o.link_bits {
            for (p, m) in self.map.iter().enumerate() {
                if let Some(i) = m {
                    rows.push(format!("{{ MPVL_X_LINK_BIT, {i}, {} }}", bits.contains(&(p as u32)) as i32));
                }
            }
        }
        if let Some(f) = o.head_flags {
            rows.push(format!("{{ MPVL_X_HEAD_FLAGS, 0, {} }}", f & 3));
        }
        if let Some(r) = o.head_ref {
            rows.push(format!("{{ MPVL_X_HEAD_REF, 0, {r} }}"));
        }
        if let Some(n) = o.requeue_len {
            rows.push(format!("{{ MPVL_X_REQUEUE_LEN, 0, {n} }}"));
        }
        match o.head_disk.as_deref() {
            Some("added") => rows.push("{ MPVL_X_DISK_ADDED, 0, 1 }".into()),
            Some("allocated") | Some("none") => rows.push("{ MPVL_X_DISK_ADDED, 0, 0 }".into()),
            Some(_) => self.na += 1,
            None => {}
        }
        // Driver state held by the suite's template, and what a KUnit case
        // cannot read from the library: not applicable, never a kernel check.
        for f in [o.ready.is_some(), o.ana_pending.is_some(), o.links.is_some(), o.module_refs.is_some(), o.pending_work.is_some(), o.bios_failed.is_some()] {
            if f {
                self.na += 1;
            }
        }
        if let Some(v) = &o.violations {
            // A NULL dereference is an oops the kernel reports by itself: the
            // case stops at it and runs in its own boot. A use-after-free or
            // a wild pointer would go unnoticed without KASAN, or corrupt
            // the kernel under test.
            if let Some(x) = v.iter().find(|x| !matches!(x.kind, Kind::NonTermination | Kind::NullDeref | Kind::NullDisk)) {
                return Err(format!("step {step}: expects a {:?} violation, which a KUnit run without KASAN cannot observe", x.kind));
            }
        }
        if !rows.is_empty() {
            self.checks += rows.len();
            let _ = writeln!(
                self.out,
                "\t{{\n\t\tstatic const struct mpvl_x x[] = {{\n\t\t\t{},\n\t\t}};\n\n\t\tmpvl_check(w, x, ARRAY_SIZE(x));\n\t}}",
                rows.join(",\n\t\t\t")
            );
        }
        Ok(())
    }
}

/// Why an operation is not driven by this backend (each a property of the
/// C under KUnit, or of this backend's reach, said plainly).
fn not_drivable(op: &str) -> String {
    let why = match op {
        "remove_path" => "removal on a node other than 0 needs NUMA",
        "fail_next_add_disk" => "device_add_disk failure injection is not driven",
        "open" | "release" | "head_uninit" => "opening the head block device from a KUnit case is not driven",
        "submit_bio" | "failover" | "complete" => "bio submission, requeue and delayed works need a live head request queue; not driven yet",
        "chr_ioctl" | "uring_cmd" | "forward" => "ioctl / uring / PR forwarding need a real path block device and file",
        "free_path" | "revalidate" | "set_ctrl_node" => "driver-side op the suite's template does not model",
        "set_sdev_state" | "set_alua_state" | "scsi_block" | "set_failfast" => "SCSI driver state",
        _ => "not drivable by the libmultipath suite",
    };
    format!("{op}: {why}")
}

/// A violation of the C's semantics that the compiled kernel does not show,
/// so no KUnit case can observe it.
fn compiled_away(v: &mpath_reference::violation::Violation, p: &mpath_reference::revision::Profile) -> Option<&'static str> {
    // v1 R4: `mpath_head = mpath_disk->mpath_head` comes before
    // `if (!mpath_disk) return;`, but nothing uses the value before the
    // test, and GCC moves the load below it (the built lib/multipath.o
    // starts with `test %rdi,%rdi; je`): with no disk the call returns
    // without a fault. Undefined behaviour all the same.
    (v.kind == Kind::NullDeref && v.function == "mpath_device_set_live" && !p.set_live_checks_disk_first)
        .then_some("expects v1's R4 NULL read in mpath_device_set_live, which the compiled kernel does not perform (GCC moves the unused load of mpath_disk->mpath_head below the NULL test): undefined behaviour no KUnit case can observe")
}

fn ret_bool(ret: Option<&Ret>) -> Option<String> {
    match ret {
        Some(Ret::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// The libmultipath case for one trace, or why it cannot be driven.
/// `prefix`, then the C that declares `w` and builds the trace header's
/// world: the head (and its gendisk), controllers, the setup ops.
fn world_and_setup<'a>(t: &'a Trace, target: &Target, prefix: &str) -> Result<Emit<'a>, String> {
    let h = &t.header;
    let pol = mpath_reference::iopolicy::IOPOLICY_NAME_LIST.iter().position(|p| *p == h.iopolicy).unwrap_or(0);
    let mut e = Emit {
        out: prefix.to_string(),
        checks: 0,
        na: 0,
        map: vec![None; h.max_paths],
        nr: 0,
        trace: t,
        maybe_live: false,
        oops_at: None,
        api: target.api,
        nodes: target.nodes.clone(),
    };
    // The trace's name on a line of its own: checkpatch lets a string run long.
    let indent = "\t\t\t\t\t      ";
    e.line(&format!(
        "struct mpvl_world *w = mpvl_world_new(test,\n{indent}{},\n{indent}{}, {}, {});",
        c_str(&t.file),
        h.nr_ctrls,
        IOPOLICY_C[pol],
        h.head_disk
    ));
    e.out.push('\n');
    for op in &h.setup {
        e.line(&format!("mpvl_step(w, -1, {});", c_str(&step_text(op))));
        e.op(-1, op, None, false)?;
    }
    Ok(e)
}

/// The world of a race schedule's header on the series (v2 API): the C
/// that declares and builds `w`, and the suite index of each path id.
pub fn race_setup(file: &str, h: &mpath_reference::trace::Header, target: &Target) -> Result<(String, Vec<Option<usize>>), String> {
    if h.driver != DriverKind::Nvme {
        return Err("the libmultipath suite's template follows NVMe's callbacks; SCSI is not driven".into());
    }
    if h.max_paths > LIB_MAX || h.nr_ctrls > LIB_MAX {
        return Err(format!("more than {LIB_MAX} paths or controllers"));
    }
    let t = Trace { file: file.to_string(), header: h.clone(), profile: h.resolve_profile()?, lines: Vec::new() };
    let e = world_and_setup(&t, target, "")?;
    Ok((e.out, e.map))
}

/// The libmultipath backend.
pub struct Libmultipath;

impl KunitBackend for Libmultipath {
    fn revision(&self, target: &Target) -> Result<&'static str, String> {
        match target.api {
            crate::series::Api::V1 => Ok("v1"),
            crate::series::Api::V2 => Ok("v2"),
            crate::series::Api::Unknown => Err("the tree's multipath.h declares neither the v1 nor the v2 API of the series".into()),
        }
    }
    fn no_scsi(&self) -> &'static str {
        "the libmultipath suite's template follows NVMe's callbacks; SCSI traces are not exported"
    }
    fn wrong_revision(&self, want: &str, got: &str) -> String {
        format!("the tree declares the {want} API; this trace's expectations are {got}'s")
    }
    fn max_paths(&self) -> usize {
        LIB_MAX
    }
    fn body(&self, t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String> {
        case_body(t, case, target)
    }
    fn prelude(&self, api: crate::series::Api) -> String {
        let mut s = String::new();
        s.push_str(" * Wiring (a tree carrying the libmultipath series; `kunit run` does it):\n *   lib/Kconfig.debug:\n");
        for (file, text) in [(None, KCONFIG_FRAGMENT), (Some("lib/Makefile"), MAKEFILE_FRAGMENT), (Some(".kunitconfig"), KUNITCONFIG)] {
            if let Some(f) = file {
                let _ = writeln!(s, " *   {f}:");
            }
            for l in text.lines() {
                quoted(&mut s, l);
            }
        }
        s.push_str(" */\n\n");
        let _ = writeln!(
            s,
            "/* the reference's DEFAULT_CAPACITY: head and path disks start with it */\n#define MPVL_CAPACITY {}ULL\n",
            mpath_reference::ops::DEFAULT_CAPACITY
        );
        s.push_str(&prelude(api));
        s
    }
}

/// The case body of a trace that passed the prechecks.
fn case_body(t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String> {
    let mut e = world_and_setup(t, target, &format!("static void {case}(struct kunit *test)\n{{\n"))?;
    let mut seen_spins = 0usize;
    for (step, (_, l)) in t.lines.iter().enumerate() {
        let step = step as i64;
        // A non-termination first reported at this step is this step's verdict.
        let spins_now =
            l.expect.as_ref().and_then(|o| o.violations.as_ref()).map(|v| v.iter().filter(|x| x.kind == Kind::NonTermination).count()).unwrap_or(seen_spins);
        let spin = spins_now > seen_spins;
        seen_spins = spins_now;
        e.line(&format!("mpvl_step(w, {step}, {});", c_str(&step_text(&l.op))));
        let now =
            l.expect.as_ref().and_then(|o| o.violations.as_ref()).map(|v| v.iter().filter(|x| x.step == step as u64).collect::<Vec<_>>()).unwrap_or_default();
        if let Some(why) = now.iter().find_map(|x| compiled_away(x, &t.profile)) {
            return Err(format!("step {step}: {why}"));
        }
        // Under an expected oops the call is the last thing the case does.
        let oops_here = now.iter().any(|x| matches!(x.kind, Kind::NullDeref | Kind::NullDisk));
        if oops_here {
            e.op(step, &l.op, None, spin)?;
            e.oops_at = Some(step);
            e.line("KUNIT_FAIL(test, \"mpv: expected an oops in the call above; the kernel went on\");");
            break;
        }
        e.op(step, &l.op, l.ret.as_ref(), spin)?;
        if let Some(o) = &l.expect {
            e.expect(step, o)?;
        }
    }
    e.out.push_str("}\n\n");
    let c = Case { trace: t.file.clone(), case: case.to_string(), steps: t.lines.len(), checks: e.checks, not_applicable: e.na, oops_at: e.oops_at };
    Ok((e.out, c))
}

#[cfg(test)]
mod predicate_tests {
    use super::*;

    /// The enumerators a generated `x == A || x == B` condition accepts.
    fn accepted(cond: &str) -> Vec<String> {
        cond.trim_matches(|c| c == '(' || c == ')').split(" || ").map(|t| t.rsplit(" == ").next().unwrap().to_string()).collect()
    }

    fn body(name: &str, gen: &[(&'static str, String)]) -> String {
        gen.iter().find(|(p, _)| *p == name).unwrap().1.clone()
    }

    /// For every controller state, the C condition accepts its enumerator
    /// exactly when the table's set holds the state.
    fn agrees(cond: &str, set: &[CtrlState]) -> Result<(), String> {
        let acc = accepted(cond);
        for s in CtrlState::ALL {
            if acc.iter().any(|a| a == ctrl_c(s)) != set.contains(&s) {
                return Err(format!("{s:?}: C {cond:?} vs table {set:?}"));
            }
        }
        Ok(())
    }

    #[test]
    fn the_prelude_predicates_are_the_tables() {
        let g = predicates_c().unwrap();
        agrees(&body("@NVME_CTRL_AVAILABLE@", &g), predicates::NVME_CTRL_AVAILABLE).unwrap();
        agrees(&body("@NVME_CTRL_ENABLED@", &g), predicates::NVME_CTRL_ENABLED).unwrap();
        agrees(&body("@NVME_CTRL_OPTIMIZED@", &g), predicates::NVME_CTRL_OPTIMIZED).unwrap();
        let ana = accepted(&body("@NVME_ANA_OPTIMIZED@", &g));
        for a in [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change] {
            assert_eq!(ana.iter().any(|x| x == ana_c(a)), predicates::NVME_ANA_OPTIMIZED.contains(&a), "{a:?}");
        }
        for api in [crate::series::Api::V1, crate::series::Api::V2] {
            let p = prelude(api);
            assert!(!p.contains("@NVME_"), "a placeholder left in the prelude");
            for (_, c) in &g {
                assert!(p.contains(c.as_str()), "{c} not in the prelude");
            }
            // The C reads the generated conditions where the callbacks return.
            assert!(p.contains(&format!("return !({}) || p->ana_pending || !p->ready;", body("@NVME_CTRL_ENABLED@", &g))));
        }
    }

    /// A deliberately altered table gives other C, which the check refuses
    /// against the real table; a set the C encoding cannot express (only
    /// one of the two states it encodes as RECONNECTING) is an error.
    #[test]
    fn an_altered_table_is_caught() {
        use CtrlState::*;
        let altered = predicates_c_from(predicates::NVME_CTRL_AVAILABLE, &[Live], predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED).unwrap();
        let enabled = body("@NVME_CTRL_ENABLED@", &altered);
        assert_ne!(enabled, body("@NVME_CTRL_ENABLED@", &predicates_c().unwrap()));
        assert!(agrees(&enabled, predicates::NVME_CTRL_ENABLED).is_err());
        let e =
            predicates_c_from(&[Live, Resetting], predicates::NVME_CTRL_ENABLED, predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED).unwrap_err();
        assert!(e.contains("MPVL_CTRL_RECONNECTING"), "{e}");
    }
}
