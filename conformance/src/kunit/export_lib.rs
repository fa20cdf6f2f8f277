//! The `libmultipath` backend: the series' own `lib/multipath.c`, driven
//! through its exported `mpath_*` API, for a tree that carries the series
//! (`mpath-verify series prepare`): v2, or v1 (`export_lib_v1`).
//!
//! Case bodies call only the suite's `mpvl_*` wrappers, so one emitter
//! serves both APIs. The C prelude is a shared head and core (world,
//! template callbacks, paths, removal, selection under the watchdog,
//! observation rows) and one section per API implementing the driver glue
//! that differs (the contract is the prototype block in the core).
//!
//! The suite plays the driver: an NVMe-like template whose callbacks read
//! per-path test state (controller state, READY, ANA), real gendisks for
//! the head (`mpath_alloc_head_disk`) and for each path, and the calls the
//! trace names. Every reported check reads library objects: `dev_list`
//! walked under SRCU, `current_path[]`, the head and device flag bits, the
//! head's kref, its gendisk state, the requeue list. Driver-side fields
//! (READY, ANA pending) are the suite's own state and are counted as not
//! applicable, never as kernel checks.
//!
//! An expected non-termination is confirmed in C: the template's
//! `is_disabled` callback, which the selection loop calls once per path it
//! visits, counts the calls of one selection; past a bound no terminating
//! selection can reach, it records the spin, lets the loop out (that one
//! path reads as usable) and the suite restores `current_path[]` and the
//! path's state, so the trace goes on from the state the reference kept.

use super::export::{c_str, step_text, Case};
use crate::parse::Trace;
use mpath_reference::driver::{ana_to_access, predicates, AccessState, AnaState, CtrlState, DriverKind};
use mpath_reference::ops::{Op, Ret};
use mpath_reference::violation::Kind;
use std::fmt::Write as _;

/// Kconfig/Makefile wiring, quoted in the generated file's header comment.
pub const KCONFIG_FRAGMENT: &str = include_str!("../../kunit/wiring/lib-Kconfig.fragment");
pub const MAKEFILE_FRAGMENT: &str = include_str!("../../kunit/wiring/lib-Makefile.fragment");
pub const KUNITCONFIG: &str = include_str!("../../kunit/libmultipath.kunitconfig");

/// Paths and controllers one case can hold.
pub const LIB_MAX: usize = 16;

/// The head of the suite's C: includes and constants.
const C_HEAD: &str = r##"#include <kunit/test.h>
#include <linux/blkdev.h>
#include <linux/kernfs.h>
#include <linux/multipath.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#define MPVL_MAX 16
#define MPVL_NONE (-1)
#define MPVL_UNKNOWN (-2)
/*
 * A terminating selection asks is_disabled() at most about three times
 * per path (round-robin: the singular test, one pass over the list, the
 * fallback to the old path; numa: one pass). Far past that, it is spinning.
 */
#define MPVL_SPIN_BOUND (64 * MPVL_MAX + 1024)
/* nvme_ns_remove's synchronize points (N2), as the trace's revision has them */
#define MPVL_SYNC1 BIT(0)
#define MPVL_SYNC2 BIT(1)
#define MPVL_SYNC3 BIT(2)

enum mpvl_ctrl { MPVL_CTRL_OTHER, MPVL_CTRL_LIVE, MPVL_CTRL_DELETING, MPVL_CTRL_RECONNECTING };
enum mpvl_ana { MPVL_ANA_OPTIMIZED = 1, MPVL_ANA_NONOPTIMIZED, MPVL_ANA_OTHER };

"##;

/// The suite's world and the template callbacks every revision shares,
/// then the contract each API section implements.
const C_CORE: &str = r##"struct mpvl_world;

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

/* Every expectation names the trace and the step. */
#define MPVL_EXPECT_EQ(w, a, e)						\
	do {								\
		struct mpvl_world *_w = (w);				\
									\
		KUNIT_EXPECT_EQ_MSG(_w->test, (a), (e), "mpv: %s:%d",	\
				    _w->trace, _w->step);		\
	} while (0)
#define MPVL_EXPECT_STREQ(w, a, e)					\
	do {								\
		struct mpvl_world *_w = (w);				\
									\
		KUNIT_EXPECT_STREQ_MSG(_w->test, (a), (e), "mpv: %s:%d",	\
				       _w->trace, _w->step);		\
	} while (0)

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

/* Each step says what it does before it runs. */
static void mpvl_step(struct mpvl_world *w, int n, const char *text)
{
	w->step = n;
	kunit_log(KERN_INFO, w->test, KUNIT_SUBTEST_INDENT "# mpv: %s:%d %s",
		  w->trace, n, text);
}

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
	int i;

	if (!d)
		return MPVL_NONE;
	for (i = 0; i < w->nr; i++)
		if (&w->p[i]->dev == d)
			return i;
	return MPVL_UNKNOWN;
}

static int mpvl_found_cb(struct mpath_device *d)
{
	mpvl_w(d)->found = d;
	return 0;
}

/*
 * The selection through mpath_call_for_device (SRCU, the static
 * mpath_find_path, the callback on the choice), under the spin watchdog.
 * Returns the chosen path, or MPVL_NONE; *spun says whether the
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
		kunit_log(KERN_INFO, w->test, KUNIT_SUBTEST_INDENT
			  "# mpv-finding: %s:%d non-termination reproduced in kernel C: one selection called is_disabled() %lu times without returning (bound %d); let out through path %d",
			  w->trace, w->step, w->calls, MPVL_SPIN_BOUND,
			  mpvl_id(w, &w->escape->dev));
		mpvl_api_unescape(w->escape);
		w->escape = NULL;
		for_each_node(node)
			rcu_assign_pointer(w->head->current_path[node], before[node]);
		mpath_synchronize(w->head);
		return MPVL_NONE;
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
	MPVL_EXPECT_EQ(w, spun, false);
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
	return MPVL_UNKNOWN;
}

static void __maybe_unused mpvl_check(struct mpvl_world *w, const struct mpvl_x *x, int n)
{
	int i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(w->test, mpvl_read(w, &x[i]), (int)x[i].want,
				    "mpv: %s:%d %s %d", w->trace, w->step,
				    mpvl_x_names[x[i].kind], x[i].arg);
}

"##;

/// The v2 API's own state: the watchdog saves the access state it forces.
const C_API_V2_TYPES: &str = r##"/* The v2 API: the library reads dev->access_state, set by the driver. */
struct mpvl_api {
	enum mpath_access_state escape_state;	/* the spin watchdog's saved state */
};

"##;

/// The v2 API section: the driver glue of the v2 series (`mpath_head`
/// carries the gendisk, `drvdata`, `access_state` in the device).
const C_API_V2: &str = r##"/* ---- the v2 API ---- */

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

"##;

/// The C prelude for a tree whose `multipath.h` declares `api`: the
/// shared head and core, then the API's own section.
pub fn prelude(api: crate::series::Api) -> String {
    let (types, body) = match api {
        crate::series::Api::V1 => (super::export_lib_v1::C_API_V1_TYPES, super::export_lib_v1::C_API_V1),
        _ => (C_API_V2_TYPES, C_API_V2),
    };
    let mut core = C_CORE.to_string();
    for (placeholder, c) in predicates_c().expect("the predicate table fits the suite's C encoding (tested)") {
        core = core.replace(placeholder, &c);
    }
    [C_HEAD, types, &core, body].concat()
}

/// `enum mpvl_ctrl`'s enumerators, in declaration order.
const MPVL_CTRL: [&str; 4] = ["MPVL_CTRL_OTHER", "MPVL_CTRL_LIVE", "MPVL_CTRL_DELETING", "MPVL_CTRL_RECONNECTING"];
/// `enum mpvl_ana`'s enumerators, in declaration order.
const MPVL_ANA: [&str; 3] = ["MPVL_ANA_OPTIMIZED", "MPVL_ANA_NONOPTIMIZED", "MPVL_ANA_OTHER"];

/// `expr == A || expr == B ...` over the C enumerators (`enc` of each
/// member of `set`, in `order`), parenthesised when there are several;
/// an error when `set` splits an enumerator's class (two states the C
/// encodes alike, one in the set and one not: the C cannot say it).
fn c_condition<T: Copy + PartialEq + std::fmt::Debug>(
    expr: &str,
    set: &[T],
    all: &[T],
    enc: impl Fn(T) -> &'static str,
    order: &[&str],
) -> Result<String, String> {
    for &a in all {
        for &b in all {
            if enc(a) == enc(b) && set.contains(&a) != set.contains(&b) {
                return Err(format!("{a:?} and {b:?} are both {} in the suite's C, but the predicate table tells them apart", enc(a)));
            }
        }
    }
    let names: Vec<&str> = order.iter().copied().filter(|n| set.iter().any(|&x| enc(x) == *n)).collect();
    let terms: Vec<String> = names.iter().map(|n| format!("{expr} == {n}")).collect();
    Ok(match terms.len() {
        0 => "false".to_string(),
        1 => terms[0].clone(),
        _ => format!("({})", terms.join(" || ")),
    })
}

/// The C bodies of the suite's `is_disabled` / `is_optimized` /
/// `available_path` (placeholders in the core), generated from the one
/// predicate table, `mpath_reference::driver::predicates`: the controller
/// states each accepts, in the suite's encoding (`ctrl_c`, `ana_c`). The
/// suite has no FAILFAST_EXPIRED flag (its traces never set one).
pub fn predicates_c() -> Result<Vec<(&'static str, String)>, String> {
    predicates_c_from(predicates::NVME_CTRL_AVAILABLE, predicates::NVME_CTRL_ENABLED, predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED)
}

/// [`predicates_c`] from given state sets (a test alters them).
pub fn predicates_c_from(
    available: &[CtrlState],
    enabled: &[CtrlState],
    optimized: &[CtrlState],
    ana_optimized: &[AnaState],
) -> Result<Vec<(&'static str, String)>, String> {
    const ANA_ALL: [AnaState; 5] = [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change];
    let ctrl = |expr: &str, set: &[CtrlState]| c_condition(expr, set, &CtrlState::ALL, ctrl_c, &MPVL_CTRL);
    let avail = ctrl("s", available)?;
    let enabled = ctrl("s", enabled)?;
    let optimized = ctrl("mpvl_w(d)->ctrl[mpvl_p(d)->ctrl]", optimized)?;
    let ana = c_condition("mpvl_p(d)->ana", ana_optimized, &ANA_ALL, ana_c, &MPVL_ANA)?;
    // `!(x)` of a single term keeps the parentheses of the C.
    let enabled = enabled.strip_prefix('(').and_then(|e| e.strip_suffix(')')).map(str::to_string).unwrap_or(enabled);
    Ok(vec![
        ("@NVME_CTRL_AVAILABLE@", avail.trim_start_matches('(').trim_end_matches(')').to_string()),
        ("@NVME_CTRL_ENABLED@", enabled),
        ("@NVME_CTRL_OPTIMIZED@", optimized),
        ("@NVME_ANA_OPTIMIZED@", ana),
    ])
}

/// The suite's ANA encoding (`enum mpvl_ana`).
fn ana_c(a: AnaState) -> &'static str {
    match ana_to_access(a) {
        AccessState::Optimized => "MPVL_ANA_OPTIMIZED",
        AccessState::Nonoptimized => "MPVL_ANA_NONOPTIMIZED",
        AccessState::Other => "MPVL_ANA_OTHER",
    }
}

/// The suite's controller encoding (`enum mpvl_ctrl`), after NVMe's
/// `nvme_path_is_disabled` / `nvme_available_path` readings.
fn ctrl_c(s: CtrlState) -> &'static str {
    match s {
        CtrlState::Live => "MPVL_CTRL_LIVE",
        CtrlState::Deleting => "MPVL_CTRL_DELETING",
        CtrlState::Resetting | CtrlState::Connecting => "MPVL_CTRL_RECONNECTING",
        _ => "MPVL_CTRL_OTHER",
    }
}

const IOPOLICY_C: [&str; 3] = ["MPATH_IOPOLICY_NUMA", "MPATH_IOPOLICY_RR", "MPATH_IOPOLICY_QD"];

/// One case being emitted.
struct Emit<'a> {
    out: String,
    checks: usize,
    na: usize,
    /// trace path id -> suite index
    map: Vec<Option<usize>>,
    nr: usize,
    trace: &'a Trace,
    /// Some op may have added the head gendisk (put_disk would then free a
    /// registered disk under the block layer).
    maybe_live: bool,
    /// The step at which the trace expects a NULL dereference.
    oops_at: Option<i64>,
    /// The API the tree declares.
    api: crate::series::Api,
    /// The kernel's NUMA node ids.
    nodes: Vec<i32>,
}

impl Emit<'_> {
    fn line(&mut self, s: &str) {
        self.out.push('\t');
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn idx(&self, p: u32) -> Result<usize, String> {
        self.map.get(p as usize).copied().flatten().ok_or_else(|| format!("path {p} unknown"))
    }

    /// `expr;`, or an expectation on it when the trace states its result.
    fn call(&mut self, expr: &str, want: Option<String>) {
        match want {
            Some(e) => {
                self.checks += 1;
                self.line(&format!("MPVL_EXPECT_EQ(w, {expr}, {e});"));
            }
            None => self.line(&format!("{expr};")),
        }
    }

    fn show(&mut self, show: &str, arg: usize, ret: Option<&Ret>) {
        match ret {
            Some(Ret::Str(x)) => {
                self.checks += 1;
                self.line(&format!("MPVL_EXPECT_STREQ(w, mpvl_show(w, {show}, {arg}), {});", c_str(x)));
            }
            _ => self.line(&format!("mpvl_show(w, {show}, {arg});")),
        }
    }

    fn op(&mut self, step: i64, op: &Op, ret: Option<&Ret>, spin: bool) -> Result<(), String> {
        let h = &self.trace.header;
        match op {
            Op::AddDevice { path, ctrl, ana } => {
                let node = h.ctrl_nodes.get(*ctrl as usize).copied().unwrap_or(-1);
                if node >= 0 && !self.nodes.contains(&node) {
                    return Err(format!("ctrl_nodes name node {node}, which this kernel does not have"));
                }
                let node = if node < 0 { "NUMA_NO_NODE".to_string() } else { node.to_string() };
                let nr = self.nr;
                self.line(&format!("KUNIT_ASSERT_EQ(test, mpvl_add(w, {ctrl}, {}, {node}), {nr});", ana_c(ana.unwrap_or(AnaState::Optimized))));
                let max_paths = self.map.len();
                *self.map.get_mut(*path as usize).ok_or_else(|| format!("step {step}: path {path} out of range (max_paths {max_paths})"))? = Some(nr);
                self.nr += 1;
            }
            Op::AddPath { path, ctrl, capacity, ana, alua: _, missing_ops } => {
                if !missing_ops.is_empty() {
                    return Err(format!("step {step}: add_path with missing block_device_operations only matters to forwarding, which is not driven"));
                }
                let node = h.ctrl_nodes.get(*ctrl as usize).copied().unwrap_or(-1);
                if node >= 0 && !self.nodes.contains(&node) {
                    return Err(format!("ctrl_nodes name node {node}, which this kernel does not have"));
                }
                let node = if node < 0 { "NUMA_NO_NODE".to_string() } else { node.to_string() };
                let nr = self.nr;
                let a = ana.unwrap_or(AnaState::Optimized);
                self.line(&format!("KUNIT_ASSERT_EQ(test, mpvl_add_path(w, {ctrl}, {}, {}, {node}), {nr});", ana_c(a), ana.is_none()));
                if *capacity != mpath_reference::ops::DEFAULT_CAPACITY {
                    self.line(&format!("set_capacity(w->p[{nr}]->dev.disk, {capacity}ULL);"));
                }
                let max_paths = self.map.len();
                *self.map.get_mut(*path as usize).ok_or_else(|| format!("step {step}: path {path} out of range (max_paths {max_paths})"))? = Some(nr);
                self.nr += 1;
                self.maybe_live = true;
            }
            Op::AnaUpdate { path, state } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpvl_ana_update(w, {i}, {});", ana_c(*state)));
                self.maybe_live = true;
            }
            Op::SetLive { path } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpvl_set_live(w, {i});"));
                self.maybe_live = true;
            }
            Op::AddSysfsLink => {
                if !h.head_disk {
                    return Err(format!("step {step}: add_sysfs_link without a head gendisk dereferences NULL"));
                }
                self.line("mpvl_add_sysfs_link(w);");
                self.na += ret.is_some() as usize;
            }
            Op::RemoveSysfsLink { path } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpvl_remove_sysfs_link(w, {i});"));
            }
            Op::RemoveDisk => {
                if self.api == crate::series::Api::V1 && !h.head_disk {
                    return Err(format!("step {step}: remove_disk without a head gendisk: v1's mpath_remove_disk takes the struct mpath_disk a driver without one does not have"));
                }
                self.line("mpvl_remove_disk(w);");
            }
            Op::PutDisk => {
                if self.maybe_live {
                    return Err(format!("step {step}: put_disk after the head gendisk may have been added frees a registered disk under the block layer"));
                }
                self.line("if (w->head_disk) {\n\t\tmpvl_put_disk(w);\n\t\tw->head_disk_put = true;\n\t}");
            }
            Op::AllocHeadDisk { fail, capacity } => {
                if *fail {
                    return Err(format!("step {step}: alloc_head_disk failure injection (blk_alloc_disk returning an error) is not driven"));
                }
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.call(&format!("mpvl_alloc_head_disk(w, {capacity}ULL)"), want);
            }
            Op::RemovePath { path, node: 0 } => {
                let i = self.idx(*path)?;
                let pr = &self.trace.profile;
                let syncs: Vec<&str> = [(pr.remove_sync1, "MPVL_SYNC1"), (pr.remove_sync2, "MPVL_SYNC2"), (pr.remove_sync3, "MPVL_SYNC3")]
                    .iter()
                    .filter(|x| x.0)
                    .map(|x| x.1)
                    .collect();
                let syncs = if syncs.is_empty() { "0".to_string() } else { syncs.join(" | ") };
                self.line(&format!("mpvl_remove_path(w, {i}, {syncs}, {});", pr.delayed_removal));
            }
            Op::RunWorks { node: 0 } => {
                self.line("mpvl_flush_works(w);");
                if let Some(Ret::Works(ws)) = ret {
                    if ws.contains(&mpath_reference::work::Work::RemoveHead) {
                        self.checks += 1;
                        self.line("MPVL_EXPECT_EQ(w, mpvl_run_remove_work(w), true);");
                    }
                    // Which of the self-running works ran at this very step is
                    // timing, not a property of the C.
                    self.na += 1;
                }
            }
            Op::AdvanceTime { .. } => self.line("/* the trace's clock: the removal it makes due runs at run_works */"),
            Op::SetAnaState { path, state } => {
                let i = self.idx(*path)?;
                self.line(&format!("mpvl_set_ana(w, {i}, {});", ana_c(*state)));
            }
            Op::SetCtrlState { ctrl, state } => self.line(&format!("w->ctrl[{ctrl}] = {};", ctrl_c(*state))),
            Op::SetReady { path, ready } => {
                let i = self.idx(*path)?;
                self.line(&format!("w->p[{i}]->ready = {ready};"));
            }
            Op::SetAnaPending { path, pending } => {
                let i = self.idx(*path)?;
                self.line(&format!("w->p[{i}]->ana_pending = {pending};"));
            }
            Op::SetNrActive { ctrl, n } => self.line(&format!("w->nr_active[{ctrl}] = {n};")),
            Op::SetCapacity { path, sectors } => {
                let i = self.idx(*path)?;
                self.line(&format!("set_capacity(w->p[{i}]->dev.disk, {sectors}ULL);"));
            }
            Op::Synchronize => self.line("mpvl_synchronize(w);"),
            Op::FindPath { node } if self.nodes.contains(node) => {
                // Under a spin the return value is the watchdog's, not the
                // kernel's: only the did-not-terminate verdict is checked.
                let want = if spin {
                    None
                } else {
                    match ret {
                        Some(Ret::Path(Some(p))) => Some(self.idx(*p)?.to_string()),
                        Some(Ret::Path(None)) => Some("MPVL_NONE".into()),
                        _ => None,
                    }
                };
                self.checks += 1; // the terminated / did-not-terminate verdict
                self.call(&format!("mpvl_find_path(w, {node}, {spin})"), want);
            }
            Op::CallForDevice { node } if self.nodes.contains(node) => {
                if spin {
                    return Err(format!("step {step}: call_for_device expected not to terminate: only find_path carries the watchdog verdict"));
                }
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.checks += 1; // the terminated verdict, inside
                self.call(&format!("mpvl_call_for_device(w, {node})"), want);
            }
            Op::ClearCurrentPath { path } => {
                let i = self.idx(*path)?;
                self.call(&format!("mpvl_clear_current_path(w, {i})"), ret_bool(ret));
            }
            Op::ClearPaths => self.line("mpvl_clear_paths(w);"),
            Op::DeleteDevice { path } => {
                let i = self.idx(*path)?;
                self.call(&format!("mpvl_delete_device(w, {i})"), ret_bool(ret));
            }
            Op::HeadDevicesEmpty => self.call("mpvl_devices_empty(w)", ret_bool(ret)),
            Op::RevalidatePaths => {
                if !h.head_disk {
                    return Err(format!("step {step}: revalidate_paths without a head gendisk dereferences NULL in get_capacity (the reference reports it; a KUnit run would oops)"));
                }
                self.line("mpvl_revalidate_paths(w);");
            }
            Op::SetIopolicy { val } => {
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.call(&format!("mpvl_set_iopolicy(w, {})", c_str(val)), want);
            }
            Op::IopolicyStore { buf } => {
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.call(&format!("mpvl_iopolicy_store(w, {})", c_str(buf)), want);
            }
            Op::IopolicyShow => self.show("mpvl_iopolicy_show", 0, ret),
            Op::NumaNodesShow { path } => {
                let i = self.idx(*path)?;
                self.show("mpvl_numa_nodes_show", i, ret);
            }
            Op::DelayedRemovalSecsShow => self.show("mpvl_delayed_show", 0, ret),
            Op::DelayedRemovalSecsStore { buf } => {
                let want = match ret {
                    Some(Ret::Int(e)) => Some(e.to_string()),
                    _ => None,
                };
                self.call(&format!("mpvl_delayed_store(w, {})", c_str(buf)), want);
            }
            Op::CanRemoveHead => {
                if !h.head_disk {
                    return Err(format!("step {step}: can_remove_head without a head gendisk schedules an uninitialised remove_work"));
                }
                self.call("mpvl_can_remove_head(w)", ret_bool(ret));
            }
            other => {
                let name = serde_json::to_value(other).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from)).unwrap_or_default();
                return Err(format!("step {step}: {}", not_drivable(&name)));
            }
        }
        Ok(())
    }

    fn expect(&mut self, step: i64, o: &mpath_reference::Observation) -> Result<(), String> {
        let mut rows: Vec<String> = Vec::new();
        if let Some(cp) = &o.current_path {
            for (node, v) in cp.iter().enumerate() {
                let e = match v {
                    None => -1,
                    Some(p) if *p >= 0 => self.idx(*p as u32)? as i64,
                    Some(_) => {
                        return Err(format!(
                            "step {step}: expects an uninitialised current_path pointer (v1 R12), which KUnit cannot read without undefined behaviour"
                        ))
                    }
                };
                rows.push(format!("{{ MPVL_X_CP, {node}, {e} }}"));
            }
        }
        if let Some(list) = &o.dev_list {
            for (p, m) in self.map.iter().enumerate() {
                if let Some(i) = m {
                    let pos = list.iter().position(|x| *x as usize == p).map(|x| x as i64).unwrap_or(-1);
                    rows.push(format!("{{ MPVL_X_LIST_POS, {i}, {pos} }}"));
                }
            }
            rows.push(format!("{{ MPVL_X_LIST_LEN, 0, {} }}", list.len()));
        }
        if let Some(bits) = &o.link_bits {
            for (p, m) in self.map.iter().enumerate() {
                if let Some(i) = m {
                    rows.push(format!("{{ MPVL_X_LINK_BIT, {i}, {} }}", bits.contains(&(p as u32)) as i32));
                }
            }
        }
        if let Some(f) = o.head_flags {
            rows.push(format!("{{ MPVL_X_HEAD_FLAGS, 0, {} }}", f & 3));
        }
        if let Some(r) = o.head_ref {
            rows.push(format!("{{ MPVL_X_HEAD_REF, 0, {r} }}"));
        }
        if let Some(n) = o.requeue_len {
            rows.push(format!("{{ MPVL_X_REQUEUE_LEN, 0, {n} }}"));
        }
        match o.head_disk.as_deref() {
            Some("added") => rows.push("{ MPVL_X_DISK_ADDED, 0, 1 }".into()),
            Some("allocated") | Some("none") => rows.push("{ MPVL_X_DISK_ADDED, 0, 0 }".into()),
            Some(_) => self.na += 1,
            None => {}
        }
        // Driver state held by the suite's template, and what a KUnit case
        // cannot read from the library: not applicable, never a kernel check.
        for f in [o.ready.is_some(), o.ana_pending.is_some(), o.links.is_some(), o.module_refs.is_some(), o.pending_work.is_some(), o.bios_failed.is_some()] {
            if f {
                self.na += 1;
            }
        }
        if let Some(v) = &o.violations {
            // A NULL dereference is an oops the kernel reports by itself: the
            // case stops at it and runs in its own boot. A use-after-free or
            // a wild pointer would go unnoticed without KASAN, or corrupt
            // the kernel under test.
            if let Some(x) = v.iter().find(|x| !matches!(x.kind, Kind::NonTermination | Kind::NullDeref | Kind::NullDisk)) {
                return Err(format!("step {step}: expects a {:?} violation, which a KUnit run without KASAN cannot observe", x.kind));
            }
        }
        if !rows.is_empty() {
            self.checks += rows.len();
            let _ = writeln!(
                self.out,
                "\t{{\n\t\tstatic const struct mpvl_x x[] = {{\n\t\t\t{},\n\t\t}};\n\n\t\tmpvl_check(w, x, ARRAY_SIZE(x));\n\t}}",
                rows.join(",\n\t\t\t")
            );
        }
        Ok(())
    }
}

/// Why an operation is not driven by this backend (each a property of the
/// C under KUnit, or of this backend's reach, said plainly).
fn not_drivable(op: &str) -> String {
    let why = match op {
        "remove_path" => "removal on a node other than 0 needs NUMA",
        "fail_next_add_disk" => "device_add_disk failure injection is not driven",
        "open" | "release" | "head_uninit" => "opening the head block device from a KUnit case is not driven",
        "submit_bio" | "failover" | "complete" => "bio submission, requeue and delayed works need a live head request queue; not driven yet",
        "chr_ioctl" | "uring_cmd" | "forward" => "ioctl / uring / PR forwarding need a real path block device and file",
        "free_path" | "revalidate" | "set_ctrl_node" => "driver-side op the suite's template does not model",
        "set_sdev_state" | "set_alua_state" | "scsi_block" | "set_failfast" => "SCSI driver state",
        _ => "not drivable by the libmultipath suite",
    };
    format!("{op}: {why}")
}

/// A violation of the C's semantics that the compiled kernel does not show,
/// so no KUnit case can observe it.
fn compiled_away(v: &mpath_reference::violation::Violation, p: &mpath_reference::revision::Profile) -> Option<&'static str> {
    // v1 R4: `mpath_head = mpath_disk->mpath_head` comes before
    // `if (!mpath_disk) return;`, but nothing uses the value before the
    // test, and GCC moves the load below it (the built lib/multipath.o
    // starts with `test %rdi,%rdi; je`): with no disk the call returns
    // without a fault. Undefined behaviour all the same.
    (v.kind == Kind::NullDeref && v.function == "mpath_device_set_live" && !p.set_live_checks_disk_first)
        .then_some("expects v1's R4 NULL read in mpath_device_set_live, which the compiled kernel does not perform (GCC moves the unused load of mpath_disk->mpath_head below the NULL test): undefined behaviour no KUnit case can observe")
}

fn ret_bool(ret: Option<&Ret>) -> Option<String> {
    match ret {
        Some(Ret::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// The libmultipath case for one trace, or why it cannot be driven.
/// `prefix`, then the C that declares `w` and builds the trace header's
/// world: the head (and its gendisk), controllers, the setup ops.
fn world_and_setup<'a>(t: &'a Trace, target: &super::export::Target, prefix: &str) -> Result<Emit<'a>, String> {
    let h = &t.header;
    let pol = mpath_reference::iopolicy::IOPOLICY_NAME_LIST.iter().position(|p| *p == h.iopolicy).unwrap_or(0);
    let mut e = Emit {
        out: prefix.to_string(),
        checks: 0,
        na: 0,
        map: vec![None; h.max_paths],
        nr: 0,
        trace: t,
        maybe_live: false,
        oops_at: None,
        api: target.api,
        nodes: target.nodes.clone(),
    };
    // The trace's name on a line of its own: checkpatch lets a string run long.
    let indent = "\t\t\t\t\t      ";
    e.line(&format!(
        "struct mpvl_world *w = mpvl_world_new(test,\n{indent}{},\n{indent}{}, {}, {});",
        c_str(&t.file),
        h.nr_ctrls,
        IOPOLICY_C[pol],
        h.head_disk
    ));
    e.out.push('\n');
    for op in &h.setup {
        e.line(&format!("mpvl_step(w, -1, {});", c_str(&step_text(op))));
        e.op(-1, op, None, false)?;
    }
    Ok(e)
}

/// The world of a race schedule's header on the series (v2 API): the C
/// that declares and builds `w`, and the suite index of each path id.
pub fn race_setup(file: &str, h: &mpath_reference::trace::Header, target: &super::export::Target) -> Result<(String, Vec<Option<usize>>), String> {
    if h.driver != DriverKind::Nvme {
        return Err("the libmultipath suite's template follows NVMe's callbacks; SCSI is not driven".into());
    }
    if h.max_paths > LIB_MAX || h.nr_ctrls > LIB_MAX {
        return Err(format!("more than {LIB_MAX} paths or controllers"));
    }
    let t = Trace { file: file.to_string(), header: h.clone(), profile: h.resolve_profile()?, lines: Vec::new() };
    let e = world_and_setup(&t, target, "")?;
    Ok((e.out, e.map))
}

pub fn case(t: &Trace, case: &str, target: &super::export::Target) -> Result<(String, Case), String> {
    let h = &t.header;
    let api = target.api;
    let want = match api {
        crate::series::Api::V1 => "v1",
        crate::series::Api::V2 => "v2",
        crate::series::Api::Unknown => return Err("the tree's multipath.h declares neither the v1 nor the v2 API of the series".into()),
    };
    if h.driver != DriverKind::Nvme {
        return Err("the libmultipath suite's template follows NVMe's callbacks; SCSI traces are not exported".into());
    }
    if t.profile.name != want {
        return Err(format!("the tree declares the {want} API; this trace's expectations are {}'s", t.profile.name));
    }
    target.accepts(&h.topology)?;
    if h.max_paths > LIB_MAX || h.nr_ctrls > LIB_MAX {
        return Err(format!("more than {LIB_MAX} paths or controllers"));
    }
    let mut e = world_and_setup(t, target, &format!("static void {case}(struct kunit *test)\n{{\n"))?;
    let mut seen_spins = 0usize;
    for (step, (_, l)) in t.lines.iter().enumerate() {
        let step = step as i64;
        // A non-termination first reported at this step is this step's verdict.
        let spins_now =
            l.expect.as_ref().and_then(|o| o.violations.as_ref()).map(|v| v.iter().filter(|x| x.kind == Kind::NonTermination).count()).unwrap_or(seen_spins);
        let spin = spins_now > seen_spins;
        seen_spins = spins_now;
        e.line(&format!("mpvl_step(w, {step}, {});", c_str(&step_text(&l.op))));
        let now =
            l.expect.as_ref().and_then(|o| o.violations.as_ref()).map(|v| v.iter().filter(|x| x.step == step as u64).collect::<Vec<_>>()).unwrap_or_default();
        if let Some(why) = now.iter().find_map(|x| compiled_away(x, &t.profile)) {
            return Err(format!("step {step}: {why}"));
        }
        // Under an expected oops the call is the last thing the case does.
        let oops_here = now.iter().any(|x| matches!(x.kind, Kind::NullDeref | Kind::NullDisk));
        if oops_here {
            e.op(step, &l.op, None, spin)?;
            e.oops_at = Some(step);
            e.line("KUNIT_FAIL(test, \"mpv: expected an oops in the call above; the kernel went on\");");
            break;
        }
        e.op(step, &l.op, l.ret.as_ref(), spin)?;
        if let Some(o) = &l.expect {
            e.expect(step, o)?;
        }
    }
    e.out.push_str("}\n\n");
    let c = Case { trace: t.file.clone(), case: case.to_string(), steps: t.lines.len(), checks: e.checks, not_applicable: e.na, oops_at: e.oops_at };
    Ok((e.out, c))
}

#[cfg(test)]
mod predicate_tests {
    use super::*;

    /// The enumerators a generated `x == A || x == B` condition accepts.
    fn accepted(cond: &str) -> Vec<String> {
        cond.trim_matches(|c| c == '(' || c == ')').split(" || ").map(|t| t.rsplit(" == ").next().unwrap().to_string()).collect()
    }

    fn body(name: &str, gen: &[(&'static str, String)]) -> String {
        gen.iter().find(|(p, _)| *p == name).unwrap().1.clone()
    }

    /// For every controller state, the C condition accepts its enumerator
    /// exactly when the table's set holds the state.
    fn agrees(cond: &str, set: &[CtrlState]) -> Result<(), String> {
        let acc = accepted(cond);
        for s in CtrlState::ALL {
            if acc.iter().any(|a| a == ctrl_c(s)) != set.contains(&s) {
                return Err(format!("{s:?}: C {cond:?} vs table {set:?}"));
            }
        }
        Ok(())
    }

    #[test]
    fn the_prelude_predicates_are_the_tables() {
        let g = predicates_c().unwrap();
        agrees(&body("@NVME_CTRL_AVAILABLE@", &g), predicates::NVME_CTRL_AVAILABLE).unwrap();
        agrees(&body("@NVME_CTRL_ENABLED@", &g), predicates::NVME_CTRL_ENABLED).unwrap();
        agrees(&body("@NVME_CTRL_OPTIMIZED@", &g), predicates::NVME_CTRL_OPTIMIZED).unwrap();
        let ana = accepted(&body("@NVME_ANA_OPTIMIZED@", &g));
        for a in [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change] {
            assert_eq!(ana.iter().any(|x| x == ana_c(a)), predicates::NVME_ANA_OPTIMIZED.contains(&a), "{a:?}");
        }
        for api in [crate::series::Api::V1, crate::series::Api::V2] {
            let p = prelude(api);
            assert!(!p.contains("@NVME_"), "a placeholder left in the prelude");
            for (_, c) in &g {
                assert!(p.contains(c.as_str()), "{c} not in the prelude");
            }
            // The C reads the generated conditions where the callbacks return.
            assert!(p.contains(&format!("return !({}) || p->ana_pending || !p->ready;", body("@NVME_CTRL_ENABLED@", &g))));
        }
    }

    /// A deliberately altered table gives other C, which the check refuses
    /// against the real table; a set the C encoding cannot express (only
    /// one of the two states it encodes as RECONNECTING) is an error.
    #[test]
    fn an_altered_table_is_caught() {
        use CtrlState::*;
        let altered = predicates_c_from(predicates::NVME_CTRL_AVAILABLE, &[Live], predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED).unwrap();
        let enabled = body("@NVME_CTRL_ENABLED@", &altered);
        assert_ne!(enabled, body("@NVME_CTRL_ENABLED@", &predicates_c().unwrap()));
        assert!(agrees(&enabled, predicates::NVME_CTRL_ENABLED).is_err());
        let e =
            predicates_c_from(&[Live, Resetting], predicates::NVME_CTRL_ENABLED, predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED).unwrap_err();
        assert!(e.contains("MPVL_CTRL_RECONNECTING"), "{e}");
    }
}
