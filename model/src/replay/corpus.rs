//! The corpus on the model: every trace replayed, outcomes and gaps counted.

use super::seq::{SeqOutcome, SeqTrace};
use super::sequential::{replay, replay_on};
use crate::revision::RevisionSpec;
use std::collections::BTreeMap;

/// The corpus summary: per-trace outcomes, and gaps counted by reason.
#[derive(Clone, Debug, Default)]
pub struct CorpusReport {
    pub outcomes: Vec<(String, SeqOutcome)>,
}

impl CorpusReport {
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|(_, o)| matches!(o, SeqOutcome::Pass { .. })).count()
    }
    pub fn diverged(&self) -> Vec<&(String, SeqOutcome)> {
        self.outcomes.iter().filter(|(_, o)| matches!(o, SeqOutcome::Diverged(_))).collect()
    }
    /// Gap reason -> number of traces.
    pub fn gaps(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for (_, o) in &self.outcomes {
            if let SeqOutcome::Gap(g) = o {
                *m.entry(g.reason.clone()).or_insert(0) += 1;
            }
        }
        m
    }
    pub fn checks(&self) -> usize {
        self.outcomes.iter().map(|(_, o)| if let SeqOutcome::Pass { checks, .. } = o { *checks } else { 0 }).sum()
    }
    /// The totals line and one line per gap reason (count first, most
    /// frequent first, then by reason): deterministic.
    pub fn summary(&self) -> String {
        let gaps = self.gaps();
        let ngap: usize = gaps.values().sum();
        let mut out = format!(
            "model replay: {} traces: {} passed ({} checks), {} diverged, {} not expressible ({} gap reasons)\n",
            self.outcomes.len(),
            self.passed(),
            self.checks(),
            self.diverged().len(),
            ngap,
            gaps.len()
        );
        let mut v: Vec<(&String, &usize)> = gaps.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (r, n) in v {
            out.push_str(&format!("  {n:>3}  {r}\n"));
        }
        out
    }
}

/// Replays every trace (each on its header's revision).
pub fn replay_all(traces: &[SeqTrace]) -> CorpusReport {
    CorpusReport { outcomes: traces.iter().map(|t| (t.file.clone(), replay(t))).collect() }
}

/// Replays every trace on `spec`'s step programs.
pub fn replay_all_on(spec: &RevisionSpec, traces: &[SeqTrace]) -> CorpusReport {
    CorpusReport { outcomes: traces.iter().map(|t| (t.file.clone(), replay_on(spec, t))).collect() }
}
