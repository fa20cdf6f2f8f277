/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mpath-verify: what every KUnit prelude of the suite shares (the nvme-6.12
 * harness, the libmultipath prelude, the race engine and the bench suite):
 * the step log, the expectations that name the trace and step, and the id
 * of a world object from its pointer.
 *
 * A world is any struct with the members
 *	struct kunit *test;	the running case
 *	const char *trace;	the trace file named in diagnostics
 *	int step;		the step the last MPV_STEP announced
 *
 * The KTAP lines these print are what `mpath-verify kunit run/check`
 * parse: a step diagnostic "    # mpv: <trace>:<step> <op>" before the
 * step, and expectation messages "mpv: <trace>:<step>".
 *
 * Generated suites embed this file (the including line is dropped); a
 * hand-written suite includes it through mpv_harness.h.
 */
#ifndef MPV_COMMON_H
#define MPV_COMMON_H

#include <kunit/test.h>

#define MPV_NONE	(-1)	/* a NULL pointer */
#define MPV_UNKNOWN	(-2)	/* a pointer that is no object of the world */

/*
 * A KTAP diagnostic "    # <text>" at the case's indent, at KERN_INFO like
 * kunit_info but without its "<case>: " prefix.
 */
#define MPV_LOG(test, fmt, ...)						\
	kunit_log(KERN_INFO, test, KUNIT_SUBTEST_INDENT "# " fmt, ##__VA_ARGS__)

/*
 * Announce step n of the world's trace ("# mpv: <trace>:<n> <op...>") and
 * remember it for the expectation messages. Call it BEFORE the step.
 */
#define MPV_STEP(w, n, fmt, ...)					\
	do {								\
		typeof(w) _w = (w);					\
									\
		_w->step = (n);						\
		MPV_LOG(_w->test, "mpv: %s:%d " fmt, _w->trace,		\
			_w->step, ##__VA_ARGS__);			\
	} while (0)

/* Expectations whose failure message names the trace and the step. */
#define MPV_EXPECT_EQ(w, actual, expected)				\
	do {								\
		typeof(w) _w = (w);					\
									\
		KUNIT_EXPECT_EQ_MSG(_w->test, (actual), (expected),	\
				    "mpv: %s:%d", _w->trace, _w->step);	\
	} while (0)
#define MPV_EXPECT_STREQ(w, actual, expected)				\
	do {								\
		typeof(w) _w = (w);					\
									\
		KUNIT_EXPECT_STREQ_MSG(_w->test, (actual), (expected),	\
				       "mpv: %s:%d", _w->trace, _w->step); \
	} while (0)
#define MPV_EXPECT_TRUE(w, cond)					\
	do {								\
		typeof(w) _w = (w);					\
									\
		KUNIT_EXPECT_TRUE_MSG(_w->test, (cond),			\
				      "mpv: %s:%d", _w->trace, _w->step); \
	} while (0)
#define MPV_EXPECT_FALSE(w, cond)					\
	do {								\
		typeof(w) _w = (w);					\
									\
		KUNIT_EXPECT_FALSE_MSG(_w->test, (cond),		\
				       "mpv: %s:%d", _w->trace, _w->step); \
	} while (0)

/*
 * The id of a world object from a pointer into it: the index i < n whose
 * objs[i], advanced by off bytes (the pointer's member within the object,
 * 0 for the object itself), is o; MPV_NONE for NULL; MPV_UNKNOWN for a
 * pointer that is none of them (a bug of the harness or the kernel).
 */
static __maybe_unused int mpv_object_id(void *const *objs, int n, size_t off, const void *o)
{
	int i;

	if (!o)
		return MPV_NONE;
	for (i = 0; i < n; i++)
		if (objs[i] && (const char *)objs[i] + off == o)
			return i;
	return MPV_UNKNOWN;
}

#endif /* MPV_COMMON_H */
