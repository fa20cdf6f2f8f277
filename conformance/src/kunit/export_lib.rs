//! The `libmultipath` backend: the series' `mpath_*` API (v2), for
//! reviewers whose tree carries the series. The suite supplies an NVMe-like
//! template whose callbacks read per-path test state, adds paths with
//! `mpath_add_device`, and selects through `mpath_call_for_device` (the
//! exported entry to the static `mpath_find_path`).

use super::export::{c_str, Case};
use crate::parse::Trace;
use mpath_reference::driver::{ana_to_access, AccessState, AnaState, CtrlState, DriverKind};
use mpath_reference::ops::{Op, Ret};
use std::fmt::Write as _;

pub const WIRING_COMMENT: &str = " * Wiring (a tree with the libmultipath series): place this file in lib/,\n *   add `obj-$(CONFIG_MPATH_VERIFY_KUNIT_TEST) += mpv_lib_test.o` to lib/Makefile\n *   and a `config MPATH_VERIFY_KUNIT_TEST` (tristate, depends on KUNIT &&\n *   LIBMULTIPATH) to lib/Kconfig.debug; enable it in the .kunitconfig.\n";

/// Test-side template and world, emitted once per suite.
pub const PRELUDE: &str = r##"#include <kunit/test.h>
#include <linux/multipath.h>
#include <linux/slab.h>
#include <linux/string.h>

#define MPVL_MAX 16
#define MPVL_NONE (-1)
#define MPVL_UNKNOWN (-2)

struct mpvl_path {
	struct mpath_device dev;	/* first member, as NVMe and SCSI do */
	int ctrl;
	bool ready;
	bool ana_pending;
	int ana;			/* 1 optimized, 2 non-optimized, else other */
};

struct mpvl_world {
	struct kunit *test;
	const char *trace;
	int step;
	struct mpath_head *head;
	struct mpath_iopolicy pol;
	int nr;
	struct mpvl_path *p[MPVL_MAX];
	bool listed[MPVL_MAX];
	int ctrl_live[MPVL_MAX];	/* 1 LIVE, 2 DELETING, 3 RESETTING/CONNECTING, 0 other */
	int nr_active[MPVL_MAX];
	struct mpath_device *found;
};

#define MPVL_STEP(w, n, fmt, ...)					\
	do {								\
		(w)->step = (n);					\
		kunit_log(KERN_INFO, (w)->test,				\
			  KUNIT_SUBTEST_INDENT "# mpv: %s:%d " fmt,	\
			  (w)->trace, (n), ##__VA_ARGS__);		\
	} while (0)
#define MPVL_EXPECT_EQ(w, a, e)						\
	KUNIT_EXPECT_EQ_MSG((w)->test, (a), (e), "mpv: %s:%d", (w)->trace, (w)->step)
#define MPVL_EXPECT_STREQ(w, a, e)					\
	KUNIT_EXPECT_STREQ_MSG((w)->test, (a), (e), "mpv: %s:%d", (w)->trace, (w)->step)

static struct mpvl_world *mpvl_w(struct mpath_device *d)
{
	return d->mpath_head->drvdata;
}

static bool mpvl_available_path(struct mpath_device *d)
{
	struct mpvl_path *p = container_of(d, struct mpvl_path, dev);
	int s = mpvl_w(d)->ctrl_live[p->ctrl];

	return s == 1 || s == 3;
}

static bool mpvl_is_disabled(struct mpath_device *d)
{
	struct mpvl_path *p = container_of(d, struct mpvl_path, dev);
	int s = mpvl_w(d)->ctrl_live[p->ctrl];

	return !(s == 1 || s == 2) || p->ana_pending || !p->ready;
}

static bool mpvl_is_optimized(struct mpath_device *d)
{
	struct mpvl_path *p = container_of(d, struct mpvl_path, dev);

	return mpvl_w(d)->ctrl_live[p->ctrl] == 1 && p->ana == 1;
}

static int mpvl_get_nr_active(struct mpath_device *d)
{
	struct mpvl_path *p = container_of(d, struct mpvl_path, dev);

	return mpvl_w(d)->nr_active[p->ctrl];
}

static enum mpath_iopolicy_e mpvl_get_iopolicy(struct mpath_head *h)
{
	return mpath_read_iopolicy(&((struct mpvl_world *)h->drvdata)->pol);
}

static const struct mpath_head_template mpvl_mpdt = {
	.available_path	= mpvl_available_path,
	.is_disabled	= mpvl_is_disabled,
	.is_optimized	= mpvl_is_optimized,
	.get_nr_active	= mpvl_get_nr_active,
	.get_iopolicy	= mpvl_get_iopolicy,
};

static void mpvl_cleanup(void *data)
{
	mpath_put_head(data);
}

static struct mpvl_world *mpvl_world_new(struct kunit *test, const char *trace, int nr_ctrls)
{
	struct mpvl_world *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, w);
	w->test = test;
	w->trace = trace;
	w->head = mpath_alloc_head();
	KUNIT_ASSERT_FALSE(test, IS_ERR(w->head));
	w->head->mpdt = &mpvl_mpdt;
	w->head->drvdata = w;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mpvl_cleanup, w->head), 0);
	for (i = 0; i < nr_ctrls && i < MPVL_MAX; i++)
		w->ctrl_live[i] = 1;
	return w;
}

static int mpvl_add(struct mpvl_world *w, int ctrl, int ana, int node)
{
	struct mpvl_path *p = kunit_kzalloc(w->test, sizeof(*p), GFP_KERNEL);
	int i = w->nr;

	KUNIT_ASSERT_NOT_NULL(w->test, p);
	KUNIT_ASSERT_LT(w->test, i, MPVL_MAX);
	p->ctrl = ctrl;
	p->ready = true;
	p->ana = ana;
	p->dev.numa_node = node;
	p->dev.access_state = ana == 1 ? MPATH_STATE_OPTIMIZED :
			      ana == 2 ? MPATH_STATE_NONOPTIMIZED : MPATH_STATE_OTHER;
	w->p[i] = p;
	w->nr++;
	mpath_add_device(w->head, &p->dev);
	w->listed[i] = true;
	return i;
}

static void mpvl_set_ana(struct mpvl_world *w, int i, int ana)
{
	w->p[i]->ana = ana;
	w->p[i]->dev.access_state = ana == 1 ? MPATH_STATE_OPTIMIZED :
				    ana == 2 ? MPATH_STATE_NONOPTIMIZED : MPATH_STATE_OTHER;
}

static int mpvl_id(struct mpvl_world *w, struct mpath_device *d)
{
	int i;

	if (!d)
		return MPVL_NONE;
	for (i = 0; i < w->nr; i++)
		if (&w->p[i]->dev == d)
			return i;
	return MPVL_UNKNOWN;
}

static int mpvl_found_cb(struct mpath_device *d)
{
	mpvl_w(d)->found = d;
	return 0;
}

/* mpath_call_for_device: SRCU, mpath_find_path, callback on the choice. */
static int mpvl_find_path(struct mpvl_world *w)
{
	w->found = NULL;
	mpath_call_for_device(w->head, mpvl_found_cb);
	return mpvl_id(w, w->found);
}

static int mpvl_current_path(struct mpvl_world *w, int node)
{
	return mpvl_id(w, rcu_access_pointer(w->head->current_path[node]));
}

/* Observation rows: kind 0 = current_path[0] (path -1), 1 = on dev_list. */
struct mpvl_x { u8 kind; s8 path; s8 want; };

static void mpvl_check(struct mpvl_world *w, const struct mpvl_x *x, int n)
{
	int i, got;

	for (i = 0; i < n; i++) {
		got = x[i].kind == 0 ? mpvl_current_path(w, 0) : w->listed[x[i].path];
		KUNIT_EXPECT_EQ_MSG(w->test, got, (int)x[i].want, "mpv: %s:%d %s path %d",
				    w->trace, w->step, x[i].kind == 0 ? "current_path[0]" : "on_dev_list", x[i].path);
	}
}

"##;

/// The suite's ANA encoding: 1 optimized, 2 non-optimized, 3 other.
fn ana_num(a: AnaState) -> i32 {
    match ana_to_access(a) {
        AccessState::Optimized => 1,
        AccessState::Nonoptimized => 2,
        AccessState::Other => 3,
    }
}

fn ctrl_num(s: CtrlState) -> i32 {
    match s {
        CtrlState::Live => 1,
        CtrlState::Deleting => 2,
        CtrlState::Resetting | CtrlState::Connecting => 3,
        _ => 0,
    }
}

/// Emit `expr;`, or an expectation on it when the trace states its result.
fn call(s: &mut String, checks: &mut usize, expr: &str, want: Option<String>) {
    match want {
        Some(e) => {
            *checks += 1;
            let _ = writeln!(s, "\tMPVL_EXPECT_EQ(w, {expr}, {e});");
        }
        None => {
            let _ = writeln!(s, "\t{expr};");
        }
    }
}

fn ret_bool(ret: Option<&Ret>) -> Option<String> {
    match ret {
        Some(Ret::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// The libmultipath case for one trace, or why it cannot be driven.
pub fn case(t: &Trace, case: &str) -> Result<(String, Case), String> {
    let h = &t.header;
    if h.driver != DriverKind::Nvme {
        return Err("the libmultipath suite's template follows NVMe's callbacks; SCSI traces are not exported".into());
    }
    if t.profile.name != "v2" {
        return Err(format!("the libmultipath backend targets the v2 API; this trace's expectations are {}'s", t.profile.name));
    }
    if h.labels.iter().any(|l| l == "needs_numa") || h.topology.possible != vec![0] {
        return Err("needs NUMA (UML has only node 0)".into());
    }
    if h.max_paths > 16 || h.nr_ctrls > 16 {
        return Err("more than 16 paths or controllers".into());
    }
    let mut s = String::new();
    let mut checks = 0;
    let mut map: Vec<Option<usize>> = vec![None; h.max_paths];
    let mut nr = 0;
    let _ = writeln!(s, "static void {case}(struct kunit *test)\n{{");
    let _ = writeln!(s, "\tstruct mpvl_world *w = mpvl_world_new(test, {}, {});", c_str(&t.file), h.nr_ctrls);
    let pol = mpath_reference::iopolicy::IOPOLICY_NAME_LIST.iter().position(|p| *p == h.iopolicy).unwrap_or(0);
    let _ = writeln!(s, "\tw->pol.iopolicy = {pol};");
    let nodes = &h.ctrl_nodes;
    let ops: Vec<(i64, &Op, Option<&Ret>, Option<&mpath_reference::Observation>)> = h
        .setup
        .iter()
        .map(|o| (-1, o, None, None))
        .chain(t.lines.iter().enumerate().map(|(i, (_, l))| (i as i64, &l.op, l.ret.as_ref(), l.expect.as_ref())))
        .collect();
    for (step, op, ret, exp) in ops {
        let _ = writeln!(s, "\tMPVL_STEP(w, {step}, \"%s\", {});", c_str(&super::export::step_text(op)));
        let idx = |p: u32, map: &Vec<Option<usize>>| map.get(p as usize).copied().flatten().ok_or_else(|| format!("path {p} unknown"));
        match op {
            Op::AddDevice { path, ctrl, ana } => {
                let node = nodes.get(*ctrl as usize).copied().unwrap_or(-1);
                if node > 0 {
                    return Err("ctrl_nodes name a node other than 0: needs NUMA".into());
                }
                let _ = writeln!(s, "\tKUNIT_ASSERT_EQ(test, mpvl_add(w, {ctrl}, {}, {}), {nr});", ana_num(ana.unwrap_or(AnaState::Optimized)), if node < 0 { "NUMA_NO_NODE".into() } else { node.to_string() });
                map[*path as usize] = Some(nr);
                nr += 1;
            }
            Op::SetAnaState { path, state } => {
                let _ = writeln!(s, "\tmpvl_set_ana(w, {}, {});", idx(*path, &map)?, ana_num(*state));
            }
            Op::SetCtrlState { ctrl, state } => {
                let _ = writeln!(s, "\tw->ctrl_live[{ctrl}] = {};", ctrl_num(*state));
            }
            Op::SetReady { path, ready } => {
                let _ = writeln!(s, "\tw->p[{}]->ready = {ready};", idx(*path, &map)?);
            }
            Op::SetAnaPending { path, pending } => {
                let _ = writeln!(s, "\tw->p[{}]->ana_pending = {pending};", idx(*path, &map)?);
            }
            Op::SetNrActive { ctrl, n } => {
                let _ = writeln!(s, "\tw->nr_active[{ctrl}] = {n};");
            }
            Op::Synchronize => s.push_str("\tmpath_synchronize(w->head);\n"),
            Op::FindPath { node: 0 } => {
                let want = match ret {
                    Some(Ret::Path(Some(p))) => Some(idx(*p, &map)?.to_string()),
                    Some(Ret::Path(None)) => Some("MPVL_NONE".into()),
                    _ => None,
                };
                call(&mut s, &mut checks, "mpvl_find_path(w)", want);
            }
            Op::ClearCurrentPath { path } => {
                let i = idx(*path, &map)?;
                call(&mut s, &mut checks, &format!("mpath_clear_current_path(&w->p[{i}]->dev)"), ret_bool(ret));
            }
            Op::ClearPaths => s.push_str("\tmpath_clear_paths(w->head);\n"),
            Op::DeleteDevice { path } => {
                let i = idx(*path, &map)?;
                call(&mut s, &mut checks, &format!("mpath_delete_device(&w->p[{i}]->dev)"), ret_bool(ret));
                let _ = writeln!(s, "\tw->listed[{i}] = false;\n\tmpath_synchronize(w->head);");
            }
            Op::HeadDevicesEmpty => {
                if let Some(Ret::Bool(b)) = ret {
                    checks += 1;
                    let _ = writeln!(s, "\tMPVL_EXPECT_EQ(w, mpath_head_devices_empty(w->head), {b});");
                }
            }
            Op::SetIopolicy { val } => {
                if let Some(Ret::Int(e)) = ret {
                    checks += 1;
                    let _ = writeln!(s, "\t{{\n\t\tint pol = w->pol.iopolicy;\n\t\tMPVL_EXPECT_EQ(w, mpath_set_iopolicy({}, &pol), {e});\n\t\tif (!{e})\n\t\t\tw->pol.iopolicy = pol;\n\t}}", c_str(val));
                }
            }
            Op::IopolicyShow => {
                if let Some(Ret::Str(x)) = ret {
                    checks += 1;
                    let _ = writeln!(s, "\t{{\n\t\tchar *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);\n\n\t\tKUNIT_ASSERT_NOT_NULL(test, buf);\n\t\tmpath_iopolicy_show(&w->pol, buf);\n\t\tMPVL_EXPECT_STREQ(w, buf, {});\n\t}}", c_str(x));
                }
            }
            Op::NumaNodesShow { path } => {
                let i = idx(*path, &map)?;
                if let Some(Ret::Str(x)) = ret {
                    checks += 1;
                    let _ = writeln!(s, "\t{{\n\t\tchar *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);\n\n\t\tKUNIT_ASSERT_NOT_NULL(test, buf);\n\t\tmpath_numa_nodes_show(&w->p[{i}]->dev, &w->pol, buf);\n\t\tMPVL_EXPECT_STREQ(w, buf, {});\n\t}}", c_str(x));
                }
            }
            other => {
                let name = serde_json::to_value(other).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from)).unwrap_or_default();
                return Err(format!("step {step}: {name} is not drivable by the libmultipath suite (needs a head gendisk, bios or driver code)"));
            }
        }
        if let Some(o) = exp {
            let mut rows: Vec<String> = Vec::new();
            if let Some(cp) = &o.current_path {
                if let Some(v) = cp.first() {
                    let e = match v {
                        None => -1,
                        Some(p) if *p >= 0 => idx(*p as u32, &map)? as i64,
                        Some(_) => return Err("expects an uninitialised pointer".into()),
                    };
                    rows.push(format!("{{0, -1, {e}}}"));
                }
            }
            if let Some(list) = &o.dev_list {
                for (p, m) in map.iter().enumerate() {
                    if let Some(i) = m {
                        rows.push(format!("{{1, {i}, {}}}", list.contains(&(p as u32)) as i32));
                    }
                }
            }
            if !rows.is_empty() {
                checks += rows.len();
                let _ = writeln!(s, "\t{{\n\t\tstatic const struct mpvl_x x[] = {{ {} }};\n\n\t\tmpvl_check(w, x, ARRAY_SIZE(x));\n\t}}", rows.join(", "));
            }
        }
    }
    s.push_str("}\n\n");
    Ok((s, Case { trace: t.file.clone(), case: case.to_string(), steps: t.lines.len(), checks, not_applicable: 0 }))
}
