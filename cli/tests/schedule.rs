//! Counterexamples carry their schedule (issue 11): `check` saves
//! `<stem>.schedule.json` beside each counterexample trace and names it,
//! the schedule follows the swimlane, resolves the objects, is the same
//! bytes on every run, and `replay` given a schedule replays its
//! sequential trace or refuses it with one line and exit 2.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("mpv-schedule-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mpath-verify"))
}

fn check(save: &Path, rev: &str, scenario: &str, json: bool) -> Output {
    let mut c = bin();
    c.args(["check", "--revision", rev, "--scenario", scenario, "--save-dir"]).arg(save);
    if json {
        c.arg("--json");
    }
    let o = c.output().expect("run mpath-verify");
    // 0, or 1 when some verdict has no expectation: either way it saved.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn replay(file: &str) -> Output {
    bin().arg("replay").arg(file).output().expect("run mpath-verify")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

fn row<'a>(v: &'a Value, property: &str) -> &'a Value {
    v["rows"].as_array().unwrap().iter().find(|r| r["property"] == property).unwrap_or_else(|| panic!("no row {property}"))
}

fn read(p: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn check_saves_the_schedule_of_each_counterexample() {
    let d = Dir::new("check");
    let v = json(&check(&d.0, "nvme-6.12", "S03a-B", true));
    let r = row(&v, "selection_terminates");
    assert_eq!(r["verdict"], "violated");
    let file = r["counterexample_schedule"].as_str().expect("counterexample_schedule");
    assert_eq!(file, d.0.join("nvme-6.12-S03a-B-selection_terminates.schedule.json").display().to_string());
    let s = read(file);
    assert_eq!(s["mpath_schedule"], 1);
    assert_eq!((s["revision"].as_str(), s["reference_profile"].as_str()), (Some("nvme-6.12"), Some("nvme-6.12")));
    assert_eq!((s["scenario"].as_str(), s["property"].as_str()), (Some("S03a-B"), Some("selection_terminates")));
    assert_eq!(s["worker"], 3);
    assert_eq!(s["threads"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect::<Vec<_>>(), ["R", "R2", "D"]);
    // The trace field names the trace saved beside it, if one was.
    match r["counterexample_trace"].as_str() {
        Some(t) => assert_eq!(s["trace"].as_str(), Path::new(t).file_name().and_then(|n| n.to_str())),
        None => assert!(s["trace"].is_null()),
    }
    // Steps: the swimlane's (the report's counterexample steps), row for row.
    let rep = v["reports"][0]["properties"].as_array().unwrap().iter().find(|p| p["property"] == "selection_terminates").unwrap();
    let ce = &rep["counterexample"];
    assert_eq!(s["violation"], ce["violation"]);
    let lane = ce["steps"].as_array().unwrap();
    let steps = s["steps"].as_array().unwrap();
    assert_eq!(steps.len(), lane.len());
    for (i, (a, b)) in steps.iter().zip(lane).enumerate() {
        assert_eq!(a["i"], i);
        for k in ["thread", "thread_name", "function", "primitive", "ops_done"] {
            assert_eq!(a[k], b[k], "step {i} {k}");
        }
    }
    // Objects: D's list_del_rcu names path 0.
    let del: Vec<&Value> = steps.iter().filter(|x| x["thread_name"] == "D" && x["step"]["s"] == "list_del").collect();
    assert_eq!(del.len(), 1);
    assert_eq!(del[0]["objects"], serde_json::json!({"path": 0}));
    assert_eq!(del[0]["step"], serde_json::json!({"s": "list_del", "p": "path"}));

    // Text mode: the schedule line is printed next to the trace line.
    let d2 = Dir::new("check-text");
    let o = check(&d2.0, "nvme-6.12", "S03a-B", false);
    let out = String::from_utf8_lossy(&o.stdout);
    let want = format!("saved counterexample schedule: {}", d2.0.join("nvme-6.12-S03a-B-selection_terminates.schedule.json").display());
    assert!(out.lines().any(|l| l == want), "{out}");
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("saved counterexample")).collect();
    for (k, l) in lines.iter().enumerate() {
        if let Some(t) = l.strip_prefix("saved counterexample trace: ") {
            let stem = t.strip_suffix(".jsonl").unwrap();
            assert_eq!(lines.get(k + 1).copied(), Some(format!("saved counterexample schedule: {stem}.schedule.json").as_str()), "{out}");
        }
    }
}

#[test]
fn schedules_are_byte_identical_across_runs() {
    let (a, b) = (Dir::new("det-a"), Dir::new("det-b"));
    check(&a.0, "nvme-6.12", "S03a-B", false);
    check(&b.0, "nvme-6.12", "S03a-B", false);
    let mut names: Vec<String> =
        std::fs::read_dir(&a.0).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.ends_with(".schedule.json")).collect();
    names.sort();
    assert!(names.contains(&"nvme-6.12-S03a-B-selection_terminates.schedule.json".to_string()), "{names:?}");
    for n in &names {
        let x = std::fs::read(a.0.join(n)).unwrap();
        let y = std::fs::read(b.0.join(n)).unwrap();
        assert!(x == y, "{n} differs between two runs");
    }
}

#[test]
fn replay_of_a_schedule_replays_its_trace_or_refuses_it() {
    let d = Dir::new("replay");
    // v2 S02b-library: the leaked-gendisk counterexample completes both
    // operations, so it has a sequential trace.
    let v = json(&check(&d.0, "v2", "S02b-library", true));
    let r = row(&v, "no_leaked_gendisk");
    let sched = r["counterexample_schedule"].as_str().unwrap().to_string();
    let trace = r["counterexample_trace"].as_str().unwrap().to_string();
    let o = replay(&sched);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(err.lines().any(|l| l == format!("{sched}: a schedule (mpath_schedule 1), not a trace: replaying its sequential trace {trace}")), "{err}");
    assert!(out.starts_with(&format!("PASS {trace} (")), "{out}");

    // A schedule without a sequential trace (no operation completed).
    let v = json(&check(&d.0, "nvme-6.12", "S03a-B", true));
    let r = row(&v, "selection_terminates");
    if r["counterexample_trace"].is_null() {
        let s = r["counterexample_schedule"].as_str().unwrap();
        let o = replay(s);
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(out.starts_with(&format!("BAD-INPUT {s}:1:1: schedule of nvme-6.12 / S03a-B / selection_terminates has no sequential trace")), "{out}");
    }

    // Version 2: one line naming the file and the reason, exit 2.
    let text = std::fs::read_to_string(&sched).unwrap();
    assert!(text.starts_with("{\n  \"mpath_schedule\": 1,\n"));
    let v2 = d.0.join("v2.schedule.json");
    std::fs::write(&v2, text.replacen("\"mpath_schedule\": 1", "\"mpath_schedule\": 2", 1)).unwrap();
    let v2 = v2.display().to_string();
    let o = replay(&v2);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert_eq!(out.trim_end(), format!("BAD-INPUT {v2}:2:3: schedule version 2 is not supported by this build (supports 1)"));
    assert_eq!(out.lines().count(), 1);
    // ... and in --json.
    let o = bin().args(["replay", "--json", &v2]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((j["result"].as_str(), j["reason"].as_str()), (Some("bad_input"), Some("schedule version 2 is not supported by this build (supports 1)")));

    // A step naming a thread the schedule does not have.
    let mut bad: Value = serde_json::from_str(&text).unwrap();
    bad["steps"][0]["thread"] = 9.into();
    let f = d.0.join("thread.schedule.json");
    std::fs::write(&f, serde_json::to_string_pretty(&bad).unwrap()).unwrap();
    let o = replay(&f.display().to_string());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stdout).contains("step 0: thread 9 is out of range (threads 0..=2, 2 = worker)"));
}
