/* The v2 API: the library reads dev->access_state, set by the driver. */
struct mpvl_api {
	enum mpath_access_state escape_state;	/* the spin watchdog's saved state */
};

