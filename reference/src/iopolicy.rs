//! iopolicy helpers and sysfs (§11).

use crate::disk::EINVAL;
use crate::head::System;
use crate::rculist::enc;
use crate::select::{IOPOLICY_NAMES, IOPOLICY_NUMA};
use crate::sync::Ordering;
use crate::violation::{Kind, Object};

/// `mpath_set_iopolicy(val, &iopolicy)`: prefix match; 0 or `-EINVAL`.
pub fn set_iopolicy(val: Option<&str>) -> Result<u8, i32> {
    let v = val.ok_or(-EINVAL)?;
    for (i, name) in IOPOLICY_NAMES.iter().enumerate() {
        if v.starts_with(name) {
            return Ok(i as u8);
        }
    }
    Err(-EINVAL)
}

/// `sysfs_streq`: exact match, one trailing newline allowed on either side.
pub fn sysfs_streq(a: &str, b: &str) -> bool {
    a.strip_suffix('\n').unwrap_or(a) == b.strip_suffix('\n').unwrap_or(b)
}

/// `names[i]` without a bounds check: out of range is reported.
pub fn iopolicy_name(i: u8) -> Option<&'static str> {
    IOPOLICY_NAMES.get(i as usize).copied()
}

impl System {
    /// `mpath_get_iopolicy(buf, iopolicy)` / `mpath_iopolicy_show`.
    pub fn iopolicy_show(&self) -> String {
        let i = self.get_iopolicy();
        match iopolicy_name(i) {
            Some(n) => format!("{n}\n"),
            None => {
                self.violate(Kind::OutOfBounds, Object::Head, "mpath_iopolicy_show");
                String::new()
            }
        }
    }

    /// `mpath_iopolicy_store`: true on a valid name; updates when changed.
    /// Returns (accepted, changed).
    pub fn iopolicy_store(&self, buf: &str) -> (bool, bool) {
        for (i, name) in IOPOLICY_NAMES.iter().enumerate() {
            if sysfs_streq(buf, name) {
                let old = self.iopolicy.load(Ordering::Relaxed);
                if old == i as u8 {
                    return (true, false);
                }
                self.iopolicy.store(i as u8, Ordering::Relaxed);
                return (true, true);
            }
        }
        (false, false)
    }

    /// `mpath_numa_nodes_show(dev, p, buf)`.
    pub fn numa_nodes_show(&self, p: u32) -> String {
        const F: &str = "mpath_numa_nodes_show";
        if self.get_iopolicy() != IOPOLICY_NUMA {
            return String::new();
        }
        self.head(F);
        let idx = self.srcu.read_lock();
        let mut nodes = Vec::new();
        for &node in &self.topo.possible {
            if self.cp_load(node, F) == enc(p) {
                nodes.push(node);
            }
        }
        self.srcu.read_unlock(idx);
        format!("{}\n", nodelist(&nodes))
    }
}

/// `%*pbl` of a sorted node list: ranges joined by commas, e.g. `0-2,5`.
pub fn nodelist(nodes: &[i32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let start = nodes[i];
        let mut end = start;
        while i + 1 < nodes.len() && nodes[i + 1] == end + 1 {
            i += 1;
            end = nodes[i];
        }
        out.push(if start == end { format!("{start}") } else { format!("{start}-{end}") });
        i += 1;
    }
    out.join(",")
}

/// The policy names, in `enum mpath_iopolicy_e` order.
pub const IOPOLICY_NAME_LIST: [&str; 3] = IOPOLICY_NAMES;
