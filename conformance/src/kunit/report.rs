//! KTAP results mapped back to traces and steps.

use super::export::Export;
use super::ktap::{Status, SuiteResult};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Verdict {
    Passed {
        checks: usize,
        not_applicable: usize,
        findings: Vec<String>,
    },
    /// Failed at a trace step: the expectation and what the kernel gave.
    Failed {
        step: i64,
        detail: Vec<String>,
    },
    /// The case started but never finished: the kernel crashed or hung.
    Unfinished {
        last_step: Option<i64>,
    },
    /// The case is missing from the KTAP.
    Missing,
    /// The trace expected the kernel to oops at `step`, and it did: the
    /// kernel's own report, from the case's own boot.
    Reproduced {
        step: i64,
        report: String,
    },
    Skipped {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceReport {
    pub trace: String,
    pub case: Option<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub passed: usize,
    /// Expected oopses that the kernel produced, each in its own boot.
    pub reproduced: usize,
    pub failed: usize,
    pub unfinished: usize,
    pub skipped: usize,
    pub suite_complete: bool,
    pub traces: Vec<TraceReport>,
    /// Skip reasons with their counts.
    pub skip_reasons: Vec<(String, usize)>,
    /// Kernel reports printed during the run (each fails it).
    pub kernel_reports: Vec<super::ktap::KernelReport>,
    /// Totals over the cases that ran.
    pub kernel_checks: usize,
    pub not_applicable: usize,
}

/// The verdict of a case expected to oops at `step`, from its own boot.
fn oops_verdict(trace: &str, case: &str, step: i64, r: Option<&SuiteResult>) -> Verdict {
    let Some(r) = r else {
        return Verdict::Skipped { reason: format!("expects an oops at step {step}: runs only in its own boot (`kunit run`)") };
    };
    if let Some(k) = r.kernel_reports.iter().find(|k| k.at.as_ref().is_some_and(|(t, n)| t == trace && *n == step)) {
        return Verdict::Reproduced { step, report: k.line.clone() };
    }
    match r.cases.iter().find(|k| k.name == case) {
        Some(k) if k.status.is_some() => Verdict::Failed { step, detail: vec![format!("expected an oops at step {step}; the kernel went on")] },
        Some(k) => Verdict::Unfinished { last_step: k.last_step.as_ref().map(|s| s.1) },
        None => Verdict::Missing,
    }
}

/// Joins an export with the parsed suite, and with the boots of the cases
/// expected to oops (`oops`: case name -> that boot's `<suite>_oops` result).
pub fn join(x: &Export, r: &SuiteResult, oops: &[(String, SuiteResult)]) -> Summary {
    let mut s = Summary { suite_complete: r.complete, kernel_reports: r.kernel_reports.clone(), ..Default::default() };
    for c in &x.cases {
        if let Some(step) = c.oops_at {
            let verdict = oops_verdict(&c.trace, &c.case, step, oops.iter().find(|(n, _)| *n == c.case).map(|(_, r)| r));
            match &verdict {
                Verdict::Reproduced { .. } => s.reproduced += 1,
                Verdict::Skipped { .. } => s.skipped += 1,
                Verdict::Unfinished { .. } => s.unfinished += 1,
                _ => s.failed += 1,
            }
            s.traces.push(TraceReport { trace: c.trace.clone(), case: Some(c.case.clone()), verdict });
            continue;
        }
        // A case that never finished has no result line, hence no name: its
        // diagnostics name the trace.
        let got = r
            .cases
            .iter()
            .find(|k| k.name == c.case)
            .or_else(|| r.cases.iter().find(|k| k.status.is_none() && k.last_step.as_ref().is_some_and(|(t, _)| *t == c.trace)));
        let verdict = match got {
            Some(k) => match k.status {
                Some(Status::Ok) => Verdict::Passed { checks: c.checks, not_applicable: c.not_applicable, findings: k.findings.clone() },
                Some(Status::Skip) => Verdict::Skipped { reason: "skipped by the kernel".into() },
                Some(Status::NotOk) => match &k.failure {
                    Some((step, detail)) => Verdict::Failed { step: *step, detail: detail.clone() },
                    None => Verdict::Failed {
                        step: k.last_step.as_ref().map(|s| s.1).unwrap_or(-1),
                        detail: vec!["case failed without an expectation message".into()],
                    },
                },
                None => Verdict::Unfinished { last_step: k.last_step.as_ref().map(|s| s.1) },
            },
            None if r.complete => Verdict::Missing,
            None => Verdict::Unfinished { last_step: None },
        };
        match &verdict {
            Verdict::Passed { checks, not_applicable, .. } => {
                s.passed += 1;
                s.kernel_checks += checks;
                s.not_applicable += not_applicable;
            }
            Verdict::Failed { .. } | Verdict::Missing | Verdict::Reproduced { .. } => s.failed += 1,
            Verdict::Unfinished { .. } => s.unfinished += 1,
            Verdict::Skipped { .. } => s.skipped += 1,
        }
        s.traces.push(TraceReport { trace: c.trace.clone(), case: Some(c.case.clone()), verdict });
    }
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for k in &x.skipped {
        s.skipped += 1;
        // Count by reason class (drop the step prefix).
        let class = k.reason.split_once(": ").filter(|(a, _)| a.starts_with("step ")).map(|(_, b)| b.to_string()).unwrap_or_else(|| k.reason.clone());
        *reasons.entry(class).or_default() += 1;
        s.traces.push(TraceReport { trace: k.trace.clone(), case: None, verdict: Verdict::Skipped { reason: k.reason.clone() } });
    }
    s.skip_reasons = reasons.into_iter().collect();
    s
}

impl Summary {
    pub fn print(&self) {
        for t in &self.traces {
            match &t.verdict {
                Verdict::Passed { checks, not_applicable, findings } => {
                    println!("PASS {} ({checks} kernel checks, {not_applicable} fields not applicable)", t.trace);
                    for f in findings {
                        println!("  FINDING {f}");
                    }
                }
                Verdict::Failed { step, detail } => println!("FAIL {} at step {step}: {}", t.trace, detail.join(" | ")),
                Verdict::Unfinished { last_step } => {
                    println!("UNFINISHED {} (last step {})", t.trace, last_step.map(|s| s.to_string()).unwrap_or_else(|| "none".into()))
                }
                Verdict::Missing => println!("MISSING {} (case absent from the KTAP)", t.trace),
                Verdict::Reproduced { step, report } => println!("REPRODUCED {} at step {step}: the expected oops, in kernel C: {report}", t.trace),
                Verdict::Skipped { reason } => println!("SKIP {}: {reason}", t.trace),
            }
        }
        for (r, n) in &self.skip_reasons {
            println!("skipped {n}: {r}");
        }
        for k in &self.kernel_reports {
            match &k.at {
                Some((t, step)) => println!("KERNEL REPORT at {t}:{step}: {}", k.line),
                None => println!("KERNEL REPORT: {}", k.line),
            }
        }
        println!(
            "{} passed, {} expected oopses reproduced, {} failed, {} unfinished, {} skipped; {} kernel checks in passed cases, {} fields not applicable; {} kernel reports",
            self.passed,
            self.reproduced,
            self.failed,
            self.unfinished,
            self.skipped,
            self.kernel_checks,
            self.not_applicable,
            self.kernel_reports.len()
        );
    }
}
