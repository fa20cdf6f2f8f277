/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpath-verify: forced interleavings of Linux 6.12's NVMe multipath C.
 *
 * Written for mpath-verify; contains no kernel code. Included after
 * mpv_harness.h by a suite that `mpath-verify kunit race` generates from a
 * model counterexample's schedule (one model thread = one kthread here).
 *
 * The tree is patched with schedule points (conformance/kunit/race/
 * nvme-6.12-sched.patch): MPV_SCHED("<point>", obj) before every statement
 * of drivers/nvme/host/multipath.c where the model has a primitive step
 * (current_path load and store, list walks, the selection loops, the
 * reads of path state). The harness's own mirror of nvme_ns_remove() and of
 * nvme_ns_head_submit_bio() (their callers need a probed namespace and a
 * live head gendisk) carries the same points in its own code. A point is
 * a no-op unless a race is armed and the caller is one of its kthreads.
 *
 * The controller (the KUnit case) replays the schedule's hooked steps in
 * the model's order: each thread is parked at a point; for step k the
 * controller checks that thread T is parked at the point the model names
 * (and on the path it names), releases it, and waits until T parks at its
 * next point, finishes, or blocks (no next point within MPV_RACE_STEP_MS:
 * synchronize_srcu, a mutex). A thread found anywhere else ends the replay
 * as NOT-REPRODUCED with both positions. After the last step the property's
 * consequence is looked for in kernel state (see mpv_race_verdict()).
 *
 * Every thread is then run to completion with points as no-ops; a
 * selection loop that passes MPV_RACE_SPIN_BOUND loop points in one
 * nvme_find_path() call is ended by a recovery action (the path it visits
 * is made usable and optimized), so the kernel survives and the world can
 * be freed.
 *
 * KTAP diagnostics (parsed by `kunit race`):
 *   # mpv-race-step: <k> <model-index> <thread> <point> path=<p> line=<n>
 *   # mpv-race-diverged: <k> model: <thread> at <point> path=<p>; kernel: ...
 *   # mpv-race-blocked: <thread> after <point> line=<n> (<ms> ms)
 *   # mpv-race-spin: <thread> passed <point> <n> times in one call ...
 *   # mpv-race-recovery: ...
 *   # mpv-race-observed: <thread> op <i> nvme_find_path returned <p> ...
 *   # mpv-race-verdict: REPRODUCED|NOT-REPRODUCED <text>
 */
#ifndef MPV_RACE_H
#define MPV_RACE_H

#include <linux/kthread.h>
#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/delay.h>

/* A KTAP diagnostic line at the case indent ("    # mpv-race-...: ..."). */
#define MPV_RACE_LOG(test, fmt, ...)					\
	kunit_log(KERN_INFO, test, KUNIT_SUBTEST_INDENT "# " fmt,	\
		  ##__VA_ARGS__)

/* Defined by the schedule-point patch in drivers/nvme/host/multipath.c. */
extern void (*nvme_mpv_sched_hook)(const char *point, int line,
				   const void *obj);
bool nvme_mpv_available_path(struct nvme_ns_head *head);

#define MPV_RACE_MAX_THREADS	8
#define MPV_RACE_MAX_OPS	8
/* Loop points passed in one selection call that count as non-termination. */
#define MPV_RACE_SPIN_BOUND	1000
/* A released thread that reaches no point in this time is blocked. */
#define MPV_RACE_STEP_MS	1500
/* Releases given to each remaining thread after the schedule. */
#define MPV_RACE_DRAIN_RELEASES	256
#define MPV_RACE_ANY		(-3)	/* the model names no path here */
#define MPV_RACE_BIOS		16

enum mpv_race_op_kind {
	MPV_RACE_SUBMIT_BIO,	/* nvme_ns_head_submit_bio's multipath part */
	MPV_RACE_FIND_PATH,	/* srcu_read_lock; nvme_find_path; unlock */
	MPV_RACE_REMOVE_PATH,	/* nvme_ns_remove (harness mirror) */
};

struct mpv_race_op {
	enum mpv_race_op_kind kind;
	int path;
};

/* The property whose consequence decides REPRODUCED. */
enum mpv_race_property {
	MPV_RACE_SELECTION_TERMINATES,
	MPV_RACE_NO_UNLINKED_PATH_RETURNED,
	MPV_RACE_NO_DISABLED_PATH_RETURNED,
	MPV_RACE_OPTIMIZED_PATH_PREFERRED,
	MPV_RACE_NO_STALE_PATH_AFTER_REMOVAL,
	MPV_RACE_NO_USE_AFTER_FREE,
	MPV_RACE_NO_STRANDED_REQUEUE,
};

/* One hooked model step. */
struct mpv_race_step {
	int model_index;	/* index in the schedule's steps */
	int thread;
	const char *point;
	int path;		/* path id, MPV_NONE (NULL) or MPV_RACE_ANY */
};

struct mpv_race_thread_spec {
	const char *name;
	int nr_ops;
	struct mpv_race_op ops[MPV_RACE_MAX_OPS];
};

struct mpv_race;

struct mpv_race_thread {
	struct mpv_race *race;
	int id;
	const struct mpv_race_thread_spec *spec;
	struct task_struct *task;
	struct completion go;		/* controller -> thread: run on */
	struct completion parked;	/* thread -> controller: at a point */
	/* Written by the thread before it parks. */
	const char *point;
	int line;
	const void *obj;
	int op;
	bool done;
	/* Controller state. */
	bool released;			/* released, not parked since */
	bool blocked;			/* a release timed out */
	/* Points are no-ops for this thread (the run-to-completion phase). */
	bool free_run;
	unsigned long loop_passes;	/* loop points in this selection call */
	const char *spin_point;		/* where a spin was seen */
	bool spin_reported;
	int spin_path;
	bool recover;			/* make the next path seen usable */
	int recovered_path;
};

struct mpv_race {
	struct mpv_world *w;
	enum mpv_race_property property;
	int nr_threads;
	struct mpv_race_thread t[MPV_RACE_MAX_THREADS];
	bool removed[MPV_MAX_PATHS];	/* nvme_ns_remove() finished */
	bool freed[MPV_MAX_PATHS];	/* passed nvme_put_ns() */
	/* What the property looks for (set by the threads). */
	bool saw_unlinked, saw_disabled, saw_worse, saw_freed;
	char evidence[192];
	struct bio *bios[MPV_RACE_BIOS];
	int nr_bios;
	int requeue_runs_at_add;
	bool requeued;
};

static struct mpv_race *mpv_race_active;

static struct mpv_race_thread *mpv_race_self(void)
{
	struct mpv_race *r = READ_ONCE(mpv_race_active);
	int i;

	if (!r)
		return NULL;
	for (i = 0; i < r->nr_threads; i++)
		if (r->t[i].task == current)
			return &r->t[i];
	return NULL;
}

static bool mpv_race_loop_point(const char *point)
{
	static const char * const loop[] = {
		"nvme_next_ns",
		"nvme_round_robin_path:consider",
		"__nvme_find_path:consider",
		"nvme_queue_depth_path:consider",
		"nvme_available_path:consider",
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(loop); i++)
		if (!strcmp(point, loop[i]))
			return true;
	return false;
}

/* Path id of a pointer a point was given, for diagnostics. */
static int mpv_race_obj_id(struct mpv_race *r, const void *obj)
{
	return mpv_path_id(r->w, (struct nvme_ns *)obj);
}

/* The recovery action: make @ns usable and optimized (harness write). */
static void mpv_race_make_usable(struct nvme_ns *ns)
{
	WRITE_ONCE(ns->ctrl->state, NVME_CTRL_LIVE);
	clear_bit(NVME_NS_ANA_PENDING, &ns->flags);
	set_bit(NVME_NS_READY, &ns->flags);
	WRITE_ONCE(ns->ana_state, NVME_ANA_OPTIMIZED);
}

/* The schedule point: park until the controller releases this thread. */
static void mpv_race_hook(const char *point, int line, const void *obj)
{
	struct mpv_race_thread *t = mpv_race_self();
	struct mpv_race *r;
	int id;

	if (!t)
		return;
	r = t->race;
	t->point = point;
	t->line = line;
	t->obj = obj;
	id = mpv_race_obj_id(r, obj);
	if (obj && id >= 0 && r->freed[id] && !r->saw_freed) {
		r->saw_freed = true;
		snprintf(r->evidence, sizeof(r->evidence),
			 "%s reached %s with path %d after its nvme_put_ns()",
			 t->spec->name, point, id);
	}
	if (mpv_race_loop_point(point))
		t->loop_passes++;
	if (t->loop_passes > MPV_RACE_SPIN_BOUND && !t->spin_point) {
		t->spin_point = point;
		t->spin_path = id;
		if (READ_ONCE(t->free_run))
			t->recover = true;
	}
	if (t->recover && obj && id >= 0 && !r->freed[id]) {
		mpv_race_make_usable((struct nvme_ns *)obj);
		t->recover = false;
		t->recovered_path = id;
	}
	if (READ_ONCE(t->free_run))
		return;
	complete(&t->parked);
	wait_for_completion(&t->go);
}

/*
 * A point in the harness's own mirrors. @line names the statement of the
 * given tree that the mirror restates, encoded apart from the patched
 * multipath.c lines the kernel's points report: MPV_LINE_CORE + n is line
 * n of drivers/nvme/host/core.c, MPV_LINE_MPATH + n line n of the
 * unpatched multipath.c, 0 unknown. `kunit race` generates the MPV_L_*
 * values from the tree it runs on.
 */
#define MPV_LINE_CORE	200000
#define MPV_LINE_MPATH	100000
static void mpv_race_point(const char *point, int line, const void *obj)
{
	mpv_race_hook(point, line, obj);
}

/* ------------------------------------------------ what threads observe */

static bool mpv_race_listed(struct mpv_world *w, struct nvme_ns *ns)
{
	struct nvme_ns *it;

	list_for_each_entry_srcu(it, &w->head->list, siblings,
				 srcu_read_lock_held(&w->head->srcu))
		if (it == ns)
			return true;
	return false;
}

/* 6.12's nvme_path_is_disabled(), restated (it is static). */
static bool mpv_race_disabled(struct nvme_ns *ns)
{
	enum nvme_ctrl_state state = nvme_ctrl_state(ns->ctrl);

	if (state != NVME_CTRL_LIVE && state != NVME_CTRL_DELETING)
		return true;
	return test_bit(NVME_NS_ANA_PENDING, &ns->flags) ||
	       !test_bit(NVME_NS_READY, &ns->flags);
}

/*
 * What nvme_find_path() returned, read from kernel objects inside the
 * caller's SRCU read section: on head->list, disabled, optimized, and
 * whether a listed usable optimized path existed when it did not return one.
 */
static void mpv_race_observe(struct mpv_race_thread *t, struct nvme_ns *ns)
{
	struct mpv_race *r = t->race;
	struct mpv_world *w = r->w;
	int id = mpv_race_obj_id(r, ns);
	bool listed = false, disabled = false, optimized = false;
	bool better = false;
	struct nvme_ns *it;

	list_for_each_entry_srcu(it, &w->head->list, siblings,
				 srcu_read_lock_held(&w->head->srcu))
		if (!mpv_race_disabled(it) &&
		    READ_ONCE(it->ana_state) == NVME_ANA_OPTIMIZED)
			better = true;
	if (ns) {
		listed = mpv_race_listed(w, ns);
		disabled = mpv_race_disabled(ns);
		optimized = READ_ONCE(ns->ana_state) == NVME_ANA_OPTIMIZED;
	}
	better = better && !optimized;
	MPV_RACE_LOG(w->test,
		   "mpv-race-observed: %s op %d nvme_find_path returned %d listed=%d disabled=%d optimized=%d optimized_usable_listed=%d freed=%d",
		   t->spec->name, t->op, id, listed, disabled, optimized,
		   better, id >= 0 && r->freed[id]);
	if (!ns)
		return;
	if (!listed && !r->saw_unlinked) {
		r->saw_unlinked = true;
		if (r->property == MPV_RACE_NO_UNLINKED_PATH_RETURNED)
			snprintf(r->evidence, sizeof(r->evidence),
				 "%s: nvme_find_path returned path %d, which is not on head->list",
				 t->spec->name, id);
	}
	if (disabled && !r->saw_disabled) {
		r->saw_disabled = true;
		if (r->property == MPV_RACE_NO_DISABLED_PATH_RETURNED)
			snprintf(r->evidence, sizeof(r->evidence),
				 "%s: nvme_find_path returned path %d, disabled (ctrl state %d, flags %#lx)",
				 t->spec->name, id, nvme_ctrl_state(ns->ctrl),
				 ns->flags);
	}
	if (better && !r->saw_worse) {
		r->saw_worse = true;
		if (r->property == MPV_RACE_OPTIMIZED_PATH_PREFERRED)
			snprintf(r->evidence, sizeof(r->evidence),
				 "%s: nvme_find_path returned path %d (not optimized) while a usable optimized path was on head->list",
				 t->spec->name, id);
	}
	if (id >= 0 && r->freed[id] && !r->saw_freed) {
		r->saw_freed = true;
		snprintf(r->evidence, sizeof(r->evidence),
			 "%s: nvme_find_path returned path %d after its nvme_put_ns()",
			 t->spec->name, id);
	}
}

/* ------------------------------------------------------ thread ops */

/* The multipath part of nvme_ns_head_submit_bio() (6.12), restated. */
static void mpv_race_submit_bio(struct mpv_race_thread *t, bool bio)
{
	struct mpv_race *r = t->race;
	struct mpv_world *w = r->w;
	struct nvme_ns *ns;
	int idx;

	mpv_race_point("submit:srcu_read_lock", MPV_L_SUBMIT_LOCK, NULL);
	idx = srcu_read_lock(&w->head->srcu);
	t->loop_passes = 0;
	ns = nvme_find_path(w->head);
	mpv_race_observe(t, ns);
	if (!bio) {
		/* find_path: the caller only selects. */
	} else if (ns) {
		mpv_race_point("submit:submit_bio_noacct", MPV_L_SUBMIT_BIO, ns);
	} else if (nvme_mpv_available_path(w->head)) {
		mpv_race_point("submit:requeue", MPV_L_REQUEUE, NULL);
		if (r->nr_bios < MPV_RACE_BIOS) {
			struct bio *b = kzalloc(sizeof(*b), GFP_KERNEL);

			if (b) {
				spin_lock_irq(&w->head->requeue_lock);
				bio_list_add(&w->head->requeue_list, b);
				spin_unlock_irq(&w->head->requeue_lock);
				r->bios[r->nr_bios++] = b;
				r->requeue_runs_at_add =
					atomic_read(&w->requeue_runs);
				r->requeued = true;
			}
		}
	} else {
		mpv_race_point("submit:bio_io_error", MPV_L_FAIL, NULL);
	}
	mpv_race_point("submit:srcu_read_unlock", MPV_L_SUBMIT_UNLOCK, NULL);
	srcu_read_unlock(&w->head->srcu, idx);
}

/* 6.12's nvme_ns_remove() order (mpv_ns_remove's), with its points. */
static void mpv_race_ns_remove(struct mpv_race_thread *t, int p)
{
	struct mpv_race *r = t->race;
	struct mpv_world *w = r->w;
	struct nvme_ns *ns = mpv_ns(w, p);
	bool last = false;

	mpv_race_point("nvme_ns_remove:test_and_set_bit_removing", MPV_L_REMOVING, ns);
	if (test_and_set_bit(NVME_NS_REMOVING, &ns->flags))
		return;
	mpv_race_point("nvme_ns_remove:clear_bit_ready", MPV_L_READY, ns);
	clear_bit(NVME_NS_READY, &ns->flags);
	mpv_race_point("nvme_ns_remove:set_capacity", MPV_L_CAPACITY, ns);
	WRITE_ONCE(ns->disk->part0->bd_nr_sectors, 0);
	mpv_race_point("nvme_ns_remove:synchronize_srcu", MPV_L_SYNC1, NULL);
	synchronize_srcu(&w->head->srcu);
	if (nvme_mpath_clear_current_path(ns)) {
		mpv_race_point("nvme_ns_remove:synchronize_srcu", MPV_L_SYNC2, NULL);
		synchronize_srcu(&w->head->srcu);
	}
	mpv_race_point("nvme_ns_remove:mutex_lock_subsys", MPV_L_LOCK, NULL);
	mutex_lock(&w->subsys->lock);
	mpv_race_point("nvme_ns_remove:list_del_rcu", MPV_L_DEL, ns);
	list_del_rcu(&ns->siblings);
	w->on_head_list[p] = false;
	mpv_race_point("nvme_ns_remove:list_empty", MPV_L_EMPTY, NULL);
	if (list_empty(&w->head->list)) {
		list_del_init(&w->head->entry);
		last = true;
	}
	mpv_race_point("nvme_ns_remove:mutex_unlock_subsys", MPV_L_UNLOCK, NULL);
	mutex_unlock(&w->subsys->lock);
	mpv_race_point("nvme_ns_remove:synchronize_srcu", MPV_L_SYNC3, NULL);
	synchronize_srcu(&w->head->srcu);
	mpv_race_point("nvme_ns_remove:del_gendisk", MPV_L_DELGD, ns);
	mpv_race_point("nvme_ns_remove:list_del_ctrl", MPV_L_DELCTRL, ns);
	mutex_lock(&ns->ctrl->namespaces_lock);
	list_del_rcu(&ns->list);
	mutex_unlock(&ns->ctrl->namespaces_lock);
	w->on_ctrl_list[p] = false;
	mpv_race_point("nvme_ns_remove:synchronize_ctrl_srcu", MPV_L_SYNCCTRL, NULL);
	synchronize_srcu(&ns->ctrl->srcu);
	/*
	 * nvme_mpath_shutdown_disk(): the harness head was never set live
	 * (a schedule whose setup does so is refused), so it does nothing.
	 */
	if (last)
		mpv_race_point("nvme_mpath_shutdown_disk", MPV_L_SHUTDOWN, NULL);
	r->removed[p] = true;
	mpv_race_point("nvme_ns_remove:nvme_put_ns", MPV_L_PUT, ns);
	r->freed[p] = true;
}

static int mpv_race_thread_fn(void *arg)
{
	struct mpv_race_thread *t = arg;
	const struct mpv_race_op *op;

	for (t->op = 0; t->op < t->spec->nr_ops; t->op++) {
		op = &t->spec->ops[t->op];
		switch (op->kind) {
		case MPV_RACE_SUBMIT_BIO:
			mpv_race_submit_bio(t, true);
			break;
		case MPV_RACE_FIND_PATH:
			mpv_race_submit_bio(t, false);
			break;
		case MPV_RACE_REMOVE_PATH:
			mpv_race_ns_remove(t, op->path);
			break;
		}
	}
	t->point = "done";
	t->line = 0;
	t->obj = NULL;
	WRITE_ONCE(t->done, true);
	complete(&t->parked);
	/* Stay until kthread_stop() so that the task can be reaped. */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* ------------------------------------------------------- controller */

static const char *mpv_race_pathname(int p, char *buf, size_t n)
{
	if (p == MPV_NONE)
		return "NULL";
	if (p == MPV_RACE_ANY)
		return "-";
	if (p == MPV_UNKNOWN)
		return "?";
	snprintf(buf, n, "%d", p);
	return buf;
}

/* Wait until @t parks (or finishes); false when it does not within @ms. */
static bool mpv_race_wait(struct mpv_race_thread *t, unsigned int ms)
{
	if (!wait_for_completion_timeout(&t->parked, msecs_to_jiffies(ms))) {
		t->blocked = true;
		return false;
	}
	t->released = false;
	t->blocked = false;
	return true;
}

static bool mpv_race_release(struct mpv_race_thread *t, unsigned int ms)
{
	reinit_completion(&t->parked);
	t->released = true;
	complete(&t->go);
	return mpv_race_wait(t, ms);
}

/* Where @t is now, for diagnostics. */
static void mpv_race_where(struct mpv_race_thread *t, char *buf, size_t n)
{
	char pb[12];

	if (t->done)
		snprintf(buf, n, "%s has finished its operations",
			 t->spec->name);
	else if (t->blocked)
		snprintf(buf, n, "%s is blocked after %s (line %d)",
			 t->spec->name, t->point, t->line);
	else
		snprintf(buf, n, "%s at %s path=%s line=%d", t->spec->name,
			 t->point,
			 mpv_race_pathname(mpv_race_obj_id(t->race, t->obj),
					   pb, sizeof(pb)),
			 t->line);
}

/*
 * Replay the hooked steps; returns the index of the first step at which
 * the kernel diverged, or @n when every step happened as the model said.
 */
static int mpv_race_replay(struct mpv_race *r, const struct mpv_race_step *s,
			   int n)
{
	struct kunit *test = r->w->test;
	char where[160], pb[12], pb2[12];
	int k;

	for (k = 0; k < n; k++) {
		struct mpv_race_thread *t = &r->t[s[k].thread];
		int id;

		if (t->blocked)
			mpv_race_wait(t, MPV_RACE_STEP_MS);
		id = mpv_race_obj_id(r, t->obj);
		if (t->done || t->blocked || strcmp(t->point, s[k].point) ||
		    (s[k].path != MPV_RACE_ANY && id != s[k].path)) {
			mpv_race_where(t, where, sizeof(where));
			MPV_RACE_LOG(test,
				   "mpv-race-diverged: %d model: %s at %s path=%s; kernel: %s",
				   s[k].model_index, t->spec->name, s[k].point,
				   mpv_race_pathname(s[k].path, pb, sizeof(pb)),
				   where);
			return k;
		}
		MPV_RACE_LOG(test, "mpv-race-step: %d %d %s %s path=%s line=%d",
			   k, s[k].model_index, t->spec->name, t->point,
			   mpv_race_pathname(id, pb2, sizeof(pb2)), t->line);
		if (!mpv_race_release(t, MPV_RACE_STEP_MS))
			MPV_RACE_LOG(test, "mpv-race-blocked: %s after %s line=%d (%d ms)",
				   t->spec->name, t->point, t->line,
				   MPV_RACE_STEP_MS);
	}
	return n;
}

/*
 * Non-termination: keep releasing the looping thread @t alone. True when
 * it passes MPV_RACE_SPIN_BOUND loop points in one selection call without
 * leaving the loop.
 */
static bool mpv_race_spin(struct mpv_race *r, struct mpv_race_thread *t)
{
	char pb[12];

	while (!t->done && !t->blocked && mpv_race_loop_point(t->point)) {
		if (t->spin_point) {
			t->spin_reported = true;
			MPV_RACE_LOG(r->w->test,
				   "mpv-race-spin: %s passed %lu loop points in one nvme_find_path() call without returning (last %s path=%s line=%d)",
				   t->spec->name, t->loop_passes, t->point,
				   mpv_race_pathname(t->spin_path, pb, sizeof(pb)),
				   t->line);
			return true;
		}
		mpv_race_release(t, MPV_RACE_STEP_MS);
	}
	return false;
}

/*
 * Give every other unfinished thread releases until it finishes or
 * blocks; report the blocked ones (a remover in synchronize_srcu() behind
 * a spinning reader).
 */
static int mpv_race_others(struct mpv_race *r, struct mpv_race_thread *except)
{
	int i, j, blocked = 0;

	for (i = 0; i < r->nr_threads; i++) {
		struct mpv_race_thread *t = &r->t[i];

		if (t == except)
			continue;
		for (j = 0; j < MPV_RACE_DRAIN_RELEASES && !t->done &&
			    !t->blocked; j++)
			mpv_race_release(t, MPV_RACE_STEP_MS);
		if (t->blocked) {
			blocked++;
			MPV_RACE_LOG(r->w->test,
				   "mpv-race-blocked: %s after %s line=%d (%d ms) while %s is inside its SRCU read section",
				   t->spec->name, t->point, t->line,
				   MPV_RACE_STEP_MS,
				   except ? except->spec->name : "-");
		}
	}
	return blocked;
}

/*
 * Run every thread to completion with points as no-ops (a spinning loop
 * is recovered). Returns false when a thread is still running after
 * @ms; the world must then not be freed.
 */
static bool mpv_race_finish(struct mpv_race *r, unsigned int ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(ms);
	bool all = false;
	int i;

	for (i = 0; i < r->nr_threads; i++) {
		WRITE_ONCE(r->t[i].free_run, true);
		if (r->t[i].spin_point)
			r->t[i].recover = true;
	}
	/*
	 * A thread parked at a point (or one that parks there before it
	 * sees free_run) is released again until every thread is done.
	 */
	while (!all && time_before(jiffies, deadline)) {
		all = true;
		for (i = 0; i < r->nr_threads; i++) {
			struct mpv_race_thread *t = &r->t[i];

			if (READ_ONCE(t->done))
				continue;
			all = false;
			if (t->released && !try_wait_for_completion(&t->parked))
				continue;
			if (READ_ONCE(t->done))
				continue;
			reinit_completion(&t->parked);
			t->released = true;
			complete(&t->go);
		}
		if (!all)
			msleep(10);
	}
	for (i = 0; i < r->nr_threads; i++) {
		struct mpv_race_thread *t = &r->t[i];

		if (!READ_ONCE(t->done))
			MPV_RACE_LOG(r->w->test,
				     "mpv-race-unfinished: %s after %s line=%d",
				     t->spec->name, t->point, t->line);
		if (t->spin_point && !t->spin_reported)
			MPV_RACE_LOG(r->w->test,
				     "mpv-race-spin: %s passed %lu loop points in one nvme_find_path() call while running to completion (last %s)",
				     t->spec->name, t->loop_passes, t->spin_point);
		if (t->recovered_path >= 0)
			MPV_RACE_LOG(r->w->test,
				     "mpv-race-recovery: %s's loop ended after path %d was made usable and optimized (a harness write, so that the kernel survives)",
				     t->spec->name, t->recovered_path);
	}
	return all;
}

static void mpv_race_stop(struct mpv_race *r)
{
	int i;

	for (i = 0; i < r->nr_threads; i++)
		if (r->t[i].task && r->t[i].done) {
			kthread_stop(r->t[i].task);
			put_task_struct(r->t[i].task);
			r->t[i].task = NULL;
		}
}

/* A stale current_path[] after the removals: read from the head. */
static bool mpv_race_stale(struct mpv_race *r)
{
	struct mpv_world *w = r->w;
	int node;

	for_each_node(node) {
		int p = mpv_path_id(w, rcu_access_pointer(w->head->current_path[node]));

		if (p >= 0 && r->removed[p]) {
			snprintf(r->evidence, sizeof(r->evidence),
				 "after every thread finished, head->current_path[%d] still points at removed path %d",
				 node, p);
			return true;
		}
	}
	return false;
}

/* A bio left on head->requeue_list that nobody will resubmit. */
static bool mpv_race_stranded(struct mpv_race *r)
{
	struct mpv_world *w = r->w;
	bool listed, pending;
	int runs;

	spin_lock_irq(&w->head->requeue_lock);
	listed = !bio_list_empty(&w->head->requeue_list);
	spin_unlock_irq(&w->head->requeue_lock);
	pending = work_pending(&w->head->requeue_work);
	runs = atomic_read(&w->requeue_runs);
	if (listed && !pending && runs == r->requeue_runs_at_add) {
		snprintf(r->evidence, sizeof(r->evidence),
			 "a bio is on head->requeue_list, head->requeue_work is not pending and has not run since it was added");
		return true;
	}
	return false;
}

static void mpv_race_drop_bios(struct mpv_race *r)
{
	struct mpv_world *w = r->w;
	int i;

	spin_lock_irq(&w->head->requeue_lock);
	bio_list_get(&w->head->requeue_list);
	spin_unlock_irq(&w->head->requeue_lock);
	for (i = 0; i < r->nr_bios; i++)
		kfree(r->bios[i]);
	r->nr_bios = 0;
}

/*
 * Run one schedule: start the threads, replay the hooked steps, look for
 * the property's consequence, run everything to completion, report.
 */
static void mpv_race_run(struct mpv_world *w, enum mpv_race_property prop,
			 const struct mpv_race_thread_spec *specs, int nr_threads,
			 const struct mpv_race_step *steps, int nr_steps)
{
	struct kunit *test = w->test;
	struct mpv_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct mpv_race_thread *spinner = NULL;
	bool reproduced = false;
	char why[192] = "";
	int i, k, blocked = 0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_LE(test, nr_threads, MPV_RACE_MAX_THREADS);
	r->w = w;
	r->property = prop;
	r->nr_threads = nr_threads;
	for (i = 0; i < nr_threads; i++) {
		r->t[i].race = r;
		r->t[i].id = i;
		r->t[i].spec = &specs[i];
		r->t[i].point = "start";
		r->t[i].spin_path = MPV_NONE;
		r->t[i].recovered_path = MPV_NONE;
		init_completion(&r->t[i].go);
		init_completion(&r->t[i].parked);
	}
	WRITE_ONCE(mpv_race_active, r);
	WRITE_ONCE(nvme_mpv_sched_hook, mpv_race_hook);
	for (i = 0; i < nr_threads; i++) {
		struct task_struct *task;

		task = kthread_create(mpv_race_thread_fn, &r->t[i], "mpv-race-%s",
				      specs[i].name);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
		/*
		 * On a CPU of node 0, where the schedule's selections run: the
		 * kernel reads current_path[numa_node_id()].
		 */
		kthread_bind(task, cpumask_first_and(cpumask_of_node(0),
						     cpu_online_mask));
		get_task_struct(task);
		r->t[i].task = task;
	}
	/* Each thread runs to its first point (nothing shared before it). */
	for (i = 0; i < nr_threads; i++) {
		wake_up_process(r->t[i].task);
		r->t[i].released = true;
		if (!mpv_race_wait(&r->t[i], MPV_RACE_STEP_MS))
			MPV_RACE_LOG(test, "mpv-race-blocked: %s before its first point",
				   specs[i].name);
	}

	k = mpv_race_replay(r, steps, nr_steps);
	if (k < nr_steps) {
		snprintf(why, sizeof(why),
			 "the kernel left the model's schedule at model step %d (see mpv-race-diverged)",
			 steps[k].model_index);
	} else if (prop == MPV_RACE_SELECTION_TERMINATES) {
		for (i = 0; i < nr_threads && !spinner; i++)
			if (mpv_race_spin(r, &r->t[i]))
				spinner = &r->t[i];
		if (spinner) {
			blocked = mpv_race_others(r, spinner);
			reproduced = true;
			snprintf(r->evidence, sizeof(r->evidence),
				 "%s's nvme_find_path() passed %lu loop points without returning (%s); %d other thread(s) blocked behind it",
				 spinner->spec->name, spinner->loop_passes,
				 spinner->spin_point, blocked);
		} else {
			snprintf(why, sizeof(why),
				 "every selection loop ended within %d loop points",
				 MPV_RACE_SPIN_BOUND);
		}
	}
	MPV_RACE_LOG(test, "mpv-race-finish: running every thread to completion");
	if (!mpv_race_finish(r, 10000)) {
		/* A thread is still inside nvme-core code: do not free its world. */
		MPV_RACE_LOG(test, "mpv-race-verdict: %s %s (a thread never finished; the world is leaked)",
			   reproduced ? "REPRODUCED" : "NOT-REPRODUCED",
			   reproduced ? r->evidence : why);
		WRITE_ONCE(nvme_mpv_sched_hook, NULL);
		KUNIT_FAIL(test, "mpv-race: a thread did not finish after recovery");
		for (;;)
			msleep(1000);	/* never return into freed objects */
	}
	WRITE_ONCE(nvme_mpv_sched_hook, NULL);
	WRITE_ONCE(mpv_race_active, NULL);
	if (k == nr_steps && prop != MPV_RACE_SELECTION_TERMINATES) {
		switch (prop) {
		case MPV_RACE_NO_UNLINKED_PATH_RETURNED:
			reproduced = r->saw_unlinked;
			break;
		case MPV_RACE_NO_DISABLED_PATH_RETURNED:
			reproduced = r->saw_disabled;
			break;
		case MPV_RACE_OPTIMIZED_PATH_PREFERRED:
			reproduced = r->saw_worse;
			break;
		case MPV_RACE_NO_STALE_PATH_AFTER_REMOVAL:
			reproduced = mpv_race_stale(r);
			break;
		case MPV_RACE_NO_USE_AFTER_FREE:
			reproduced = r->saw_freed;
			break;
		case MPV_RACE_NO_STRANDED_REQUEUE:
			reproduced = mpv_race_stranded(r);
			break;
		default:
			break;
		}
		if (!reproduced)
			snprintf(why, sizeof(why),
				 "the schedule replayed to its end but the kernel state does not show the violation");
	}
	mpv_race_drop_bios(r);
	mpv_race_stop(r);
	MPV_RACE_LOG(test, "mpv-race-verdict: %s %s",
		   reproduced ? "REPRODUCED" : "NOT-REPRODUCED",
		   reproduced ? r->evidence : why);
}

#endif /* MPV_RACE_H */
