//! The one synchronisation facade. Every shared-memory primitive the
//! reference uses comes from here, so the same library code runs under
//! std, loom (`RUSTFLAGS="--cfg loom"`) and shuttle (`--features shuttle`).
//!
//! Kernel full barriers (`smp_mb()`, and the ones implied by
//! `srcu_read_lock` / `synchronize_srcu`) are `fence(SeqCst)`: loom models
//! fences but treats SeqCst loads and stores as AcqRel.

#[cfg(loom)]
mod imp {
    pub use loom::sync::atomic::{fence, AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
    pub use loom::sync::{Arc, Mutex, MutexGuard};
    pub use loom::thread;
    pub fn cpu_relax() {
        loom::thread::yield_now();
    }
}

#[cfg(all(not(loom), feature = "shuttle"))]
mod imp {
    pub use shuttle::sync::atomic::{fence, AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
    pub use shuttle::sync::{Arc, Mutex, MutexGuard};
    pub use shuttle::thread;
    pub fn cpu_relax() {
        shuttle::thread::yield_now();
    }
}

#[cfg(all(not(loom), not(feature = "shuttle")))]
mod imp {
    pub use std::sync::atomic::{fence, AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, AtomicU8, AtomicUsize};
    pub use std::sync::{Arc, Mutex, MutexGuard};
    pub use std::thread;
    pub fn cpu_relax() {
        std::thread::yield_now();
    }
}

pub use imp::*;
pub use std::sync::atomic::Ordering;

/// `smp_mb()`: a full barrier.
#[inline]
pub fn smp_mb() {
    fence(Ordering::SeqCst);
}

/// Lock a mutex, ignoring poisoning: a panic in another thread has already
/// been reported by the test harness, and the reference must not panic again.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
