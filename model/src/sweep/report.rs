//! The report: violations grouped by root cause, the summary CI compares,
//! and each new group's smallest counterexample as a swimlane.

use super::plan::DEFAULT_MAX_STATES;
use super::results::{FileHeader, Key, Line};
use super::vocab::scenario_from_id;
use crate::checker::{check_with, Bounds, ModelError};
use crate::dataprop::PropertySet;
use crate::revision::RevisionSpec;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A root-cause group of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub key: Key,
    pub catalogued: Option<String>,
    /// (ops, id, revision, index) of every scenario in the group, smallest first.
    pub scenarios: Vec<(usize, String, String, usize)>,
}

/// Group the lines' violations by root cause: catalogued groups, then the
/// others, each in key order.
pub fn groups(lines: &[Line]) -> Vec<Group> {
    let mut m: BTreeMap<(bool, Key), Group> = BTreeMap::new();
    for l in lines {
        for v in &l.violations {
            let g = m.entry((v.catalogued.is_none(), v.key.clone())).or_insert_with(|| Group {
                key: v.key.clone(),
                catalogued: v.catalogued.clone(),
                scenarios: Vec::new(),
            });
            g.scenarios.push((l.ops, l.id.clone(), l.revision.clone(), l.i));
        }
    }
    let mut out: Vec<Group> = m.into_values().collect();
    for g in &mut out {
        g.scenarios.sort();
    }
    out
}

/// The group summary (what CI compares): counts, then one line per group.
pub fn summary(header: &FileHeader, lines: &[Line]) -> String {
    let mut s = String::new();
    let checked = lines.iter().filter(|l| l.not_expressible.is_none()).count();
    let nx = lines.len() - checked;
    let bound: Vec<&Line> = lines.iter().filter(|l| l.bound_reached()).collect();
    let gs = groups(lines);
    let new = gs.iter().filter(|g| g.catalogued.is_none()).count();
    s += &format!("sweep {} (vocabulary {}), shard {}\n", header.vocabulary.name, header.vocabulary_hash, header.shard);
    s += &format!(
        "scenarios: {} enumerated, {} thread-permutation and {} path-renaming duplicates skipped, {} to check; {} in this file: {} checked, {} not expressible, {} bound reached\n",
        header.enumerated,
        header.thread_duplicates,
        header.path_duplicates,
        header.scenarios,
        lines.len(),
        checked,
        nx,
        bound.len()
    );
    let nviol: usize = lines.iter().map(|l| l.violations.len()).sum();
    let ncat: usize = lines.iter().map(|l| l.violations.iter().filter(|v| v.catalogued.is_some()).count()).sum();
    s += &format!("violations: {nviol} ({ncat} catalogued, {} not) in {} root causes ({} catalogued, {new} not)\n", nviol - ncat, gs.len(), gs.len() - new);
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for l in lines {
        if let Some(r) = &l.not_expressible {
            *reasons.entry(r.as_str()).or_default() += 1;
        }
    }
    for (r, n) in reasons {
        s += &format!("  not expressible {n:>5}  {r}\n");
    }
    for l in &bound {
        let props: Vec<&str> = l.verdicts.iter().filter(|(_, v)| *v == "bound reached").map(|(k, _)| k.as_str()).collect();
        s += &format!("  bound reached    {} {} ({} unique states): {}\n", l.revision, l.id, l.unique, props.join(", "));
    }
    for (n, g) in gs.iter().enumerate() {
        let revs: BTreeSet<&str> = g.scenarios.iter().map(|x| x.2.as_str()).collect();
        let tag = match &g.catalogued {
            Some(c) => format!("catalogued: {c}"),
            None => "NOT CATALOGUED".into(),
        };
        s += &format!("{:>3}. {} [{}] {} scenarios on {}\n", n + 1, g.key, tag, g.scenarios.len(), revs.into_iter().collect::<Vec<_>>().join(", "));
    }
    s
}

/// The full report: the summary, then per group not catalogued its
/// smallest scenario's shortest counterexample (re-checked) as a swimlane
/// and the other scenarios of the group.
pub fn report(header: &FileHeader, lines: &[Line], width: usize, stop: &AtomicBool) -> Result<String, ModelError> {
    let mut s = summary(header, lines);
    let plan_props = {
        let mut p = PropertySet::default();
        for f in &header.vocabulary.properties {
            let set = PropertySet::load(f).map_err(|e| ModelError::Catalogue(format!("properties {f}: {e}")))?;
            p.extend(set).map_err(|e| ModelError::Catalogue(format!("properties {f}: {e}")))?;
        }
        p
    };
    for (n, g) in groups(lines).iter().enumerate() {
        if g.catalogued.is_some() {
            continue;
        }
        let (ops, id, revision, _) = &g.scenarios[0];
        s += &format!("\n=== {}. {} (NOT CATALOGUED)\n", n + 1, g.key);
        s += &format!("smallest: {revision} {id} ({ops} ops)\n");
        let sc = scenario_from_id(&header.vocabulary, id).ok_or_else(|| ModelError::Catalogue(format!("scenario id {id}: not from this vocabulary")))?;
        let rev_arg =
            header.vocabulary.revisions.iter().find(|r| RevisionSpec::load(r).is_ok_and(|x| x.name == *revision)).cloned().unwrap_or(revision.clone());
        let rev = RevisionSpec::load(&rev_arg)?;
        let bounds = Bounds { max_states: Some(header.vocabulary.max_states.unwrap_or(DEFAULT_MAX_STATES)), ..Bounds::default() };
        let r = check_with(&rev, &sc, &plan_props, &bounds, None, stop)?;
        if let Some(ce) = r.properties.iter().find(|p| p.property == g.key.property).and_then(|p| p.counterexample.as_ref()) {
            let m = crate::checker::machine_with(&rev, &sc, &plan_props, Arc::new(AtomicBool::new(false)))?;
            s += &format!("shortest counterexample: {} steps; {}\n", ce.steps.len(), ce.violation);
            s += &crate::render::render_counterexample(&m, ce, width);
        }
        let rest = &g.scenarios[1..];
        if !rest.is_empty() {
            s += &format!("other scenarios ({}):\n", rest.len());
            for (ops, id, rev, _) in rest.iter().take(REPORT_LIST) {
                s += &format!("  {rev} {id} ({ops} ops)\n");
            }
            if rest.len() > REPORT_LIST {
                s += &format!("  ... and {} more (the results file lists them)\n", rest.len() - REPORT_LIST);
            }
        }
    }
    Ok(s)
}

/// Scenarios listed per group in the report.
pub const REPORT_LIST: usize = 12;
