//! The race case's diagnostics read back from raw KTAP, with the
//! schedule points' lines mapped to the unpatched file.

use super::mirror::KERNEL_CALL_POINT;
use super::points::{Place, POINTS, POINTS_LIB};
use serde::Serialize;

/// The verdict of one race run, parsed from the KTAP.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RaceResult {
    pub schedule: String,
    /// The KUnit case that ran it.
    pub case: String,
    pub reproduced: Option<bool>,
    pub verdict: String,
    /// `mpv-race-*` diagnostics in order, `line=N` of multipath.c points
    /// turned into the unpatched file's line numbers.
    pub log: Vec<String>,
    pub approximations: Vec<String>,
    pub kernel_reports: Vec<String>,
    pub mutant_patches: Vec<String>,
}

/// Maps a line of the patched multipath.c to the unpatched file's: the
/// statement a point precedes. Every line the patches add carries "mpv".
pub fn unpatched_line(patched: &str, line: usize) -> Option<usize> {
    let lines: Vec<&str> = patched.lines().collect();
    if line == 0 || line > lines.len() {
        return None;
    }
    let added = |l: &str| l.to_ascii_lowercase().contains("mpv");
    // The first original line at or after the point.
    let mut k = line - 1;
    while k < lines.len() && added(lines[k]) {
        k += 1;
    }
    if k >= lines.len() {
        return None;
    }
    let before = lines[..k].iter().filter(|l| added(l)).count();
    Some(k + 1 - before)
}

/// Where each schedule point of the patched multipath.c sits in the
/// unpatched file (the statement it precedes). Every point name occurs
/// once in the patch.
pub fn point_lines(patched: &str) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for (i, l) in patched.lines().enumerate() {
        if let Some(k) = l.find("MPV_SCHED(\"") {
            let rest = &l[k + 11..];
            if let Some(e) = rest.find('"') {
                if let Some(line) = unpatched_line(patched, i + 1) {
                    m.insert(rest[..e].to_string(), line);
                }
            }
        }
    }
    m
}

/// Parses the race case's diagnostics out of raw KTAP; `line=N` after a
/// point becomes its place in the unpatched multipath.c (`points`, from
/// [`point_lines`]) or "(harness mirror)".
pub fn parse_ktap(text: &str, points: &std::collections::BTreeMap<String, usize>) -> (Option<bool>, String, Vec<String>) {
    let mut log = Vec::new();
    let mut verdict = String::new();
    let mut reproduced = None;
    for l in text.lines() {
        let Some(pos) = l.find("# mpv-race-") else { continue };
        let d = rewrite_lines(l[pos + 2..].trim_end(), points);
        if let Some(v) = d.strip_prefix("mpv-race-verdict: ") {
            verdict = v.to_string();
            reproduced = Some(v.starts_with("REPRODUCED"));
        }
        log.push(d);
    }
    (reproduced, verdict, log)
}

/// `line=N` -> `multipath.c:M` for the point named last before it.
fn rewrite_lines(d: &str, points: &std::collections::BTreeMap<String, usize>) -> String {
    let mut out = Vec::new();
    let mut last: Option<&str> = None;
    for tok in d.split(' ') {
        if let Some(num) = tok.strip_prefix("line=") {
            let suffix = num.trim_start_matches(|c: char| c.is_ascii_digit());
            let n: usize = num[..num.len() - suffix.len()].parse().unwrap_or(0);
            let place = match (n, last) {
                // The harness's point just before its call of the kernel's own function.
                (200000.., Some(KERNEL_CALL_POINT)) => format!("core.c:{} (kernel call)", n - 200000),
                (200000.., _) => format!("core.c:{} (harness mirror)", n - 200000),
                (100000.., _) => format!("multipath.c:{} (harness mirror)", n - 100000),
                (0, _) => "(harness mirror)".to_string(),
                (_, Some(p)) => match points.get(p) {
                    Some(m) if POINTS_LIB.iter().any(|r| matches!(r.place, Place::Point(q, _) if q == p)) => format!("lib/multipath.c:{m}"),
                    Some(m) => format!("multipath.c:{m}"),
                    None => tok[..tok.len() - suffix.len()].to_string(),
                },
                (_, None) => tok[..tok.len() - suffix.len()].to_string(),
            };
            out.push(format!("{place}{suffix}"));
            continue;
        }
        if POINTS.iter().chain(POINTS_LIB).any(|r| matches!(r.place, Place::Point(p, _) if p == tok)) {
            last = Some(tok);
        }
        out.push(tok.to_string());
    }
    out.join(" ")
}

/// The KTAP text of one case: from its `mpv-race-case: <case>` line to
/// the next case's.
pub(super) fn case_text<'a>(text: &'a str, case: &str) -> &'a str {
    let mark = "# mpv-race-case: ";
    let mut from = None;
    let mut off = 0;
    for l in text.split_inclusive('\n') {
        if let Some(i) = l.find(mark) {
            if from.is_some() {
                return &text[from.unwrap_or(0)..off];
            }
            if l[i + mark.len()..].trim_end() == case {
                from = Some(off);
            }
        }
        off += l.len();
    }
    from.map(|f| &text[f..]).unwrap_or("")
}
