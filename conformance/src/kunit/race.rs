//! `kunit race`: a model counterexample's schedule replayed as a forced
//! interleaving in the kernel's own C.
//!
//! The schedule (`mpath_model::schedule`, saved by `check` beside each
//! counterexample trace) lists every shared step of every model thread in
//! the order the model ran them. Each step maps to a *schedule point* of the
//! kernel side ([`POINTS`]): a `MPV_SCHED("<point>", obj)` that
//! `conformance/kunit/race/nvme-6.12-sched.patch` places in 6.12's
//! `drivers/nvme/host/multipath.c`, or a point of the harness's mirrors of
//! `nvme_ns_remove()` / `nvme_ns_head_submit_bio()` (`mpv_race.h`). A step
//! with no point of its own (a list-walk `next` inside
//! `list_for_each_entry_srcu`, a lock 6.12 does not take) runs in the
//! kernel with the same thread's previous point; when another thread's step
//! lies between them in the model, the run says so (an approximation, not
//! a silent reordering). A step of a function the table does not know is
//! refused: the replay never guesses.
//!
//! The generated suite (one KUnit case) starts one kthread per model thread,
//! releases them point by point in the model's order, and prints a verdict:
//! REPRODUCED (the property's consequence, read from kernel objects) or
//! NOT-REPRODUCED (where the kernel left the schedule, both positions).

use super::export::{c_str, NVME612_HARNESS};
use crate::exit::Exit;
use mpath_reference::ops::Op;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The race engine, embedded in generated suites.
pub const RACE_ENGINE: &str = include_str!("../../kunit/race/mpv_race_core.h");
/// Its nvme-6.12 backend (after the core).
pub const RACE_NVME: &str = include_str!("../../kunit/nvme-6.12/mpv_race.h");
/// Its libmultipath (v2 API) backend (after the core).
pub const RACE_LIB: &str = include_str!("../../kunit/race/mpvl_race.h");

/// The kernel C a schedule runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RaceBackend {
    /// Linux 6.12's drivers/nvme/host/multipath.c.
    Nvme612,
    /// The series' lib/multipath.c, v2 API.
    LibV2,
}

impl RaceBackend {
    /// By the reference profile the schedule's traces use (a mutant's is
    /// its base's).
    pub fn of(input: &RaceInput) -> Result<RaceBackend, String> {
        match input.header.revision.as_str() {
            "nvme-6.12" => Ok(RaceBackend::Nvme612),
            "v2" => Ok(RaceBackend::LibV2),
            other => Err(format!(
                "{}: revision {} (reference profile {other}): kunit race replays nvme-6.12 schedules on Linux 6.12 and v2 schedules on the series' lib/multipath.c",
                input.file, input.revision
            )),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            RaceBackend::Nvme612 => "nvme-6.12",
            RaceBackend::LibV2 => "libmultipath v2",
        }
    }
    /// The step -> point table.
    pub fn points(self) -> &'static [PointRow] {
        match self {
            RaceBackend::Nvme612 => POINTS,
            RaceBackend::LibV2 => POINTS_LIB,
        }
    }
    /// The schedule-point patch (under conformance/kunit).
    pub fn patch(self) -> &'static str {
        match self {
            RaceBackend::Nvme612 => SCHED_PATCH,
            RaceBackend::LibV2 => "race/lib-v2-sched.patch",
        }
    }
    /// The file the patch points, in the tree.
    pub fn file(self) -> &'static str {
        match self {
            RaceBackend::Nvme612 => "drivers/nvme/host/multipath.c",
            RaceBackend::LibV2 => "lib/multipath.c",
        }
    }
}
/// The schedule-point patch for 6.12's multipath.c.
pub const SCHED_PATCH: &str = "race/nvme-6.12-sched.patch";
/// The property only a KASAN build can observe.
pub const NEEDS_KASAN: &str = "no_use_after_free";
/// KUnit suite name of race runs.
pub const RACE_SUITE: &str = "mpath_verify_race";

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

/// The statements the harness's mirrors restate, located in the given tree
/// so that a mirror point reports the kernel line it stands for: macro,
/// file, the function's definition, a pattern and which occurrence of it.
const MIRROR_SITES: &[(&str, &str, &str, &str, usize)] = &[
    ("MPV_L_SUBMIT_LOCK", "drivers/nvme/host/multipath.c", "static void nvme_ns_head_submit_bio(struct bio *bio)", "srcu_read_lock(&head->srcu)", 0),
    ("MPV_L_SUBMIT_BIO", "drivers/nvme/host/multipath.c", "static void nvme_ns_head_submit_bio(struct bio *bio)", "submit_bio_noacct(bio)", 0),
    ("MPV_L_REQUEUE", "drivers/nvme/host/multipath.c", "static void nvme_ns_head_submit_bio(struct bio *bio)", "bio_list_add(&head->requeue_list", 0),
    ("MPV_L_FAIL", "drivers/nvme/host/multipath.c", "static void nvme_ns_head_submit_bio(struct bio *bio)", "bio_io_error(bio)", 0),
    ("MPV_L_SUBMIT_UNLOCK", "drivers/nvme/host/multipath.c", "static void nvme_ns_head_submit_bio(struct bio *bio)", "srcu_read_unlock(&head->srcu", 0),
    ("MPV_L_REMOVING", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "test_and_set_bit(NVME_NS_REMOVING", 0),
    ("MPV_L_READY", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "clear_bit(NVME_NS_READY", 0),
    ("MPV_L_CAPACITY", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "set_capacity(ns->disk, 0)", 0),
    ("MPV_L_SYNC1", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "synchronize_srcu(&ns->head->srcu)", 0),
    ("MPV_L_SYNC2", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "synchronize_srcu(&ns->head->srcu)", 1),
    ("MPV_L_LOCK", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "mutex_lock(&ns->ctrl->subsys->lock)", 0),
    ("MPV_L_DEL", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "list_del_rcu(&ns->siblings)", 0),
    ("MPV_L_EMPTY", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "list_empty(&ns->head->list)", 0),
    ("MPV_L_UNLOCK", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "mutex_unlock(&ns->ctrl->subsys->lock)", 0),
    ("MPV_L_SYNC3", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "synchronize_srcu(&ns->head->srcu)", 2),
    ("MPV_L_DELGD", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "del_gendisk(ns->disk)", 0),
    ("MPV_L_DELCTRL", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "list_del_rcu(&ns->list)", 0),
    ("MPV_L_SYNCCTRL", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "synchronize_srcu(&ns->ctrl->srcu)", 0),
    ("MPV_L_SHUTDOWN", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "nvme_mpath_shutdown_disk(", 0),
    ("MPV_L_PUT", "drivers/nvme/host/core.c", "static void nvme_ns_remove(struct nvme_ns *ns)", "nvme_put_ns(ns)", 0),
    ("MPV_L_CHANGE_STATE", "drivers/nvme/host/core.c", "bool nvme_change_ctrl_state(struct nvme_ctrl *ctrl,", "spin_lock_irqsave(&ctrl->lock, flags)", 0),
    ("MPV_L_REQUEUE_WORK", "drivers/nvme/host/multipath.c", "static void nvme_requeue_work(struct work_struct *work)", "spin_lock_irq(&head->requeue_lock)", 0),
    ("MPV_L_REQUEUE_GET", "drivers/nvme/host/multipath.c", "static void nvme_requeue_work(struct work_struct *work)", "bio_list_get(&head->requeue_list)", 0),
];

/// `#define MPV_L_* <encoded line>` for every mirror site, located in
/// `tree` (0 where the tree has no such statement, or no tree is given).
pub fn mirror_defines(tree: Option<&Path>) -> String {
    let mut out = String::from("/* the tree's lines of the statements the mirrors restate */\n");
    let mut cache: std::collections::BTreeMap<&str, Option<String>> = std::collections::BTreeMap::new();
    for (mac, file, def, pat, nth) in MIRROR_SITES {
        let src = cache.entry(file).or_insert_with(|| tree.and_then(|t| std::fs::read_to_string(t.join(file)).ok()));
        let line = src.as_deref().and_then(|src| {
            let body = super::drift::function_body(src, def)?;
            let start = body.as_ptr() as usize - src.as_ptr() as usize;
            let (off, _) = body.match_indices(pat).nth(*nth)?;
            Some(src[..start + off].matches('\n').count() + 1)
        });
        let base = if file.ends_with("core.c") { 200000 } else { 100000 };
        let _ = writeln!(out, "#define {mac} {}", line.map(|l| base + l).unwrap_or(0));
    }
    out
}

/// The point the harness passes just before it calls the kernel's own
/// nvme_change_ctrl_state(); its line is the kernel's first shared write.
pub const KERNEL_CALL_POINT: &str = "nvme_change_ctrl_state";

/// Points that sit in the harness's mirrors, not in multipath.c.
pub fn is_mirror_point(p: &str) -> bool {
    p.starts_with("submit:")
        || p.starts_with("nvme_ns_remove:")
        || p == "nvme_mpath_shutdown_disk"
        || p == "nvme_change_ctrl_state"
        || p.starts_with("nvme_requeue_work")
        || p.starts_with("nvme_update_ns_info:")
        || p.starts_with("nvme_mpath_revalidate_paths_cb:")
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

/// A schedule step as the race needs it.
#[derive(Clone, Debug)]
pub struct RStep {
    pub thread: usize,
    pub function: String,
    pub primitive: String,
    pub step: Value,
    /// The path the step acts on: `Some(Some(id))`, `Some(None)` for NULL,
    /// `None` when the schedule names none.
    pub path: Option<Option<u32>>,
}

/// What the generator reads from a schedule.
#[derive(Clone, Debug)]
pub struct RaceInput {
    pub file: String,
    pub revision: String,
    pub scenario: String,
    pub property: String,
    pub violation: String,
    pub header: mpath_reference::trace::Header,
    pub threads: Vec<(String, Vec<Op>)>,
    pub steps: Vec<RStep>,
}

impl RaceInput {
    /// Reads a schedule file (`mpath_model::schedule`); errors are one line
    /// naming the file.
    pub fn load(path: &Path) -> Result<RaceInput, String> {
        let s = mpath_model::schedule::Schedule::load(path).map_err(|e| e.to_string())?;
        let file = path.display().to_string();
        let steps = s
            .steps
            .iter()
            .map(|st| {
                let step = serde_json::to_value(&st.step).unwrap_or(Value::Null);
                let obj = serde_json::to_value(&st.objects).unwrap_or(Value::Null);
                let path = match obj.get("path") {
                    None => None,
                    Some(Value::Null) => Some(None),
                    Some(v) => v.as_u64().map(|p| Some(p as u32)),
                };
                RStep { thread: st.thread, function: st.function.clone(), primitive: st.primitive.clone(), step, path }
            })
            .collect();
        Ok(RaceInput {
            file,
            revision: s.revision.clone(),
            scenario: s.scenario.clone(),
            property: s.property.clone(),
            violation: s.violation_text.clone(),
            header: s.header.clone(),
            threads: s.threads.iter().map(|t| (t.name.clone(), t.ops.clone())).collect(),
            steps,
        })
    }
}

/// A hooked step of the generated table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HookedStep {
    pub model_index: usize,
    pub thread: usize,
    pub point: String,
    /// Expected path: id, -1 NULL, -3 not checked.
    pub path: i64,
}

/// The generated suite and what the generator could not place exactly.
#[derive(Clone, Debug, Serialize)]
pub struct RaceSuite {
    #[serde(skip)]
    pub source: String,
    pub case: String,
    pub hooked: Vec<HookedStep>,
    /// Steps that run with their thread's previous point although another
    /// thread's step lies between them in the model.
    pub approximations: Vec<String>,
    pub backend: RaceBackend,
}

/// The world of a schedule's header. A setup `add_path` (driver path
/// arrival: nvme_init_ns_head's list add, then nvme_mpath_set_live) is
/// driven as the harness's path add with its ANA state plus
/// NVME_NSHEAD_DISK_LIVE on the head: the flag set_live sets, without the
/// head gendisk registration a KUnit test cannot do (nothing in the race
/// engine reaches that disk).
pub fn race_setup(h: &mpath_reference::trace::Header) -> Result<(String, Vec<Option<usize>>), String> {
    let mut h2 = h.clone();
    let mut live = false;
    // The works set_live queues (partition scan, a requeue kick of an empty
    // list) touch nothing the race reads: a setup `run_works` is dropped.
    h2.setup.retain(|op| !matches!(op, Op::RunWorks { .. }));
    for op in h2.setup.iter_mut() {
        if let Op::AddPath { path, ctrl, capacity, ana, alua, missing_ops } = op {
            if ana.is_none() || alua.is_some() || !missing_ops.is_empty() || *capacity != mpath_reference::ops::DEFAULT_CAPACITY {
                return Err(format!("add_path of path {path}: only NVMe paths with an ANA state and the default capacity are driven"));
            }
            *op = Op::AddDevice { path: *path, ctrl: *ctrl, ana: *ana };
            live = true;
        }
    }
    let (mut lines, map) = super::export::nvme612_setup_lines(&h2, &super::export::Target::uml())?;
    if live {
        lines.push_str("\t/* add_path: nvme_mpath_set_live's flag, without registering the head disk */\n");
        lines.push_str("\tset_bit(NVME_NSHEAD_DISK_LIVE, &w->head->flags);\n");
    }
    // What set_live leaves behind that the path add does not: current_path[]
    // (its __nvme_find_path for an optimized path) and the path flags, as
    // the reference has them after the full setup.
    let obs = h.instantiate()?.observe();
    lines.push_str("\t/* the state the setup leaves, from the reference */\n");
    for (node, cp) in obs.current_path.unwrap_or_default().iter().enumerate() {
        let v = match cp {
            None => "MPV_NONE".to_string(),
            Some(p) if *p >= 0 => map.get(*p as usize).copied().flatten().ok_or_else(|| format!("current_path names path {p}, not added"))?.to_string(),
            Some(_) => return Err("the setup leaves a junk current_path".into()),
        };
        let _ = writeln!(lines, "\tmpv_set_current_path(w, {}, {v});", h.topology.possible[node]);
    }
    let ready = obs.ready.unwrap_or_default();
    let pending = obs.ana_pending.unwrap_or_default();
    for (p, idx) in map.iter().enumerate() {
        if let Some(i) = idx {
            if !ready.contains(&(p as u32)) {
                let _ = writeln!(lines, "\tmpv_set_ready(w, {i}, false);");
            }
            if pending.contains(&(p as u32)) {
                let _ = writeln!(lines, "\tmpv_set_ana_pending(w, {i}, true);");
            }
        }
    }
    Ok((lines, map))
}

/// Builds the case for `input` on its backend. Errors say why the schedule
/// cannot be replayed (exit 2).
pub fn generate(input: &RaceInput) -> Result<RaceSuite, String> {
    let f = &input.file;
    let backend = RaceBackend::of(input)?;
    let prop = property_c(&input.property).ok_or_else(|| format!("{f}: property {}: the race engine has no kernel-side check for it", input.property))?;
    if input.threads.len() > 8 {
        return Err(format!("{f}: {} threads; the race engine runs at most 8", input.threads.len()));
    }
    let (setup, map) = match backend {
        RaceBackend::Nvme612 => race_setup(&input.header),
        RaceBackend::LibV2 => super::export_lib::race_setup(&input.file, &input.header, &super::export::Target::uml()),
    }
    .map_err(|e| format!("{f}: setup: {e}"))?;
    let harness =
        |p: u32| -> Result<usize, String> { map.get(p as usize).copied().flatten().ok_or_else(|| format!("{f}: path {p} is not added by the setup")) };
    let mut spec = String::new();
    for (name, ops) in &input.threads {
        if ops.len() > 8 {
            return Err(format!("{f}: thread {name} has {} operations; at most 8", ops.len()));
        }
        let mut cells = Vec::new();
        for op in ops {
            cells.push(match op {
                Op::SubmitBio { node } | Op::FindPath { node } | Op::ChrIoctl { node, .. } if *node != 0 => {
                    return Err(format!("{f}: thread {name} selects on node {node}; races run under UML, node 0 only"))
                }
                Op::SubmitBio { .. } => "{MPV_RACE_SUBMIT_BIO, 0}".to_string(),
                Op::FindPath { .. } => "{MPV_RACE_FIND_PATH, 0}".to_string(),
                Op::RemovePath { path, .. } if backend == RaceBackend::Nvme612 => format!("{{MPV_RACE_REMOVE_PATH, {}}}", harness(*path)?),
                Op::SetCtrlState { ctrl, state } if backend == RaceBackend::Nvme612 => {
                    if *ctrl as usize >= input.header.nr_ctrls {
                        return Err(format!("{f}: thread {name}: set_ctrl_state of controller {ctrl}; the header has {}", input.header.nr_ctrls));
                    }
                    format!("{{MPV_RACE_SET_CTRL_STATE, {ctrl}, {}}}", state.kernel_name())
                }
                Op::DeleteDevice { path } if backend == RaceBackend::LibV2 => format!("{{MPV_RACE_DELETE_DEVICE, {}}}", harness(*path)?),
                Op::RemovePath { path, .. } if backend == RaceBackend::LibV2 => format!("{{MPV_RACE_REMOVE_PATH, {}}}", harness(*path)?),
                Op::Revalidate { path } if backend == RaceBackend::LibV2 => format!("{{MPV_RACE_REVALIDATE, {}}}", harness(*path)?),
                Op::ChrIoctl { kind, .. } if backend == RaceBackend::LibV2 => {
                    format!("{{MPV_RACE_CHR_IOCTL, 0, {}}}", u8::from(*kind == mpath_reference::driver::IoctlKind::Ctrl))
                }
                other => {
                    return Err(format!(
                        "{f}: thread {name}: operation {} is not driven by the race engine on {} yet (nvme-6.12: submit_bio, find_path, remove_path, set_ctrl_state; the series: submit_bio, find_path, delete_device, remove_path, chr_ioctl, revalidate)",
                        serde_json::to_string(other).unwrap_or_default(),
                        backend.name()
                    ))
                }
            });
        }
        let _ = writeln!(spec, "\t{{ {}, {}, {{ {} }} }},", c_str(name), ops.len(), cells.join(", "));
    }
    // The work-queue worker (thread index threads.len()): driven on 6.12
    // when all it does is take the requeue list (nvme_requeue_work run by
    // a real kworker, parked at the restatement's points).
    let worker = input.threads.len();
    if let Some((i, st)) = input.steps.iter().enumerate().find(|(_, st)| st.thread > worker) {
        return Err(format!("{f}: step {i}: thread {} does not exist", st.thread));
    }
    if let Some((i, st)) = input.steps.iter().enumerate().find(|(_, st)| st.thread == worker) {
        if backend != RaceBackend::Nvme612 {
            return Err(format!("{f}: step {i}: the work-queue worker ({}); works are driven on nvme-6.12 only", st.function));
        }
        if let Some((j, st)) = input.steps.iter().enumerate().find(|(_, st)| st.thread == worker && st.function != "mpath_requeue_work") {
            return Err(format!(
                "{f}: step {j}: the work-queue worker runs {} `{}`; only head->requeue_work taking the list is driven (the race's bios are not real bios, so the worker's resubmission is not)",
                st.function, st.primitive
            ));
        }
        if input.threads.len() + 1 > 8 {
            return Err(format!("{f}: {} threads and the worker; the race engine runs at most 8", input.threads.len()));
        }
        let _ = writeln!(spec, "\t{{ \"worker\", 0, {{ }}, true }},");
    }
    let mut hooked = Vec::new();
    let mut approximations = Vec::new();
    let name_of = |t: usize| if t == worker { "worker" } else { input.threads[t].0.as_str() };
    // Per thread: index (in input.steps) of its last step that has a point.
    let mut last_point: Vec<Option<usize>> = vec![None; input.threads.len() + 1];
    for (i, st) in input.steps.iter().enumerate() {
        match place(backend, &st.function, &st.step) {
            None => {
                return Err(format!(
                    "{f}: step {i}: {} `{}` has no schedule point on {} (conformance/src/kunit/race.rs)",
                    st.function,
                    st.primitive,
                    backend.name()
                ));
            }
            Some(Place::Point(p, carries)) => {
                let path = match (carries, st.path) {
                    (true, Some(Some(id))) => harness(id)? as i64,
                    (true, Some(None)) => -1,
                    _ => -3,
                };
                hooked.push(HookedStep { model_index: i, thread: st.thread, point: p.to_string(), path });
                last_point[st.thread] = Some(i);
            }
            Some(Place::Local(_)) => {}
            Some(Place::Folded(why)) => {
                let from = last_point[st.thread].map(|j| j + 1).unwrap_or(0);
                let between: Vec<usize> = (from..i).filter(|&j| input.steps[j].thread != st.thread).collect();
                if !between.is_empty() {
                    approximations.push(format!(
                        "model step {i} ({}: {} `{}`) runs in the kernel before model step(s) {:?} of other threads ({why})",
                        name_of(st.thread),
                        st.function,
                        st.primitive,
                        between
                    ));
                }
            }
        }
    }
    let case = super::export::c_ident("mpv_race_", &format!("{}_{}_{}", input.revision, input.scenario, input.property));
    let mut s = String::new();
    let _ = writeln!(s, "/* {}: revision {}, scenario {}, property {} */", input.file.replace("*/", "* /"), input.revision, input.scenario, input.property);
    let _ = writeln!(s, "/* model: {} */", input.violation.replace("*/", "* /"));
    let _ = writeln!(s, "static const struct mpv_race_thread_spec {case}_threads[] = {{\n{spec}}};\n");
    let _ = writeln!(s, "static const struct mpv_race_step {case}_steps[] = {{");
    for h in &hooked {
        let path = match h.path {
            -1 => "MPV_RACE_NULL".to_string(),
            -3 => "MPV_RACE_ANY".to_string(),
            p => p.to_string(),
        };
        let _ = writeln!(s, "\t{{ {}, {}, {}, {path} }},", h.model_index, h.thread, c_str(&h.point));
    }
    s.push_str("};\n\n");
    let _ = writeln!(s, "static void {case}(struct kunit *test)\n{{");
    match backend {
        RaceBackend::Nvme612 => {
            let _ = writeln!(s, "\tstruct mpv_world *w;\n\n\tMPV_RACE_LOG(test, \"mpv-race-case: {case}\");");
            let _ = writeln!(s, "\tw = mpv_world_new(test, {});", c_str(&input.file));
            s.push_str(&setup);
            s.push_str("\tmpv_race_prepare(w);\n");
        }
        RaceBackend::LibV2 => {
            // The prelude's world declaration comes first; the case line
            // still opens the case's diagnostics.
            s.push_str(&setup);
            let _ = writeln!(s, "\tMPV_RACE_LOG(test, \"mpv-race-case: {case}\");");
            s.push_str("\tmpvl_race_prepare(w);\n");
        }
    }
    let _ = writeln!(
        s,
        "\tMPV_RACE_LOG(test, \"mpv-race-schedule: %s revision %s scenario %s property %s: %d hooked steps\", {}, {}, {}, {}, {});",
        c_str(&input.file),
        c_str(&input.revision),
        c_str(&input.scenario),
        c_str(&input.property),
        hooked.len()
    );
    let _ = writeln!(s, "\tmpv_race_run(test, w, {prop}, {case}_threads, ARRAY_SIZE({case}_threads),\n\t\t     {case}_steps, ARRAY_SIZE({case}_steps));\n}}\n");
    Ok(RaceSuite { source: s, case, hooked, approximations, backend })
}

/// One KUnit suite holding a case per schedule (cases keep the schedules'
/// order; a name used twice gets a suffix).
pub fn assemble(mut cases: Vec<RaceSuite>, defines: &str) -> (String, Vec<RaceSuite>) {
    let backend = cases.first().map(|c| c.backend).unwrap_or(RaceBackend::Nvme612);
    let mut used = std::collections::BTreeSet::new();
    for c in cases.iter_mut() {
        let base = c.case.clone();
        let mut k = 1;
        while !used.insert(c.case.clone()) {
            k += 1;
            c.case = format!("{base}_{k}");
            c.source = c.source.replace(&base, &c.case);
        }
    }
    let mut s = String::new();
    s.push_str("// SPDX-License-Identifier: GPL-2.0\n");
    s.push_str("/*\n * Generated by `mpath-verify kunit race`. Do not edit.\n * One case per model counterexample schedule, replayed as a forced\n * interleaving of 6.12's own multipath C (mpv_race.h).\n */\n\n");
    match backend {
        RaceBackend::Nvme612 => {
            s.push_str("/* ---- mpv_harness.h (static harness, embedded) ---- */\n");
            s.push_str(NVME612_HARNESS);
            s.push('\n');
            s.push_str(defines);
        }
        RaceBackend::LibV2 => {
            s.push_str("/* ---- the libmultipath suite's prelude (v2 API) ---- */\n");
            let _ = writeln!(
                s,
                "/* the reference's DEFAULT_CAPACITY: head and path disks start with it */\n#define MPVL_CAPACITY {}ULL\n",
                mpath_reference::ops::DEFAULT_CAPACITY
            );
            s.push_str(&super::export_lib::prelude(crate::series::Api::V2));
        }
    }
    s.push_str("\n/* ---- mpv_race_core.h (race engine, embedded) ---- */\n");
    s.push_str(RACE_ENGINE);
    match backend {
        RaceBackend::Nvme612 => {
            s.push_str("\n/* ---- nvme-6.12/mpv_race.h (its nvme-6.12 backend, embedded) ---- */\n");
            s.push_str(RACE_NVME);
        }
        RaceBackend::LibV2 => {
            s.push_str("\n/* ---- race/mpvl_race.h (its libmultipath backend, embedded) ---- */\n");
            s.push_str(RACE_LIB);
        }
    }
    s.push_str("\n/* ---- generated from the schedules ---- */\n\n");
    for c in &cases {
        s.push_str(&c.source);
        s.push('\n');
    }
    let _ = writeln!(s, "static struct kunit_case {RACE_SUITE}_cases[] = {{");
    for c in &cases {
        let _ = writeln!(s, "\tKUNIT_CASE({}),", c.case);
    }
    s.push_str("\t{}\n};\n\n");
    let _ = writeln!(s, "static struct kunit_suite {RACE_SUITE}_suite = {{\n\t.name = {},\n\t.test_cases = {RACE_SUITE}_cases,\n}};\n", c_str(RACE_SUITE));
    let _ = writeln!(s, "kunit_test_suites(&{RACE_SUITE}_suite);");
    (s, cases)
}

/// The verdict of one race run, parsed from the KTAP.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RaceResult {
    pub schedule: String,
    /// The KUnit case that ran it.
    pub case: String,
    pub reproduced: Option<bool>,
    pub verdict: String,
    /// `mpv-race-*` diagnostics in order, `line=N` of multipath.c points
    /// turned into the unpatched file's line numbers.
    pub log: Vec<String>,
    pub approximations: Vec<String>,
    pub kernel_reports: Vec<String>,
    pub mutant_patches: Vec<String>,
}

/// Maps a line of the patched multipath.c to the unpatched file's: the
/// statement a point precedes. Every line the patches add carries "mpv".
pub fn unpatched_line(patched: &str, line: usize) -> Option<usize> {
    let lines: Vec<&str> = patched.lines().collect();
    if line == 0 || line > lines.len() {
        return None;
    }
    let added = |l: &str| l.to_ascii_lowercase().contains("mpv");
    // The first original line at or after the point.
    let mut k = line - 1;
    while k < lines.len() && added(lines[k]) {
        k += 1;
    }
    if k >= lines.len() {
        return None;
    }
    let before = lines[..k].iter().filter(|l| added(l)).count();
    Some(k + 1 - before)
}

/// Where each schedule point of the patched multipath.c sits in the
/// unpatched file (the statement it precedes). Every point name occurs
/// once in the patch.
pub fn point_lines(patched: &str) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for (i, l) in patched.lines().enumerate() {
        if let Some(k) = l.find("MPV_SCHED(\"") {
            let rest = &l[k + 11..];
            if let Some(e) = rest.find('"') {
                if let Some(line) = unpatched_line(patched, i + 1) {
                    m.insert(rest[..e].to_string(), line);
                }
            }
        }
    }
    m
}

/// Parses the race case's diagnostics out of raw KTAP; `line=N` after a
/// point becomes its place in the unpatched multipath.c (`points`, from
/// [`point_lines`]) or "(harness mirror)".
pub fn parse_ktap(text: &str, points: &std::collections::BTreeMap<String, usize>) -> (Option<bool>, String, Vec<String>) {
    let mut log = Vec::new();
    let mut verdict = String::new();
    let mut reproduced = None;
    for l in text.lines() {
        let Some(pos) = l.find("# mpv-race-") else { continue };
        let d = rewrite_lines(l[pos + 2..].trim_end(), points);
        if let Some(v) = d.strip_prefix("mpv-race-verdict: ") {
            verdict = v.to_string();
            reproduced = Some(v.starts_with("REPRODUCED"));
        }
        log.push(d);
    }
    (reproduced, verdict, log)
}

/// `line=N` -> `multipath.c:M` for the point named last before it.
fn rewrite_lines(d: &str, points: &std::collections::BTreeMap<String, usize>) -> String {
    let mut out = Vec::new();
    let mut last: Option<&str> = None;
    for tok in d.split(' ') {
        if let Some(num) = tok.strip_prefix("line=") {
            let suffix = num.trim_start_matches(|c: char| c.is_ascii_digit());
            let n: usize = num[..num.len() - suffix.len()].parse().unwrap_or(0);
            let place = match (n, last) {
                // The harness's point just before its call of the kernel's own function.
                (200000.., Some(KERNEL_CALL_POINT)) => format!("core.c:{} (kernel call)", n - 200000),
                (200000.., _) => format!("core.c:{} (harness mirror)", n - 200000),
                (100000.., _) => format!("multipath.c:{} (harness mirror)", n - 100000),
                (0, _) => "(harness mirror)".to_string(),
                (_, Some(p)) => match points.get(p) {
                    Some(m) if POINTS_LIB.iter().any(|r| matches!(r.place, Place::Point(q, _) if q == p)) => format!("lib/multipath.c:{m}"),
                    Some(m) => format!("multipath.c:{m}"),
                    None => tok[..tok.len() - suffix.len()].to_string(),
                },
                (_, None) => tok[..tok.len() - suffix.len()].to_string(),
            };
            out.push(format!("{place}{suffix}"));
            continue;
        }
        if POINTS.iter().chain(POINTS_LIB).any(|r| matches!(r.place, Place::Point(p, _) if p == tok)) {
            last = Some(tok);
        }
        out.push(tok.to_string());
    }
    out.join(" ")
}

/// Runs schedules on the kernel tree in one boot: wires the race suite
/// (a case per schedule), applies the schedule-point patch (and `mutants`,
/// C patches applied on top of it), builds, boots, restores the tree.
pub fn run(
    tree: &Path,
    build_dir: &Path,
    arch: super::run::Arch,
    inputs: &[RaceInput],
    mutants: &[PathBuf],
) -> Result<(Vec<RaceResult>, Exit), (Exit, String)> {
    if arch == super::run::Arch::Um {
        if let Some(i) = inputs.iter().find(|i| i.property == NEEDS_KASAN) {
            return Err((
                Exit::BadInput,
                format!("{}: property {NEEDS_KASAN} is observed through KASAN, which only the x86_64 build carries: add --arch x86_64", i.file),
            ));
        }
    }
    super::run::check_tree(tree).map_err(|e| (Exit::NoKernel, e))?;
    let mut cases = Vec::new();
    for input in inputs {
        cases.push(generate(input).map_err(|e| (Exit::BadInput, e))?);
    }
    let Some(backend) = cases.first().map(|c| c.backend) else {
        return Err((Exit::BadInput, "no schedule to run".to_string()));
    };
    if let Some(c) = cases.iter().find(|c| c.backend != backend) {
        return Err((Exit::BadInput, format!("{}: a {} schedule; one run replays schedules of one kernel C ({})", c.case, c.backend.name(), backend.name())));
    }
    if backend == RaceBackend::LibV2 && (!super::run::carries_series(tree) || crate::series::Api::detect_tree(tree) != crate::series::Api::V2) {
        return Err((
            Exit::NoKernel,
            format!("{}: v2 schedules run on the series' lib/multipath.c: the tree must carry the v2 series (`mpath-verify series prepare`)", tree.display()),
        ));
    }
    // The booted kernel's nodes against the model's: a loop over every
    // node (mpath_clear_current_path, set_live's per-node selection) also
    // visits nodes the model does not have.
    let nodes = arch.nodes();
    for (c, input) in cases.iter_mut().zip(inputs) {
        let online = &input.header.topology.online;
        if nodes.iter().any(|n| !online.contains(n)) {
            c.approximations.push(format!(
                "the model's online nodes are {online:?}, the booted {} kernel's {nodes:?}: for_each_node loops in the kernel (current_path[] per node) also visit the nodes the model lacks",
                arch.name()
            ));
        }
    }
    let (source, cases) = assemble(cases, &mirror_defines(Some(tree)));
    for (c, input) in cases.iter().zip(inputs) {
        for a in &c.approximations {
            eprintln!("kunit race: {}: approximation: {a}", input.file);
        }
    }
    std::fs::create_dir_all(build_dir).map_err(|e| (Exit::BadInput, format!("{}: cannot create: {e}", build_dir.display())))?;
    let mut patches = vec![super::run::kunit_dir().join(backend.patch())];
    for m in mutants {
        if !m.is_file() {
            return Err((Exit::BadInput, format!("{}: no such patch", m.display())));
        }
        patches.push(m.clone());
    }
    let (nvme_src, lib_src) = match backend {
        RaceBackend::Nvme612 => (source, super::run::placeholder_suite(super::Backend::Libmultipath)),
        RaceBackend::LibV2 => (super::run::placeholder_suite(super::Backend::Nvme612), source),
    };
    let code = super::run::run_script(tree, build_dir, arch, &nvme_src, &lib_src, RACE_SUITE, &patches)?;
    let text = std::fs::read_to_string(build_dir.join("mpv.ktap")).unwrap_or_default();
    if let Some(e) = super::run::script_error(code, tree, build_dir, text.is_empty()) {
        return Err(e);
    }
    // Line numbers: the tree's multipath.c with the schedule points only
    // (computed aside: the tree itself is restored by now).
    let points = patched_file(tree, backend.file(), &patches[..1]).map(|p| point_lines(&p)).unwrap_or_default();
    let mut results = Vec::new();
    let mut exit = Exit::Ok;
    for (c, input) in cases.iter().zip(inputs) {
        let text = case_text(&text, &c.case);
        let (mut reproduced, mut verdict, log) = parse_ktap(text, &points);
        let kernel_reports = super::ktap::kernel_reports_in(text);
        // A use-after-free is reproduced only by KASAN saying so.
        let uaf: Vec<&String> = kernel_reports.iter().filter(|r| r.contains("KASAN: ") && r.contains("use-after-free")).collect();
        if input.property == NEEDS_KASAN && reproduced == Some(true) && uaf.is_empty() {
            reproduced = Some(false);
            verdict = format!("NOT-REPRODUCED a race thread's KASAN probe failed but the console has no KASAN use-after-free report (was: {verdict})");
        }
        // Reports that are the reproduced violation's evidence are not
        // findings of their own.
        let unexpected = kernel_reports.iter().filter(|r| !(input.property == NEEDS_KASAN && reproduced == Some(true) && uaf.contains(r))).count();
        let result = RaceResult {
            schedule: input.file.clone(),
            case: c.case.clone(),
            reproduced,
            verdict,
            log,
            approximations: c.approximations.clone(),
            kernel_reports,
            mutant_patches: mutants.iter().map(|m| m.display().to_string()).collect(),
        };
        let e = if code == 130 {
            Exit::Interrupted
        } else if result.reproduced.is_none() {
            Exit::KernelCrash
        } else if unexpected > 0 || result.reproduced == Some(false) {
            Exit::Finding
        } else {
            Exit::Ok
        };
        if (e as i32) > (exit as i32) {
            exit = e;
        }
        results.push(result);
    }
    Ok((results, exit))
}

/// The KTAP text of one case: from its `mpv-race-case: <case>` line to
/// the next case's.
fn case_text<'a>(text: &'a str, case: &str) -> &'a str {
    let mark = "# mpv-race-case: ";
    let mut from = None;
    let mut off = 0;
    for l in text.split_inclusive('\n') {
        if let Some(i) = l.find(mark) {
            if from.is_some() {
                return &text[from.unwrap_or(0)..off];
            }
            if l[i + mark.len()..].trim_end() == case {
                from = Some(off);
            }
        }
        off += l.len();
    }
    from.map(|f| &text[f..]).unwrap_or("")
}

/// multipath.c of `tree` with `patches` applied, computed in a temp dir
/// (for mapping point lines back); None when `patch` cannot do it.
fn patched_file(tree: &Path, file: &str, patches: &[PathBuf]) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("mpv-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let f = dir.join("multipath.c");
    std::fs::copy(tree.join(file), &f).ok()?;
    for p in patches {
        let ok = std::process::Command::new("patch").arg("-s").arg("-N").arg("-F").arg("0").arg(&f).arg("-i").arg(p).status().ok()?.success();
        if !ok {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
    }
    let s = std::fs::read_to_string(&f).ok();
    let _ = std::fs::remove_dir_all(&dir);
    s
}

/// The kernel's side of the interleaving as a swimlane: one column per
/// thread, one row per schedule point the kernel thread was released from,
/// each cell the point, its path and the line of the tree it precedes.
pub fn swimlane(r: &RaceResult, width: usize) -> String {
    struct Row {
        model: String,
        thread: String,
        cell: String,
    }
    let mut rows = Vec::new();
    let mut threads: Vec<String> = Vec::new();
    for l in &r.log {
        let Some(rest) = l.strip_prefix("mpv-race-step: ") else { continue };
        let f: Vec<&str> = rest.splitn(6, ' ').collect();
        if f.len() < 6 {
            continue;
        }
        let (model, thread, point, tail) = (f[1], f[2], f[3], f[5]);
        let path = f[4].strip_prefix("path=").unwrap_or("");
        let short = [
            ("nvme_round_robin_path:", "rr:"),
            ("nvme_ns_remove:", "ns_remove:"),
            ("__nvme_find_path:", "__find_path:"),
            ("nvme_find_path:", "find_path:"),
            ("nvme_available_path:", "available:"),
            ("nvme_numa_path:", "numa:"),
            ("nvme_mpath_clear_current_path", "clear_current_path"),
            ("nvme_next_ns", "next_ns"),
            ("nvme_kick_requeue_lists:", "kick:"),
            ("nvme_change_ctrl_state", "change_ctrl_state"),
        ]
        .iter()
        .find_map(|(a, b)| point.strip_prefix(a).map(|x| format!("{b}{x}")))
        .unwrap_or_else(|| point.to_string());
        let obj = match path {
            "NULL" | "-" | "" => String::new(),
            p => format!("(P{p})"),
        };
        let loc = tail
            .replace("lib/multipath.c:", "l:")
            .replace("multipath.c:", "m:")
            .replace("core.c:", "c:")
            .replace(" (kernel call)", "")
            .replace(" (harness mirror)", "*")
            .replace("(harness mirror)", "*");
        if !threads.iter().any(|t| t == thread) {
            threads.push(thread.to_string());
        }
        rows.push(Row { model: model.to_string(), thread: thread.to_string(), cell: format!("{short}{obj} {loc}") });
    }
    if rows.is_empty() {
        return String::new();
    }
    // Columns as wide as their widest cell: a point is never cut.
    let width = rows.iter().map(|r| r.cell.chars().count()).max().unwrap_or(0).max(width);
    let cell = |t: &str| -> String {
        let mut c: String = t.chars().take(width).collect();
        while c.chars().count() < width {
            c.push(' ');
        }
        c
    };
    let mut out = String::from("  #  model ");
    for t in &threads {
        out.push_str(&cell(t));
        out.push_str(" | ");
    }
    out.push('\n');
    for (i, row) in rows.iter().enumerate() {
        let _ = write!(out, "{i:>3}  {:>5} ", row.model);
        for t in &threads {
            out.push_str(&cell(if *t == row.thread { &row.cell } else { "" }));
            out.push_str(" | ");
        }
        out.push('\n');
    }
    out.push_str("  m: drivers/nvme/host/multipath.c, c: drivers/nvme/host/core.c, l: lib/multipath.c (lines of the tree run), *: the harness's restatement of that statement\n");
    out
}

/// The human report of one race run.
pub fn render(r: &RaceResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "schedule {}", r.schedule);
    for m in &r.mutant_patches {
        let _ = writeln!(s, "  C patch on top of the schedule points: {m}");
    }
    for a in &r.approximations {
        let _ = writeln!(s, "  approximation: {a}");
    }
    s.push_str(&swimlane(r, 40));
    for l in r.log.iter().filter(|l| !l.starts_with("mpv-race-verdict") && !l.starts_with("mpv-race-step") && !l.starts_with("mpv-race-case")) {
        let _ = writeln!(s, "  {l}");
    }
    for k in &r.kernel_reports {
        let _ = writeln!(s, "  KERNEL REPORT: {k}");
    }
    let v = match r.reproduced {
        Some(true) => "REPRODUCED in kernel C",
        Some(false) => "NOT REPRODUCED in kernel C",
        None => "NO VERDICT (the race case did not finish; see the raw KTAP)",
    };
    let detail = r.verdict.split_once(' ').map(|x| x.1).unwrap_or("");
    let _ = writeln!(s, "verdict: {v}: {detail}");
    s
}
