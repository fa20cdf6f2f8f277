//! The results file: its header, one line per checked scenario (verdicts
//! and root-cause keys), reading, writing, merging shards.

use super::vocab::{SweepError, Vocabulary};
use crate::checker::Counterexample;
use crate::schedule::StepForm;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Version of the results file format.
pub const SWEEP_VERSION: u32 = 1;

/// `--shard i/n`: 1-based `i`; shard `i` takes every scenario whose
/// 0-based index `x` has `x % n == i - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub i: usize,
    pub n: usize,
}

impl Shard {
    pub const ALL: Shard = Shard { i: 1, n: 1 };
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (a, b) = s.split_once('/').ok_or_else(|| format!("shard {s:?}: expected i/n"))?;
        let (i, n): (usize, usize) = (
            a.trim().parse().map_err(|_| format!("shard {s:?}: i is not a number"))?,
            b.trim().parse().map_err(|_| format!("shard {s:?}: n is not a number"))?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(format!("shard {s:?}: need 1 <= i <= n (i is 1-based)"));
        }
        Ok(Shard { i, n })
    }
    pub fn takes(&self, index: usize) -> bool {
        index % self.n == self.i - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.i, self.n)
    }
}

/// The first line of a results file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHeader {
    pub sweep: u32,
    pub vocabulary: Vocabulary,
    pub vocabulary_hash: String,
    /// `i/n`; a merge of every shard says `1/1`.
    pub shard: String,
    /// Scenarios after symmetry (whole sweep).
    pub scenarios: usize,
    pub enumerated: u64,
    pub thread_duplicates: u64,
    pub path_duplicates: u64,
}

/// A violation's root cause: the property, and the function and step of
/// the transition at which its shortest counterexample first violates it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub property: String,
    pub function: String,
    pub step: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {} at {}", self.property, self.function, self.step)
    }
}

/// The root cause of a counterexample of `property`.
pub fn key_of(property: &str, ce: &Counterexample) -> Key {
    let at = ce.violation.step as usize;
    match ce.schedule.get(at) {
        Some(s) if !ce.schedule.is_empty() => Key {
            property: property.into(),
            function: s.function.clone(),
            step: match &s.step {
                Some(StepForm::Step(st)) => serde_json::to_string(st).unwrap_or_else(|_| s.primitive.clone()),
                Some(StepForm::Work(w)) => format!("work {} starts", w.work),
                None => s.primitive.clone(),
            },
        },
        _ => Key { property: property.into(), function: "(initial state)".into(), step: "-".into() },
    }
}

/// One violation in a results line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Found {
    #[serde(flatten)]
    pub key: Key,
    /// Transitions in the shortest counterexample.
    pub steps: usize,
    /// The catalogue pair with the same root cause (`N2a no_stale_path_after_removal (v2)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogued: Option<String>,
}

/// One checked scenario (a line of the results file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Index in the plan (0-based).
    pub i: usize,
    pub revision: String,
    pub id: String,
    /// Operations in the scenario.
    pub ops: usize,
    /// Why the scenario could not run on this revision (an operation it
    /// lacks); nothing else is set then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_expressible: Option<String>,
    #[serde(default)]
    pub states: usize,
    #[serde(default)]
    pub unique: usize,
    #[serde(default)]
    pub depth: usize,
    /// property -> verdict words (`holds`, `VIOLATED`, `bound reached`).
    #[serde(default)]
    pub verdicts: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Found>,
}

impl Line {
    pub fn bound_reached(&self) -> bool {
        self.verdicts.values().any(|v| v == "bound reached")
    }
}

/// Read a results file: its header and lines. A last line without its
/// newline or that does not parse (a run killed while writing) is
/// dropped; `valid_len` is the byte length of what was kept.
pub struct ResultsFile {
    pub header: FileHeader,
    pub lines: Vec<Line>,
    pub valid_len: u64,
    pub truncated: bool,
}

pub fn read_results(file: &str) -> Result<ResultsFile, SweepError> {
    let text = std::fs::read_to_string(file).map_err(|e| SweepError { file: file.into(), line: 1, col: 1, reason: format!("cannot read: {e}") })?;
    parse_results(file, &text)
}

pub fn parse_results(file: &str, text: &str) -> Result<ResultsFile, SweepError> {
    let bad = |line: usize, col: usize, reason: String| SweepError { file: file.into(), line, col, reason };
    let mut pos = 0usize;
    let mut header: Option<FileHeader> = None;
    let mut lines = Vec::new();
    let mut truncated = false;
    let parts: Vec<&str> = text.split_inclusive('\n').collect();
    for (n, raw) in parts.iter().enumerate() {
        let last = n + 1 == parts.len();
        let complete = raw.ends_with('\n');
        let body = raw.trim_end_matches('\n');
        if n == 0 {
            let h: FileHeader = serde_json::from_str(body).map_err(|e| bad(1, e.column().max(1), format!("not a sweep results header: {}", strip_pos(&e))))?;
            if h.sweep != SWEEP_VERSION {
                return Err(bad(1, 1, format!("results format {} (this build reads {SWEEP_VERSION})", h.sweep)));
            }
            if !complete {
                return Err(bad(1, 1, "header line is incomplete".into()));
            }
            header = Some(h);
        } else {
            match serde_json::from_str::<Line>(body) {
                Ok(l) if complete => lines.push(l),
                Ok(_) | Err(_) if last => {
                    truncated = true;
                    break;
                }
                Err(e) => return Err(bad(n + 1, e.column().max(1), strip_pos(&e))),
                Ok(_) => unreachable!(),
            }
        }
        pos += raw.len();
    }
    let header = header.ok_or_else(|| bad(1, 1, "empty results file".into()))?;
    Ok(ResultsFile { header, lines, valid_len: pos as u64, truncated })
}

fn strip_pos(e: &serde_json::Error) -> String {
    let m = e.to_string();
    m.rsplit_once(" at line ").map(|(a, _)| a.to_string()).unwrap_or(m)
}

/// Merge results files of one vocabulary (shards, or a resumed run):
/// lines by index, each index once. The header says `1/1` when the
/// inputs cover every shard of one `n`, otherwise the shards joined by `+`.
pub fn merge(files: &[String]) -> Result<(FileHeader, Vec<Line>), SweepError> {
    let mut header: Option<FileHeader> = None;
    let mut shards: BTreeSet<String> = BTreeSet::new();
    let mut lines: BTreeMap<usize, Line> = BTreeMap::new();
    for f in files {
        let r = read_results(f)?;
        if r.truncated {
            return Err(SweepError {
                file: f.clone(),
                line: r.lines.len() + 2,
                col: 1,
                reason: "last line incomplete (resume the run with --resume first)".into(),
            });
        }
        let mut h = r.header.clone();
        shards.insert(h.shard.clone());
        h.shard = String::new();
        match &header {
            None => header = Some(h),
            Some(h0) if *h0 != h => {
                return Err(SweepError {
                    file: f.clone(),
                    line: 1,
                    col: 1,
                    reason: format!(
                        "another vocabulary ({} {}) than {} ({} {})",
                        h.vocabulary.name, h.vocabulary_hash, files[0], h0.vocabulary.name, h0.vocabulary_hash
                    ),
                })
            }
            _ => {}
        }
        for (k, l) in r.lines.into_iter().enumerate() {
            if let Some(prev) = lines.get(&l.i) {
                if *prev != l {
                    return Err(SweepError {
                        file: f.clone(),
                        line: k + 2,
                        col: 1,
                        reason: format!("scenario {} ({}) differs from an earlier file's line", l.i, l.id),
                    });
                }
            }
            lines.insert(l.i, l);
        }
    }
    let mut header = header.ok_or_else(|| SweepError { file: "-".into(), line: 1, col: 1, reason: "no results files".into() })?;
    let parsed: Vec<Shard> = shards.iter().filter_map(|s| Shard::parse(s).ok()).collect();
    let complete = parsed.first().is_some_and(|s0| parsed.iter().all(|s| s.n == s0.n) && (1..=s0.n).all(|i| parsed.iter().any(|s| s.i == i)));
    header.shard = if complete { "1/1".into() } else { shards.into_iter().collect::<Vec<_>>().join("+") };
    Ok((header, lines.into_values().collect()))
}

/// Write a header and lines as a results file.
pub fn write_results(file: &str, header: &FileHeader, lines: &[Line]) -> std::io::Result<()> {
    let mut s = serde_json::to_string(header).map_err(std::io::Error::other)? + "\n";
    for l in lines {
        s += &serde_json::to_string(l).map_err(std::io::Error::other)?;
        s.push('\n');
    }
    std::fs::write(file, s)
}
