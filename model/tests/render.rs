//! Swimlanes a reviewer can read (issue 17): cells wrap at the width asked
//! for instead of being cut, each step shows the values it read and wrote,
//! and a revision that maps to a tree uses that tree's names and lines.

use mpath_model::catalogue::{catalogue, review, REVIEWS};
use mpath_model::checker;
use mpath_model::render::{lanes, render_counterexample_with, wrap, LaneOpts, SourceMap};
use mpath_model::{check, property, Bounds, Counterexample, RevisionSpec, Scenario};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn counterexample(rev: &RevisionSpec, scenario: &str, prop: &str) -> (mpath_model::machine::Machine, Counterexample) {
    let s = Scenario::by_name(scenario).unwrap();
    let rep = check(rev, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    let ce = rep.properties.iter().find(|p| p.property == prop).unwrap().counterexample.clone().unwrap();
    (checker::machine(rev, &s, Arc::new(AtomicBool::new(false))).unwrap(), ce)
}

#[test]
fn wrap_breaks_at_spaces_and_inside_overlong_words() {
    assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
    assert_eq!(wrap("abcdefghij k", 4), vec!["abcd", "efgh", "ij k"]);
    assert_eq!(wrap("", 4), vec![""]);
}

/// The layout, byte for byte: row numbers, one column per title, cells
/// wrapped inside their column, no trailing blanks.
#[test]
fn lanes_layout_is_pinned() {
    let titles = vec!["R".to_string(), "D".to_string()];
    let rows = vec![(0, "one two three four five six seven".to_string()), (1, "x".to_string())];
    let got = lanes(&titles, &rows, 40);
    let want = "  #  R                | D\n\
                ----------------------------------------\n\
                \x20 0  one two three    |\n\
                \x20    four five six    |\n\
                \x20    seven            |\n\
                \x20 1                   | x\n";
    assert_eq!(got, want, "\n{got}");
}

/// nvme-6.12's S03a-B swimlane: 6.12's own names, the values read and
/// written, and every line within the width, for several widths.
#[test]
fn nvme_6_12_swimlane_wraps_with_6_12_names_and_values() {
    let rev = RevisionSpec::by_name("nvme-6.12").unwrap();
    let (m, ce) = counterexample(&rev, "S03a-B", property::SELECTION_TERMINATES);
    for width in [60, 100, 140] {
        let o = LaneOpts { width, source: rev.source.clone(), tree: None };
        let lane = render_counterexample_with(&m, &ce, &o);
        for l in lane.lines() {
            assert!(l.chars().count() <= width, "width {width}: {l:?}");
        }
        // Joined back, the wrapped cells hold the whole text (nothing cut).
        let joined: String = lane.lines().flat_map(|l| l.split('|')).map(|c| c.trim()).collect::<Vec<_>>().join(" ");
        // (Words longer than a column are broken inside: compare without
        // blanks.)
        let compact = joined.replace(' ', "");
        for needle in [
            "nvme_round_robin_path",
            "nvme_next_ns(dev)",
            "nvme_mpath_clear_current_path",
            "nvme_ns_remove",
            "list_del_rcu(path)",
            "storedP1(READY,non-optimized,listed)incurrent_path[0]",
        ] {
            assert!(compact.contains(&needle.replace(' ', "")), "width {width}: {needle} missing:\n{lane}");
        }
        for library in ["mpath_round_robin_path", "mpath_next_dev", "mpath_delete_device", "round_robin_path:"] {
            assert!(!lane.contains(&format!(" {library}")) && !lane.contains(&format!("({library}")), "width {width}: library name {library}:\n{lane}");
        }
        assert!(compact.contains("violation:non-terminationofP1innvme_round_robin_pathatstep34"), "{lane}");
    }
    // What the steps read and wrote: the path, its READY / ANA state, what
    // was stored.
    let vals: Vec<&str> = ce.steps.iter().map(|s| s.values.as_str()).collect();
    assert!(vals.contains(&"stored P1 (READY, non-optimized, listed) in current_path[0]"), "{vals:#?}");
    assert!(vals.contains(&"P0 (READY, optimized, REMOVING, listed) now (!READY, optimized, REMOVING, listed)"), "{vals:#?}");
    assert!(vals.contains(&"P0 (!READY, optimized, REMOVING, listed) now (!READY, optimized, REMOVING, unlinked)"), "{vals:#?}");
    assert!(vals.contains(&"P1 (READY, non-optimized, listed) -> P1 (READY, non-optimized, listed)"), "{vals:#?}");
    assert!(vals.contains(&"round-robin"), "{vals:#?}");
}

/// A library revision keeps the library's names; the candidate fix for
/// 6.12 (a file whose base is nvme-6.12) inherits 6.12's.
#[test]
fn names_follow_the_revision() {
    let v2 = RevisionSpec::by_name("v2").unwrap();
    let (m, ce) = counterexample(&v2, "S03a-A", property::SELECTION_TERMINATES);
    let lane = render_counterexample_with(&m, &ce, &LaneOpts { width: 200, source: v2.source.clone(), tree: None });
    assert!(lane.contains("mpath_round_robin_path: dev = mpath_next_dev(dev)"), "{lane}");
    assert!(!lane.contains("nvme_round_robin_path"), "{lane}");
    let fix = RevisionSpec::load("../conformance/kunit/race/fix-612-rr-removing.json").unwrap();
    let src = fix.source.expect("inherited from nvme-6.12");
    assert_eq!(src.name("mpath_round_robin_path"), "nvme_round_robin_path");
    assert_eq!(src.rename("dev = mpath_next_dev(dev); __mpath_find_path"), "dev = nvme_next_ns(dev); __nvme_find_path");
    // Whole identifiers only.
    assert_eq!(src.rename("mpath_find_paths mpath_find_path"), "mpath_find_paths nvme_find_path");
}

/// `--kernel-src`: each function's definition line in a (tiny, fake) tree,
/// not its prototype or a call.
#[test]
fn definitions_are_located_in_a_tree() {
    let dir = std::env::temp_dir().join(format!("mpv-render-tree-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("drivers/nvme/host")).unwrap();
    std::fs::write(
        dir.join("drivers/nvme/host/multipath.c"),
        "// nvme_round_robin_path(head) in a comment\n\
         static struct nvme_ns *nvme_round_robin_path(struct nvme_ns_head *head);\n\
         \n\
         static struct nvme_ns *nvme_next_ns(struct nvme_ns_head *head,\n\
         \t\tstruct nvme_ns *ns)\n\
         {\n\
         \treturn nvme_round_robin_path(head);\n\
         }\n\
         static struct nvme_ns *nvme_round_robin_path(struct nvme_ns_head *head)\n\
         {\n\
         }\n",
    )
    .unwrap();
    let src = SourceMap { tree: "fake".into(), files: vec!["drivers/nvme/host/multipath.c".into(), "missing.c".into()], names: Default::default() };
    let got = src.locate(&dir, &["nvme_round_robin_path".to_string(), "nvme_next_ns".to_string(), "nvme_ns_remove".to_string()]);
    assert_eq!(got.get("nvme_round_robin_path").map(String::as_str), Some("drivers/nvme/host/multipath.c:9"));
    assert_eq!(got.get("nvme_next_ns").map(String::as_str), Some("drivers/nvme/host/multipath.c:4"));
    assert!(!got.contains_key("nvme_ns_remove"));

    // In a swimlane: the legend names each function with its line.
    let rev = RevisionSpec::by_name("nvme-6.12").unwrap();
    let (m, ce) = counterexample(&rev, "S03a-B", property::SELECTION_TERMINATES);
    let lane = render_counterexample_with(&m, &ce, &LaneOpts { width: 100, source: rev.source.clone(), tree: Some(dir.clone()) });
    let legend: String = lane.lines().skip_while(|l| !l.starts_with("defined at:")).collect::<Vec<_>>().join(" ");
    assert!(legend.contains("nvme_round_robin_path drivers/nvme/host/multipath.c:9"), "{lane}");
    assert!(legend.contains("nvme_ns_remove (not in drivers/nvme/host/multipath.c"), "{lane}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every catalogue id has its review: claim, reviewer, patch, Message-ID.
#[test]
fn every_catalogue_id_names_its_review() {
    for e in catalogue() {
        let r = review(e.id).unwrap_or_else(|| panic!("no review for {}", e.id));
        assert!(!r.claim.is_empty() && !r.claim.contains('\n') && r.claim.len() < 100, "{}: {}", e.id, r.claim);
        assert!(r.patch.starts_with("[PATCH"), "{}: {}", e.id, r.patch);
        if let Some(m) = r.message_id {
            assert!(m.contains('@') && !m.contains('<') && !m.contains('>'), "{m}");
        }
    }
    let s03a = review("S03a").unwrap();
    assert_eq!((s03a.raised_by, s03a.message_id), ("sashiko-bot", Some("20260703104556.AC6B71F000E9@smtp.kernel.org")));
    assert_eq!(
        review("R4").unwrap().raised_where(),
        "Benjamin Marzinski on \"Re: [PATCH 02/13] libmultipath: Add basic gendisk support\" <aZ-s-JNWBOA1xqVG@redhat.com>"
    );
    assert_eq!(REVIEWS.iter().filter(|r| r.message_id.is_none()).map(|r| r.id).collect::<Vec<_>>(), vec!["N1", "N2"]);
}
