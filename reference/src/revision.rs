//! Revisions as data. A [`Profile`] is the table of behavioural differences
//! between library revisions (v1, v2, v3) and mainline NVMe in Linux 6.12;
//! the library code consults it instead of being copied per revision.
//! Profiles are serde data, so a reviewer can describe another revision in a
//! JSON file: `{"base": "v3", "numa_fast_path_checks_disabled": true}`.

use serde::{Deserialize, Serialize};

/// How `current_path[]` is sized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurrentPathSize {
    /// v1: `current_path[MAX_NUMNODES]` (64 here).
    MaxNumnodes,
    /// v2, v3: `num_possible_nodes()` slots, indexed by node id (sparse ids overflow).
    PossibleNodes,
    /// Linux 6.12: `nr_node_ids` slots.
    NrNodeIds,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadRef {
    /// v1, v2, 6.12: kref; the final put cleans up and frees.
    Kref,
    /// v3: refcount + `mpath_head_uninit` waiting for zero (S01).
    RefcountUninit,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub current_path_size: CurrentPathSize,
    /// `__mpath_find_path` starts `found`/`fallback` as NULL (false: v1, R12).
    pub find_path_init_null: bool,
    /// `set_live` tests for a missing head disk before dereferencing (false: v1, R4).
    pub set_live_checks_disk_first: bool,
    /// The NUMA fast path checks `is_disabled` on the cached path (no revision yet; S03c fix).
    pub numa_fast_path_checks_disabled: bool,
    /// RR singular shortcut checks `old` is still linked and selectable (no revision yet; S03b fix).
    pub rr_singular_checks_old: bool,
    /// RR loop also stops when it returns to the list head after `old` was unlinked (S03a fix).
    pub rr_loop_stops_at_unlinked_old: bool,
    /// `mpath_available_path` falls back to `QUEUE_IF_NO_PATH` (false: 6.12).
    pub queue_if_no_path: bool,
    /// Delayed head removal exists (false: 6.12).
    pub delayed_removal: bool,
    /// Multipath sysfs links exist (false: 6.12).
    pub sysfs_links: bool,
    /// `mpath_add_sysfs_link` uses `test_and_set_bit` (false: the N1 mutant).
    pub link_test_and_set: bool,
    /// `mpath_add_device` does `module_put` when it cancels the remove work (false: v1 leak).
    pub add_device_module_put: bool,
    /// `submit_bio` sets `BIO_REMAPPED` (v3, 6.12).
    pub bio_remapped: bool,
    /// v3 counters `requeue_no_usable_path_cnt` / `fail_no_avail_path_cnt`.
    pub counters: bool,
    /// The iopolicy store clears cached paths only when the value changes (6.12).
    pub iopolicy_clear_only_on_change: bool,
    /// bdev/chr ioctl drop SRCU before calling into the path when `ioctl_begin`
    /// returned data, and then dereference the path (v2, v3: S07).
    pub ioctl_path_after_unlock: bool,
    /// chr `uring_cmd` with no path returns `-EWOULDBLOCK` (v1) rather than `-EINVAL`.
    pub uring_no_path_ewouldblock: bool,
    /// v1: the queue-depth selector reads `mpath_device.nr_active`, which
    /// nothing maintains, so every depth is 0 (§14 "queue depth").
    #[serde(default)]
    pub qd_device_counter_unmaintained: bool,
    /// Linux 6.12: `__nvme_find_path` reads `ns->ctrl->numa_node` at every
    /// selection; the library reads `dev->numa_node`, copied at add (§17).
    #[serde(default)]
    pub distance_reads_ctrl_node: bool,
    /// Linux 6.12: `set_ctrl_state` is the driver's `nvme_change_ctrl_state`
    /// (its transition table; a refused change leaves the state and returns
    /// false; a change to LIVE kicks the controller's requeue lists and, from
    /// CONNECTING, clears FAILFAST_EXPIRED). Otherwise the op writes the
    /// test template's controller state directly.
    #[serde(default)]
    pub ctrl_state_machine: bool,
    pub head_ref: HeadRef,
    /// `nvme_ns_remove` synchronize points S1, S2, S3 (N2); false removes one (mutants).
    pub remove_sync1: bool,
    pub remove_sync2: bool,
    pub remove_sync3: bool,
}

impl Profile {
    pub fn v2() -> Profile {
        Profile {
            name: "v2".into(),
            current_path_size: CurrentPathSize::PossibleNodes,
            find_path_init_null: true,
            set_live_checks_disk_first: true,
            numa_fast_path_checks_disabled: false,
            rr_singular_checks_old: false,
            rr_loop_stops_at_unlinked_old: false,
            queue_if_no_path: true,
            delayed_removal: true,
            sysfs_links: true,
            link_test_and_set: true,
            add_device_module_put: true,
            bio_remapped: false,
            counters: false,
            iopolicy_clear_only_on_change: false,
            ioctl_path_after_unlock: true,
            uring_no_path_ewouldblock: false,
            qd_device_counter_unmaintained: false,
            distance_reads_ctrl_node: false,
            ctrl_state_machine: false,
            head_ref: HeadRef::Kref,
            remove_sync1: true,
            remove_sync2: true,
            remove_sync3: true,
        }
    }

    pub fn v1() -> Profile {
        Profile {
            name: "v1".into(),
            current_path_size: CurrentPathSize::MaxNumnodes,
            find_path_init_null: false,
            set_live_checks_disk_first: false,
            add_device_module_put: false,
            iopolicy_clear_only_on_change: true,
            uring_no_path_ewouldblock: true,
            qd_device_counter_unmaintained: true,
            ..Profile::v2()
        }
    }

    pub fn v3() -> Profile {
        Profile {
            name: "v3".into(),
            bio_remapped: true,
            counters: true,
            head_ref: HeadRef::RefcountUninit,
            ..Profile::v2()
        }
    }

    pub fn nvme_6_12() -> Profile {
        Profile {
            name: "nvme-6.12".into(),
            current_path_size: CurrentPathSize::NrNodeIds,
            queue_if_no_path: false,
            delayed_removal: false,
            sysfs_links: false,
            bio_remapped: true,
            iopolicy_clear_only_on_change: true,
            ioctl_path_after_unlock: false,
            distance_reads_ctrl_node: true,
            ctrl_state_machine: true,
            ..Profile::v2()
        }
    }

    /// Named mutants: each breaks one property on purpose.
    pub fn mutant(name: &str) -> Option<Profile> {
        let base = Profile::v2();
        let p = match name {
            "mut-link-test-then-set" => Profile { link_test_and_set: false, ..base },
            "mut-no-sync1" => Profile { remove_sync1: false, ..base },
            "mut-no-sync2" => Profile { remove_sync2: false, ..base },
            "mut-no-sync3" => Profile { remove_sync3: false, ..base },
            "mut-find-path-uninit" => Profile { find_path_init_null: false, ..base },
            _ => return None,
        };
        Some(Profile { name: name.into(), ..p })
    }

    pub const NAMES: &'static [&'static str] = &["v1", "v2", "v3", "nvme-6.12"];
    pub const MUTANTS: &'static [&'static str] =
        &["mut-link-test-then-set", "mut-no-sync1", "mut-no-sync2", "mut-no-sync3", "mut-find-path-uninit"];

    /// A revision by name (`v1`, `v2`, `v3`, `nvme-6.12`, or a `mut-*` mutant).
    pub fn by_name(name: &str) -> Option<Profile> {
        match name {
            "v1" => Some(Profile::v1()),
            "v2" => Some(Profile::v2()),
            "v3" => Some(Profile::v3()),
            "nvme-6.12" | "6.12" | "mainline" => Some(Profile::nvme_6_12()),
            _ => Profile::mutant(name),
        }
    }

    /// Parses a profile file: a JSON object with `base` (a revision name) and
    /// any profile fields to override.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("line {}, column {}: {}", e.line(), e.column(), e))?;
        let obj = v.as_object().ok_or("a profile must be a JSON object")?;
        let base_name = obj.get("base").and_then(|b| b.as_str()).ok_or("a profile needs \"base\": \"v1|v2|v3|nvme-6.12\"")?;
        let base = Profile::by_name(base_name).ok_or_else(|| format!("unknown base revision {base_name:?}"))?;
        let mut merged = serde_json::to_value(&base).map_err(|e| e.to_string())?;
        let m = merged.as_object_mut().ok_or("internal: profile is not an object")?;
        for (k, val) in obj {
            if k == "base" {
                continue;
            }
            if !m.contains_key(k) {
                return Err(format!("unknown profile field {k:?}"));
            }
            m.insert(k.clone(), val.clone());
        }
        serde_json::from_value(merged).map_err(|e| e.to_string())
    }

    /// Every field that differs from v2, as `field: v2 -> this` lines.
    pub fn differences_from_v2(&self) -> Vec<String> {
        let a = serde_json::to_value(Profile::v2()).unwrap_or_default();
        let b = serde_json::to_value(self).unwrap_or_default();
        let mut out = Vec::new();
        if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
            for (k, vb) in b {
                if k == "name" {
                    continue;
                }
                if a.get(k) != Some(vb) {
                    out.push(format!("{k}: {} -> {}", a.get(k).cloned().unwrap_or_default(), vb));
                }
            }
        }
        out
    }
}
