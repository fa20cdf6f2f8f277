//! Every property holds on a scenario where it should and is reported
//! violated on its named mutant (or on the revision the catalogue says is
//! affected). A property never seen to fail proves nothing.

use mpath_model::property as p;
use mpath_model::PropertySet;
use mpath_model::*;
use std::sync::atomic::AtomicBool;

/// (property, scenario, revision where it holds, revision where it fails)
const TABLE: &[(&str, &str, &str, &str)] = &[
    (p::NO_USE_AFTER_FREE, "N2c", "v2", "mut-no-sync3"),
    (p::NO_NULL_DISK, "R4", "v2", "mut-set-live-deref-first"),
    (p::NO_JUNK_POINTER, "R12", "v2", "mut-find-path-uninit"),
    (p::NO_STALE_PATH, "N2a", "v2", "mut-no-sync1"),
    (p::NO_DUPLICATE_LINK, "N1", "v2", "mut-link-test-then-set"),
    (p::NO_LINK_FOR_REMOVED, "remove-vs-ana", "v2", "mut-no-remove-link"),
    (p::LINK_BIT_MATCHES, "N1", "v2", "mut-link-test-then-set"),
    (p::NO_LEAKED_GENDISK, "S02b-nvme", "v2", "mut-no-ctrl-sync"),
    (p::NO_DEADLOCK, "N1", "v2", "mut-sync-inside-srcu"),
    (p::SELECTION_TERMINATES, "S03a-A", "v2-fixed", "v2"),
    (p::NO_STRANDED_REQUEUE, "requeue", "v2", "mut-set-live-no-sync"),
    (p::OPTIMIZED_PREFERRED, "quality", "v2", "mut-numa-no-optimized-check"),
    (p::NO_UNLINKED_RETURNED, "S03b-library", "v2-fixed", "v2"),
    (p::NO_DISABLED_RETURNED, "S03c", "v2-fixed", "v2"),
];

fn verdict(rev: &str, sc: &str, prop: &str) -> (Verdict, Report) {
    let r = RevisionSpec::by_name(rev).unwrap();
    let s = Scenario::by_name(sc).unwrap();
    let rep = check(&r, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    (rep.verdict(prop).unwrap(), rep)
}

#[test]
fn every_property_is_listed() {
    let mut listed: Vec<&str> = TABLE.iter().map(|t| t.0).collect();
    listed.sort();
    listed.dedup();
    let mut all = p::names();
    all.sort();
    assert_eq!(listed, all);
}

#[test]
fn each_property_holds_and_fails_on_its_mutant() {
    for &(prop, sc, good, bad) in TABLE {
        let (v, rep) = verdict(good, sc, prop);
        assert_eq!(v, Verdict::Holds, "{prop} should hold on {good}/{sc}\n{rep}");
        let (v, rep) = verdict(bad, sc, prop);
        assert_eq!(v, Verdict::Violated, "{prop} should be violated on {bad}/{sc}\n{rep}");
        let ce = rep.properties.iter().find(|x| x.property == prop).unwrap().counterexample.clone().unwrap();
        assert!(!ce.steps.is_empty());
    }
}

#[test]
fn every_shipped_mutant_breaks_what_it_claims() {
    // A documented equivalent mutant breaks nothing: its verdicts on the
    // scenarios of its catalogue entry are its base's.
    const EQUIVALENT: &[(&str, &[&str])] = &[("mut-no-sync2", &["N2a", "N2c", "S03a-B", "S03b-nvme"])];
    for name in RevisionSpec::mutant_names() {
        let r = RevisionSpec::by_name(name).unwrap();
        if let Some((_, scenarios)) = EQUIVALENT.iter().find(|(n, _)| *n == name) {
            assert!(r.breaks.is_empty() && r.fixes.is_empty(), "{name} is documented as equivalent");
            let base = RevisionSpec::by_name(r.base.as_deref().unwrap()).unwrap();
            for sc in *scenarios {
                let s = Scenario::load(sc).unwrap();
                let v = |rev: &RevisionSpec| {
                    check(rev, &s, &Bounds::default(), None, &AtomicBool::new(false))
                        .unwrap()
                        .violated()
                        .into_iter()
                        .map(|p| p.property.clone())
                        .collect::<Vec<_>>()
                };
                assert_eq!(v(&r), v(&base), "{name} on {sc}");
            }
            continue;
        }
        assert!(!r.breaks.is_empty(), "{name} declares no breaks");
        // The table above (one scenario per property) is covered by the
        // declarations.
        for row in TABLE.iter().filter(|t| t.3 == name) {
            assert!(r.breaks.iter().any(|d| d.property == row.0 && d.scenario == row.1), "{name}: {} on {} not declared", row.0, row.1);
        }
        for d in &r.breaks {
            let (v, _) = verdict(name, &d.scenario, &d.property);
            assert_eq!(v, Verdict::Violated, "{name} breaks {} on {}", d.property, d.scenario);
        }
    }
}

/// On every scenario a mutant declares something about, its violated
/// properties are exactly its base's, plus `breaks`, minus `fixes`: it
/// breaks what it says and nothing else there. A fix (v2-fixed) breaks
/// nothing undeclared and makes hold what it declares.
#[test]
fn declarations_are_exact_on_their_scenarios() {
    let violated = |rev: &RevisionSpec, sc: &str| -> std::collections::BTreeSet<String> {
        let s = Scenario::load(sc).unwrap();
        let rep = check(rev, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
        rep.violated().into_iter().map(|p| p.property.clone()).collect()
    };
    for name in RevisionSpec::shipped_names() {
        let r = RevisionSpec::by_name(name).unwrap();
        let Some(base) = &r.base else { continue };
        let b = RevisionSpec::by_name(base).unwrap();
        let mut scenarios: Vec<&str> = r.breaks.iter().chain(r.fixes.iter()).map(|d| d.scenario.as_str()).collect();
        scenarios.sort();
        scenarios.dedup();
        for sc in scenarios {
            let mut want = violated(&b, sc);
            for d in r.breaks.iter().filter(|d| d.scenario == sc) {
                assert!(want.insert(d.property.clone()), "{name}: {base} already violates {} on {sc}", d.property);
            }
            for d in r.fixes.iter().filter(|d| d.scenario == sc) {
                assert!(want.remove(&d.property), "{name}: {base} does not violate {} on {sc}", d.property);
            }
            let got = violated(&r, sc);
            if name.starts_with("mut-") {
                assert_eq!(got, want, "{name} on {sc}");
            } else {
                // A fix may make more hold than it declares (pairs without an
                // expectation), but may not break anything undeclared.
                assert!(got.is_subset(&want), "{name} on {sc}: {got:?} not within {want:?}");
                assert!(
                    r.breaks.iter().chain(r.fixes.iter()).filter(|d| d.scenario == sc).all(|d| want.contains(&d.property) == got.contains(&d.property)),
                    "{name} on {sc}"
                );
            }
        }
    }
}

#[test]
fn counterexample_becomes_a_replayable_trace() {
    let r = RevisionSpec::by_name("mut-no-sync1").unwrap();
    let s = Scenario::by_name("N2a").unwrap();
    let rep = check(&r, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    let ce = rep.properties.iter().find(|x| x.property == p::NO_STALE_PATH).unwrap().counterexample.clone().unwrap();
    let (h, lines) = counterexample_to_trace(&r, &s, &ce).expect("trace");
    assert_eq!(h.revision, "mut-no-sync1");
    assert!(!lines.is_empty());
    let text = mpath_reference::trace::to_jsonl(&h, &lines);
    assert!(text.lines().count() == lines.len() + 1);
    let m = mpath_model::checker::machine(&r, &s, std::sync::Arc::new(AtomicBool::new(false))).unwrap();
    let lane = render_counterexample(&m, &ce, 200);
    assert!(lane.contains("nvme_ns_remove") && lane.contains("rcu_assign_pointer"), "{lane}");
}

#[test]
fn stop_flag_interrupts() {
    let r = RevisionSpec::by_name("v2").unwrap();
    let s = Scenario::by_name("S03b-nvme").unwrap();
    let rep = check(&r, &s, &Bounds::default(), None, &AtomicBool::new(true)).unwrap();
    assert!(rep.properties.iter().all(|p| p.verdict != Verdict::Holds), "{rep}");
}

#[test]
fn depth_bound_is_reported() {
    let r = RevisionSpec::by_name("v2").unwrap();
    let s = Scenario::by_name("N1").unwrap();
    let b = Bounds { max_depth: Some(5), ..Bounds::default() };
    let rep = check(&r, &s, &b, None, &AtomicBool::new(false)).unwrap();
    assert_eq!(rep.verdict(p::NO_DUPLICATE_LINK), Some(Verdict::BoundReached), "{rep}");
}

// ---- properties as data (model/src/dataprop.rs, model/properties/*.props)

fn props(file: &str) -> PropertySet {
    let path = format!("{}/properties/{file}", env!("CARGO_MANIFEST_DIR"));
    PropertySet::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn verdict_with(rev: &str, sc: &str, set: &PropertySet, prop: &str) -> (Verdict, Report) {
    let r = RevisionSpec::by_name(rev).unwrap();
    let s = Scenario::by_name(sc).unwrap();
    let rep = check_with(&r, &s, set, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    (rep.verdict(prop).unwrap_or_else(|| panic!("{prop} not reported\n{rep}")), rep)
}

/// (data property in requeue.props, scenario, revision where it holds,
/// revision where it fails)
const DATA_TABLE: &[(&str, &str, &str, &str)] = &[
    ("no_requeue_on_dead_head", "requeue-teardown", "v2", "mut-remove-disk-no-kick"),
    ("requeued_bio_resubmitted_or_failed", "requeue-teardown", "v2", "mut-remove-disk-no-kick"),
];

#[test]
fn each_data_property_holds_and_fails_on_its_mutant() {
    let set = props("requeue.props");
    let mut names = set.names();
    names.sort();
    let mut listed: Vec<&str> = DATA_TABLE.iter().map(|t| t.0).collect();
    listed.sort();
    assert_eq!(names, listed, "every property of requeue.props is in DATA_TABLE");
    for &(prop, sc, good, bad) in DATA_TABLE {
        let (v, rep) = verdict_with(good, sc, &set, prop);
        assert_eq!(v, Verdict::Holds, "{prop} should hold on {good}/{sc}\n{rep}");
        let (v, rep) = verdict_with(bad, sc, &set, prop);
        assert_eq!(v, Verdict::Violated, "{prop} should be violated on {bad}/{sc}\n{rep}");
        let ce = rep.properties.iter().find(|x| x.property == prop).unwrap().counterexample.clone().unwrap();
        assert!(!ce.steps.is_empty());
        // Reported like a built-in: a schedule and a sequential trace.
        let r = RevisionSpec::by_name(bad).unwrap();
        let s = Scenario::by_name(sc).unwrap();
        let sched = Schedule::from_counterexample(&r, &s, prop, &ce, None).expect("schedule");
        assert_eq!(sched.property, prop);
        assert_eq!(sched.steps.len(), ce.steps.len());
        assert!(counterexample_to_trace(&r, &s, &ce).is_some(), "{prop}: an operation completed, so there is a trace");
        let label = if prop == "requeued_bio_resubmitted_or_failed" { "(final state)" } else { "(at rest)" };
        assert_eq!(ce.violation.function, label);
    }
}

/// The series' own delayed-removal finding (README-model.md: the requeue
/// kick before mpath_synchronize) is also caught by both data properties,
/// on v2 and v3.
#[test]
fn data_properties_catch_the_delayed_removal_finding() {
    let set = props("requeue.props");
    for rev in ["v2", "v3"] {
        for prop in set.names() {
            let (v, rep) = verdict_with(rev, "delayed-removal", &set, prop);
            assert_eq!(v, Verdict::Violated, "{prop} on {rev}/delayed-removal\n{rep}");
        }
    }
}

/// The built-in properties written as data (model/properties/builtin.props)
/// agree with the built-ins on every catalogue scenario, on every
/// catalogue revision and on every mutant's declared scenarios: the same
/// verdict and the same shortest counterexample. Each twin is seen
/// violated at least once (an agreement on "holds" alone proves nothing).
#[test]
fn builtin_properties_as_data_agree_with_the_builtins() {
    let set = props("builtin.props");
    let mut twins: Vec<&str> = set.names().iter().map(|n| n.strip_prefix("data_").expect("data_ prefix")).collect();
    twins.sort();
    let mut all = p::names();
    all.sort();
    assert_eq!(twins, all, "every built-in has a data twin");
    let mut runs: Vec<(String, String)> = Vec::new();
    for rev in mpath_model::revision::CATALOGUE_REVISIONS {
        for e in catalogue() {
            if !runs.contains(&(rev.to_string(), e.scenario.to_string())) {
                runs.push((rev.to_string(), e.scenario.to_string()));
            }
        }
    }
    for name in RevisionSpec::shipped_names() {
        let r = RevisionSpec::by_name(name).unwrap();
        for d in r.breaks.iter().chain(r.fixes.iter()) {
            if !runs.contains(&(name.to_string(), d.scenario.clone())) {
                runs.push((name.to_string(), d.scenario.clone()));
            }
        }
    }
    let mut seen_violated = std::collections::BTreeSet::new();
    for (rev, sc) in &runs {
        let r = RevisionSpec::by_name(rev).unwrap();
        let s = Scenario::load(sc).unwrap();
        let rep = check_with(&r, &s, &set, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
        for b in p::names() {
            let x = rep.properties.iter().find(|q| q.property == b).unwrap();
            let d = rep.properties.iter().find(|q| q.property == format!("data_{b}")).unwrap();
            assert_eq!(x.verdict, d.verdict, "{b} on {rev}/{sc}\n{rep}");
            if x.verdict == Verdict::Violated {
                seen_violated.insert(b);
                let (xc, dc) = (x.counterexample.as_ref().unwrap(), d.counterexample.as_ref().unwrap());
                assert_eq!(xc.steps, dc.steps, "{b} on {rev}/{sc}: the same shortest counterexample");
            }
        }
    }
    assert_eq!(seen_violated.into_iter().collect::<Vec<_>>().len(), p::names().len(), "every twin seen violated");
}

#[track_caller]
fn bad_props(text: &str, line: usize, col: usize, reason: &str) {
    let e = match PropertySet::parse("t.props", text) {
        Err(e) => e,
        Ok(s) => panic!("accepted {text:?}: {:?}", s.names()),
    };
    assert_eq!((e.line, e.col), (line, col), "position of {e}");
    assert!(e.reason.contains(reason), "reason {:?} lacks {reason:?}", e.reason);
    let one = e.to_string();
    assert!(!one.contains('\n') && one.starts_with(&format!("t.props:{line}:{col}: ")), "{one}");
}

#[test]
fn bad_property_files_are_one_line_errors_with_positions() {
    bad_props("", 1, 1, "no property declared");
    bad_props("propety x always: true;", 1, 1, "expected `property`");
    bad_props("property no_deadlock always: true;", 1, 10, "built-in property's name");
    bad_props("property a always: true;\nproperty a always: true;", 2, 10, "declared twice");
    bad_props("property a sometimes: true;", 1, 12, "unknown mode `sometimes`");
    bad_props("property a after frob: true;", 1, 18, "unknown operation `frob`");
    bad_props("property a always true;", 1, 19, "expected `:` after the mode");
    bad_props("property a\n  always: requeue;", 2, 11, "is an integer, not a condition");
    bad_props("property a always: head.live;", 1, 20, "unknown field `head.live`");
    bad_props("property a always: all p in paths: p.frobbed;", 1, 38, "unknown path field `frobbed`");
    bad_props("property a always: all p in disks: true;", 1, 29, "unknown domain `disks`");
    bad_props("property a always: requeue == true;", 1, 28, "compares a condition with an integer");
    bad_props("property a always: requeue + head.disk_live > 0;", 1, 30, "arithmetic on a condition");
    bad_props("property a always: !requeue;", 1, 21, "`!` needs conditions");
    bad_props("property a always: 0 < requeue < 3;", 1, 32, "do not chain");
    bad_props("property a always: (requeue == 0;", 1, 33, "expected `)`");
    bad_props("property a always: requeue == 0", 1, 32, "expected `;`");
    bad_props("property a \"unterminated\n always: true;", 1, 12, "unterminated string");
    bad_props("property a always: requeue == 0 $;", 1, 33, "unexpected character '$'");
    bad_props("property a always: all requeue in paths: true;", 1, 24, "not a variable name");
    bad_props("property a always: requeue == 99999999999;", 1, 31, "too large");
}

#[test]
fn data_property_semantics() {
    // Quantifiers, count, current_path[], after OP, at_end, implication.
    let set = PropertySet::parse(
        "t.props",
        "property cnt always: (count p in paths: p.linked) <= npaths;\n\
         property cp always: all n in nodes: current_path[n] == null || current_path[n] >= 0 && current_path[n] < npaths;\n\
         property gone after remove_path: all p in paths: p.freed -> !p.on_list;\n\
         property done at_end: all t in threads: t.finished || t.stuck || !t.enabled;\n\
         property never_removed after remove_path: false;\n\
         property impl always: false -> false;\n",
    )
    .unwrap();
    let (v, rep) = verdict_with("v2", "N2a", &set, "cnt");
    assert_eq!(v, Verdict::Holds, "{rep}");
    for h in ["cp", "gone", "done", "impl"] {
        assert_eq!(rep.verdict(h), Some(Verdict::Holds), "{h}\n{rep}");
    }
    // N2a removes a path: `after remove_path` applies once it completed.
    assert_eq!(rep.verdict("never_removed"), Some(Verdict::Violated), "{rep}");
    let ce = rep.properties.iter().find(|x| x.property == "never_removed").unwrap().counterexample.clone().unwrap();
    let last = ce.steps.last().unwrap();
    assert!(last.function == "nvme_ns_remove" || last.ops_done >= 1, "violated when remove_path completes: {last:?}");
}

// ---- path arrival (add_path) against a running delayed removal

fn violated_set(rev: &RevisionSpec, sc: &str, set: &PropertySet) -> (std::collections::BTreeSet<String>, Report) {
    let s = Scenario::load(sc).unwrap();
    let rep = check_with(rev, &s, set, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    (rep.violated().into_iter().map(|p| p.property.clone()).collect(), rep)
}

fn arrival_props() -> PropertySet {
    let mut set = props("arrival.props");
    set.extend(props("requeue.props")).unwrap();
    set
}

/// NVMe: nvme_alloc_ns adds the path under subsys->lock and the delayed
/// removal callback re-checks the device list under the same lock, so a
/// path arriving while the remove work runs either keeps the head or goes
/// to a new head: nothing about arrival or removal is violated. What v2
/// does violate there is the known NUMA fast-path window (README-model.md,
/// "Path arrival"): the new path's set_live republishes current_path, the
/// remover's clear_current_path then skips its second synchronize, and a
/// reader returns the departing path. v2-fixed holds everywhere.
#[test]
fn nvme_add_path_vs_running_delayed_removal() {
    let set = arrival_props();
    let v2 = RevisionSpec::by_name("v2").unwrap();
    let (got, rep) = violated_set(&v2, "add-vs-delayed-removal", &set);
    let want: std::collections::BTreeSet<String> =
        [p::OPTIMIZED_PREFERRED, p::NO_UNLINKED_RETURNED, p::NO_DISABLED_RETURNED].iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want, "{rep}");
    // The removal work really races the arrival: both outcomes are reached
    // (checked through `after` properties that must each fail somewhere).
    let probes = PropertySet::parse(
        "probe.props",
        "property head_always_kept after add_path: head.disk_live;\n\
         property path_always_added after add_path: path[1].linked || path[1].unlinked || path[1].freed;\n",
    )
    .unwrap();
    let (got, rep) = violated_set(&v2, "add-vs-delayed-removal", &probes);
    assert!(got.contains("head_always_kept") && got.contains("path_always_added"), "both outcomes reached: {got:?}\n{rep}");
    let fixed = RevisionSpec::by_name("v2-fixed").unwrap();
    let (got, rep) = violated_set(&fixed, "add-vs-delayed-removal", &set);
    assert!(got.is_empty(), "{got:?}\n{rep}");
}

/// SCSI: sd_mpath_remove_head removes the head disk without consulting the
/// device list, and sd_mpath_add_disk adds the path outside
/// sd_mpath_disks_lock: a path probed while the remove work runs (too late
/// for mpath_add_device's cancel_delayed_work) ends on the list of a head
/// whose disk was deleted. The candidate fix (re-check under the lock, add
/// under it, as NVMe does) holds.
#[test]
fn scsi_add_path_vs_running_delayed_removal() {
    let set = arrival_props();
    let v2 = RevisionSpec::by_name("v2").unwrap();
    let (got, rep) = violated_set(&v2, "add-vs-delayed-removal-scsi", &set);
    assert_eq!(got.into_iter().collect::<Vec<_>>(), vec!["no_path_on_removed_head".to_string()], "{rep}");
    let ce = rep.properties.iter().find(|x| x.property == "no_path_on_removed_head").unwrap().counterexample.clone().unwrap();
    let fns: Vec<&str> = ce.steps.iter().map(|s| s.function.as_str()).collect();
    let start = fns.iter().position(|f| *f == "mpath_remove_head_work").expect("the remove work starts");
    let cancel = ce.steps.iter().position(|s| s.primitive.starts_with("cancel_delayed_work")).expect("add_device cancels");
    assert!(start < cancel, "the work was already running when add_device cancelled it");
    let fix = RevisionSpec::load(concat!(env!("CARGO_MANIFEST_DIR"), "/candidates/v2-scsi-remove-head-recheck.json")).unwrap();
    let (got, rep) = violated_set(&fix, "add-vs-delayed-removal-scsi", &set);
    assert!(got.is_empty(), "{got:?}\n{rep}");
}

/// `set_ana_state` in a thread: the raw store of ANA and access state, one
/// step, racing a submitter.
#[test]
fn set_ana_state_in_a_thread() {
    let sc = Scenario::parse(
        r#"{"name":"ana-store","description":"A stores P0 inaccessible while R submits",
 "header":{"mpath_trace":1,"revision":"v2","driver":"nvme","topology":{"possible":[0],"online":[0]},"max_paths":1,"nr_ctrls":1,"iopolicy":"numa",
  "setup":[{"op":"add_path","path":0,"ctrl":0,"ana":"optimized"}]},
 "threads":[{"name":"R","ops":[{"op":"submit_bio"}]},{"name":"A","ops":[{"op":"set_ana_state","path":0,"state":"inaccessible"}]}]}"#,
    )
    .unwrap();
    let set = PropertySet::parse(
        "t.props",
        "property stored after set_ana_state: !path[0].optimized && !path[0].usable;\nproperty unchanged after set_ana_state: path[0].optimized;\n",
    )
    .unwrap();
    let rep = check_with(&RevisionSpec::by_name("v2").unwrap(), &sc, &set, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    assert_eq!(rep.verdict("stored"), Some(Verdict::Holds), "{rep}");
    assert_eq!(rep.verdict("unchanged"), Some(Verdict::Violated), "{rep}");
    let ce = rep.properties.iter().find(|x| x.property == "unchanged").unwrap().counterexample.clone().unwrap();
    assert_eq!(ce.steps.last().map(|s| (s.thread_name.as_str(), s.function.as_str())), Some(("A", "op_set_ana_state")), "{ce:?}");
}
