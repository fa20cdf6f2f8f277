//! The plan: a vocabulary enumerated per (revision, topology) cell into
//! canonical scenarios, addressed by one global index.

use super::results::{FileHeader, Shard, SWEEP_VERSION};
use super::symmetry::{canonical_scenarios, path_maps, sequences};
use super::vocab::{fingerprint, scenario_id, SweepError, Topology, Vocabulary};
use crate::checker::{Bounds, Mode};
use crate::dataprop::PropertySet;
use crate::revision::RevisionSpec;
use crate::scenario::{op_entry, state_of_system, Scenario, ThreadSpec};
use crate::state::{Life, State, MAXP};
use mpath_reference::ops::Op;
use serde_json::Value;
use std::collections::BTreeSet;

/// One (revision, topology) cell of the sweep: its operations and the
/// canonical scenarios, as operation-index lists per thread.
#[derive(Clone, Debug)]
pub struct Cell {
    pub revision: String,
    /// The vocabulary's revision argument (name or file).
    pub revision_arg: String,
    pub topology: usize,
    pub ops: Vec<Op>,
    pub scenarios: Vec<Vec<Vec<usize>>>,
}

/// The enumerated sweep.
#[derive(Clone, Debug)]
pub struct Plan {
    pub vocabulary: Vocabulary,
    /// The vocabulary file as given and its fingerprint.
    pub file: String,
    pub hash: String,
    pub cells: Vec<Cell>,
    /// Scenarios enumerated (before symmetry), thread-permutation
    /// duplicates and path-renaming duplicates skipped.
    pub enumerated: u64,
    pub thread_duplicates: u64,
    pub path_duplicates: u64,
    pub props: PropertySet,
}

/// One scenario of the plan, by global index.
#[derive(Clone, Debug)]
pub struct Item {
    pub index: usize,
    pub revision: String,
    pub scenario: Scenario,
    pub ops: usize,
}

impl Plan {
    /// Load a vocabulary file and enumerate it.
    pub fn load(file: &str) -> Result<Plan, SweepError> {
        let text = std::fs::read_to_string(file).map_err(|e| SweepError { file: file.into(), line: 1, col: 1, reason: format!("cannot read: {e}") })?;
        Self::from_text(file, &text)
    }

    pub fn from_text(file: &str, text: &str) -> Result<Plan, SweepError> {
        let voc: Vocabulary = serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.rsplit_once(" at line ").map(|(m, _)| m.to_string()).unwrap_or(msg);
            SweepError { file: file.into(), line: e.line().max(1), col: e.column().max(1), reason: msg }
        })?;
        let err = |needle: &str, reason: String| SweepError::at(file, text, needle, reason);
        if voc.revisions.is_empty() {
            return Err(err("\"revisions\"", "no revisions".into()));
        }
        if voc.threads.is_empty() || voc.threads.iter().any(|&k| k == 0 || k > crate::state::MAXT - 1) {
            return Err(err("\"threads\"", format!("threads: each count must be 1..={}", crate::state::MAXT - 1)));
        }
        if voc.ops_per_thread == 0 || voc.ops_per_thread > 4 {
            return Err(err("\"ops_per_thread\"", "ops_per_thread must be 1..=4".into()));
        }
        if voc.topologies.is_empty() {
            return Err(err("\"topologies\"", "no topologies".into()));
        }
        let mut props = PropertySet::default();
        for p in &voc.properties {
            let set = PropertySet::load(p).map_err(|e| err(p, format!("properties {p}: {e}")))?;
            props.extend(set).map_err(|e| err(p, format!("properties {p}: {e}")))?;
        }
        let mut revs = Vec::new();
        for r in &voc.revisions {
            revs.push(RevisionSpec::load(r).map_err(|e| err(&format!("\"{r}\""), format!("revision {r}: {e}")))?);
        }
        let mut names = BTreeSet::new();
        for t in &voc.topologies {
            if let Some(r) = t.revisions.iter().find(|r| !voc.revisions.contains(r)) {
                return Err(err(&format!("\"{r}\""), format!("topology {}: revision {r} is not in \"revisions\"", t.name)));
            }
            if !names.insert(t.name.clone()) {
                return Err(err(&format!("\"{}\"", t.name), format!("topology {}: defined twice", t.name)));
            }
            let key = match t.header.driver {
                mpath_reference::DriverKind::Nvme => "nvme",
                mpath_reference::DriverKind::Scsi => "scsi",
            };
            if voc.ops.get(key).is_none_or(|v| v.is_empty()) {
                return Err(err(&format!("\"{}\"", t.name), format!("topology {}: no operations for driver {key} in \"ops\"", t.name)));
            }
        }
        let mut plan = Plan {
            vocabulary: voc.clone(),
            file: file.into(),
            hash: fingerprint(text),
            cells: Vec::new(),
            enumerated: 0,
            thread_duplicates: 0,
            path_duplicates: 0,
            props,
        };
        for (rev, arg) in revs.iter().zip(&voc.revisions) {
            for (ti, topo) in voc.topologies.iter().enumerate() {
                if !topo.revisions.is_empty() && !topo.revisions.contains(arg) {
                    continue;
                }
                let mut cell = plan.cell(rev, ti, topo, text)?;
                cell.revision_arg = arg.clone();
                plan.cells.push(cell);
            }
        }
        Ok(plan)
    }

    fn cell(&mut self, rev: &RevisionSpec, ti: usize, topo: &Topology, text: &str) -> Result<Cell, SweepError> {
        let file = self.file.clone();
        let err = |needle: &str, reason: String| SweepError::at(&file, text, needle, reason);
        let tname = &topo.name;
        let probe = Scenario {
            name: tname.clone(),
            description: String::new(),
            header: topo.header.clone(),
            threads: vec![ThreadSpec { name: "T".into(), ops: vec![Op::Synchronize] }],
        };
        probe.validate().map_err(|e| err(&format!("\"{tname}\""), format!("topology {tname}: {e}")))?;
        let h = probe.effective_header(&rev.setup_profile_name());
        let sys = h.instantiate().map_err(|e| err(&format!("\"{tname}\""), format!("topology {tname}: setup: {e}")))?;
        let init = state_of_system(&sys).map_err(|e| err(&format!("\"{tname}\""), format!("topology {tname}: {e}")))?;
        let maxp = topo.header.max_paths.min(MAXP);
        let ops = self.expand_templates(topo, &init, maxp, text)?;
        let maps = path_maps(&init, maxp, &ops);
        let seqs = sequences(ops.len(), self.vocabulary.ops_per_thread);
        let classes = canonical_scenarios(&seqs, &self.vocabulary.threads, &maps);
        self.enumerated += classes.enumerated;
        self.thread_duplicates += classes.thread_duplicates;
        self.path_duplicates += classes.path_duplicates;
        Ok(Cell { revision: rev.name.clone(), revision_arg: rev.name.clone(), topology: ti, ops, scenarios: classes.scenarios })
    }

    /// The vocabulary's operation templates for `topo`'s driver, each `$p`,
    /// `$new`, `$n`, `$c` expanded over the listed paths, the unused slots,
    /// the nodes and the controllers of the initial state `init`; duplicates
    /// dropped, in template order.
    fn expand_templates(&self, topo: &Topology, init: &State, maxp: usize, text: &str) -> Result<Vec<Op>, SweepError> {
        let err = |needle: &str, reason: String| SweepError::at(&self.file, text, needle, reason);
        let listed: Vec<u64> = (0..maxp).filter(|&i| init.paths[i].life == Life::Linked).map(|i| i as u64).collect();
        let unused: Vec<u64> = (0..maxp).filter(|&i| init.paths[i].life == Life::Unused).map(|i| i as u64).collect();
        let nodes: Vec<u64> = topo.header.topology.possible.iter().map(|&n| n as u64).collect();
        let ctrls: Vec<u64> = (0..topo.header.nr_ctrls as u64).collect();
        let dkey = match topo.header.driver {
            mpath_reference::DriverKind::Nvme => "nvme",
            mpath_reference::DriverKind::Scsi => "scsi",
        };
        let mut ops: Vec<Op> = Vec::new();
        for tpl in self.vocabulary.ops.get(dkey).into_iter().flatten() {
            let shown = serde_json::to_string(tpl).unwrap_or_default();
            let mut expanded = vec![tpl.clone()];
            for field in ["path", "node", "ctrl"] {
                let mut next = Vec::new();
                for v in expanded {
                    let dom = match v.get(field).and_then(|x| x.as_str()) {
                        Some("$p") => Some(&listed),
                        Some("$new") => Some(&unused),
                        Some("$n") => Some(&nodes),
                        Some("$c") => Some(&ctrls),
                        Some(other) => return Err(err(other, format!("template {shown}: {field} {other:?} is none of $p, $new, $n, $c"))),
                        None => None,
                    };
                    match dom {
                        Some(d) => {
                            for &x in d {
                                let mut w = v.clone();
                                w[field] = Value::from(x);
                                next.push(w);
                            }
                        }
                        None => next.push(v),
                    }
                }
                expanded = next;
            }
            for v in expanded {
                let op: Op = serde_json::from_value(v.clone()).map_err(|e| err(&first_key(tpl), format!("template {shown}: {e}")))?;
                op_entry(&op, topo.header.driver).map_err(|e| err(&first_key(tpl), format!("template {shown}: {e}")))?;
                if !ops.contains(&op) {
                    ops.push(op);
                }
            }
        }
        Ok(ops)
    }

    /// Scenarios kept (after symmetry).
    pub fn len(&self) -> usize {
        self.cells.iter().map(|c| c.scenarios.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Scenario `index` (0-based, plan order).
    pub fn item(&self, index: usize) -> Option<Item> {
        let mut base = 0;
        for c in &self.cells {
            if index < base + c.scenarios.len() {
                let threads = &c.scenarios[index - base];
                let topo = &self.vocabulary.topologies[c.topology];
                let id = scenario_id(&topo.name, &c.ops, threads);
                let scenario = Scenario {
                    name: id,
                    description: String::new(),
                    header: topo.header.clone(),
                    threads: threads
                        .iter()
                        .enumerate()
                        .map(|(t, ops)| ThreadSpec { name: format!("T{}", t + 1), ops: ops.iter().map(|&o| c.ops[o].clone()).collect() })
                        .collect(),
                };
                let ops = threads.iter().map(|t| t.len()).sum();
                return Some(Item { index, revision: c.revision_arg.clone(), scenario, ops });
            }
            base += c.scenarios.len();
        }
        None
    }

    /// The results file's first line.
    pub fn header(&self, shard: Shard) -> FileHeader {
        FileHeader {
            sweep: SWEEP_VERSION,
            vocabulary: self.vocabulary.clone(),
            vocabulary_hash: self.hash.clone(),
            shard: shard.to_string(),
            scenarios: self.len(),
            enumerated: self.enumerated,
            thread_duplicates: self.thread_duplicates,
            path_duplicates: self.path_duplicates,
        }
    }

    pub fn bounds(&self) -> Bounds {
        Bounds { max_states: Some(self.vocabulary.max_states.unwrap_or(DEFAULT_MAX_STATES)), mode: Mode::Bfs, ..Bounds::default() }
    }
}

/// Unique states per scenario unless the vocabulary says otherwise.
pub const DEFAULT_MAX_STATES: usize = 200_000;

fn first_key(tpl: &Value) -> String {
    tpl.get("op").and_then(|x| x.as_str()).map(|s| format!("\"{s}\"")).unwrap_or_default()
}
