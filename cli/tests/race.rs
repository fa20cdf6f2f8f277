//! `kunit race` without a kernel: the step -> point table agrees with the
//! schedule-point patch and the race engine, schedules the model saves are
//! turned into suites (or refused with a reason), and the KTAP diagnostics
//! are read back with unpatched line numbers.

use mpath_conformance::kunit::race::{self, Place, RaceInput, POINTS};
use std::path::{Path, PathBuf};
use std::process::Command;

const KUNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/kunit");

fn read(p: &str) -> String {
    std::fs::read_to_string(Path::new(KUNIT).join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// Point names placed by a patch's added lines.
fn patch_points(patch: &str) -> Vec<String> {
    patch
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .filter_map(|l| l.split("MPV_SCHED(\"").nth(1).and_then(|r| r.split('"').next()).map(String::from))
        .collect()
}

fn table_points() -> Vec<&'static str> {
    let mut v: Vec<&str> = POINTS.iter().filter_map(|r| if let Place::Point(p, _) = r.place { Some(p) } else { None }).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn every_multipath_point_of_the_table_is_placed_once_by_a_patch() {
    let sched = patch_points(&read("race/nvme-6.12-sched.patch"));
    let mut fix = patch_points(&read("race/fix-612-rr-removing.patch"));
    fix.extend(patch_points(&read("race/fix-612-live-kick-sync.patch")));
    for p in table_points().into_iter().filter(|p| !race::is_mirror_point(p)) {
        let n = sched.iter().filter(|x| x.as_str() == p).count() + fix.iter().filter(|x| x.as_str() == p).count();
        assert_eq!(n, 1, "point {p} is placed {n} times by the patches");
    }
    for p in &sched {
        assert!(table_points().contains(&p.as_str()), "the patch places {p}, which no model step maps to");
        assert_eq!(sched.iter().filter(|x| *x == p).count(), 1, "{p} placed twice");
    }
}

#[test]
fn every_library_point_is_placed_once_by_the_lib_patch_and_its_glue() {
    let sched = patch_points(&read("race/lib-v2-sched.patch"));
    let glue = read("race/mpvl_race.h");
    let mut names: Vec<&str> = race::POINTS_LIB.iter().filter_map(|r| if let Place::Point(p, _) = r.place { Some(p) } else { None }).collect();
    names.sort();
    names.dedup();
    for p in &names {
        if race::is_mirror_point(p) {
            assert!(glue.contains(&format!("\"{p}\"")), "glue point {p} is not in mpvl_race.h");
        } else {
            // mpath_chr_ioctl has two srcu_read_unlock sites (the early one
            // after ioctl_begin, out_unlock) and the model one step kind for
            // both; the point after it (cdev_ioctl, or none) tells them apart.
            let sites = if *p == "mpath_chr_ioctl:srcu_read_unlock" { 2 } else { 1 };
            assert_eq!(sched.iter().filter(|x| x.as_str() == *p).count(), sites, "lib point {p}");
        }
    }
    for p in &sched {
        assert!(names.contains(&p.as_str()), "the lib patch places {p}, which no model step maps to");
    }
}

#[test]
fn the_s03a_a_schedule_runs_on_the_series() {
    let dir = tempfile::tempdir().unwrap();
    let scheds = save_schedules("v2", "S03a-A", dir.path());
    let st = scheds.iter().find(|p| p.to_string_lossy().contains("selection_terminates")).expect("no selection_terminates schedule");
    let input = RaceInput::load(st).unwrap();
    let suite = race::generate(&input).unwrap();
    assert_eq!(suite.backend, race::RaceBackend::LibV2);
    assert!(suite.hooked.iter().any(|h| h.point == "mpath_delete_device:list_del_rcu"));
    assert!(suite.hooked.iter().filter(|h| h.point == "mpath_next_dev").count() >= 3);
    let (src, _) = race::assemble(vec![suite], "");
    assert!(src.contains("mpath_mpv_sched_hook") && src.contains("MPV_RACE_DELETE_DEVICE"));
}

#[test]
fn every_mirror_point_is_in_the_race_engine() {
    let engine = read("nvme-6.12/mpv_race.h");
    for p in table_points().into_iter().filter(|p| race::is_mirror_point(p)) {
        assert!(engine.contains(&format!("\"{p}\"")), "mirror point {p} is not in mpv_race.h");
    }
}

#[test]
fn every_line_the_patches_add_carries_the_marker() {
    for f in [
        "race/nvme-6.12-sched.patch",
        "race/mut-612-no-clear-current.patch",
        "race/fix-612-rr-removing.patch",
        "race/fix-612-live-kick-sync.patch",
        "race/lib-v2-sched.patch",
        "race/fix-v2-chr-ioctl-ctrl.patch",
    ] {
        for l in read(f).lines().filter(|l| l.starts_with('+') && !l.starts_with("+++")) {
            assert!(l.to_ascii_lowercase().contains("mpv"), "{f}: added line without the mpv marker: {l}");
        }
    }
}

#[test]
fn every_mirror_site_is_used_by_the_engine_and_undefined_without_a_tree() {
    let engine = read("nvme-6.12/mpv_race.h");
    let defs = race::mirror_defines(None);
    for l in defs.lines().filter(|l| l.starts_with("#define")) {
        let mac = l.split_whitespace().nth(1).unwrap();
        assert!(engine.contains(mac), "{mac} is not used by mpv_race.h");
        assert!(l.ends_with(" 0"), "{l}");
    }
}

#[test]
fn unpatched_lines_count_back_the_added_ones() {
    let patched = "a\nMPV_SCHED(\"x\", NULL); /* mpv */\nb\nc\nMPV_SCHED(\"y\", NULL); /* mpv */\n/* mpv */\nd\n";
    // The statement after x is `b`, line 2 of the unpatched file; after y, `d` (line 4).
    assert_eq!(race::unpatched_line(patched, 2), Some(2));
    assert_eq!(race::unpatched_line(patched, 5), Some(4));
    let m = race::point_lines(patched);
    assert_eq!(m.get("x"), Some(&2));
    assert_eq!(m.get("y"), Some(&4));
}

#[test]
fn ktap_diagnostics_are_read_per_case_with_lines() {
    let mut points = std::collections::BTreeMap::new();
    points.insert("nvme_next_ns".to_string(), 304usize);
    let ktap = "\
    # mpv-race-case: mpv_race_a
    # mpv-race-step: 0 3 R nvme_next_ns path=0 line=321
    # mpv-race-step: 1 4 D nvme_ns_remove:list_del_rcu path=0 line=204041
    # mpv-race-step: 2 5 D nvme_ns_remove:list_empty path=NULL line=0
    # mpv-race-verdict: REPRODUCED R2 spun
    ok 1 mpv_race_a
    # mpv-race-case: mpv_race_b
    # mpv-race-verdict: NOT-REPRODUCED diverged
    ok 2 mpv_race_b
";
    let (r, v, log) = race::parse_ktap(ktap, &points);
    // Both cases' lines without a case split: the last verdict wins.
    assert_eq!(r, Some(false));
    assert_eq!(v, "NOT-REPRODUCED diverged");
    assert!(log.iter().any(|l| l == "mpv-race-step: 0 3 R nvme_next_ns path=0 multipath.c:304"), "{log:?}");
    assert!(log.iter().any(|l| l.ends_with("path=0 core.c:4041 (harness mirror)")), "{log:?}");
    assert!(log.iter().any(|l| l.ends_with("path=NULL (harness mirror)")), "{log:?}");
}

fn save_schedules(revision: &str, scenario: &str, dir: &Path) -> Vec<PathBuf> {
    let out = Command::new(env!("CARGO_BIN_EXE_mpath-verify"))
        .args(["check", "--revision", revision, "--scenario", scenario, "--save-dir"])
        .arg(dir)
        .output()
        .expect("run mpath-verify check");
    assert!(matches!(out.status.code(), Some(0) | Some(1)), "check failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.to_string_lossy().ends_with(".schedule.json")).collect();
    v.sort();
    v
}

#[test]
fn the_s03a_b_schedule_becomes_a_case_with_the_spinning_walk() {
    let dir = tempfile::tempdir().unwrap();
    let scheds = save_schedules("nvme-6.12", "S03a-B", dir.path());
    let st = scheds.iter().find(|p| p.to_string_lossy().contains("selection_terminates")).expect("no selection_terminates schedule");
    let input = RaceInput::load(st).unwrap();
    let suite = race::generate(&input).unwrap();
    // Every shared step has a point or a stated reason; R2's walk is there.
    let r2 = input.threads.iter().position(|t| t.0 == "R2").unwrap();
    let walk = suite.hooked.iter().filter(|h| h.thread == r2 && h.point == "nvme_next_ns").count();
    assert!(walk >= 3, "R2 should pass nvme_next_ns several times, got {walk}");
    assert!(suite.hooked.iter().any(|h| h.point == "nvme_ns_remove:list_del_rcu" && h.path == 0));
    let (src, cases) = race::assemble(vec![suite.clone(), suite], &race::mirror_defines(None));
    assert_eq!(cases.len(), 2);
    assert_ne!(cases[0].case, cases[1].case, "two cases of one schedule need two names");
    assert!(src.contains("kunit_test_suites(&mpath_verify_race_suite);"));
    assert!(src.contains("mpv_race_run(test, w, MPV_RACE_SELECTION_TERMINATES"));
}

#[test]
fn schedules_the_engine_cannot_drive_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let scheds = save_schedules("nvme-6.12", "S03a-B", dir.path());
    let mut input = RaceInput::load(&scheds[0]).unwrap();
    // A step of a function the table does not know.
    let mut bad = input.clone();
    bad.steps[0].function = "nvme_made_up".into();
    let e = race::generate(&bad).unwrap_err().0;
    assert!(e.contains("nvme_made_up") && e.contains("no schedule point"), "{e}");
    // A property without a kernel-side check.
    let mut bad = input.clone();
    bad.property = "no_duplicate_link".into();
    assert!(race::generate(&bad).unwrap_err().0.contains("no kernel-side check"));
    // The delayed-work worker.
    let mut bad = input.clone();
    bad.steps[0].thread = bad.threads.len();
    assert!(race::generate(&bad).unwrap_err().0.contains("worker"));
    // A revision no kernel C backend runs.
    input.header.revision = "v3".into();
    assert!(race::generate(&input).unwrap_err().0.contains("kunit race replays nvme-6.12 schedules"));
}

#[test]
fn confirm_in_kernel_without_a_tree_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mpath-verify"))
        .args(["check", "--revision", "nvme-6.12", "--scenario", "S03a-B", "--confirm-in-kernel", "/nonexistent/linux", "--save-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/linux") && err.contains("not a usable Linux source tree"), "{err}");
}

#[test]
fn the_s07_schedule_runs_the_library_chr_ioctl_against_the_restated_removal() {
    let dir = tempfile::tempdir().unwrap();
    let scheds = save_schedules("v2", "S07", dir.path());
    let st = scheds.iter().find(|p| p.to_string_lossy().contains("no_use_after_free")).expect("no no_use_after_free schedule");
    let input = RaceInput::load(st).unwrap();
    let suite = race::generate(&input).unwrap();
    assert_eq!(suite.backend, race::RaceBackend::LibV2);
    let pts: Vec<&str> = suite.hooked.iter().map(|h| h.point.as_str()).collect();
    // U drops SRCU after ioctl_begin, D's removal runs to its last put,
    // then U reaches cdev_ioctl with the path D freed.
    let unlock = pts.iter().position(|p| *p == "mpath_chr_ioctl:srcu_read_unlock").expect("no early unlock");
    let put = pts.iter().position(|p| *p == "nvme_ns_remove:nvme_put_ns").expect("no put");
    let use_ = pts.iter().position(|p| *p == "mpath_chr_ioctl:cdev_ioctl").expect("no cdev_ioctl");
    assert!(unlock < put && put < use_, "{pts:?}");
    assert_eq!(suite.hooked[use_].path, suite.hooked[put].path);
    assert!(pts.contains(&"mpath_synchronize:synchronize_srcu") && pts.contains(&"mpath_delete_device:list_del_rcu"));
    let (src, _) = race::assemble(vec![suite], "");
    assert!(src.contains("{MPV_RACE_CHR_IOCTL, 0, 1}") && src.contains("{MPV_RACE_REMOVE_PATH, 0}"));
    assert!(src.contains("mpvl_race_prepare(w);") && src.contains("MPV_RACE_NO_USE_AFTER_FREE"));
}

#[test]
fn a_use_after_free_schedule_is_refused_under_uml_before_any_build() {
    let dir = tempfile::tempdir().unwrap();
    let scheds = save_schedules("v2", "S07", dir.path());
    let st = scheds.iter().find(|p| p.to_string_lossy().contains("no_use_after_free")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mpath-verify")).args(["kunit", "race", "--kernel-src", "/nonexistent/linux"]).arg(st).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("KASAN") && err.contains("--arch x86_64"), "{err}");
}

#[test]
fn a_kasan_report_is_one_kernel_report_with_its_access_line() {
    let text = "    # mpv-race-case: c\n\
[    5.1] ==================================================================\n\
[    5.1] BUG: KASAN: slab-use-after-free in mpvl_race_cdev_ioctl+0x2a/0x60\n\
[    5.1] Read of size 4 at addr ffff888004a1b208 by task mpv-race-U/93\n\
[    5.1] \n\
[    5.1] CPU: 0 UID: 0 PID: 93 Comm: mpv-race-U Tainted: G                 N 6.12.117 #1\n\
[    5.1] Call Trace:\n\
[    5.1]  mpath_chr_ioctl+0x1b0/0x2d0\n\
    # mpv-race-verdict: REPRODUCED x\n";
    let r = mpath_conformance::kunit::ktap::kernel_reports_in(text);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(
        r[0].starts_with("BUG: KASAN: slab-use-after-free in mpvl_race_cdev_ioctl") && r[0].contains("Read of size 4") && r[0].contains("mpv-race-U"),
        "{}",
        r[0]
    );
    assert!(mpath_conformance::kunit::ktap::kernel_reports_in("    # mpv-race-verdict: REPRODUCED x\n").is_empty());
}

/// The ctrl-reset-vs-submit counterexample (nvme-6.12): every step of the
/// schedule has a place in the point table, and the case drives the
/// kernel's nvme_change_ctrl_state, its nvme_kick_requeue_lists and the
/// requeue work's kworker in the model's order.
#[test]
fn the_ctrl_reset_schedule_is_covered_by_the_point_table() {
    let dir = tempfile::tempdir().unwrap();
    let scheds = save_schedules("nvme-6.12", "ctrl-reset-vs-submit", dir.path());
    let st = scheds.iter().find(|p| p.to_string_lossy().contains("no_stranded_requeue")).expect("no no_stranded_requeue schedule");
    let input = RaceInput::load(st).unwrap();
    let worker = input.threads.len();
    assert!(input.steps.iter().any(|s| s.thread == worker), "the counterexample needs the requeue work's run");
    for (i, st) in input.steps.iter().enumerate() {
        assert!(race::place(race::RaceBackend::Nvme612, &st.function, &st.step).is_some(), "step {i} ({} `{}`) has no place", st.function, st.primitive);
    }
    let suite = race::generate(&input).unwrap();
    let c = input.threads.iter().position(|t| t.0 == "C").unwrap();
    let r = input.threads.iter().position(|t| t.0 == "R").unwrap();
    let seq: Vec<(usize, &str)> = suite.hooked.iter().map(|h| (h.thread, h.point.as_str())).collect();
    let at = |t: usize, p: &str| seq.iter().position(|x| *x == (t, p)).unwrap_or_else(|| panic!("{p} of thread {t} not hooked: {seq:?}"));
    assert_eq!(seq.iter().filter(|x| **x == (c, "nvme_change_ctrl_state")).count(), 3);
    // R decides (no usable path, one available) before C's LIVE kick, the
    // work runs and takes the list, and only then R adds its bio.
    let consider = at(r, "__nvme_find_path:consider");
    let kick = at(c, "nvme_kick_requeue_lists:kblockd_schedule_work");
    let available = at(r, "nvme_available_path:consider");
    let take = at(worker, "nvme_requeue_work:bio_list_get");
    let add = at(r, "submit:requeue");
    assert!(consider < kick && kick < available && available < take && take < add, "{seq:?}");
    assert!(at(worker, "nvme_requeue_work") < take);
    // The one approximation: R's list `next` after its last consider.
    assert_eq!(suite.approximations.len(), 1, "{:?}", suite.approximations);
    assert!(suite.approximations[0].contains("list_next"), "{}", suite.approximations[0]);
    let (src, _) = race::assemble(vec![suite], &race::mirror_defines(None));
    assert!(src.contains(
        "{MPV_RACE_SET_CTRL_STATE, 0, NVME_CTRL_RESETTING}, {MPV_RACE_SET_CTRL_STATE, 0, NVME_CTRL_CONNECTING}, {MPV_RACE_SET_CTRL_STATE, 0, NVME_CTRL_LIVE}"
    ));
    assert!(src.contains("{ \"worker\", 0, { }, true },") && src.contains("mpv_race_prepare(w);"));
    assert!(src.contains("mpv_race_run(test, w, MPV_RACE_NO_STRANDED_REQUEUE"));
}

#[test]
fn a_worker_that_resubmits_or_a_worker_on_the_series_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scheds = save_schedules("nvme-6.12", "ctrl-reset-vs-submit", dir.path());
    let st = scheds.iter().find(|p| p.to_string_lossy().contains("no_stranded_requeue")).unwrap();
    let input = RaceInput::load(st).unwrap();
    let worker = input.threads.len();
    let i = input.steps.iter().position(|s| s.thread == worker).unwrap();
    let mut bad = input.clone();
    bad.steps[i].function = "mpath_bdev_submit_bio".into();
    let e = race::generate(&bad).unwrap_err().0;
    assert!(e.contains(&format!("step {i}")) && e.contains("resubmission"), "{e}");
    let mut bad = input.clone();
    bad.steps[i].thread = worker + 1;
    assert!(race::generate(&bad).unwrap_err().0.contains("does not exist"));
}

#[test]
fn the_point_before_the_kernels_own_state_change_is_not_shown_as_a_restatement() {
    let points = std::collections::BTreeMap::new();
    let text = "    # mpv-race-step: 0 0 C nvme_change_ctrl_state path=- line=200556\n    # mpv-race-step: 1 3 R submit:srcu_read_lock path=- line=100466\n";
    let (_, _, log) = race::parse_ktap(text, &points);
    assert_eq!(log[0], "mpv-race-step: 0 0 C nvme_change_ctrl_state path=- core.c:556 (kernel call)");
    assert_eq!(log[1], "mpv-race-step: 1 3 R submit:srcu_read_lock path=- multipath.c:466 (harness mirror)");
    let r = race::RaceResult { log, ..Default::default() };
    let lane = race::swimlane(&r, 10);
    assert!(lane.contains("change_ctrl_state c:556 ") && !lane.contains("c:556*"), "{lane}");
    assert!(lane.contains("submit:srcu_read_lock m:466*"), "{lane}");
}

/// A point added right after an unbraced `if (...)` / `for (...)` / `else`
/// of the kernel's would become its body and detach the kernel's own
/// statement from the condition (the store in __nvme_find_path once ran
/// with `found` NULL). Only an added (mpv) guard may precede a point.
#[test]
fn no_point_becomes_the_body_of_a_kernel_condition() {
    for f in ["race/nvme-6.12-sched.patch", "race/fix-612-rr-removing.patch", "race/fix-612-live-kick-sync.patch", "race/lib-v2-sched.patch"] {
        let text = read(f);
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate().skip(1) {
            if !(l.starts_with('+') && l.contains("MPV_SCHED(")) {
                continue;
            }
            let prev = lines[i - 1];
            if prev.starts_with('+') {
                continue;
            }
            let code = prev.get(1..).unwrap_or("").trim();
            let opens = code.starts_with("if (") || code.starts_with("for (") || code.starts_with("while (") || code == "else";
            assert!(!(opens && !code.ends_with('{') && !code.ends_with(';')), "{f}: the point on line {} becomes the body of `{code}`", i + 1);
        }
    }
    // The check sees the old form.
    let bad = "@@\n \tif (found)\n+\t\tMPV_SCHED(\"x\", found); /* mpv */\n \t\tstore();\n";
    let lines: Vec<&str> = bad.lines().collect();
    let code = lines[1][1..].trim();
    assert!(code.starts_with("if (") && !code.ends_with('{') && lines[2].contains("MPV_SCHED("));
}
