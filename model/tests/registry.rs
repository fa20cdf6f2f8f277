//! One revision registry (`model/revisions/<name>.json`, listed once in
//! `mpath_reference::revision::REGISTRY`): every name resolves on both
//! sides, and every mutant carries its mutation on both sides.

use mpath_model::revision::{check_registry, SHIPPED};
use mpath_model::RevisionSpec;
use mpath_reference::Profile;

#[test]
fn every_name_resolves_on_both_sides() {
    let problems = check_registry(SHIPPED);
    assert!(problems.is_empty(), "registry:\n{}", problems.join("\n"));
    for name in Profile::all_names() {
        let spec = RevisionSpec::by_name(name).unwrap_or_else(|e| panic!("{name}: model: {e}"));
        assert_eq!(spec.reference_profile_name(), name, "{name}: its traces must replay on its own reference twin");
        assert_eq!(Profile::by_name(name).map(|p| p.name), Some(name.to_string()));
    }
    assert_eq!(RevisionSpec::shipped_names(), Profile::all_names());
    assert_eq!(RevisionSpec::mutant_names(), Profile::mutant_names());
    // Every file in model/revisions is registered (and every registered
    // name has its file).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/revisions");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".json"))
        .map(|f| f.trim_end_matches(".json").to_string())
        .collect();
    on_disk.sort();
    let mut registered: Vec<String> = Profile::all_names().iter().map(|s| s.to_string()).collect();
    registered.sort();
    assert_eq!(on_disk, registered);
    for name in Profile::all_names() {
        let text = std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap();
        assert_eq!(SHIPPED.iter().find(|(n, _)| *n == name).unwrap().1, text, "{name}: the registry embeds the file");
    }
}

/// The mutants the issue found without a reference twin now have one that
/// differs from v2 exactly where their step programs do.
#[test]
fn mutants_carry_their_mutation_on_both_sides() {
    let expect: &[(&str, &str, bool)] = &[
        ("mut-numa-no-optimized-check", "numa_fast_path_checks_optimized", false),
        ("mut-no-remove-link", "remove_removes_link", false),
        ("mut-no-ctrl-sync", "remove_ctrl_sync", false),
        ("mut-set-live-no-sync", "set_live_sync", false),
        ("mut-sync-inside-srcu", "set_live_sync_inside_srcu", true),
        ("mut-set-live-deref-first", "set_live_checks_disk_first", false),
        ("mut-no-sync2", "remove_sync2", false),
        ("v2-fixed", "rr_loop_stops_at_unlinked_old", true),
    ];
    let v2 = serde_json::to_value(Profile::v2()).unwrap();
    for (name, field, value) in expect {
        let p = serde_json::to_value(Profile::by_name(name).unwrap()).unwrap();
        assert_eq!(p[field], serde_json::Value::Bool(*value), "{name}.{field}");
        assert_ne!(v2[field], p[field], "{name}.{field} equals v2's");
        let d = Profile::by_name(name).unwrap().differences_from(&Profile::v2());
        assert!(name.starts_with("v2-fixed") || d.len() == 1, "{name}: one difference from v2, got {d:?}");
        assert!(!mpath_model::revision::overridden_functions(name).is_empty(), "{name}: no step program of its own");
    }
}

/// The check fails on a registry with a one-sided or mutation-less entry.
#[test]
fn a_broken_registry_is_reported() {
    let v2 = SHIPPED[0];
    assert_eq!(v2.0, "v2");
    let file = |name: &str, reference: &str, functions: &str| format!(r#"{{"name": "{name}", "base": "v2", {reference} "functions": {{{functions}}}}}"#);
    // No reference profile: resolves in the model only.
    let t = file("mut-x", "", r#""mpath_synchronize": [{"s": "return"}]"#);
    let p = check_registry(&[v2, ("mut-x", &t)]);
    assert!(p.len() == 1 && p[0].contains("missing field `reference`"), "{p:?}");
    // A twin without the mutation.
    let t = file("mut-x", r#""reference": {},"#, r#""mpath_synchronize": [{"s": "return"}]"#);
    let p = check_registry(&[v2, ("mut-x", &t)]);
    assert!(p.iter().any(|e| e.contains("reference twin does not carry its mutation")), "{p:?}");
    // Step programs without the mutation.
    let t = file("mut-x", r#""reference": {"remove_sync2": false},"#, "");
    let p = check_registry(&[v2, ("mut-x", &t)]);
    assert!(p.iter().any(|e| e.contains("step programs do not carry its mutation")), "{p:?}");
    // A field repeating the base, an unknown field, another revision's name.
    let t = file("mut-x", r#""reference": {"remove_sync2": true, "remove_sync3": false},"#, r#""mpath_synchronize": [{"s": "return"}]"#);
    assert!(check_registry(&[v2, ("mut-x", &t)]).iter().any(|e| e.contains("repeats its base")));
    let t = file("mut-x", r#""reference": {"nope": false},"#, "");
    assert!(check_registry(&[v2, ("mut-x", &t)])[0].contains("unknown profile field \"nope\""));
    let t = file("mut-y", r#""reference": {"remove_sync2": false},"#, r#""mpath_synchronize": [{"s": "return"}]"#);
    assert!(check_registry(&[v2, ("mut-x", &t)])[0].contains("is not the registry's"));
}

/// Loader errors are one line, `file:line:column: reason`, without a
/// repeated prefix or serde's own position.
#[test]
fn revision_file_errors_are_one_line() {
    let e = RevisionSpec::from_text("r1.json", r#"{"base": "v2", "functions": {}}"#).unwrap_err().to_string();
    assert_eq!(e, "r1.json:1:31: missing field `name`");
    let e = RevisionSpec::from_text("r1.json", r#"{"name": "r1", "base": "v2", "reference": {"remove_sync2": false}}"#).unwrap_err().to_string();
    assert!(e.starts_with("revision r1.json: \"reference\": \"r1\" is not in the registry") && !e.contains('\n'), "{e}");
}
