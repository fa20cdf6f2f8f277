//! The analysis of a [`RunFile`]: per workload and kernel side, each
//! round gives one ratio, the reference's fastest batch over the kernel's
//! fastest batch, both from the same round ([`Estimator::Fastest`]: the
//! fastest of the round's batches is what survives background load, since
//! a batch that was preempted or shared its core is only ever slower).
//! [`rows`] gives the median ratio over rounds, its interquartile range
//! and its min–max, and judges the goal (reference within [`GOAL_RATIO`]
//! of the kernel) on the median, unless the interquartile range is wider
//! than [`NOISE_LIMIT`] of the median ("too noisy to judge") or fewer
//! than [`MIN_ROUNDS`] rounds have both numbers. Rendering is
//! [`crate::report`]'s and [`crate::plot`]'s.

use crate::run::{Arch, RunFile, MIN_ROUNDS, REFERENCE};
use crate::workloads::{self, Mix};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The goal: the reference within this factor of the kernel C.
pub const GOAL_RATIO: f64 = 1.5;
/// A ratio whose interquartile range exceeds this fraction of its median
/// is too noisy to judge.
pub const NOISE_LIMIT: f64 = 0.25;
/// Order statistics of a set of figures (quantiles interpolate linearly).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub n: usize,
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
    pub min: f64,
    pub max: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl Stats {
    /// `None` for no figures.
    pub fn of(xs: &[f64]) -> Option<Stats> {
        if xs.is_empty() {
            return None;
        }
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        Some(Stats { n: v.len(), median: quantile(&v, 0.5), q1: quantile(&v, 0.25), q3: quantile(&v, 0.75), min: v[0], max: v[v.len() - 1] })
    }
    /// Interquartile range relative to the median.
    pub fn rel_iqr(&self) -> f64 {
        if self.median > 0.0 {
            (self.q3 - self.q1) / self.median
        } else {
            f64::INFINITY
        }
    }
}

/// The goal's verdict for one workload against one kernel side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Verdict {
    /// Median ratio ≤ [`GOAL_RATIO`].
    Within = 0,
    /// Median ratio > [`GOAL_RATIO`].
    Over = 1,
    /// Interquartile range wider than [`NOISE_LIMIT`] of the median.
    TooNoisy = 2,
    /// Fewer than [`MIN_ROUNDS`] rounds with both numbers.
    TooFewRounds = 3,
    /// The kernel side has no number (skipped, e.g. needs NUMA or SMP).
    NoKernelFigure = 4,
    /// The kernel side ran under QEMU TCG: emulated ns are not judged.
    Emulated = 5,
}

impl Verdict {
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Within => "within",
            Verdict::Over => "over",
            Verdict::TooNoisy => "too noisy",
            Verdict::TooFewRounds => "too few rounds",
            Verdict::NoKernelFigure => "–",
            Verdict::Emulated => "not judged (emulated)",
        }
    }
    fn judge(ratio: Option<&Stats>) -> Verdict {
        match ratio {
            None => Verdict::NoKernelFigure,
            Some(s) if s.n < MIN_ROUNDS => Verdict::TooFewRounds,
            Some(s) if s.rel_iqr() > NOISE_LIMIT => Verdict::TooNoisy,
            Some(s) if s.median <= GOAL_RATIO => Verdict::Within,
            Some(_) => Verdict::Over,
        }
    }
}

/// One kernel side's column of a row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelCol {
    /// Median over rounds of the round's median batch, ns/op.
    pub ns: Option<Stats>,
    /// Why the kernel has no number (`needs-numa`, `needs-smp`).
    pub skip: Option<String>,
    /// reference / kernel per round.
    pub ratio: Option<Stats>,
    pub verdict: Verdict,
}

/// One workload of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub workload: String,
    pub family: String,
    pub mix: Option<Mix>,
    pub paths: usize,
    pub nodes: usize,
    /// The reference's median batch over rounds, ns/op.
    pub reference: Option<Stats>,
    pub kernel: BTreeMap<Arch, KernelCol>,
}

/// Which batch of a round stands for the round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Estimator {
    /// The fastest batch (what the report judges).
    Fastest = 0,
    /// The median batch (judged before 2026-12-02; printed for comparison).
    Median = 1,
}

impl Estimator {
    fn of(self, f: &crate::run::Figure) -> Option<f64> {
        match self {
            Estimator::Fastest => f.min,
            Estimator::Median => f.med,
        }
    }
    pub fn text(self) -> &'static str {
        match self {
            Estimator::Fastest => "fastest batch",
            Estimator::Median => "median batch",
        }
    }
}

fn figures(run: &RunFile, side: &str, wl: &str, est: Estimator) -> Vec<f64> {
    run.rounds.iter().filter_map(|r| est.of(r.figures.get(side)?.get(wl)?)).collect()
}

/// Rows of every workload of the run, in workload order, then reader
/// scaling, each round represented by its fastest batch.
pub fn rows(run: &RunFile) -> Vec<Row> {
    rows_by(run, Estimator::Fastest)
}

/// [`rows`] with each round represented by `est`'s batch.
pub fn rows_by(run: &RunFile, est: Estimator) -> Vec<Row> {
    let mut out = Vec::new();
    let mut defs: Vec<(String, String, Option<Mix>, usize, usize)> =
        workloads::all().into_iter().map(|w| (w.name.clone(), w.family.clone(), w.mix, w.nr_paths(), w.nodes)).collect();
    defs.extend(crate::kunit::SCALING_READERS.iter().map(|r| (format!("reader_scaling/t{r}"), "reader_scaling".to_string(), None, 8, 1)));
    for (name, family, mix, paths, nodes) in defs {
        let reference = Stats::of(&figures(run, REFERENCE, &name, est));
        let mut kernel = BTreeMap::new();
        for arch in run.kernel_arches() {
            let side = arch.name();
            let ns = Stats::of(&figures(run, side, &name, est));
            let skip = run.rounds.iter().find_map(|r| r.figures.get(side)?.get(&name)?.skip.clone());
            let ratios: Vec<f64> = run
                .rounds
                .iter()
                .filter_map(|r| {
                    let k = est.of(r.figures.get(side)?.get(&name)?)?;
                    let x = est.of(r.figures.get(REFERENCE)?.get(&name)?)?;
                    (k > 0.0).then_some(x / k)
                })
                .collect();
            let ratio = Stats::of(&ratios);
            let emulated = run.side(side).is_some_and(|s| s.emulated);
            let verdict = if emulated && ratio.is_some() { Verdict::Emulated } else { Verdict::judge(ratio.as_ref()) };
            kernel.insert(arch, KernelCol { ns, skip, ratio, verdict });
        }
        out.push(Row { workload: name, family, mix, paths, nodes, reference, kernel });
    }
    out
}

/// See [`Report::primary`].
pub fn primary(run: &RunFile) -> Option<Arch> {
    let x = run.side(Arch::X86_64.name());
    match x {
        Some(s) if !s.emulated => Some(Arch::X86_64),
        _ if run.side(Arch::Um.name()).is_some() => Some(Arch::Um),
        _ => x.map(|_| Arch::X86_64),
    }
}

pub fn fmt_ns(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

pub fn arch_label(run: &RunFile, a: Arch) -> String {
    let emu = run.side(a.name()).is_some_and(|s| s.emulated);
    match (a, emu) {
        (Arch::Um, _) => "UML".into(),
        (Arch::X86_64, false) => "x86_64 KVM".into(),
        (Arch::X86_64, true) => "x86_64 TCG (emulated)".into(),
    }
}
