//! The driver predicates are defined once (`mpath_reference::driver::
//! predicates`): the reference's templates and the model's interpreter
//! answer alike for every combination of the codes they read, on both
//! drivers.

use mpath_model::machine::Machine;
use mpath_model::revision::RevisionSpec;
use mpath_model::scenario::{state_of_system, Scenario, ThreadSpec};
use mpath_reference::driver::{AluaState, AnaState, CtrlState, DriverKind, SdevState, Template};
use mpath_reference::ops::Op;
use mpath_reference::trace::Header;
use mpath_reference::Topology;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn machine(h: &Header) -> Machine {
    let spec = RevisionSpec::by_name("v2").unwrap();
    let sc = Scenario { name: "predicates".into(), description: String::new(), header: h.clone(), threads: vec![ThreadSpec { name: "T".into(), ops: vec![] }] };
    let sys = h.instantiate().unwrap();
    Machine::with_init(Arc::new(spec.compile().unwrap()), &sc, state_of_system(&sys).unwrap(), Arc::new(AtomicBool::new(false))).unwrap()
}

fn agree(h: &Header, pokes: &[Op]) -> (bool, bool, bool) {
    let sys = h.instantiate().unwrap();
    for op in pokes {
        sys.apply(0, op).unwrap();
    }
    let s = state_of_system(&sys).unwrap();
    let m = machine(h);
    let dev = sys.dev(0, "predicates");
    let r = (sys.drv.is_disabled(&dev), sys.drv.is_optimized(&dev), sys.drv.available_path(&dev));
    let md = (m.is_disabled(&s, 0), m.is_optimized(&s, 0), m.is_available(&s, 0));
    assert_eq!(r, md, "reference vs model (is_disabled, is_optimized, available) after {pokes:?}");
    r
}

#[test]
fn nvme_predicates_agree_for_every_code() {
    let mut h = Header::new("v2", DriverKind::Nvme, Topology::uniform(1), 1, 1);
    h.setup = vec![Op::AddPath { path: 0, ctrl: 0, capacity: 2048, ana: Some(AnaState::Optimized), alua: None, missing_ops: vec![] }];
    let mut seen = std::collections::BTreeSet::new();
    for cs in [CtrlState::New, CtrlState::Live, CtrlState::Resetting, CtrlState::Connecting, CtrlState::Deleting, CtrlState::DeletingNoio, CtrlState::Dead] {
        for ana in [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change] {
            for (ready, pending, failfast) in [(true, false, false), (false, false, false), (true, true, false), (true, false, true)] {
                let pokes = vec![
                    Op::SetCtrlState { ctrl: 0, state: cs },
                    Op::SetAnaState { path: 0, state: ana },
                    Op::SetReady { path: 0, ready },
                    Op::SetAnaPending { path: 0, pending },
                    Op::SetFailfast { ctrl: 0, expired: failfast },
                ];
                seen.insert(agree(&h, &pokes));
            }
        }
    }
    // Every combination of answers the table allows occurs (the sweep is not vacuous).
    assert!(
        seen.contains(&(false, true, true))
            && seen.contains(&(true, false, false))
            && seen.contains(&(false, false, true))
            && seen.contains(&(true, false, true)),
        "{seen:?}"
    );
}

#[test]
fn scsi_predicates_agree_for_every_code() {
    let mut h = Header::new("v2", DriverKind::Scsi, Topology::uniform(1), 1, 1);
    h.setup = vec![Op::AddPath { path: 0, ctrl: 0, capacity: 2048, ana: None, alua: None, missing_ops: vec![] }];
    let mut seen = std::collections::BTreeSet::new();
    for sdev in [
        SdevState::Created,
        SdevState::Running,
        SdevState::Cancel,
        SdevState::Del,
        SdevState::Quiesce,
        SdevState::Offline,
        SdevState::TransportOffline,
        SdevState::Block,
        SdevState::CreatedBlock,
    ] {
        for alua in
            [AluaState::Optimal, AluaState::Active, AluaState::Standby, AluaState::Unavailable, AluaState::Lba, AluaState::Offline, AluaState::Transitioning]
        {
            seen.insert(agree(&h, &[Op::SetSdevState { path: 0, state: sdev }, Op::SetAluaState { path: 0, state: alua }]));
        }
    }
    assert!(
        seen.contains(&(false, true, true))
            && seen.contains(&(true, false, true))
            && seen.contains(&(true, false, false))
            && seen.contains(&(false, false, true)),
        "{seen:?}"
    );
}

/// The state's typed fields keep the former raw bytes: a controller's
/// state in bits 0..6 with failfast in bit 7, an unset ANA / sdev state as
/// byte 0 (so fingerprints did not change), and the accessors keep the two
/// halves of a controller's byte apart.
#[test]
fn typed_state_fields_keep_their_bytes() {
    use mpath_model::state::{Ctrl, PathState, State, MAXP};
    let mut c = Ctrl::new(CtrlState::Connecting, true);
    assert_eq!((c.state(), c.failfast_expired()), (CtrlState::Connecting, true));
    c.set_state(CtrlState::Live);
    assert_eq!((c.state(), c.failfast_expired()), (CtrlState::Live, true));
    c.set_failfast_expired(false);
    assert_eq!((c.state(), c.failfast_expired()), (CtrlState::Live, false));
    assert_eq!(Ctrl::default().state(), CtrlState::New);

    let mut h = Header::new("v2", DriverKind::Nvme, Topology::uniform(1), 1, 2);
    h.setup = vec![Op::AddPath { path: 0, ctrl: 0, capacity: 2048, ana: Some(AnaState::Nonoptimized), alua: None, missing_ops: vec![] }];
    let sys = h.instantiate().unwrap();
    sys.apply(0, &Op::SetCtrlState { ctrl: 1, state: CtrlState::Resetting }).unwrap();
    sys.apply(0, &Op::SetFailfast { ctrl: 1, expired: true }).unwrap();
    let s: State = state_of_system(&sys).unwrap();
    let b = s.as_bytes();
    // repr(C) offsets (no offset_of!: the README promises Rust 1.75):
    // `ctrls` follows the path slots; a slot is life, bits, ana, access, sdev, ...
    let ctrls = MAXP * std::mem::size_of::<PathState>();
    assert_eq!(&b[ctrls..ctrls + 2], &[CtrlState::Live as u8, CtrlState::Resetting as u8 | 0x80]);
    let (ana, sdev) = (2, 4);
    assert_eq!((b[ana], b[sdev]), (AnaState::Nonoptimized as u8, SdevState::Running as u8));
    // An unused slot: every byte zero, ANA and sdev unset.
    let unused = std::mem::size_of::<PathState>();
    assert_eq!((b[unused + ana], b[unused + sdev]), (0, 0));
    assert_eq!((s.paths[1].ana, s.paths[1].sdev), (None, None));
}
