//! Counterexamples as reference traces: the driver operations in the order
//! they *completed* in the counterexample, recorded by the reference, so
//! `mpath-verify replay` can run them sequentially. The interleaving itself
//! is the counterexample's [`Schedule`](crate::schedule::Schedule), saved
//! beside the trace.

use crate::explain::Counterexample;
use crate::revision::RevisionSpec;
use crate::scenario::Scenario;
use mpath_reference::ops::Op;
use mpath_reference::trace::{record, Header, Line};

/// The completed operations of a counterexample in completion order, each
/// with a note naming its thread. Operations still running at the end are
/// left out (they are listed in the header description).
pub fn completed_ops(scenario: &Scenario, ce: &Counterexample) -> (Vec<(Op, String)>, Vec<String>) {
    let mut done = vec![0usize; scenario.threads.len()];
    let mut out = Vec::new();
    for st in &ce.steps {
        if st.thread >= scenario.threads.len() {
            continue;
        }
        while done[st.thread] < st.ops_done {
            let t = &scenario.threads[st.thread];
            out.push((t.ops[done[st.thread]].clone(), format!("model thread {} op {}", t.name, done[st.thread])));
            done[st.thread] += 1;
        }
    }
    let pending = scenario
        .threads
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.ops[done[i]..].iter().map(move |op| format!("{}: {}", t.name, serde_json::to_string(op).unwrap_or_default())))
        .collect();
    (out, pending)
}

/// Sequentialise a counterexample into the trace format. `None` when no
/// operation completed or the reference rejects the sequence.
pub fn counterexample_to_trace(revision: &RevisionSpec, scenario: &Scenario, ce: &Counterexample) -> Option<(Header, Vec<Line>)> {
    let (ops, pending) = completed_ops(scenario, ce);
    if ops.is_empty() {
        return None;
    }
    let mut h = scenario.effective_header(&revision.reference_profile_name());
    h.description = format!(
        "model counterexample: revision {}, scenario {}, {} ({} steps); ops in completion order{}",
        revision.name,
        scenario.name,
        ce.violation,
        ce.steps.len(),
        if pending.is_empty() { String::new() } else { format!("; not completed: {}", pending.join(", ")) }
    );
    let lines = record(&h, &ops).ok()?;
    Some((h, lines))
}
