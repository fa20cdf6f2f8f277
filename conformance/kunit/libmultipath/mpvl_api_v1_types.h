/*
 * The v1 API: the head's gendisk lives in a struct mpath_disk, which holds
 * the head's initial reference (mpath_free_disk puts it).
 */
struct mpvl_api {
	struct mpath_disk *mpd;
};

