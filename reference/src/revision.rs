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
    /// The NUMA fast path recomputes when the cached path is not optimized
    /// (false: mut-numa-no-optimized-check).
    #[serde(default = "yes")]
    pub numa_fast_path_checks_optimized: bool,
    /// `nvme_ns_remove` removes the path's sysfs link (false: mut-no-remove-link).
    #[serde(default = "yes")]
    pub remove_removes_link: bool,
    /// `nvme_ns_remove` waits for `ctrl->srcu` readers before
    /// `nvme_mpath_remove_disk` (false: mut-no-ctrl-sync). The reference has
    /// no `ctrl->srcu` domain (ANA processing is not a concurrent reader
    /// here): the field has no sequential effect; the model's twin has the
    /// step.
    #[serde(default = "yes")]
    pub remove_ctrl_sync: bool,
    /// `mpath_device_set_live` synchronizes before kicking the requeue
    /// work (false: mut-set-live-no-sync).
    #[serde(default = "yes")]
    pub set_live_sync: bool,
    /// `mpath_device_set_live` synchronizes inside its own read section,
    /// and only on the optimized branch (mut-sync-inside-srcu).
    #[serde(default)]
    pub set_live_sync_inside_srcu: bool,
    /// `mpath_remove_disk` kicks the requeue work after clearing DISK_LIVE
    /// (false: mut-remove-disk-no-kick).
    #[serde(default = "yes")]
    pub remove_disk_kicks_requeue: bool,
}

fn yes() -> bool {
    true
}

/// The one revision registry: every shipped revision and mutant is one file
/// `model/revisions/<name>.json` holding both its reference profile (the
/// `reference` object: every field for v2, the fields that differ from
/// its `base`'s profile for the others) and its step programs (read by
/// `mpath-model`). Both crates read this list; nothing else names a
/// revision.
pub const REGISTRY: &[(&str, &str)] = &[
    ("v2", include_str!("../../model/revisions/v2.json")),
    ("v1", include_str!("../../model/revisions/v1.json")),
    ("v3", include_str!("../../model/revisions/v3.json")),
    ("nvme-6.12", include_str!("../../model/revisions/nvme-6.12.json")),
    ("v2-fixed", include_str!("../../model/revisions/v2-fixed.json")),
    ("mut-link-test-then-set", include_str!("../../model/revisions/mut-link-test-then-set.json")),
    ("mut-no-sync1", include_str!("../../model/revisions/mut-no-sync1.json")),
    ("mut-no-sync2", include_str!("../../model/revisions/mut-no-sync2.json")),
    ("mut-no-sync3", include_str!("../../model/revisions/mut-no-sync3.json")),
    ("mut-find-path-uninit", include_str!("../../model/revisions/mut-find-path-uninit.json")),
    ("mut-set-live-deref-first", include_str!("../../model/revisions/mut-set-live-deref-first.json")),
    ("mut-no-remove-link", include_str!("../../model/revisions/mut-no-remove-link.json")),
    ("mut-no-ctrl-sync", include_str!("../../model/revisions/mut-no-ctrl-sync.json")),
    ("mut-sync-inside-srcu", include_str!("../../model/revisions/mut-sync-inside-srcu.json")),
    ("mut-set-live-no-sync", include_str!("../../model/revisions/mut-set-live-no-sync.json")),
    ("mut-numa-no-optimized-check", include_str!("../../model/revisions/mut-numa-no-optimized-check.json")),
    ("mut-remove-disk-no-kick", include_str!("../../model/revisions/mut-remove-disk-no-kick.json")),
];

/// One registry entry's reference side: its `base` (None for v2) and the
/// profile fields it sets.
#[derive(Clone, Debug)]
pub struct RegistryEntry {
    pub name: String,
    pub base: Option<String>,
    pub reference: serde_json::Map<String, serde_json::Value>,
}

impl RegistryEntry {
    /// Reads the reference side of a registry file; errors are one line,
    /// `file:line:column: reason`.
    pub fn parse(file: &str, text: &str) -> Result<RegistryEntry, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let mut m = e.to_string();
            if let Some(i) = m.rfind(" at line ") {
                m.truncate(i);
            }
            format!("{file}:{}:{}: {m}", e.line(), e.column())
        })?;
        let o = v.as_object().ok_or_else(|| format!("{file}:1:1: a revision file is a JSON object"))?;
        let name = o.get("name").and_then(|n| n.as_str()).ok_or_else(|| format!("{file}:1:1: missing field `name`"))?;
        let base = match o.get("base") {
            None => None,
            Some(b) => Some(b.as_str().ok_or_else(|| format!("{file}:1:1: `base` must be a revision name"))?.to_string()),
        };
        let reference = match o.get("reference") {
            Some(serde_json::Value::Object(m)) => m.clone(),
            Some(_) => return Err(format!("{file}:1:1: `reference` must be an object of profile fields")),
            None => return Err(format!("{file}:1:1: missing field `reference` (the revision's reference profile)")),
        };
        Ok(RegistryEntry { name: name.to_string(), base, reference })
    }
}

fn registry() -> &'static Result<Vec<Profile>, String> {
    static R: std::sync::OnceLock<Result<Vec<Profile>, String>> = std::sync::OnceLock::new();
    R.get_or_init(|| resolve_registry(REGISTRY))
}

/// Resolves a registry (`(name, file text)` in dependency order: a base
/// before the revisions written against it) into profiles. Errors are one
/// line naming the file.
pub fn resolve_registry(entries: &[(&str, &str)]) -> Result<Vec<Profile>, String> {
    let mut out: Vec<Profile> = Vec::new();
    for (name, text) in entries {
        let file = format!("model/revisions/{name}.json");
        let e = RegistryEntry::parse(&file, text)?;
        if e.name != *name {
            return Err(format!("{file}:1:1: name {:?} is not the registry's {name:?}", e.name));
        }
        let mut merged = match &e.base {
            None => serde_json::Map::new(),
            Some(b) => {
                let base = out.iter().find(|p| p.name == *b).ok_or_else(|| format!("{file}:1:1: base {b:?} is not registered before it"))?;
                match serde_json::to_value(base) {
                    Ok(serde_json::Value::Object(m)) => m,
                    _ => return Err(format!("{file}:1:1: internal: profile is not an object")),
                }
            }
        };
        for (k, v) in &e.reference {
            if k == "name" || (e.base.is_some() && !merged.contains_key(k)) {
                return Err(format!("{file}:1:1: reference: unknown profile field {k:?}"));
            }
            merged.insert(k.clone(), v.clone());
        }
        merged.insert("name".into(), serde_json::Value::String(name.to_string()));
        let p: Profile = serde_json::from_value(serde_json::Value::Object(merged)).map_err(|err| format!("{file}:1:1: reference: {err}"))?;
        out.push(p);
    }
    Ok(out)
}

impl Profile {
    /// The registry's profiles, in registry order (panics only if a shipped
    /// registry file is malformed, which `tests` rule out).
    pub fn registered() -> &'static [Profile] {
        match registry() {
            Ok(v) => v,
            Err(e) => panic!("revision registry: {e}"),
        }
    }

    fn named(name: &str) -> Profile {
        Self::by_name(name).unwrap_or_else(|| panic!("revision registry has no {name}"))
    }

    pub fn v2() -> Profile {
        Self::named("v2")
    }

    pub fn v1() -> Profile {
        Self::named("v1")
    }

    pub fn v3() -> Profile {
        Self::named("v3")
    }

    pub fn nvme_6_12() -> Profile {
        Self::named("nvme-6.12")
    }

    /// The shipped revisions with a catalogue column.
    pub const NAMES: &'static [&'static str] = &["v1", "v2", "v3", "nvme-6.12"];

    /// Every registered name, in registry order.
    pub fn all_names() -> Vec<&'static str> {
        REGISTRY.iter().map(|(n, _)| *n).collect()
    }

    /// The registered mutants (`mut-*`): each breaks one property on purpose.
    pub fn mutant_names() -> Vec<&'static str> {
        REGISTRY.iter().map(|(n, _)| *n).filter(|n| n.starts_with("mut-")).collect()
    }

    /// A registered revision by name (`6.12` and `mainline` name nvme-6.12).
    pub fn by_name(name: &str) -> Option<Profile> {
        let name = match name {
            "6.12" | "mainline" => "nvme-6.12",
            n => n,
        };
        Self::registered().iter().find(|p| p.name == name).cloned()
    }

    /// The base a registered revision's profile is written against.
    pub fn base_of(name: &str) -> Option<String> {
        let (_, text) = REGISTRY.iter().find(|(n, _)| *n == name)?;
        RegistryEntry::parse(name, text).ok()?.base
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
        self.differences_from(&Profile::v2())
    }

    /// Every field that differs from `base`, as `field: base -> this` lines.
    pub fn differences_from(&self, base: &Profile) -> Vec<String> {
        let a = serde_json::to_value(base).unwrap_or_default();
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
