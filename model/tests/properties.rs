//! Every property holds on a scenario where it should and is reported
//! violated on its named mutant (or on the revision the catalogue says is
//! affected). A property never seen to fail proves nothing.

use mpath_model::property as p;
use mpath_model::*;
use std::sync::atomic::AtomicBool;

/// (property, scenario, revision where it holds, revision where it fails)
const TABLE: &[(&str, &str, &str, &str)] = &[
    (p::NO_USE_AFTER_FREE, "N2c", "v2", "mut-no-sync3"),
    (p::NO_NULL_DISK, "R4", "v2", "mut-set-live-deref-first"),
    (p::NO_JUNK_POINTER, "R12", "v2", "mut-find-path-uninit"),
    (p::NO_STALE_PATH, "N2a", "v2", "mut-no-sync1"),
    (p::NO_DUPLICATE_LINK, "N1", "v2", "mut-link-test-then-set"),
    (p::NO_LINK_FOR_REMOVED, "remove-vs-ana", "v2", "mut-no-remove-link"),
    (p::LINK_BIT_MATCHES, "N1", "v2", "mut-link-test-then-set"),
    (p::NO_LEAKED_GENDISK, "S02b-nvme", "v2", "mut-no-ctrl-sync"),
    (p::NO_DEADLOCK, "N1", "v2", "mut-sync-inside-srcu"),
    (p::SELECTION_TERMINATES, "S03a-A", "v2-fixed", "v2"),
    (p::NO_STRANDED_REQUEUE, "requeue", "v2", "mut-set-live-no-sync"),
    (p::OPTIMIZED_PREFERRED, "quality", "v2", "mut-numa-no-optimized-check"),
    (p::NO_UNLINKED_RETURNED, "S03b-library", "v2-fixed", "v2"),
    (p::NO_DISABLED_RETURNED, "S03c", "v2-fixed", "v2"),
];

fn verdict(rev: &str, sc: &str, prop: &str) -> (Verdict, Report) {
    let r = RevisionSpec::by_name(rev).unwrap();
    let s = Scenario::by_name(sc).unwrap();
    let rep = check(&r, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    (rep.verdict(prop).unwrap(), rep)
}

#[test]
fn every_property_is_listed() {
    let mut listed: Vec<&str> = TABLE.iter().map(|t| t.0).collect();
    listed.sort();
    listed.dedup();
    let mut all = p::names();
    all.sort();
    assert_eq!(listed, all);
}

#[test]
fn each_property_holds_and_fails_on_its_mutant() {
    for &(prop, sc, good, bad) in TABLE {
        let (v, rep) = verdict(good, sc, prop);
        assert_eq!(v, Verdict::Holds, "{prop} should hold on {good}/{sc}\n{rep}");
        let (v, rep) = verdict(bad, sc, prop);
        assert_eq!(v, Verdict::Violated, "{prop} should be violated on {bad}/{sc}\n{rep}");
        let ce = rep.properties.iter().find(|x| x.property == prop).unwrap().counterexample.clone().unwrap();
        assert!(!ce.steps.is_empty());
    }
}

#[test]
fn every_shipped_mutant_breaks_what_it_claims() {
    // A documented equivalent mutant breaks nothing: its verdicts on the
    // scenarios of its catalogue entry are its base's.
    const EQUIVALENT: &[(&str, &[&str])] = &[("mut-no-sync2", &["N2a", "N2c", "S03a-B", "S03b-nvme"])];
    for name in RevisionSpec::mutant_names() {
        let r = RevisionSpec::by_name(name).unwrap();
        if let Some((_, scenarios)) = EQUIVALENT.iter().find(|(n, _)| *n == name) {
            assert!(r.breaks.is_empty() && r.fixes.is_empty(), "{name} is documented as equivalent");
            let base = RevisionSpec::by_name(r.base.as_deref().unwrap()).unwrap();
            for sc in *scenarios {
                let s = Scenario::load(sc).unwrap();
                let v = |rev: &RevisionSpec| check(rev, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap().violated().into_iter().map(|p| p.property.clone()).collect::<Vec<_>>();
                assert_eq!(v(&r), v(&base), "{name} on {sc}");
            }
            continue;
        }
        assert!(!r.breaks.is_empty(), "{name} declares no breaks");
        // The table above (one scenario per property) is covered by the
        // declarations.
        for row in TABLE.iter().filter(|t| t.3 == name) {
            assert!(r.breaks.iter().any(|d| d.property == row.0 && d.scenario == row.1), "{name}: {} on {} not declared", row.0, row.1);
        }
        for d in &r.breaks {
            let (v, _) = verdict(name, &d.scenario, &d.property);
            assert_eq!(v, Verdict::Violated, "{name} breaks {} on {}", d.property, d.scenario);
        }
    }
}

/// On every scenario a mutant declares something about, its violated
/// properties are exactly its base's, plus `breaks`, minus `fixes`: it
/// breaks what it says and nothing else there. A fix (v2-fixed) breaks
/// nothing undeclared and makes hold what it declares.
#[test]
fn declarations_are_exact_on_their_scenarios() {
    let violated = |rev: &RevisionSpec, sc: &str| -> std::collections::BTreeSet<String> {
        let s = Scenario::load(sc).unwrap();
        let rep = check(rev, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
        rep.violated().into_iter().map(|p| p.property.clone()).collect()
    };
    for name in RevisionSpec::shipped_names() {
        let r = RevisionSpec::by_name(name).unwrap();
        let Some(base) = &r.base else { continue };
        let b = RevisionSpec::by_name(base).unwrap();
        let mut scenarios: Vec<&str> = r.breaks.iter().chain(r.fixes.iter()).map(|d| d.scenario.as_str()).collect();
        scenarios.sort();
        scenarios.dedup();
        for sc in scenarios {
            let mut want = violated(&b, sc);
            for d in r.breaks.iter().filter(|d| d.scenario == sc) {
                assert!(want.insert(d.property.clone()), "{name}: {base} already violates {} on {sc}", d.property);
            }
            for d in r.fixes.iter().filter(|d| d.scenario == sc) {
                assert!(want.remove(&d.property), "{name}: {base} does not violate {} on {sc}", d.property);
            }
            let got = violated(&r, sc);
            if name.starts_with("mut-") {
                assert_eq!(got, want, "{name} on {sc}");
            } else {
                // A fix may make more hold than it declares (pairs without an
                // expectation), but may not break anything undeclared.
                assert!(got.is_subset(&want), "{name} on {sc}: {got:?} not within {want:?}");
                assert!(r.breaks.iter().chain(r.fixes.iter()).filter(|d| d.scenario == sc).all(|d| want.contains(&d.property) == got.contains(&d.property)), "{name} on {sc}");
            }
        }
    }
}

#[test]
fn counterexample_becomes_a_replayable_trace() {
    let r = RevisionSpec::by_name("mut-no-sync1").unwrap();
    let s = Scenario::by_name("N2a").unwrap();
    let rep = check(&r, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    let ce = rep.properties.iter().find(|x| x.property == p::NO_STALE_PATH).unwrap().counterexample.clone().unwrap();
    let (h, lines) = counterexample_to_trace(&r, &s, &ce).expect("trace");
    assert_eq!(h.revision, "mut-no-sync1");
    assert!(!lines.is_empty());
    let text = mpath_reference::trace::to_jsonl(&h, &lines);
    assert!(text.lines().count() == lines.len() + 1);
    let m = mpath_model::checker::machine(&r, &s, std::sync::Arc::new(AtomicBool::new(false))).unwrap();
    let lane = render_counterexample(&m, &ce, 40);
    assert!(lane.contains("nvme_ns_remove") && lane.contains("rcu_assign_pointer"), "{lane}");
}

#[test]
fn stop_flag_interrupts() {
    let r = RevisionSpec::by_name("v2").unwrap();
    let s = Scenario::by_name("S03b-nvme").unwrap();
    let rep = check(&r, &s, &Bounds::default(), None, &AtomicBool::new(true)).unwrap();
    assert!(rep.properties.iter().all(|p| p.verdict != Verdict::Holds), "{rep}");
}

#[test]
fn depth_bound_is_reported() {
    let r = RevisionSpec::by_name("v2").unwrap();
    let s = Scenario::by_name("N1").unwrap();
    let b = Bounds { max_depth: Some(5), ..Bounds::default() };
    let rep = check(&r, &s, &b, None, &AtomicBool::new(false)).unwrap();
    assert_eq!(rep.verdict(p::NO_DUPLICATE_LINK), Some(Verdict::BoundReached), "{rep}");
}
