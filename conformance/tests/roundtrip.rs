//! Trace round trip: a trace recorded by the reference, written with
//! `to_jsonl`, parsed with `parse_str` and replayed gives back the same
//! lines and identical full observations at every step (the state-machine
//! invariants themselves are in `reference/tests/invariants.rs`).

use mpath_conformance::gen::{generate, generate_kernel, GenOpts};
use mpath_conformance::parse::parse_str;
use mpath_conformance::replay::{replay, Outcome};
use mpath_reference::trace::{record, to_jsonl, Line};
use mpath_reference::DriverKind;
use proptest::prelude::*;

fn round_trip(text: &str) -> Result<(), TestCaseError> {
    let t = parse_str("rt.jsonl", text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    // Writing the parsed trace again gives the same bytes.
    let lines: Vec<Line> = t.lines.iter().map(|(_, l)| l.clone()).collect();
    prop_assert_eq!(to_jsonl(&t.header, &lines), text);
    // Re-recording its ops on a fresh system gives the same returns and
    // identical full observations (not only the fields a trace states).
    let ops: Vec<_> = lines.iter().map(|l| (l.op.clone(), l.note.clone())).collect();
    let again = record(&t.header, &ops).map_err(TestCaseError::fail)?;
    prop_assert_eq!(again.len(), lines.len());
    for (i, (a, b)) in again.iter().zip(&lines).enumerate() {
        prop_assert_eq!(&a.ret, &b.ret, "step {} ret", i);
        prop_assert_eq!(&a.expect, &b.expect, "step {} observation", i);
        let e = b.expect.as_ref().unwrap();
        prop_assert!(e.mismatches(a.expect.as_ref().unwrap()).is_empty());
    }
    // And replay agrees.
    match replay(&t).map_err(|e| TestCaseError::fail(e.to_string()))? {
        Outcome::Pass { steps, checks, .. } => {
            prop_assert_eq!(steps, lines.len());
            prop_assert_eq!(checks, 2 * lines.len());
        }
        Outcome::Diverged(d) => return Err(TestCaseError::fail(d.to_string())),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn generated_traces_round_trip(
        seed in any::<u64>(),
        ops in 1usize..80,
        revision in prop::sample::select(&["v1", "v2", "v3", "nvme-6.12", "mut-no-sync2"][..]),
        scsi in any::<bool>(),
    ) {
        let driver = if scsi && revision != "nvme-6.12" { DriverKind::Scsi } else { DriverKind::Nvme };
        let text = generate(&GenOpts { seed, ops, revision: revision.into(), driver, nodes: None, paths: None }).map_err(|e| TestCaseError::fail(e.to_string()))?;
        round_trip(&text)?;
    }

    #[test]
    fn kernel_traces_round_trip(seed in any::<u64>(), ops in 1usize..80) {
        round_trip(&generate_kernel(seed, ops, None).map_err(|e| TestCaseError::fail(e.to_string()))?)?;
    }
}

#[test]
fn the_spec_corpus_round_trips_through_the_parser() {
    // Hand-written traces carry partial expectations: parse -> write -> parse
    // is stable and replay still passes.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("traces/spec");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        let t = parse_str("a", &text).unwrap();
        let lines: Vec<Line> = t.lines.iter().map(|(_, l)| l.clone()).collect();
        let written = to_jsonl(&t.header, &lines);
        let t2 = parse_str("b", &written).unwrap();
        assert_eq!(t.header, t2.header, "{}", e.path().display());
        assert_eq!(lines, t2.lines.iter().map(|(_, l)| l.clone()).collect::<Vec<_>>());
        assert!(matches!(replay(&t2).unwrap(), Outcome::Pass { .. }), "{}", e.path().display());
        n += 1;
    }
    assert!(n >= 40);
}
