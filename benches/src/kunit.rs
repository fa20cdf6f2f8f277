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
//! # mpv-bench: <workload> ns_per_op=<x.yyy> iters=<n> rounds=<r> min=<x.yyy>
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

use crate::workloads::{Action, Workload};
use mpath_reference::iopolicy::IoPolicy;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Suite name (KUnit `kunit_suite.name`).
pub const SUITE: &str = "mpv_nvme612_bench";
/// Prefix of the diagnostic lines.
pub const TAG: &str = "# mpv-bench: ";
/// The workload the reader-scaling case (`reader_scaling/t1`, `/t2`) runs
/// on, on both sides.
pub const SCALING_WORKLOAD: &str = "numa_hit.all_opt.p8.n1";
/// Reader counts of the reader-scaling case (`reader_scaling/t<n>`).
pub const SCALING_READERS: [usize; 2] = [1, 2];
/// A scaling batch runs this many calibrated batches' iterations.
pub const SCALING_BATCH_MUL: u64 = 4;
/// Target duration of one timed batch, and the number of batches.
pub const BATCH_TARGET_NS: u64 = 1_000_000;
pub const ROUNDS: u32 = 15;

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
    s.push_str(BODY_C);
    Ok(s)
}

const HEADER_C: &str = r##"// SPDX-License-Identifier: GPL-2.0
/*
 * mpath-verify benches: path-selection timings of Linux 6.12 NVMe multipath.
 *
 * GENERATED by mpath-benches (`bench kunit-gen`) from benches/workloads.json;
 * do not edit. One parameterised case; each parameter is one workload. For
 * each it prints a KTAP diagnostic line
 *   # mpv-bench: <workload> ns_per_op=<x.yyy> iters=<n> rounds=<r> min=<x.yyy>
 * (median of the rounds; min = fastest round) or
 *   # mpv-bench: <workload> skip=needs-numa nodes=<k>
 * Benchmarks are measurements: the only expectation checked is that the
 * first timed operation selects what the reference selects.
 */
#include "mpv_harness.h"
#include <linux/ktime.h>
#include <linux/sort.h>
#include <linux/delay.h>
#include <linux/cpumask.h>

#define MPVB_BATCH_TARGET_NS	1000000ULL
#define MPVB_ROUNDS		15
#define MPVB_MAX_ITERS		(1ULL << 30)
#define MPVB_NO_CHECK		(-1000)
#define MPVB_MAX_READERS	2
#define MPVB_SCALING_BATCH_MUL	4	/* a scaling batch: 4 calibrated batches */

enum { MPVB_FIND, MPVB_RESCAN, MPVB_CLEAR_HIT, MPVB_CLEAR_MISS, MPVB_SRCU };

struct mpvb_wl {
	const char *name;
	int iopolicy;		/* enum nvme_iopolicy */
	int action;		/* MPVB_* */
	int nodes;		/* NUMA nodes the workload needs */
	int node;		/* the caller's node */
	int nr_ctrls, nr_paths;
	int expect_first;	/* reference's first selection (path id, -1 none) */
	const s16 *ctrl_node;
	const s32 *nr_active;
	const u16 *path_ctrl;
	const u8 *path_ana;
	const u8 *path_ready;
};
"##;

const BODY_C: &str = r##"
/* A head with any number of paths: the harness world plus overflow arrays. */
struct mpvb {
	struct mpv_world *w;
	struct nvme_ns_head *head;
	int nr_ctrls, nr_paths;
	struct nvme_ctrl **ctrl;
	struct nvme_ns **ns;
};

static unsigned long mpvb_sink;

/* The harness world keeps up to MPV_MAX_CTRLS / MPV_MAX_PATHS objects. */
static struct nvme_ctrl *mpvb_add_ctrl(struct mpvb *b)
{
	return b->w->ctrl[mpv_add_ctrl(b->w)];
}

static struct nvme_ns *mpvb_add_path(struct mpvb *b, int c)
{
	return b->w->ns[mpv_add_path(b->w, c)];
}

static int mpvb_path_id(struct mpvb *b, struct nvme_ns *ns)
{
	int i;

	if (!ns)
		return MPV_NONE;
	for (i = 0; i < b->nr_paths; i++)
		if (b->ns[i] == ns)
			return i;
	return MPV_UNKNOWN;
}

static void mpvb_point_all(struct nvme_ns_head *head, struct nvme_ns *ns)
{
	int n;

	for_each_node(n)
		rcu_assign_pointer(head->current_path[n], ns);
}

static void mpvb_build(struct kunit *test, struct mpvb *b,
		       const struct mpvb_wl *wl)
{
	int i;

	b->w = mpv_world_new(test, wl->name);
	b->head = b->w->head;
	b->ctrl = kunit_kcalloc(test, wl->nr_ctrls, sizeof(*b->ctrl), GFP_KERNEL);
	b->ns = kunit_kcalloc(test, wl->nr_paths, sizeof(*b->ns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->ctrl);
	KUNIT_ASSERT_NOT_NULL(test, b->ns);
	mpv_set_iopolicy(b->w, wl->iopolicy);
	for (i = 0; i < wl->nr_ctrls; i++) {
		b->ctrl[i] = mpvb_add_ctrl(b);
		b->nr_ctrls++;
		b->ctrl[i]->numa_node = wl->ctrl_node[i];
		atomic_set(&b->ctrl[i]->nr_active, wl->nr_active[i]);
	}
	for (i = 0; i < wl->nr_paths; i++) {
		b->ns[i] = mpvb_add_path(b, wl->path_ctrl[i]);
		b->nr_paths++;
		WRITE_ONCE(b->ns[i]->ana_state, wl->path_ana[i]);
		if (!wl->path_ready[i])
			clear_bit(NVME_NS_READY, &b->ns[i]->flags);
	}
}

/* One timed batch of @iters operations; returns elapsed ns. */
static noinline u64 mpvb_batch(struct mpvb *b, const struct mpvb_wl *wl,
			       u64 iters)
{
	struct nvme_ns_head *head = b->head;
	struct nvme_ns *ns;
	unsigned long acc = 0;
	u64 t0, t1, i;
	int idx;

	switch (wl->action) {
	case MPVB_FIND:
		idx = srcu_read_lock(&head->srcu);
		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++)
			acc += (unsigned long)nvme_find_path(head);
		t1 = ktime_get_ns();
		srcu_read_unlock(&head->srcu, idx);
		break;
	case MPVB_RESCAN:
		idx = srcu_read_lock(&head->srcu);
		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++) {
			rcu_assign_pointer(head->current_path[wl->node], NULL);
			acc += (unsigned long)nvme_find_path(head);
		}
		t1 = ktime_get_ns();
		srcu_read_unlock(&head->srcu, idx);
		break;
	case MPVB_CLEAR_HIT:
		ns = b->ns[0];
		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++) {
			mpvb_point_all(head, ns);
			acc += nvme_mpath_clear_current_path(ns);
		}
		t1 = ktime_get_ns();
		break;
	case MPVB_CLEAR_MISS:
		ns = b->ns[b->nr_paths - 1];
		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++)
			acc += nvme_mpath_clear_current_path(ns);
		t1 = ktime_get_ns();
		break;
	default:
		t0 = ktime_get_ns();
		for (i = 0; i < iters; i++) {
			idx = srcu_read_lock(&head->srcu);
			srcu_read_unlock(&head->srcu, idx);
			acc += idx;
		}
		t1 = ktime_get_ns();
		break;
	}
	WRITE_ONCE(mpvb_sink, acc);
	return t1 - t0;
}

/* The first operation, untimed, as the reference's reference_first(). */
static int mpvb_first(struct mpvb *b, const struct mpvb_wl *wl)
{
	struct nvme_ns_head *head = b->head;
	struct nvme_ns *ns;
	int idx;

	switch (wl->action) {
	case MPVB_FIND:
	case MPVB_RESCAN:
		idx = srcu_read_lock(&head->srcu);
		if (wl->action == MPVB_RESCAN)
			rcu_assign_pointer(head->current_path[wl->node], NULL);
		ns = nvme_find_path(head);
		srcu_read_unlock(&head->srcu, idx);
		return mpvb_path_id(b, ns);
	case MPVB_CLEAR_HIT:
		mpvb_point_all(head, b->ns[0]);
		return nvme_mpath_clear_current_path(b->ns[0]);
	case MPVB_CLEAR_MISS:
		return nvme_mpath_clear_current_path(b->ns[b->nr_paths - 1]);
	default:
		idx = srcu_read_lock(&head->srcu);
		srcu_read_unlock(&head->srcu, idx);
		return MPVB_NO_CHECK;
	}
}

static int mpvb_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void mpvb_pathsel(struct kunit *test)
{
	const struct mpvb_wl *wl = test->param_value;
	u64 samples[MPVB_ROUNDS], iters, t, med, min;
	struct mpvb b = {};
	int idx, r;

	/*
	 * Run on a CPU of the caller's node (this kthread is the case's own):
	 * numa_node_id() is what nvme_find_path() keys current_path[] by, and
	 * the batch must not migrate to another node's CPU half-way.
	 */
	if (wl->node < nr_node_ids && !cpumask_empty(cpumask_of_node(wl->node)))
		set_cpus_allowed_ptr(current, cpumask_of_node(wl->node));
	if (wl->nodes > nr_node_ids || numa_node_id() != wl->node) {
		kunit_log(KERN_INFO, test, KUNIT_SUBTEST_INDENT KUNIT_SUBTEST_INDENT
			  "# mpv-bench: %s skip=needs-numa nodes=%d",
			  wl->name, wl->nodes);
		kunit_skip(test, "needs NUMA: %d nodes, caller on node %d (nr_node_ids %u)",
			   wl->nodes, wl->node, nr_node_ids);
	}

	mpvb_build(test, &b, wl);

	/* Prime as the reference does (Workload::prime). */
	switch (wl->action) {
	case MPVB_FIND:
	case MPVB_RESCAN:
		idx = srcu_read_lock(&b.head->srcu);
		nvme_find_path(b.head);
		srcu_read_unlock(&b.head->srcu, idx);
		break;
	case MPVB_CLEAR_HIT:
	case MPVB_CLEAR_MISS:
		mpvb_point_all(b.head, b.ns[0]);
		break;
	}
	if (wl->expect_first != MPVB_NO_CHECK)
		KUNIT_EXPECT_EQ_MSG(test, mpvb_first(&b, wl), wl->expect_first,
				    "mpv-bench: %s: first operation differs from the reference",
				    wl->name);
	else
		mpvb_first(&b, wl);

	/* Calibrate: double until one batch takes MPVB_BATCH_TARGET_NS. */
	for (iters = 16;; iters *= 2) {
		t = mpvb_batch(&b, wl, iters);
		if (t >= MPVB_BATCH_TARGET_NS || iters >= MPVB_MAX_ITERS)
			break;
	}
	for (r = 0; r < MPVB_ROUNDS; r++)
		samples[r] = mpvb_batch(&b, wl, iters);
	sort(samples, MPVB_ROUNDS, sizeof(samples[0]), mpvb_cmp_u64, NULL);
	med = div64_u64(samples[MPVB_ROUNDS / 2] * 1000, iters);
	min = div64_u64(samples[0] * 1000, iters);
	kunit_log(KERN_INFO, test, KUNIT_SUBTEST_INDENT KUNIT_SUBTEST_INDENT
		  "# mpv-bench: %s ns_per_op=%llu.%03llu iters=%llu rounds=%d min=%llu.%03llu",
		  wl->name, med / 1000, med % 1000, iters, MPVB_ROUNDS,
		  min / 1000, min % 1000);
}

/*
 * reader_scaling/t<n>: <n> reader kthreads, bound to CPUs 0..n-1, each call
 * nvme_find_path() in its own SRCU read section, while this thread (the
 * writer) flips one path's ANA state between optimized and non-optimized
 * and clears its current path every 20 us, as the reference's
 * reader_scaling benchmark does. ns/op is per reader: the slowest reader's
 * time over its iterations. Readers offer the CPU every 1024 calls
 * (cond_resched), so the writer runs on a non-preemptible kernel too.
 */
struct mpvb_scale {
	struct mpvb *b;
	u64 iters;
	struct completion start;
	atomic_t done;
	u64 ns[MPVB_MAX_READERS];
};

struct mpvb_reader {
	struct mpvb_scale *s;
	int id;
};

static int mpvb_reader_fn(void *arg)
{
	struct mpvb_reader *r = arg;
	struct mpvb_scale *s = r->s;
	struct nvme_ns_head *head = s->b->head;
	unsigned long acc = 0;
	u64 t0, i;
	int idx;

	wait_for_completion(&s->start);
	t0 = ktime_get_ns();
	for (i = 0; i < s->iters; i++) {
		idx = srcu_read_lock(&head->srcu);
		acc += (unsigned long)nvme_find_path(head);
		srcu_read_unlock(&head->srcu, idx);
		if ((i & 1023) == 1023)
			cond_resched();
	}
	s->ns[r->id] = ktime_get_ns() - t0;
	WRITE_ONCE(mpvb_sink, acc);
	atomic_inc(&s->done);
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* One batch with @nr readers; returns the slowest reader's ns (0: failed). */
static u64 mpvb_scale_batch(struct kunit *test, struct mpvb_scale *s, int nr)
{
	struct task_struct *t[MPVB_MAX_READERS];
	struct mpvb_reader r[MPVB_MAX_READERS];
	struct nvme_ns *ns;
	u64 k = 0, worst = 0;
	int i, started = 0;

	init_completion(&s->start);
	atomic_set(&s->done, 0);
	for (i = 0; i < nr; i++) {
		r[i].s = s;
		r[i].id = i;
		s->ns[i] = 0;
		t[i] = kthread_create(mpvb_reader_fn, &r[i], "mpvb_reader/%d", i);
		if (IS_ERR(t[i])) {
			KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(t[i]));
			break;
		}
		kthread_bind(t[i], i);
		wake_up_process(t[i]);
		started++;
	}
	complete_all(&s->start);
	while (atomic_read(&s->done) < started) {
		ns = s->b->ns[k % s->b->nr_paths];
		WRITE_ONCE(ns->ana_state, READ_ONCE(ns->ana_state) == NVME_ANA_OPTIMIZED ?
			   NVME_ANA_NONOPTIMIZED : NVME_ANA_OPTIMIZED);
		nvme_mpath_clear_current_path(ns);
		k++;
		usleep_range(20, 25);
	}
	for (i = 0; i < started; i++) {
		kthread_stop(t[i]);
		worst = max(worst, s->ns[i]);
	}
	return started == nr ? worst : 0;
}

static void mpvb_reader_scaling(struct kunit *test)
{
	const int nr = *(const int *)test->param_value;
	const struct mpvb_wl *wl = &mpvb_wls[MPVB_SCALING_WL];
	u64 samples[MPVB_ROUNDS], iters, t, med, min;
	struct mpvb_scale s = {};
	struct mpvb b = {};
	int idx, r;

	if (num_online_cpus() < nr || wl->nodes > nr_node_ids) {
		kunit_log(KERN_INFO, test, KUNIT_SUBTEST_INDENT KUNIT_SUBTEST_INDENT
			  "# mpv-bench: reader_scaling/t%d skip=needs-smp cpus=%u",
			  nr, num_online_cpus());
		kunit_skip(test, "needs %d CPUs (%u online)", nr, num_online_cpus());
	}
	mpvb_build(test, &b, wl);
	idx = srcu_read_lock(&b.head->srcu);
	nvme_find_path(b.head);
	srcu_read_unlock(&b.head->srcu, idx);
	/* Calibrate on one thread, without the writer, as mpvb_pathsel. */
	for (iters = 16;; iters *= 2) {
		t = mpvb_batch(&b, wl, iters);
		if (t >= MPVB_BATCH_TARGET_NS || iters >= MPVB_MAX_ITERS)
			break;
	}
	s.b = &b;
	s.iters = iters * MPVB_SCALING_BATCH_MUL;
	for (r = 0; r < MPVB_ROUNDS; r++) {
		samples[r] = mpvb_scale_batch(test, &s, nr);
		if (!samples[r])
			return;
	}
	sort(samples, MPVB_ROUNDS, sizeof(samples[0]), mpvb_cmp_u64, NULL);
	med = div64_u64(samples[MPVB_ROUNDS / 2] * 1000, s.iters);
	min = div64_u64(samples[0] * 1000, s.iters);
	kunit_log(KERN_INFO, test, KUNIT_SUBTEST_INDENT KUNIT_SUBTEST_INDENT
		  "# mpv-bench: reader_scaling/t%d ns_per_op=%llu.%03llu iters=%llu rounds=%d min=%llu.%03llu",
		  nr, med / 1000, med % 1000, s.iters, MPVB_ROUNDS,
		  min / 1000, min % 1000);
}

static const int mpvb_scaling_readers[] = { 1, 2 };

static void mpvb_scaling_desc(const int *nr, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "reader_scaling/t%d", *nr);
}

KUNIT_ARRAY_PARAM_DESC(mpvb, mpvb_wls, name);
KUNIT_ARRAY_PARAM(mpvb_scaling, mpvb_scaling_readers, mpvb_scaling_desc);

static struct kunit_case mpvb_cases[] = {
	KUNIT_CASE_PARAM(mpvb_pathsel, mpvb_gen_params),
	KUNIT_CASE_PARAM(mpvb_reader_scaling, mpvb_scaling_gen_params),
	{}
};

static struct kunit_suite mpvb_suite = {
	.name = "mpv_nvme612_bench",
	.test_cases = mpvb_cases,
};
kunit_test_suite(mpvb_suite);
"##;

/// One parsed `# mpv-bench:` line.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KernelResult {
    pub workload: String,
    /// Median ns per operation; `None` when skipped.
    pub ns_per_op: Option<f64>,
    pub iters: Option<u64>,
    /// Fastest round, ns per operation.
    pub min_ns_per_op: Option<f64>,
    /// Why there is no number (e.g. `needs-numa`).
    pub skip: Option<String>,
}

/// Parse every `# mpv-bench:` line of a KTAP / raw console output. Lines
/// may carry any prefix (indentation, console timestamps). Returns an error
/// naming the line for a malformed bench line.
pub fn parse_ktap(text: &str) -> Result<Vec<KernelResult>, String> {
    let mut out = Vec::new();
    for (ln, line) in text.lines().enumerate() {
        let Some(pos) = line.find(TAG) else { continue };
        let rest = line[pos + TAG.len()..].trim();
        let mut parts = rest.split_whitespace();
        let Some(workload) = parts.next() else {
            return Err(format!("line {}: mpv-bench line without a workload", ln + 1));
        };
        let mut r = KernelResult { workload: workload.to_string(), ns_per_op: None, iters: None, min_ns_per_op: None, skip: None };
        for kv in parts {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(format!("line {}: expected key=value, got {kv:?}", ln + 1));
            };
            let bad = |e: &dyn std::fmt::Display| format!("line {}: bad {k}={v:?}: {e}", ln + 1);
            match k {
                "ns_per_op" => r.ns_per_op = Some(v.parse::<f64>().map_err(|e| bad(&e))?),
                "min" => r.min_ns_per_op = Some(v.parse::<f64>().map_err(|e| bad(&e))?),
                "iters" => r.iters = Some(v.parse::<u64>().map_err(|e| bad(&e))?),
                "skip" => r.skip = Some(v.to_string()),
                _ => {} // rounds=, nodes=, future keys
            }
        }
        if r.ns_per_op.is_none() && r.skip.is_none() {
            return Err(format!("line {}: {} has neither ns_per_op nor skip", ln + 1, r.workload));
        }
        out.push(r);
    }
    Ok(out)
}

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

    const FIXTURE: &str = "\
[    0.412000] KTAP version 1
    # Subtest: mpv_nvme612_bench
    1..1
        KTAP version 1
        # Subtest: mpvb_pathsel
        # mpv-bench: numa_hit.all_opt.p1.n1 ns_per_op=3.125 iters=1048576 rounds=7 min=3.010
        ok 1 numa_hit.all_opt.p1.n1
[    1.000100]         # mpv-bench: numa_rescan.all_opt.p128.n1 ns_per_op=812.500 iters=2048 rounds=7 min=800.000
        ok 2 numa_rescan.all_opt.p128.n1
        # mpv-bench: numa_hit.all_opt.p8.n2 skip=needs-numa nodes=2
        ok 3 numa_hit.all_opt.p8.n2 # SKIP needs NUMA: 2 nodes
    # mpvb_pathsel: pass:2 fail:0 skip:1 total:3
ok 1 mpv_nvme612_bench
";

    #[test]
    fn parses_measured_and_skipped_lines() {
        let r = parse_ktap(FIXTURE).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].workload, "numa_hit.all_opt.p1.n1");
        assert_eq!(r[0].ns_per_op, Some(3.125));
        assert_eq!(r[0].iters, Some(1_048_576));
        assert_eq!(r[0].min_ns_per_op, Some(3.01));
        assert_eq!(r[1].workload, "numa_rescan.all_opt.p128.n1");
        assert_eq!(r[1].ns_per_op, Some(812.5));
        assert_eq!(r[2].skip.as_deref(), Some("needs-numa"));
        assert_eq!(r[2].ns_per_op, None);
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(parse_ktap("# mpv-bench: x ns_per_op=abc").unwrap_err().contains("line 1"));
        assert!(parse_ktap("ok\n# mpv-bench: x iters=3").unwrap_err().contains("line 2"));
        assert!(parse_ktap("# mpv-bench: x garbage").is_err());
        assert!(parse_ktap("# mpv-bench: ").is_err());
        assert_eq!(parse_ktap("nothing here\n# mpv: trace:1 find_path").unwrap(), vec![]);
    }

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
        assert!(c.contains(&format!("#define MPVB_ROUNDS\t\t{ROUNDS}\n")) && c.contains(&format!("MPVB_BATCH_TARGET_NS\t{BATCH_TARGET_NS}ULL")));
        // without the scaling workload there is no suite
        let without: Vec<_> = all.iter().filter(|w| w.name != SCALING_WORKLOAD).cloned().collect();
        assert!(generate_suite(&without).unwrap_err().contains(SCALING_WORKLOAD));
    }
}
