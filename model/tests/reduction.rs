//! The checker's options change how states are explored, never verdicts:
//! partial-order reduction, several checker threads and the memory bound
//! (README-model.md, "Checker").

use mpath_model::*;
use std::sync::atomic::AtomicBool;

fn run(rev: &RevisionSpec, sc: &Scenario, b: &Bounds) -> Report {
    check(rev, sc, b, None, &AtomicBool::new(false)).unwrap()
}

fn verdicts(r: &Report) -> Vec<(String, Verdict)> {
    r.properties.iter().map(|p| (p.property.clone(), p.verdict)).collect()
}

/// Every shipped scenario on every shipped revision (the catalogue
/// revisions, v2-fixed and every mutant): the same verdict for every
/// property with and without the reduction, and the same (shortest)
/// counterexamples; the reduction explores fewer states overall and
/// reports itself in the checker mode.
#[test]
fn reduction_keeps_every_verdict_and_counterexample() {
    let mut plain_total = 0usize;
    let mut reduced_total = 0usize;
    let mut violated = 0usize;
    let mut fewer = 0usize;
    for rname in RevisionSpec::shipped_names() {
        let rev = RevisionSpec::by_name(rname).unwrap();
        for sname in Scenario::shipped_names() {
            let sc = Scenario::by_name(sname).unwrap();
            let plain = match check(&rev, &sc, &Bounds::default(), None, &AtomicBool::new(false)) {
                Ok(r) => r,
                // A scenario using an operation this revision lacks.
                Err(_) => continue,
            };
            let reduced = run(&rev, &sc, &Bounds { reduction: true, ..Bounds::default() });
            assert!(reduced.checker_mode.contains("partial-order reduction"), "{}", reduced.checker_mode);
            assert_eq!(verdicts(&plain), verdicts(&reduced), "{rname} {sname}: verdicts with and without the reduction");
            for (a, b) in plain.properties.iter().zip(&reduced.properties) {
                assert_eq!(a.counterexample, b.counterexample, "{rname} {sname} {}: counterexample", a.property);
                if a.verdict == Verdict::Violated {
                    violated += 1;
                }
            }
            assert!(reduced.unique_states <= plain.unique_states, "{rname} {sname}: {} > {}", reduced.unique_states, plain.unique_states);
            if reduced.unique_states < plain.unique_states {
                fewer += 1;
            }
            plain_total += plain.unique_states;
            reduced_total += reduced.unique_states;
        }
    }
    assert!(violated > 50, "the comparison covers violations too ({violated})");
    assert!(fewer > 0 && reduced_total < plain_total, "the reduction reduces: {reduced_total} of {plain_total} unique states, {fewer} checks smaller");
    eprintln!("reduction: {reduced_total} of {plain_total} unique states; {fewer} checks smaller; {violated} violations compared");
}

/// The reduction is also sound under DFS (its own proviso).
#[test]
fn reduction_under_dfs_keeps_verdicts() {
    for (rname, sname) in [("v2", "S03a-B"), ("v2", "N1"), ("mut-no-sync1", "N2a"), ("v3", "S01"), ("nvme-6.12", "S03b-nvme"), ("mut-sync-inside-srcu", "N1")] {
        let rev = RevisionSpec::by_name(rname).unwrap();
        let sc = Scenario::by_name(sname).unwrap();
        let plain = run(&rev, &sc, &Bounds::default());
        let dfs = run(&rev, &sc, &Bounds { mode: Mode::Dfs, reduction: true, ..Bounds::default() });
        assert_eq!(verdicts(&plain), verdicts(&dfs), "{rname} {sname}");
    }
}

/// Several checker threads: the same verdicts and counterexamples as one,
/// on scenarios that hold and that fail; exhaustive counts are the same
/// too (level-synchronous BFS).
#[test]
fn threads_keep_verdicts_and_counterexamples() {
    for (rname, sname) in [("v2", "S03a-B"), ("v2", "S03b-nvme"), ("mut-no-sync1", "N2a"), ("v3", "S01"), ("v2", "N1"), ("mut-link-test-then-set", "N1")] {
        let rev = RevisionSpec::by_name(rname).unwrap();
        let sc = Scenario::by_name(sname).unwrap();
        let one = run(&rev, &sc, &Bounds::default());
        for threads in [2, 3] {
            let many = run(&rev, &sc, &Bounds { threads, ..Bounds::default() });
            assert!(many.checker_mode.contains(&format!("{threads} threads")), "{}", many.checker_mode);
            assert_eq!(verdicts(&one), verdicts(&many), "{rname} {sname} {threads} threads");
            for (a, b) in one.properties.iter().zip(&many.properties) {
                assert_eq!(a.counterexample, b.counterexample, "{rname} {sname} {}", a.property);
            }
            if one.violated().is_empty() {
                assert_eq!((one.states, one.unique_states, one.max_depth), (many.states, many.unique_states, many.max_depth), "{rname} {sname}");
            }
            let reduced = run(&rev, &sc, &Bounds { threads, reduction: true, ..Bounds::default() });
            assert_eq!(verdicts(&one), verdicts(&reduced), "{rname} {sname} {threads} threads, reduced");
        }
    }
}

/// A check that would exceed its memory bound stops with "bound reached"
/// for what it has not shown, and keeps the violations it found.
#[test]
fn memory_bound_stops_with_bound_reached_and_keeps_findings() {
    let rev = RevisionSpec::by_name("v2").unwrap();
    // extra/stress-mix needs about 29 MiB exhaustively (README-model.md);
    // its optimized_path_preferred and no_disabled_path_returned
    // violations are 6 steps deep.
    let path = if std::path::Path::new("scenarios/extra/stress-mix.json").exists() {
        "scenarios/extra/stress-mix.json"
    } else {
        "model/scenarios/extra/stress-mix.json"
    };
    let sc = Scenario::load(path).unwrap();
    let bound = 4u64 << 20;
    let cut = run(&rev, &sc, &Bounds { max_memory: Some(bound), ..Bounds::default() });
    assert!(cut.checker_mode.contains("memory bound 4 MiB reached"), "{}", cut.checker_mode);
    assert!(cut.memory_bytes > bound && cut.memory_bytes < 2 * bound, "{}", cut.memory_bytes);
    assert!(cut.unique_states < 638_272, "{}", cut.unique_states);
    for p in &cut.properties {
        match p.property.as_str() {
            "optimized_path_preferred" | "no_disabled_path_returned" => {
                assert_eq!(p.verdict, Verdict::Violated, "{}", p.property);
                assert_eq!(p.counterexample.as_ref().map(|c| c.steps.len()), Some(6), "{}", p.property);
            }
            _ => assert_eq!(p.verdict, Verdict::BoundReached, "{}", p.property),
        }
    }
    // The same check with room enough holds where it does.
    let sc2 = Scenario::by_name("S03a-B").unwrap();
    let full = run(&rev, &sc2, &Bounds { max_memory: Some(64 << 20), ..Bounds::default() });
    assert!(!full.checker_mode.contains("memory bound"), "{}", full.checker_mode);
    assert!(full.properties.iter().all(|p| matches!(p.verdict, Verdict::Holds | Verdict::Violated)));
}

/// Data properties of mode `always` switch the reduction off (they may
/// read anything); at_rest / at_end ones keep it.
#[test]
fn always_data_properties_switch_the_reduction_off() {
    let rev = RevisionSpec::by_name("v2").unwrap();
    let sc = Scenario::by_name("requeue").unwrap();
    let b = Bounds { reduction: true, ..Bounds::default() };
    let always = PropertySet::parse("x.props", "property p always: requeue < 8;").unwrap();
    let r = check_with(&rev, &sc, &always, &b, None, &AtomicBool::new(false)).unwrap();
    assert!(r.checker_mode.contains("no reduction"), "{}", r.checker_mode);
    let at_rest = PropertySet::parse("x.props", "property p at_rest: requeue < 8;").unwrap();
    let r2 = check_with(&rev, &sc, &at_rest, &b, None, &AtomicBool::new(false)).unwrap();
    assert!(r2.checker_mode.contains("partial-order reduction"), "{}", r2.checker_mode);
    assert_eq!(verdicts(&r), verdicts(&r2));
}
