//! `cargo run -p mpath-model --release --example dbg -- <rev1> <rev2>`: verdicts that change.
use mpath_model::*;
use std::sync::atomic::AtomicBool;
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let r1 = RevisionSpec::load(&a[0]).unwrap();
    let r2 = RevisionSpec::load(&a[1]).unwrap();
    for row in diff(&r1, &r2, &Bounds::default(), &AtomicBool::new(false)).unwrap() {
        println!("{:<16} {:<32} {} -> {}", row.scenario, row.property, row.left, row.right);
    }
}
