//! `mpath-verify bench workloads|kunit-gen|kunit-parse` (ported from the
//! retired `bench` binary): what they write is what the library renders,
//! and bad input is one line with exit 2.

use std::process::{Command, Output};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpath-verify")).current_dir(ROOT).arg("bench").args(args).output().expect("run mpath-verify")
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mpv-bench-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn workloads_writes_the_committed_file() {
    let d = scratch("workloads");
    let out = d.join("workloads.json");
    let o = bench(&["workloads", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), std::fs::read_to_string(format!("{ROOT}/benches/workloads.json")).unwrap());
    let n = mpath_benches::workloads::all().len();
    assert_eq!(String::from_utf8_lossy(&o.stderr), format!("wrote {} ({n} workloads)\n", out.display()));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn kunit_gen_is_the_generated_suite_on_stdout_or_in_a_file() {
    let want = mpath_benches::generate_suite(&mpath_benches::workloads::all()).unwrap();
    let o = bench(&["kunit-gen"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), want);
    let d = scratch("gen");
    let f = d.join("suite.c");
    let o = bench(&["kunit-gen", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&f).unwrap(), want);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn kunit_parse_prints_the_committed_ktap_as_json() {
    let text = std::fs::read_to_string(format!("{ROOT}/benches/report/kernel-um.ktap")).unwrap();
    let want = mpath_benches::parse_ktap(&text).unwrap();
    assert!(!want.is_empty());
    let o = bench(&["kunit-parse", "benches/report/kernel-um.ktap"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8(o.stdout).unwrap(), format!("{}\n", serde_json::to_string_pretty(&want).unwrap()));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let d = scratch("bad");
    let bad = d.join("bad.ktap");
    std::fs::write(&bad, "    # mpv-bench: numa_hit.x ns_per_op=notanumber\n").unwrap();
    for args in [vec!["kunit-parse", "/nonexistent/x.ktap"], vec!["kunit-parse", bad.to_str().unwrap()], vec!["workloads", "/nonexistent/dir/w.json"]] {
        let o = bench(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
