//! Counterexamples carry their schedule (issue 11): the interleaving step
//! by step, with the step executed and the objects it touched, in the
//! format `mpath-verify kunit race` reads. The schedule follows the
//! swimlane exactly, resolves objects from the machine state, is
//! byte-identical across runs, and its loader rejects what it cannot use
//! with one line naming the file and the reason.

use mpath_model::checker::{detail, schedule_steps, shortest_path};
use mpath_model::machine::Action;
use mpath_model::schedule::{Objects, PathRef, StepForm};
use mpath_model::step::{self, Bit, Mutex, Step};
use mpath_model::*;
use mpath_reference::violation::Object;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn report(rev: &str, sc: &str) -> (RevisionSpec, Scenario, Report) {
    let r = RevisionSpec::by_name(rev).unwrap();
    let s = Scenario::by_name(sc).unwrap();
    let rep = check(&r, &s, &Bounds::default(), None, &AtomicBool::new(false)).unwrap();
    (r, s, rep)
}

fn schedule(rev: &str, sc: &str, prop: &str) -> Schedule {
    let (r, s, rep) = report(rev, sc);
    let ce = rep
        .properties
        .iter()
        .find(|p| p.property == prop)
        .and_then(|p| p.counterexample.as_ref())
        .unwrap_or_else(|| panic!("{rev} {sc}: {prop} has no counterexample"));
    Schedule::from_counterexample(&r, &s, prop, ce, None).unwrap()
}

/// The S03a-B counterexample of `selection_terminates` on nvme-6.12 (the
/// reviewer's scenario B): its schedule is the swimlane, row for row.
#[test]
fn schedule_steps_follow_the_swimlane() {
    let (r, s, rep) = report("nvme-6.12", "S03a-B");
    let ce = rep.properties.iter().find(|p| p.property == property::SELECTION_TERMINATES).unwrap().counterexample.clone().unwrap();
    let sch = Schedule::from_counterexample(&r, &s, property::SELECTION_TERMINATES, &ce, None).unwrap();
    assert_eq!(sch.mpath_schedule, SCHEDULE_VERSION);
    assert_eq!((sch.revision.as_str(), sch.reference_profile.as_str(), sch.scenario.as_str()), ("nvme-6.12", "nvme-6.12", "S03a-B"));
    assert_eq!(sch.violation, ce.violation);
    assert_eq!(sch.violation_text, ce.violation.to_string());
    assert!(sch.violation_text.starts_with("NonTermination of Path("), "{}", sch.violation_text);
    assert_eq!(sch.header, s.effective_header("nvme-6.12"));
    assert_eq!(sch.threads, s.threads);
    assert_eq!(sch.worker, 3);
    assert_eq!(sch.steps.len(), ce.steps.len());
    for (i, (a, b)) in sch.steps.iter().zip(&ce.steps).enumerate() {
        assert_eq!(a.i, i);
        assert_eq!(
            (a.thread, &a.thread_name, &a.function, &a.primitive, a.ops_done),
            (b.thread, &b.thread_name, &b.function, &b.primitive, b.ops_done),
            "step {i}"
        );
        match &a.step {
            Some(StepForm::Step(st)) => assert_eq!(st.primitive(), a.primitive, "step {i}"),
            other => panic!("step {i}: {other:?}"),
        }
    }
    // The swimlane rendered from the schedule is the swimlane.
    let m = checker::machine(&r, &s, Arc::new(AtomicBool::new(false))).unwrap();
    let names: Vec<String> = (0..=m.worker).map(|t| m.thread_name(t)).collect();
    let steps: Vec<TraceStep> = sch.steps.iter().map(TraceStep::from).collect();
    // (The schedule does not carry the values each step read and wrote,
    // which the counterexample's swimlane also shows.)
    let bare: Vec<TraceStep> = ce.steps.iter().map(|x| TraceStep { values: String::new(), ..x.clone() }).collect();
    assert_eq!(swimlane(&names, &steps, 40), swimlane(&names, &bare, 40));
    // Each thread's steps in the schedule are that thread's column.
    for t in 0..=sch.worker {
        let a: Vec<(&str, &str)> = sch.steps.iter().filter(|x| x.thread == t).map(|x| (x.function.as_str(), x.primitive.as_str())).collect();
        let b: Vec<(&str, &str)> = ce.steps.iter().filter(|x| x.thread == t).map(|x| (x.function.as_str(), x.primitive.as_str())).collect();
        assert_eq!(a, b, "thread {t}");
    }
}

#[test]
fn objects_are_resolved_from_the_state() {
    let sch = schedule("nvme-6.12", "S03a-B", property::SELECTION_TERMINATES);
    let d = 2;
    assert_eq!(sch.threads[d].name, "D");
    // D's list_del_rcu unlinks path 0.
    let del: Vec<_> = sch.steps.iter().filter(|x| x.thread == d && matches!(x.step, Some(StepForm::Step(Step::ListDel { .. })))).collect();
    assert_eq!(del.len(), 1);
    assert_eq!(del[0].objects, Objects { path: Some(PathRef::Path(0)), ..Objects::default() });
    assert_eq!(del[0].function, "mpath_delete_device");
    // D's first step, exactly as the format shows it.
    let first = sch.steps.iter().find(|x| x.thread == d).unwrap();
    assert_eq!((first.thread_name.as_str(), first.op, first.function.as_str(), first.ops_done), ("D", 0, "nvme_ns_remove", 0));
    assert_eq!(serde_json::to_string(&first.step).unwrap(), r#"{"s":"test_and_set_bit","bit":"removing","on":"path","dst":"tmp"}"#);
    assert_eq!(first.primitive, "test_and_set_bit(removing, path)");
    assert_eq!(serde_json::to_string(&first.objects).unwrap(), r#"{"path":0,"bit":"removing"}"#);
    let second = sch.steps.iter().filter(|x| x.thread == d).nth(1).unwrap();
    assert_eq!(second.objects, Objects { path: Some(PathRef::Path(0)), bit: Some(Bit::Ready), ..Objects::default() });
    // Mutexes by name: D takes subsys->lock (6.12's nvme_ns_remove unlinks
    // under subsys->lock only, no head->lock).
    let locks: Vec<Option<Mutex>> = sch.steps.iter().filter(|x| x.thread == d && x.primitive.starts_with("mutex_lock")).map(|x| x.objects.mutex).collect();
    assert_eq!(locks, [Some(Mutex::Subsys)]);
    // R publishes path 1 in current_path[0].
    let store = sch.steps.iter().find(|x| matches!(x.step, Some(StepForm::Step(Step::CpStore { .. })))).unwrap();
    assert_eq!((store.thread_name.as_str(), store.objects.node, store.objects.path), ("R", Some(0), Some(PathRef::Path(1))));
    // Loads name what they load: path 0 is current_path[0] at first.
    let load = sch.steps.iter().find(|x| matches!(x.step, Some(StepForm::Step(Step::CpLoad { .. })))).unwrap();
    assert_eq!((load.objects.node, load.objects.result), (Some(0), Some(PathRef::Path(0))));
    // The spinning reader's last step walks the path the violation names.
    let Object::Path(spun) = sch.violation.object else { panic!("{}", sch.violation_text) };
    let last = sch.steps.last().unwrap();
    assert_eq!(last.objects.path, Some(PathRef::Path(spun)));
    assert!(matches!(last.step, Some(StepForm::Step(Step::NextDev { .. }))), "{last:?}");
}

#[test]
fn worker_steps_and_null_results() {
    let sch = schedule("v2", "S02b-library", property::NO_LEAKED_GENDISK);
    assert_eq!(sch.worker, 2);
    let works: Vec<String> =
        sch.steps.iter().filter(|x| x.thread == sch.worker && x.primitive == "work starts").map(|x| serde_json::to_string(&x.step).unwrap()).collect();
    assert_eq!(works, [r#"{"s":"work","work":"mpath_requeue_work"}"#, r#"{"s":"work","work":"mpath_partition_scan_work"}"#]);
    assert!(sch.steps.iter().filter(|x| x.thread == sch.worker).all(|x| x.thread_name == "worker" && x.op == 0));
    // list_next_or_null_rcu off the last element gives NULL (JSON null).
    let next = sch.steps.iter().find(|x| matches!(x.step, Some(StepForm::Step(Step::ListNext { .. })))).unwrap();
    assert_eq!(next.objects.result, Some(PathRef::Null));
    assert!(serde_json::to_string(&next.objects).unwrap().contains(r#""result":null"#));
    // The thread that finished its operation: op counts it on later steps.
    let a_done = sch.steps.iter().position(|x| x.thread == 0 && x.ops_done == 1).unwrap();
    assert!(sch.steps[..a_done].iter().filter(|x| x.thread == 0).all(|x| x.op == 0));
}

/// `result` is the value the step writes: wherever no register-only step
/// runs after it in the same transition, the register holds it in the
/// post state.
#[test]
fn result_is_the_register_value_after_the_step() {
    let mut compared = 0;
    for rev in ["v2", "nvme-6.12"] {
        let r = RevisionSpec::by_name(rev).unwrap();
        for e in catalogue() {
            let s = Scenario::by_name(e.scenario).unwrap();
            let m = checker::machine(&r, &s, Arc::new(AtomicBool::new(false))).unwrap();
            let Some(path) = shortest_path(&m, e.property, 200_000) else { continue };
            let steps = schedule_steps(&m, &path);
            let mut k = 0;
            for w in path.windows(2) {
                let (pre, Some(a)) = (&w[0].0, w[0].1) else { continue };
                let post = &w[1].0;
                let st = &steps[k];
                assert_eq!(*st, detail(&m, k, pre, post, a));
                k += 1;
                let Action::Run(t) = a else { continue };
                let t = t as usize;
                let mut p = *pre;
                if p.threads[t].depth == 0 {
                    m.begin_op(&mut p, t);
                }
                let Some(StepForm::Step(step)) = &st.step else { continue };
                let Some(reg) = step.operands().result else {
                    assert_eq!(st.objects.result, None, "{rev} {}: step {}", e.scenario, st.i);
                    continue;
                };
                let (Some((f, pc)), Some((f2, pc2))) = (m.resting(&p, t), m.resting(post, t)) else { continue };
                // Same frame, and no register-only step between the step and
                // the next shared one assigns the register.
                if p.threads[t].depth != post.threads[t].depth || f != f2 || pc2 <= pc {
                    continue;
                }
                let between = &m.program.funcs[f as usize].steps[pc as usize + 1..pc2 as usize];
                let assigns = between.iter().any(|c| matches!(c, step::CStep::Plain(Step::Set { r, .. } | Step::Inc { r } | Step::Dec { r }) if *r == reg));
                if !assigns {
                    assert_eq!(st.objects.result, Some(PathRef::of(post.threads[t].regs[reg as usize])), "{rev} {}: step {}", e.scenario, st.i);
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 20, "only {compared} results compared");
}

#[test]
fn schedules_are_byte_identical_across_runs_and_round_trip() {
    let a = schedule("nvme-6.12", "S03a-B", property::SELECTION_TERMINATES).to_json();
    let b = schedule("nvme-6.12", "S03a-B", property::SELECTION_TERMINATES).to_json();
    assert_eq!(a, b);
    assert!(
        a.starts_with("{\n  \"mpath_schedule\": 1,\n  \"revision\": \"nvme-6.12\",\n  \"reference_profile\": \"nvme-6.12\",\n  \"scenario\": \"S03a-B\",\n")
    );
    let back = Schedule::parse("a.schedule.json", &a).unwrap();
    assert_eq!(back.to_json(), a);
    assert_eq!(back, schedule("nvme-6.12", "S03a-B", property::SELECTION_TERMINATES));
}

#[test]
fn load_rejects_what_it_cannot_use() {
    let dir = std::env::temp_dir().join(format!("mpv-schedule-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = schedule("nvme-6.12", "S03a-B", property::SELECTION_TERMINATES).to_json();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let err = |p: &std::path::Path| {
        let e = Schedule::load(p).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.starts_with(&format!("{}: ", p.display())), "{e}");
        e
    };
    let ok = write("ok.schedule.json", &good);
    assert!(Schedule::load(&ok).is_ok());
    let e = err(&write("text.schedule.json", "not json at all"));
    assert!(e.contains("not JSON"), "{e}");
    let e = err(&write("nokey.schedule.json", &good.replacen("\"mpath_schedule\": 1,", "", 1)));
    assert!(e.ends_with("not a schedule: no \"mpath_schedule\" key"), "{e}");
    let v2 = write("v2.schedule.json", &good.replacen("\"mpath_schedule\": 1", "\"mpath_schedule\": 2", 1));
    assert_eq!(err(&v2), format!("{}: schedule version 2 is not supported by this build (supports 1)", v2.display()));
    let e = Schedule::load(&v2).unwrap_err();
    assert_eq!((e.line, e.column), (2, 3));
    let mut bad: serde_json::Value = serde_json::from_str(&good).unwrap();
    bad["steps"][5]["thread"] = 4.into();
    let e = err(&write("thread.schedule.json", &serde_json::to_string_pretty(&bad).unwrap()));
    assert!(e.ends_with("step 5: thread 4 is out of range (threads 0..=3, 3 = worker)"), "{e}");
    let e = err(&dir.join("missing.schedule.json"));
    assert!(e.contains("cannot read"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
