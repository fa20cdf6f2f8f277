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
