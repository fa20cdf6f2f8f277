//! The libmultipath suite's case emitter: the world and setup of a trace,
//! one function per family of operations (a short dispatch over them),
//! and the observation rows each expectation becomes.

use super::backend::{c_str, step_text, Target};
use super::export_lib_encoding::{ana_c, ctrl_c, IOPOLICY_C};
use crate::parse::Trace;
use mpath_reference::driver::AnaState;
use mpath_reference::ops::{Op, Ret};
use mpath_reference::violation::Kind;
use std::fmt::Write as _;

/// One case being emitted.
pub(super) struct Emit<'a> {
    pub(super) out: String,
    pub(super) checks: usize,
    pub(super) na: usize,
    /// trace path id -> suite index
    pub(super) map: Vec<Option<usize>>,
    pub(super) nr: usize,
    pub(super) trace: &'a Trace,
    /// Some op may have added the head gendisk (put_disk would then free a
    /// registered disk under the block layer).
    pub(super) maybe_live: bool,
    /// The step at which the trace expects a NULL dereference.
    pub(super) oops_at: Option<i64>,
    /// The API the tree declares.
    pub(super) api: crate::series::Api,
    /// The kernel's NUMA node ids.
    pub(super) nodes: Vec<i32>,
}

impl Emit<'_> {
    pub(super) fn line(&mut self, s: &str) {
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
                self.line(&format!("MPV_EXPECT_EQ(w, {expr}, {e});"));
            }
            None => self.line(&format!("{expr};")),
        }
    }

    fn show(&mut self, show: &str, arg: usize, ret: Option<&Ret>) {
        match ret {
            Some(Ret::Str(x)) => {
                self.checks += 1;
                self.line(&format!("MPV_EXPECT_STREQ(w, mpvl_show(w, {show}, {arg}), {});", c_str(x)));
            }
            _ => self.line(&format!("mpvl_show(w, {show}, {arg});")),
        }
    }

    /// One operation of the trace: each family below handles its own ops
    /// (`Ok(true)`) or leaves them to the next (`Ok(false)`); what none
    /// handles is not drivable.
    pub(super) fn op(&mut self, step: i64, op: &Op, ret: Option<&Ret>, spin: bool) -> Result<(), String> {
        type Family<'a> = fn(&mut Emit<'a>, i64, &Op, Option<&Ret>, bool) -> Result<bool, String>;
        let families: [Family; 6] = [Emit::op_arrival, Emit::op_head_disk, Emit::op_removal, Emit::op_driver_state, Emit::op_selection, Emit::op_sysfs];
        for family in families {
            if family(self, step, op, ret, spin)? {
                return Ok(());
            }
        }
        let name = serde_json::to_value(op).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from)).unwrap_or_default();
        Err(format!("step {step}: {}", not_drivable(&name)))
    }

    /// A path arrives or changes its ANA state through the library
    /// (`mpath_add_device`, the driver's path add, ANA update, set_live).
    fn op_arrival(&mut self, step: i64, op: &Op, _: Option<&Ret>, _: bool) -> Result<bool, String> {
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
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The head gendisk and the sysfs links to it.
    fn op_head_disk(&mut self, step: i64, op: &Op, ret: Option<&Ret>, _: bool) -> Result<bool, String> {
        let h = &self.trace.header;
        match op {
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
                self.call(&format!("mpvl_alloc_head_disk(w, {capacity}ULL)"), ret_int(ret));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Path removal, the library's own list and SRCU calls, and the works.
    fn op_removal(&mut self, _: i64, op: &Op, ret: Option<&Ret>, _: bool) -> Result<bool, String> {
        match op {
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
                        self.line("MPV_EXPECT_EQ(w, mpvl_run_remove_work(w), true);");
                    }
                    // Which of the self-running works ran at this very step is
                    // timing, not a property of the C.
                    self.na += 1;
                }
            }
            Op::AdvanceTime { .. } => self.line("/* the trace's clock: the removal it makes due runs at run_works */"),
            Op::Synchronize => self.line("mpvl_synchronize(w);"),
            Op::ClearPaths => self.line("mpvl_clear_paths(w);"),
            Op::DeleteDevice { path } => {
                let i = self.idx(*path)?;
                self.call(&format!("mpvl_delete_device(w, {i})"), ret_bool(ret));
            }
            Op::HeadDevicesEmpty => self.call("mpvl_devices_empty(w)", ret_bool(ret)),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Driver-side state the suite's template holds (controller state,
    /// READY, ANA pending, nr_active) and path capacities.
    fn op_driver_state(&mut self, _: i64, op: &Op, _: Option<&Ret>, _: bool) -> Result<bool, String> {
        match op {
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
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Path selection and what resets it (clear_current_path, revalidate).
    fn op_selection(&mut self, step: i64, op: &Op, ret: Option<&Ret>, spin: bool) -> Result<bool, String> {
        match op {
            Op::FindPath { node } if self.nodes.contains(node) => {
                // Under a spin the return value is the watchdog's, not the
                // kernel's: only the did-not-terminate verdict is checked.
                let want = if spin {
                    None
                } else {
                    match ret {
                        Some(Ret::Path(Some(p))) => Some(self.idx(*p)?.to_string()),
                        Some(Ret::Path(None)) => Some("MPV_NONE".into()),
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
                self.checks += 1; // the terminated verdict, inside
                self.call(&format!("mpvl_call_for_device(w, {node})"), ret_int(ret));
            }
            Op::ClearCurrentPath { path } => {
                let i = self.idx(*path)?;
                self.call(&format!("mpvl_clear_current_path(w, {i})"), ret_bool(ret));
            }
            Op::RevalidatePaths => {
                if !self.trace.header.head_disk {
                    return Err(format!("step {step}: revalidate_paths without a head gendisk dereferences NULL in get_capacity (the reference reports it; a KUnit run would oops)"));
                }
                self.line("mpvl_revalidate_paths(w);");
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The head's sysfs attributes (iopolicy, numa_nodes, delayed removal)
    /// and the removal check behind them.
    fn op_sysfs(&mut self, step: i64, op: &Op, ret: Option<&Ret>, _: bool) -> Result<bool, String> {
        match op {
            Op::SetIopolicy { val } => self.call(&format!("mpvl_set_iopolicy(w, {})", c_str(val)), ret_int(ret)),
            Op::IopolicyStore { buf } => self.call(&format!("mpvl_iopolicy_store(w, {})", c_str(buf)), ret_int(ret)),
            Op::IopolicyShow => self.show("mpvl_iopolicy_show", 0, ret),
            Op::NumaNodesShow { path } => {
                let i = self.idx(*path)?;
                self.show("mpvl_numa_nodes_show", i, ret);
            }
            Op::DelayedRemovalSecsShow => self.show("mpvl_delayed_show", 0, ret),
            Op::DelayedRemovalSecsStore { buf } => self.call(&format!("mpvl_delayed_store(w, {})", c_str(buf)), ret_int(ret)),
            Op::CanRemoveHead => {
                if !self.trace.header.head_disk {
                    return Err(format!("step {step}: can_remove_head without a head gendisk schedules an uninitialised remove_work"));
                }
                self.call("mpvl_can_remove_head(w)", ret_bool(ret));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(super) fn expect(&mut self, step: i64, o: &mpath_reference::Observation) -> Result<(), String> {
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

fn ret_bool(ret: Option<&Ret>) -> Option<String> {
    match ret {
        Some(Ret::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn ret_int(ret: Option<&Ret>) -> Option<String> {
    match ret {
        Some(Ret::Int(e)) => Some(e.to_string()),
        _ => None,
    }
}

/// The libmultipath case for one trace, or why it cannot be driven.
/// `prefix`, then the C that declares `w` and builds the trace header's
/// world: the head (and its gendisk), controllers, the setup ops.
pub(super) fn world_and_setup<'a>(t: &'a Trace, target: &Target, prefix: &str) -> Result<Emit<'a>, String> {
    let h = &t.header;
    let pol = mpath_reference::iopolicy::IoPolicy::from_name(&h.iopolicy).map_or(0, |p| p as usize);
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
        e.line(&format!("MPV_STEP(w, -1, \"%s\", {});", c_str(&step_text(op))));
        e.op(-1, op, None, false)?;
    }
    Ok(e)
}
