//! Drift check for the harness's mirrors of kernel functions a KUnit test
//! cannot call: the order of the calls the mirror models, extracted from
//! the function's body in the given tree, must equal the mirror's.
//!
//! Only calls in the mirror's vocabulary count; what the mirror leaves out
//! on purpose (`del_gendisk`, `nvme_mpath_shutdown_disk`, `nvme_put_ns`)
//! is named in `Mirror::omits` and reported, not compared.

use super::KunitError;
use std::path::Path;

/// One modelled call: its name in the report and the source patterns that
/// spell it in the kernel and in the mirror.
pub struct Call {
    pub name: &'static str,
    pub kernel: &'static [&'static str],
    pub mirror: &'static [&'static str],
}

/// A mirror of one kernel function.
pub struct Mirror {
    /// The kernel function's definition line, up to its opening brace.
    pub kernel_fn: &'static str,
    /// The file in the tree that defines it.
    pub kernel_file: &'static str,
    /// The mirror's definition line in the harness.
    pub mirror_fn: &'static str,
    /// The harness file that holds the mirror.
    pub mirror_file: &'static str,
    pub calls: &'static [Call],
    /// Calls only this mirror restates (compared like `calls`).
    pub extra: &'static [Call],
    pub omits: &'static [&'static str],
}

/// The calls of 6.12's `nvme_ns_remove` both mirrors restate, with how
/// each mirror spells them (`mpv_ns_remove` unlinks through
/// `mpv_unlink_path`, the race engine with `list_del_rcu` itself).
const NS_REMOVE_CALLS: &[Call] = &[
    Call { name: "set REMOVING", kernel: &["test_and_set_bit(NVME_NS_REMOVING"], mirror: &["test_and_set_bit(NVME_NS_REMOVING"] },
    Call { name: "clear READY", kernel: &["clear_bit(NVME_NS_READY"], mirror: &["clear_bit(NVME_NS_READY"] },
    Call { name: "capacity 0", kernel: &["set_capacity(ns->disk, 0)"], mirror: &["bd_nr_sectors, 0)"] },
    Call { name: "synchronize head srcu", kernel: &["synchronize_srcu(&ns->head->srcu)"], mirror: &["synchronize_srcu(&w->head->srcu)"] },
    Call { name: "clear current_path", kernel: &["nvme_mpath_clear_current_path("], mirror: &["nvme_mpath_clear_current_path("] },
    Call { name: "unlink from head->list", kernel: &["list_del_rcu(&ns->siblings)"], mirror: &["mpv_unlink_path(", "list_del_rcu(&ns->siblings)"] },
    Call { name: "unlink from ctrl->namespaces", kernel: &["list_del_rcu(&ns->list)"], mirror: &["list_del_rcu(&ns->list)"] },
    Call { name: "synchronize ctrl srcu", kernel: &["synchronize_srcu(&ns->ctrl->srcu)"], mirror: &["synchronize_srcu(&ns->ctrl->srcu)"] },
];

/// `nvme_ns_remove` (drivers/nvme/host/core.c) and `mpv_ns_remove`.
pub const NVME_NS_REMOVE: Mirror = Mirror {
    kernel_fn: "static void nvme_ns_remove(struct nvme_ns *ns)",
    kernel_file: "drivers/nvme/host/core.c",
    mirror_fn: "static __maybe_unused bool mpv_ns_remove(struct mpv_world *w, int p)",
    mirror_file: "mpv_harness.h",
    calls: NS_REMOVE_CALLS,
    extra: &[],
    omits: &["del_gendisk", "nvme_mpath_shutdown_disk", "nvme_put_ns"],
};

/// `nvme_ns_remove` and the race engine's `mpv_race_ns_remove` (the D
/// thread of a forced interleaving, with its schedule points).
pub const NVME_NS_REMOVE_RACE: Mirror = Mirror {
    kernel_fn: "static void nvme_ns_remove(struct nvme_ns *ns)",
    kernel_file: "drivers/nvme/host/core.c",
    mirror_fn: "static void mpv_race_ns_remove(struct mpv_race_thread *t, int p)",
    mirror_file: "mpv_race.h",
    calls: NS_REMOVE_CALLS,
    // The race's D thread also restates the last-path test, a point of its own.
    extra: &[Call { name: "last path?", kernel: &["list_empty(&ns->head->list)"], mirror: &["list_empty(&w->head->list)"] }],
    omits: &["del_gendisk", "nvme_mpath_shutdown_disk", "nvme_put_ns"],
};

/// 6.12's `nvme_requeue_work` (drivers/nvme/host/multipath.c) and the race
/// engine's `mpv_race_requeue_work` (the model's worker: it takes the list
/// as the kernel does; the race's bios are not real bios, so it does not
/// resubmit them).
pub const NVME_REQUEUE_WORK_RACE: Mirror = Mirror {
    kernel_fn: "static void nvme_requeue_work(struct work_struct *work)",
    kernel_file: "drivers/nvme/host/multipath.c",
    mirror_fn: "static void mpv_race_requeue_work(struct work_struct *work)",
    mirror_file: "mpv_race.h",
    calls: &[
        Call { name: "lock requeue_lock", kernel: &["spin_lock_irq(&head->requeue_lock)"], mirror: &["spin_lock_irq(&head->requeue_lock)"] },
        Call { name: "take requeue_list", kernel: &["bio_list_get(&head->requeue_list)"], mirror: &["bio_list_get(&head->requeue_list)"] },
        Call { name: "unlock requeue_lock", kernel: &["spin_unlock_irq(&head->requeue_lock)"], mirror: &["spin_unlock_irq(&head->requeue_lock)"] },
    ],
    extra: &[],
    omits: &["submit_bio_noacct"],
};

/// The race engine's nvme-6.12 side (the file `kunit race` embeds as
/// `race::RACE_NVME`), read here for its mirrors: the drift check sits
/// below the race engine, which calls it.
const RACE_NVME: &str = include_str!("../../kunit/nvme-6.12/mpv_race.h");

/// Every mirror with the harness text that holds it.
pub fn mirrors() -> [(&'static Mirror, &'static str); 3] {
    [(&NVME_NS_REMOVE, super::export::NVME612_HARNESS), (&NVME_NS_REMOVE_RACE, RACE_NVME), (&NVME_REQUEUE_WORK_RACE, RACE_NVME)]
}

/// The body of the function whose definition starts with `def` (braces
/// matched; comments and strings are not special-cased, which the kernel
/// functions checked here do not need).
pub fn function_body<'a>(src: &'a str, def: &str) -> Option<&'a str> {
    let start = src.find(def)?;
    let open = start + src[start..].find('{')?;
    let mut depth = 0usize;
    for (i, c) in src[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&src[open..=open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The modelled calls of `body` in source order.
pub fn call_order(body: &str, mirror: &Mirror, kernel: bool) -> Vec<&'static str> {
    let mut hits: Vec<(usize, &'static str)> = Vec::new();
    for c in mirror.calls.iter().chain(mirror.extra) {
        for pat in if kernel { c.kernel } else { c.mirror } {
            let mut from = 0;
            while let Some(i) = body[from..].find(pat) {
                hits.push((from + i, c.name));
                from += i + pat.len();
            }
        }
    }
    hits.sort();
    hits.into_iter().map(|(_, n)| n).collect()
}

/// Which of the omitted calls the kernel body makes.
pub fn omitted<'a>(body: &str, mirror: &'a Mirror) -> Vec<&'a str> {
    mirror.omits.iter().copied().filter(|o| body.contains(&format!("{o}("))).collect()
}

#[derive(Debug, PartialEq, Eq)]
pub struct Drift {
    pub kernel: Vec<&'static str>,
    pub mirror: Vec<&'static str>,
}

/// Compares `mirror` in `harness` with the kernel function in `kernel_src`.
/// Err: a function is not found (no kernel to compare with).
pub fn check_text(kernel_src: &str, harness: &str, mirror: &Mirror) -> Result<Result<Vec<&'static str>, Drift>, KunitError> {
    let kb =
        function_body(kernel_src, mirror.kernel_fn).ok_or_else(|| KunitError::NoKernel(format!("{}: `{}` not found", mirror.kernel_file, mirror.kernel_fn)))?;
    let mb =
        function_body(harness, mirror.mirror_fn).ok_or_else(|| KunitError::NoKernel(format!("{}: `{}` not found", mirror.mirror_file, mirror.mirror_fn)))?;
    let k = call_order(kb, mirror, true);
    let m = call_order(mb, mirror, false);
    Ok(if k == m { Ok(k) } else { Err(Drift { kernel: k, mirror: m }) })
}

/// The check against a tree.
pub fn check_tree(tree: &Path, harness: &str, mirror: &Mirror) -> Result<Result<Vec<&'static str>, Drift>, KunitError> {
    let f = tree.join(mirror.kernel_file);
    let src = std::fs::read_to_string(&f).map_err(|e| KunitError::NoKernel(format!("{}: cannot read: {e}", f.display())))?;
    check_text(&src, harness, mirror)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kunit::export::NVME612_HARNESS;

    /// 6.12.117's nvme_ns_remove, abridged to its calls (the real one is
    /// checked against the tree in scripts/test).
    const KERNEL: &str = "static void nvme_ns_remove(struct nvme_ns *ns)
{
	if (test_and_set_bit(NVME_NS_REMOVING, &ns->flags))
		return;
	clear_bit(NVME_NS_READY, &ns->flags);
	set_capacity(ns->disk, 0);
	synchronize_srcu(&ns->head->srcu);
	if (nvme_mpath_clear_current_path(ns))
		synchronize_srcu(&ns->head->srcu);
	list_del_rcu(&ns->siblings);
	synchronize_srcu(&ns->head->srcu);
	del_gendisk(ns->disk);
	list_del_rcu(&ns->list);
	synchronize_srcu(&ns->ctrl->srcu);
	nvme_put_ns(ns);
}";

    #[test]
    fn the_shipped_mirror_matches() {
        let r = check_text(KERNEL, NVME612_HARNESS, &NVME_NS_REMOVE).unwrap();
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(r.unwrap().len(), 10);
    }

    #[test]
    fn the_race_engine_mirror_matches_and_fails_when_reordered() {
        let k =
            KERNEL.replacen("	list_del_rcu(&ns->siblings);\n", "	list_del_rcu(&ns->siblings);\n	if (list_empty(&ns->head->list))\n		last_path = true;\n", 1);
        let engine = RACE_NVME;
        let r = check_text(&k, engine, &NVME_NS_REMOVE_RACE).unwrap();
        assert!(r.is_ok(), "{r:?}");
        let bad =
            engine.replacen("\tif (nvme_mpath_clear_current_path(ns)) {", "\tlist_del_rcu(&ns->siblings);\n\tif (nvme_mpath_clear_current_path(ns)) {", 1);
        assert_ne!(bad, engine);
        assert!(check_text(&k, &bad, &NVME_NS_REMOVE_RACE).unwrap().is_err());
    }

    #[test]
    fn a_reordered_mirror_fails_with_both_sequences() {
        // Unlink before clearing current_path: the S2/S3 order swapped.
        let bad =
            NVME612_HARNESS.replacen("changed = nvme_mpath_clear_current_path(ns);", "mpv_unlink_path(w, p); changed = nvme_mpath_clear_current_path(ns);", 1);
        assert_ne!(bad, NVME612_HARNESS);
        let d = check_text(KERNEL, &bad, &NVME_NS_REMOVE).unwrap().unwrap_err();
        assert_ne!(d.kernel, d.mirror);
        let ki = d.kernel.iter().position(|c| *c == "clear current_path").unwrap();
        let mi = d.mirror.iter().position(|c| *c == "clear current_path").unwrap();
        assert!(d.mirror[..mi].contains(&"unlink from head->list") && !d.kernel[..ki].contains(&"unlink from head->list"));
    }

    #[test]
    fn a_kernel_that_drops_a_synchronize_fails() {
        let k = KERNEL.replacen("	synchronize_srcu(&ns->head->srcu);\n	del_gendisk", "	del_gendisk", 1);
        assert_ne!(k, KERNEL);
        assert!(check_text(&k, NVME612_HARNESS, &NVME_NS_REMOVE).unwrap().is_err());
    }

    /// 6.12's nvme_requeue_work (multipath.c), verbatim.
    const REQUEUE_WORK: &str = "static void nvme_requeue_work(struct work_struct *work)
{
	struct nvme_ns_head *head =
		container_of(work, struct nvme_ns_head, requeue_work);
	struct bio *bio, *next;

	spin_lock_irq(&head->requeue_lock);
	next = bio_list_get(&head->requeue_list);
	spin_unlock_irq(&head->requeue_lock);

	while ((bio = next) != NULL) {
		next = bio->bi_next;
		bio->bi_next = NULL;

		submit_bio_noacct(bio);
	}
}";

    #[test]
    fn the_race_requeue_work_matches_and_fails_when_the_take_leaves_the_lock() {
        let engine = RACE_NVME;
        let r = check_text(REQUEUE_WORK, engine, &NVME_REQUEUE_WORK_RACE).unwrap();
        assert_eq!(r, Ok(vec!["lock requeue_lock", "take requeue_list", "unlock requeue_lock"]));
        let kb = function_body(REQUEUE_WORK, NVME_REQUEUE_WORK_RACE.kernel_fn).unwrap();
        assert_eq!(omitted(kb, &NVME_REQUEUE_WORK_RACE), vec!["submit_bio_noacct"]);
        // The list taken outside the lock: drift.
        let k = REQUEUE_WORK.replacen(
            "	spin_lock_irq(&head->requeue_lock);\n	next = bio_list_get(&head->requeue_list);",
            "	next = bio_list_get(&head->requeue_list);\n	spin_lock_irq(&head->requeue_lock);",
            1,
        );
        assert_ne!(k, REQUEUE_WORK);
        assert!(check_text(&k, engine, &NVME_REQUEUE_WORK_RACE).unwrap().is_err());
    }

    #[test]
    fn omitted_calls_are_reported_and_missing_functions_are_errors() {
        let kb = function_body(KERNEL, NVME_NS_REMOVE.kernel_fn).unwrap();
        assert_eq!(omitted(kb, &NVME_NS_REMOVE), vec!["del_gendisk", "nvme_put_ns"]);
        assert!(check_text("int x;", NVME612_HARNESS, &NVME_NS_REMOVE).is_err());
    }
}
