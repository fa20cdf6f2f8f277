/* ---- the v2 API ---- */

static enum mpath_access_state mpvl_access(enum mpvl_ana ana)
{
	return ana == MPVL_ANA_OPTIMIZED ? MPATH_STATE_OPTIMIZED :
	       ana == MPVL_ANA_NONOPTIMIZED ? MPATH_STATE_NONOPTIMIZED :
	       MPATH_STATE_OTHER;
}

static void mpvl_api_set_access(struct mpvl_path *p)
{
	p->dev.access_state = mpvl_access(p->ana);
}

static void mpvl_api_escape(struct mpvl_path *p)
{
	p->w->api.escape_state = p->dev.access_state;
	p->dev.access_state = MPATH_STATE_OPTIMIZED;
}

static void mpvl_api_unescape(struct mpvl_path *p)
{
	p->dev.access_state = p->w->api.escape_state;
}

static bool mpvl_available_path(struct mpath_device *d)
{
	return mpvl_ctrl_available(d);
}

static int mpvl_get_nr_active(struct mpath_device *d)
{
	return mpvl_w(d)->nr_active[mpvl_p(d)->ctrl];
}

static void mpvl_remove_head_cb(struct mpath_head *h)
{
	mpvl_remove_head(h->drvdata);
}

static const struct mpath_head_template mpvl_mpdt = {
	.available_path	= mpvl_available_path,
	.remove_head	= mpvl_remove_head_cb,
	.is_disabled	= mpvl_is_disabled,
	.is_optimized	= mpvl_is_optimized,
	.get_nr_active	= mpvl_get_nr_active,
	.get_iopolicy	= mpvl_get_iopolicy,
};

static void mpvl_api_init(struct mpvl_world *w)
{
	w->head->mpdt = &mpvl_mpdt;
	w->head->drvdata = w;
}

static int mpvl_api_alloc_head_disk(struct mpvl_world *w)
{
	struct queue_limits lim = { };
	int ret = mpath_alloc_head_disk(w->head, &lim, NUMA_NO_NODE);

	if (!ret)
		w->head->disk_groups = mpath_device_groups;
	return ret;
}

static struct gendisk *mpvl_head_gd(struct mpvl_world *w)
{
	return w->head->disk;
}

static struct work_struct *mpvl_partition_scan_work(struct mpvl_world *w)
{
	return &w->head->partition_scan_work;
}

static void mpvl_set_live(struct mpvl_world *w, int i)
{
	mpath_device_set_live(&w->p[i]->dev);
}

static void mpvl_add_sysfs_link(struct mpvl_world *w)
{
	mpath_add_sysfs_link(w->head);
}

static void mpvl_remove_sysfs_link(struct mpvl_world *w, int i)
{
	mpath_remove_sysfs_link(&w->p[i]->dev);
}

static void mpvl_remove_disk(struct mpvl_world *w)
{
	mpath_remove_disk(w->head);
}

static void mpvl_put_disk(struct mpvl_world *w)
{
	mpath_put_disk(w->head);
}

static bool mpvl_clear_current_path(struct mpvl_world *w, int i)
{
	return mpath_clear_current_path(&w->p[i]->dev);
}

static bool mpvl_delete_device(struct mpvl_world *w, int i)
{
	return mpath_delete_device(&w->p[i]->dev);
}

static bool mpvl_devices_empty(struct mpvl_world *w)
{
	return mpath_head_devices_empty(w->head);
}

static void mpvl_not_ready_cb(struct mpath_device *d)
{
	mpvl_p(d)->ready = false;
}

static void __maybe_unused mpvl_revalidate_paths(struct mpvl_world *w)
{
	mpath_revalidate_paths(w->head, mpvl_not_ready_cb);
}

static void mpvl_schedule_requeue(struct mpvl_world *w)
{
	mpath_schedule_requeue_work(w->head);
}

/* The driver's iopolicy store: the library parses, the driver clears. */
static int __maybe_unused mpvl_iopolicy_store(struct mpvl_world *w, const char *buf)
{
	if (!mpath_iopolicy_store(&w->pol, buf, strlen(buf)))
		return -EINVAL;
	mpvl_clear_ctrl_paths(w);
	return strlen(buf);
}

static ssize_t __maybe_unused mpvl_numa_nodes_show(struct mpvl_world *w, int i, char *buf)
{
	return mpath_numa_nodes_show(&w->p[i]->dev, &w->pol, buf);
}

