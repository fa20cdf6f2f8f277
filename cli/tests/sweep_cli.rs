//! `mpath-verify sweep` through the CLI: bad input is one located line
//! (exit 2); the CI vocabulary's group summary is the committed one.

use std::process::Command;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn mpv(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mpath-verify")).current_dir(ROOT).args(args).output().expect("run mpath-verify")
}

fn tmp(name: &str) -> String {
    let d = std::env::temp_dir().join(format!("mpv-sweep-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name).display().to_string()
}

#[test]
fn bad_vocabulary_is_one_line_exit_2() {
    let f = tmp("bad.json");
    std::fs::write(&f, "{\n  \"name\": \"x\",\n  \"revisions\": [\"v2\"],\n  \"threads\": [2],\n  \"ops_per_thread\": 1,\n  \"topologies\": [],\n  \"ops\": {}, \"bogus\": 1\n}\n").unwrap();
    let o = mpv(&["sweep", &f, "-o", &tmp("bad.jsonl")]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("error: {f}:7:")) && err.contains("bogus"), "{err}");
    // a bad shard, a results file that is not one
    let o = mpv(&["sweep", "model/sweep/ci.json", "--shard", "3/2"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1);
    let o = mpv(&["sweep", "report", "model/sweep/ci.json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: model/sweep/ci.json:1:") && err.contains("not a sweep results header"), "{err}");
}

/// What scripts/test runs: the CI vocabulary against its committed group
/// summary (MPV_BLESS=1 rewrites it); a changed summary fails with exit 1.
#[test]
fn ci_sweep_matches_its_expected_summary() {
    let out = tmp("ci.jsonl");
    let o = mpv(&["sweep", "model/sweep/ci.json", "-o", &out, "--summary", "--expect", "model/sweep/ci.expected"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout, std::fs::read_to_string(format!("{ROOT}/model/sweep/ci.expected")).unwrap());
    assert!(stdout.contains("NOT CATALOGUED") && stdout.contains("[catalogued: S03c"), "{stdout}");
    // a tampered expectation fails
    let bad = tmp("ci.expected");
    std::fs::write(&bad, stdout.replacen("NOT CATALOGUED", "catalogued", 1)).unwrap();
    let o = mpv(&["sweep", "report", &out, "--summary", "--expect", &bad]);
    assert_eq!(o.status.code(), Some(1));
}
