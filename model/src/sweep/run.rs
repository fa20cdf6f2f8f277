//! Running a sweep: the root causes the catalogue accounts for, one
//! scenario's check, and a shard's run into a resumable results file.

use super::plan::{Item, Plan};
use super::results::{key_of, read_results, Found, Key, Line, Shard};
use super::vocab::SweepError;
use crate::catalogue::{Expect, Expectations};
use crate::checker::{check_with, Bounds, ModelError, Verdict};
use crate::dataprop::PropertySet;
use crate::revision::RevisionSpec;
use crate::scenario::Scenario;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The root causes a revision's catalogue expectations account for:
/// key -> `scenario property (from)`.
pub fn catalogued_keys(rev: &RevisionSpec, props: &PropertySet, bounds: &Bounds, stop: &AtomicBool) -> Result<BTreeMap<Key, String>, ModelError> {
    let exps = Expectations::of(rev)?;
    let mut out = BTreeMap::new();
    let mut by_scenario: BTreeMap<String, (String, Vec<(String, String)>)> = BTreeMap::new();
    for p in exps.pairs.iter().filter(|p| p.expected.expect == Expect::Reproduced) {
        by_scenario.entry(p.scenario.clone()).or_insert_with(|| (p.scenario_spec.clone(), Vec::new())).1.push((p.property.clone(), p.expected.from.clone()));
    }
    for (name, (spec, list)) in by_scenario {
        let sc = Scenario::load(&spec)?;
        let r = check_with(rev, &sc, props, bounds, None, stop)?;
        for (prop, from) in list {
            if let Some(ce) = r.properties.iter().find(|p| p.property == prop).and_then(|p| p.counterexample.as_ref()) {
                // A catalogue column is named by the revision itself; a
                // declaration (`mut-x breaks`) is worth saying.
                let label = if from.contains(' ') { format!("{name} {prop} ({from})") } else { format!("{name} {prop}") };
                out.entry(key_of(&prop, ce)).or_insert(label);
            }
        }
    }
    Ok(out)
}

/// Check one scenario; `None` when interrupted (nothing to record).
pub fn check_item(plan: &Plan, item: &Item, catalogued: &BTreeMap<Key, String>, stop: &AtomicBool) -> Result<Option<Line>, ModelError> {
    let rev = RevisionSpec::load(&item.revision)?;
    let mut line = Line {
        i: item.index,
        revision: rev.name.clone(),
        id: item.scenario.name.clone(),
        ops: item.ops,
        not_expressible: None,
        states: 0,
        unique: 0,
        depth: 0,
        verdicts: BTreeMap::new(),
        violations: Vec::new(),
    };
    let r = match check_with(&rev, &item.scenario, &plan.props, &plan.bounds(), None, stop) {
        Ok(r) => r,
        Err(e @ (ModelError::Scenario(_) | ModelError::Revision(_))) => {
            let msg = e.to_string();
            let msg = msg.strip_prefix(&format!("scenario {}: ", item.scenario.name)).unwrap_or(&msg).to_string();
            // One reason per missing function, not per operation that needs it.
            let msg = msg.split(" (needed by ").next().unwrap_or(&msg).to_string();
            line.not_expressible = Some(msg.replace(&item.scenario.name, "<scenario>"));
            return Ok(Some(line));
        }
        Err(e) => return Err(e),
    };
    if stop.load(Ordering::Relaxed) || r.properties.iter().any(|p| p.verdict == Verdict::Interrupted) {
        return Ok(None);
    }
    line.states = r.states;
    line.unique = r.unique_states;
    line.depth = r.max_depth;
    for p in &r.properties {
        line.verdicts.insert(p.property.clone(), p.verdict.to_string());
        if let Some(ce) = &p.counterexample {
            let key = key_of(&p.property, ce);
            let catalogued = catalogued.get(&key).cloned();
            line.violations.push(Found { key, steps: ce.steps.len(), catalogued });
        }
    }
    Ok(Some(line))
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub checked: usize,
    pub resumed: usize,
    pub interrupted: bool,
}

/// Sweep `shard` of `plan` into `out` (created, or resumed when `resume`
/// and the file exists: its header must match; lines already present are
/// skipped, a truncated last line is rewritten). `progress(done, total)`
/// is called after each scenario. Each line is flushed as it is written.
pub fn run(plan: &Plan, shard: Shard, out: &str, resume: bool, stop: &AtomicBool, progress: &dyn Fn(usize, usize, &str)) -> Result<RunStats, SweepRunError> {
    let header = plan.header(shard);
    let mut done: BTreeSet<usize> = BTreeSet::new();
    let mut stats = RunStats::default();
    let exists = std::path::Path::new(out).exists();
    let mut f = if resume && exists {
        let r = read_results(out)?;
        if r.header != header {
            return Err(SweepError {
                file: out.into(),
                line: 1,
                col: 1,
                reason: format!(
                    "not a run of this vocabulary and shard (file: {} {} shard {}; now: {} {} shard {})",
                    r.header.vocabulary.name, r.header.vocabulary_hash, r.header.shard, header.vocabulary.name, header.vocabulary_hash, header.shard
                ),
            }
            .into());
        }
        done.extend(r.lines.iter().map(|l| l.i));
        stats.resumed = done.len();
        let f = std::fs::OpenOptions::new().write(true).open(out).map_err(|e| io_err(out, e))?;
        f.set_len(r.valid_len).map_err(|e| io_err(out, e))?;
        let mut f = f;
        use std::io::Seek;
        f.seek(std::io::SeekFrom::End(0)).map_err(|e| io_err(out, e))?;
        f
    } else {
        if let Some(d) = std::path::Path::new(out).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(|e| io_err(out, e))?;
        }
        let mut f = std::fs::File::create(out).map_err(|e| io_err(out, e))?;
        writeln!(f, "{}", serde_json::to_string(&header).map_err(|e| io_err(out, std::io::Error::other(e)))?).map_err(|e| io_err(out, e))?;
        f.flush().map_err(|e| io_err(out, e))?;
        f
    };
    let todo: Vec<usize> = (0..plan.len()).filter(|&i| shard.takes(i)).collect();
    let total = todo.len();
    let mut cat: BTreeMap<String, BTreeMap<Key, String>> = BTreeMap::new();
    let mut n = 0;
    for i in todo {
        n += 1;
        if done.contains(&i) {
            continue;
        }
        if stop.load(Ordering::Relaxed) {
            stats.interrupted = true;
            break;
        }
        let item = plan.item(i).ok_or_else(|| SweepRunError::Model(ModelError::Catalogue(format!("scenario {i} out of range"))))?;
        progress(n - 1, total, &format!("{} {}", item.revision, item.scenario.name));
        if !cat.contains_key(&item.revision) {
            let rev = RevisionSpec::load(&item.revision).map_err(ModelError::from)?;
            cat.insert(item.revision.clone(), catalogued_keys(&rev, &plan.props, &Bounds::default(), stop)?);
        }
        match check_item(plan, &item, &cat[&item.revision], stop)? {
            Some(line) => {
                writeln!(f, "{}", serde_json::to_string(&line).map_err(|e| io_err(out, std::io::Error::other(e)))?).map_err(|e| io_err(out, e))?;
                f.flush().map_err(|e| io_err(out, e))?;
                stats.checked += 1;
            }
            None => {
                stats.interrupted = true;
                break;
            }
        }
    }
    if !stats.interrupted {
        progress(total, total, "");
    }
    Ok(stats)
}

#[derive(Debug, thiserror::Error)]
pub enum SweepRunError {
    #[error(transparent)]
    Input(#[from] SweepError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

fn io_err(file: &str, e: std::io::Error) -> SweepRunError {
    SweepError { file: file.into(), line: 1, col: 1, reason: e.to_string() }.into()
}
