use mpath_reference::driver::{AnaState, DriverKind};
use mpath_reference::ops::{Op, Ret};
use mpath_reference::trace::Header;
use mpath_reference::Topology;

fn nvme(n: usize) -> Header {
    let mut h = Header::new("v2", DriverKind::Nvme, Topology::uniform(2), n, n);
    h.ctrl_nodes = (0..n as i32).map(|i| i % 2).collect();
    h
}

#[test]
fn numa_prefers_local_optimized_then_remove_clears() {
    let mut h = nvme(2);
    h.setup = vec![
        Op::AddPath { path: 0, ctrl: 0, capacity: 2048, ana: Some(AnaState::Optimized), alua: None, missing_ops: vec![] },
        Op::AddPath { path: 1, ctrl: 1, capacity: 2048, ana: Some(AnaState::Optimized), alua: None, missing_ops: vec![] },
    ];
    let sys = h.instantiate().unwrap();
    let o = sys.observe();
    assert_eq!(o.current_path, Some(vec![Some(0), Some(1)]));
    assert_eq!(o.head_disk.as_deref(), Some("added"));
    assert_eq!(o.links, Some(vec![0, 1]));
    assert_eq!(sys.apply(1, &Op::FindPath { node: 1 }).unwrap(), Ret::Path(Some(1)));
    sys.apply(2, &Op::RemovePath { path: 1, node: 0 }).unwrap();
    let o = sys.observe();
    assert_eq!(o.current_path, Some(vec![Some(0), None]));
    assert_eq!(o.links, Some(vec![0]));
    assert_eq!(sys.apply(3, &Op::FindPath { node: 1 }).unwrap(), Ret::Path(Some(0)));
    assert!(sys.violations().is_empty(), "{:?}", sys.violations());
}
