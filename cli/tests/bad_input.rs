//! Bad input to the trace parser and to replay: every malformed trace is
//! rejected with its exact `file:line:column` and a reason, never a panic;
//! the `mpath-verify` binary maps pass / divergence / bad input to exit
//! codes 0 / 1 / 2.

use mpath_conformance::parse::{parse_file, parse_str, Trace};
use mpath_conformance::replay::{replay, Outcome};
use mpath_conformance::InputError;
use proptest::prelude::*;
use std::path::PathBuf;
use std::process::Command;

const H: &str = r#"{"mpath_trace":1,"revision":"v2","driver":"nvme","topology":{"possible":[0],"online":[0]},"max_paths":2,"nr_ctrls":2}"#;

fn with_header(body: &str) -> String {
    format!("{H}\n{body}\n")
}

/// Parse, then replay; the first error either stage reports.
fn run(text: &str) -> Result<Outcome, InputError> {
    parse_str("t.jsonl", text).and_then(|t| replay(&t))
}

#[track_caller]
fn bad(text: &str, line: usize, column: usize, reason: &str) {
    let e = match run(text) {
        Err(e) => e,
        Ok(o) => panic!("accepted bad input ({o:?}):\n{text}"),
    };
    assert_eq!((e.file.as_str(), e.line, e.column), ("t.jsonl", line, column), "position of {e}");
    assert!(e.reason.contains(reason), "reason {:?} lacks {reason:?}", e.reason);
    assert!(!e.to_string().contains('\n'), "one-line error: {e}");
    assert!(e.to_string().starts_with(&format!("t.jsonl:{line}:{column}: ")), "{e}");
}

/// 1-based column of the last character of `needle` in `line`: where
/// serde_json stops. For the internally tagged `do` object, serde buffers
/// the whole object first, so some of its errors point at the object's
/// closing brace and others at the enclosing line's.
fn end(line: &str, needle: &str) -> usize {
    line.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {line:?}")) + needle.len()
}

#[test]
fn truncated_line() {
    // The op line ends inside a string: the error is at its last character.
    let l = r#"{"do":{"op":"find_path"},"ret":{"pa"#;
    bad(&format!("{H}\n{l}"), 2, l.len(), "truncated JSON");
    let l = r#"{"mpath_trace":1,"revision":"v2","#;
    bad(l, 1, l.len(), "truncated JSON");
}

#[test]
fn unknown_op() {
    let l = r#"{"do":{"op":"frobnicate"}}"#;
    bad(&with_header(l), 2, end(l, r#""frobnicate""#), "unknown variant `frobnicate`");
    let l = r#"{"do":{"path":1}}"#;
    bad(&with_header(l), 2, end(l, r#"{"path":1}"#), "missing field `op`");
}

#[test]
fn unknown_field() {
    let l = r#"{"do":{"op":"find_path"},"bogus":1}"#;
    bad(&with_header(l), 2, end(l, r#""bogus""#), "unknown field `bogus`");
    let l = r#"{"do":{"op":"find_path","nod":1}}"#;
    bad(&with_header(l), 2, end(l, r#""nod":1}}"#), "unknown field `nod`");
    let l = r#"{"do":{"op":"find_path"},"expect":{"curent_path":[0]}}"#;
    bad(&with_header(l), 2, end(l, r#""curent_path""#), "unknown field `curent_path`");
    let h = H.replace("\"max_paths\"", "\"colour\":1,\"max_paths\"");
    bad(&h, 1, end(&h, r#""colour""#), "unknown field `colour`");
}

#[test]
fn unknown_path_id() {
    // Semantic errors found by replay point at the start of the op's line.
    bad(&with_header(r#"{"do":{"op":"set_ready","path":7,"ready":true}}"#), 2, 1, "path 7 out of range (max_paths 2)");
    bad(&with_header("{\"do\":{\"op\":\"find_path\"}}\n{\"do\":{\"op\":\"set_ready\",\"path\":1,\"ready\":true}}"), 3, 1, "path 1 was never added");
    bad(&with_header(r#"{"do":{"op":"set_ctrl_state","ctrl":9,"state":"live"}}"#), 2, 1, "ctrl 9 out of range");
    bad(&with_header(r#"{"do":{"op":"find_path","node":3}}"#), 2, 1, "node 3 is not an online node");
    bad(
        &with_header("{\"do\":{\"op\":\"add_path\",\"path\":0,\"ctrl\":0}}\n{\"do\":{\"op\":\"add_path\",\"path\":0,\"ctrl\":1}}"),
        3,
        1,
        "path 0 already exists",
    );
}

#[test]
fn wrong_version() {
    bad(&H.replace("\"mpath_trace\":1", "\"mpath_trace\":2"), 1, 1, "unsupported trace format version 2");
    let h = H.replace("\"mpath_trace\":1,", "");
    bad(&h, 1, h.len(), "missing field `mpath_trace`");
}

#[test]
fn huge_numbers() {
    // u32 overflow in a path id, u64 overflow in seconds, i32 in a count,
    // usize in the header.
    let l = r#"{"do":{"op":"set_ready","path":4294967296,"ready":true}}"#;
    bad(&with_header(l), 2, end(l, "true}}"), "invalid value: integer `4294967296`, expected u32");
    let l = r#"{"do":{"op":"set_ready","path":-1,"ready":true}}"#;
    bad(&with_header(l), 2, end(l, "true}}"), "invalid value: integer `-1`, expected u32");
    let l = r#"{"do":{"op":"advance_time","secs":18446744073709551616}}"#;
    bad(&with_header(l), 2, end(l, "616}}"), "expected u64");
    let l = r#"{"do":{"op":"set_nr_active","ctrl":0,"n":2147483648}}"#;
    bad(&with_header(l), 2, end(l, "648}}"), "expected i32");
    let h = H.replace("\"max_paths\":2", "\"max_paths\":18446744073709551616");
    bad(&h, 1, end(&h, "18446744073709551616"), "expected usize");
    // In range for the type but beyond the trace's own bounds.
    bad(&with_header(r#"{"do":{"op":"advance_time","secs":18446744073709551615}}"#), 2, 1, "more than 1000000");
    bad(&H.replace("\"max_paths\":2", "\"max_paths\":4294967296"), 1, 1, "max_paths must be in 1..=128");
    bad(&H.replace("\"nr_ctrls\":2", "\"nr_ctrls\":0"), 1, 1, "nr_ctrls must be in 1..=128");
}

#[test]
fn empty_file() {
    bad("", 1, 1, "empty trace: no header line");
    bad("\n   \n\n", 1, 1, "empty trace: no header line");
}

#[test]
fn no_header() {
    let l = r#"{"do":{"op":"find_path"}}"#;
    bad(l, 1, end(l, r#""do""#), "unknown field `do`");
    // serde reads a struct from a sequence too: the second element is the description.
    bad("[1,2,3]", 1, 4, "invalid type: integer `2`, expected a string");
}

#[test]
fn invalid_utf8() {
    let dir = std::env::temp_dir().join(format!("mpv-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("utf8.jsonl");
    let mut bytes = format!("{H}\n{{\"do\":{{\"op\":\"find_path\"}}}}\n").into_bytes();
    bytes.extend_from_slice(b"{\"do\":{\"op\":\"find_path\"},\"note\":\"\xff\xfe\"}\n");
    std::fs::write(&f, &bytes).unwrap();
    let name = f.display().to_string();
    let e = parse_file(&name).unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), (name.as_str(), 3, 1));
    assert!(e.reason.contains("not valid UTF-8"), "{e}");
    let missing = dir.join("missing.jsonl").display().to_string();
    let e = parse_file(&missing).unwrap_err();
    assert!(e.reason.contains("cannot read"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_revision() {
    bad(&H.replace("\"v2\"", "\"v9\""), 1, 1, "unknown revision \"v9\"");
    bad(&H.replace("\"revision\":\"v2\"", "\"revision\":\"v2\",\"profile\":{\"no_such_field\":true}"), 1, 1, "unknown profile field \"no_such_field\"");
    let h = H.replace("\"nvme\"", "\"ata\"");
    bad(&h, 1, end(&h, r#""ata""#), "unknown variant `ata`");
}

#[test]
fn bad_topology() {
    let topo = r#""topology":{"possible":[0],"online":[0]}"#;
    let with = |t: &str| H.replace(topo, t);
    bad(&with(r#""topology":{"possible":[0],"online":[0,3]}"#), 1, 1, "online node 3 is not possible");
    bad(&with(r#""topology":{"possible":[],"online":[]}"#), 1, 1, "no possible node");
    bad(&with(r#""topology":{"possible":[1,0],"online":[0]}"#), 1, 1, "ascending and unique");
    bad(&with(r#""topology":{"possible":[0,1],"online":[0],"distances":[[0,1,5]]}"#), 1, 1, "10 < d <= 255");
    bad(&with(r#""topology":{"possible":[0,1],"online":[0],"distances":[[0,7,30]]}"#), 1, 1, "impossible node");
    bad(&with(r#""topology":{"possible":[0,4096],"online":[0]}"#), 1, 1, "node ids must be in 0..1024");
    bad(&H.replace("\"nr_ctrls\":2", "\"nr_ctrls\":2,\"ctrl_nodes\":[0,5]"), 1, 1, "ctrl_nodes: node 5 is not possible");
    bad(&H.replace("\"nr_ctrls\":2", "\"nr_ctrls\":2,\"iopolicy\":\"fastest\""), 1, 1, "unknown iopolicy \"fastest\"");
}

#[test]
fn driver_mismatched_op() {
    bad(
        &with_header("{\"do\":{\"op\":\"add_path\",\"path\":0,\"ctrl\":0}}\n{\"do\":{\"op\":\"set_sdev_state\",\"path\":0,\"state\":\"running\"}}"),
        3,
        1,
        "set_sdev_state is a scsi operation; this trace drives nvme",
    );
    bad(&with_header(r#"{"do":{"op":"add_path","path":0,"ctrl":0,"alua":"optimal"}}"#), 2, 1, "`alua` is SCSI-only");
    let scsi = H.replace("\"nvme\"", "\"scsi\"");
    bad(
        &format!("{scsi}\n{}\n{}\n", r#"{"do":{"op":"add_path","path":0,"ctrl":0}}"#, r#"{"do":{"op":"ana_update","path":0,"state":"optimized"}}"#),
        3,
        1,
        "ana_update is a nvme operation; this trace drives scsi",
    );
    bad(&format!("{scsi}\n{}\n", r#"{"do":{"op":"add_path","path":0,"ctrl":0,"ana":"optimized"}}"#), 2, 1, "`ana` is NVMe-only");
}

#[test]
fn bad_setup_is_reported_on_the_header_line() {
    let h = H.replace("\"nr_ctrls\":2", r#""nr_ctrls":2,"setup":[{"op":"set_ready","path":1,"ready":true}]"#);
    bad(&format!("{h}\n"), 1, 1, "setup[0]: path 1 was never added");
}

#[test]
fn a_wrong_expectation_is_a_divergence_not_bad_input() {
    let t = with_header("{\"do\":{\"op\":\"add_path\",\"path\":0,\"ctrl\":0,\"ana\":\"optimized\"}}\n{\"do\":{\"op\":\"find_path\"},\"ret\":{\"path\":1}}");
    match run(&t).unwrap() {
        Outcome::Diverged(d) => {
            assert_eq!((d.line, d.step, d.field.as_str()), (3, 1, "ret"));
            assert_eq!((d.expected.as_str(), d.actual.as_str()), (r#"{"path":1}"#, r#"{"path":0}"#));
        }
        o => panic!("{o:?}"),
    }
    let t = with_header("{\"do\":{\"op\":\"add_path\",\"path\":0,\"ctrl\":0,\"ana\":\"optimized\"},\"expect\":{\"current_path\":[null]}}");
    match run(&t).unwrap() {
        Outcome::Diverged(d) => assert_eq!((d.line, d.step, d.field.as_str(), d.actual.as_str()), (2, 0, "current_path", "[0]")),
        o => panic!("{o:?}"),
    }
}

// ---- the binary

fn tmp(name: &str, text: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mpv-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn verify(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mpath-verify")).args(args).output().expect("run mpath-verify");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn binary_exit_codes() {
    let good = tmp(
        "good.jsonl",
        with_header("{\"do\":{\"op\":\"add_path\",\"path\":0,\"ctrl\":0,\"ana\":\"optimized\"}}\n{\"do\":{\"op\":\"find_path\"},\"ret\":{\"path\":0}}")
            .as_bytes(),
    );
    let wrong = tmp(
        "wrong.jsonl",
        with_header("{\"do\":{\"op\":\"add_path\",\"path\":0,\"ctrl\":0,\"ana\":\"optimized\"}}\n{\"do\":{\"op\":\"find_path\"},\"ret\":{\"path\":1}}")
            .as_bytes(),
    );
    let badf = tmp("bad.jsonl", with_header(r#"{"do":{"op":"frobnicate"}}"#).as_bytes());
    let (g, w, b) = (good.display().to_string(), wrong.display().to_string(), badf.display().to_string());

    let (rc, out, _) = verify(&["replay", &g]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(&format!("PASS {g} (2 steps, 1 checks)")), "{out}");

    let (rc, out, _) = verify(&["replay", &g, &w]);
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains(&format!("DIVERGED {w}:3: step 1 ({{\"op\":\"find_path\"}}): ret expected {{\"path\":1}} but the reference gives {{\"path\":0}}")),
        "{out}"
    );

    let (rc, out, _) = verify(&["replay", &w, &b, &g]);
    assert_eq!(rc, 2, "bad input wins over a divergence: {out}");
    assert!(out.contains(&format!("BAD-INPUT {b}:2:24: unknown variant `frobnicate`")), "{out}");

    let (rc, out, _) = verify(&["replay", "--json", &w]);
    assert_eq!(rc, 1);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!((v["result"].as_str(), v["line"].as_u64(), v["step"].as_u64(), v["field"].as_str()), (Some("diverged"), Some(3), Some(1), Some("ret")));

    let (rc, out, _) = verify(&["replay", "--json", &b]);
    assert_eq!(rc, 2);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!((v["result"].as_str(), v["line"].as_u64(), v["column"].as_u64()), (Some("bad_input"), Some(2), Some(24)));

    let utf = tmp("utf8.jsonl", &[H.as_bytes(), b"\n\xff\n"].concat());
    let u = utf.display().to_string();
    let (rc, out, _) = verify(&["replay", &u]);
    assert_eq!(rc, 2);
    assert!(out.contains(&format!("BAD-INPUT {u}:2:1: not valid UTF-8")), "{out}");

    let (rc, _, err) = verify(&["gen", "--seed", "1", "--ops", "20001", "-o", "/dev/null"]);
    assert_eq!(rc, 2, "{err}");
    let (rc, _, err) = verify(&["gen", "--seed", "1", "--ops", "5", "--revision", "v9", "-o", "/dev/null"]);
    assert_eq!(rc, 2, "{err}");
    assert!(err.contains("unknown revision"), "{err}");
    let (rc, _, _) = verify(&["replay"]);
    assert_eq!(rc, 2, "clap usage errors exit 2");
}

// ---- never panic

fn valid_trace() -> String {
    mpath_conformance::gen::generate(&mpath_conformance::gen::GenOpts {
        seed: 5,
        ops: 12,
        revision: "v2".into(),
        driver: mpath_reference::DriverKind::Nvme,
        nodes: Some(2),
        paths: Some(2),
    })
    .unwrap()
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        prop_oneof![
            Just("find_path".to_string()),
            Just("add_path".to_string()),
            Just("nvme".to_string()),
            Just("v2".to_string()),
            Just("optimized".to_string()),
            Just("live".to_string()),
            Just("numa".to_string()),
            ".{0,8}"
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("op".to_string()),
            Just("do".to_string()),
            Just("path".to_string()),
            Just("ctrl".to_string()),
            Just("node".to_string()),
            Just("ret".to_string()),
            Just("expect".to_string()),
            Just("state".to_string()),
            Just("ana".to_string()),
            Just("mpath_trace".to_string()),
            Just("revision".to_string()),
            Just("driver".to_string()),
            Just("topology".to_string()),
            Just("max_paths".to_string()),
            Just("nr_ctrls".to_string()),
            Just("possible".to_string()),
            Just("online".to_string()),
            Just("setup".to_string()),
            "[a-z_]{1,8}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys, inner, 0..5).prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn no_panic(text: &str) {
    let r = std::panic::catch_unwind(|| {
        if let Ok(t) = parse_str("p.jsonl", text) {
            let _ = replay(&t);
        }
    });
    assert!(r.is_ok(), "parser or replay panicked on:\n{text}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        no_panic(&String::from_utf8_lossy(&bytes));
        let f = tmp("random.bin", &bytes);
        let r = std::panic::catch_unwind(|| parse_file(&f.display().to_string()).map(|t: Trace| t.lines.len()));
        prop_assert!(r.is_ok());
    }

    #[test]
    fn random_json_never_panics(header in json_value(), lines in prop::collection::vec(json_value(), 0..4)) {
        // As a header, and as op lines after a valid header.
        let mut text = header.to_string();
        for l in &lines {
            text.push('\n');
            text.push_str(&l.to_string());
        }
        no_panic(&text);
        let mut text = H.to_string();
        for l in &lines {
            text.push('\n');
            text.push_str(&serde_json::json!({"do": l}).to_string());
            text.push('\n');
            text.push_str(&l.to_string());
        }
        no_panic(&text);
    }

    #[test]
    fn mutated_valid_traces_never_panic(cut in 0usize..4000, pos in 0usize..4000, byte in any::<u8>(), num in any::<i64>()) {
        let t = valid_trace();
        // Truncation, a byte flip and a number swap.
        no_panic(&t[..t.floor_char_boundary_compat(cut % (t.len() + 1))]);
        let mut b = t.clone().into_bytes();
        let i = pos % b.len();
        b[i] = byte;
        no_panic(&String::from_utf8_lossy(&b));
        let swapped = t.replacen(":0,", &format!(":{num},"), 1 + pos % 7);
        no_panic(&swapped);
    }
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorCharBoundary for String {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        i = i.min(self.len());
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

// ---- properties files (check --properties)

#[test]
fn check_with_a_properties_file() {
    let badp = tmp("bad.props", b"property a always: head.live;\n");
    let b = badp.display().to_string();
    let (rc, out, err) = verify(&["check", "--scenario", "requeue", "--properties", &b]);
    assert_eq!(rc, 2, "{out}{err}");
    assert_eq!(err.trim_end(), format!("error: {b}:1:20: unknown field `head.live` (model/README-model.md, \"Properties as data\", lists the fields)"));
    let (rc, _, err) = verify(&["check", "--scenario", "requeue", "--properties", "/nonexistent.props"]);
    assert_eq!(rc, 2, "{err}");
    assert!(err.starts_with("error: /nonexistent.props:1:1: cannot read"), "{err}");

    let props = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/properties/requeue.props");
    let save = std::env::temp_dir().join(format!("mpv-props-{}", std::process::id()));
    let s = save.display().to_string();
    // Holds on v2: exit 0, the data properties in the same table.
    let (rc, out, err) = verify(&["check", "--scenario", "requeue-teardown", "--properties", props, "--save-dir", &s]);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(out.lines().any(|l| l.contains("requeue-teardown no_requeue_on_dead_head") && l.contains("not reproducible")), "{out}");
    // Violated on the mutant: a finding (exit 1), with swimlane, trace and schedule.
    let (rc, out, err) = verify(&["check", "--revision", "mut-remove-disk-no-kick", "--scenario", "requeue-teardown", "--properties", props, "--save-dir", &s]);
    assert_eq!(rc, 1, "{out}{err}");
    assert!(out.lines().any(|l| l.contains("no_requeue_on_dead_head") && l.contains(" reproduced") && l.contains(" NO ")), "{out}");
    assert!(out.contains("--- counterexample: mut-remove-disk-no-kick / requeue-teardown / requeued_bio_resubmitted_or_failed"), "{out}");
    for stem in ["no_requeue_on_dead_head", "requeued_bio_resubmitted_or_failed"] {
        let f = save.join(format!("mut-remove-disk-no-kick-requeue-teardown-{stem}.schedule.json"));
        assert!(out.contains(&format!("saved counterexample schedule: {}", f.display())), "{out}");
        assert!(std::fs::read_to_string(&f).unwrap().contains(&format!("\"property\": \"{stem}\"")));
    }
}
