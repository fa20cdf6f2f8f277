//! The in-process estimator of `bench run` (`mpath_benches::measure`) on
//! the workloads named on the command line, `REPEAT` times each (default
//! 3): prints the fastest and the median batch in ns/op, to set beside
//! criterion's figures for the same workloads
//! (`cargo bench -p mpath-benches --bench pathsel -- 'NAME$'`).
//!
//!     cargo run --release -p mpath-benches --example estimate -- numa_hit.all_opt.p8.n1 srcu_read_pair.p1.n1

use mpath_benches::{measure, workloads};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let repeat = std::env::var("REPEAT").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    if args.is_empty() {
        args = vec!["numa_hit.all_opt.p8.n1".into()];
    }
    if args[0] == "--round" {
        // a whole reference round, as `bench run` times it
        let list = workloads::all();
        let res = measure::reference_round(&list, None).unwrap_or_else(|e| panic!("{e}"));
        for r in res.iter().filter(|r| args[1..].iter().any(|a| r.workload.starts_with(a.as_str()))) {
            println!("{}\tmin {:.3}\tmedian {:.3}\titers {}", r.workload, r.min_ns_per_op.unwrap_or(0.0), r.ns_per_op.unwrap_or(0.0), r.iters.unwrap_or(0));
        }
        return;
    }
    for name in &args {
        let Some(w) = workloads::by_name(name) else {
            eprintln!("estimate: no workload {name:?}");
            std::process::exit(2);
        };
        for _ in 0..repeat {
            match measure::time_workload(&w) {
                Ok(r) => {
                    println!("{name}\tmin {:.3}\tmedian {:.3}\titers {}", r.min_ns_per_op.unwrap_or(0.0), r.ns_per_op.unwrap_or(0.0), r.iters.unwrap_or(0))
                }
                Err(e) => {
                    eprintln!("estimate: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
}
