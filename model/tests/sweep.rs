//! `sweep`: enumeration, symmetry, determinism, shards, resume, and the
//! catalogued / not catalogued split on a mutant.

use mpath_model::sweep::{self, Plan, Shard};
use mpath_model::{check_with, Bounds, PropertySet, RevisionSpec};
use std::sync::atomic::AtomicBool;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// A vocabulary text: `revisions` (JSON list), `setup_extra` (more setup
/// operations), `max_paths`, `ops` (JSON list of templates), `threads`.
fn vocab(revisions: &str, setup_extra: &str, max_paths: usize, ops: &str, threads: &str) -> String {
    format!(
        r#"{{
  "name": "test",
  "revisions": {revisions},
  "properties": ["{ROOT}/model/properties/requeue.props"],
  "threads": {threads},
  "ops_per_thread": 1,
  "topologies": [
    {{
      "name": "t",
      "header": {{
        "mpath_trace": 1, "revision": "v2", "driver": "nvme",
        "topology": {{"possible": [0], "online": [0]}},
        "max_paths": {max_paths}, "nr_ctrls": 3, "iopolicy": "numa",
        "setup": [
          {{"op": "add_path", "path": 0, "ctrl": 0, "ana": "optimized"}},
          {{"op": "add_path", "path": 1, "ctrl": 1, "ana": "optimized"}}{setup_extra}
        ]
      }}
    }}
  ],
  "ops": {{"nvme": {ops}}}
}}"#
    )
}

fn small() -> String {
    vocab(r#"["v2"]"#, "", 2, r#"[{"op": "submit_bio", "node": "$n"}, {"op": "remove_path", "path": "$p"}]"#, "[2]")
}

fn tmp(name: &str) -> String {
    let d = std::env::temp_dir().join(format!("mpv-sweep-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name).display().to_string()
}

fn run(plan: &Plan, shard: Shard, out: &str, resume: bool) -> sweep::RunStats {
    sweep::run(plan, shard, out, resume, &AtomicBool::new(false), &|_, _, _| {}).expect("sweep runs")
}

#[test]
fn thread_permutations_are_skipped_and_counted() {
    let plan = Plan::from_text("small.json", &small()).unwrap();
    let m = plan.cells[0].ops.len();
    assert_eq!(m, 3, "submit_bio on node 0, remove_path 0 and 1: {:?}", plan.cells[0].ops);
    // two threads of one operation: m^2 ordered pairs, m(m+1)/2 multisets
    assert_eq!(plan.enumerated, (m * m) as u64);
    assert_eq!(plan.len(), m * (m + 1) / 2);
    assert_eq!(plan.thread_duplicates, (m * (m - 1) / 2) as u64);
    // listed paths sit at list positions: never interchangeable
    assert_eq!(plan.path_duplicates, 0);
    let ids: Vec<String> = (0..plan.len()).map(|i| plan.item(i).unwrap().scenario.name).collect();
    let mut sorted = ids.clone();
    sorted.dedup();
    assert_eq!(ids.len(), sorted.len(), "every id once: {ids:?}");
    // ids read back into the same scenario
    for i in 0..plan.len() {
        let it = plan.item(i).unwrap();
        let back = sweep::scenario_from_id(&plan.vocabulary, &it.scenario.name).unwrap();
        assert_eq!(back.threads, it.scenario.threads);
    }
}

#[test]
fn unused_slots_are_interchangeable_and_the_skipped_twin_has_the_same_verdicts() {
    // slots 2 and 3 are unused after the setup: add_path 2 and add_path 3 are one scenario
    let text = vocab(r#"["v2"]"#, "", 4, r#"[{"op": "add_path", "path": "$new", "ctrl": 2, "ana": "optimized"}, {"op": "remove_path", "path": 0}]"#, "[1, 2]");
    let plan = Plan::from_text("sym.json", &text).unwrap();
    let ops = &plan.cells[0].ops;
    assert_eq!(ops.len(), 3);
    assert!(plan.path_duplicates > 0, "the renaming 2<->3 is found");
    // one thread: add(2), add(3), remove(0): add(3) is add(2) renamed
    // two threads: 6 multisets; {add2,add2}={add3,add3}, {add2,rm}={add3,rm}; {add2,add3} is its own image
    assert_eq!(plan.path_duplicates, 1 + 2);
    assert_eq!(plan.len() as u64 + plan.path_duplicates + plan.thread_duplicates, plan.enumerated);
    let kept: Vec<String> = (0..plan.len()).map(|i| plan.item(i).unwrap().scenario.name).collect();
    assert!(kept.iter().any(|k| k == "t:add_path(ana=optimized,ctrl=2,path=2)|remove_path(path=0)"), "{kept:?}");
    assert!(!kept.iter().any(|k| k.contains("path=3)|remove")), "{kept:?}");
    // the skipped twin: same verdicts as its representative
    let rev = RevisionSpec::load("v2").unwrap();
    let stop = AtomicBool::new(false);
    let a = sweep::scenario_from_id(&plan.vocabulary, "t:add_path(ana=optimized,ctrl=2,path=2)|remove_path(path=0)").unwrap();
    let b = sweep::scenario_from_id(&plan.vocabulary, "t:add_path(ana=optimized,ctrl=2,path=3)|remove_path(path=0)").unwrap();
    let (ra, rb) = (
        check_with(&rev, &a, &PropertySet::default(), &Bounds::default(), None, &stop).unwrap(),
        check_with(&rev, &b, &PropertySet::default(), &Bounds::default(), None, &stop).unwrap(),
    );
    let v = |r: &mpath_model::Report| {
        r.properties.iter().map(|p| (p.property.clone(), p.verdict, p.counterexample.as_ref().map(|c| c.steps.len()))).collect::<Vec<_>>()
    };
    assert_eq!(v(&ra), v(&rb));
    assert_eq!((ra.states, ra.unique_states), (rb.states, rb.unique_states));
}

#[test]
fn two_runs_are_byte_identical() {
    let plan = Plan::from_text("small.json", &small()).unwrap();
    let (a, b) = (tmp("det-a.jsonl"), tmp("det-b.jsonl"));
    run(&plan, Shard::ALL, &a, false);
    run(&plan, Shard::ALL, &b, false);
    let (ta, tb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(ta, tb);
    assert_eq!(String::from_utf8(ta).unwrap().lines().count(), plan.len() + 1);
    let r = sweep::read_results(&a).unwrap();
    let stop = AtomicBool::new(false);
    assert_eq!(sweep::report(&r.header, &r.lines, 100, &stop).unwrap(), sweep::report(&r.header, &r.lines, 100, &stop).unwrap());
}

#[test]
fn shards_merged_equal_the_unsharded_run() {
    let plan = Plan::from_text("small.json", &small()).unwrap();
    let all = tmp("shard-all.jsonl");
    run(&plan, Shard::ALL, &all, false);
    let mut files = Vec::new();
    let mut seen = 0;
    for i in 1..=3 {
        let f = tmp(&format!("shard-{i}.jsonl"));
        run(&plan, Shard { i, n: 3 }, &f, false);
        let r = sweep::read_results(&f).unwrap();
        assert!(r.lines.iter().all(|l| l.i % 3 == i - 1));
        seen += r.lines.len();
        files.push(f);
    }
    assert_eq!(seen, plan.len());
    files.reverse(); // order of the inputs does not matter
    let (h, lines) = sweep::merge(&files).unwrap();
    assert_eq!(h.shard, "1/1");
    let merged = tmp("shard-merged.jsonl");
    sweep::write_results(&merged, &h, &lines).unwrap();
    assert_eq!(std::fs::read_to_string(&merged).unwrap(), std::fs::read_to_string(&all).unwrap());
    // a partial merge says which shards it holds
    let (h2, _) = sweep::merge(&files[..2]).unwrap();
    assert_eq!(h2.shard, "2/3+3/3");
    // another vocabulary does not merge
    let other = Plan::from_text("other.json", &small().replace("\"test\"", "\"other\"")).unwrap();
    let o = tmp("shard-other.jsonl");
    run(&other, Shard::ALL, &o, false);
    let e = sweep::merge(&[all.clone(), o.clone()]).unwrap_err();
    assert!(e.to_string().contains("another vocabulary"), "{e}");
}

#[test]
fn resume_after_truncation_equals_the_full_run() {
    let plan = Plan::from_text("small.json", &small()).unwrap();
    let full = tmp("resume-full.jsonl");
    run(&plan, Shard::ALL, &full, false);
    let text = std::fs::read_to_string(&full).unwrap();
    // cut in the middle of the fourth line (a run killed while writing)
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let keep: usize = lines[..3].iter().map(|l| l.len()).sum::<usize>() + lines[3].len() / 2;
    let part = tmp("resume-part.jsonl");
    std::fs::write(&part, &text[..keep]).unwrap();
    let r = sweep::read_results(&part).unwrap();
    assert!(r.truncated);
    assert_eq!(r.lines.len(), 2);
    let st = run(&plan, Shard::ALL, &part, true);
    assert_eq!(st.resumed, 2);
    assert_eq!(st.checked, plan.len() - 2);
    assert_eq!(std::fs::read_to_string(&part).unwrap(), text);
    // resuming a complete file checks nothing
    let st = run(&plan, Shard::ALL, &part, true);
    assert_eq!((st.resumed, st.checked), (plan.len(), 0));
    // resuming another shard's file is refused
    let e = sweep::run(&plan, Shard { i: 1, n: 2 }, &part, true, &AtomicBool::new(false), &|_, _, _| {}).unwrap_err();
    assert!(e.to_string().contains("not a run of this vocabulary and shard"), "{e}");
}

/// mut-no-sync1 without its declaration (`breaks` N2a) is a revision whose
/// race nobody listed: the sweep reports it as not catalogued; with the
/// declaration it is catalogued; v2 does not violate the property at all.
#[test]
fn an_unlisted_mutant_race_is_reported_and_v2_is_clean() {
    let mut d: serde_json::Value = serde_json::from_str(include_str!("../revisions/mut-no-sync1.json")).unwrap();
    let o = d.as_object_mut().unwrap();
    o.insert("name".into(), "undeclared-no-sync1".into());
    o.remove("breaks");
    o.remove("reference");
    o.insert("reference_profile".into(), "mut-no-sync1".into());
    let rf = tmp("undeclared-no-sync1.json");
    std::fs::write(&rf, serde_json::to_string(&d).unwrap()).unwrap();
    let text = vocab(
        &format!(r#"["v2", "mut-no-sync1", "{rf}"]"#),
        r#", {"op": "clear_paths"}"#,
        2,
        r#"[{"op": "submit_bio", "node": "$n"}, {"op": "remove_path", "path": "$p"}]"#,
        "[2]",
    );
    let plan = Plan::from_text("mut.json", &text).unwrap();
    let out = tmp("mut.jsonl");
    run(&plan, Shard::ALL, &out, false);
    let r = sweep::read_results(&out).unwrap();
    let stale = "no_stale_path_after_removal";
    let on = |rev: &str| {
        r.lines.iter().filter(|l| l.revision == rev).flat_map(|l| l.violations.iter()).filter(|v| v.key.property == stale).cloned().collect::<Vec<_>>()
    };
    assert!(on("v2").is_empty(), "v2 holds: {:?}", on("v2"));
    let undeclared = on("undeclared-no-sync1");
    assert!(!undeclared.is_empty() && undeclared.iter().all(|v| v.catalogued.is_none()), "{undeclared:?}");
    let declared = on("mut-no-sync1");
    assert!(!declared.is_empty() && declared.iter().all(|v| v.catalogued.as_deref().is_some_and(|c| c.contains("N2a"))), "{declared:?}");
    let groups = sweep::groups(&r.lines);
    assert!(groups.iter().any(|g| g.key.property == stale && g.catalogued.is_none() && g.scenarios.iter().all(|s| s.2 == "undeclared-no-sync1")));
    let s = sweep::summary(&r.header, &r.lines);
    assert!(s.lines().any(|l| l.contains(stale) && l.contains("NOT CATALOGUED") && l.contains("undeclared-no-sync1")), "{s}");
    // the report shows the group's swimlane
    let rep = sweep::report(&r.header, &r.lines, 100, &AtomicBool::new(false)).unwrap();
    assert!(rep.contains(&format!("{stale} in nvme_ns_remove")) && rep.contains("shortest counterexample:"), "{rep}");
}

#[test]
fn bad_vocabulary_is_one_located_line() {
    let e = Plan::from_text("bad.json", "{\n  \"name\": \"x\",\n  \"revisions\": [\"v9\"]\n}").unwrap_err();
    assert_eq!(e.line, 4, "{e}"); // a missing field is reported at the end of the object
    let text = small().replace(r#""$p""#, r#""$q""#);
    let e = Plan::from_text("bad.json", &text).unwrap_err();
    let line = text.lines().position(|l| l.contains("$q")).unwrap() + 1;
    assert_eq!((e.file.as_str(), e.line), ("bad.json", line), "{e}");
    assert!(e.reason.contains("$q") && !e.to_string().contains('\n'), "{e}");
    let e = Plan::from_text("bad.json", &small().replace(r#"["v2"]"#, r#"["v9"]"#)).unwrap_err();
    assert!(e.reason.contains("v9"), "{e}");
    assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err() && Shard::parse("2/3") == Ok(Shard { i: 2, n: 3 }));
}
