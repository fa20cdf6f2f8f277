//! A raw KTAP reader for kunit.py's `--raw_output=all` or a console log.
//! It keeps what kunit.py's `--json` drops: the diagnostic lines that say
//! which trace step ran last and what an expectation saw. Lines it does not
//! understand (kernel log noise) are ignored, as KTAP allows.

use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CaseResult {
    pub name: String,
    /// `ok` / `not ok` / `skip`; None when the case never finished.
    pub status: Option<Status>,
    /// Last `# mpv: <trace>:<step>` seen in this case.
    pub last_step: Option<(String, i64)>,
    /// Step named by the first failed expectation, and its message lines.
    pub failure: Option<(i64, Vec<String>)>,
    /// `# mpv-finding: <trace>:<step> <text>` lines: what the kernel C was
    /// seen to do that the trace expected as a violation (e.g. a spin).
    pub findings: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    NotOk,
    Skip,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SuiteResult {
    pub name: String,
    pub cases: Vec<CaseResult>,
    /// The suite's own ok / not ok line was seen.
    pub complete: bool,
    /// Kernel reports (WARNING, BUG, KASAN, lockdep, list corruption, oops,
    /// soft lockup) printed while the suite ran, each with the trace step
    /// that was running: any of them fails the run.
    pub kernel_reports: Vec<KernelReport>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KernelReport {
    /// The last `# mpv: <trace>:<step>` before the report, if any.
    pub at: Option<(String, i64)>,
    pub line: String,
}

/// The first line of a kernel report, if `l` is one.
pub fn kernel_report(l: &str) -> bool {
    const MARKS: [&str; 15] = [
        "RIP: ",
        "WARNING: CPU:",
        "BUG: ",
        "kernel BUG at",
        "Kernel panic - ",
        "Oops",
        "general protection fault",
        "possible circular locking dependency detected",
        "possible recursive locking detected",
        "inconsistent lock state",
        "suspicious RCU usage",
        "list_add corruption",
        "list_del corruption",
        "watchdog: BUG: soft lockup",
        "UBSAN: ",
    ];
    MARKS.iter().any(|m| l.contains(m)) || l.contains("KASAN: ")
}

/// The kernel reports in `text` (a slice of console output), one entry per
/// report: its first line, joined (" | ") with up to two further marked
/// lines and, for a KASAN report, its "Read/Write of size N at addr ... by
/// task ..." line.
pub fn kernel_reports_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut last = usize::MAX - 64;
    let mut kasan_open = false;
    for (n, raw) in text.lines().enumerate() {
        let l = clean(raw);
        let access = l.starts_with("Read of size") || l.starts_with("Write of size");
        if kasan_open && access && n < last + 4 {
            if let Some(k) = out.last_mut() {
                k.push_str(" | ");
                k.push_str(l);
            }
            kasan_open = false;
            continue;
        }
        if !kernel_report(l) {
            continue;
        }
        match out.last_mut() {
            Some(k) if n < last + 32 => {
                if k.matches(" | ").count() < 2 {
                    k.push_str(" | ");
                    k.push_str(l);
                }
            }
            _ => {
                out.push(l.to_string());
                kasan_open = l.contains("KASAN: ");
            }
        }
        last = n;
    }
    out
}

/// Strip a console timestamp (`[   1.234567] `) and leading spaces.
fn clean(line: &str) -> &str {
    let mut l = line.trim_end_matches(['\r', '\n']);
    if l.starts_with('[') {
        if let Some(i) = l.find("] ") {
            if l[1..i].trim().chars().all(|c| c.is_ascii_digit() || c == '.') {
                l = &l[i + 2..];
            }
        }
    }
    l.trim_start()
}

/// `ok N name [# SKIP ...]` / `not ok N name`.
fn result_line(l: &str) -> Option<(Status, String)> {
    let (st, rest) = if let Some(r) = l.strip_prefix("not ok ") {
        (Status::NotOk, r)
    } else if let Some(r) = l.strip_prefix("ok ") {
        (Status::Ok, r)
    } else {
        return None;
    };
    let mut it = rest.splitn(2, ' ');
    let num = it.next()?;
    if !num.chars().all(|c| c.is_ascii_digit()) || num.is_empty() {
        return None;
    }
    let tail = it.next().unwrap_or("").trim();
    let (name, directive) = match tail.find(" #") {
        Some(i) => (&tail[..i], &tail[i + 2..]),
        None => (tail, ""),
    };
    let st = if directive.trim_start().to_ascii_uppercase().starts_with("SKIP") { Status::Skip } else { st };
    Some((st, name.trim().to_string()))
}

/// `# mpv: <trace>:<step> ...` -> (trace, step).
fn mpv_step(l: &str) -> Option<(String, i64)> {
    let i = l.find("# mpv: ")?;
    let rest = &l[i + 7..];
    let head = rest.split(' ').next()?;
    let (trace, step) = head.rsplit_once(':')?;
    Some((trace.to_string(), step.parse().ok()?))
}

/// Parses the suite named `suite` out of raw KTAP text.
pub fn parse(text: &str, suite: &str) -> SuiteResult {
    let mut r = SuiteResult { name: suite.to_string(), ..Default::default() };
    let mut in_suite = false;
    let mut cur = CaseResult::default();
    let mut in_failure: Option<Vec<String>> = None;
    // Lines of one report (the WARNING / panic line, the RIP line) within a
    // few lines of each other are one report.
    let mut last_report_line = usize::MAX - 64;
    for (n, raw) in text.lines().enumerate() {
        let l = clean(raw);
        if in_suite && kernel_report(l) {
            match r.kernel_reports.last_mut() {
                Some(k) if n < last_report_line + 32 && k.at == cur.last_step => {
                    if k.line.matches(" | ").count() < 2 {
                        k.line.push_str(" | ");
                        k.line.push_str(l);
                    }
                }
                _ => r.kernel_reports.push(KernelReport { at: cur.last_step.clone(), line: l.to_string() }),
            }
            last_report_line = n;
        }
        if !in_suite {
            if l.starts_with("# Subtest:") && l.trim_end().ends_with(suite) {
                in_suite = true;
            }
            continue;
        }
        if let Some(i) = l.find("# mpv-finding: ") {
            cur.findings.push(l[i + 15..].trim().to_string());
            continue;
        }
        if let Some((trace, step)) = mpv_step(l) {
            if let Some(lines) = in_failure.take() {
                cur.failure.get_or_insert((cur.last_step.as_ref().map(|s| s.1).unwrap_or(-1), lines));
            }
            cur.last_step = Some((trace, step));
            continue;
        }
        if let Some((st, name)) = result_line(l) {
            if let Some(lines) = in_failure.take() {
                cur.failure.get_or_insert((cur.last_step.as_ref().map(|s| s.1).unwrap_or(-1), lines));
            }
            if name == suite {
                r.complete = true;
                break;
            }
            cur.name = name;
            cur.status = Some(st);
            r.cases.push(std::mem::take(&mut cur));
            continue;
        }
        if l.contains("EXPECTATION FAILED") || l.contains("ASSERTION FAILED") {
            if cur.failure.is_none() && in_failure.is_none() {
                in_failure = Some(vec![l.trim_start_matches("# ").to_string()]);
            }
            continue;
        }
        if let Some(lines) = in_failure.as_mut() {
            let body = l.trim_start_matches('#').trim();
            // The message of MPV_EXPECT_* is "mpv: <trace>:<step>".
            if let Some(rest) = body.strip_prefix("mpv: ") {
                let step = rest.rsplit_once(':').and_then(|(_, s)| s.split_whitespace().next()?.parse().ok()).unwrap_or(-1);
                let lines = in_failure.take().unwrap_or_default();
                cur.failure.get_or_insert((step, lines));
            } else if !body.is_empty() && lines.len() < 8 {
                lines.push(body.to_string());
            }
        }
    }
    if in_suite && !r.complete && (cur.last_step.is_some() || cur.failure.is_some()) {
        // A case that started and never finished (crash or hang).
        r.cases.push(cur);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
[    0.100000] KTAP version 1
[    0.100001] 1..1
[    0.100002]     # Subtest: mpv_suite
[    0.100003]     1..3
[    0.100004]     # mpv: a.jsonl:0 {\"op\":\"find_path\"}
[    0.100005]     ok 1 mpv_t0_a
[    0.100006]     # mpv: b.jsonl:0 {\"op\":\"find_path\"}
[    0.100007]     # mpv: b.jsonl:1 {\"op\":\"find_path\"}
[    0.100008]     # mpv_t1_b: EXPECTATION FAILED at drivers/nvme/host/mpv_test.c:42
[    0.100009]     Expected mpv_find_path(w) == 1, but
[    0.100010]         mpv_find_path(w) == 0 (0x0)
[    0.100011]     mpv: b.jsonl:1
[    0.100012]     not ok 2 mpv_t1_b
[    0.100013]     ok 3 mpv_t2_c # SKIP needs NUMA
[    0.100014] # mpv_suite: pass:1 fail:1 skip:1 total:3
[    0.100015] ok 1 mpv_suite
random kernel noise
";

    #[test]
    fn parses_cases_steps_and_failures() {
        let r = parse(SAMPLE, "mpv_suite");
        assert!(r.complete);
        assert_eq!(r.cases.len(), 3);
        assert_eq!(r.cases[0].status, Some(Status::Ok));
        assert_eq!(r.cases[1].status, Some(Status::NotOk));
        let (step, lines) = r.cases[1].failure.clone().unwrap();
        assert_eq!(step, 1);
        assert!(lines.iter().any(|l| l.contains("Expected mpv_find_path(w) == 1")));
        assert!(lines.iter().any(|l| l.contains("== 0 (0x0)")));
        assert_eq!(r.cases[2].status, Some(Status::Skip));
        assert_eq!(r.cases[1].last_step, Some(("b.jsonl".into(), 1)));
    }

    #[test]
    fn crash_leaves_case_unfinished() {
        let cut: String = SAMPLE.lines().take(8).collect::<Vec<_>>().join("\n");
        let r = parse(&cut, "mpv_suite");
        assert!(!r.complete);
        assert_eq!(r.cases.len(), 2);
        assert_eq!(r.cases[1].status, None);
        assert_eq!(r.cases[1].last_step, Some(("b.jsonl".into(), 1)));
    }

    #[test]
    fn kernel_reports_are_attributed_to_the_running_step() {
        let text = SAMPLE.replace(
            "[    0.100007]     # mpv: b.jsonl:1 {\"op\":\"find_path\"}\n",
            "[    0.100007]     # mpv: b.jsonl:1 {\"op\":\"find_path\"}\n[    0.100007] WARNING: CPU: 0 PID: 1 at lib/multipath.c:880 multipath_partition_scan_work+0x1/0x2\n",
        );
        assert_ne!(text, SAMPLE);
        let r = parse(&text, "mpv_suite");
        assert_eq!(r.kernel_reports.len(), 1);
        assert_eq!(r.kernel_reports[0].at, Some(("b.jsonl".into(), 1)));
        assert!(r.kernel_reports[0].line.starts_with("WARNING: CPU: 0"));
        assert!(parse(SAMPLE, "mpv_suite").kernel_reports.is_empty());
    }

    #[test]
    fn other_suite_is_ignored() {
        let r = parse(SAMPLE, "other");
        assert!(r.cases.is_empty());
        assert!(!r.complete);
    }
}
