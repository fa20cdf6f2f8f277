//! Swimlane rendering of a counterexample: one column per thread that acts,
//! one row per transition, each cell `function: primitive` and the values
//! the step read and wrote, wrapped (never cut) to the width asked for.
//! Function names are the checked revision's own (its [`SourceMap`]), with
//! the line of each definition when a tree is given.

use crate::explain::{Counterexample, TraceStep};
use crate::machine::Machine;

pub use crate::explain::swimlane_legend;
pub use crate::source::SourceMap;

/// How to render a swimlane.
#[derive(Clone, Debug)]
pub struct LaneOpts {
    /// Total line width (at least 40).
    pub width: usize,
    /// The revision's names (`None`: the model's).
    pub source: Option<SourceMap>,
    /// A tree to locate each function's definition in (`--kernel-src`).
    pub tree: Option<std::path::PathBuf>,
}

impl LaneOpts {
    pub fn new(width: usize) -> LaneOpts {
        LaneOpts { width, source: None, tree: None }
    }
}

/// `text` broken into lines of at most `width` characters: at spaces
/// where possible, inside a word longer than a line otherwise.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        let n = cur.chars().count();
        if n > 0 && n + 1 + word.len() <= width {
            cur.push(' ');
            cur.extend(word.iter());
            continue;
        }
        if n > 0 {
            lines.push(std::mem::take(&mut cur));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        cur = word.into_iter().collect();
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Columns and rows of text as a swimlane `width` characters wide: a row
/// number, then one column per title, cells wrapped inside their column.
/// `rows` are (column, cell text). Lines carry no trailing blanks.
pub fn lanes(titles: &[String], rows: &[(usize, String)], width: usize) -> String {
    let k = titles.len().max(1);
    let cw = (width.saturating_sub(5 + 3 * (k - 1)) / k).max(8);
    let line = |cells: Vec<&str>, num: &str| -> String {
        let mut s = format!("{num:>3}  ");
        for (c, cell) in cells.iter().enumerate() {
            if c > 0 {
                s.push_str(" | ");
            }
            s.push_str(cell);
            for _ in cell.chars().count()..cw {
                s.push(' ');
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = String::new();
    let head: Vec<Vec<String>> = titles.iter().map(|t| wrap(t, cw)).collect();
    for l in 0..head.iter().map(Vec::len).max().unwrap_or(1) {
        out.push_str(&line(head.iter().map(|h| h.get(l).map(String::as_str).unwrap_or("")).collect(), if l == 0 { "#" } else { "" }));
    }
    out.push_str(&"-".repeat(5 + k * cw + 3 * (k - 1)));
    out.push('\n');
    for (i, (col, text)) in rows.iter().enumerate() {
        for (l, piece) in wrap(text, cw).iter().enumerate() {
            let cells = (0..k).map(|c| if c == *col { piece.as_str() } else { "" }).collect();
            out.push_str(&line(cells, &if l == 0 { i.to_string() } else { String::new() }));
        }
    }
    out
}

/// One step's cell: `function: primitive`, then what it read or wrote.
pub fn cell(st: &TraceStep, source: Option<&SourceMap>) -> String {
    let (f, p) = match source {
        Some(s) => (s.name(&st.function).to_string(), s.rename(&st.primitive)),
        None => (st.function.clone(), st.primitive.clone()),
    };
    if st.values.is_empty() {
        format!("{f}: {p}")
    } else {
        format!("{f}: {p} => {}", st.values)
    }
}

/// Render steps as a swimlane `width` characters wide with the model's
/// names. `names` are the column titles; only threads that act get a
/// column.
pub fn swimlane(names: &[String], steps: &[TraceStep], width: usize) -> String {
    swimlane_with(names, steps, &LaneOpts::new(width))
}

/// [`swimlane`] with a revision's names, then, when the revision maps to
/// a tree, the functions it shows with their definitions.
pub fn swimlane_with(names: &[String], steps: &[TraceStep], o: &LaneOpts) -> String {
    let width = o.width.max(40);
    let cols: Vec<usize> = (0..names.len()).filter(|t| steps.iter().any(|s| s.thread == *t)).collect();
    let titles: Vec<String> = cols.iter().map(|&t| names[t].clone()).collect();
    let rows: Vec<(usize, String)> = steps.iter().map(|st| (cols.iter().position(|&t| t == st.thread).unwrap_or(0), cell(st, o.source.as_ref()))).collect();
    let mut out = lanes(&titles, &rows, width);
    out.push_str(&functions_legend(steps, o, width));
    out
}

/// `functions: name (file:line), ...` for the functions `steps` show, when
/// the revision maps to a tree and a tree was given; empty otherwise.
pub fn functions_legend(steps: &[TraceStep], o: &LaneOpts, width: usize) -> String {
    let (Some(src), Some(tree)) = (&o.source, &o.tree) else { return String::new() };
    let mut funcs: Vec<String> = Vec::new();
    for st in steps {
        let f = src.name(&st.function).to_string();
        if !funcs.contains(&f) {
            funcs.push(f);
        }
    }
    let at = src.locate(tree, &funcs);
    let list: Vec<String> = funcs
        .iter()
        .map(|f| match at.get(f) {
            Some(l) => format!("{f} {l}"),
            None => format!("{f} (not in {})", if src.files.is_empty() { "the tree".to_string() } else { src.files.join(", ") }),
        })
        .collect();
    let mut out = String::new();
    for (i, l) in wrap(&format!("defined at: {}", list.join(", ")), width - 2).into_iter().enumerate() {
        if i > 0 {
            out.push_str("  ");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Render a counterexample of machine `m` (the model's names).
pub fn render_counterexample(m: &Machine, ce: &Counterexample, width: usize) -> String {
    render_counterexample_with(m, ce, &LaneOpts::new(width))
}

/// Render a counterexample of machine `m` with `o`'s names and width.
pub fn render_counterexample_with(m: &Machine, ce: &Counterexample, o: &LaneOpts) -> String {
    let names: Vec<String> = (0..=m.worker).map(|t| m.thread_name(t)).collect();
    let mut s = swimlane_with(&names, &ce.steps, o);
    for (i, l) in wrap(&format!("violation: {}", violation_words(&ce.violation, o.source.as_ref())), o.width.max(40) - 2).iter().enumerate() {
        s.push_str(if i == 0 { "" } else { "  " });
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// A violation in words with the revision's names: `non-termination of
/// P1 in nvme_round_robin_path at step 34`.
pub fn violation_words(v: &mpath_reference::violation::Violation, source: Option<&SourceMap>) -> String {
    use mpath_reference::violation::Object;
    let kind = serde_json::to_value(v.kind).ok().and_then(|k| k.as_str().map(|k| k.replace('_', "-"))).unwrap_or_else(|| format!("{:?}", v.kind));
    let object = match v.object {
        Object::Head => "the head".to_string(),
        Object::HeadDisk => "the head disk".to_string(),
        Object::Path(p) => format!("P{p}"),
        Object::PathDisk(p) => format!("P{p}'s disk"),
        Object::CurrentPath(n) => format!("current_path[{n}]"),
    };
    let function = source.map(|s| s.name(&v.function).to_string()).unwrap_or_else(|| v.function.clone());
    format!("{kind} of {object} in {function} at step {}", v.step)
}
