// SPDX-License-Identifier: GPL-2.0
/*
 * mpath-verify: hand-written example suite for Linux 6.12 NVMe multipath,
 * using mpv_harness.h. Shows the shape that generated suites follow: one
 * KUnit case per trace, one MPV_STEP diagnostic before every step, every
 * expectation naming the trace and step.
 *
 * UML has no NUMA: numa_node_id() == 0 and nr_node_ids == 1.
 */
#include "mpv_harness.h"

/* numa: the only OPTIMIZED path wins over NONOPTIMIZED ones. */
static void mpv_numa_picks_optimized(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "numa_picks_optimized", 3);

	MPV_STEP(w, 1, "set_ana_state path=0 nonoptimized");
	mpv_set_ana_state(w, 0, NVME_ANA_NONOPTIMIZED);
	MPV_STEP(w, 2, "set_ana_state path=2 nonoptimized");
	mpv_set_ana_state(w, 2, NVME_ANA_NONOPTIMIZED);
	MPV_STEP(w, 3, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
	MPV_STEP(w, 4, "current_path node=0 -> 1");
	MPV_EXPECT_EQ(w, mpv_current_path(w, 0), 1);
}

/* numa: equal distances, first OPTIMIZED in list order wins. */
static void mpv_numa_ties_first(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "numa_ties_first", 3);

	MPV_STEP(w, 1, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 2, "clear_current_path path=0 -> true");
	MPV_EXPECT_TRUE(w, mpv_clear_current_path(w, 0));
	MPV_STEP(w, 3, "set_ana_state path=0 nonoptimized");
	mpv_set_ana_state(w, 0, NVME_ANA_NONOPTIMIZED);
	MPV_STEP(w, 4, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
}

/* numa: no OPTIMIZED path, the first NONOPTIMIZED one is the fallback. */
static void mpv_numa_fallback_nonoptimized(struct kunit *test)
{
	struct mpv_world *w =
		mpv_world_simple(test, "numa_fallback_nonoptimized", 3);

	MPV_STEP(w, 1, "set_ana_state path=0 inaccessible");
	mpv_set_ana_state(w, 0, NVME_ANA_INACCESSIBLE);
	MPV_STEP(w, 2, "set_ana_state path=1 nonoptimized");
	mpv_set_ana_state(w, 1, NVME_ANA_NONOPTIMIZED);
	MPV_STEP(w, 3, "set_ana_state path=2 nonoptimized");
	mpv_set_ana_state(w, 2, NVME_ANA_NONOPTIMIZED);
	MPV_STEP(w, 4, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
	MPV_STEP(w, 5, "current_path node=0 -> 1");
	MPV_EXPECT_EQ(w, mpv_current_path(w, 0), 1);
}

/* numa: a failed search returns NULL and leaves current_path unchanged. */
static void mpv_numa_failed_search_keeps_current(struct kunit *test)
{
	struct mpv_world *w =
		mpv_world_simple(test, "numa_failed_search_keeps_current", 2);

	MPV_STEP(w, 1, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 2, "set_ana_state path=0 inaccessible");
	mpv_set_ana_state(w, 0, NVME_ANA_INACCESSIBLE);
	MPV_STEP(w, 3, "set_ctrl_state ctrl=1 resetting");
	mpv_set_ctrl_state(w, 1, NVME_CTRL_RESETTING);
	MPV_STEP(w, 4, "find_path -> none");
	MPV_EXPECT_EQ(w, mpv_find_path(w), MPV_NONE);
	MPV_STEP(w, 5, "current_path node=0 -> 0 (stale)");
	MPV_EXPECT_EQ(w, mpv_current_path(w, 0), 0);
}

/* round-robin: rotates over three OPTIMIZED paths and wraps. */
static void mpv_rr_rotation(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "rr_rotation", 3);

	MPV_STEP(w, 1, "set_iopolicy round-robin");
	mpv_set_iopolicy(w, NVME_IOPOLICY_RR);
	MPV_STEP(w, 2, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 3, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
	MPV_STEP(w, 4, "find_path -> 2");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 2);
	MPV_STEP(w, 5, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 6, "current_path node=0 -> 0");
	MPV_EXPECT_EQ(w, mpv_current_path(w, 0), 0);
}

/* round-robin: an OPTIMIZED old path is kept over NONOPTIMIZED others. */
static void mpv_rr_keeps_optimized_old(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "rr_keeps_optimized_old", 3);

	MPV_STEP(w, 1, "set_iopolicy round-robin");
	mpv_set_iopolicy(w, NVME_IOPOLICY_RR);
	MPV_STEP(w, 2, "set_ana_state path=0 nonoptimized");
	mpv_set_ana_state(w, 0, NVME_ANA_NONOPTIMIZED);
	MPV_STEP(w, 3, "set_ana_state path=2 nonoptimized");
	mpv_set_ana_state(w, 2, NVME_ANA_NONOPTIMIZED);
	MPV_STEP(w, 4, "set_current_path node=0 path=1");
	mpv_set_current_path(w, 0, 1);
	MPV_STEP(w, 5, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
	MPV_STEP(w, 6, "set_ana_state path=1 inaccessible");
	mpv_set_ana_state(w, 1, NVME_ANA_INACCESSIBLE);
	/* last NONOPTIMIZED in loop order (2, 0) wins */
	MPV_STEP(w, 7, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
}

/* queue-depth: lowest ctrl nr_active wins; current_path is not touched. */
static void mpv_qd_lowest(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "qd_lowest", 3);

	MPV_STEP(w, 1, "set_iopolicy queue-depth");
	mpv_set_iopolicy(w, NVME_IOPOLICY_QD);
	MPV_STEP(w, 2, "set_nr_active ctrl=0 5");
	mpv_set_nr_active(w, 0, 5);
	MPV_STEP(w, 3, "set_nr_active ctrl=1 2");
	mpv_set_nr_active(w, 1, 2);
	MPV_STEP(w, 4, "set_nr_active ctrl=2 7");
	mpv_set_nr_active(w, 2, 7);
	MPV_STEP(w, 5, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
	MPV_STEP(w, 6, "set_nr_active ctrl=1 9");
	mpv_set_nr_active(w, 1, 9);
	MPV_STEP(w, 7, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 8, "current_path node=0 -> none");
	MPV_EXPECT_EQ(w, mpv_current_path(w, 0), MPV_NONE);
}

/* A path with NVME_NS_READY clear is disabled and skipped by the search. */
static void mpv_ready_clear_skipped(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "ready_clear_skipped", 3);

	MPV_STEP(w, 1, "set_ready path=0 false");
	mpv_set_ready(w, 0, false);
	MPV_STEP(w, 2, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
	MPV_STEP(w, 3, "set_ana_pending path=1 true");
	mpv_set_ana_pending(w, 1, true);
	MPV_STEP(w, 4, "clear_current_path path=1 -> true");
	MPV_EXPECT_TRUE(w, mpv_clear_current_path(w, 1));
	MPV_STEP(w, 5, "find_path -> 2");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 2);
}

/* S03c: the numa fast path returns a cached OPTIMIZED path whose READY is clear. */
static void mpv_numa_fast_path_s03c(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "numa_fast_path_s03c", 2);

	MPV_STEP(w, 1, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 2, "set_ready path=0 false");
	mpv_set_ready(w, 0, false);
	MPV_STEP(w, 3, "find_path -> 0 (disabled, cached)");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 4, "set_ctrl_state ctrl=0 resetting");
	mpv_set_ctrl_state(w, 0, NVME_CTRL_RESETTING);
	MPV_STEP(w, 5, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
}

/* revalidate: capacity mismatch clears READY, all slots cleared, requeue kicked. */
static void mpv_revalidate(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "revalidate", 3);

	MPV_STEP(w, 1, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 2, "set_capacity path=1 4096");
	mpv_set_capacity(w, 1, 4096);
	MPV_STEP(w, 3, "revalidate_paths path=0");
	mpv_revalidate_paths(w, 0);
	MPV_STEP(w, 4, "ready path=1 -> false, path=0,2 -> true");
	MPV_EXPECT_FALSE(w, mpv_is_ready(w, 1));
	MPV_EXPECT_TRUE(w, mpv_is_ready(w, 0));
	MPV_EXPECT_TRUE(w, mpv_is_ready(w, 2));
	MPV_STEP(w, 5, "current_path node=0 -> none");
	MPV_EXPECT_EQ(w, mpv_current_path(w, 0), MPV_NONE);
	MPV_STEP(w, 6, "requeue_runs -> 1");
	MPV_EXPECT_EQ(w, mpv_requeue_runs(w), 1);
}

/* delete + clear_ctrl_paths + the 6.12 nvme_ns_remove order. */
static void mpv_delete_and_remove(struct kunit *test)
{
	struct mpv_world *w = mpv_world_simple(test, "delete_and_remove", 3);

	MPV_STEP(w, 1, "find_path -> 0");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 0);
	MPV_STEP(w, 2, "clear_ctrl_paths ctrl=0");
	mpv_clear_ctrl_paths(w, 0);
	MPV_STEP(w, 3, "current_path node=0 -> none");
	MPV_EXPECT_EQ(w, mpv_current_path(w, 0), MPV_NONE);
	MPV_STEP(w, 4, "delete_path path=0");
	mpv_delete_path(w, 0);
	MPV_STEP(w, 5, "find_path -> 1");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 1);
	MPV_STEP(w, 6, "ns_remove path=1 -> true");
	MPV_EXPECT_TRUE(w, mpv_ns_remove(w, 1));
	MPV_STEP(w, 7, "find_path -> 2");
	MPV_EXPECT_EQ(w, mpv_find_path(w), 2);
	MPV_STEP(w, 8, "requeue_runs -> 1");
	MPV_EXPECT_EQ(w, mpv_requeue_runs(w), 1);
}

static struct kunit_case mpv_example_cases[] = {
	KUNIT_CASE(mpv_numa_picks_optimized),
	KUNIT_CASE(mpv_numa_ties_first),
	KUNIT_CASE(mpv_numa_fallback_nonoptimized),
	KUNIT_CASE(mpv_numa_failed_search_keeps_current),
	KUNIT_CASE(mpv_rr_rotation),
	KUNIT_CASE(mpv_rr_keeps_optimized_old),
	KUNIT_CASE(mpv_qd_lowest),
	KUNIT_CASE(mpv_ready_clear_skipped),
	KUNIT_CASE(mpv_numa_fast_path_s03c),
	KUNIT_CASE(mpv_revalidate),
	KUNIT_CASE(mpv_delete_and_remove),
	{}
};

static struct kunit_suite mpv_example_suite = {
	.name = "mpv_nvme612_example",
	.test_cases = mpv_example_cases,
};
kunit_test_suite(mpv_example_suite);
