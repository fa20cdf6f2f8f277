//! The step -> schedule point tables: where each model step runs in the
//! kernel, per backend.

use super::backend::RaceBackend;
use serde_json::Value;

/// Where a model step runs in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// At this schedule point; `true` when the point's object is the step's path.
    Point(&'static str, bool),
    /// No point of its own: runs with the thread's previous point.
    Folded(&'static str),
    /// Touches nothing another thread reads (a preemption point): needs no
    /// point and reorders nothing.
    Local(&'static str),
}

/// One row of the step -> point table: model function, step kind (`s`),
/// an optional `key=value` the step must carry, and where it runs.
pub struct PointRow {
    pub function: &'static str,
    pub kind: &'static str,
    pub detail: Option<(&'static str, &'static str)>,
    pub place: Place,
}

const fn row(function: &'static str, kind: &'static str, detail: Option<(&'static str, &'static str)>, place: Place) -> PointRow {
    PointRow { function, kind, detail, place }
}
use Place::{Folded, Local, Point};

/// nvme-6.12: every model step of the functions a race can run. `"*"`
/// matches any function (as `function`) or any step (as `kind`).
pub const POINTS: &[PointRow] = &[
    // bdev_submit_bio / find_path ops: the harness's mirror of the
    // multipath part of nvme_ns_head_submit_bio().
    row("mpath_bdev_submit_bio", "srcu_lock", None, Point("submit:srcu_read_lock", false)),
    row("mpath_bdev_submit_bio", "use_path_disk", None, Point("submit:submit_bio_noacct", true)),
    row("mpath_bdev_submit_bio", "requeue_add", None, Point("submit:requeue", false)),
    row("mpath_bdev_submit_bio", "bio_fail", None, Point("submit:bio_io_error", false)),
    row("mpath_bdev_submit_bio", "srcu_unlock", None, Point("submit:srcu_read_unlock", false)),
    row("nvme_ns_head_submit_bio", "srcu_lock", None, Point("submit:srcu_read_lock", false)),
    row("nvme_ns_head_submit_bio", "use_path_disk", None, Point("submit:submit_bio_noacct", true)),
    row("submit_bio_noacct", "use_path_disk", None, Point("submit:submit_bio_noacct", true)),
    row("nvme_ns_head_submit_bio", "requeue_add", None, Point("submit:requeue", false)),
    row("nvme_ns_head_submit_bio", "bio_fail", None, Point("submit:bio_io_error", false)),
    row("nvme_ns_head_submit_bio", "srcu_unlock", None, Point("submit:srcu_read_unlock", false)),
    row("bio_queue_enter", "yield", None, Local("the head queue's usage counter: nothing the race reads")),
    row("blk_queue_exit", "yield", None, Local("the head queue's usage counter: nothing the race reads")),
    row("op_find_path", "srcu_lock", None, Point("submit:srcu_read_lock", false)),
    row("op_find_path", "srcu_unlock", None, Point("submit:srcu_read_unlock", false)),
    // multipath.c (the patch's points).
    row("mpath_find_path", "load", Some(("what", "iopolicy")), Point("nvme_find_path:iopolicy", false)),
    row("mpath_round_robin_path", "cp_load", None, Point("nvme_round_robin_path:old", false)),
    // Only in fix-612-rr-removing.patch (the candidate fix for S03a-B).
    row("mpath_round_robin_path", "test_bit", Some(("bit", "removing")), Point("nvme_round_robin_path:removing", true)),
    row("mpath_round_robin_path", "list_singular", None, Point("nvme_round_robin_path:list_is_singular", false)),
    row("mpath_round_robin_path", "load", Some(("what", "is_disabled")), Point("nvme_round_robin_path:singular_disabled", true)),
    row("mpath_round_robin_path", "next_dev", None, Point("nvme_next_ns", true)),
    row("mpath_round_robin_path", "consider", Some(("mode", "round_robin")), Point("nvme_round_robin_path:consider", true)),
    row("mpath_round_robin_path", "consider", Some(("mode", "round_robin_old")), Point("nvme_round_robin_path:consider_old", true)),
    row("mpath_round_robin_path", "cp_store", None, Point("nvme_round_robin_path:assign", true)),
    row("__mpath_find_path", "list_first", None, Point("__nvme_find_path:first", false)),
    row("__mpath_find_path", "consider", None, Point("__nvme_find_path:consider", true)),
    row("__mpath_find_path", "list_next", None, Folded("the `next` of list_for_each_entry_srcu: read at the end of the previous iteration")),
    row("__mpath_find_path", "cp_store", None, Point("__nvme_find_path:assign", true)),
    row("mpath_numa_path", "cp_load", None, Point("nvme_numa_path:cached", false)),
    row("mpath_numa_path", "load", Some(("what", "is_optimized")), Point("nvme_numa_path:is_optimized", true)),
    row("nvme_queue_depth_path", "list_first", None, Point("nvme_queue_depth_path:first", false)),
    row("nvme_queue_depth_path", "consider", None, Point("nvme_queue_depth_path:consider", true)),
    row("nvme_queue_depth_path", "list_next", None, Folded("the `next` of list_for_each_entry_srcu")),
    row("mpath_clear_current_path", "cp_clear_matching", None, Point("nvme_mpath_clear_current_path", true)),
    row("mpath_available_path", "test_bit", Some(("bit", "disk_live")), Point("nvme_available_path:disk_live", false)),
    row("mpath_available_path", "list_first", None, Point("nvme_available_path:first", false)),
    row("mpath_available_path", "load", Some(("what", "is_available")), Point("nvme_available_path:consider", true)),
    row("mpath_available_path", "list_next", None, Folded("the `next` of list_for_each_entry_srcu")),
    // A controller state change: the harness calls the kernel's own
    // nvme_change_ctrl_state() right after this point (the state store is
    // its first shared write, under ctrl->lock, where no thread may park);
    // a change to LIVE then runs nvme_kick_requeue_lists() (multipath.c,
    // the patch's points).
    row("nvme_change_ctrl_state", "change_ctrl_state", None, Point("nvme_change_ctrl_state", false)),
    row("nvme_kick_requeue_lists", "ctrl_srcu_lock", None, Point("nvme_kick_requeue_lists:srcu_read_lock", false)),
    row(
        "nvme_kick_requeue_lists",
        "test_bit",
        Some(("bit", "on_ctrl")),
        Folded("the model walks every path and tests that it is on the controller; the kernel walks ctrl->namespaces (list_for_each_entry_srcu's next)"),
    ),
    row(
        "nvme_kick_requeue_lists",
        "load",
        Some(("what", "ctrl_index")),
        Folded("the model's test that the path is on this controller; the kernel's walk of ctrl->namespaces visits only those"),
    ),
    row("nvme_kick_requeue_lists", "load", Some(("what", "has_head_disk")), Point("nvme_kick_requeue_lists:head_disk", false)),
    // Only in fix-612-live-kick-sync.patch (the candidate fix for ctrl-reset-vs-submit).
    row("nvme_kick_requeue_lists", "synchronize", None, Point("nvme_kick_requeue_lists:synchronize_srcu", false)),
    row("nvme_kick_requeue_lists", "queue_work", Some(("w", "requeue")), Point("nvme_kick_requeue_lists:kblockd_schedule_work", false)),
    row("nvme_kick_requeue_lists", "ctrl_srcu_unlock", None, Point("nvme_kick_requeue_lists:srcu_read_unlock", false)),
    // The work-queue worker running head->requeue_work: the harness's
    // restatement of nvme_requeue_work() (the race's bios are not real bios,
    // so it takes the list but cannot resubmit them; a schedule whose worker
    // resubmits is refused), run by a real kworker that the engine parks.
    row("mpath_requeue_work", "work", None, Point("nvme_requeue_work", false)),
    row("mpath_requeue_work", "requeue_take", None, Point("nvme_requeue_work:bio_list_get", false)),
    // nvme_ns_remove: the harness's mirror (its order is drift-checked
    // against the tree's nvme_ns_remove by `kunit drift`).
    row("nvme_ns_remove", "test_and_set_bit", Some(("bit", "removing")), Point("nvme_ns_remove:test_and_set_bit_removing", true)),
    row("nvme_ns_remove", "clear_bit", Some(("bit", "ready")), Point("nvme_ns_remove:clear_bit_ready", true)),
    row("nvme_ns_remove", "set_capacity", None, Point("nvme_ns_remove:set_capacity", true)),
    row("mpath_synchronize", "synchronize", None, Point("nvme_ns_remove:synchronize_srcu", false)),
    row("nvme_ns_remove", "lock", Some(("m", "subsys")), Point("nvme_ns_remove:mutex_lock_subsys", false)),
    row("mpath_delete_device", "list_del", None, Point("nvme_ns_remove:list_del_rcu", true)),
    row("mpath_delete_device", "list_empty", None, Point("nvme_ns_remove:list_empty", false)),
    row(
        "nvme_ns_remove",
        "set_bit",
        Some(("bit", "head_unlisted")),
        Folded("list_del_init(&head->entry) under subsys->lock follows list_empty with no point of its own: no race thread walks subsys->nsheads"),
    ),
    row("nvme_ns_remove", "unlock", Some(("m", "subsys")), Point("nvme_ns_remove:mutex_unlock_subsys", false)),
    row("nvme_ns_remove", "clear_bit", Some(("bit", "disk_added")), Point("nvme_ns_remove:del_gendisk", true)),
    row("nvme_ns_remove", "clear_bit", Some(("bit", "on_ctrl")), Point("nvme_ns_remove:list_del_ctrl", true)),
    row("nvme_ns_remove", "ctrl_synchronize", None, Point("nvme_ns_remove:synchronize_ctrl_srcu", false)),
    row("ns_freeze_queue_wait", "deref_path", None, Folded("del_gendisk(ns->disk) waiting for the namespace queue's requests: the race engine submits no I/O to a path, so it waits for none")),
    row("nvme_mpath_shutdown_disk", "load", None, Point("nvme_mpath_shutdown_disk", false)),
    row("nvme_mpath_shutdown_disk", "*", None, Folded("the harness's head gendisk is not registered: the restatement does not run nvme_mpath_shutdown_disk's teardown (DISK_LIVE, cdev, synchronize_srcu, requeue kick, del_gendisk)")),
    row("nvme_ns_remove", "free_path", None, Point("nvme_ns_remove:nvme_put_ns", true)),
];

/// The series' lib/multipath.c (v2): the model's v2 steps. A selection runs
/// through mpath_call_for_device() (the library's SRCU read section around
/// its static mpath_find_path(), then our callback): a submit_bio schedule
/// that reaches the requeue or failure branches is refused.
pub const POINTS_LIB: &[PointRow] = &[
    row("mpath_bdev_submit_bio", "srcu_lock", None, Point("mpath_call_for_device:srcu_read_lock", false)),
    row("mpath_bdev_submit_bio", "use_path_disk", None, Point("submit:callback", true)),
    row("mpath_bdev_submit_bio", "srcu_unlock", None, Point("mpath_call_for_device:srcu_read_unlock", false)),
    row("op_find_path", "srcu_lock", None, Point("mpath_call_for_device:srcu_read_lock", false)),
    row("op_find_path", "srcu_unlock", None, Point("mpath_call_for_device:srcu_read_unlock", false)),
    row("mpath_find_path", "load", Some(("what", "iopolicy")), Point("mpath_find_path:iopolicy", false)),
    row("mpath_round_robin_path", "cp_load", None, Point("mpath_round_robin_path:old", false)),
    row("mpath_round_robin_path", "list_singular", None, Point("mpath_round_robin_path:list_is_singular", false)),
    row("mpath_round_robin_path", "load", Some(("what", "is_disabled")), Point("mpath_round_robin_path:singular_disabled", true)),
    row("mpath_round_robin_path", "next_dev", None, Point("mpath_next_dev", true)),
    row("mpath_round_robin_path", "consider", Some(("mode", "round_robin")), Point("mpath_round_robin_path:consider", true)),
    row("mpath_round_robin_path", "consider", Some(("mode", "round_robin_old")), Point("mpath_round_robin_path:consider_old", true)),
    row("mpath_round_robin_path", "cp_store", None, Point("mpath_round_robin_path:assign", true)),
    row("__mpath_find_path", "list_first", None, Point("__mpath_find_path:first", false)),
    row("__mpath_find_path", "consider", None, Point("__mpath_find_path:consider", true)),
    row("__mpath_find_path", "list_next", None, Folded("the `next` of list_for_each_entry_srcu: read at the end of the previous iteration")),
    row("__mpath_find_path", "cp_store", None, Point("__mpath_find_path:assign", true)),
    row("mpath_numa_path", "cp_load", None, Point("mpath_numa_path:cached", false)),
    row("mpath_numa_path", "load", Some(("what", "is_optimized")), Point("mpath_numa_path:is_optimized", true)),
    row("mpath_clear_current_path", "cp_clear_matching", None, Point("mpath_clear_current_path", true)),
    row("mpath_delete_device", "lock", Some(("m", "head")), Point("mpath_delete_device:mutex_lock", false)),
    row("mpath_delete_device", "list_del", None, Point("mpath_delete_device:list_del_rcu", true)),
    row("mpath_delete_device", "list_empty", None, Point("mpath_delete_device:list_empty", false)),
    row("mpath_delete_device", "unlock", Some(("m", "head")), Point("mpath_delete_device:mutex_unlock", false)),
    row("mpath_synchronize", "synchronize", None, Point("mpath_synchronize:synchronize_srcu", false)),
    // The character-device ioctl (S07): the library's mpath_chr_ioctl.
    row("mpath_chr_ioctl", "srcu_lock", None, Point("mpath_chr_ioctl:srcu_read_lock", false)),
    row("mpath_chr_ioctl", "ioctl_begin", None, Point("mpath_chr_ioctl:ioctl_begin", true)),
    row("mpath_chr_ioctl", "srcu_unlock", None, Point("mpath_chr_ioctl:srcu_read_unlock", false)),
    row("mpath_chr_ioctl", "deref_path", None, Point("mpath_chr_ioctl:cdev_ioctl", true)),
    row("mpath_chr_ioctl", "ioctl_finish", None, Point("mpath_chr_ioctl:ioctl_finish", false)),
    // nvme_ns_remove: the series converts no driver; the backend restates
    // NVMe's removal around the library's calls (mpvl_race.h).
    row("nvme_ns_remove", "test_and_set_bit", Some(("bit", "removing")), Point("nvme_ns_remove:test_and_set_bit_removing", true)),
    row("nvme_ns_remove", "clear_bit", Some(("bit", "ready")), Point("nvme_ns_remove:clear_bit_ready", true)),
    row("nvme_ns_remove", "set_capacity", None, Folded("set_capacity(disk, 0) follows the READY clear with no point of its own")),
    row("nvme_ns_remove", "lock", Some(("m", "subsys")), Point("nvme_ns_remove:mutex_lock_subsys", false)),
    row("nvme_ns_remove", "unlock", Some(("m", "subsys")), Folded("the subsystem mutex_unlock follows mpath_delete_device with no point of its own")),
    row("mpath_remove_sysfs_link", "*", None, Folded("the library's mpath_remove_sysfs_link has no point: no race thread reads link bits")),
    row("nvme_ns_remove", "clear_bit", Some(("bit", "disk_added")), Folded("del_gendisk of the path disk happens at the last put in the restatement")),
    row("nvme_ns_remove", "clear_bit", Some(("bit", "on_ctrl")), Folded("the controller's namespace list is not part of the harness world")),
    row(
        "nvme_ns_remove",
        "ctrl_synchronize",
        None,
        Folded("the controller's namespace list is not part of the harness world: no SRCU reader of it to wait for"),
    ),
    row("nvme_ns_remove", "free_path", None, Point("nvme_ns_remove:nvme_put_ns", true)),
    // A revalidation (S03c): the driver's part restated, the library's own
    // mpath_revalidate_paths().
    row("nvme_update_ns_info", "head_take_capacity", None, Point("nvme_update_ns_info:set_capacity", true)),
    row("mpath_revalidate_paths", "srcu_lock", None, Point("mpath_revalidate_paths:srcu_read_lock", false)),
    row("mpath_revalidate_paths", "list_first", None, Point("mpath_revalidate_paths:first", false)),
    row("mpath_revalidate_paths", "load", Some(("what", "capacity_mismatch")), Point("mpath_revalidate_paths:consider", true)),
    row("mpath_revalidate_paths", "list_next", None, Folded("the `next` of list_for_each_entry_srcu: read at the end of the previous iteration")),
    row("nvme_mpath_revalidate_paths_cb", "clear_bit", Some(("bit", "ready")), Point("nvme_mpath_revalidate_paths_cb:clear_bit_ready", true)),
    row("mpath_revalidate_paths", "srcu_unlock", None, Point("mpath_revalidate_paths:srcu_read_unlock", false)),
    row("mpath_revalidate_paths", "cp_clear_all", None, Point("mpath_clear_paths", false)),
    row(
        "mpath_revalidate_paths",
        "queue_work",
        Some(("w", "requeue")),
        Folded("mpath_schedule_requeue_work follows mpath_clear_paths with no point of its own; works are not driven"),
    ),
];

impl RaceBackend {
    /// The step -> point table.
    pub fn points(self) -> &'static [PointRow] {
        match self {
            RaceBackend::Nvme612 => POINTS,
            RaceBackend::LibV2 => POINTS_LIB,
        }
    }
}

/// The C enum of a property the race engine can look for.
pub fn property_c(p: &str) -> Option<&'static str> {
    Some(match p {
        "selection_terminates" => "MPV_RACE_SELECTION_TERMINATES",
        "no_unlinked_path_returned" => "MPV_RACE_NO_UNLINKED_PATH_RETURNED",
        "no_disabled_path_returned" => "MPV_RACE_NO_DISABLED_PATH_RETURNED",
        "optimized_path_preferred" => "MPV_RACE_OPTIMIZED_PATH_PREFERRED",
        "no_stale_path_after_removal" => "MPV_RACE_NO_STALE_PATH_AFTER_REMOVAL",
        "no_use_after_free" => "MPV_RACE_NO_USE_AFTER_FREE",
        "no_stranded_requeue" => "MPV_RACE_NO_STRANDED_REQUEUE",
        _ => return None,
    })
}

fn detail_matches(step: &Value, d: Option<(&str, &str)>) -> bool {
    match d {
        None => true,
        Some((k, v)) => step.get(k).and_then(Value::as_str) == Some(v),
    }
}

/// Where `function`'s step `step` (its revision-JSON form) runs on `backend`.
pub fn place(backend: RaceBackend, function: &str, step: &Value) -> Option<Place> {
    let kind = step.get("s").and_then(Value::as_str)?;
    backend
        .points()
        .iter()
        .find(|r| (r.function == function || r.function == "*") && (r.kind == kind || r.kind == "*") && detail_matches(step, r.detail))
        .map(|r| r.place)
}
