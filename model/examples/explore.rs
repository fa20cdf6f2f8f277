//! `cargo run -p mpath-model --release --example explore -- <revision> <scenario> [addr]`
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let r = mpath_model::RevisionSpec::load(&a[0]).expect("revision");
    let s = mpath_model::Scenario::load(&a[1]).expect("scenario");
    let addr = a.get(2).cloned().unwrap_or_else(|| "127.0.0.1:3000".into());
    println!("serving stateright Explorer on http://{addr}");
    mpath_model::explore(&r, &s, &addr).expect("explore");
}
