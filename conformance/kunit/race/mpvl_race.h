/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpath-verify: the race engine's backend for the libmultipath series' own
 * lib/multipath.c (v2 API), after the libmultipath suite's prelude and
 * conformance/kunit/race/mpv_race_core.h.
 *
 * Written for mpath-verify; contains no kernel code. The schedule points
 * of lib/multipath.c come from conformance/kunit/race/lib-v2-sched.patch.
 * Every call is the library's own: a selection is mpath_call_for_device()
 * (the library's SRCU read section around its static mpath_find_path(),
 * then our callback on the path it chose), a removal mpath_delete_device().
 * The path's state is the prelude's template (is_disabled, is_optimized,
 * get_iopolicy), as the suite's other cases use it.
 */
#ifndef MPV_RACE_LIB_H
#define MPV_RACE_LIB_H

/* Defined by the schedule-point patch in lib/multipath.c. */
extern void (*mpath_mpv_sched_hook)(const char *point, int line,
				    const void *obj);

static void mpv_race_set_hook(void (*hook)(const char *point, int line, const void *obj))
{
	WRITE_ONCE(mpath_mpv_sched_hook, hook);
}

static int mpv_race_path_id(void *world, const void *obj)
{
	return mpvl_id(world, (struct mpath_device *)obj);
}

/* The recovery action: the path is usable and optimized (harness write). */
static void mpv_race_make_usable(void *world, const void *obj)
{
	struct mpvl_path *p = mpvl_p((struct mpath_device *)obj);
	struct mpvl_world *w = world;

	w->ctrl[p->ctrl] = MPVL_CTRL_LIVE;
	p->ready = true;
	p->ana_pending = false;
	p->ana = MPVL_ANA_OPTIMIZED;
	mpvl_api_set_access(p);
}

/* Facts about what the library chose, inside its SRCU read section. */
static void mpvl_race_observe(struct mpv_race_thread *t, struct mpath_device *d)
{
	struct mpvl_world *w = t->race->world;
	struct mpath_device *it;
	bool listed = false, better = false, disabled = false, optimized = false;
	char why[64] = "";

	list_for_each_entry_srcu(it, &w->head->dev_list, siblings,
				 srcu_read_lock_held(&w->head->srcu)) {
		if (it == d)
			listed = true;
		if (!mpvl_is_disabled(it) && mpvl_is_optimized(it))
			better = true;
	}
	if (d) {
		disabled = mpvl_is_disabled(d);
		optimized = mpvl_is_optimized(d);
		snprintf(why, sizeof(why), "ctrl %d, ready %d, ana_pending %d",
			 w->ctrl[mpvl_p(d)->ctrl], mpvl_p(d)->ready,
			 mpvl_p(d)->ana_pending);
	}
	mpv_race_note_returned(t, mpvl_id(w, d), listed, disabled, why,
			       optimized, better);
}

/* mpath_call_for_device's callback: the path the library chose. */
static int mpvl_race_cb(struct mpath_device *d)
{
	struct mpv_race_thread *t = mpv_race_self();

	mpv_race_point("submit:callback", 0, d);
	if (t)
		mpvl_race_observe(t, d);
	return 0;
}

static void mpv_race_run_op(struct mpv_race_thread *t, const struct mpv_race_op *op)
{
	struct mpvl_world *w = t->race->world;
	int ret;

	switch (op->kind) {
	case MPV_RACE_SUBMIT_BIO:
	case MPV_RACE_FIND_PATH:
		t->loop_passes = 0;
		ret = mpath_call_for_device(w->head, mpvl_race_cb);
		if (ret == -EWOULDBLOCK)
			MPV_RACE_LOG(t->race->test,
				     "mpv-race-observed: %s op %d selection returned -1 (mpath_call_for_device: no path)",
				     t->spec->name, t->op);
		break;
	case MPV_RACE_DELETE_DEVICE:
		mpath_delete_device(&w->p[op->path]->dev);
		t->race->removed[op->path] = true;
		break;
	case MPV_RACE_REMOVE_PATH:
		/* driver glue: the generator refuses such schedules */
		break;
	}
}

static int mpv_race_current_path(void *world, int node)
{
	struct mpvl_world *w = world;

	return mpvl_id(w, rcu_access_pointer(w->head->current_path[node]));
}

/* The selection through mpath_call_for_device has no requeue branch. */
static bool mpv_race_stranded(struct mpv_race *r)
{
	return false;
}

static void mpv_race_cleanup(struct mpv_race *r)
{
}

#endif /* MPV_RACE_LIB_H */
