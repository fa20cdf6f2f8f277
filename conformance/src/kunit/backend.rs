//! What every KUnit backend shares: the kernel a suite targets, one
//! exported case, the C text helpers, the [`KunitBackend`] trait (one
//! implementation per backend module: `export_nvme612`, `export_lib`) and
//! the prechecks every backend runs before it emits any C.

use crate::parse::Trace;
use mpath_reference::driver::DriverKind;
use mpath_reference::ops::Op;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Trace file.
    pub trace: String,
    /// KUnit case (C function) name.
    pub case: String,
    pub steps: usize,
    /// KUNIT_EXPECTs emitted.
    pub checks: usize,
    /// Expectation fields the backend cannot observe (e.g. sysfs links on 6.12).
    pub not_applicable: usize,
    /// The step at which the trace expects the kernel to oops (a NULL
    /// dereference): the case stops there and runs alone, in its own boot,
    /// in the `<suite>_oops` suite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oops_at: Option<i64>,
}

/// A C string literal for arbitrary text: escaped, bounded, trigraph-safe.
pub fn c_str(s: &str) -> String {
    let mut out = String::from("\"");
    for (i, b) in s.bytes().enumerate() {
        if i >= 240 {
            out.push_str("...");
            break;
        }
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'?' => out.push_str("\\?"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{:03o}", b);
            }
        }
    }
    out.push('"');
    out
}

/// A C identifier from arbitrary text: `[a-z0-9_]`, bounded, never empty.
pub fn c_ident(prefix: &str, s: &str) -> String {
    let mut id = String::from(prefix);
    let mut last_us = prefix.ends_with('_');
    for c in s.chars().flat_map(|c| c.to_lowercase()) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
            last_us = false;
        } else if !last_us {
            id.push('_');
            last_us = true;
        }
        if id.len() >= 56 {
            break;
        }
    }
    id.trim_end_matches('_').to_string()
}

/// A compact one-line rendering of an op for the step diagnostic:
/// `set_ana_state path=0 state=inaccessible` (keeps the console output
/// small enough that UML never drops KTAP lines).
pub fn step_text(op: &Op) -> String {
    let v = serde_json::to_value(op).unwrap_or_default();
    let Some(o) = v.as_object() else { return String::new() };
    let mut s = o.get("op").and_then(|x| x.as_str()).unwrap_or("op").to_string();
    for (k, val) in o {
        if k == "op" {
            continue;
        }
        let t = match val {
            serde_json::Value::String(x) => x.clone(),
            other => other.to_string(),
        };
        s.push_str(&format!(" {k}={t}"));
    }
    s
}

/// The kernel a suite is exported for: the series API its
/// `include/linux/multipath.h` declares (libmultipath) and its NUMA nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub api: crate::series::Api,
    /// Possible (and online) node ids, with the kernel's default distances
    /// (10 local, 20 remote): `[0]` under UML, `[0, 1]` under QEMU.
    pub nodes: Vec<i32>,
}

impl Target {
    /// UML: one node, v2 API.
    pub fn uml() -> Target {
        Target { api: crate::series::Api::V2, nodes: vec![0] }
    }

    /// Whether a trace's topology is this kernel's; why not, otherwise.
    pub fn accepts(&self, t: &mpath_reference::Topology) -> Result<(), String> {
        let mine = mpath_reference::Topology { possible: self.nodes.clone(), online: self.nodes.clone(), distances: Vec::new() };
        let same_distances = t.possible.iter().all(|&a| t.possible.iter().all(|&b| t.node_distance(a, b) == mine.node_distance(a, b)));
        if t.possible == self.nodes && t.online == self.nodes && same_distances {
            return Ok(());
        }
        let kernel = if self.nodes == [0] { "UML has only node 0".to_string() } else { format!("this kernel has nodes {:?}, distances 10/20", self.nodes) };
        Err(format!("needs NUMA nodes {:?} online {:?}{} ({kernel})", t.possible, t.online, if same_distances { "" } else { " with other distances" }))
    }
}

/// One quoted line of a wiring file in the header comment (checkpatch
/// --strict clean: no trailing space, no space before a tab, no `*/`).
pub fn quoted(s: &mut String, l: &str) {
    let l = l.replace("*/", "* /");
    if l.is_empty() {
        s.push_str(" *\n");
    } else {
        let _ = writeln!(s, " *\t{l}");
    }
}

/// A kernel backend the exporter drives: what it checks a trace against,
/// how it emits a case, and the C every suite of it starts with.
pub trait KunitBackend: Sync {
    /// The revision whose expectations the backend's kernel C has, for
    /// `target` (libmultipath: the API the tree declares), or why no trace
    /// can be checked against that kernel.
    fn revision(&self, target: &Target) -> Result<&'static str, String>;
    /// Why a SCSI trace is not exported.
    fn no_scsi(&self) -> &'static str;
    /// Why a trace with revision `got`'s expectations is not checked
    /// against revision `want`'s kernel.
    fn wrong_revision(&self, want: &str, got: &str) -> String;
    /// The most paths, and the most controllers, one case may have.
    fn max_paths(&self) -> usize;
    /// The case named `case` for a trace that passed [`precheck`]: its C
    /// and what it checks, or why it cannot be driven.
    fn body(&self, t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String>;
    /// The rest of the suite's header comment (its wiring) and the C
    /// before the first case, for a tree declaring `api`.
    fn prelude(&self, api: crate::series::Api) -> String;
}

/// The checks every backend makes before it emits C, in this order: the
/// kernel has a revision to check against, the trace is NVMe, its
/// expectations are that revision's, its topology is the kernel's, it
/// fits the backend's limits.
pub fn precheck(b: &dyn KunitBackend, t: &Trace, target: &Target) -> Result<(), String> {
    let h = &t.header;
    let want = b.revision(target)?;
    if h.driver != DriverKind::Nvme {
        return Err(b.no_scsi().into());
    }
    if t.profile.name != want {
        return Err(b.wrong_revision(want, &t.profile.name));
    }
    target.accepts(&h.topology)?;
    let max = b.max_paths();
    if h.nr_ctrls > max || h.max_paths > max {
        return Err(format!("more than {max} paths or controllers"));
    }
    Ok(())
}

/// One trace as a case of backend `b`: the prechecks, then its body.
pub fn case(b: &dyn KunitBackend, t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String> {
    precheck(b, t, target)?;
    b.body(t, case, target)
}
