#include <kunit/test.h>
#include <linux/blkdev.h>
#include <linux/kernfs.h>
#include <linux/multipath.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#define MPVL_MAX 16
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

