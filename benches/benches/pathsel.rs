//! Criterion benches of the reference's path-find hot loops: one benchmark
//! per workload of `mpath_benches::workloads` (id = workload name), plus
//! `reader_scaling/t1` and `reader_scaling/t2` (1 and 2 threads calling
//! `find_path` while a writer flips ANA states).
//!
//! Defaults are short (sample size 20, 0.5 s warm-up, 1 s measurement per
//! benchmark); criterion's command line overrides them, e.g.
//! `cargo bench -p mpath-benches -- --warm-up-time 1 --measurement-time 2`.
//! CI runs each benchmark once: `cargo bench -p mpath-benches -- --test`.

use criterion::{criterion_group, criterion_main, Criterion};
use mpath_benches::measure;
use mpath_benches::workloads::{self, Mix, Workload};
use mpath_reference::sync::Ordering;
use mpath_reference::System;
use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn pathsel(c: &mut Criterion) {
    for w in workloads::all() {
        let sys = w.build().unwrap_or_else(|e| panic!("{e}"));
        c.bench_function(&w.name, |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                black_box(w.run(&sys, iters));
                t.elapsed()
            })
        });
        assert!(sys.violations().is_empty(), "{}: {:?}", w.name, sys.violations());
    }
}

/// The writer: a [`measure::flip_step`] (the step `bench run`'s reader
/// scaling takes) every 20 µs until `stop`.
fn writer(sys: &System, n: u32, stop: &AtomicBool) -> u64 {
    let mut k = 0u64;
    while !stop.load(Ordering::Relaxed) {
        measure::flip_step(sys, n, k);
        k += 1;
        std::thread::sleep(Duration::from_micros(20));
    }
    k
}

/// `reader_scaling/t{1,2}`: each of `threads` readers calls `find_path`
/// (with its own SRCU read section) `iters` times on `numa_hit.all_opt.p8.n1`;
/// the time is the slowest reader's, so ns/op is per reader.
fn reader_scaling(c: &mut Criterion) {
    let w: Workload = Workload::find("numa_hit", Mix::AllOpt, 8, 1);
    let mut g = c.benchmark_group("reader_scaling");
    for threads in [1usize, 2] {
        let sys = w.build().unwrap_or_else(|e| panic!("{e}"));
        sys.work.concurrent.store(true, Ordering::Relaxed);
        g.bench_function(format!("t{threads}"), |b| {
            b.iter_custom(|iters| {
                let stop = AtomicBool::new(false);
                std::thread::scope(|s| {
                    let wr = s.spawn(|| writer(&sys, w.nr_paths() as u32, &stop));
                    let readers: Vec<_> = (0..threads)
                        .map(|_| {
                            s.spawn(|| {
                                let t = Instant::now();
                                let mut acc = 0u64;
                                for _ in 0..iters {
                                    acc = acc.wrapping_add(black_box(&sys).find_path(0).unwrap_or(u32::MAX) as u64);
                                }
                                black_box(acc);
                                t.elapsed()
                            })
                        })
                        .collect();
                    let d = readers.into_iter().map(|h| h.join().expect("reader")).max().unwrap_or_default();
                    stop.store(true, Ordering::Relaxed);
                    wr.join().expect("writer");
                    d
                })
            })
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = pathsel, reader_scaling
}
criterion_main!(benches);
