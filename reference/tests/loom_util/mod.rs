//! Shared helpers of the loom suites: run a model with an explicit
//! preemption bound, count its executions and time it, and check that a
//! mutant model fails with the expected message.

#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// `MPV_LOOM_PREEMPTIONS` overrides every test's bound (`none` = unbounded).
fn bound(default: Option<usize>) -> Option<usize> {
    match std::env::var("MPV_LOOM_PREEMPTIONS") {
        Ok(v) if v == "none" => None,
        Ok(v) => Some(v.parse().expect("MPV_LOOM_PREEMPTIONS: a number or `none`")),
        Err(_) => default,
    }
}

fn show(b: Option<usize>) -> String {
    b.map(|b| b.to_string()).unwrap_or_else(|| "none".into())
}

/// Explore every execution of `f` (up to the preemption bound); returns the
/// number of executions. Prints one summary line.
pub fn explore<F>(name: &str, preemption_bound: Option<usize>, f: F) -> usize
where
    F: Fn() + Sync + Send + 'static,
{
    let b = bound(preemption_bound);
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = b;
    let t = Instant::now();
    builder.check(move || {
        n2.fetch_add(1, Ordering::Relaxed);
        f();
    });
    let n = n.load(Ordering::Relaxed);
    eprintln!("[loom] {name}: preemption bound {}, {n} executions, {:.2}s, passed", show(b), t.elapsed().as_secs_f64());
    n
}

/// Explore a mutant: some execution must panic with a message containing
/// one of `expect`. Returns the number of executions run until the failure.
pub fn explore_expect_failure<F>(name: &str, preemption_bound: Option<usize>, expect: &[&str], f: F) -> usize
where
    F: Fn() + Sync + Send + 'static,
{
    let b = bound(preemption_bound);
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = b;
    let t = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(|| {
        builder.check(move || {
            n2.fetch_add(1, Ordering::Relaxed);
            f();
        })
    }));
    let n = n.load(Ordering::Relaxed);
    let secs = t.elapsed().as_secs_f64();
    match r {
        Ok(()) => panic!("[loom] {name}: mutant NOT caught: all {n} executions passed (bound {})", show(b)),
        Err(e) => {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            assert!(expect.iter().any(|e| msg.contains(e)), "[loom] {name}: failed, but not with one of {expect:?}: {msg}");
            eprintln!("[loom] {name}: preemption bound {}, mutant caught at execution {n} after {secs:.2}s: {msg}", show(b));
            n
        }
    }
}
