//! The kernel's side of a race as a swimlane, and the human report.

use super::ktap::RaceResult;
use std::fmt::Write as _;

/// The kernel's side of the interleaving as a swimlane: one column per
/// thread, one row per schedule point the kernel thread was released from,
/// each cell the point, its path and the line of the tree it precedes.
pub fn swimlane(r: &RaceResult, width: usize) -> String {
    struct Row {
        model: String,
        thread: String,
        cell: String,
    }
    let mut rows = Vec::new();
    let mut threads: Vec<String> = Vec::new();
    for l in &r.log {
        let Some(rest) = l.strip_prefix("mpv-race-step: ") else { continue };
        let f: Vec<&str> = rest.splitn(6, ' ').collect();
        if f.len() < 6 {
            continue;
        }
        let (model, thread, point, tail) = (f[1], f[2], f[3], f[5]);
        let path = f[4].strip_prefix("path=").unwrap_or("");
        let short = [
            ("nvme_round_robin_path:", "rr:"),
            ("nvme_ns_remove:", "ns_remove:"),
            ("__nvme_find_path:", "__find_path:"),
            ("nvme_find_path:", "find_path:"),
            ("nvme_available_path:", "available:"),
            ("nvme_numa_path:", "numa:"),
            ("nvme_mpath_clear_current_path", "clear_current_path"),
            ("nvme_next_ns", "next_ns"),
            ("nvme_kick_requeue_lists:", "kick:"),
            ("nvme_change_ctrl_state", "change_ctrl_state"),
        ]
        .iter()
        .find_map(|(a, b)| point.strip_prefix(a).map(|x| format!("{b}{x}")))
        .unwrap_or_else(|| point.to_string());
        let obj = match path {
            "NULL" | "-" | "" => String::new(),
            p => format!("(P{p})"),
        };
        let loc = tail
            .replace("lib/multipath.c:", "l:")
            .replace("multipath.c:", "m:")
            .replace("core.c:", "c:")
            .replace(" (kernel call)", "")
            .replace(" (harness mirror)", "*")
            .replace("(harness mirror)", "*");
        if !threads.iter().any(|t| t == thread) {
            threads.push(thread.to_string());
        }
        rows.push(Row { model: model.to_string(), thread: thread.to_string(), cell: format!("{short}{obj} {loc}") });
    }
    if rows.is_empty() {
        return String::new();
    }
    // Columns as wide as their widest cell: a point is never cut.
    let width = rows.iter().map(|r| r.cell.chars().count()).max().unwrap_or(0).max(width);
    let cell = |t: &str| -> String {
        let mut c: String = t.chars().take(width).collect();
        while c.chars().count() < width {
            c.push(' ');
        }
        c
    };
    let mut out = String::from("  #  model ");
    for t in &threads {
        out.push_str(&cell(t));
        out.push_str(" | ");
    }
    out.push('\n');
    for (i, row) in rows.iter().enumerate() {
        let _ = write!(out, "{i:>3}  {:>5} ", row.model);
        for t in &threads {
            out.push_str(&cell(if *t == row.thread { &row.cell } else { "" }));
            out.push_str(" | ");
        }
        out.push('\n');
    }
    out.push_str("  m: drivers/nvme/host/multipath.c, c: drivers/nvme/host/core.c, l: lib/multipath.c (lines of the tree run), *: the harness's restatement of that statement\n");
    out
}

/// The human report of one race run.
pub fn render(r: &RaceResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "schedule {}", r.schedule);
    for m in &r.mutant_patches {
        let _ = writeln!(s, "  C patch on top of the schedule points: {m}");
    }
    for a in &r.approximations {
        let _ = writeln!(s, "  approximation: {a}");
    }
    s.push_str(&swimlane(r, 40));
    for l in r.log.iter().filter(|l| !l.starts_with("mpv-race-verdict") && !l.starts_with("mpv-race-step") && !l.starts_with("mpv-race-case")) {
        let _ = writeln!(s, "  {l}");
    }
    for k in &r.kernel_reports {
        let _ = writeln!(s, "  KERNEL REPORT: {k}");
    }
    let v = match r.reproduced {
        Some(true) => "REPRODUCED in kernel C",
        Some(false) => "NOT REPRODUCED in kernel C",
        None => "NO VERDICT (the race case did not finish; see the raw KTAP)",
    };
    let detail = r.verdict.split_once(' ').map(|x| x.1).unwrap_or("");
    let _ = writeln!(s, "verdict: {v}: {detail}");
    s
}
