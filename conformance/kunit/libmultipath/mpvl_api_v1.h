/* ---- the v1 API ---- */

static enum mpath_access_state mpvl_access(enum mpvl_ana ana)
{
	return ana == MPVL_ANA_OPTIMIZED ? MPATH_STATE_OPTIMIZED :
	       ana == MPVL_ANA_NONOPTIMIZED ? MPATH_STATE_ACTIVE :
	       MPATH_STATE_INVALID;
}

static enum mpath_access_state mpvl_get_access_state(struct mpath_device *d)
{
	struct mpvl_path *p = mpvl_p(d);

	/* the spin watchdog's way out: the path it let through reads optimized */
	if (p->w->escape == p)
		return MPATH_STATE_OPTIMIZED;
	return mpvl_access(p->ana);
}

/* The state is read through get_access_state: nothing to cache. */
static void mpvl_api_set_access(struct mpvl_path *p)
{
}

static void mpvl_api_escape(struct mpvl_path *p)
{
}

static void mpvl_api_unescape(struct mpvl_path *p)
{
}

/* nvme_available_path: every path is considered; available if reachable. */
static bool mpvl_available_path(struct mpath_device *d, bool *available)
{
	*available = mpvl_ctrl_available(d);
	return true;
}

/* The driver's delayed removal (nvme_remove_head_work). */
static void mpvl_remove_head_work(struct work_struct *work)
{
	struct mpath_head *h = container_of(to_delayed_work(work),
					    struct mpath_head, remove_work);

	mpvl_remove_head(h->drvdata);
	module_put(h->drv_module);
}

static const struct mpath_head_template mpvl_mpdt = {
	.available_path		= mpvl_available_path,
	.is_disabled		= mpvl_is_disabled,
	.is_optimized		= mpvl_is_optimized,
	.get_access_state	= mpvl_get_access_state,
	.get_iopolicy		= mpvl_get_iopolicy,
	.device_groups		= mpath_device_groups,
};

static void mpvl_api_init(struct mpvl_world *w)
{
	w->head->mpdt = &mpvl_mpdt;
	w->head->drvdata = w;
	INIT_DELAYED_WORK(&w->head->remove_work, mpvl_remove_head_work);
}

static int mpvl_api_alloc_head_disk(struct mpvl_world *w)
{
	struct queue_limits lim = { };

	w->api.mpd = mpath_alloc_head_disk(&lim, NUMA_NO_NODE);
	if (!w->api.mpd)
		return -ENOMEM;
	w->api.mpd->mpath_head = w->head;
	return 0;
}

static struct gendisk *mpvl_head_gd(struct mpvl_world *w)
{
	return w->api.mpd->disk;
}

static struct work_struct *mpvl_partition_scan_work(struct mpvl_world *w)
{
	return &w->api.mpd->partition_scan_work;
}

static void mpvl_set_live(struct mpvl_world *w, int i)
{
	mpath_device_set_live(w->api.mpd, &w->p[i]->dev);
}

static void mpvl_add_sysfs_link(struct mpvl_world *w)
{
	mpath_add_sysfs_link(w->api.mpd);
}

static void mpvl_remove_sysfs_link(struct mpvl_world *w, int i)
{
	mpath_remove_sysfs_link(w->api.mpd, &w->p[i]->dev);
}

static void mpvl_remove_disk(struct mpvl_world *w)
{
	mpath_remove_disk(w->api.mpd);
}

/*
 * The disk holds the head's initial reference and mpath_free_disk puts it:
 * the suite, which goes on using the head, takes one first. v1's
 * mpath_put_disk flushes nothing: the partition scan is flushed here.
 */
static void mpvl_put_disk(struct mpvl_world *w)
{
	flush_work(&w->api.mpd->partition_scan_work);
	KUNIT_EXPECT_EQ(w->test, mpath_get_head(w->head), 0);
	mpath_put_disk(w->api.mpd);
}

static bool mpvl_clear_current_path(struct mpvl_world *w, int i)
{
	return mpath_clear_current_path(w->head, &w->p[i]->dev);
}

static bool mpvl_devices_empty(struct mpvl_world *w)
{
	bool empty;

	mutex_lock(&w->head->lock);
	empty = list_empty(&w->head->dev_list);
	mutex_unlock(&w->head->lock);
	return empty;
}

/* v1's mpath_delete_device returns nothing: the driver reads the list. */
static bool mpvl_delete_device(struct mpvl_world *w, int i)
{
	mpath_delete_device(w->head, &w->p[i]->dev);
	return mpvl_devices_empty(w);
}

/* nvme_mpath_revalidate_paths' callback: a path of another size is not ready. */
static void mpvl_revalidate_cb(struct mpath_device *d, sector_t capacity)
{
	if (capacity != get_capacity(d->disk))
		mpvl_p(d)->ready = false;
}

static void __maybe_unused mpvl_revalidate_paths(struct mpvl_world *w)
{
	mpath_revalidate_paths(w->api.mpd, mpvl_revalidate_cb);
}

static void mpvl_schedule_requeue(struct mpvl_world *w)
{
	kblockd_schedule_work(&w->head->requeue_work);
}

/* nvme_subsys_iopolicy_update: the library calls it when the policy changes. */
static void mpvl_iopolicy_update(void *data)
{
	mpvl_clear_ctrl_paths(data);
}

static int __maybe_unused mpvl_iopolicy_store(struct mpvl_world *w, const char *buf)
{
	return mpath_iopolicy_store(&w->pol, buf, strlen(buf), mpvl_iopolicy_update, w);
}

static ssize_t __maybe_unused mpvl_numa_nodes_show(struct mpvl_world *w, int i, char *buf)
{
	return mpath_numa_nodes_show(w->head, &w->p[i]->dev, &w->pol, buf);
}

