//! Spec §12/§13: the cdev and forwarded ops (ioctl, uring cmd, PR ops...).

use crate::util::*;
use mpath_reference::driver::{AluaState, IoctlKind};
use mpath_reference::fwd::FwdOp;
use mpath_reference::ops::Op;
use mpath_reference::sync::Ordering;
use mpath_reference::violation::{Kind, Object};

#[test]
fn s13_forward_error_codes() {
    let expect: &[(FwdOp, i32)] = &[
        (FwdOp::PrRegister, -95),
        (FwdOp::PrReserve, -95),
        (FwdOp::PrRelease, -95),
        (FwdOp::PrPreempt, -95),
        (FwdOp::PrClear, -95),
        (FwdOp::PrReadKeys, -95),
        (FwdOp::PrReadReservation, -95),
        (FwdOp::ReportZones, -95),
        (FwdOp::Getgeo, -25),
        (FwdOp::GetUniqueId, 0),
    ];
    for (op, e) in expect {
        assert_eq!(op.missing_ret(), Some(*e), "{op:?}");
    }
    assert_eq!(FwdOp::Ioctl.missing_ret(), None, "ioctl has no NULL check");
    // No path: -EWOULDBLOCK for every op.
    let s = nvme("v2", 1).build();
    for op in FwdOp::ALL {
        assert_eq!(s.forward(0, op, IoctlKind::Ns) as i64, EWOULDBLOCK, "{op:?}");
    }
    // Missing ops: each op's own code; present ops: 0.
    let s = nvme("v2", 2).build();
    let missing: Vec<FwdOp> = FwdOp::ALL.iter().copied().filter(|o| *o != FwdOp::Ioctl).collect();
    ap(&s, Op::AddPath { path: 0, ctrl: 0, capacity: 2048, ana: Some(OPT), alua: None, missing_ops: missing });
    for (op, e) in expect {
        assert_eq!(s.forward(0, *op, IoctlKind::Ns), *e, "{op:?}");
    }
    assert_eq!(s.forward(0, FwdOp::Ioctl, IoctlKind::Ctrl), 0);
    clean(&s);
    assert_eq!(ENOTTY, -25);
    assert_eq!(EOPNOTSUPP, -95);
}

#[test]
fn s13_ioctl_without_fops_ioctl_is_a_null_deref() {
    let s = nvme("v2", 1).build();
    ap(&s, Op::AddPath { path: 0, ctrl: 0, capacity: 2048, ana: Some(OPT), alua: None, missing_ops: vec![FwdOp::Ioctl] });
    s.forward(0, FwdOp::Ioctl, IoctlKind::Ns);
    assert_eq!(kinds(&s), vec![(Kind::NullDeref, Object::PathDisk(0), "mpath_bdev_ioctl".into())]);
}

#[test]
fn s12_uring_codes_v1_vs_v2() {
    // No path (RR singular shortcut with a disabled cached path: no R12 in v1).
    for (rev, want) in [("v1", EWOULDBLOCK), ("v2", EINVAL), ("v3", EINVAL)] {
        let s = nvme(rev, 1).policy("round-robin").setup(vec![add(0, OPT)]).build();
        assert_eq!(s.chr_uring_cmd(0), 0, "{rev}");
        ap(&s, Op::SetReady { path: 0, ready: false });
        assert_eq!(s.chr_uring_cmd(0) as i64, want, "{rev}");
        assert_eq!(s.chr_ioctl(0, IoctlKind::Ns) as i64, EWOULDBLOCK, "{rev}");
        clean(&s);
    }
    // Missing callback: v1 checks it before locking, v2 after finding a path.
    let s = scsi("v1", 1).build();
    assert_eq!(s.chr_uring_cmd(0) as i64, EOPNOTSUPP);
    let s = scsi("v2", 1).build();
    assert_eq!(s.chr_uring_cmd(0) as i64, EINVAL);
    ap(&s, sadd(0, AluaState::Optimal));
    assert_eq!(s.chr_uring_cmd(0) as i64, EOPNOTSUPP);
}

#[test]
fn s12_ctrl_ioctl_takes_and_drops_a_ctrl_reference() {
    let s = nvme("v2", 1).setup(vec![add(0, OPT)]).build();
    assert_eq!(s.chr_ioctl(0, IoctlKind::Ctrl), 0);
    assert_eq!(s.forward(0, FwdOp::Ioctl, IoctlKind::Ctrl), 0);
    assert_eq!(s.ctrls[0].refs.load(Ordering::Relaxed), 0, "ioctl_finish puts what ioctl_begin took");
    assert_eq!(s.srcu.readers(), 0, "SRCU balanced on the early-unlock path");
}
