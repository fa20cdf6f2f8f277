//! `mpath-verify check` can fail where it used to pass silently (issue 10):
//! an unknown property is bad input (exit 2), a revision without its own
//! catalogue column is held to its base's column plus its declared
//! `breaks` / `fixes` (exit 1 otherwise), and in single-scenario mode an
//! expected violation that no longer happens is a finding (exit 1). Each
//! test runs the correct input (passes) and the broken one (fails).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The model's files, from the package directory cargo runs tests in.
fn model(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../model").join(rel)
}

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("mpv-check-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check(dir: &Dir, args: &[&str]) -> Output {
    let save = dir.0.join("ce");
    Command::new(env!("CARGO_BIN_EXE_mpath-verify")).arg("check").args(args).arg("--save-dir").arg(&save).output().expect("run mpath-verify")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn rows(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)));
    v["rows"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], scenario: &str, property: &str) -> &'a Value {
    rows.iter().find(|r| r["scenario"] == scenario && r["property"] == property).unwrap_or_else(|| panic!("no row {scenario} {property}: {rows:?}"))
}

fn mutant_text() -> String {
    std::fs::read_to_string(model("revisions/mut-no-sync1.json")).unwrap()
}

#[test]
fn unknown_property_is_bad_input() {
    let d = Dir::new("unknown");
    let good = d.write("good.json", &mutant_text());
    let o = check(&d, &["--revision", &good, "--scenario", "N2a"]);
    assert_eq!(code(&o), 0, "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));

    let text = mutant_text().replace("\"property\": \"no_stale_path_after_removal\"", "\"property\": \"no_stale_path\"");
    assert_ne!(text, mutant_text());
    let bad = d.write("bad.json", &text);
    for args in [vec!["--revision", bad.as_str(), "--scenario", "N2a"], vec!["--catalogue", "--revision", bad.as_str()]] {
        let o = check(&d, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(&bad) && err.contains("unknown property \"no_stale_path\"") && err.contains("known: no_use_after_free"), "{err}");
        assert!(o.stdout.is_empty(), "nothing checked");
    }
}

#[test]
fn mutant_catalogue_is_held_to_its_declaration() {
    let d = Dir::new("mutant");
    // The shipped mutant: N2a is expected VIOLATED because it says it breaks it.
    let o = check(&d, &["--catalogue", "--revision", "mut-no-sync1", "--json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let rs = rows(&o);
    let n2a = row(&rs, "N2a", "no_stale_path_after_removal");
    assert_eq!((&n2a["expected"], &n2a["verdict"], &n2a["as_expected"]), (&Value::from("reproduced"), &Value::from("violated"), &Value::from(true)));
    assert_eq!(n2a["expected_from"], "mut-no-sync1 breaks");
    assert_eq!(row(&rs, "S03a-A", "selection_terminates")["expected_from"], "v2");

    // The same mutant without its declaration: it inherits v2's "holds"
    // for N2a, and the violation is a finding.
    let text = mutant_text();
    let start = text.find("  \"breaks\"").unwrap();
    let end = text[start..].find("],\n").unwrap() + start + 3;
    let file = d.write("undeclared.json", &format!("{}{}", &text[..start], &text[end..]));
    let o = check(&d, &["--catalogue", "--revision", &file, "--json"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stdout));
    let rs = rows(&o);
    let n2a = row(&rs, "N2a", "no_stale_path_after_removal");
    assert_eq!((&n2a["expected"], &n2a["verdict"], &n2a["as_expected"]), (&Value::from("not_reproducible"), &Value::from("violated"), &Value::from(false)));
    assert!(n2a["note"].as_str().unwrap().contains("expected to hold (v2)"), "{n2a}");
    assert_eq!(rs.iter().filter(|r| r["as_expected"] == false).count(), 1);

    // A revision that names nothing to inherit from cannot pass by default.
    let file = d.write("standalone.json", r#"{"name": "standalone", "reference_profile": "mut-no-sync1"}"#);
    let o = check(&d, &["--catalogue", "--revision", &file]);
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no expected verdicts"));
}

/// v3 with v2's `mpath_head_uninit` / `mpath_put_head`: the S01 race is
/// gone, but the file (based on v3) keeps v3's expectation.
fn v3_without_s01() -> String {
    let v2: Value = serde_json::from_str(&std::fs::read_to_string(model("revisions/v2.json")).unwrap()).unwrap();
    let f = &v2["functions"];
    serde_json::json!({
        "name": "v3-s01-fixed",
        "base": "v3",
        "functions": {"mpath_head_uninit": f["mpath_head_uninit"], "mpath_put_head": f["mpath_put_head"]},
    })
    .to_string()
}

#[test]
fn expected_violation_that_holds_is_a_finding() {
    let d = Dir::new("s01");
    let o = check(&d, &["--revision", "v3", "--scenario", "S01", "--json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let r = rows(&o);
    let r = row(&r, "S01", "no_use_after_free");
    assert_eq!((&r["verdict"], &r["as_expected"]), (&Value::from("violated"), &Value::from(true)));
    assert!(r.get("note").is_none() && r.get("expected_from").is_none(), "{r}");

    let file = d.write("v3-s01-fixed.json", &v3_without_s01());
    let o = check(&d, &["--revision", &file, "--scenario", "S01", "--json"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stdout));
    let r = rows(&o);
    let r = row(&r, "S01", "no_use_after_free");
    assert_eq!((&r["expected"], &r["verdict"], &r["as_expected"]), (&Value::from("reproduced"), &Value::from("holds"), &Value::from(false)));
    assert!(r["note"].as_str().unwrap().contains("expected VIOLATED (v3) but holds"), "{r}");

    // The table says so on the row too.
    let o = check(&d, &["--revision", &file, "--scenario", "S01"]);
    assert_eq!(code(&o), 1);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("^ expected VIOLATED (v3) but holds: the race no longer happens"), "{out}");

    // Declaring the fix makes it the expectation again.
    let mut v: Value = serde_json::from_str(&v3_without_s01()).unwrap();
    v["fixes"] = serde_json::json!([{"property": "no_use_after_free", "scenario": "S01"}]);
    let file = d.write("v3-s01-fixed-declared.json", &v.to_string());
    let o = check(&d, &["--revision", &file, "--scenario", "S01"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
}
