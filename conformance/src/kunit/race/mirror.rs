//! The harness's mirrors: the kernel statements they restate, located in
//! the tree so a mirror point reports the line it stands for.

use std::fmt::Write as _;
use std::path::Path;

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
            let body = crate::kunit::drift::function_body(src, def)?;
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
