//! Helpers of the function tests: a system from a trace header (revision,
//! driver, topology, set-up operations), operation shorthands and the
//! errno values the spec names.

use mpath_reference::driver::{AluaState, AnaState, DriverKind};
use mpath_reference::ops::{Op, Ret};
use mpath_reference::trace::Header;
use mpath_reference::violation::{Kind, Object};
use mpath_reference::{System, Topology};

pub(crate) const EWOULDBLOCK: i64 = -11;
pub(crate) const EINVAL: i64 = -22;
pub(crate) const EOPNOTSUPP: i64 = -95;
pub(crate) const ENOTTY: i64 = -25;
pub(crate) const ERANGE: i32 = -34;
pub(crate) const ENXIO: i64 = -6;
pub(crate) const ENOMEM: i64 = -12;

pub(crate) struct T {
    pub(crate) h: Header,
}

pub(crate) fn t(rev: &str, driver: DriverKind, topo: Topology, max_paths: usize) -> T {
    T { h: Header::new(rev, driver, topo, max_paths, max_paths) }
}
pub(crate) fn nvme(rev: &str, n: usize) -> T {
    t(rev, DriverKind::Nvme, Topology::uniform(1), n)
}
pub(crate) fn scsi(rev: &str, n: usize) -> T {
    t(rev, DriverKind::Scsi, Topology::uniform(1), n)
}
impl T {
    pub(crate) fn policy(mut self, p: &str) -> T {
        self.h.iopolicy = p.into();
        self
    }
    pub(crate) fn nodes(mut self, ctrl_nodes: &[i32]) -> T {
        self.h.ctrl_nodes = ctrl_nodes.to_vec();
        self
    }
    pub(crate) fn no_disk(mut self) -> T {
        self.h.head_disk = false;
        self
    }
    pub(crate) fn setup(mut self, ops: Vec<Op>) -> T {
        self.h.setup = ops;
        self
    }
    pub(crate) fn build(&self) -> System {
        self.h.instantiate().unwrap()
    }
}

/// `AddPath` (driver arrival: NVMe with an ANA state, or SCSI with ALUA optimal).
pub(crate) fn add(p: u32, ana: AnaState) -> Op {
    Op::AddPath { path: p, ctrl: p, capacity: 2048, ana: Some(ana), alua: None, missing_ops: vec![] }
}
pub(crate) fn sadd(p: u32, alua: AluaState) -> Op {
    Op::AddPath { path: p, ctrl: p, capacity: 2048, ana: None, alua: Some(alua), missing_ops: vec![] }
}
/// `AddDevice` (library add only; no set_live).
pub(crate) fn dev(p: u32, ana: AnaState) -> Op {
    Op::AddDevice { path: p, ctrl: p, ana: Some(ana) }
}
pub(crate) use AnaState::{Inaccessible as INACC, Nonoptimized as NONOPT, Optimized as OPT};

pub(crate) fn ap(s: &System, op: Op) -> Ret {
    s.apply(0, &op).unwrap_or_else(|e| panic!("{op:?}: {e}"))
}
pub(crate) fn find(s: &System, node: i32) -> Option<u32> {
    match ap(s, Op::FindPath { node }) {
        Ret::Path(p) => p,
        r => panic!("{r:?}"),
    }
}
pub(crate) fn int(r: Ret) -> i64 {
    match r {
        Ret::Int(i) => i,
        r => panic!("{r:?}"),
    }
}
pub(crate) fn cp(s: &System) -> Vec<Option<i64>> {
    s.observe().current_path.unwrap()
}
pub(crate) fn kinds(s: &System) -> Vec<(Kind, Object, String)> {
    s.violations().into_iter().map(|v| (v.kind, v.object, v.function)).collect()
}
pub(crate) fn clean(s: &System) {
    assert!(s.violations().is_empty(), "{:?}", s.violations());
}
