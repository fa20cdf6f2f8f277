//! The trace format's data types (format version [`FORMAT_VERSION`]).
//! They live here, beside the vocabulary, so that every producer (the
//! generator, the model's counterexamples) and every consumer (replay, the
//! KUnit exporter) shares one definition, and the one parser ([`parse`],
//! [`load`]: positioned one-line errors, never a panic) that the CLI's
//! replay and export and the model's sequential replay call. Replay lives
//! in `mpath-conformance` and `mpath-model`.
//!
//! A trace is JSON Lines: one [`Header`] line, then one [`Line`] per
//! operation.

use crate::driver::DriverKind;
use crate::head::{Config, System};
use crate::ops::{Observation, Op, OpError, Ret};
use crate::revision::Profile;
use crate::topology::Topology;
use serde::{Deserialize, Serialize};

pub const FORMAT_VERSION: u32 = 1;
/// Upper bounds a trace may ask for (keeps every consumer's memory bounded).
pub const MAX_PATHS: usize = 128;
pub const MAX_CTRLS: usize = 128;
pub const MAX_OPS: usize = 100_000;

/// Error text on one line, whatever the input quoted in it holds: control
/// characters (a newline in a JSON key, say) are written as escapes. Every
/// one-line `file:line:column: reason` error goes through it.
pub fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

fn default_true() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn default_iopolicy() -> String {
    "numa".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Format version; must equal [`FORMAT_VERSION`].
    pub mpath_trace: u32,
    /// Free text: what the trace shows (the spec bullet for corpus traces).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// `v1`, `v2`, `v3`, `nvme-6.12`, or a `mut-*` mutant.
    pub revision: String,
    /// Field overrides on top of `revision` (a profile diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<serde_json::Map<String, serde_json::Value>>,
    pub driver: DriverKind,
    pub topology: Topology,
    pub max_paths: usize,
    pub nr_ctrls: usize,
    /// NUMA node of each controller / host (`ctrl->numa_node`), -1 = none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ctrl_nodes: Vec<i32>,
    /// Initial iopolicy name.
    #[serde(default = "default_iopolicy")]
    pub iopolicy: String,
    /// Allocate the head disk before step 0 (`mpath_alloc_head_disk`).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub head_disk: bool,
    /// Operations applied before step 0, unchecked (initial paths).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<Op>,
    /// Labels: e.g. `needs_numa` (expectations depend on nodes other than 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// One operation line: the op, the return value and the observations the
/// reference expects afterwards (fields left out are not checked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    #[serde(rename = "do")]
    pub op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<Ret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Observation>,
    /// Optional comment (e.g. the model thread that issued this step).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Header {
    /// A header with defaults for a driver, revision and topology.
    pub fn new(revision: &str, driver: DriverKind, topology: Topology, max_paths: usize, nr_ctrls: usize) -> Header {
        Header {
            mpath_trace: FORMAT_VERSION,
            description: String::new(),
            revision: revision.into(),
            profile: None,
            driver,
            topology,
            max_paths,
            nr_ctrls,
            ctrl_nodes: Vec::new(),
            iopolicy: default_iopolicy(),
            head_disk: true,
            setup: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// The resolved profile (revision plus overrides).
    pub fn resolve_profile(&self) -> Result<Profile, String> {
        match &self.profile {
            None => {
                Profile::by_name(&self.revision).ok_or_else(|| format!("unknown revision {:?} (known: {})", self.revision, Profile::all_names().join(", ")))
            }
            Some(over) => {
                let mut m = over.clone();
                m.insert("base".into(), serde_json::Value::String(self.revision.clone()));
                Profile::from_json(&serde_json::Value::Object(m).to_string())
            }
        }
    }

    /// Checks everything but the ops; returns a reason on error.
    pub fn validate(&self) -> Result<Profile, String> {
        if self.mpath_trace != FORMAT_VERSION {
            return Err(format!("unsupported trace format version {} (this build reads {})", self.mpath_trace, FORMAT_VERSION));
        }
        let profile = self.resolve_profile()?;
        self.topology.validate()?;
        if self.max_paths == 0 || self.max_paths > MAX_PATHS {
            return Err(format!("max_paths must be in 1..={MAX_PATHS}, got {}", self.max_paths));
        }
        if self.nr_ctrls == 0 || self.nr_ctrls > MAX_CTRLS {
            return Err(format!("nr_ctrls must be in 1..={MAX_CTRLS}, got {}", self.nr_ctrls));
        }
        if self.ctrl_nodes.len() > self.nr_ctrls {
            return Err(format!("ctrl_nodes has {} entries for {} controllers", self.ctrl_nodes.len(), self.nr_ctrls));
        }
        if let Some(n) = self.ctrl_nodes.iter().find(|&&n| n != -1 && !self.topology.is_possible(n)) {
            return Err(format!("ctrl_nodes: node {n} is not possible"));
        }
        if crate::iopolicy::IoPolicy::from_name(&self.iopolicy).is_none() {
            return Err(format!("unknown iopolicy {:?}", self.iopolicy));
        }
        Ok(profile)
    }

    /// Build the system this header describes and run its setup.
    pub fn instantiate(&self) -> Result<System, String> {
        let profile = self.validate()?;
        let cfg = Config::new(profile, self.driver, self.topology.clone(), self.max_paths, self.nr_ctrls);
        let sys = System::new(&cfg);
        for (i, &n) in self.ctrl_nodes.iter().enumerate() {
            sys.ctrls[i].numa_node.store(n, crate::sync::Ordering::Relaxed);
        }
        sys.store_iopolicy(crate::iopolicy::IoPolicy::from_name(&self.iopolicy).unwrap_or_default());
        if self.head_disk {
            sys.alloc_head_disk(false, crate::ops::DEFAULT_CAPACITY);
        }
        for (i, op) in self.setup.iter().enumerate() {
            sys.apply(0, op).map_err(|OpError(e)| format!("setup[{i}]: {e}"))?;
        }
        Ok(sys)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Line {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Run ops on a fresh system and record full expectations: the way the
/// generator and the model's counterexamples produce traces.
pub fn record(header: &Header, ops: &[(Op, String)]) -> Result<Vec<Line>, String> {
    let sys = header.instantiate()?;
    let mut out = Vec::with_capacity(ops.len());
    for (i, (op, note)) in ops.iter().enumerate() {
        let ret = sys.apply(i as u64, op).map_err(|OpError(e)| format!("step {i}: {e}"))?;
        out.push(Line { op: op.clone(), ret: Some(ret), expect: Some(sys.observe()), note: note.clone() });
    }
    Ok(out)
}

/// Serialise a whole trace as JSON Lines.
pub fn to_jsonl(header: &Header, lines: &[Line]) -> String {
    let mut s = header.to_json();
    s.push('\n');
    for l in lines {
        s.push_str(&l.to_json());
        s.push('\n');
    }
    s
}

/// A parsed trace file: its header, the reference profile its revision
/// names, and its op lines with their 1-based file line numbers.
#[derive(Clone, Debug)]
pub struct Trace {
    pub file: String,
    pub header: Header,
    pub profile: Profile,
    /// (1-based file line number, op line).
    pub lines: Vec<(usize, Line)>,
}

/// A trace that cannot be read or parsed, located: `file:line:column:
/// reason` on one line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {}", one_line(file), one_line(reason))]
pub struct TraceError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl TraceError {
    pub fn new(file: &str, line: usize, column: usize, reason: impl Into<String>) -> TraceError {
        TraceError { file: file.to_string(), line, column, reason: reason.into() }
    }
}

fn json_err(file: &str, lineno: usize, e: &serde_json::Error) -> TraceError {
    let mut msg = e.to_string();
    // serde_json appends " at line L column C": the position is ours.
    if let Some(i) = msg.rfind(" at line ") {
        msg.truncate(i);
    }
    if e.is_eof() {
        msg = format!("truncated JSON ({msg})");
    }
    TraceError::new(file, lineno, e.column().max(1), msg)
}

/// Parses a trace (JSON Lines, format version 1) from text; `file` names
/// it in errors. The header is validated ([`Header::validate`]); at most
/// [`MAX_OPS`] op lines; blank lines are skipped.
pub fn parse(file: &str, text: &str) -> Result<Trace, TraceError> {
    let mut header: Option<(Header, Profile)> = None;
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        match &header {
            None => {
                let h: Header = serde_json::from_str(l).map_err(|e| json_err(file, lineno, &e))?;
                let p = h.validate().map_err(|r| TraceError::new(file, lineno, 1, r))?;
                header = Some((h, p));
            }
            Some(_) => {
                if lines.len() >= MAX_OPS {
                    return Err(TraceError::new(file, lineno, 1, format!("more than {MAX_OPS} operations")));
                }
                let line: Line = serde_json::from_str(l).map_err(|e| json_err(file, lineno, &e))?;
                lines.push((lineno, line));
            }
        }
    }
    let (header, profile) = header.ok_or_else(|| TraceError::new(file, 1, 1, "empty trace: no header line"))?;
    Ok(Trace { file: file.to_string(), header, profile, lines })
}

/// A file's text; not valid UTF-8 is an error naming the line.
pub fn read_text(path: &str) -> Result<String, TraceError> {
    let bytes = std::fs::read(path).map_err(|e| TraceError::new(path, 0, 0, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        TraceError::new(path, line, 1, "not valid UTF-8")
    })
}

/// Reads and parses a trace file.
pub fn load(path: &str) -> Result<Trace, TraceError> {
    parse(path, &read_text(path)?)
}
