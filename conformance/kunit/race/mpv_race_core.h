/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpath-verify: the race engine, forced interleavings of kernel C.
 *
 * Written for mpath-verify; contains no kernel code. `mpath-verify kunit
 * race` generates a KUnit suite from model counterexample schedules: the
 * backend's harness, this engine, the backend's glue (nvme-6.12:
 * conformance/kunit/nvme-6.12/mpv_race.h; the libmultipath series:
 * conformance/kunit/race/mpvl_race.h), then one case per schedule.
 *
 * The tree under test is patched with schedule points (conformance/kunit/
 * race/<backend>-sched.patch): a hook call before every statement where the model
 * has a primitive step (current_path loads and stores, list walks, the
 * selection loops, the reads of path state). The harness's own
 * restatements of driver functions a KUnit test cannot call carry the
 * same points. A point is a no-op unless a race is armed and the caller
 * is one of its kthreads.
 *
 * The controller (the KUnit case) replays the schedule's hooked steps in
 * the model's order: each thread is parked at a point; for step k the
 * controller checks that thread T is parked at the point the model names
 * (and on the path it names), releases it, and waits until T parks at its
 * next point, finishes, or blocks (no next point within MPV_RACE_STEP_MS:
 * synchronize_srcu, a mutex). A thread found anywhere else ends the replay
 * as NOT-REPRODUCED with both positions. After the last step the
 * property's consequence is looked for in kernel state.
 *
 * Every thread is then run to completion with points as no-ops; a
 * selection loop that passes MPV_RACE_SPIN_BOUND loop points in one
 * selection call is ended by a recovery action (the backend makes the
 * path it visits usable and optimized), so the kernel survives and the
 * world can be freed.
 *
 * KTAP diagnostics (parsed by `kunit race`):
 *   # mpv-race-step: <k> <model-index> <thread> <point> path=<p> line=<n>
 *   # mpv-race-diverged: <k> model: <thread> at <point> path=<p>; kernel: ...
 *   # mpv-race-blocked: <thread> after <point> line=<n> (<ms> ms)
 *   # mpv-race-spin: <thread> passed <n> loop points in one call ...
 *   # mpv-race-recovery: ...
 *   # mpv-race-observed: <thread> op <i> ... returned <p> ...
 *   # mpv-race-kasan: <thread>: the kernel reported a bad access after ...
 *   # mpv-race-verdict: REPRODUCED|NOT-REPRODUCED <text>
 *
 * The model's work-queue worker is no kthread of ours: a work function of
 * the backend, queued by the kernel's own code, enters the race with
 * mpv_race_worker_enter() and leaves it with mpv_race_worker_exit(); in
 * between, the kworker running it parks at its points like a thread, and
 * between runs it is idle (the controller waits for its next arrival).
 *
 * A backend defines, after this file: mpv_race_path_id(),
 * mpv_race_make_usable(), mpv_race_run_op(), mpv_race_current_path(),
 * mpv_race_stranded(), mpv_race_cleanup() and mpv_race_set_hook()
 * (declared below).
 */
#ifndef MPV_RACE_CORE_H
#define MPV_RACE_CORE_H

#include <linux/kthread.h>
#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/delay.h>

/*
 * Diagnostics are MPV_LOG lines ("    # mpv-race-...: ..."), path ids
 * MPV_NONE / MPV_UNKNOWN for NULL and foreign pointers (mpv_common.h,
 * embedded before this file with the backend's harness or prelude).
 */
#define MPV_RACE_MAX_PATHS	128
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
	MPV_RACE_SUBMIT_BIO,	/* the head's submit_bio, multipath part */
	MPV_RACE_FIND_PATH,	/* srcu_read_lock; find_path; unlock */
	MPV_RACE_REMOVE_PATH,	/* the driver's path removal */
	MPV_RACE_DELETE_DEVICE,	/* the library's mpath_delete_device() */
	MPV_RACE_CHR_IOCTL,	/* an ioctl on the head's character device */
	MPV_RACE_REVALIDATE,	/* the driver's revalidation of a path */
	MPV_RACE_SET_CTRL_STATE, /* nvme_change_ctrl_state(ctrl[path], arg) */
};

struct mpv_race_op {
	enum mpv_race_op_kind kind;
	int path;
	int arg;		/* MPV_RACE_CHR_IOCTL: 1 for a controller ioctl;
				 * MPV_RACE_SET_CTRL_STATE: the new state (path
				 * is then the controller) */
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
	int path;		/* path id, MPV_NONE or MPV_RACE_ANY */
};

struct mpv_race_thread_spec {
	const char *name;
	int nr_ops;
	struct mpv_race_op ops[MPV_RACE_MAX_OPS];
	/*
	 * The work-queue worker: no kthread of ours. The backend's work
	 * function, run by a kworker, enters the race with
	 * mpv_race_worker_enter() and parks at its points like a thread.
	 */
	bool worker;
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
	/*
	 * current->kunit_test while the thread runs. KASAN marks the running
	 * task's test failed when it reports (mm/kasan/report.c), so a failed
	 * probe is a KASAN report (or another kunit_fail_current_test() report)
	 * made while this thread ran; the case itself is not failed by it.
	 */
	struct kunit probe;
	const char *probe_failed_after;	/* the point it ran from then */
	/* The worker: inside its work function (written by the kworker). */
	bool in_work;
	/* The worker: idle, its next arrival not yet seen (controller). */
	bool awaiting;
	struct kunit *saved_kunit;	/* the kworker's own current->kunit_test */
};

struct mpv_race {
	struct kunit *test;
	void *world;			/* the backend's world */
	enum mpv_race_property property;
	int nr_threads;
	struct mpv_race_thread t[MPV_RACE_MAX_THREADS];
	bool removed[MPV_RACE_MAX_PATHS];	/* its removal finished */
	bool freed[MPV_RACE_MAX_PATHS];	/* passed the driver's put */
	/* What the property looks for (set by the threads). */
	bool saw_unlinked, saw_disabled, saw_worse, saw_freed;
	char evidence[192];
	struct bio *bios[MPV_RACE_BIOS];
	int nr_bios;
	int requeue_runs_at_add;
	bool requeued;
};

/* The backend's side (defined after this file). */
static int mpv_race_path_id(void *world, const void *obj);
static void mpv_race_make_usable(void *world, const void *obj);
static void mpv_race_run_op(struct mpv_race_thread *t, const struct mpv_race_op *op);
static int mpv_race_current_path(void *world, int node);
static bool mpv_race_stranded(struct mpv_race *r);
static void mpv_race_cleanup(struct mpv_race *r);
static void mpv_race_set_hook(void (*hook)(const char *point, int line, const void *obj));

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
		"mpath_next_dev",
		"mpath_round_robin_path:consider",
		"__mpath_find_path:consider",
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(loop); i++)
		if (!strcmp(point, loop[i]))
			return true;
	return false;
}

/* Path id of a pointer a point was given. */
static int mpv_race_obj_id(struct mpv_race *r, const void *obj)
{
	return mpv_race_path_id(r->world, obj);
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
	if (!t->probe_failed_after && READ_ONCE(t->probe.status) == KUNIT_FAILURE)
		t->probe_failed_after = t->point;
	t->point = point;
	t->line = line;
	t->obj = obj;
	id = mpv_race_obj_id(r, obj);
	if (obj && id >= 0 && r->freed[id] && !r->saw_freed) {
		r->saw_freed = true;
		snprintf(r->evidence, sizeof(r->evidence),
			 "%s reached %s with path %d after it was put",
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
		mpv_race_make_usable(r->world, obj);
		t->recover = false;
		t->recovered_path = id;
	}
	if (READ_ONCE(t->free_run))
		return;
	complete(&t->parked);
	wait_for_completion(&t->go);
}

/* A point in the backend's own restatements: @line as the backend encodes it. */
static void mpv_race_point(const char *point, int line, const void *obj)
{
	mpv_race_hook(point, line, obj);
}

/*
 * The worker's side: the backend's work function calls this first. When a
 * race with a worker is armed, the calling kworker becomes that thread
 * until mpv_race_worker_exit(): its points park it like a kthread's.
 */
static __maybe_unused struct mpv_race_thread *mpv_race_worker_enter(void)
{
	struct mpv_race *r = READ_ONCE(mpv_race_active);
	int i;

	if (!r)
		return NULL;
	for (i = 0; i < r->nr_threads; i++) {
		struct mpv_race_thread *t = &r->t[i];

		if (!t->spec->worker)
			continue;
		t->saved_kunit = current->kunit_test;
		current->kunit_test = &t->probe;
		WRITE_ONCE(t->in_work, true);
		WRITE_ONCE(t->task, current);
		return t;
	}
	return NULL;
}

/*
 * The work function's end: the worker is idle again. Unless the race is
 * running to completion, the controller (which released it from its last
 * point) is told, as a thread parking is.
 */
static __maybe_unused void mpv_race_worker_exit(struct mpv_race_thread *t)
{
	if (!t)
		return;
	if (!t->probe_failed_after && READ_ONCE(t->probe.status) == KUNIT_FAILURE)
		t->probe_failed_after = t->point;
	current->kunit_test = t->saved_kunit;
	t->point = "idle";
	t->line = 0;
	t->obj = NULL;
	WRITE_ONCE(t->task, NULL);
	WRITE_ONCE(t->in_work, false);
	if (!READ_ONCE(t->free_run))
		complete(&t->parked);
}

/*
 * What a selection returned (@id), with facts the backend read from kernel
 * objects inside the caller's SRCU read section: on the head's list,
 * disabled (@why says how), optimized, and whether a listed usable
 * optimized path existed when it did not return one.
 */
static void mpv_race_note_returned(struct mpv_race_thread *t, int id, bool listed,
				   bool disabled, const char *why, bool optimized,
				   bool better)
{
	struct mpv_race *r = t->race;

	better = better && !optimized;
	MPV_LOG(r->test,
		"mpv-race-observed: %s op %d selection returned %d listed=%d disabled=%d optimized=%d optimized_usable_listed=%d freed=%d",
		t->spec->name, t->op, id, listed, disabled, optimized,
		better, id >= 0 && r->freed[id]);
	if (id < 0)
		return;
	if (!listed && !r->saw_unlinked) {
		r->saw_unlinked = true;
		if (r->property == MPV_RACE_NO_UNLINKED_PATH_RETURNED)
			snprintf(r->evidence, sizeof(r->evidence),
				 "%s: the selection returned path %d, which is not on the head's list",
				 t->spec->name, id);
	}
	if (disabled && !r->saw_disabled) {
		r->saw_disabled = true;
		if (r->property == MPV_RACE_NO_DISABLED_PATH_RETURNED)
			snprintf(r->evidence, sizeof(r->evidence),
				 "%s: the selection returned path %d, disabled (%s)",
				 t->spec->name, id, why);
	}
	if (better && !r->saw_worse) {
		r->saw_worse = true;
		if (r->property == MPV_RACE_OPTIMIZED_PATH_PREFERRED)
			snprintf(r->evidence, sizeof(r->evidence),
				 "%s: the selection returned path %d (not optimized) while a usable optimized path was listed",
				 t->spec->name, id);
	}
	if (r->freed[id] && !r->saw_freed) {
		r->saw_freed = true;
		snprintf(r->evidence, sizeof(r->evidence),
			 "%s: the selection returned path %d after it was put",
			 t->spec->name, id);
	}
}

static int mpv_race_thread_fn(void *arg)
{
	struct mpv_race_thread *t = arg;

	current->kunit_test = &t->probe;
	for (t->op = 0; t->op < t->spec->nr_ops; t->op++)
		mpv_race_run_op(t, &t->spec->ops[t->op]);
	current->kunit_test = NULL;
	if (!t->probe_failed_after && READ_ONCE(t->probe.status) == KUNIT_FAILURE)
		t->probe_failed_after = t->point;
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
	/* The worker's work function ended: its next run is a new arrival. */
	if (t->spec->worker && !strcmp(t->point, "idle"))
		t->awaiting = true;
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
	else if (t->spec->worker && t->awaiting)
		snprintf(buf, n, "%s is idle: the work did not start within %d ms (not queued, or its run already ended)",
			 t->spec->name, MPV_RACE_STEP_MS);
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
	struct kunit *test = r->test;
	char where[160], pb[12], pb2[12];
	int k;

	for (k = 0; k < n; k++) {
		struct mpv_race_thread *t = &r->t[s[k].thread];
		int id;

		if (t->blocked)
			mpv_race_wait(t, MPV_RACE_STEP_MS);
		/* The worker: wait for the kworker to run the queued work. */
		if (t->spec->worker && t->awaiting &&
		    wait_for_completion_timeout(&t->parked,
						msecs_to_jiffies(MPV_RACE_STEP_MS)))
			t->awaiting = false;
		id = mpv_race_obj_id(r, t->obj);
		if (t->done || t->blocked || (t->spec->worker && t->awaiting) ||
		    strcmp(t->point, s[k].point) ||
		    (s[k].path != MPV_RACE_ANY && id != s[k].path)) {
			mpv_race_where(t, where, sizeof(where));
			MPV_LOG(test,
				   "mpv-race-diverged: %d model: %s at %s path=%s; kernel: %s",
				   s[k].model_index, t->spec->name, s[k].point,
				   mpv_race_pathname(s[k].path, pb, sizeof(pb)),
				   where);
			return k;
		}
		MPV_LOG(test, "mpv-race-step: %d %d %s %s path=%s line=%d",
			   k, s[k].model_index, t->spec->name, t->point,
			   mpv_race_pathname(id, pb2, sizeof(pb2)), t->line);
		if (!mpv_race_release(t, MPV_RACE_STEP_MS))
			MPV_LOG(test, "mpv-race-blocked: %s after %s line=%d (%d ms)",
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
			MPV_LOG(r->test,
				   "mpv-race-spin: %s passed %lu loop points in one selection call without returning (last %s path=%s line=%d)",
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

		if (t == except || t->spec->worker)
			continue;
		for (j = 0; j < MPV_RACE_DRAIN_RELEASES && !t->done &&
			    !t->blocked; j++)
			mpv_race_release(t, MPV_RACE_STEP_MS);
		if (t->blocked) {
			blocked++;
			MPV_LOG(r->test,
				   "mpv-race-blocked: %s after %s line=%d (%d ms) while %s is inside its SRCU read section",
				   t->spec->name, t->point, t->line,
				   MPV_RACE_STEP_MS,
				   except ? except->spec->name : "-");
		}
	}
	return blocked;
}

/* Done with its operations; the worker: not inside its work function. */
static bool mpv_race_finished(struct mpv_race_thread *t)
{
	return t->spec->worker ? !READ_ONCE(t->in_work) : READ_ONCE(t->done);
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

			if (mpv_race_finished(t))
				continue;
			all = false;
			if (t->released && !try_wait_for_completion(&t->parked))
				continue;
			if (mpv_race_finished(t))
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

		if (!mpv_race_finished(t))
			MPV_LOG(r->test,
				"mpv-race-unfinished: %s after %s line=%d",
				t->spec->name, t->point, t->line);
		if (t->spin_point && !t->spin_reported)
			MPV_LOG(r->test,
				"mpv-race-spin: %s passed %lu loop points in one selection call while running to completion (last %s)",
				t->spec->name, t->loop_passes, t->spin_point);
		if (t->recovered_path >= 0)
			MPV_LOG(r->test,
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

/* A removed path left in current_path[], read from the head. */
static bool mpv_race_stale(struct mpv_race *r)
{
	int node;

	for_each_node(node) {
		int p = mpv_race_current_path(r->world, node);

		if (p >= 0 && r->removed[p]) {
			snprintf(r->evidence, sizeof(r->evidence),
				 "after every thread finished, current_path[%d] still points at removed path %d",
				 node, p);
			return true;
		}
	}
	return false;
}

/*
 * Bad accesses the kernel reported in the race's threads (their probes):
 * the use-after-free evidence. Logs each; true when there is one.
 */
static bool mpv_race_kasan(struct mpv_race *r)
{
	bool any = false;
	int i;

	for (i = 0; i < r->nr_threads; i++) {
		struct mpv_race_thread *t = &r->t[i];

		if (READ_ONCE(t->probe.status) != KUNIT_FAILURE)
			continue;
		MPV_LOG(r->test,
			"mpv-race-kasan: %s: the kernel reported a bad access after %s was released from %s (the report is on the console)",
			t->spec->name, t->spec->name, t->probe_failed_after);
		if (!any)
			snprintf(r->evidence, sizeof(r->evidence),
				 "KASAN reported a bad access by %s after its release from %s",
				 t->spec->name, t->probe_failed_after);
		any = true;
	}
	return any;
}

/*
 * Run one schedule: start the threads, replay the hooked steps, look for
 * the property's consequence, run everything to completion, report.
 */
static void mpv_race_run(struct kunit *test, void *world, enum mpv_race_property prop,
			 const struct mpv_race_thread_spec *specs, int nr_threads,
			 const struct mpv_race_step *steps, int nr_steps)
{
	struct mpv_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct mpv_race_thread *spinner = NULL;
	bool reproduced = false;
	char why[192] = "";
	int i, k, blocked = 0;

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_LE(test, nr_threads, MPV_RACE_MAX_THREADS);
	r->test = test;
	r->world = world;
	r->property = prop;
	r->nr_threads = nr_threads;
	for (i = 0; i < nr_threads; i++) {
		r->t[i].race = r;
		r->t[i].id = i;
		r->t[i].spec = &specs[i];
		r->t[i].point = "start";
		r->t[i].spin_path = MPV_NONE;
		r->t[i].recovered_path = MPV_NONE;
		kunit_init_test(&r->t[i].probe, specs[i].name, NULL);
		init_completion(&r->t[i].go);
		init_completion(&r->t[i].parked);
	}
	WRITE_ONCE(mpv_race_active, r);
	mpv_race_set_hook(mpv_race_hook);
	for (i = 0; i < nr_threads; i++) {
		struct task_struct *task;

		if (specs[i].worker) {
			/* idle until the work it runs is queued and starts */
			r->t[i].point = "idle";
			r->t[i].awaiting = true;
			continue;
		}
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
		if (specs[i].worker)
			continue;
		wake_up_process(r->t[i].task);
		r->t[i].released = true;
		if (!mpv_race_wait(&r->t[i], MPV_RACE_STEP_MS))
			MPV_LOG(test, "mpv-race-blocked: %s before its first point",
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
				 "%s's selection passed %lu loop points without returning (%s); %d other thread(s) blocked behind it",
				 spinner->spec->name, spinner->loop_passes,
				 spinner->spin_point, blocked);
		} else {
			snprintf(why, sizeof(why),
				 "every selection loop ended within %d loop points",
				 MPV_RACE_SPIN_BOUND);
		}
	}
	MPV_LOG(test, "mpv-race-finish: running every thread to completion");
	if (!mpv_race_finish(r, 10000)) {
		/* A thread is still inside the code under test: do not free its world. */
		MPV_LOG(test, "mpv-race-verdict: %s %s (a thread never finished; the world is leaked)",
			   reproduced ? "REPRODUCED" : "NOT-REPRODUCED",
			   reproduced ? r->evidence : why);
		mpv_race_set_hook(NULL);
		KUNIT_FAIL(test, "mpv-race: a thread did not finish after recovery");
		for (;;)
			msleep(1000);	/* never return into freed objects */
	}
	mpv_race_set_hook(NULL);
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
			/*
			 * Only KASAN sees an access to freed memory; a point
			 * reached with a put path (saw_freed) is the harness's
			 * bookkeeping, logged but no evidence.
			 */
			if (r->saw_freed)
				MPV_LOG(test, "mpv-race-observed: %s", r->evidence);
			reproduced = mpv_race_kasan(r);
			break;
		case MPV_RACE_NO_STRANDED_REQUEUE:
			reproduced = mpv_race_stranded(r);
			break;
		default:
			break;
		}
		if (!reproduced && prop == MPV_RACE_NO_USE_AFTER_FREE &&
		    !IS_ENABLED(CONFIG_KASAN))
			snprintf(why, sizeof(why),
				 "this kernel has no KASAN, so an access to freed memory leaves nothing to read (the x86_64 build has it)");
		else if (!reproduced)
			snprintf(why, sizeof(why),
				 "the schedule replayed to its end but the kernel state does not show the violation");
	}
	/*
	 * A requeue schedule the kernel left: still say what it left at rest
	 * (logged; the verdict stays the divergence).
	 */
	if (k < nr_steps && prop == MPV_RACE_NO_STRANDED_REQUEUE &&
	    mpv_race_stranded(r))
		MPV_LOG(test, "mpv-race-observed: off the schedule, yet %s",
			r->evidence);
	if (prop != MPV_RACE_NO_USE_AFTER_FREE)
		mpv_race_kasan(r);
	mpv_race_cleanup(r);
	mpv_race_stop(r);
	MPV_LOG(test, "mpv-race-verdict: %s %s",
		   reproduced ? "REPRODUCED" : "NOT-REPRODUCED",
		   reproduced ? r->evidence : why);
}

#endif /* MPV_RACE_CORE_H */
