//! Verdicts a reviewer can read: the catalogue table and list in words
//! (who raised each claim and where), and one finding or the whole
//! catalogue as a 72-column plain-text mail or as Markdown. Pure
//! formatting over plain data, so each format is pinned byte for byte by
//! tests.

use mpath_model::catalogue::{review, verdict_words, Entry, Expect, Review};
use mpath_model::render::{cell, wrap, SourceMap};
use mpath_model::{Counterexample, Verdict};
use std::fmt::Write;

/// The width of plain-text mail.
pub const MAIL_WIDTH: usize = 72;

/// Output formats of `check` besides `--json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Email,
    Markdown,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "text" => Some(Format::Text),
            "email" => Some(Format::Email),
            "markdown" | "md" => Some(Format::Markdown),
            _ => None,
        }
    }
}

/// The swimlane width: `--width` when given, else the terminal's width
/// when stdout is a terminal, else 100 (so piped output and tests do not
/// depend on a terminal).
pub fn lane_width(arg: Option<usize>) -> usize {
    if let Some(w) = arg {
        return w;
    }
    // SAFETY: isatty and ioctl(TIOCGWINSZ) on fd 1 only read the
    // descriptor's state into a local struct.
    unsafe {
        if libc::isatty(1) == 1 {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col >= 40 {
                return ws.ws_col as usize;
            }
        }
    }
    100
}

/// One row of the verdict table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRow {
    /// Catalogue id, `None` for a property no entry is about.
    pub id: Option<&'static str>,
    pub scenario: String,
    pub property: String,
    pub expected: Option<Expect>,
    pub verdict: Verdict,
    pub as_expected: bool,
    /// The finding when the verdict is not as expected.
    pub note: Option<String>,
    pub states: usize,
    pub unique: usize,
    pub depth: usize,
    pub ms: u128,
    pub unique_per_sec: f64,
}

/// `expected` in words (`-` when there is none).
pub fn expected_words(e: Option<Expect>) -> &'static str {
    e.map(Expect::words).unwrap_or("-")
}

/// The verdict table: one row per (scenario, property), verdicts in
/// words; before the first row of each catalogue id, its claim and who
/// raised it where.
pub fn table(rows: &[TableRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<5} {:<14} {:<30} {:<16} {:<16} {:<3} {:>9} {:>9} {:>5} {:>7} {:>9}",
        "id", "scenario", "property", "expected", "verdict", "ok", "states", "unique", "depth", "ms", "unique/s"
    );
    let mut last: Option<&str> = None;
    for r in rows {
        if let Some(id) = r.id.filter(|id| last != Some(*id)) {
            if let Some(rv) = review(id) {
                let _ = writeln!(s, "{id:<5} {}", rv.claim);
                let _ = writeln!(s, "      raised by {}", rv.raised_where());
            }
        }
        last = r.id;
        let _ = writeln!(
            s,
            "{:<5} {:<14} {:<30} {:<16} {:<16} {:<3} {:>9} {:>9} {:>5} {:>7} {:>9.0}",
            r.id.unwrap_or("-"),
            r.scenario,
            r.property,
            expected_words(r.expected),
            verdict_words(r.verdict),
            if r.as_expected { "yes" } else { "NO" },
            r.states,
            r.unique,
            r.depth,
            r.ms,
            r.unique_per_sec
        );
        if let Some(n) = &r.note {
            let _ = writeln!(s, "      ^ {n}");
        }
    }
    s
}

/// `catalogue list`: every claim once, who raised it where, its status,
/// then each of its entries (scenario, property, what the result says)
/// with the expected verdict per revision in words.
pub fn catalogue_list(entries: &[Entry]) -> String {
    let mut s = String::new();
    let mut ids: Vec<&str> = Vec::new();
    for e in entries {
        if !ids.contains(&e.id) {
            ids.push(e.id);
        }
    }
    for id in ids {
        let rv = review(id);
        let _ = writeln!(s, "{id:<5} {}", rv.map(|r| r.claim).unwrap_or("(no review recorded)"));
        if let Some(r) = rv {
            let _ = writeln!(s, "      raised by {}", r.raised_where());
            let _ = writeln!(s, "      status: {}", r.status);
        }
        for e in entries.iter().filter(|e| e.id == id) {
            let cols: Vec<String> = e.expected.iter().filter_map(|(r, x)| x.map(|x| format!("{r} {}", x.words()))).collect();
            let _ = writeln!(s, "      {} / {}: {}", e.scenario, e.property, cols.join(", "));
        }
    }
    s
}

/// A catalogue entry with its review, as JSON for `catalogue list --json`.
pub fn catalogue_json(entries: &[Entry]) -> serde_json::Value {
    serde_json::Value::Array(
        entries
            .iter()
            .map(|e| {
                let r: Option<&Review> = review(e.id);
                serde_json::json!({
                    "id": e.id,
                    "claim": r.map(|r| r.claim),
                    "raised_by": r.map(|r| r.raised_by),
                    "patch": r.map(|r| r.patch),
                    "message_id": r.and_then(|r| r.message_id),
                    "status": r.map(|r| r.status),
                    "scenario": e.scenario,
                    "property": e.property,
                    "expected": e.expected.iter().map(|(rev, x)| (rev.to_string(), serde_json::json!(x.map(|x| x.words())))).collect::<serde_json::Map<_, _>>(),
                    "note": e.note,
                })
            })
            .collect(),
    )
}

/// A fix variant: a revision declaring that it makes the pair hold, and
/// what checking it gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Fix {
    /// Its name.
    pub name: String,
    /// How to pass it to `--revision` (a shipped name or a file).
    pub spec: String,
    pub description: String,
    /// (property, verdict) on the finding's scenario with the fix, when
    /// it was checked.
    pub checked: Vec<(String, Verdict)>,
    pub states: usize,
}

/// One finding (one scenario on one revision) as a reviewer reads it.
#[derive(Clone, Debug)]
pub struct Finding<'a> {
    pub revision: String,
    /// The revision's description (what it is).
    pub revision_about: String,
    pub scenario: String,
    /// The catalogue entries about this scenario.
    pub entries: Vec<Entry>,
    /// Every property with its expectation and verdict.
    pub rows: Vec<TableRow>,
    /// (property, counterexample, thread names) of each violation shown.
    pub counterexamples: Vec<(String, &'a Counterexample, Vec<String>)>,
    pub source: Option<SourceMap>,
    pub checker_mode: String,
    pub fixes: Vec<Fix>,
    /// The command that reproduces it.
    pub command: String,
    /// The command that replays it in kernel C, where the race engine
    /// drives the revision.
    pub kernel_command: Option<String>,
}

fn para(out: &mut String, text: &str, width: usize, first: &str, rest: &str) {
    for (i, l) in wrap(text, width - first.chars().count().max(rest.chars().count())).iter().enumerate() {
        let _ = writeln!(out, "{}{l}", if i == 0 { first } else { rest });
    }
}

/// The interleaving as a numbered list: `  10 R2  function: primitive =>
/// values`, wrapped under the text at `width`.
pub fn interleaving(ce: &Counterexample, names: &[String], source: Option<&SourceMap>, width: usize) -> String {
    let tw = ce.steps.iter().filter_map(|s| names.get(s.thread)).map(|n| n.chars().count()).max().unwrap_or(1);
    let mut out = String::new();
    for (i, st) in ce.steps.iter().enumerate() {
        let name = names.get(st.thread).cloned().unwrap_or_else(|| st.thread_name.clone());
        let first = format!("{i:>4} {name:<tw$}  ");
        let rest = " ".repeat(first.chars().count());
        para(&mut out, &cell(st, source), width, &first, &rest);
    }
    let v = mpath_model::render::violation_words(&ce.violation, source);
    para(&mut out, &format!("violation: {v}"), width, "     ", "     ");
    out
}

fn property_line(r: &TableRow) -> String {
    let mut l = match r.expected {
        Some(e) => format!("{}: {} (expected: {})", r.property, verdict_words(r.verdict), e.words()),
        None => format!("{}: {} (no expected verdict)", r.property, verdict_words(r.verdict)),
    };
    if !r.as_expected {
        l.push_str(" -- NOT AS EXPECTED");
    }
    l
}

/// The rows a finding is about: the catalogue's pairs for the scenario,
/// and any verdict that is not as expected.
fn relevant<'b>(f: &'b Finding) -> Vec<&'b TableRow> {
    let rows: Vec<&TableRow> = f.rows.iter().filter(|r| r.id.is_some() || !r.as_expected).collect();
    if rows.is_empty() {
        f.rows.iter().filter(|r| r.verdict == Verdict::Violated).collect()
    } else {
        rows
    }
}

/// One finding as a plain-text mail body, no line over 72 columns.
pub fn finding_email(f: &Finding) -> String {
    let w = MAIL_WIDTH;
    let mut out = String::new();
    let mut ids: Vec<&str> = f.entries.iter().map(|e| e.id).collect();
    ids.dedup();
    for id in &ids {
        if let Some(r) = review(id) {
            para(&mut out, &format!("{id}: {}", r.claim), w, "", "  ");
            para(&mut out, &format!("Raised by {}.", r.raised_where()), w, "  ", "  ");
        }
    }
    if !ids.is_empty() {
        out.push('\n');
    }
    para(
        &mut out,
        &format!(
            "Checked with mpath-verify's model on revision {} ({}), scenario {}: every interleaving of the scenario's threads ({}); the interleavings below are shortest ones.",
            f.revision, f.revision_about, f.scenario, f.checker_mode
        ),
        w,
        "",
        "",
    );
    out.push('\n');
    for r in relevant(f) {
        para(&mut out, &property_line(r), w, "  ", "    ");
    }
    for e in &f.entries {
        if f.counterexamples.iter().any(|(p, _, _)| *p == e.property) {
            out.push('\n');
            para(&mut out, &format!("{} / {}: {}", e.scenario, e.property, e.note), w, "", "  ");
        }
    }
    for (p, ce, names) in &f.counterexamples {
        out.push('\n');
        para(&mut out, &format!("Interleaving for {p} ({} steps; P0, P1 are the paths, with their state when the step ran):", ce.steps.len()), w, "", "");
        out.push('\n');
        out.push_str(&interleaving(ce, names, f.source.as_ref(), w));
    }
    out.push('\n');
    if f.fixes.is_empty() {
        para(&mut out, &format!("Fix: no fix variant of {} ships that declares it fixes this.", f.revision), w, "", "  ");
    }
    for x in &f.fixes {
        let spec = if x.spec == x.name { String::new() } else { format!(" ({})", x.spec) };
        para(&mut out, &format!("Fix variant {}{spec}: {}", x.name, x.description), w, "", "  ");
        if !x.checked.is_empty() {
            let v: Vec<String> = x.checked.iter().map(|(p, v)| format!("{p} {}", verdict_words(*v))).collect();
            para(&mut out, &format!("With it, {}: {} ({} states).", f.scenario, v.join(", "), x.states), w, "  ", "  ");
        }
    }
    out.push('\n');
    out.push_str("Reproduce:\n");
    para(&mut out, &f.command, w, "  ", "      ");
    for x in &f.fixes {
        para(&mut out, &format!("mpath-verify check --revision {} --scenario {}", x.spec, f.scenario), w, "  ", "      ");
    }
    if let Some(k) = &f.kernel_command {
        para(&mut out, "In the kernel's own C (a tree from `series prepare`):", w, "", "");
        para(&mut out, k, w, "  ", "      ");
    }
    out
}

/// One finding as Markdown for an issue tracker.
pub fn finding_markdown(f: &Finding, lane_width: usize) -> String {
    let mut out = String::new();
    let mut ids: Vec<&str> = f.entries.iter().map(|e| e.id).collect();
    ids.dedup();
    let _ = writeln!(out, "### {} on {}", f.scenario, f.revision);
    out.push('\n');
    for id in &ids {
        if let Some(r) = review(id) {
            let _ = writeln!(out, "**{id}**: {}. Raised by {}.", r.claim, md_escape(&r.raised_where()));
            out.push('\n');
        }
    }
    let _ = writeln!(out, "Revision `{}` ({}), every interleaving ({}).", f.revision, f.revision_about, f.checker_mode);
    out.push('\n');
    out.push_str("| property | expected | verdict | as expected |\n|---|---|---|---|\n");
    for r in relevant(f) {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            r.property,
            expected_words(r.expected),
            verdict_words(r.verdict),
            if r.as_expected { "yes" } else { "**no**" }
        );
    }
    for (p, ce, names) in &f.counterexamples {
        out.push('\n');
        let _ = writeln!(out, "Interleaving for `{p}` ({} steps):", ce.steps.len());
        out.push('\n');
        out.push_str("```text\n");
        let o = mpath_model::render::LaneOpts { width: lane_width, source: f.source.clone(), tree: None };
        out.push_str(&mpath_model::render::swimlane_with(names, &ce.steps, &o));
        let _ = writeln!(out, "violation: {}", mpath_model::render::violation_words(&ce.violation, f.source.as_ref()));
        out.push_str("```\n");
    }
    out.push('\n');
    for x in &f.fixes {
        let _ = write!(out, "Fix variant `{}` (`{}`): {}", x.name, x.spec, x.description);
        if !x.checked.is_empty() {
            let v: Vec<String> = x.checked.iter().map(|(p, v)| format!("`{p}` {}", verdict_words(*v))).collect();
            let _ = write!(out, " With it: {} ({} states).", v.join(", "), x.states);
        }
        out.push_str("\n\n");
    }
    let _ = writeln!(out, "Reproduce:\n\n```sh\n{}", f.command);
    for x in &f.fixes {
        let _ = writeln!(out, "mpath-verify check --revision {} --scenario {}", x.spec, f.scenario);
    }
    if let Some(k) = &f.kernel_command {
        let _ = writeln!(out, "{k}");
    }
    out.push_str("```\n");
    out
}

fn md_escape(s: &str) -> String {
    s.replace('<', "&lt;").replace('>', "&gt;")
}

/// The catalogue run on one revision as a plain-text mail body (no line
/// over 72 columns): each claim, who raised it, and per entry the
/// expected and actual verdict.
pub fn catalogue_email(revision: &str, rows: &[TableRow], entries: &[Entry]) -> String {
    let w = MAIL_WIDTH;
    let mut out = String::new();
    para(&mut out, &format!("The review catalogue checked on revision {revision} with mpath-verify's model (every interleaving of each scenario):"), w, "", "");
    let mut last: Option<&str> = None;
    for r in rows {
        if r.id != last {
            out.push('\n');
            match r.id.and_then(review) {
                Some(rv) => {
                    para(&mut out, &format!("{}: {}", rv.id, rv.claim), w, "", "  ");
                    para(&mut out, &format!("Raised by {}.", rv.raised_where()), w, "  ", "  ");
                }
                None => para(&mut out, &format!("Declared by revision {revision}:"), w, "", "  "),
            }
        }
        last = r.id;
        let mut l = format!("{} / {}: {}, expected {}", r.scenario, r.property, verdict_words(r.verdict), expected_words(r.expected));
        if !r.as_expected {
            l.push_str(" -- NOT AS EXPECTED");
        }
        para(&mut out, &l, w, "  - ", "    ");
        if let Some(e) = entries.iter().find(|e| Some(e.id) == r.id && e.scenario == r.scenario && e.property == r.property) {
            para(&mut out, e.note, w, "    ", "    ");
        }
    }
    out.push('\n');
    out.push_str("Reproduce (and, for one scenario, its interleaving):\n");
    para(&mut out, &format!("mpath-verify check --revision {revision} --catalogue"), w, "  ", "      ");
    para(&mut out, &format!("mpath-verify check --revision {revision} --scenario SCENARIO --format email"), w, "  ", "      ");
    out
}

/// The catalogue run as Markdown: one table.
pub fn catalogue_markdown(revision: &str, rows: &[TableRow]) -> String {
    let mut out = format!("### Review catalogue on `{revision}`\n\n| id | claim | raised by | scenario | property | expected | verdict | as expected |\n|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let rv = r.id.and_then(review);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | `{}` | {} | {} | {} |",
            r.id.unwrap_or("-"),
            rv.map(|x| x.claim).unwrap_or("-"),
            rv.map(|x| md_escape(&x.raised_where())).unwrap_or_else(|| "-".into()),
            r.scenario,
            r.property,
            expected_words(r.expected),
            verdict_words(r.verdict),
            if r.as_expected { "yes" } else { "**no**" }
        );
    }
    let _ = writeln!(out, "\nReproduce: `mpath-verify check --revision {revision} --catalogue`");
    out
}
