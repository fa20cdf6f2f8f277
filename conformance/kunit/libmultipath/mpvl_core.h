struct mpvl_world;

struct mpvl_path {
	struct mpath_device dev;	/* first member, as NVMe and SCSI do */
	struct mpvl_world *w;
	int ctrl;
	bool ready;
	bool ana_pending;
	bool removing;			/* NVME_NS_REMOVING */
	bool disk_deleted;		/* teardown bookkeeping only */
	enum mpvl_ana ana;
};

struct mpvl_world {
	struct kunit *test;
	const char *trace;
	int step;
	struct mpath_head *head;
	bool head_disk;			/* the head gendisk was allocated */
	bool head_disk_put;		/* the trace put it: never touch it again */
	struct mpath_iopolicy pol;
	int nr;
	struct mpvl_path *p[MPVL_MAX];
	bool gone[MPVL_MAX];		/* freed by a race's driver put */
	enum mpvl_ctrl ctrl[MPVL_MAX];
	int nr_active[MPVL_MAX];
	struct mpath_device *found;
	/* the spin watchdog of one selection */
	bool selecting;
	unsigned long calls;
	struct mpvl_path *escape;
	struct mpvl_api api;		/* what the revision's API adds */
};

/* Steps and expectations: MPV_STEP, MPV_EXPECT_EQ / _STREQ (mpv_common.h). */

/*
 * The driver glue that differs between the series' revisions: the API
 * section at the end of this prelude implements it.
 */
static void mpvl_api_init(struct mpvl_world *w);
static int mpvl_api_alloc_head_disk(struct mpvl_world *w);
static struct gendisk *mpvl_head_gd(struct mpvl_world *w);
static struct work_struct *mpvl_partition_scan_work(struct mpvl_world *w);
static void mpvl_api_set_access(struct mpvl_path *p);
static void mpvl_api_escape(struct mpvl_path *p);
static void mpvl_api_unescape(struct mpvl_path *p);
static void mpvl_set_live(struct mpvl_world *w, int i);
static void mpvl_add_sysfs_link(struct mpvl_world *w);
static void mpvl_remove_sysfs_link(struct mpvl_world *w, int i);
static void mpvl_remove_disk(struct mpvl_world *w);
static void mpvl_put_disk(struct mpvl_world *w);
static bool mpvl_clear_current_path(struct mpvl_world *w, int i);
static bool mpvl_delete_device(struct mpvl_world *w, int i);
static bool mpvl_devices_empty(struct mpvl_world *w);
static void mpvl_revalidate_paths(struct mpvl_world *w);
static void mpvl_schedule_requeue(struct mpvl_world *w);
static int mpvl_iopolicy_store(struct mpvl_world *w, const char *buf);
static ssize_t mpvl_numa_nodes_show(struct mpvl_world *w, int i, char *buf);

static struct mpvl_path *mpvl_p(struct mpath_device *d)
{
	return container_of(d, struct mpvl_path, dev);
}

static struct mpvl_world *mpvl_w(struct mpath_device *d)
{
	return mpvl_p(d)->w;
}

/* nvme_available_path's reading of the controller state */
static bool mpvl_ctrl_available(struct mpath_device *d)
{
	enum mpvl_ctrl s = mpvl_w(d)->ctrl[mpvl_p(d)->ctrl];

	return @NVME_CTRL_AVAILABLE@;
}

static bool mpvl_is_disabled(struct mpath_device *d)
{
	struct mpvl_world *w = mpvl_w(d);
	struct mpvl_path *p = mpvl_p(d);
	enum mpvl_ctrl s = w->ctrl[p->ctrl];

	if (w->selecting && ++w->calls > MPVL_SPIN_BOUND && !w->escape) {
		/* Spinning: let the loop out through this path, once. */
		w->escape = p;
		mpvl_api_escape(p);
		return false;
	}
	return !(@NVME_CTRL_ENABLED@) || p->ana_pending || !p->ready;
}

static bool mpvl_is_optimized(struct mpath_device *d)
{
	return @NVME_CTRL_OPTIMIZED@ &&
	       @NVME_ANA_OPTIMIZED@;
}

static enum mpath_iopolicy_e mpvl_get_iopolicy(struct mpath_head *h)
{
	return mpath_read_iopolicy(&((struct mpvl_world *)h->drvdata)->pol);
}

/* nvme_mpath_remove_head: the delayed removal found no path come back. */
static void mpvl_remove_head(struct mpvl_world *w)
{
	if (mpvl_devices_empty(w))
		mpvl_remove_disk(w);
}

static atomic_t mpvl_disk_seq = ATOMIC_INIT(0);

/* Path disks are bio-based and hidden, as NVMe's are under multipath. */
static void mpvl_path_submit_bio(struct bio *bio)
{
	zero_fill_bio(bio);
	bio_endio(bio);
}

static const struct block_device_operations mpvl_path_fops = {
	.owner		= THIS_MODULE,
	.submit_bio	= mpvl_path_submit_bio,
};

static bool mpvl_disk_added(struct gendisk *disk)
{
	return disk && !IS_ERR(disk) && test_bit(GD_ADDED, &disk->state);
}

/* The head gendisk is registered: device_add_disk done, del_gendisk not yet. */
static bool mpvl_head_registered(struct mpvl_world *w)
{
	/* GD_ADDED stays set after del_gendisk on 6.12, which sets GD_DEAD. */
	return w->head_disk && !w->head_disk_put &&
	       mpvl_disk_added(mpvl_head_gd(w)) &&
	       !test_bit(GD_DEAD, &mpvl_head_gd(w)->state);
}

/*
 * Runs after the case, before KUnit frees what the case allocated after
 * this action was added: the paths are the suite's own allocations. A
 * path's sysfs link goes with a deleted head's directory (removing it
 * then is the NULL dereference of spec trace 9.8).
 */
static void mpvl_cleanup(void *data)
{
	struct mpvl_world *w = data;
	bool disk = w->head_disk && !w->head_disk_put;
	int i;

	if (mpvl_head_registered(w))
		for (i = 0; i < w->nr; i++)
			if (!w->gone[i])
				mpvl_remove_sysfs_link(w, i);
	if (disk) {
		cancel_delayed_work_sync(&w->head->remove_work);
		mpvl_remove_disk(w);
		mpvl_put_disk(w);
	}
	cancel_work_sync(&w->head->requeue_work);
	for (i = 0; i < w->nr; i++) {
		struct gendisk *pd;

		if (w->gone[i])
			continue;
		pd = w->p[i]->dev.disk;
		if (!IS_ERR_OR_NULL(pd)) {
			if (!w->p[i]->disk_deleted && mpvl_disk_added(pd))
				del_gendisk(pd);
			put_disk(pd);
		}
		kfree(w->p[i]);
	}
	mpath_put_head(w->head);
}

/* The driver's side of mpath_alloc_head_disk: name, capacity. */
static int __maybe_unused mpvl_alloc_head_disk(struct mpvl_world *w, sector_t capacity)
{
	struct gendisk *disk;
	int ret = mpvl_api_alloc_head_disk(w);

	if (ret)
		return ret;
	w->head_disk = true;
	disk = mpvl_head_gd(w);
	snprintf(disk->disk_name, DISK_NAME_LEN, "mpvh%d",
		 atomic_inc_return(&mpvl_disk_seq));
	/* no partition-scan I/O may move current_path behind the trace */
	disk->flags |= GENHD_FL_NO_PART;
	set_capacity(disk, capacity);
	return 0;
}

static struct mpvl_world *mpvl_world_new(struct kunit *test, const char *trace,
					 int nr_ctrls, enum mpath_iopolicy_e pol,
					 bool head_disk)
{
	struct mpvl_world *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, w);
	w->test = test;
	w->trace = trace;
	w->pol.iopolicy = pol;
	w->head = mpath_alloc_head();
	KUNIT_ASSERT_FALSE(test, IS_ERR(w->head));
	mpvl_api_init(w);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mpvl_cleanup, w), 0);
	if (head_disk)
		KUNIT_ASSERT_EQ(test, mpvl_alloc_head_disk(w, MPVL_CAPACITY), 0);
	for (i = 0; i < nr_ctrls && i < MPVL_MAX; i++)
		w->ctrl[i] = MPVL_CTRL_LIVE;
	return w;
}

/*
 * A path as a driver brings one: its own gendisk (added, hidden), READY,
 * then mpath_add_device.
 */
static int __maybe_unused mpvl_add(struct mpvl_world *w, int ctrl, enum mpvl_ana ana, int node)
{
	struct mpvl_path *p;
	int i = w->nr;

	KUNIT_ASSERT_LT(w->test, i, MPVL_MAX);
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(w->test, p);
	w->p[w->nr++] = p;		/* mpvl_cleanup frees it */
	p->w = w;
	p->dev.disk = blk_alloc_disk(NULL, NUMA_NO_NODE);
	KUNIT_ASSERT_FALSE(w->test, IS_ERR(p->dev.disk));
	p->dev.disk->fops = &mpvl_path_fops;
	p->dev.disk->flags |= GENHD_FL_HIDDEN;
	snprintf(p->dev.disk->disk_name, DISK_NAME_LEN, "mpvp%d",
		 atomic_inc_return(&mpvl_disk_seq));
	set_capacity(p->dev.disk, MPVL_CAPACITY);
	KUNIT_ASSERT_EQ(w->test, device_add_disk(NULL, p->dev.disk, NULL), 0);
	p->ctrl = ctrl;
	p->ready = true;
	p->ana = ana;
	p->dev.numa_node = node;
	mpvl_api_set_access(p);
	mpath_add_device(w->head, &p->dev);
	return i;
}

static void __maybe_unused mpvl_set_ana(struct mpvl_world *w, int i, enum mpvl_ana ana)
{
	w->p[i]->ana = ana;
	mpvl_api_set_access(w->p[i]);
}

/*
 * nvme_update_ns_ana_state as the series' NVMe conversion calls it: a usable
 * state on a live controller sets the path live, anything else refreshes the
 * links of a live head.
 */
static void mpvl_ana_update(struct mpvl_world *w, int i, enum mpvl_ana ana)
{
	struct mpvl_path *p = w->p[i];

	mpvl_set_ana(w, i, ana);
	p->ana_pending = false;
	if ((ana == MPVL_ANA_OPTIMIZED || ana == MPVL_ANA_NONOPTIMIZED) &&
	    w->ctrl[p->ctrl] == MPVL_CTRL_LIVE)
		mpvl_set_live(w, i);
	else if (test_bit(MPATH_HEAD_DISK_LIVE, &w->head->flags))
		mpvl_add_sysfs_link(w);
}

/* A new path: mpvl_add, then its ANA state arrives (or stays pending). */
static int __maybe_unused mpvl_add_path(struct mpvl_world *w, int ctrl, enum mpvl_ana ana,
					bool pending, int node)
{
	int i = mpvl_add(w, ctrl, ana, node);

	if (pending)
		w->p[i]->ana_pending = true;
	else
		mpvl_ana_update(w, i, ana);
	return i;
}

/*
 * The works the trace runs. The requeue and partition-scan works run on
 * their own anyway; they are flushed. The delayed head removal is run now
 * when the trace says its time has come (kernel timers are not advanced
 * with the trace's clock): true if the C had armed it.
 */
static void __maybe_unused mpvl_flush_works(struct mpvl_world *w)
{
	flush_work(&w->head->requeue_work);
	if (w->head_disk && !w->head_disk_put)
		flush_work(mpvl_partition_scan_work(w));
}

static bool __maybe_unused mpvl_run_remove_work(struct mpvl_world *w)
{
	return w->head_disk && !w->head_disk_put &&
	       flush_delayed_work(&w->head->remove_work);
}

/* nvme_mpath_remove_disk as the series' NVMe conversion has it. */
static void mpvl_remove_head_disk(struct mpvl_world *w, bool delayed_removal)
{
	if (!w->head_disk || w->head_disk_put)
		return;
	if (!mpvl_devices_empty(w))
		return;
	if (!delayed_removal || mpath_can_remove_head(w->head))
		mpvl_remove_disk(w);
}

static void mpvl_del_path_disk(struct mpvl_world *w, int i)
{
	del_gendisk(w->p[i]->dev.disk);
	w->p[i]->disk_deleted = true;
}

/* nvme_ns_remove as the series' NVMe conversion has it (syncs: MPVL_SYNC*). */
static void __maybe_unused mpvl_remove_path(struct mpvl_world *w, int i, unsigned int syncs,
					    bool delayed)
{
	struct mpvl_path *p = w->p[i];
	bool last;

	if (p->removing)
		return;
	p->removing = true;
	p->ready = false;
	set_capacity(p->dev.disk, 0);
	if (syncs & MPVL_SYNC1)
		mpath_synchronize(w->head);
	if (mpvl_clear_current_path(w, i) && (syncs & MPVL_SYNC2))
		mpath_synchronize(w->head);
	last = mpvl_delete_device(w, i);
	if (syncs & MPVL_SYNC3)
		mpath_synchronize(w->head);
	mpvl_remove_sysfs_link(w, i);
	mpvl_del_path_disk(w, i);
	if (last)
		mpvl_remove_head_disk(w, delayed);
}

/* The library calls every revision makes alike. */
static void __maybe_unused mpvl_synchronize(struct mpvl_world *w)
{
	mpath_synchronize(w->head);
}

static void __maybe_unused mpvl_clear_paths(struct mpvl_world *w)
{
	mpath_clear_paths(w->head);
}

static bool __maybe_unused mpvl_can_remove_head(struct mpvl_world *w)
{
	return mpath_can_remove_head(w->head);
}

static int __maybe_unused mpvl_delayed_store(struct mpvl_world *w, const char *buf)
{
	return mpath_delayed_removal_secs_store(w->head, buf, strlen(buf));
}

/* The module parameter: mpath_set_iopolicy parses into an int. */
static int __maybe_unused mpvl_set_iopolicy(struct mpvl_world *w, const char *val)
{
	int pol = w->pol.iopolicy;
	int ret = mpath_set_iopolicy(val, &pol);

	w->pol.iopolicy = pol;
	return ret;
}

static int mpvl_id(struct mpvl_world *w, struct mpath_device *d)
{
	return mpv_object_id((void *const *)w->p, w->nr, offsetof(struct mpvl_path, dev), d);
}

static int mpvl_found_cb(struct mpath_device *d)
{
	mpvl_w(d)->found = d;
	return 0;
}

/*
 * The selection through mpath_call_for_device (SRCU, the static
 * mpath_find_path, the callback on the choice), under the spin watchdog.
 * Returns the chosen path, or MPV_NONE; *spun says whether the
 * watchdog had to let the loop out, in which case current_path[] and the
 * path's access state are put back as they were before the call.
 */
static long mpvl_call_fn(void *w)
{
	return mpath_call_for_device(((struct mpvl_world *)w)->head, mpvl_found_cb);
}

/* The selection runs on a CPU of @on, so numa_node_id() there is @on. */
static int mpvl_select(struct mpvl_world *w, int on, int *ret, bool *spun)
{
	unsigned int cpu = cpumask_first_and(cpumask_of_node(on), cpu_online_mask);
	struct mpath_device **before;
	int node, r;

	KUNIT_ASSERT_LT_MSG(w->test, cpu, nr_cpu_ids, "mpv: %s:%d no online CPU on node %d",
			    w->trace, w->step, on);
	before = kunit_kcalloc(w->test, nr_node_ids, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(w->test, before);
	for_each_node(node)
		before[node] = rcu_access_pointer(w->head->current_path[node]);
	w->found = NULL;
	w->escape = NULL;
	w->calls = 0;
	w->selecting = true;
	r = work_on_cpu(cpu, mpvl_call_fn, w);
	w->selecting = false;
	*spun = w->escape;
	if (ret)
		*ret = r;
	if (*spun) {
		MPV_LOG(w->test,
			"mpv-finding: %s:%d non-termination reproduced in kernel C: one selection called is_disabled() %lu times without returning (bound %d); let out through path %d",
			w->trace, w->step, w->calls, MPVL_SPIN_BOUND,
			mpvl_id(w, &w->escape->dev));
		mpvl_api_unescape(w->escape);
		w->escape = NULL;
		for_each_node(node)
			rcu_assign_pointer(w->head->current_path[node], before[node]);
		mpath_synchronize(w->head);
		return MPV_NONE;
	}
	return mpvl_id(w, w->found);
}

static int __maybe_unused mpvl_find_path(struct mpvl_world *w, int node, bool expect_spin)
{
	bool spun;
	int id = mpvl_select(w, node, NULL, &spun);

	KUNIT_EXPECT_EQ_MSG(w->test, spun, expect_spin, "mpv: %s:%d selection %s",
			    w->trace, w->step, spun ? "did not terminate" : "terminated");
	return id;
}

static int __maybe_unused mpvl_call_for_device(struct mpvl_world *w, int node)
{
	bool spun;
	int r;

	mpvl_select(w, node, &r, &spun);
	MPV_EXPECT_EQ(w, spun, false);
	return r;
}

static int mpvl_current_path(struct mpvl_world *w, int node)
{
	return mpvl_id(w, rcu_access_pointer(w->head->current_path[node]));
}

/* Is the path on head->dev_list? Walked under SRCU, as the library reads it. */
static int mpvl_listed(struct mpvl_world *w, int i)
{
	struct mpath_device *d;
	int idx, found = 0;

	idx = srcu_read_lock(&w->head->srcu);
	list_for_each_entry_srcu(d, &w->head->dev_list, siblings,
				 srcu_read_lock_held(&w->head->srcu))
		if (d == &w->p[i]->dev)
			found = 1;
	srcu_read_unlock(&w->head->srcu, idx);
	return found;
}

/* The position of path i on head->dev_list (or -1). */
static int mpvl_list_pos(struct mpvl_world *w, int i)
{
	struct mpath_device *d;
	int idx, n = 0, pos = -1;

	idx = srcu_read_lock(&w->head->srcu);
	list_for_each_entry_srcu(d, &w->head->dev_list, siblings,
				 srcu_read_lock_held(&w->head->srcu)) {
		if (d == &w->p[i]->dev)
			pos = n;
		n++;
	}
	srcu_read_unlock(&w->head->srcu, idx);
	return pos;
}

static int mpvl_list_len(struct mpvl_world *w)
{
	struct mpath_device *d;
	int idx, n = 0;

	idx = srcu_read_lock(&w->head->srcu);
	list_for_each_entry_srcu(d, &w->head->dev_list, siblings,
				 srcu_read_lock_held(&w->head->srcu))
		n++;
	srcu_read_unlock(&w->head->srcu, idx);
	return n;
}

/* Does head/multipath/<path disk> exist in sysfs? */
static int mpvl_link_exists(struct mpvl_world *w, int i)
{
	struct kernfs_node *grp, *kn;
	int found;

	if (!mpvl_head_registered(w))
		return 0;
	grp = kernfs_find_and_get(disk_to_dev(mpvl_head_gd(w))->kobj.sd, "multipath");
	if (!grp)
		return 0;
	kn = kernfs_find_and_get(grp, w->p[i]->dev.disk->disk_name);
	found = !!kn;
	kernfs_put(kn);
	kernfs_put(grp);
	return found;
}

static int mpvl_requeue_len(struct mpvl_world *w)
{
	int n;

	spin_lock_irq(&w->head->requeue_lock);
	n = bio_list_size(&w->head->requeue_list);
	spin_unlock_irq(&w->head->requeue_lock);
	return n;
}

/* nvme_mpath_clear_ctrl_paths on every controller, as the iopolicy store does. */
static void mpvl_clear_ctrl_paths(struct mpvl_world *w)
{
	int i;

	for (i = 0; i < w->nr; i++)
		if (mpvl_listed(w, i))
			mpvl_clear_current_path(w, i);
	mpvl_schedule_requeue(w);
}

static const char *__maybe_unused mpvl_show(struct mpvl_world *w,
					    ssize_t (*show)(struct mpvl_world *, int, char *),
					    int arg)
{
	char *buf = kunit_kzalloc(w->test, PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(w->test, buf);
	show(w, arg, buf);
	return buf;
}

static ssize_t __maybe_unused mpvl_iopolicy_show(struct mpvl_world *w, int arg, char *buf)
{
	return mpath_iopolicy_show(&w->pol, buf);
}

static ssize_t __maybe_unused mpvl_delayed_show(struct mpvl_world *w, int arg, char *buf)
{
	return mpath_delayed_removal_secs_show(w->head, buf);
}

/* Observation rows, read from library objects. */
enum mpvl_x_kind { MPVL_X_CP, MPVL_X_LISTED, MPVL_X_LIST_POS, MPVL_X_LIST_LEN,
		   MPVL_X_LINK_BIT, MPVL_X_LINK, MPVL_X_HEAD_FLAGS, MPVL_X_HEAD_REF,
		   MPVL_X_REQUEUE_LEN, MPVL_X_DISK_ADDED };
static const char *const mpvl_x_names[] = {
	"current_path", "on dev_list", "dev_list position", "dev_list length",
	"SYSFS_ATTR_LINK bit", "sysfs multipath link", "head flags", "head kref",
	"requeue_list length", "head gendisk registered (GD_ADDED, !GD_DEAD)",
};

struct mpvl_x {
	u8 kind;
	s8 arg;
	s8 want;
};

static int mpvl_read(struct mpvl_world *w, const struct mpvl_x *x)
{
	switch (x->kind) {
	case MPVL_X_CP:
		return mpvl_current_path(w, x->arg);
	case MPVL_X_LISTED:
		return mpvl_listed(w, x->arg);
	case MPVL_X_LIST_POS:
		return mpvl_list_pos(w, x->arg);
	case MPVL_X_LIST_LEN:
		return mpvl_list_len(w);
	case MPVL_X_LINK_BIT:
		return test_bit(MPATH_DEVICE_SYSFS_ATTR_LINK, &w->p[x->arg]->dev.flags);
	case MPVL_X_LINK:
		return mpvl_link_exists(w, x->arg);
	case MPVL_X_HEAD_FLAGS:
		return w->head->flags &
		       (BIT(MPATH_HEAD_DISK_LIVE) | BIT(MPATH_HEAD_QUEUE_IF_NO_PATH));
	case MPVL_X_HEAD_REF:
		return kref_read(&w->head->ref);
	case MPVL_X_REQUEUE_LEN:
		return mpvl_requeue_len(w);
	case MPVL_X_DISK_ADDED:
		/* "added" in the trace means registered */
		return mpvl_head_registered(w);
	}
	return MPV_UNKNOWN;
}

static void __maybe_unused mpvl_check(struct mpvl_world *w, const struct mpvl_x *x, int n)
{
	int i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(w->test, mpvl_read(w, &x[i]), (int)x[i].want,
				    "mpv: %s:%d %s %d", w->trace, w->step,
				    mpvl_x_names[x[i].kind], x[i].arg);
}

