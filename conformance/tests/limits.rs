//! Resource limits a reviewer can hit by accident: the longest trace the
//! format accepts (`MAX_OPS` operations) parses and replays; the exporter
//! refuses a KUnit case longer than `MAX_CASE_STEPS` with a reason instead
//! of writing C no compiler should be given; one more operation is a
//! one-line error.

use mpath_conformance::kunit::export::{export, MAX_CASE_STEPS};
use mpath_conformance::kunit::Backend;
use mpath_conformance::parse::parse_str;
use mpath_conformance::replay::{replay, Outcome};
use mpath_reference::trace::MAX_OPS;

const HEADER: &str = r#"{"mpath_trace":1,"revision":"v2","driver":"nvme","topology":{"possible":[0],"online":[0]},"max_paths":2,"nr_ctrls":2,"setup":[{"op":"add_device","path":0,"ctrl":0,"ana":"optimized"},{"op":"add_device","path":1,"ctrl":1,"ana":"optimized"}]}"#;

fn trace(n: usize) -> String {
    trace_of("v2", n)
}

fn trace_of(revision: &str, n: usize) -> String {
    let mut s = HEADER.replace(r#""revision":"v2""#, &format!(r#""revision":"{revision}""#));
    for i in 0..n {
        s.push('\n');
        s.push_str(match i % 3 {
            0 => r#"{"do":{"op":"find_path","node":0}}"#,
            1 => r#"{"do":{"op":"set_ready","path":1,"ready":false}}"#,
            _ => r#"{"do":{"op":"set_ready","path":1,"ready":true}}"#,
        });
    }
    s
}

#[test]
fn the_longest_trace_parses_replays_and_is_refused_by_the_exporter_with_a_reason() {
    let t = parse_str("long.jsonl", &trace(MAX_OPS)).unwrap();
    assert_eq!(t.lines.len(), MAX_OPS);
    match replay(&t).unwrap() {
        Outcome::Pass { steps, checks, .. } => assert_eq!((steps, checks), (MAX_OPS, 0)),
        Outcome::Diverged(d) => panic!("a trace without expectations diverged: {d}"),
    }
    for backend in [Backend::Nvme612, Backend::Libmultipath] {
        let x = export(backend, std::slice::from_ref(&t), "mpv_long");
        assert!(x.cases.is_empty());
        assert_eq!(x.skipped.len(), 1);
        assert!(x.skipped[0].reason.contains(&format!("{MAX_OPS} steps: one KUnit case holds at most {MAX_CASE_STEPS}")), "{}", x.skipped[0].reason);
    }
}

#[test]
fn a_case_at_the_export_limit_is_exported() {
    for (backend, revision) in [(Backend::Nvme612, "nvme-6.12"), (Backend::Libmultipath, "v2")] {
        let t = parse_str("limit.jsonl", &trace_of(revision, MAX_CASE_STEPS)).unwrap();
        let x = export(backend, std::slice::from_ref(&t), "mpv_limit");
        assert_eq!(x.cases.len(), 1, "{:?}", x.skipped);
    }
}

#[test]
fn one_operation_more_than_the_format_allows_is_a_one_line_error() {
    let e = parse_str("too-long.jsonl", &trace(MAX_OPS + 1)).unwrap_err().to_string();
    assert_eq!(e, format!("too-long.jsonl:{}:1: more than {MAX_OPS} operations", MAX_OPS + 2));
}
