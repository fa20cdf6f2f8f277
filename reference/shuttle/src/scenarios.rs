//! The scenario registry: each scenario's concurrent program, the property
//! asserted at the end of every execution, and the profiles it must catch
//! or pass (`CONCURRENCY.md` has the table with the measured figures).

use crate::programs::*;
use mpath_reference::Profile;

/// One scenario: a driver-level concurrent program plus its property.
pub struct Scenario {
    pub name: &'static str,
    /// What runs concurrently.
    pub about: &'static str,
    /// What is asserted (at the end of every execution).
    pub property: &'static str,
    /// Profiles (revision names, `mut-*` mutants, or `base+field=value`
    /// overrides, see [`profile`]) that this scenario must catch.
    pub catches: &'static [&'static str],
    /// Profiles that must pass: the baseline `v2`, plus documented
    /// equivalent mutants. Empty for a scenario that records a finding of
    /// the spec (v2 itself fails, and is then listed in `catches`).
    pub passes: &'static [&'static str],
    pub body: fn(&Profile),
}

/// Every scenario, in the order of `CONCURRENCY.md`.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "ns-remove-vs-submit",
        about: "nvme_ns_remove(path 0) vs two submitters (nodes 0 and 1), 2 paths, current_path cleared before",
        property: "no violation; no current_path slot names a freed/unlinked path; every bio accounted (completed, failed, requeued or in flight on a live path); requeued bios go to path 1",
        catches: &["mut-no-sync1", "mut-no-sync3"],
        passes: &["v2", "mut-no-sync2"],
        body: ns_remove_vs_submit,
    },
    Scenario {
        name: "ana-change-vs-rr",
        about: "two ANA updates (paths 0 and 2 leave ANA-pending, become optimized, then non-optimized / inaccessible) vs a round-robin submitter; path 1 stays optimized",
        property: "no violation (no duplicate link, no non-termination); every bio gets a path; at rest LINK bit == link for every path",
        catches: &["mut-link-test-then-set"],
        passes: &["v2"],
        body: ana_change_vs_rr,
    },
    Scenario {
        name: "set-live-links",
        about: "three concurrent mpath_device_set_live (paths 0..2 added, head disk allocated, not live)",
        property: "no violation; head disk added once and live; links == {0,1,2} == LINK bits; current_path[0] names a linked path",
        catches: &["mut-link-test-then-set"],
        passes: &["v2"],
        body: set_live_links,
    },
    Scenario {
        name: "revalidate-vs-find-path",
        about: "mpath_revalidate_paths (head capacity changed: both paths lose READY) vs two submitters",
        property: "no violation (no junk pointer published); every bio accounted; afterwards find_path finds nothing and a new bio is requeued",
        catches: &["mut-find-path-uninit"],
        passes: &["v2"],
        body: revalidate_vs_find_path,
    },
    Scenario {
        name: "iopolicy-vs-submit",
        about: "iopolicy store round-robin -> queue-depth -> numa (clears paths, kicks requeue) vs two submitters; ANA of path 0 flips inaccessible and back",
        property: "no violation; every bio accounted; after completing all bios every nr_active is 0; current_path names only linked paths",
        catches: &["mut-find-path-uninit"],
        passes: &["v2"],
        body: iopolicy_vs_submit,
    },
    Scenario {
        name: "delayed-removal-vs-add",
        about: "finding (found once the series' C showed that GD_ADDED outlives del_gendisk): delayed removal armed (5 s): nvme_ns_remove(last path) vs a new path arriving (add_device, set_live) vs the timer firing and the remove work running",
        property: "no violation (no module ref underflow); at rest module_refs == 0; head disk live with the new path linked. v2 FAILS: the remove work's mpath_remove_disk runs between the arriving path's mpath_device_set_live (DISK_LIVE still set: no add) and its mpath_add_sysfs_link, whose GD_ADDED guard passes on the deleted head: NullDeref in sysfs_add_link_to_group (the oops trace 9.8 reproduces sequentially in the v2 C)",
        catches: &["v2", "v2+add_device_module_put=false"],
        passes: &[],
        body: delayed_removal_vs_add,
    },
    Scenario {
        name: "revalidate-stale-cache",
        about: "finding (review-races.md S03c, revalidate window): mpath_revalidate_paths clears READY then current_path with no synchronize, vs a submitter on node 0",
        property: "at rest no current_path slot names a disabled (not READY) path; v2 FAILS: a selector that read READY before the callback installs the path after mpath_clear_paths",
        catches: &["v2"],
        passes: &[],
        body: revalidate_stale_cache,
    },
    Scenario {
        name: "rr-remove-nontermination",
        about: "finding (review-races.md S03a, scenario B): round-robin, path 0 optimized and cached, path 1 non-optimized; nvme_ns_remove(0) vs two submitters on node 0",
        property: "no violation; v2 FAILS with NonTermination (the RR loop of a reader holding the unlinked `old` never meets it again; the kernel would spin and hang S3); the S03a fix profile passes",
        catches: &["v2"],
        passes: &["v2+rr_loop_stops_at_unlinked_old=true"],
        body: rr_remove_nontermination,
    },
];

pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// A profile by name: a revision or mutant name (`v2`, `mut-no-sync1`), or
/// `base+field=value[+field=value...]` for a profile diff, e.g.
/// `v2+add_device_module_put=false`.
pub fn profile(spec: &str) -> Result<Profile, String> {
    let mut parts = spec.split('+');
    let base = parts.next().unwrap_or_default();
    let mut obj = serde_json::Map::new();
    obj.insert("base".into(), serde_json::Value::String(base.into()));
    let mut any = false;
    for kv in parts {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("profile override {kv:?} is not field=value"))?;
        let val: serde_json::Value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
        obj.insert(k.into(), val);
        any = true;
    }
    if !any {
        return Profile::by_name(base).ok_or_else(|| format!("unknown profile {base:?}"));
    }
    let mut p = Profile::from_json(&serde_json::Value::Object(obj).to_string())?;
    p.name = spec.into();
    Ok(p)
}
