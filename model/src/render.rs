//! Swimlane rendering of a counterexample: one column per thread, one row
//! per transition, each cell `function: primitive`.

use crate::checker::{Counterexample, TraceStep};
use crate::machine::Machine;

/// Column legend appended to state renderings (thread index -> role).
pub fn swimlane_legend(m: &Machine) -> String {
    let names: Vec<String> = (0..=m.worker).map(|t| format!("T{t}={}", m.thread_name(t))).collect();
    format!("threads: {}\n", names.join(" "))
}

/// Render steps as a swimlane. `names` are the column titles.
pub fn swimlane(names: &[String], steps: &[TraceStep], width: usize) -> String {
    let width = width.max(16);
    let mut out = String::new();
    let cols = names.len();
    let cell = |s: &str| -> String {
        let mut c: String = s.chars().take(width).collect();
        while c.chars().count() < width {
            c.push(' ');
        }
        c
    };
    out.push_str("  #  ");
    for n in names {
        out.push_str(&cell(n));
        out.push_str(" | ");
    }
    out.push('\n');
    out.push_str(&"-".repeat(5 + cols * (width + 3)));
    out.push('\n');
    for (i, st) in steps.iter().enumerate() {
        out.push_str(&format!("{:>3}  ", i));
        for c in 0..cols {
            if c == st.thread {
                out.push_str(&cell(&format!("{}: {}", short(&st.function), st.primitive)));
            } else {
                out.push_str(&cell(""));
            }
            out.push_str(" | ");
        }
        out.push('\n');
    }
    out
}

fn short(f: &str) -> &str {
    f.strip_prefix("mpath_").unwrap_or(f)
}

/// Render a counterexample of machine `m`.
pub fn render_counterexample(m: &Machine, ce: &Counterexample, width: usize) -> String {
    let names: Vec<String> = (0..=m.worker).map(|t| m.thread_name(t)).collect();
    let mut s = swimlane(&names, &ce.steps, width);
    s.push_str(&format!("violation: {}\n", ce.violation));
    s
}
