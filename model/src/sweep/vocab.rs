//! The vocabulary file (revisions, properties, topologies, operation
//! templates), its errors, and scenario ids (`topology:ops|ops`) both ways.

use crate::scenario::{Scenario, ThreadSpec};
use mpath_reference::ops::Op;
use mpath_reference::trace::Header;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The operation vocabulary of a sweep (a JSON file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Revisions (shipped names or revision files), swept in this order.
    pub revisions: Vec<String>,
    /// Properties files checked with the built-in properties.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    /// Thread counts (each `k` in the list).
    pub threads: Vec<usize>,
    /// Operations per thread: every thread runs 1..=this many.
    pub ops_per_thread: usize,
    /// Unique states per check (`bound reached` past it); default 200000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_states: Option<usize>,
    pub topologies: Vec<Topology>,
    /// Driver (`nvme`, `scsi`) -> operation templates: an operation of the
    /// trace format whose `path` / `node` / `ctrl` may be `"$p"` (every
    /// path listed after the setup), `"$new"` (every slot below
    /// `max_paths` unused after the setup), `"$n"` (every node of the
    /// topology) or `"$c"` (every controller).
    pub ops: BTreeMap<String, Vec<Value>>,
}

/// A topology: a scenario header (driver, nodes, paths, iopolicy, setup).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    pub name: String,
    /// Only these of the vocabulary's revisions (default: all), e.g. no
    /// SCSI topology on nvme-6.12.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<String>,
    pub header: Header,
}

/// Bad vocabulary or results file: `file:line:col: reason`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {reason}")]
pub struct SweepError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub reason: String,
}

impl SweepError {
    pub(super) fn at(file: &str, text: &str, needle: &str, reason: impl Into<String>) -> SweepError {
        let (line, col) = locate(text, needle);
        SweepError { file: file.into(), line, col, reason: reason.into().replace('\n', " ") }
    }
}

/// Line and column (1-based) of the first occurrence of `needle` (1:1 if absent).
fn locate(text: &str, needle: &str) -> (usize, usize) {
    match (needle.is_empty(), text.find(needle)) {
        (false, Some(i)) => {
            let before = &text[..i];
            let line = before.matches('\n').count() + 1;
            let col = i - before.rfind('\n').map(|j| j + 1).unwrap_or(0) + 1;
            (line, col)
        }
        _ => (1, 1),
    }
}

/// 64-bit FNV-1a, hex: the vocabulary's fingerprint in a results file.
pub fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// An operation in a scenario id: `remove_path(path=0)`, `submit_bio`.
pub fn op_words(op: &Op) -> String {
    let v = serde_json::to_value(op).unwrap_or(Value::Null);
    let Value::Object(m) = v else { return "?".into() };
    let name = m.get("op").and_then(|x| x.as_str()).unwrap_or("?").to_string();
    let args: Vec<String> = m
        .iter()
        .filter(|(k, _)| k.as_str() != "op")
        .map(|(k, v)| match v {
            // A string that would read back as a number or keyword stays quoted.
            Value::String(s) if serde_json::from_str::<Value>(s).is_ok_and(|x| !x.is_string()) => format!("{k}={v}"),
            Value::String(s) => format!("{k}={s}"),
            v => format!("{k}={v}"),
        })
        .collect();
    if args.is_empty() {
        name
    } else {
        format!("{name}({})", args.join(","))
    }
}

/// `topology:thread|thread`, each thread its operations joined by `;`.
pub fn scenario_id(topology: &str, ops: &[Op], threads: &[Vec<usize>]) -> String {
    let ts: Vec<String> = threads.iter().map(|t| t.iter().map(|&o| op_words(&ops[o])).collect::<Vec<_>>().join(";")).collect();
    format!("{topology}:{}", ts.join("|"))
}

/// Rebuild a scenario from its id (`topology:ops|ops`) and the vocabulary.
pub fn scenario_from_id(voc: &Vocabulary, id: &str) -> Option<Scenario> {
    let (topo, rest) = id.split_once(':')?;
    let t = voc.topologies.iter().find(|t| t.name == topo)?;
    let mut threads = Vec::new();
    for (k, th) in rest.split('|').enumerate() {
        let ops: Option<Vec<Op>> = th.split(';').map(op_from_words).collect();
        threads.push(ThreadSpec { name: format!("T{}", k + 1), ops: ops? });
    }
    Some(Scenario { name: id.into(), description: String::new(), header: t.header.clone(), threads })
}

/// The inverse of [`op_words`].
pub fn op_from_words(w: &str) -> Option<Op> {
    let (name, args) = match w.split_once('(') {
        Some((n, a)) => (n, a.strip_suffix(')')?),
        None => (w, ""),
    };
    let mut m = serde_json::Map::new();
    m.insert("op".into(), Value::from(name));
    for a in args.split(',').filter(|a| !a.is_empty()) {
        let (k, v) = a.split_once('=')?;
        let val = serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::from(v));
        m.insert(k.into(), val);
    }
    serde_json::from_value(Value::Object(m)).ok()
}
