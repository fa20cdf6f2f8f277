//! iopolicy helpers and sysfs (§11).

use crate::disk::EINVAL;
use crate::head::System;
use crate::rculist::enc;
use crate::sync::Ordering;
use crate::violation::{Kind, Object};

/// `enum mpath_iopolicy_e` (NVMe `enum nvme_iopolicy`): the I/O policy,
/// named as the kernel's sysfs attribute shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum IoPolicy {
    #[default]
    Numa = 0,
    RoundRobin = 1,
    QueueDepth = 2,
}

impl IoPolicy {
    /// Every policy, in enum order.
    pub const ALL: [IoPolicy; 3] = [IoPolicy::Numa, IoPolicy::RoundRobin, IoPolicy::QueueDepth];

    /// The sysfs name (`numa`, `round-robin`, `queue-depth`).
    pub const fn name(self) -> &'static str {
        match self {
            IoPolicy::Numa => "numa",
            IoPolicy::RoundRobin => "round-robin",
            IoPolicy::QueueDepth => "queue-depth",
        }
    }

    /// The policy named exactly `name`.
    pub fn from_name(name: &str) -> Option<IoPolicy> {
        IoPolicy::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The checked conversion of the kernel's int (a register, the attribute's
/// storage): the byte itself back when it names no policy.
impl TryFrom<u8> for IoPolicy {
    type Error = u8;
    fn try_from(x: u8) -> Result<IoPolicy, u8> {
        IoPolicy::ALL.get(x as usize).copied().ok_or(x)
    }
}

impl From<IoPolicy> for u8 {
    fn from(p: IoPolicy) -> u8 {
        p as u8
    }
}

/// The policy names, in `enum mpath_iopolicy_e` order (`mpath_iopolicy_names[]`).
pub const IOPOLICY_NAMES: [&str; 3] = [IoPolicy::Numa.name(), IoPolicy::RoundRobin.name(), IoPolicy::QueueDepth.name()];

/// `mpath_set_iopolicy(val, &iopolicy)`: prefix match; the policy or `-EINVAL`.
pub fn set_iopolicy(val: Option<&str>) -> Result<IoPolicy, i32> {
    let v = val.ok_or(-EINVAL)?;
    IoPolicy::ALL.into_iter().find(|p| v.starts_with(p.name())).ok_or(-EINVAL)
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
    /// The iopolicy (`mpdt->get_iopolicy(head)` / `READ_ONCE(subsys->iopolicy)`):
    /// `None` when the int names no policy (a test's corruption: the
    /// selectors then take the kernel's `default:`, NUMA's loop).
    pub fn get_iopolicy(&self) -> Option<IoPolicy> {
        IoPolicy::try_from(self.iopolicy.load(Ordering::Relaxed)).ok()
    }

    /// `WRITE_ONCE(iopolicy, p)`.
    pub fn store_iopolicy(&self, p: IoPolicy) {
        self.iopolicy.store(p as u8, Ordering::Relaxed)
    }

    /// `mpath_get_iopolicy(buf, iopolicy)` / `mpath_iopolicy_show`.
    pub fn iopolicy_show(&self) -> String {
        let i = self.iopolicy.load(Ordering::Relaxed);
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
        for p in IoPolicy::ALL {
            if sysfs_streq(buf, p.name()) {
                if self.get_iopolicy() == Some(p) {
                    return (true, false);
                }
                self.store_iopolicy(p);
                return (true, true);
            }
        }
        (false, false)
    }

    /// `mpath_numa_nodes_show(dev, p, buf)`.
    pub fn numa_nodes_show(&self, p: u32) -> String {
        const F: &str = "mpath_numa_nodes_show";
        if self.get_iopolicy() != Some(IoPolicy::Numa) {
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
