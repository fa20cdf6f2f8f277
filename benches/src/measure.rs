//! The reference side of `bench run`: every workload timed with the kernel
//! suite's method (see [`crate::kunit`]), in this process, so that both
//! sides use one estimator. A workload is built, primed, its batch size
//! calibrated by doubling from 16 operations until the fastest of
//! [`CALIBRATION_TRIES`] batches of that size takes at least
//! [`BATCH_TARGET_NS`]; then [`BATCHES`] batches are timed and the fastest
//! and the median batch are kept, in ns per operation. The timing thread
//! runs pinned to one CPU when [`pin_to_cpu`] was called (`bench run`
//! pins it to the CPU it pins UML to).
//!
//! Meaningful only in an optimised build (`mpath-verify` is built
//! `--release`; `cargo run --release -p mpath-benches --bin bench`).

use crate::kunit::{KernelResult, BATCHES, BATCH_TARGET_NS, CALIBRATION_TRIES, SCALING_BATCH_MUL, SCALING_READERS, SCALING_WORKLOAD};
use crate::workloads::{self, Workload};
use mpath_reference::driver::{ana_to_access, AnaState};
use mpath_reference::sync::Ordering;
use mpath_reference::System;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::time::{Duration, Instant};

/// Most operations one batch may run (the kernel's `MPVB_MAX_ITERS`).
const MAX_ITERS: u64 = 1 << 30;

/// Median and fastest of `samples` (ns per batch) as ns per operation,
/// with 3 decimals (the kernel prints 3).
fn summarise(workload: &str, mut samples: Vec<u64>, iters: u64) -> KernelResult {
    samples.sort_unstable();
    let per_op = |ns: u64| ((ns as f64 * 1000.0 / iters as f64).round()) / 1000.0;
    KernelResult {
        workload: workload.to_string(),
        ns_per_op: Some(per_op(samples[samples.len() / 2])),
        iters: Some(iters),
        min_ns_per_op: Some(per_op(samples[0])),
        skip: None,
    }
}

fn batch(w: &Workload, sys: &System, iters: u64) -> u64 {
    let t = Instant::now();
    black_box(w.run(sys, iters));
    t.elapsed().as_nanos() as u64
}

/// The kernel suite's `mpvb_calibrate` (see the module docs).
fn calibrate(w: &Workload, sys: &System) -> u64 {
    let mut iters = 16u64;
    while iters < MAX_ITERS && (0..CALIBRATION_TRIES).map(|_| batch(w, sys, iters)).min().unwrap_or(0) < BATCH_TARGET_NS {
        iters *= 2;
    }
    iters
}

/// Pin the calling thread to `cpu` (`sched_setaffinity`); threads it
/// spawns inherit the mask. Errors carry the OS error.
pub fn pin_to_cpu(cpu: usize) -> Result<(), String> {
    set_affinity(&[cpu])
}

/// CPUs online on the machine, whatever the calling thread's affinity
/// (`std::thread::available_parallelism` counts only the CPUs the thread
/// may run on, 1 once pinned).
pub fn online_cpus() -> usize {
    // SAFETY: sysconf reads a system value.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(1)
}

/// Let the calling thread run on every CPU in `cpus`.
fn set_affinity(cpus: &[usize]) -> Result<(), String> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET write inside it and
    // sched_setaffinity(0, ...) reads it for the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!("sched_setaffinity({cpus:?}): {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Time one workload (see the module docs).
pub fn time_workload(w: &Workload) -> Result<KernelResult, String> {
    let sys = w.build()?;
    let iters = calibrate(w, &sys);
    let samples = (0..BATCHES).map(|_| batch(w, &sys, iters)).collect();
    let v = sys.violations();
    if !v.is_empty() {
        return Err(format!("{}: the reference reported violations while timed: {v:?}", w.name));
    }
    Ok(summarise(&w.name, samples, iters))
}

/// One step of the reader-scaling writer, shared with the criterion
/// bench (`benches/pathsel.rs`) and done by the kernel suite's
/// `mpvb_scale_batch` too: flip path `k % n` between optimized and
/// non-optimized (ANA state and access state, as an ANA log update does)
/// and clear the current paths that point at it.
pub fn flip_step(sys: &System, n: u32, k: u64) {
    let p = (k % n as u64) as u32;
    let s = &sys.paths[p as usize];
    let a = if s.ana() == AnaState::Optimized { AnaState::Nonoptimized } else { AnaState::Optimized };
    s.ana_state.store(a as u8, Ordering::Relaxed);
    s.access_state.store(ana_to_access(a) as u8, Ordering::Relaxed);
    sys.clear_current_path(p);
}

/// The writer of reader scaling: a [`flip_step`] every 20 µs until every
/// reader is done.
fn writer(sys: &System, n: u32, done: &AtomicUsize, readers: usize) {
    let mut k = 0u64;
    while done.load(Ordering::Acquire) < readers {
        flip_step(sys, n, k);
        k += 1;
        std::thread::sleep(Duration::from_micros(20));
    }
}

/// One reader-scaling batch: `readers` threads each call `find_path` (with
/// its own SRCU read section) `iters` times while [`writer`] runs; returns
/// the slowest reader's ns. With `bind`, reader `i` runs on CPU `i` (as
/// the kernel suite's `kthread_bind`).
fn scaling_batch(sys: &System, nr_paths: u32, readers: usize, iters: u64, bind: bool) -> u64 {
    let go = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..readers)
            .map(|i| {
                let (go, done) = (&go, &done);
                s.spawn(move || {
                    if bind {
                        // best effort: a reader left unbound still measures
                        let _ = set_affinity(&[i]);
                    }
                    while !go.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                    }
                    let t = Instant::now();
                    let mut acc = 0u64;
                    for _ in 0..iters {
                        acc = acc.wrapping_add(black_box(sys).find_path(0).unwrap_or(u32::MAX) as u64);
                    }
                    black_box(acc);
                    let d = t.elapsed().as_nanos() as u64;
                    done.fetch_add(1, Ordering::Release);
                    d
                })
            })
            .collect();
        go.store(true, Ordering::Release);
        writer(sys, nr_paths, &done, readers);
        hs.into_iter().map(|h| h.join().unwrap_or(u64::MAX)).max().unwrap_or(0)
    })
}

/// `reader_scaling/t<readers>` on [`SCALING_WORKLOAD`], as the kernel
/// suite's `mpvb_reader_scaling`: the batch is [`SCALING_BATCH_MUL`] times
/// the single-thread calibrated batch.
pub fn time_reader_scaling(readers: usize) -> Result<KernelResult, String> {
    let w = workloads::by_name(SCALING_WORKLOAD).ok_or_else(|| format!("no workload {SCALING_WORKLOAD}"))?;
    let sys = w.build()?;
    let iters = calibrate(&w, &sys) * SCALING_BATCH_MUL;
    sys.work.concurrent.store(true, Ordering::Relaxed);
    // bound even when the caller is pinned (the readers would inherit its one CPU)
    let bind = online_cpus() >= readers;
    let samples = (0..BATCHES).map(|_| scaling_batch(&sys, w.nr_paths() as u32, readers, iters, bind)).collect();
    let v = sys.violations();
    if !v.is_empty() {
        return Err(format!("reader_scaling/t{readers}: the reference reported violations: {v:?}"));
    }
    Ok(summarise(&format!("reader_scaling/t{readers}"), samples, iters))
}

/// One reference round: every workload of `list`, then reader scaling,
/// with the calling thread pinned to `cpu` if given (its affinity is
/// restored to every CPU afterwards).
pub fn reference_round(list: &[Workload], cpu: Option<usize>) -> Result<Vec<KernelResult>, String> {
    if let Some(c) = cpu {
        pin_to_cpu(c)?;
    }
    let out = (|| {
        let mut out = Vec::with_capacity(list.len() + SCALING_READERS.len());
        for w in list {
            out.push(time_workload(w)?);
        }
        for r in SCALING_READERS {
            out.push(time_reader_scaling(r)?);
        }
        Ok(out)
    })();
    if cpu.is_some() {
        let all: Vec<usize> = (0..online_cpus()).collect();
        set_affinity(&all)?;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_median_and_fastest_per_op() {
        let r = summarise("x", vec![3000, 1000, 2000, 5000, 4000], 1000);
        assert_eq!(r.ns_per_op, Some(3.0));
        assert_eq!(r.min_ns_per_op, Some(1.0));
        assert_eq!(r.iters, Some(1000));
        let r = summarise("x", vec![1234], 1000);
        assert_eq!(r.ns_per_op, Some(1.234));
    }

    #[test]
    fn times_a_workload_and_reader_scaling() {
        let w = workloads::by_name("numa_hit.all_opt.p2.n1").unwrap();
        let r = time_workload(&w).unwrap();
        assert_eq!(r.workload, w.name);
        let (med, min) = (r.ns_per_op.unwrap(), r.min_ns_per_op.unwrap());
        assert!(min > 0.0 && min <= med, "{min} {med}");
        // a batch reached the 1 ms target: iters * ns/op >= 1 ms (within rounding)
        assert!(r.iters.unwrap() as f64 * med >= BATCH_TARGET_NS as f64 * 0.5, "{r:?}");
        // a pinned round gives the thread back every CPU afterwards
        reference_round(&[workloads::Workload::srcu_pair()], Some(0)).unwrap();
        assert_eq!(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), online_cpus());
        let s = time_reader_scaling(2).unwrap();
        assert_eq!(s.workload, "reader_scaling/t2");
        assert!(s.ns_per_op.unwrap() > 0.0);
    }
}
