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
 *
 * The posted series converts no driver, so two driver functions are
 * restated here, with points of line 0 (marked * in reports):
 * NVMe's nvme_ns_remove() around the library's calls (the order the
 * model's v2 nvme_ns_remove has: 6.12's, with mpath_synchronize,
 * mpath_clear_current_path and mpath_delete_device), ending in the last
 * put, which frees the path; and the character-device ioctl callbacks of
 * review finding S07: for a controller ioctl, ioctl_begin pins the path's
 * controller and returns it as the unlocked-ioctl data (6.12's
 * nvme_ns_head_ctrl_ioctl takes nvme_get_ctrl the same way), and
 * cdev_ioctl is _nvme_ns_chr_ioctl(nvme_mpath_to_ns(P), ...), whose first
 * act is reading ns->ctrl. The ioctl itself enters through the library's
 * exported mpath_chr_fops.unlocked_ioctl (mpath_chr_ioctl) on a file
 * whose inode carries the head's cdev. A revalidation is 6.12's
 * nvme_update_ns_info() part the model has (the head takes the path's
 * capacity) and then the library's mpath_revalidate_paths() with 6.12's
 * nvme_mpath_revalidate_paths() callback (clear READY on a capacity
 * mismatch).
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

/* ------------------------------------------ the ioctl callbacks (S07) */

#define MPVL_RACE_IOCTL_CTRL	1	/* the ioctl a controller handles */
#define MPVL_RACE_IOCTL_NS	2

/* The prelude's template plus the ioctl callbacks; set by mpvl_race_prepare. */
static struct mpath_head_template mpvl_race_mpdt;

struct mpvl_race_file {
	struct inode inode;
	struct file file;
};

static struct mpvl_race_file *mpvl_race_file;
static atomic_t mpvl_race_ctrl_pins[MPVL_MAX];

static void mpvl_race_ioctl_begin(struct mpath_device *d, unsigned int cmd,
				  void **data)
{
	struct mpvl_path *p = mpvl_p(d);

	if (cmd != MPVL_RACE_IOCTL_CTRL)
		return;
	atomic_inc(&mpvl_race_ctrl_pins[p->ctrl]);
	*data = &mpvl_race_ctrl_pins[p->ctrl];
}

static void mpvl_race_ioctl_finish(void *data)
{
	atomic_dec(data);
}

static long mpvl_race_cdev_ioctl(struct mpath_device *d, unsigned int cmd,
				 unsigned long arg, bool open_for_write)
{
	/* _nvme_ns_chr_ioctl(ns, ...): ns->ctrl */
	int ctrl = READ_ONCE(mpvl_p(d)->ctrl);

	return ctrl >= 0 && ctrl < MPVL_MAX ? 0 : -EINVAL;
}

#ifdef MPATH_HAS_CTRL_IOCTL
/*
 * Only with race/fix-v2-chr-ioctl-ctrl.patch (S07's candidate fix): the
 * unlocked ioctl runs on the pinned controller, never on the path.
 */
static long mpvl_race_ctrl_ioctl(void *data, unsigned int cmd,
				 unsigned long arg, bool open_for_write)
{
	return atomic_read((atomic_t *)data) > 0 ? 0 : -EINVAL;
}
#endif

/* Before the threads start: the ioctl callbacks and the file. */
static void mpvl_race_prepare(struct mpvl_world *w)
{
	mpvl_race_mpdt = *w->head->mpdt;
	mpvl_race_mpdt.ioctl_begin = mpvl_race_ioctl_begin;
	mpvl_race_mpdt.ioctl_finish = mpvl_race_ioctl_finish;
	mpvl_race_mpdt.cdev_ioctl = mpvl_race_cdev_ioctl;
#ifdef MPATH_HAS_CTRL_IOCTL
	mpvl_race_mpdt.ctrl_ioctl = mpvl_race_ctrl_ioctl;
#endif
	w->head->mpdt = &mpvl_race_mpdt;
	mpvl_race_file = kunit_kzalloc(w->test, sizeof(*mpvl_race_file), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(w->test, mpvl_race_file);
	mpvl_race_file->inode.i_cdev = &w->head->cdev;
	mpvl_race_file->file.f_inode = &mpvl_race_file->inode;
	mpvl_race_file->file.f_mode = FMODE_READ | FMODE_WRITE;
}

/* ------------------------------------------- nvme_ns_remove, restated */

static DEFINE_MUTEX(mpvl_race_subsys_lock);

static void mpvl_race_ns_remove(struct mpv_race_thread *t, int i)
{
	struct mpvl_world *w = t->race->world;
	struct mpvl_path *p = w->p[i];
	struct gendisk *disk = p->dev.disk;
	bool last;

	mpv_race_point("nvme_ns_remove:test_and_set_bit_removing", 0, &p->dev);
	if (p->removing)
		return;
	p->removing = true;
	mpv_race_point("nvme_ns_remove:clear_bit_ready", 0, &p->dev);
	WRITE_ONCE(p->ready, false);
	set_capacity(disk, 0);
	mpath_synchronize(w->head);
	if (mpath_clear_current_path(&p->dev))
		mpath_synchronize(w->head);
	mpv_race_point("nvme_ns_remove:mutex_lock_subsys", 0, NULL);
	mutex_lock(&mpvl_race_subsys_lock);
	last = mpath_delete_device(&p->dev);
	mutex_unlock(&mpvl_race_subsys_lock);
	mpath_synchronize(w->head);
	mpvl_remove_sysfs_link(w, i);
	if (last)
		mpvl_remove_disk(w);
	/* The last reference: the path disk goes, the path is freed. */
	mpv_race_point("nvme_ns_remove:nvme_put_ns", 0, &p->dev);
	if (!p->disk_deleted && mpvl_disk_added(disk))
		del_gendisk(disk);
	put_disk(disk);
	w->gone[i] = true;
	t->race->removed[i] = true;
	t->race->freed[i] = true;
	kfree(p);
}

/* ----------------------------------------------- revalidation, restated */

static void mpvl_race_not_ready(struct mpath_device *d)
{
	mpv_race_point("nvme_mpath_revalidate_paths_cb:clear_bit_ready", 0, d);
	WRITE_ONCE(mpvl_p(d)->ready, false);
}

static void mpvl_race_revalidate(struct mpvl_world *w, int i)
{
	struct mpvl_path *p = w->p[i];

	mpv_race_point("nvme_update_ns_info:set_capacity", 0, &p->dev);
	set_capacity(w->head->disk, get_capacity(p->dev.disk));
	mpath_revalidate_paths(w->head, mpvl_race_not_ready);
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
			MPV_LOG(t->race->test,
				"mpv-race-observed: %s op %d selection returned -1 (mpath_call_for_device: no path)",
				t->spec->name, t->op);
		break;
	case MPV_RACE_DELETE_DEVICE:
		mpath_delete_device(&w->p[op->path]->dev);
		t->race->removed[op->path] = true;
		break;
	case MPV_RACE_REMOVE_PATH:
		mpvl_race_ns_remove(t, op->path);
		break;
	case MPV_RACE_REVALIDATE:
		mpvl_race_revalidate(w, op->path);
		break;
	case MPV_RACE_CHR_IOCTL:
		ret = mpath_chr_fops.unlocked_ioctl(&mpvl_race_file->file,
						    op->arg ? MPVL_RACE_IOCTL_CTRL : MPVL_RACE_IOCTL_NS,
						    0);
		MPV_LOG(t->race->test, "mpv-race-observed: %s op %d mpath_chr_ioctl returned %d",
			t->spec->name, t->op, ret);
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
