//! The `nvme-6.12` backend: Linux 6.12's `drivers/nvme/host/multipath.c`
//! driven through the static harness (`conformance/kunit/nvme-6.12/
//! mpv_harness.h`, embedded in every suite); observation checks are rows
//! of a static table walked by one loop (`mpv_check.h`).

pub use super::backend::Case;
use super::backend::{c_str, quoted, step_text, KunitBackend, Target};
use crate::parse::Trace;
use mpath_reference::ops::{Op, Ret};
use mpath_reference::System;

/// The static nvme-6.12 harness, embedded so exported suites are self-contained.
pub const NVME612_HARNESS: &str = include_str!("../../kunit/nvme-6.12/mpv_harness.h");

/// The harness as a generated suite embeds it: mpv_common.h first, then
/// the harness without its include of it.
pub fn nvme612_harness_embedded() -> String {
    let mut s = super::c_common::embedded();
    s.push_str("/* ---- mpv_harness.h (static harness, embedded) ---- */\n");
    s.push_str(&super::c_common::without_include(NVME612_HARNESS));
    s
}
/// Harness limits (MPV_MAX_PATHS / MPV_MAX_CTRLS).
pub const HARNESS_MAX: usize = 128;

/// The nvme-6.12 backend.
pub struct Nvme612;

impl KunitBackend for Nvme612 {
    fn revision(&self, _: &Target) -> Result<&'static str, String> {
        Ok("nvme-6.12")
    }
    fn no_scsi(&self) -> &'static str {
        "SCSI traces have no Linux 6.12 backend"
    }
    fn wrong_revision(&self, want: &str, got: &str) -> String {
        format!("expectations are revision {got}'s, not {want}'s")
    }
    fn max_paths(&self) -> usize {
        HARNESS_MAX
    }
    fn body(&self, t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String> {
        nvme612_case(t, case, target)
    }
    fn prelude(&self, _: crate::series::Api) -> String {
        let mut s = String::new();
        s.push_str(" * Wiring (drivers/nvme/host):\n");
        for l in include_str!("../../kunit/wiring/Kconfig.fragment").lines().chain(include_str!("../../kunit/wiring/Makefile.fragment").lines()) {
            quoted(&mut s, l);
        }
        s.push_str(" * and CONFIG_NVME_MPATH_VERIFY_KUNIT_TEST=y in the .kunitconfig.\n */\n\n");
        s.push_str(&nvme612_harness_embedded());
        s.push_str("\n/* ---- generated cases ---- */\n\n");
        s.push_str(CHECK_HELPER);
        s
    }
}

const IOPOLICY_C: [&str; 3] = ["NVME_IOPOLICY_NUMA", "NVME_IOPOLICY_RR", "NVME_IOPOLICY_QD"];

/// The operations nvme-6.12 can drive, and why the others cannot.
pub fn nvme612_unsupported(op: &Op) -> Option<&'static str> {
    use Op::*;
    match op {
        AddDevice { .. }
        | SetAnaState { .. }
        | SetCtrlState { .. }
        | SetCtrlNode { .. }
        | SetReady { .. }
        | SetAnaPending { .. }
        | SetNrActive { .. }
        | SetCapacity { .. }
        | FindPath { .. }
        | ClearCurrentPath { .. }
        | Revalidate { .. }
        | RemovePath { .. }
        | DeleteDevice { .. }
        | IopolicyStore { .. }
        | Synchronize => None,
        AddPath { .. } | AnaUpdate { .. } | SetLive { .. } => {
            Some("runs nvme_mpath_set_live (device_add_disk on a real head gendisk), which a KUnit test cannot do")
        }
        AllocHeadDisk { .. } | FailNextAddDisk | RemoveDisk | PutDisk | Open | Release | HeadUninit => {
            Some("head gendisk lifetime needs a registered block device")
        }
        SubmitBio { .. } | RunWorks { .. } | Failover { .. } | Complete { .. } => Some("bio submission and requeue need a live request queue"),
        AddSysfsLink | RemoveSysfsLink { .. } => Some("not applicable to nvme-6.12: Linux 6.12 has no multipath sysfs links"),
        CanRemoveHead | DelayedRemovalSecsStore { .. } | DelayedRemovalSecsShow | AdvanceTime { .. } => {
            Some("not applicable to nvme-6.12: Linux 6.12 has no delayed head removal")
        }
        ClearPaths | RevalidatePaths | CallForDevice { .. } | HeadDevicesEmpty | FreePath { .. } => Some("library-only call (mpath_*), absent from Linux 6.12"),
        SetFailfast { .. } | SetSdevState { .. } | SetAluaState { .. } | ScsiBlock { .. } => Some("no observable effect on 6.12 path selection, or SCSI-only"),
        SetIopolicy { .. } | IopolicyShow | NumaNodesShow { .. } => Some("sysfs/module-parameter text interface, not reachable from KUnit"),
        ChrIoctl { .. } | UringCmd { .. } | Forward { .. } => Some("ioctl / PR / zone forwarding needs real path devices"),
    }
}

/// Observation checks are emitted as rows of a static table checked by
/// one loop (`mpv_check`), not one KUNIT_EXPECT macro each: long traces
/// otherwise give gcc functions of tens of thousands of expanded macros.
#[derive(Clone, Copy)]
enum Row {
    /// `current_path[node]`.
    Cp(usize, i64),
    Ready(usize, bool),
    Pending(usize, bool),
    Listed(usize, bool),
}

/// Emitted once per nvme-6.12 suite, after the harness.
const CHECK_HELPER: &str = include_str!("../../kunit/nvme-6.12/mpv_check.h");

struct Emitter {
    out: String,
    rows: Vec<Row>,
    sys: System,
    /// trace path id -> harness index
    map: Vec<Option<usize>>,
    nr: usize,
    checks: usize,
    na: usize,
    /// The kernel's NUMA node ids.
    nodes: Vec<i32>,
    /// The current step expects a new non-termination.
    spin_here: bool,
    /// An expectation has shown the requeue work pending (see `expect`).
    requeue_seen: bool,
}

impl Emitter {
    fn idx(&self, p: u32) -> Result<usize, String> {
        self.map.get(p as usize).copied().flatten().ok_or_else(|| format!("path {p} is not known to the harness"))
    }
    fn line(&mut self, s: &str) {
        self.out.push('\t');
        self.out.push_str(s);
        self.out.push('\n');
    }
    fn step(&mut self, n: i64, op: &Op) {
        self.line(&format!("MPV_STEP(w, {n}, \"%s\", {});", c_str(&step_text(op))));
    }
    /// Emit the pending observation rows as one table check.
    fn flush_rows(&mut self) {
        if self.rows.is_empty() {
            return;
        }
        let cells: Vec<String> = self
            .rows
            .drain(..)
            .map(|r| match r {
                Row::Cp(node, v) => format!("{{MPV_X_CP, {node}, {v}}}"),
                Row::Ready(p, b) => format!("{{MPV_X_READY, {p}, {}}}", b as i32),
                Row::Pending(p, b) => format!("{{MPV_X_PENDING, {p}, {}}}", b as i32),
                Row::Listed(p, b) => format!("{{MPV_X_LISTED, {p}, {}}}", b as i32),
            })
            .collect();
        self.checks += cells.len();
        let mut text = String::from("{\n\t\tstatic const struct mpv_x x[] = {");
        for (i, c) in cells.iter().enumerate() {
            if i % 6 == 0 {
                text.push_str("\n\t\t\t");
            } else {
                text.push(' ');
            }
            text.push_str(c);
            text.push(',');
        }
        text.push_str("\n\t\t};\n\n\t\tmpv_check(w, x, ARRAY_SIZE(x));\n\t}");
        self.line(&text);
    }

    fn expect_eq(&mut self, actual: &str, expected: &str) {
        self.checks += 1;
        self.line(&format!("MPV_EXPECT_EQ(w, {actual}, {expected});"));
    }
    fn expect_bool(&mut self, actual: &str, v: bool) {
        self.checks += 1;
        self.line(&format!("MPV_EXPECT_{}(w, {actual});", if v { "TRUE" } else { "FALSE" }));
    }

    /// Emit one op (setup or step) and its `ret`; returns an error reason
    /// when the op cannot be driven. Each family below handles its own ops
    /// (`Ok(true)`) or leaves them to the next (`Ok(false)`).
    fn op(&mut self, step: i64, op: &Op, ret: Option<&Ret>) -> Result<(), String> {
        if let Some(why) = nvme612_unsupported(op) {
            return Err(format!("step {step}: {} {why}", op_name(op)));
        }
        self.step(step, op);
        type Family = fn(&mut Emitter, i64, &Op, Option<&Ret>) -> Result<bool, String>;
        let families: [Family; 4] = [Emitter::op_list, Emitter::op_state, Emitter::op_selection, Emitter::op_sysfs];
        for family in families {
            if family(self, step, op, ret)? {
                return Ok(());
            }
        }
        Err(format!("step {step}: {} is not drivable", op_name(op)))
    }

    /// Paths joining and leaving the head's list.
    fn op_list(&mut self, step: i64, op: &Op, ret: Option<&Ret>) -> Result<bool, String> {
        use Op::*;
        match op {
            AddDevice { path, ctrl, ana } => {
                if self.nr >= HARNESS_MAX {
                    return Err(format!("more than {HARNESS_MAX} paths"));
                }
                let i = self.nr;
                self.nr += 1;
                let max_paths = self.map.len();
                *self.map.get_mut(*path as usize).ok_or_else(|| format!("step {step}: path {path} out of range (max_paths {max_paths})"))? = Some(i);
                self.line(&format!("KUNIT_ASSERT_EQ(test, mpv_add_path(w, {ctrl}), {i});"));
                if let Some(a) = ana {
                    self.line(&format!("mpv_set_ana_state(w, {i}, {});", a.kernel_name()));
                }
            }
            RemovePath { path, .. } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpv_ns_remove(w, {i});"));
            }
            DeleteDevice { path } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpv_delete_path(w, {i});"));
                if let Some(Ret::Bool(b)) = ret {
                    self.expect_bool("list_empty(&w->head->list)", *b);
                }
            }
            Synchronize => self.line("mpv_synchronize(w);"),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Path and controller state the harness sets (ANA, controller state
    /// through the kernel's own transition, NUMA node, READY, capacity).
    fn op_state(&mut self, step: i64, op: &Op, ret: Option<&Ret>) -> Result<bool, String> {
        use Op::*;
        match op {
            SetAnaState { path, state } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpv_set_ana_state(w, {i}, {});", state.kernel_name()));
            }
            SetCtrlState { ctrl, state } => {
                // The kernel's nvme_change_ctrl_state: its transition table
                // decides, and its bool return is checked.
                let call = format!("mpv_set_ctrl_state(w, {ctrl}, {})", state.kernel_name());
                match ret {
                    Some(Ret::Bool(b)) => self.expect_bool(&call, *b),
                    _ => self.line(&format!("{call};")),
                }
            }
            SetCtrlNode { ctrl, node } => {
                if *node >= 0 && !self.nodes.contains(node) {
                    return Err(format!("step {step}: set_ctrl_node to node {node}, which this kernel does not have"));
                }
                self.line(&format!("mpv_set_ctrl_numa_node(w, {ctrl}, {});", if *node < 0 { "NUMA_NO_NODE".to_string() } else { node.to_string() }));
            }
            SetReady { path, ready } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpv_set_ready(w, {i}, {ready});"));
            }
            SetAnaPending { path, pending } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpv_set_ana_pending(w, {i}, {pending});"));
            }
            SetNrActive { ctrl, n } => self.line(&format!("mpv_set_nr_active(w, {ctrl}, {n});")),
            SetCapacity { path, sectors } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpv_set_capacity(w, {i}, {sectors});"));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Path selection and what resets it.
    fn op_selection(&mut self, step: i64, op: &Op, ret: Option<&Ret>) -> Result<bool, String> {
        use Op::*;
        match op {
            FindPath { node } => {
                if !self.nodes.contains(node) {
                    return Err(format!("step {step}: find_path on node {node}, which this kernel does not have"));
                }
                // With two CPUs every selection is watched from the other
                // one: a spin is a verdict within seconds, not a hang. Under
                // an expected spin the return value is the watchdog's.
                let watched = self.nodes.len() >= 2;
                if self.spin_here {
                    if !watched {
                        return Err(format!(
                            "step {step}: expects nvme_find_path not to terminate; a spin can be watched only with two CPUs (kunit run --arch x86_64)"
                        ));
                    }
                    self.checks += 1;
                    self.line(&format!("mpv_find_path_checked(w, {node}, true);"));
                    return Ok(true);
                }
                if watched {
                    self.checks += 1;
                }
                let call = if watched { format!("mpv_find_path_checked(w, {node}, false)") } else { format!("mpv_find_path_on(w, {node})") };
                match ret {
                    Some(Ret::Path(p)) => {
                        let e = match p {
                            Some(p) => self.idx(*p)?.to_string(),
                            None => "MPV_NONE".into(),
                        };
                        self.expect_eq(&call, &e);
                    }
                    _ => self.line(&format!("{call};")),
                }
            }
            ClearCurrentPath { path } => {
                let i = self.idx(*path)?;
                match ret {
                    Some(Ret::Bool(b)) => self.expect_bool(&format!("mpv_clear_current_path(w, {i})"), *b),
                    _ => self.line(&format!("mpv_clear_current_path(w, {i});")),
                }
            }
            Revalidate { path } => {
                // nvme_update_ns_info: the head takes the path's capacity first.
                let i = self.idx(*path)?;
                let cap = self.sys.paths[*path as usize].capacity.load(mpath_reference::sync::Ordering::Relaxed);
                self.line(&format!("mpv_set_head_capacity(w, {cap});"));
                self.line(&format!("mpv_revalidate_paths(w, {i});"));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The subsystem's iopolicy attribute, through the kernel's own store.
    fn op_sysfs(&mut self, _: i64, op: &Op, ret: Option<&Ret>) -> Result<bool, String> {
        match op {
            Op::IopolicyStore { buf } => {
                // The kernel's own sysfs store (subsys_attr_iopolicy): it
                // parses, changes the policy and, only on a change, clears
                // every controller's paths (nvme_subsys_iopolicy_update).
                let expr = format!("(int)subsys_attr_iopolicy.store(&w->subsys->dev, &subsys_attr_iopolicy, {}, {})", c_str(buf), buf.len());
                match ret {
                    Some(Ret::Int(e)) => self.expect_eq(&expr, &e.to_string()),
                    _ => self.line(&format!("{expr};")),
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn expect(&mut self, obs: &mpath_reference::Observation) -> Result<(), String> {
        if let Some(cp) = &obs.current_path {
            // One slot per possible node, in the order of the trace's
            // `possible` list (which equals the kernel's node ids here).
            for (k, v) in cp.iter().enumerate() {
                let node = self.nodes.get(k).copied().unwrap_or(0) as usize;
                let e = match v {
                    None => -1,
                    Some(p) if *p >= 0 => self.idx(*p as u32)? as i64,
                    Some(_) => return Err("expects an uninitialised current_path pointer".into()),
                };
                self.rows.push(Row::Cp(node, e));
            }
        }
        for (list, pending) in [(&obs.ready, false), (&obs.ana_pending, true)] {
            if let Some(set) = list {
                for p in 0..self.map.len() as u32 {
                    let Some(i) = self.map[p as usize] else { continue };
                    if !self.alive(p) {
                        continue;
                    }
                    let b = set.contains(&p);
                    self.rows.push(if pending { Row::Pending(i, b) } else { Row::Ready(i, b) });
                }
            }
        }
        if let Some(list) = &obs.dev_list {
            for p in 0..self.map.len() as u32 {
                if let Some(i) = self.map[p as usize] {
                    self.rows.push(Row::Listed(i, list.contains(&p)));
                }
            }
        }
        self.flush_rows();
        if let Some(pending) = &obs.pending_work {
            // The reference queues the requeue work and runs it only on
            // `run_works` (which this backend cannot drive, nor `put_disk`):
            // until it is first queued, `pending_work` without "requeue"
            // says nothing kicked it, and its first appearance says
            // something did. The kernel runs the work on its own, so the
            // comparable fact is whether head->requeue_work has run at all.
            // Once queued it stays pending in the reference and says
            // nothing more about later kicks: not applicable from there.
            if self.requeue_seen {
                self.na += 1;
            } else {
                let kicked = pending.iter().any(|w| w == "requeue");
                self.checks += 1;
                self.line(&format!("mpv_expect_requeue_kicked(w, {kicked});"));
                self.requeue_seen = kicked;
            }
        }
        let o = obs;
        self.na += [
            o.head_flags.is_some(),
            o.link_bits.is_some(),
            o.links.is_some(),
            o.requeue_len.is_some(),
            o.head_disk.is_some(),
            o.head_ref.is_some(),
            o.module_refs.is_some(),
            o.bios_failed.is_some(),
            o.violations.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        Ok(())
    }

    fn alive(&self, p: u32) -> bool {
        use mpath_reference::head::Life;
        matches!(self.sys.paths[p as usize].life(), Life::Allocated | Life::Linked | Life::Unlinked)
    }
}

fn op_name(op: &Op) -> String {
    serde_json::to_value(op).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from)).unwrap_or_else(|| "op".into())
}

/// The case body of a trace that passed the prechecks.
fn nvme612_case(t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String> {
    let h = &t.header;
    if !h.head_disk {
        return Err("traces without a head disk are not drivable: the harness head always has one".into());
    }
    let mut e = Emitter::setup(
        h,
        target,
        &format!("static void {case}(struct kunit *test)\n{{\n\tstruct mpv_world *w = mpv_world_new(test, {});\n\n", c_str(&t.file)),
    )?;
    for (step, (_lineno, line)) in t.lines.iter().enumerate() {
        e.spin_here = line
            .expect
            .as_ref()
            .and_then(|o| o.violations.as_ref())
            .is_some_and(|v| v.iter().any(|x| x.kind == mpath_reference::ViolationKind::NonTermination && x.step == step as u64));
        e.op(step as i64, &line.op, line.ret.as_ref())?;
        e.sys.apply(step as u64, &line.op).map_err(|x| x.0)?;
        if let Some(obs) = &line.expect {
            e.expect(obs)?;
        }
    }
    e.out.push_str("}\n\n");
    Ok((e.out.clone(), Case { trace: t.file.clone(), case: case.to_string(), steps: t.lines.len(), checks: e.checks, not_applicable: e.na, oops_at: None }))
}

/// The C lines that build a header's world on nvme-6.12 (controllers, their
/// nodes, the iopolicy, the setup ops), for a body that has `test` and
/// `w`, and the harness index of each trace path id.
pub fn nvme612_setup_lines(h: &mpath_reference::trace::Header, target: &Target) -> Result<(String, Vec<Option<usize>>), String> {
    let e = Emitter::setup(h, target, "")?;
    Ok((e.out, e.map))
}

impl Emitter {
    /// An emitter whose output is `prefix` followed by the world set-up of
    /// `h`: controllers, their nodes, the iopolicy and the setup ops.
    fn setup(h: &mpath_reference::trace::Header, target: &Target, prefix: &str) -> Result<Emitter, String> {
        // The emitter replays the trace on the reference as it goes (capacities,
        // iopolicy changes); setup ops are emitted too, so start without them.
        let mut bare = h.clone();
        bare.setup.clear();
        let sys = bare.instantiate()?;
        let mut e = Emitter {
            out: prefix.to_string(),
            rows: Vec::new(),
            sys,
            map: vec![None; h.max_paths],
            nr: 0,
            checks: 0,
            na: 0,
            nodes: target.nodes.clone(),
            spin_here: false,
            requeue_seen: false,
        };
        for _ in 0..h.nr_ctrls {
            e.line("mpv_add_ctrl(w);");
        }
        for (c, n) in h.ctrl_nodes.iter().enumerate() {
            if *n >= 0 && !target.nodes.contains(n) {
                return Err(format!("ctrl_nodes name node {n}, which this kernel does not have"));
            }
            e.line(&format!("mpv_set_ctrl_numa_node(w, {c}, {});", if *n < 0 { "NUMA_NO_NODE".to_string() } else { n.to_string() }));
        }
        let pol = mpath_reference::iopolicy::IoPolicy::from_name(&h.iopolicy).map_or(0, |p| p as usize);
        e.line(&format!("mpv_set_iopolicy(w, {});", IOPOLICY_C[pol]));
        for op in &h.setup {
            e.op(-1, op, None)?;
            e.sys.apply(0, op).map_err(|x| x.0)?;
        }
        Ok(e)
    }
}
