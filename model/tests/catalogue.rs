//! Catalogue verdicts match the review catalogue's Summary table on every
//! revision, runs are deterministic, and `diff` reports only changes.

use mpath_model::*;
use std::sync::atomic::AtomicBool;

#[test]
fn catalogue_matches_expectations_on_all_revisions() {
    for rev in mpath_model::revision::CATALOGUE_REVISIONS {
        let r = RevisionSpec::by_name(rev).unwrap();
        for row in run_catalogue(&r, &Bounds::default(), &AtomicBool::new(false)).unwrap() {
            assert!(
                row.matches_expectation,
                "{} {} on {rev}: expected {:?}, got {}\n{}",
                row.entry.id, row.entry.scenario, row.expected, row.verdict, row.report
            );
        }
    }
}

#[test]
fn reports_are_deterministic() {
    let r = RevisionSpec::by_name("v2").unwrap();
    for sc in ["S03a-B", "N1", "S07"] {
        let s = Scenario::by_name(sc).unwrap();
        for mode in [Mode::Bfs, Mode::Dfs] {
            let b = Bounds { mode, ..Bounds::default() };
            let a = check(&r, &s, &b, None, &AtomicBool::new(false)).unwrap();
            let c = check(&r, &s, &b, None, &AtomicBool::new(false)).unwrap();
            assert_eq!(a.deterministic_part(), c.deterministic_part(), "{sc} {mode:?}");
        }
    }
}

#[test]
fn diff_v2_v3_is_s01_only() {
    let a = RevisionSpec::by_name("v2").unwrap();
    let b = RevisionSpec::by_name("v3").unwrap();
    let d = diff(&a, &b, &Bounds::default(), &AtomicBool::new(false)).unwrap();
    assert!(!d.is_empty());
    assert!(d.iter().all(|row| row.scenario == "S01"), "{d:?}");
}

#[test]
fn shipped_files_load_and_compile() {
    for n in RevisionSpec::shipped_names() {
        RevisionSpec::by_name(n).unwrap().compile().unwrap();
    }
    for n in Scenario::shipped_names() {
        Scenario::by_name(n).unwrap().validate().unwrap();
    }
    assert!(RevisionSpec::load("model/revisions/v2.json").is_ok() || RevisionSpec::load("revisions/v2.json").is_ok());
}

#[test]
fn thread_symmetry_keeps_verdicts_and_reduces_states() {
    let r = RevisionSpec::by_name("v2").unwrap();
    for sc in ["S03a-B", "S03b-nvme"] {
        let s = Scenario::by_name(sc).unwrap();
        let plain = check(&r, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
        let b = Bounds { symmetry: true, ..Bounds::default() };
        let sym = check(&r, &s, &b, None, &AtomicBool::new(false)).unwrap();
        let sym2 = check(&r, &s, &b, None, &AtomicBool::new(false)).unwrap();
        assert_eq!(sym.deterministic_part(), sym2.deterministic_part());
        assert!(sym.unique_states < plain.unique_states, "{sc}: {} vs {}", sym.unique_states, plain.unique_states);
        for (a, c) in plain.properties.iter().zip(sym.properties.iter()) {
            assert_eq!(a.verdict, c.verdict, "{sc} {}", a.property);
        }
    }
}

#[test]
fn diff_v2_nvme_6_12_skips_what_6_12_lacks() {
    let a = RevisionSpec::by_name("v2").unwrap();
    let b = RevisionSpec::by_name("nvme-6.12").unwrap();
    let d = diff(&a, &b, &Bounds::default(), &AtomicBool::new(false)).unwrap();
    // S07 is the catalogue difference; no delayed-removal row (skipped).
    assert!(d.iter().any(|r| r.scenario == "S07" && r.property == "no_use_after_free"), "{d:?}");
    assert!(d.iter().all(|r| r.scenario != "delayed-removal"));
}
