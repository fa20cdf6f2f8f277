//! The dead-state canonicalisation ([`mpath_model::canon`], part of
//! `--reduce`) on its own, without the partial-order reduction: the same
//! properties violated as the plain search, fewer states, witnesses that
//! replay to violating states, counts independent of the checker threads;
//! and a broken liveness analysis is caught by the same comparison.

use mpath_model::canon::Canon;
use mpath_model::search::{search, Cond, End, Opts, Outcome};
use mpath_model::*;
use stateright::Model;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn setup(rname: &str, sname: &str) -> (machine::Machine, Vec<&'static str>, Vec<Cond>) {
    let rev = RevisionSpec::by_name(rname).unwrap();
    let sc = Scenario::by_name(sname).unwrap();
    let m = checker::machine(&rev, &sc, Arc::new(AtomicBool::new(false))).unwrap();
    let names = m.properties().iter().map(|p| p.name).collect();
    let conds = m.properties().iter().map(|p| p.condition).collect();
    (m, names, conds)
}

fn run(m: &machine::Machine, conds: &[Cond], canon: Option<Canon>, threads: usize) -> Outcome {
    let o = Opts { canon, threads, stop_when_all_found: false, ..Opts::default() };
    search(m, conds, &o, &AtomicBool::new(false), None)
}

const CASES: [(&str, &str); 9] = [
    ("mut-find-path-uninit", "S03a-B"),
    ("v2", "S03a-B"),
    ("v2", "N1"),
    ("v2", "S03b-nvme"),
    ("mut-no-sync1", "N2a"),
    ("v3", "S01"),
    ("nvme-6.12", "S03b-nvme"),
    ("v1", "R4"),
    ("mut-link-test-then-set", "N1"),
];

#[test]
fn canonicalisation_keeps_violations_and_merges_states() {
    let (mut plain_total, mut canon_total, mut violated) = (0, 0, 0);
    for (rname, sname) in CASES {
        let (m, names, conds) = setup(rname, sname);
        let plain = run(&m, &conds, None, 1);
        let canon = run(&m, &conds, Some(Canon::new(&m, &names, false)), 1);
        assert_eq!((plain.end, canon.end), (End::Complete, End::Complete), "{rname} {sname}");
        for (i, name) in names.iter().enumerate() {
            assert_eq!(plain.found[i].is_some(), canon.found[i].is_some(), "{rname} {sname} {name}");
            if canon.found[i].is_some() {
                violated += 1;
                // The witness (a new state or a transition event) replays
                // to a state violating the property.
                let w = canon.witness(&m, i).unwrap();
                let last = w.last().unwrap().0;
                assert!(!(conds[i])(&m, &last), "{rname} {sname} {name}: witness does not violate");
            }
        }
        assert!(canon.unique <= plain.unique, "{rname} {sname}");
        plain_total += plain.unique;
        canon_total += canon.unique;
        // Two checker threads: the same states (masks change between levels only).
        let two = run(&m, &conds, Some(Canon::new(&m, &names, false)), 2);
        assert_eq!((two.states, two.unique, two.max_depth), (canon.states, canon.unique, canon.max_depth), "{rname} {sname}: 2 threads");
    }
    assert!(violated > 5, "{violated}");
    assert!(canon_total * 10 < plain_total * 9, "canonicalisation merges states: {canon_total} of {plain_total}");
    eprintln!("canonicalisation: {canon_total} of {plain_total} unique states, {violated} violations compared");
}

/// The comparison above catches an unsound canonicalisation: with every
/// register declared dead, some verdict changes.
#[test]
fn a_broken_liveness_changes_verdicts() {
    let mut changed = 0;
    for (rname, sname) in CASES {
        let (m, names, conds) = setup(rname, sname);
        let plain = run(&m, &conds, None, 1);
        let mut c = Canon::new(&m, &names, false);
        c.live = live::Liveness::all_dead_for_tests(&m);
        let broken = run(&m, &conds, Some(c), 1);
        if (0..names.len()).any(|i| plain.found[i].is_some() != broken.found[i].is_some()) {
            changed += 1;
        }
    }
    assert!(changed > 0, "an all-dead liveness should change a verdict");
}
