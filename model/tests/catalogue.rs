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
                row.entry.as_ref().map(|e| e.id).unwrap_or("-"),
                row.scenario,
                row.expected,
                row.verdict,
                row.report
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

// ---- expectations: checks that must be able to fail (issue 10) ----

fn entry(scenario: &str) -> Entry {
    catalogue().into_iter().find(|e| e.scenario == scenario).unwrap()
}

#[test]
fn unknown_property_in_an_entry_is_an_error() {
    let good = vec![entry("R4")];
    let r = RevisionSpec::by_name("v2").unwrap();
    let rows = run_entries(&good, &r, &Bounds::default(), &AtomicBool::new(false)).unwrap();
    assert!(rows[0].matches_expectation);
    let mut bad = good.clone();
    bad[0].property = "no_null_disc";
    let e = run_entries(&bad, &r, &Bounds::default(), &AtomicBool::new(false)).unwrap_err().to_string();
    assert!(e.contains("catalogue entry R4") && e.contains("unknown property \"no_null_disc\"") && e.contains("known: no_use_after_free"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    // The shipped catalogue names only known properties.
    validate_entries(&catalogue()).unwrap();
}

#[test]
fn unknown_property_in_a_revision_file_is_an_error() {
    let good = include_str!("../revisions/mut-no-sync1.json");
    RevisionSpec::from_text("x.json", good).unwrap();
    let bad = good.replace("\"property\": \"no_stale_path_after_removal\"", "\"property\": \"no_stale_path\"");
    assert_ne!(bad, good);
    let e = RevisionSpec::from_text("x.json", &bad).unwrap_err().to_string();
    assert!(e.contains("x.json") && e.contains("breaks[0]: unknown property \"no_stale_path\"") && e.contains("known: "), "{e}");
    let bad = good.replace("\"scenario\": \"N2a\"", "\"scenario\": \"N2z\"");
    let e = RevisionSpec::from_text("x.json", &bad).unwrap_err().to_string();
    assert!(e.contains("breaks[0]: scenario \"N2z\""), "{e}");
}

/// The N2a row of a catalogue run restricted to the N2 (N2a) entry, for
/// the revision file's text (declared pairs elsewhere add rows of their own).
fn n2a_row(text: &str) -> CatalogueResult {
    let r = RevisionSpec::from_text("t.json", text).unwrap();
    let rows = run_entries(&[entry("N2a")], &r, &Bounds::default(), &AtomicBool::new(false)).unwrap();
    rows.into_iter().find(|r| r.scenario == "N2a").expect("the N2a row")
}

#[test]
fn a_mutant_is_held_to_what_it_declares() {
    let good = include_str!("../revisions/mut-no-sync1.json");
    let row = n2a_row(good);
    assert_eq!((row.verdict, row.expected, row.expected_from.as_deref()), (Verdict::Violated, Some(Expect::Reproduced), Some("mut-no-sync1 breaks")));
    assert!(row.matches_expectation);
    // Without the declaration the mutant inherits v2's "holds": the
    // violation is a finding (it used to pass: no column, no expectation).
    let start = good.find("  \"breaks\"").unwrap();
    let end = good[start..].find("],\n").unwrap() + start + 3;
    let undeclared = format!("{}{}", &good[..start], &good[end..]);
    let row = n2a_row(&undeclared);
    assert_eq!((row.verdict, row.expected, row.expected_from.as_deref()), (Verdict::Violated, Some(Expect::NotReproducible), Some("v2")));
    assert!(!row.matches_expectation);
    // Declaring the wrong scenario is no better.
    let row = n2a_row(&good.replace("\"scenario\": \"N2a\"", "\"scenario\": \"N2c\""));
    assert!(!row.matches_expectation);
}

#[test]
fn a_declared_break_that_does_not_happen_fails() {
    // v2 declaring it breaks N2a's property: it does not, so the row fails.
    let text = r#"{"name": "v2-claims-n2a", "base": "v2", "breaks": [{"property": "no_stale_path_after_removal", "scenario": "N2a"}]}"#;
    let row = n2a_row(text);
    assert_eq!((row.verdict, row.expected), (Verdict::Holds, Some(Expect::Reproduced)));
    assert!(!row.matches_expectation);
    // Same revision without the claim: inherits v2, holds, fine.
    assert!(n2a_row(r#"{"name": "v2-copy", "base": "v2"}"#).matches_expectation);
}

#[test]
fn expectations_follow_the_base_chain() {
    // A mutant of v2-fixed inherits v2's column with v2-fixed's fixes.
    let r =
        RevisionSpec::from_text("t.json", r#"{"name": "m", "base": "v2-fixed", "breaks": [{"property": "no_stale_path_after_removal", "scenario": "N2a"}]}"#)
            .unwrap();
    let x = Expectations::of(&r).unwrap();
    assert_eq!(x.column.as_deref(), Some("v2"));
    assert_eq!(x.derivation, "m -> v2-fixed -> v2");
    let g = |s: &str, p: &str| x.get(s, p).map(|e| (e.expect, e.from.clone()));
    assert_eq!(g("S03a-A", "selection_terminates"), Some((Expect::NotReproducible, "v2-fixed fixes".into())));
    assert_eq!(g("S02b-library", "no_leaked_gendisk"), Some((Expect::Reproduced, "v2".into())));
    assert_eq!(g("N2a", "no_stale_path_after_removal"), Some((Expect::Reproduced, "m breaks".into())));
    // The catalogue revisions use their own column, nothing declared.
    for rev in mpath_model::revision::CATALOGUE_REVISIONS {
        assert!(Expectations::of(&RevisionSpec::by_name(rev).unwrap()).unwrap().is_own_column(), "{rev}");
    }
    // No base, no catalogue reference_profile: no expectations, and the
    // catalogue refuses to run rather than pass everything.
    let r = RevisionSpec::from_text("t.json", r#"{"name": "standalone", "reference_profile": "mut-no-sync1"}"#).unwrap();
    let e = run_catalogue(&r, &Bounds::default(), &AtomicBool::new(false)).unwrap_err().to_string();
    assert!(e.contains("revision standalone: no expected verdicts"), "{e}");
    let r = RevisionSpec::from_text("t.json", r#"{"name": "standalone", "reference_profile": "v3"}"#).unwrap();
    assert_eq!(Expectations::of(&r).unwrap().column.as_deref(), Some("v3"));
}

#[test]
fn every_shipped_revision_passes_its_derived_catalogue() {
    for name in RevisionSpec::shipped_names() {
        if mpath_model::revision::CATALOGUE_REVISIONS.contains(&name) {
            continue; // catalogue_matches_expectations_on_all_revisions
        }
        let r = RevisionSpec::by_name(name).unwrap();
        for row in run_catalogue(&r, &Bounds::default(), &AtomicBool::new(false)).unwrap() {
            assert!(
                row.matches_expectation,
                "{name}: {} {}: expected {:?} ({:?}), got {}",
                row.scenario, row.property, row.expected, row.expected_from, row.verdict
            );
        }
    }
}

#[test]
fn entries_about_6_12_only_are_left_out_of_other_columns() {
    let only: Vec<Entry> = catalogue().into_iter().filter(|e| e.expected_for("v2").is_none()).collect();
    assert!(only.iter().any(|e| e.scenario == "S03c-ioctl"), "{only:?}");
    for e in &only {
        assert!(e.expected_for("nvme-6.12").is_some(), "{} {} has no column at all", e.scenario, e.property);
        for rev in ["v1", "v2", "v3"] {
            assert!(e.expected_for(rev).is_none());
        }
    }
    let rows = |name: &str| run_entries(&only, &RevisionSpec::by_name(name).unwrap(), &Bounds::default(), &AtomicBool::new(false)).unwrap();
    assert!(rows("v2").is_empty());
    // (v2-fixed's own declared pairs are rows of their own, not entries.)
    assert!(rows("v2-fixed").iter().all(|x| x.entry.is_none()));
    let r = rows("nvme-6.12");
    assert_eq!(r.len(), only.len());
    assert!(r.iter().all(|x| x.matches_expectation && x.expected_from.as_deref() == Some("nvme-6.12")), "{r:?}");
    // A revision derived from nvme-6.12 inherits its column, 6.12-only
    // entries included.
    let m = RevisionSpec::from_text("m.json", r#"{"name": "m612", "base": "nvme-6.12"}"#).unwrap();
    let x = Expectations::of(&m).unwrap();
    assert_eq!(x.get("S03c-ioctl", "no_disabled_path_returned").map(|e| (e.expect, e.from.as_str())), Some((Expect::Reproduced, "nvme-6.12")));
}

/// The state's typed fields take only values that name a state: a
/// revision file whose step stores a number naming no SCSI device state,
/// stores a state from another register than `arg`, or writes `arg`, is
/// refused when it loads or compiles (one line each), never at run time.
#[test]
fn a_state_store_outside_its_enum_is_a_load_error() {
    let file = |f: &str| format!(r#"{{"name": "t", "base": "v2", "functions": {{"op_set_sdev_state": [{f}]}}}}"#);
    // The good form loads and compiles.
    RevisionSpec::from_text("t.json", &file(r#"{"s": "set_sdev_state", "p": "path", "v": 8}"#)).unwrap().compile().unwrap();
    RevisionSpec::from_text("t.json", &file(r#"{"s": "poke", "field": "sdev_state", "on": "path", "src": "arg"}"#)).unwrap().compile().unwrap();
    let e = RevisionSpec::from_text("t.json", &file(r#"{"s": "set_sdev_state", "p": "path", "v": 42}"#)).unwrap_err().to_string();
    assert!(e.starts_with("t.json:1:") && e.contains("sdev state 42 names no enum scsi_device_state value"), "{e}");
    for (step, want) in [
        (r#"{"s": "poke", "field": "alua_state", "on": "path", "src": "tmp"}"#, "step \"poke\" stores a state from register tmp"),
        (r#"{"s": "set_ana", "p": "path", "src": "data"}"#, "step \"set_ana\" stores a state from register data"),
        (r#"{"s": "set", "r": "arg", "v": 42}"#, "step \"set\" writes `arg`"),
    ] {
        let e = RevisionSpec::from_text("t.json", &file(step)).unwrap().compile().unwrap_err().to_string();
        assert!(e.contains("function op_set_sdev_state") && e.contains(want) && !e.contains('\n'), "{e}");
    }
}
