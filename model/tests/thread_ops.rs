//! Issue 13: every driver operation of the trace vocabulary runs in a
//! scenario thread, on each driver that accepts it (one table of op kinds
//! x drivers, checked in one loop), the removal timer obeys the clock, and
//! the new scenarios give the verdicts README-model.md justifies.

use mpath_model::machine::Machine;
use mpath_model::scenario::op_entry;
use mpath_model::*;
use mpath_reference::driver::DriverKind;
use mpath_reference::ops::Op;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn op(j: &str) -> Op {
    serde_json::from_str(j).unwrap()
}

/// A scenario of one thread running `o` on a header with paths P0, P1
/// (and P2 free for arrivals).
fn one_op(driver: &str, o: &Op) -> Scenario {
    let add = if driver == "nvme" { r#","ana":"optimized""# } else { "" };
    let text = format!(
        r#"{{"name":"op","header":{{"mpath_trace":1,"revision":"v2","driver":"{driver}","topology":{{"possible":[0],"online":[0]}},"max_paths":3,"nr_ctrls":3,"iopolicy":"numa",
        "setup":[{{"op":"add_path","path":0,"ctrl":0{add}}},{{"op":"add_path","path":1,"ctrl":1{add}}},{{"op":"delayed_removal_secs_store","buf":"5"}}]}},
        "threads":[{{"name":"T","ops":[{}]}}]}}"#,
        serde_json::to_string(o).unwrap()
    );
    Scenario::parse(&text).unwrap()
}

/// Runs thread 0's single operation to its end (the worker idle), on the
/// first enabled schedule: it must complete.
fn runs_to_completion(rev: &str, sc: &Scenario) -> Result<(), String> {
    let spec = RevisionSpec::load(rev).unwrap();
    let m = checker::machine(&spec, sc, Arc::new(AtomicBool::new(false))).map_err(|e| e.to_string())?;
    let mut s = m.init;
    for _ in 0..10_000 {
        if m.finished(&s, 0) {
            return if s.threads[0].ops_done == 1 { Ok(()) } else { Err("no operation completed".into()) };
        }
        if !m.enabled(&s, 0) {
            return Err("blocked".into());
        }
        m.run(&mut s, 0);
    }
    Err("does not finish".into())
}

/// The table: every `Op` kind of the vocabulary with, per driver, whether
/// a thread may run it (false: op_entry refuses it with a reason).
#[test]
fn every_op_kind_runs_in_a_thread_on_each_driver() {
    // (op, nvme, scsi)
    let table: &[(&str, bool, bool)] = &[
        (r#"{"op":"submit_bio"}"#, true, true),
        (r#"{"op":"find_path"}"#, true, true),
        (r#"{"op":"remove_path","path":0}"#, true, true),
        (r#"{"op":"ana_update","path":0,"state":"inaccessible"}"#, true, false),
        (r#"{"op":"set_ana_state","path":0,"state":"inaccessible"}"#, true, false),
        (r#"{"op":"set_ctrl_state","ctrl":0,"state":"resetting"}"#, true, false),
        (r#"{"op":"set_failfast","ctrl":0,"expired":true}"#, true, false),
        (r#"{"op":"set_ready","path":0,"ready":false}"#, true, false),
        (r#"{"op":"set_ana_pending","path":0,"pending":true}"#, true, false),
        (r#"{"op":"set_nr_active","ctrl":0,"n":3}"#, true, true),
        (r#"{"op":"set_sdev_state","path":0,"state":"offline"}"#, false, true),
        (r#"{"op":"set_alua_state","path":0,"state":"standby"}"#, false, true),
        (r#"{"op":"scsi_block","path":0}"#, false, true),
        (r#"{"op":"set_live","path":0}"#, true, true),
        (r#"{"op":"remove_disk"}"#, true, true),
        (r#"{"op":"failover","path":0}"#, true, true),
        (r#"{"op":"complete","path":0}"#, true, true),
        (r#"{"op":"iopolicy_store","buf":"round-robin"}"#, true, true),
        (r#"{"op":"iopolicy_store","buf":"bogus"}"#, true, true),
        (r#"{"op":"revalidate","path":0}"#, true, true),
        (r#"{"op":"chr_ioctl","kind":"ns"}"#, true, true),
        (r#"{"op":"uring_cmd"}"#, true, true),
        (r#"{"op":"forward","fwd":"ioctl"}"#, true, true),
        (r#"{"op":"forward","fwd":"pr_register"}"#, true, true),
        (r#"{"op":"forward","fwd":"getgeo"}"#, true, true),
        (r#"{"op":"release"}"#, true, true),
        (r#"{"op":"head_uninit"}"#, true, true),
        (r#"{"op":"add_path","path":2,"ctrl":2}"#, true, true),
        (r#"{"op":"add_device","path":2,"ctrl":2}"#, true, true),
        (r#"{"op":"delete_device","path":0}"#, true, true),
        (r#"{"op":"free_path","path":0}"#, true, true),
        (r#"{"op":"head_devices_empty"}"#, true, true),
        (r#"{"op":"clear_current_path","path":0}"#, true, true),
        (r#"{"op":"clear_paths"}"#, true, true),
        (r#"{"op":"revalidate_paths"}"#, true, true),
        (r#"{"op":"add_sysfs_link"}"#, true, true),
        (r#"{"op":"remove_sysfs_link","path":0}"#, true, true),
        (r#"{"op":"synchronize"}"#, true, true),
        (r#"{"op":"can_remove_head"}"#, true, true),
        (r#"{"op":"delayed_removal_secs_store","buf":"3"}"#, true, true),
        (r#"{"op":"delayed_removal_secs_store","buf":"x"}"#, true, true),
        (r#"{"op":"delayed_removal_secs_show"}"#, true, true),
        (r#"{"op":"set_iopolicy","val":"queue-depth"}"#, true, true),
        (r#"{"op":"iopolicy_show"}"#, true, true),
        (r#"{"op":"call_for_device"}"#, true, true),
        (r#"{"op":"advance_time","secs":5}"#, true, true),
        // Refused on both, each with its reason (README-model.md).
        (r#"{"op":"run_works"}"#, false, false),
        (r#"{"op":"alloc_head_disk"}"#, false, false),
        (r#"{"op":"fail_next_add_disk"}"#, false, false),
        (r#"{"op":"put_disk"}"#, false, false),
        (r#"{"op":"open"}"#, false, false),
        (r#"{"op":"set_ctrl_node","ctrl":0,"node":0}"#, false, false),
        (r#"{"op":"set_capacity","path":0,"sectors":8}"#, false, false),
        (r#"{"op":"numa_nodes_show","path":0}"#, false, false),
    ];
    let mut failures = Vec::new();
    for &(j, on_nvme, on_scsi) in table {
        let o = op(j);
        for (driver, kind, expect) in [("nvme", DriverKind::Nvme, on_nvme), ("scsi", DriverKind::Scsi, on_scsi)] {
            match (op_entry(&o, kind), expect) {
                (Ok(_), true) => {
                    let sc = one_op(driver, &o);
                    let revs: &[&str] = if driver == "nvme" { &["v1", "v2", "v3", "nvme-6.12"] } else { &["v1", "v2", "v3"] };
                    for rev in revs {
                        // nvme-6.12 has no delayed removal: its setup
                        // cannot store the seconds.
                        if *rev == "nvme-6.12" && j.contains("delayed_removal") {
                            continue;
                        }
                        let mut sc = sc.clone();
                        if *rev == "nvme-6.12" {
                            sc.header.setup.retain(|o| !matches!(o, Op::DelayedRemovalSecsStore { .. }));
                        }
                        if let Err(e) = runs_to_completion(rev, &sc) {
                            failures.push(format!("{j} on {driver} / {rev}: {e}"));
                        }
                    }
                }
                (Err(reason), false) => assert!(reason.len() > 20, "{j} on {driver}: refused without a reason: {reason}"),
                (Ok(_), false) => failures.push(format!("{j} on {driver}: accepted, the table says refused")),
                (Err(e), true) => failures.push(format!("{j} on {driver}: refused: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every Op variant of the vocabulary is in the table.
    let kinds: std::collections::BTreeSet<String> = table.iter().map(|(j, _, _)| replay::op_name(&op(j))).collect();
    assert_eq!(kinds.len(), 50, "op kinds in the table: {kinds:?}");
}

/// The removal timer: without a clock the delayed work is pending at once;
/// with one it waits for `advance_time` to reach the delay (here 5 s).
#[test]
fn removal_timer_follows_the_clock() {
    let base = r#"{"name":"t","header":{"mpath_trace":1,"revision":"v2","driver":"scsi","topology":{"possible":[0],"online":[0]},"max_paths":2,"nr_ctrls":2,"iopolicy":"numa",
      "setup":[{"op":"add_path","path":0,"ctrl":0},{"op":"delayed_removal_secs_store","buf":"5"},{"op":"remove_path","path":0}]},"threads":[{"name":"T","ops":[OPS]}]}"#;
    let spec = RevisionSpec::load("v2").unwrap();
    let rh = step::WorkKind::RemoveHead.bit();
    let after = |ops: &str| {
        let sc = Scenario::parse(&base.replace("OPS", ops)).unwrap();
        let m: Machine = checker::machine(&spec, &sc, Arc::new(AtomicBool::new(false))).unwrap();
        let mut s = m.init;
        let before = (s.timer, s.pending & rh != 0);
        while !m.finished(&s, 0) {
            m.run(&mut s, 0);
        }
        (m.clocked, before, (s.timer, s.pending & rh != 0))
    };
    // No clock: the work is pending from the start (the worker may start it at any point).
    let (clocked, before, _) = after(r#"{"op":"find_path"}"#);
    assert!(!clocked && before == (0, true));
    // A clock: armed with 5 s; 4 s do not expire it, 5 s do.
    assert_eq!(after(r#"{"op":"advance_time","secs":4}"#), (true, (5, false), (1, false)));
    assert_eq!(after(r#"{"op":"advance_time","secs":5}"#), (true, (5, false), (0, true)));
    // add_path's mpath_add_device cancels an armed timer.
    assert_eq!(after(r#"{"op":"add_path","path":1,"ctrl":1},{"op":"advance_time","secs":9}"#).2, (0, false));
}

fn verdicts(rev: &str, sc: &str) -> Vec<(String, Verdict)> {
    let r = check(&RevisionSpec::load(rev).unwrap(), &Scenario::load(sc).unwrap(), &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    r.properties.iter().map(|p| (p.property.to_string(), p.verdict)).collect()
}

fn violated(rev: &str, sc: &str) -> Vec<String> {
    verdicts(rev, sc).into_iter().filter(|(_, v)| *v == Verdict::Violated).map(|(p, _)| p).collect()
}

/// The new scenarios' verdicts (README-model.md, "Every operation in a
/// thread", justifies each against the C).
#[test]
fn new_scenarios_verdicts() {
    // 6.12: a bio requeued while the controller reconnects misses the LIVE
    // kick (nvme_kick_requeue_lists does not wait for head->srcu readers).
    assert_eq!(violated("nvme-6.12", "ctrl-reset-vs-submit"), ["no_stranded_requeue"]);
    // ... and holds once the kick waits for the head's SRCU readers (the
    // candidate fix, as nvme_mpath_set_live does).
    let fix = concat!(env!("CARGO_MANIFEST_DIR"), "/candidates/nvme-6.12-live-kick-sync.json");
    assert!(violated(fix, "ctrl-reset-vs-submit").is_empty());
    // Failover racing the path's removal: del_gendisk(ns->disk) waits for
    // the request; nothing is violated.
    assert!(violated("nvme-6.12", "failover-vs-remove").is_empty());
    assert!(verdicts("nvme-6.12", "failover-vs-remove").iter().all(|(_, v)| *v == Verdict::Holds));
    // SCSI: the bio requeued while P1 is standby (P0 blocked: still
    // available) is not kicked when P1's ALUA state returns to active.
    assert_eq!(violated("v2", "scsi-state-vs-submit"), ["no_stranded_requeue"]);
    // SCSI delayed removal with a clock: the built-in properties hold, and
    // the SCSI finding of its clock-less twin (add-vs-delayed-removal-scsi:
    // a path left on a head whose disk is gone) is still reached when the
    // timer expires between the other threads' steps.
    assert!(violated("v2", "scsi-delayed-removal-timer").is_empty());
    let props = PropertySet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/properties/arrival.props")).unwrap();
    let spec = RevisionSpec::load("v2").unwrap();
    let r = check_with(&spec, &Scenario::load("scsi-delayed-removal-timer").unwrap(), &props, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    let v = r.properties.iter().find(|p| p.property == "no_path_on_removed_head").map(|p| p.verdict);
    assert_eq!(v, Some(Verdict::Violated));
}
