/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpath-verify: the race engine's nvme-6.12 backend (after mpv_harness.h
 * and conformance/kunit/race/mpv_race_core.h).
 *
 * Written for mpath-verify; contains no kernel code. The schedule points
 * of drivers/nvme/host/multipath.c come from conformance/kunit/race/
 * nvme-6.12-sched.patch. nvme_ns_remove() and the multipath part of
 * nvme_ns_head_submit_bio() cannot be called from KUnit (a probed
 * namespace, a live head gendisk): they are restated here with the same
 * points, in the kernel's order (`kunit drift` checks nvme_ns_remove's).
 * A controller state change is the kernel's own nvme_change_ctrl_state();
 * head->requeue_work, during a race, is a restatement of the static
 * nvme_requeue_work() run by the kworker the kernel's kick wakes.
 */
#ifndef MPV_RACE_NVME_H
#define MPV_RACE_NVME_H

/* Defined by the schedule-point patch in drivers/nvme/host/multipath.c. */
extern void (*nvme_mpv_sched_hook)(const char *point, int line,
				   const void *obj);
bool nvme_mpv_available_path(struct nvme_ns_head *head);

static void mpv_race_set_hook(void (*hook)(const char *point, int line, const void *obj))
{
	WRITE_ONCE(nvme_mpv_sched_hook, hook);
}

static int mpv_race_path_id(void *world, const void *obj)
{
	return mpv_path_id(world, (struct nvme_ns *)obj);
}

static void mpv_race_make_usable(void *world, const void *obj)
{
	struct nvme_ns *ns = (struct nvme_ns *)obj;

	WRITE_ONCE(ns->ctrl->state, NVME_CTRL_LIVE);
	clear_bit(NVME_NS_ANA_PENDING, &ns->flags);
	set_bit(NVME_NS_READY, &ns->flags);
	WRITE_ONCE(ns->ana_state, NVME_ANA_OPTIMIZED);
}

/*
 * The lines the restatements' points report. @line names the statement of the
 * given tree that the mirror restates, encoded apart from the patched
 * multipath.c lines the kernel's points report: MPV_LINE_CORE + n is line
 * n of drivers/nvme/host/core.c, MPV_LINE_MPATH + n line n of the
 * unpatched multipath.c, 0 unknown. `kunit race` generates the MPV_L_*
 * values from the tree it runs on.
 */
#define MPV_LINE_CORE	200000
#define MPV_LINE_MPATH	100000


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
 * caller's SRCU read section.
 */
static void mpv_race_observe(struct mpv_race_thread *t, struct nvme_ns *ns)
{
	struct mpv_world *w = t->race->world;
	bool listed = false, disabled = false, optimized = false, better = false;
	char why[64] = "";
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
		snprintf(why, sizeof(why), "ctrl state %d, flags %#lx",
			 nvme_ctrl_state(ns->ctrl), ns->flags);
	}
	mpv_race_note_returned(t, mpv_path_id(w, ns), listed, disabled, why,
			       optimized, better);
}

/* ------------------------------------------------------ thread ops */

/* The multipath part of nvme_ns_head_submit_bio() (6.12), restated. */
static void mpv_race_submit_bio(struct mpv_race_thread *t, bool bio)
{
	struct mpv_race *r = t->race;
	struct mpv_world *w = r->world;
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
	struct mpv_world *w = r->world;
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

static const char *mpv_race_ctrl_state_name(enum nvme_ctrl_state s)
{
	switch (s) {
	case NVME_CTRL_NEW: return "NEW";
	case NVME_CTRL_LIVE: return "LIVE";
	case NVME_CTRL_RESETTING: return "RESETTING";
	case NVME_CTRL_CONNECTING: return "CONNECTING";
	case NVME_CTRL_DELETING: return "DELETING";
	case NVME_CTRL_DELETING_NOIO: return "DELETING_NOIO";
	case NVME_CTRL_DEAD: return "DEAD";
	}
	return "?";
}

/*
 * A controller state change: the kernel's own nvme_change_ctrl_state().
 * Its first shared write, the state store, is under ctrl->lock (no thread
 * may park there), so the point precedes the call; a change to LIVE then
 * runs nvme_kick_requeue_lists() with the patch's points.
 */
static void mpv_race_set_ctrl_state(struct mpv_race_thread *t, int c,
				    enum nvme_ctrl_state state)
{
	struct mpv_race *r = t->race;
	struct mpv_world *w = r->world;
	struct nvme_ctrl *ctrl = w->ctrl[c];
	bool changed;

	mpv_race_point("nvme_change_ctrl_state", MPV_L_CHANGE_STATE, NULL);
	changed = nvme_change_ctrl_state(ctrl, state);
	MPV_LOG(r->test,
		"mpv-race-observed: %s op %d nvme_change_ctrl_state(ctrl %d, %s) returned %d, ctrl state now %s",
		t->spec->name, t->op, c, mpv_race_ctrl_state_name(state),
		changed, mpv_race_ctrl_state_name(nvme_ctrl_state(ctrl)));
}

/*
 * head->requeue_work during a race: 6.12's nvme_requeue_work() restated
 * (it is static, and the race's bios are not real bios): take the list
 * under requeue_lock, as the kernel does, and count what it took; the
 * kernel would submit_bio_noacct() each (a schedule whose worker goes on
 * to resubmit is refused by the generator). Run by a real kworker
 * (kblockd_schedule_work from the kernel's own kick), which the engine
 * parks at the points as the model's worker.
 */
static void mpv_race_requeue_work(struct work_struct *work)
{
	struct nvme_ns_head *head =
		container_of(work, struct nvme_ns_head, requeue_work);
	struct mpv_world *w = head->disk->private_data;
	struct mpv_race_thread *t = mpv_race_worker_enter();
	struct bio *bio, *next;
	int n = 0;

	mpv_race_point("nvme_requeue_work", MPV_L_REQUEUE_WORK, NULL);
	mpv_race_point("nvme_requeue_work:bio_list_get", MPV_L_REQUEUE_GET, NULL);
	spin_lock_irq(&head->requeue_lock);
	next = bio_list_get(&head->requeue_list);
	spin_unlock_irq(&head->requeue_lock);
	atomic_inc(&w->requeue_runs);
	while ((bio = next) != NULL) {
		next = bio->bi_next;
		bio->bi_next = NULL;
		n++;
	}
	if (t)
		MPV_LOG(t->race->test,
			"mpv-race-observed: worker nvme_requeue_work took %d bio(s) from head->requeue_list",
			n);
	mpv_race_worker_exit(t);
}

/* The race's head->requeue_work is the restated nvme_requeue_work. */
static void mpv_race_prepare(struct mpv_world *w)
{
	cancel_work_sync(&w->head->requeue_work);
	INIT_WORK(&w->head->requeue_work, mpv_race_requeue_work);
}

static void mpv_race_run_op(struct mpv_race_thread *t, const struct mpv_race_op *op)
{
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
	case MPV_RACE_SET_CTRL_STATE:
		mpv_race_set_ctrl_state(t, op->path, op->arg);
		break;
	default:
		/* not a 6.12 call: the generator refuses such schedules */
		break;
	}
}

static int mpv_race_current_path(void *world, int node)
{
	struct mpv_world *w = world;

	return mpv_path_id(w, rcu_access_pointer(w->head->current_path[node]));
}

/*
 * At rest (every thread finished, the requeue work flushed), a bio left on
 * head->requeue_list that nobody will resubmit while a listed path is
 * usable (not disabled, ANA optimized or non-optimized: one that
 * nvme_find_path() can return), or after NVME_NSHEAD_DISK_LIVE was
 * cleared: the model's
 * no_stranded_requeue, read from the head, its paths and controllers.
 */
static bool mpv_race_stranded(struct mpv_race *r)
{
	struct mpv_world *w = r->world;
	bool listed, pending, live;
	int runs, idx, usable = -1;
	char why[64] = "";
	struct nvme_ns *ns;

	flush_work(&w->head->requeue_work);
	spin_lock_irq(&w->head->requeue_lock);
	listed = !bio_list_empty(&w->head->requeue_list);
	spin_unlock_irq(&w->head->requeue_lock);
	pending = work_pending(&w->head->requeue_work);
	runs = atomic_read(&w->requeue_runs);
	live = test_bit(NVME_NSHEAD_DISK_LIVE, &w->head->flags);
	idx = srcu_read_lock(&w->head->srcu);
	list_for_each_entry_srcu(ns, &w->head->list, siblings,
				 srcu_read_lock_held(&w->head->srcu))
		if (usable < 0 && !mpv_race_disabled(ns) &&
		    (READ_ONCE(ns->ana_state) == NVME_ANA_OPTIMIZED ||
		     READ_ONCE(ns->ana_state) == NVME_ANA_NONOPTIMIZED)) {
			usable = mpv_path_id(w, ns);
			snprintf(why, sizeof(why), "ctrl state %s, ANA %s",
				 mpv_race_ctrl_state_name(nvme_ctrl_state(ns->ctrl)),
				 READ_ONCE(ns->ana_state) == NVME_ANA_OPTIMIZED ?
				 "optimized" : "non-optimized");
		}
	srcu_read_unlock(&w->head->srcu, idx);
	MPV_LOG(r->test,
		"mpv-race-observed: at rest: head->requeue_list %s, requeue_work pending=%d, runs %d (at the add %d), DISK_LIVE=%d, first usable listed path %d%s%s",
		listed ? "holds a bio" : "empty", pending, runs,
		r->requeue_runs_at_add, live, usable, usable >= 0 ? ": " : "", why);
	if (listed && !pending && runs == r->requeue_runs_at_add &&
	    (usable >= 0 || !live)) {
		if (usable >= 0)
			snprintf(r->evidence, sizeof(r->evidence),
				 "a bio is on head->requeue_list, head->requeue_work is not pending and has not run since it was added, and path %d is usable (%s)",
				 usable, why);
		else
			snprintf(r->evidence, sizeof(r->evidence),
				 "a bio is on head->requeue_list, head->requeue_work is not pending and has not run since it was added, and NVME_NSHEAD_DISK_LIVE is clear");
		return true;
	}
	return false;
}

static void mpv_race_drop_bios(struct mpv_race *r)
{
	struct mpv_world *w = r->world;
	int i;

	spin_lock_irq(&w->head->requeue_lock);
	bio_list_get(&w->head->requeue_list);
	spin_unlock_irq(&w->head->requeue_lock);
	for (i = 0; i < r->nr_bios; i++)
		kfree(r->bios[i]);
	r->nr_bios = 0;
}

static void mpv_race_cleanup(struct mpv_race *r)
{
	struct mpv_world *w = r->world;

	/* No kworker may still be inside the race's work function. */
	flush_work(&w->head->requeue_work);
	mpv_race_drop_bios(r);
}

#endif /* MPV_RACE_NVME_H */
