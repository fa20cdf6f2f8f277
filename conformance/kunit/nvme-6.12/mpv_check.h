enum { MPV_X_CP, MPV_X_READY, MPV_X_PENDING, MPV_X_LISTED };
static const char *const mpv_x_names[] = { "current_path[node]", "ready", "ana_pending", "on_head_list" };
struct mpv_x { u8 kind; s8 path; s8 want; };

/* One expectation per row; the message names the trace, step and field. */
static void mpv_check(struct mpv_world *w, const struct mpv_x *x, int n)
{
	int i, got;

	for (i = 0; i < n; i++) {
		switch (x[i].kind) {
		case MPV_X_CP:
			got = mpv_current_path(w, x[i].path);
			break;
		case MPV_X_READY:
			got = mpv_is_ready(w, x[i].path);
			break;
		case MPV_X_PENDING:
			got = mpv_is_ana_pending(w, x[i].path);
			break;
		default:
			got = mpv_on_head_list(w, x[i].path);
			break;
		}
		KUNIT_EXPECT_EQ_MSG(w->test, got, (int)x[i].want, "mpv: %s:%d %s path %d",
				    w->trace, w->step, mpv_x_names[x[i].kind], x[i].path);
	}
}

