//! Spec §8: I/O (available path, submission and requeue, the v3 counters) and 6.12's controller state machine (§16.1).

use crate::util::*;
use mpath_reference::driver::CtrlState;
use mpath_reference::io::Submit;
use mpath_reference::ops::{Op, Ret};
use mpath_reference::sync::Ordering;
use mpath_reference::System;

#[test]
fn s8_1_available_path() {
    let s = nvme("v2", 1).setup(vec![dev(0, OPT)]).build();
    assert!(!s.available_path(), "DISK_LIVE clear: false even with a LIVE controller");
    s.set_live(0);
    assert!(s.available_path());
    for (st, avail) in [(CtrlState::Resetting, true), (CtrlState::Connecting, true), (CtrlState::Deleting, false), (CtrlState::Dead, false)] {
        ap(&s, Op::SetCtrlState { ctrl: 0, state: st });
        assert_eq!(s.available_path(), avail, "{st:?}");
    }
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Live });
    ap(&s, Op::SetFailfast { ctrl: 0, expired: true });
    assert!(!s.available_path(), "failfast expired");
    assert_eq!(int(ap(&s, Op::DelayedRemovalSecsStore { buf: "1".into() })), 1);
    assert!(s.available_path(), "queue_if_no_path");
    // 6.12: no queue-if-no-path (DEAD only by way of DELETING there).
    let s = nvme("nvme-6.12", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Deleting }), Ret::Bool(true));
    assert_eq!(ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Dead }), Ret::Bool(true));
    s.set_flag(1);
    assert!(!s.available_path());
}

/// Linux 6.12's `nvme_change_ctrl_state` (drivers/nvme/host/core.c): the
/// transition table, a refused change keeps the state and returns false,
/// a change to LIVE kicks the requeue lists of the controller's
/// namespaces, CONNECTING -> LIVE clears FAILFAST_EXPIRED. The library
/// revisions write the template's state directly.
#[test]
fn s16_1_nvme_6_12_change_ctrl_state() {
    use CtrlState::*;
    let allowed: &[(CtrlState, &[CtrlState])] = &[
        (Live, &[Connecting]),
        (Resetting, &[New, Live]),
        (Connecting, &[New, Resetting]),
        (Deleting, &[Live, Resetting, Connecting]),
        (DeletingNoio, &[Deleting, Dead]),
        (Dead, &[Deleting]),
        (New, &[]),
    ];
    for &(new, from) in allowed {
        for old in CtrlState::ALL {
            assert_eq!(old.nvme_may_become(new), from.contains(&old), "{old:?} -> {new:?}");
        }
    }
    // Through the op, from the controller's LIVE start.
    let s = nvme("nvme-6.12", 2).setup(vec![dev(0, OPT), dev(1, OPT)]).build();
    let set = |c: u32, st: CtrlState| ap(&s, Op::SetCtrlState { ctrl: c, state: st });
    let state = |c: usize| s.ctrls[c].state();
    let pending = |s: &System| s.observe().pending_work.unwrap();
    assert_eq!(set(0, Live), Ret::Bool(false), "LIVE -> LIVE is refused");
    assert_eq!(set(0, Connecting), Ret::Bool(false));
    assert_eq!(state(0), Live, "a refused change keeps the state");
    assert_eq!(set(0, Resetting), Ret::Bool(true));
    assert_eq!(set(0, Live), Ret::Bool(false), "RESETTING -> LIVE is refused");
    assert_eq!(set(0, Connecting), Ret::Bool(true));
    s.ctrls[0].failfast_expired.store(true, Ordering::Relaxed);
    assert!(pending(&s).is_empty(), "no kick before LIVE");
    assert_eq!(set(0, Live), Ret::Bool(true));
    assert_eq!(pending(&s), vec!["requeue".to_string()], "a change to LIVE kicks the requeue lists");
    assert!(!s.ctrls[0].failfast_expired.load(Ordering::Relaxed), "CONNECTING -> LIVE stops the failfast work");
    assert_eq!(set(1, Deleting), Ret::Bool(true));
    for st in [New, Live, Resetting, Connecting] {
        assert_eq!(set(1, st), Ret::Bool(false), "DELETING -> {st:?}");
    }
    assert_eq!((set(1, Dead), set(1, DeletingNoio), set(1, Dead)), (Ret::Bool(true), Ret::Bool(true), Ret::Bool(false)));
    assert_eq!(state(1), DeletingNoio);
    // A kick needs a namespace on the controller's list: a controller
    // without one (or after its path was removed) queues nothing.
    let s = nvme("nvme-6.12", 2).setup(vec![dev(0, OPT)]).build();
    for st in [Resetting, Connecting, Live] {
        assert_eq!(ap(&s, Op::SetCtrlState { ctrl: 1, state: st }), Ret::Bool(true));
    }
    assert!(pending(&s).is_empty());
    // v2: the template's state, written as given.
    let s = nvme("v2", 1).setup(vec![dev(0, OPT)]).build();
    assert_eq!(ap(&s, Op::SetCtrlState { ctrl: 0, state: New }), Ret::None);
    assert_eq!(s.ctrls[0].state(), New);
}

#[test]
fn s8_2_submit_and_requeue() {
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(s.submit_bio(0), Submit::Path(0));
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Resetting });
    assert_eq!(s.submit_bio(0), Submit::Requeued);
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Live });
    assert_eq!(s.requeue_work(0), 1);
    assert_eq!((s.requeue_len(), s.paths[0].inflight.lock().unwrap().len()), (0, 2));
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Dead });
    assert_eq!(s.submit_bio(0), Submit::Failed);
    assert_eq!(s.bios_failed.load(Ordering::Relaxed), 1);
}

#[test]
fn s15_v3_counters() {
    let s = nvme("v3", 1).setup(vec![add(0, OPT)]).build();
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Connecting });
    assert_eq!(s.submit_bio(0), Submit::Requeued);
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Dead });
    assert_eq!(s.submit_bio(0), Submit::Failed);
    assert_eq!((s.counters.requeue_no_usable_path_cnt.load(Ordering::Relaxed), s.counters.fail_no_avail_path_cnt.load(Ordering::Relaxed)), (1, 1));
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    ap(&s, Op::SetCtrlState { ctrl: 0, state: CtrlState::Connecting });
    s.submit_bio(0);
    assert_eq!(s.counters.requeue_no_usable_path_cnt.load(Ordering::Relaxed), 0, "v2 has no counters");
}
