/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpath-verify KUnit harness for Linux 6.12 NVMe multipath
 * (drivers/nvme/host/multipath.c).
 *
 * Written for mpath-verify; contains no kernel code. It builds, with KUnit
 * managed allocations, the smallest set of nvme-core objects on which the
 * real path-selection functions of nvme-core can run without a device:
 *
 *   one nvme_subsystem  (iopolicy)
 *   N   nvme_ctrl       (state, lock, state_wq, failfast_work, numa_node,
 *                        nr_active, namespaces, srcu; no opts: not fabrics)
 *   one nvme_ns_head    (list, srcu, current_path[nr_node_ids], lock,
 *                        requeue_work with a counting no-op, fake disk)
 *   M   nvme_ns         (ctrl, head, ana_state, flags, fake disk), linked
 *                        into head->list and ctrl->namespaces with the RCU
 *                        list API.
 *
 * Paths and controllers are named by small integers in creation order
 * (path 0, 1, ...; ctrl 0, 1, ...). Functions returning a path return its
 * id, MPV_NONE for NULL, or MPV_UNKNOWN for a pointer that is not one of the
 * world's paths (that would be a harness or kernel bug).
 *
 * This file is compiled as part of nvme-core (drivers/nvme/host/mpv_test.c
 * includes it), so it can call the non-static multipath functions declared
 * in nvme.h. The static selectors (__nvme_find_path, nvme_round_robin_path,
 * nvme_queue_depth_path, nvme_numa_path, nvme_path_is_disabled, ...) are
 * reached only through nvme_find_path().
 *
 * Every helper is static and used only by the single suite that includes
 * this header; all names start with mpv_ / MPV_.
 */
#ifndef MPV_HARNESS_H
#define MPV_HARNESS_H

#include <kunit/test.h>
#include <kunit/resource.h>
#include <linux/blkdev.h>
#include <linux/rculist.h>
#include <linux/srcu.h>
#include <linux/workqueue.h>
#include <linux/numa.h>
#include <linux/topology.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include "nvme.h"
#include "mpv_common.h"

#define MPV_MAX_CTRLS		128
#define MPV_MAX_PATHS		128
#define MPV_DEFAULT_CAPACITY	((sector_t)2048)

struct mpv_world {
	struct kunit *test;
	const char *trace;	/* trace file name used in diagnostics */
	int step;		/* step number of the last MPV_STEP */

	struct nvme_subsystem *subsys;
	struct nvme_ns_head *head;
	struct gendisk *head_disk;	/* fake: only part0->bd_nr_sectors */

	int nr_ctrls;
	struct nvme_ctrl *ctrl[MPV_MAX_CTRLS];
	int nr_paths;
	struct nvme_ns *ns[MPV_MAX_PATHS];
	bool on_head_list[MPV_MAX_PATHS];
	bool on_ctrl_list[MPV_MAX_PATHS];

	atomic_t requeue_runs;	/* executions of head->requeue_work */
};

/*
 * Steps and expectations: MPV_STEP, MPV_EXPECT_EQ / _TRUE / _FALSE
 * (mpv_common.h) over the world's test, trace and step.
 */

/* Argument checks: a bad id is a generator bug, fail the test loudly. */
#define MPV_CHECK_PATH(w, p)						\
	KUNIT_ASSERT_TRUE_MSG((w)->test, (p) >= 0 && (p) < (w)->nr_paths, \
			      "mpv: %s:%d bad path id %d", (w)->trace,	\
			      (w)->step, (p))
#define MPV_CHECK_CTRL(w, c)						\
	KUNIT_ASSERT_TRUE_MSG((w)->test, (c) >= 0 && (c) < (w)->nr_ctrls, \
			      "mpv: %s:%d bad ctrl id %d", (w)->trace,	\
			      (w)->step, (c))
#define MPV_CHECK_NODE(w, node)						\
	KUNIT_ASSERT_TRUE_MSG((w)->test,				\
			      (node) >= 0 && (node) < nr_node_ids,	\
			      "mpv: %s:%d bad node %d (nr_node_ids %u)", \
			      (w)->trace, (w)->step, (node), nr_node_ids)

/* ------------------------------------------------------------- lookups */

static __maybe_unused int mpv_path_id(struct mpv_world *w, struct nvme_ns *ns)
{
	return mpv_object_id((void *const *)w->ns, w->nr_paths, 0, ns);
}

static __maybe_unused struct nvme_ns *mpv_ns(struct mpv_world *w, int p)
{
	MPV_CHECK_PATH(w, p);
	return w->ns[p];
}

static __maybe_unused struct nvme_ctrl *mpv_ctrl(struct mpv_world *w, int c)
{
	MPV_CHECK_CTRL(w, c);
	return w->ctrl[c];
}

/* ------------------------------------------------------- construction */

/* head->requeue_work stand-in: counts runs, touches nothing else. */
static void mpv_requeue_work_fn(struct work_struct *work)
{
	struct nvme_ns_head *head =
		container_of(work, struct nvme_ns_head, requeue_work);
	struct mpv_world *w = head->disk->private_data;

	atomic_inc(&w->requeue_runs);
}

static void mpv_partition_scan_work_fn(struct work_struct *work)
{
}

/*
 * ctrl->failfast_work stand-in. nvme_change_ctrl_state starts and stops the
 * failfast work only for a fabrics controller (ctrl->opts set); ours have
 * no opts, so it is never queued. Initialised so that no path can touch an
 * uninitialised work.
 */
static void mpv_failfast_work_fn(struct work_struct *work)
{
}

static struct gendisk *mpv_fake_disk(struct kunit *test, sector_t capacity,
				     void *private_data)
{
	struct gendisk *disk = kunit_kzalloc(test, sizeof(*disk), GFP_KERNEL);
	struct block_device *part0 =
		kunit_kzalloc(test, sizeof(*part0), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, disk);
	KUNIT_ASSERT_NOT_NULL(test, part0);
	/* get_capacity() reads disk->part0->bd_nr_sectors and nothing else. */
	part0->bd_disk = disk;
	part0->bd_nr_sectors = capacity;
	disk->part0 = part0;
	/*
	 * An empty partition table: disk_uevent(), which
	 * nvme_kick_requeue_lists() calls on the head disk when a controller
	 * becomes LIVE, walks part_tbl and so sends no uevent for the fake.
	 */
	xa_init(&disk->part_tbl);
	disk->private_data = private_data;
	return disk;
}

/* Runs before the head memory is freed (LIFO with kunit_kzalloc). */
static void mpv_head_cleanup(void *data)
{
	struct nvme_ns_head *head = data;

	cancel_work_sync(&head->requeue_work);
	cancel_work_sync(&head->partition_scan_work);
	cleanup_srcu_struct(&head->srcu);
}

static void mpv_ctrl_cleanup(void *data)
{
	struct nvme_ctrl *ctrl = data;

	cancel_delayed_work_sync(&ctrl->failfast_work);
	cleanup_srcu_struct(&ctrl->srcu);
}

/*
 * A world with a subsystem (iopolicy NUMA) and an empty head whose fake
 * disk has MPV_DEFAULT_CAPACITY sectors. @trace names the trace in every
 * diagnostic; it must outlive the test (use a string literal).
 */
static __maybe_unused struct mpv_world *mpv_world_new(struct kunit *test,
						      const char *trace)
{
	struct mpv_world *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	struct nvme_subsystem *subsys;
	struct nvme_ns_head *head;

	KUNIT_ASSERT_NOT_NULL(test, w);
	w->test = test;
	w->trace = trace;
	atomic_set(&w->requeue_runs, 0);

	subsys = kunit_kzalloc(test, sizeof(*subsys), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, subsys);
	mutex_init(&subsys->lock);
	INIT_LIST_HEAD(&subsys->ctrls);
	INIT_LIST_HEAD(&subsys->nsheads);
	kref_init(&subsys->ref);
	WRITE_ONCE(subsys->iopolicy, NVME_IOPOLICY_NUMA);
	w->subsys = subsys;

	/* As nvme_alloc_ns_head: current_path[] has nr_node_ids slots. */
	head = kunit_kzalloc(test, struct_size(head, current_path, nr_node_ids),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, head);
	INIT_LIST_HEAD(&head->list);
	KUNIT_ASSERT_EQ(test, init_srcu_struct(&head->srcu), 0);
	head->subsys = subsys;
	kref_init(&head->ref);
	head->ns_id = 1;
	bio_list_init(&head->requeue_list);
	spin_lock_init(&head->requeue_lock);
	INIT_WORK(&head->requeue_work, mpv_requeue_work_fn);
	INIT_WORK(&head->partition_scan_work, mpv_partition_scan_work_fn);
	mutex_init(&head->lock);
	head->disk = mpv_fake_disk(test, MPV_DEFAULT_CAPACITY, w);
	w->head_disk = head->disk;
	list_add_tail(&head->entry, &subsys->nsheads);
	w->head = head;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mpv_head_cleanup,
							head), 0);
	return w;
}

/* A controller: LIVE, numa_node NUMA_NO_NODE, nr_active 0. Returns its id. */
static __maybe_unused int mpv_add_ctrl(struct mpv_world *w)
{
	struct kunit *test = w->test;
	struct nvme_ctrl *ctrl;
	int c = w->nr_ctrls;

	KUNIT_ASSERT_LT_MSG(test, c, MPV_MAX_CTRLS, "mpv: too many ctrls");
	ctrl = kunit_kzalloc(test, sizeof(*ctrl), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctrl);
	WRITE_ONCE(ctrl->state, NVME_CTRL_LIVE);
	spin_lock_init(&ctrl->lock);
	/* nvme_change_ctrl_state wakes state_wq on every change */
	init_waitqueue_head(&ctrl->state_wq);
	INIT_DELAYED_WORK(&ctrl->failfast_work, mpv_failfast_work_fn);
	mutex_init(&ctrl->scan_lock);
	INIT_LIST_HEAD(&ctrl->namespaces);
	mutex_init(&ctrl->namespaces_lock);
	KUNIT_ASSERT_EQ(test, init_srcu_struct(&ctrl->srcu), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mpv_ctrl_cleanup,
							ctrl), 0);
	ctrl->numa_node = NUMA_NO_NODE;
	ctrl->subsys = w->subsys;
	ctrl->instance = c;
	ctrl->cntlid = c + 1;
	atomic_set(&ctrl->nr_active, 0);
	/* ctrl->ana_log_buf stays NULL: nvme_ctrl_use_ana() is false. */
	list_add_tail(&ctrl->subsys_entry, &w->subsys->ctrls);
	w->ctrl[c] = ctrl;
	w->nr_ctrls++;
	return c;
}

/*
 * A path (namespace) on controller @c: ANA OPTIMIZED, NVME_NS_READY set,
 * ANA_PENDING clear, fake disk of MPV_DEFAULT_CAPACITY sectors. Appended to
 * head->list (list_add_tail_rcu under subsys->lock, as nvme_init_ns_head)
 * and to ctrl->namespaces. Returns its id.
 */
static __maybe_unused int mpv_add_path(struct mpv_world *w, int c)
{
	struct kunit *test = w->test;
	struct nvme_ctrl *ctrl = mpv_ctrl(w, c);
	struct nvme_ns *ns;
	int p = w->nr_paths;

	KUNIT_ASSERT_LT_MSG(test, p, MPV_MAX_PATHS, "mpv: too many paths");
	ns = kunit_kzalloc(test, sizeof(*ns), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ns);
	ns->ctrl = ctrl;
	ns->head = w->head;
	ns->ana_state = NVME_ANA_OPTIMIZED;
	ns->ana_grpid = 1;
	kref_init(&ns->kref);
	ns->disk = mpv_fake_disk(test, MPV_DEFAULT_CAPACITY, NULL);
	set_bit(NVME_NS_READY, &ns->flags);
	w->ns[p] = ns;
	w->nr_paths++;

	mutex_lock(&w->subsys->lock);
	list_add_tail_rcu(&ns->siblings, &w->head->list);
	mutex_unlock(&w->subsys->lock);
	w->on_head_list[p] = true;

	mutex_lock(&ctrl->namespaces_lock);
	list_add_tail_rcu(&ns->list, &ctrl->namespaces);
	mutex_unlock(&ctrl->namespaces_lock);
	w->on_ctrl_list[p] = true;
	return p;
}

/* @n controllers and @n paths, path i on ctrl i. */
static __maybe_unused struct mpv_world *mpv_world_simple(struct kunit *test,
							 const char *trace,
							 int n)
{
	struct mpv_world *w = mpv_world_new(test, trace);
	int i;

	for (i = 0; i < n; i++)
		mpv_add_path(w, mpv_add_ctrl(w));
	return w;
}

/* ------------------------------------------------------------ setters */

static __maybe_unused void mpv_set_iopolicy(struct mpv_world *w,
					    enum nvme_iopolicy pol)
{
	WRITE_ONCE(w->subsys->iopolicy, pol);
}

/*
 * nvme_change_ctrl_state(ctrl, state), the kernel's own: its transition
 * table under ctrl->lock decides (a refused change leaves the state and
 * returns false); on a change it wakes ctrl->state_wq, and on a change to
 * LIVE it kicks the requeue lists (nvme_kick_requeue_lists: every ns on
 * ctrl->namespaces schedules head->requeue_work, our counting no-op, and
 * disk_uevent()s the fake head disk, whose empty part_tbl sends nothing).
 * The failfast work is started or stopped only for fabrics controllers
 * (ctrl->opts), which ours are not. Returns whether the state changed.
 */
static __maybe_unused bool mpv_set_ctrl_state(struct mpv_world *w, int c,
					      enum nvme_ctrl_state state)
{
	return nvme_change_ctrl_state(mpv_ctrl(w, c), state);
}

/* The same for the controller that path @p is on. */
static __maybe_unused bool mpv_set_path_ctrl_state(struct mpv_world *w, int p,
						   enum nvme_ctrl_state state)
{
	return nvme_change_ctrl_state(mpv_ns(w, p)->ctrl, state);
}

static __maybe_unused void mpv_set_ctrl_numa_node(struct mpv_world *w, int c,
						  int node)
{
	mpv_ctrl(w, c)->numa_node = node;
}

static __maybe_unused void mpv_set_nr_active(struct mpv_world *w, int c,
					     int nr)
{
	atomic_set(&mpv_ctrl(w, c)->nr_active, nr);
}

static __maybe_unused void mpv_set_ana_state(struct mpv_world *w, int p,
					     enum nvme_ana_state state)
{
	WRITE_ONCE(mpv_ns(w, p)->ana_state, state);
}

static __maybe_unused void mpv_set_ready(struct mpv_world *w, int p, bool on)
{
	if (on)
		set_bit(NVME_NS_READY, &mpv_ns(w, p)->flags);
	else
		clear_bit(NVME_NS_READY, &mpv_ns(w, p)->flags);
}

static __maybe_unused void mpv_set_ana_pending(struct mpv_world *w, int p,
					       bool on)
{
	if (on)
		set_bit(NVME_NS_ANA_PENDING, &mpv_ns(w, p)->flags);
	else
		clear_bit(NVME_NS_ANA_PENDING, &mpv_ns(w, p)->flags);
}

/* current_path[node] = path @p, or NULL for MPV_NONE. */
static __maybe_unused void mpv_set_current_path(struct mpv_world *w, int node,
						int p)
{
	MPV_CHECK_NODE(w, node);
	rcu_assign_pointer(w->head->current_path[node],
			   p == MPV_NONE ? NULL : mpv_ns(w, p));
}

/* Capacity (sectors) of path @p's disk, as read by revalidate. */
static __maybe_unused void mpv_set_capacity(struct mpv_world *w, int p,
					    sector_t sectors)
{
	WRITE_ONCE(mpv_ns(w, p)->disk->part0->bd_nr_sectors, sectors);
}

static __maybe_unused void mpv_set_head_capacity(struct mpv_world *w,
						 sector_t sectors)
{
	WRITE_ONCE(w->head_disk->part0->bd_nr_sectors, sectors);
}

/* ------------------------------------------------------- list changes */

/* list_del_rcu(&ns->siblings) under subsys->lock; no synchronize. */
static __maybe_unused void mpv_unlink_path(struct mpv_world *w, int p)
{
	struct nvme_ns *ns = mpv_ns(w, p);

	KUNIT_ASSERT_TRUE_MSG(w->test, w->on_head_list[p],
			      "mpv: %s:%d path %d is not on head->list",
			      w->trace, w->step, p);
	mutex_lock(&w->subsys->lock);
	list_del_rcu(&ns->siblings);
	mutex_unlock(&w->subsys->lock);
	w->on_head_list[p] = false;
}

/* synchronize_srcu(&head->srcu). */
static __maybe_unused void mpv_synchronize(struct mpv_world *w)
{
	synchronize_srcu(&w->head->srcu);
}

/* Delete a path: unlink from head->list, then synchronize head->srcu. */
static __maybe_unused void mpv_delete_path(struct mpv_world *w, int p)
{
	mpv_unlink_path(w, p);
	mpv_synchronize(w);
}

/* Re-append an unlinked path at the tail of head->list. */
static __maybe_unused void mpv_relink_path(struct mpv_world *w, int p)
{
	struct nvme_ns *ns = mpv_ns(w, p);

	KUNIT_ASSERT_FALSE_MSG(w->test, w->on_head_list[p],
			       "mpv: %s:%d path %d is already on head->list",
			       w->trace, w->step, p);
	mutex_lock(&w->subsys->lock);
	list_add_tail_rcu(&ns->siblings, &w->head->list);
	mutex_unlock(&w->subsys->lock);
	w->on_head_list[p] = true;
}

/*
 * The multipath-relevant order of 6.12's nvme_ns_remove(), restated (no
 * gendisk/cdev work): set REMOVING, clear READY, capacity 0, synchronize,
 * nvme_mpath_clear_current_path() (+ synchronize if it changed something),
 * unlink from head->list, synchronize, unlink from ctrl->namespaces,
 * synchronize ctrl->srcu. Returns what clear_current_path returned.
 */
static __maybe_unused bool mpv_ns_remove(struct mpv_world *w, int p)
{
	struct nvme_ns *ns = mpv_ns(w, p);
	bool changed;

	if (test_and_set_bit(NVME_NS_REMOVING, &ns->flags))
		return false;
	clear_bit(NVME_NS_READY, &ns->flags);
	WRITE_ONCE(ns->disk->part0->bd_nr_sectors, 0);
	synchronize_srcu(&w->head->srcu);
	changed = nvme_mpath_clear_current_path(ns);
	if (changed)
		synchronize_srcu(&w->head->srcu);
	if (w->on_head_list[p])
		mpv_unlink_path(w, p);
	synchronize_srcu(&w->head->srcu);
	if (w->on_ctrl_list[p]) {
		mutex_lock(&ns->ctrl->namespaces_lock);
		list_del_rcu(&ns->list);
		mutex_unlock(&ns->ctrl->namespaces_lock);
		w->on_ctrl_list[p] = false;
		synchronize_srcu(&ns->ctrl->srcu);
	}
	return changed;
}

/* --------------------------------------------- calls into nvme-core */

/* nvme_find_path(head) inside srcu_read_lock(&head->srcu), as callers do. */
static __maybe_unused int mpv_find_path(struct mpv_world *w)
{
	struct nvme_ns *ns;
	int idx;

	idx = srcu_read_lock(&w->head->srcu);
	ns = nvme_find_path(w->head);
	srcu_read_unlock(&w->head->srcu, idx);
	return mpv_path_id(w, ns);
}

static long mpv_find_path_fn(void *w)
{
	return mpv_find_path(w);
}

/*
 * nvme_find_path on a CPU of @node (work_on_cpu), so that numa_node_id()
 * in the kernel's selection is @node. On a kernel without SMP (UML) the
 * call is made in place and @node must be the only node, 0.
 */
static __maybe_unused int mpv_find_path_on(struct mpv_world *w, int node)
{
	unsigned int cpu = cpumask_first_and(cpumask_of_node(node), cpu_online_mask);

	KUNIT_ASSERT_LT_MSG(w->test, cpu, nr_cpu_ids, "mpv: %s:%d no online CPU on node %d",
			    w->trace, w->step, node);
	return work_on_cpu(cpu, mpv_find_path_fn, w);
}

struct mpv_watched {
	struct mpv_world *w;
	int ret;
	struct completion done;
};

static int mpv_find_path_thread(void *arg)
{
	struct mpv_watched *s = arg;

	s->ret = mpv_find_path(s->w);
	complete(&s->done);
	return 0;
}

/*
 * nvme_find_path in a kthread bound to a CPU of @node, watched from
 * another CPU. If it has not returned within @ms, the selection spins:
 * the watchdog makes every path usable (READY, ANA optimized, controller
 * LIVE) so that the loop can return, then puts the paths' state and
 * current_path[] back as they were. Returns the path chosen (MPV_NONE
 * after a spin) and sets *spun. Needs two online CPUs (the x86_64 run);
 * the exporter emits it only there.
 */
static __maybe_unused int mpv_find_path_watched(struct mpv_world *w, int node,
						unsigned int ms, bool *spun)
{
	unsigned int cpu = cpumask_first_and(cpumask_of_node(node), cpu_online_mask);
	unsigned int watch = cpumask_any_but(cpu_online_mask, cpu);
	struct nvme_ns **before;
	struct task_struct *t;
	struct mpv_watched *s;
	unsigned long *flags;
	int *ana, *state;
	int i, n;

	KUNIT_ASSERT_LT_MSG(w->test, cpu, nr_cpu_ids, "mpv: %s:%d no online CPU on node %d",
			    w->trace, w->step, node);
	KUNIT_ASSERT_LT_MSG(w->test, watch, nr_cpu_ids, "mpv: %s:%d a spin needs a second CPU",
			    w->trace, w->step);
	s = kunit_kzalloc(w->test, sizeof(*s), GFP_KERNEL);
	before = kunit_kcalloc(w->test, nr_node_ids, sizeof(*before), GFP_KERNEL);
	flags = kunit_kcalloc(w->test, MPV_MAX_PATHS, sizeof(*flags), GFP_KERNEL);
	ana = kunit_kcalloc(w->test, MPV_MAX_PATHS, sizeof(*ana), GFP_KERNEL);
	state = kunit_kcalloc(w->test, MPV_MAX_CTRLS, sizeof(*state), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(w->test, s && before && flags && ana && state);
	for_each_node(n)
		before[n] = rcu_access_pointer(w->head->current_path[n]);
	s->w = w;
	init_completion(&s->done);
	/* the watcher must not share the spinner's CPU */
	KUNIT_ASSERT_EQ(w->test, set_cpus_allowed_ptr(current, cpumask_of(watch)), 0);
	t = kthread_create(mpv_find_path_thread, s, "mpv_select");
	KUNIT_ASSERT_FALSE(w->test, IS_ERR(t));
	kthread_bind(t, cpu);
	wake_up_process(t);
	*spun = !wait_for_completion_timeout(&s->done, msecs_to_jiffies(ms));
	if (*spun) {
		for (i = 0; i < w->nr_paths; i++) {
			flags[i] = READ_ONCE(w->ns[i]->flags);
			ana[i] = READ_ONCE(w->ns[i]->ana_state);
			WRITE_ONCE(w->ns[i]->ana_state, NVME_ANA_OPTIMIZED);
			clear_bit(NVME_NS_ANA_PENDING, &w->ns[i]->flags);
			set_bit(NVME_NS_READY, &w->ns[i]->flags);
		}
		/*
		 * A rescue, not a trace step: the state is written directly
		 * (no transition check, no requeue kick) and put back below.
		 */
		for (i = 0; i < w->nr_ctrls; i++) {
			state[i] = READ_ONCE(w->ctrl[i]->state);
			WRITE_ONCE(w->ctrl[i]->state, NVME_CTRL_LIVE);
		}
		wait_for_completion(&s->done);
		for (i = 0; i < w->nr_paths; i++) {
			WRITE_ONCE(w->ns[i]->flags, flags[i]);
			WRITE_ONCE(w->ns[i]->ana_state, ana[i]);
		}
		for (i = 0; i < w->nr_ctrls; i++)
			WRITE_ONCE(w->ctrl[i]->state, state[i]);
		for_each_node(n)
			rcu_assign_pointer(w->head->current_path[n], before[n]);
		synchronize_srcu(&w->head->srcu);
		MPV_LOG(w->test,
			"mpv-finding: %s:%d non-termination reproduced in kernel C: nvme_find_path on node %d (CPU %u) did not return within %u ms; let out by making every path usable",
			w->trace, w->step, node, cpu, ms);
	}
	set_cpus_allowed_ptr(current, cpu_possible_mask);
	return *spun ? MPV_NONE : s->ret;
}

/*
 * A watched selection whose termination is checked: a spin that was not
 * expected fails the step within seconds instead of hanging the run.
 */
static __maybe_unused int mpv_find_path_checked(struct mpv_world *w, int node, bool expect_spin)
{
	bool spun;
	int id = mpv_find_path_watched(w, node, 2000, &spun);

	KUNIT_EXPECT_EQ_MSG(w->test, spun, expect_spin, "mpv: %s:%d nvme_find_path %s",
			    w->trace, w->step, spun ? "did not terminate" : "terminated");
	return id;
}

/* nvme_mpath_clear_current_path(ns): true if some slot pointed at @p. */
static __maybe_unused bool mpv_clear_current_path(struct mpv_world *w, int p)
{
	return nvme_mpath_clear_current_path(mpv_ns(w, p));
}

/*
 * nvme_mpath_revalidate_paths(ns): clears READY on every listed path whose
 * disk capacity differs from the head's, clears every current_path slot,
 * kicks head->requeue_work (our counting no-op).
 */
static __maybe_unused void mpv_revalidate_paths(struct mpv_world *w, int p)
{
	nvme_mpath_revalidate_paths(mpv_ns(w, p));
}

/*
 * nvme_mpath_clear_ctrl_paths(ctrl): for each ns on ctrl->namespaces (under
 * ctrl->srcu) clear_current_path and kick the head's requeue work.
 */
static __maybe_unused void mpv_clear_ctrl_paths(struct mpv_world *w, int c)
{
	nvme_mpath_clear_ctrl_paths(mpv_ctrl(w, c));
}

/* nvme_mpath_default_iopolicy(subsys): iopolicy = module param (NUMA). */
static __maybe_unused void mpv_default_iopolicy(struct mpv_world *w)
{
	nvme_mpath_default_iopolicy(w->subsys);
}

/* ----------------------------------------------------------- observers */

/* current_path[node] as a path id (MPV_NONE for NULL). */
static __maybe_unused int mpv_current_path(struct mpv_world *w, int node)
{
	MPV_CHECK_NODE(w, node);
	return mpv_path_id(w, rcu_access_pointer(w->head->current_path[node]));
}

static __maybe_unused bool mpv_is_ready(struct mpv_world *w, int p)
{
	return test_bit(NVME_NS_READY, &mpv_ns(w, p)->flags);
}

static __maybe_unused bool mpv_is_ana_pending(struct mpv_world *w, int p)
{
	return test_bit(NVME_NS_ANA_PENDING, &mpv_ns(w, p)->flags);
}

/*
 * Is the path's namespace on head->list? Walked under head->srcu, as the
 * kernel's readers walk it: kernel state, not the harness's bookkeeping.
 */
static __maybe_unused bool mpv_on_head_list(struct mpv_world *w, int p)
{
	struct nvme_ns *ns;
	bool found = false;
	int idx;

	MPV_CHECK_PATH(w, p);
	idx = srcu_read_lock(&w->head->srcu);
	list_for_each_entry_srcu(ns, &w->head->list, siblings,
				 srcu_read_lock_held(&w->head->srcu))
		if (ns == mpv_ns(w, p))
			found = true;
	srcu_read_unlock(&w->head->srcu, idx);
	return found;
}

static __maybe_unused int mpv_iopolicy(struct mpv_world *w)
{
	return READ_ONCE(w->subsys->iopolicy);
}

/* Flush head->requeue_work, then return how often it has run. */
static __maybe_unused int mpv_requeue_runs(struct mpv_world *w)
{
	flush_work(&w->head->requeue_work);
	return atomic_read(&w->requeue_runs);
}

/*
 * The trace's pending_work, while it has not yet named the requeue work
 * (see the exporter): @kicked is whether it names it now, i.e. whether
 * something has queued head->requeue_work since the world was built. The
 * kernel runs the work on its own, so what compares is whether it has run.
 */
static __maybe_unused void mpv_expect_requeue_kicked(struct mpv_world *w,
						     bool kicked)
{
	int runs = mpv_requeue_runs(w);

	KUNIT_EXPECT_EQ_MSG(w->test, (int)(runs > 0), (int)kicked,
			    "mpv: %s:%d pending_work requeue (head->requeue_work ran %d times)",
			    w->trace, w->step, runs);
}

#endif /* MPV_HARNESS_H */
