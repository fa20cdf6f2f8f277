//! Run one workload's operation in a loop, for a profiler:
//! `cargo build --profile bench -p mpath-benches --example profile` then
//! `valgrind --tool=callgrind target/release/examples/profile numa_rescan.all_opt.p128.n1 100000`
//! (or `perf record`). Prints ns/op (wall clock, no profiler overhead).

use mpath_benches::workloads;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(String::as_str).unwrap_or("numa_rescan.all_opt.p128.n1");
    let iters: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let Some(w) = workloads::by_name(name) else {
        eprintln!("unknown workload {name}; see benches/workloads.json");
        std::process::exit(2);
    };
    let sys = w.build().unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let acc = w.run(&sys, iters);
    let dt = t.elapsed();
    println!("{name}: {:.3} ns/op over {iters} ops (checksum {acc})", dt.as_nanos() as f64 / iters as f64);
}
