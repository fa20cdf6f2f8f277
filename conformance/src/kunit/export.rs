//! Trace -> KUnit suite. Each trace becomes one test case; every step
//! prints one KTAP diagnostic line `# mpv: <trace>:<step> <op>` before it
//! runs, and every expectation becomes a KUNIT_EXPECT_* whose message names
//! the trace and step. Traces a backend cannot drive are skipped with a
//! counted reason, never silently.

use super::Backend;
use crate::parse::Trace;
use mpath_reference::driver::DriverKind;
use mpath_reference::ops::{Op, Ret};
use mpath_reference::System;
use serde::Serialize;
use std::fmt::Write as _;

/// The static nvme-6.12 harness, embedded so exported suites are self-contained.
pub const NVME612_HARNESS: &str = include_str!("../../kunit/nvme-6.12/mpv_harness.h");
/// Harness limits (MPV_MAX_PATHS / MPV_MAX_CTRLS).
pub const HARNESS_MAX: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Trace file.
    pub trace: String,
    /// KUnit case (C function) name.
    pub case: String,
    pub steps: usize,
    /// KUNIT_EXPECTs emitted.
    pub checks: usize,
    /// Expectation fields the backend cannot observe (e.g. sysfs links on 6.12).
    pub not_applicable: usize,
    /// The step at which the trace expects the kernel to oops (a NULL
    /// dereference): the case stops there and runs alone, in its own boot,
    /// in the `<suite>_oops` suite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oops_at: Option<i64>,
}

/// The suite that holds the cases expected to oops (one boot each).
pub fn oops_suite(suite: &str) -> String {
    format!("{suite}_oops")
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub trace: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Export {
    pub suite: String,
    #[serde(skip)]
    pub source: String,
    pub cases: Vec<Case>,
    pub skipped: Vec<Skip>,
}

/// A C string literal for arbitrary text: escaped, bounded, trigraph-safe.
pub fn c_str(s: &str) -> String {
    let mut out = String::from("\"");
    for (i, b) in s.bytes().enumerate() {
        if i >= 240 {
            out.push_str("...");
            break;
        }
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'?' => out.push_str("\\?"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{:03o}", b);
            }
        }
    }
    out.push('"');
    out
}

/// A C identifier from arbitrary text: `[a-z0-9_]`, bounded, never empty.
pub fn c_ident(prefix: &str, s: &str) -> String {
    let mut id = String::from(prefix);
    let mut last_us = prefix.ends_with('_');
    for c in s.chars().flat_map(|c| c.to_lowercase()) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
            last_us = false;
        } else if !last_us {
            id.push('_');
            last_us = true;
        }
        if id.len() >= 56 {
            break;
        }
    }
    id.trim_end_matches('_').to_string()
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
const CHECK_HELPER: &str = r##"enum { MPV_X_CP, MPV_X_READY, MPV_X_PENDING, MPV_X_LISTED };
static const char *const mpv_x_names[] = { "current_path[node]", "ready", "ana_pending", "on_head_list" };
struct mpv_x { u8 kind; s8 path; s8 want; };

/* One expectation per row; the message names the trace, step and field. */
static void mpv_check(struct mpv_world *w, const struct mpv_x *x, int n)
{
	int i, got;

	for (i = 0; i < n; i++) {
		switch (x[i].kind) {
		case MPV_X_CP:
			got = mpv_current_path(w, x[i].path);
			break;
		case MPV_X_READY:
			got = mpv_is_ready(w, x[i].path);
			break;
		case MPV_X_PENDING:
			got = mpv_is_ana_pending(w, x[i].path);
			break;
		default:
			got = mpv_on_head_list(w, x[i].path);
			break;
		}
		KUNIT_EXPECT_EQ_MSG(w->test, got, (int)x[i].want, "mpv: %s:%d %s path %d",
				    w->trace, w->step, mpv_x_names[x[i].kind], x[i].path);
	}
}

"##;

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
    /// when the op cannot be driven.
    fn op(&mut self, step: i64, op: &Op, ret: Option<&Ret>) -> Result<(), String> {
        if let Some(why) = nvme612_unsupported(op) {
            return Err(format!("step {step}: {} {why}", op_name(op)));
        }
        self.step(step, op);
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
            Synchronize => self.line("mpv_synchronize(w);"),
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
                    return Ok(());
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
            IopolicyStore { buf } => {
                // The kernel's own sysfs store (subsys_attr_iopolicy): it
                // parses, changes the policy and, only on a change, clears
                // every controller's paths (nvme_subsys_iopolicy_update).
                let expr = format!("(int)subsys_attr_iopolicy.store(&w->subsys->dev, &subsys_attr_iopolicy, {}, {})", c_str(buf), buf.len());
                match ret {
                    Some(Ret::Int(e)) => self.expect_eq(&expr, &e.to_string()),
                    _ => self.line(&format!("{expr};")),
                }
            }
            _ => return Err(format!("step {step}: {} is not drivable", op_name(op))),
        }
        Ok(())
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

/// A compact one-line rendering of an op for the step diagnostic:
/// `set_ana_state path=0 state=inaccessible` (keeps the console output
/// small enough that UML never drops KTAP lines).
pub fn step_text(op: &Op) -> String {
    let v = serde_json::to_value(op).unwrap_or_default();
    let Some(o) = v.as_object() else { return String::new() };
    let mut s = o.get("op").and_then(|x| x.as_str()).unwrap_or("op").to_string();
    for (k, val) in o {
        if k == "op" {
            continue;
        }
        let t = match val {
            serde_json::Value::String(x) => x.clone(),
            other => other.to_string(),
        };
        s.push_str(&format!(" {k}={t}"));
    }
    s
}

fn op_name(op: &Op) -> String {
    serde_json::to_value(op).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from)).unwrap_or_else(|| "op".into())
}

/// Checks a trace against the nvme-6.12 backend and emits its case body.
fn nvme612_case(t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String> {
    let h = &t.header;
    if h.driver != DriverKind::Nvme {
        return Err("SCSI traces have no Linux 6.12 backend".into());
    }
    if t.profile.name != "nvme-6.12" {
        return Err(format!("expectations are revision {}'s, not nvme-6.12's", t.profile.name));
    }
    target.accepts(&h.topology)?;
    if h.nr_ctrls > HARNESS_MAX || h.max_paths > HARNESS_MAX {
        return Err(format!("more than {HARNESS_MAX} paths or controllers"));
    }
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
        let pol = mpath_reference::iopolicy::IOPOLICY_NAME_LIST.iter().position(|p| *p == h.iopolicy).unwrap_or(0);
        e.line(&format!("mpv_set_iopolicy(w, {});", IOPOLICY_C[pol]));
        for op in &h.setup {
            e.op(-1, op, None)?;
            e.sys.apply(0, op).map_err(|x| x.0)?;
        }
        Ok(e)
    }
}

/// The kernel a suite is exported for: the series API its
/// `include/linux/multipath.h` declares (libmultipath) and its NUMA nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub api: crate::series::Api,
    /// Possible (and online) node ids, with the kernel's default distances
    /// (10 local, 20 remote): `[0]` under UML, `[0, 1]` under QEMU.
    pub nodes: Vec<i32>,
}

impl Target {
    /// UML: one node, v2 API.
    pub fn uml() -> Target {
        Target { api: crate::series::Api::V2, nodes: vec![0] }
    }

    /// Whether a trace's topology is this kernel's; why not, otherwise.
    pub fn accepts(&self, t: &mpath_reference::Topology) -> Result<(), String> {
        let mine = mpath_reference::Topology { possible: self.nodes.clone(), online: self.nodes.clone(), distances: Vec::new() };
        let same_distances = t.possible.iter().all(|&a| t.possible.iter().all(|&b| t.node_distance(a, b) == mine.node_distance(a, b)));
        if t.possible == self.nodes && t.online == self.nodes && same_distances {
            return Ok(());
        }
        let kernel = if self.nodes == [0] { "UML has only node 0".to_string() } else { format!("this kernel has nodes {:?}, distances 10/20", self.nodes) };
        Err(format!("needs NUMA nodes {:?} online {:?}{} ({kernel})", t.possible, t.online, if same_distances { "" } else { " with other distances" }))
    }
}

/// The most steps one exported KUnit case holds; a longer trace is skipped
/// with this reason (replay and the model take up to `MAX_OPS`). Measured:
/// a 2000-step `gen --lib` trace is 48,809 lines of C in one function and
/// built and ran in 104 s wall, 28 s CPU, in the cached UML build (README,
/// "Resource limits").
pub const MAX_CASE_STEPS: usize = 2000;

/// Exports `traces` for `backend` as one KUnit suite named `suite`, for UML
/// and the v2 API (see `export_for`).
pub fn export(backend: Backend, traces: &[Trace], suite: &str) -> Export {
    export_for(backend, &Target::uml(), traces, suite)
}

/// Exports for the kernel `target` describes.
pub fn export_for(backend: Backend, target: &Target, traces: &[Trace], suite: &str) -> Export {
    let mut x = Export { suite: suite.to_string(), ..Default::default() };
    let mut bodies = String::new();
    let mut used = std::collections::BTreeSet::new();
    for t in traces {
        let stem = std::path::Path::new(&t.file).file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        // Named by the trace, not its position, so that `kunit check` matches
        // cases whatever order or subset of traces it is given.
        let base = c_ident("mpv_", &stem);
        let mut case = base.clone();
        let mut k = 1;
        while !used.insert(case.clone()) {
            k += 1;
            case = format!("{base}_{k}");
        }
        let r = if t.lines.len() > MAX_CASE_STEPS {
            Err(format!("{} steps: one KUnit case holds at most {MAX_CASE_STEPS} (each step is 10-25 lines of C in one function; GCC's time and memory grow with it); split the trace", t.lines.len()))
        } else {
            match backend {
                Backend::Nvme612 => nvme612_case(t, &case, target),
                Backend::Libmultipath => super::export_lib::case(t, &case, target),
            }
        };
        match r {
            Ok((body, c)) => {
                bodies.push_str(&body);
                x.cases.push(c);
            }
            Err(reason) => x.skipped.push(Skip { trace: t.file.clone(), reason }),
        }
    }
    x.source = assemble(backend, target.api, suite, &bodies, &x.cases);
    x
}

/// One quoted line of a wiring file in the header comment (checkpatch
/// --strict clean: no trailing space, no space before a tab, no `*/`).
fn quoted(s: &mut String, l: &str) {
    let l = l.replace("*/", "* /");
    if l.is_empty() {
        s.push_str(" *\n");
    } else {
        let _ = writeln!(s, " *\t{l}");
    }
}

fn assemble(backend: Backend, api: crate::series::Api, suite: &str, bodies: &str, cases: &[Case]) -> String {
    let mut s = String::new();
    s.push_str("// SPDX-License-Identifier: GPL-2.0\n");
    let _ = writeln!(s, "/*\n * Generated by `mpath-verify kunit export --backend {}`. Do not edit.", backend.name());
    s.push_str(" * One KUnit case per trace; every step prints `# mpv: <trace>:<step> <op>`\n");
    s.push_str(" * before it runs and every expectation names its trace and step.\n *\n");
    match backend {
        Backend::Nvme612 => {
            s.push_str(" * Wiring (drivers/nvme/host):\n");
            for l in include_str!("../../kunit/wiring/Kconfig.fragment").lines().chain(include_str!("../../kunit/wiring/Makefile.fragment").lines()) {
                quoted(&mut s, l);
            }
            s.push_str(" * and CONFIG_NVME_MPATH_VERIFY_KUNIT_TEST=y in the .kunitconfig.\n */\n\n");
            s.push_str("/* ---- mpv_harness.h (static harness, embedded) ---- */\n");
            s.push_str(NVME612_HARNESS);
            s.push_str("\n/* ---- generated cases ---- */\n\n");
            s.push_str(CHECK_HELPER);
        }
        Backend::Libmultipath => {
            s.push_str(" * Wiring (a tree carrying the libmultipath series; `kunit run` does it):\n *   lib/Kconfig.debug:\n");
            for (file, text) in [
                (None, super::export_lib::KCONFIG_FRAGMENT),
                (Some("lib/Makefile"), super::export_lib::MAKEFILE_FRAGMENT),
                (Some(".kunitconfig"), super::export_lib::KUNITCONFIG),
            ] {
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
            s.push_str(&super::export_lib::prelude(api));
        }
    }
    s.push_str(bodies);
    let oops = oops_suite(suite);
    let mut suites = vec![suite.to_string()];
    if cases.iter().any(|c| c.oops_at.is_some()) {
        suites.push(oops.clone());
    }
    for name in &suites {
        let _ = writeln!(s, "static struct kunit_case {name}_cases[] = {{");
        for c in cases.iter().filter(|c| c.oops_at.is_some() == (*name == oops)) {
            let _ = writeln!(s, "\tKUNIT_CASE({}),", c.case);
        }
        s.push_str("\t{}\n};\n\n");
        let _ = writeln!(s, "static struct kunit_suite {name}_suite = {{\n\t.name = {},\n\t.test_cases = {name}_cases,\n}};\n", c_str(name));
    }
    let list: Vec<String> = suites.iter().map(|n| format!("&{n}_suite")).collect();
    let _ = writeln!(s, "kunit_test_suites({});", list.join(", "));
    s
}
