//! An SRCU-like domain: `read_lock` returns an index, `synchronize` waits
//! for exactly the readers that entered before it started.
//!
//! The algorithm is the classic two-counter-array one (Tree/Tiny SRCU share
//! its shape): a reader increments `lock[idx]`, a full barrier, and on exit
//! a full barrier and `unlock[idx]`. A grace period flips `idx` and waits
//! until `unlock[old] == lock[old]`, first draining stragglers on the other
//! index so that a reader that sampled `idx` just before the flip is caught.

use crate::sync::{cpu_relax, lock, smp_mb, AtomicUsize, Mutex, Ordering};

pub struct Srcu {
    idx: AtomicUsize,
    locks: [AtomicUsize; 2],
    unlocks: [AtomicUsize; 2],
    gp: Mutex<()>,
    /// Test-only mutant: skip the barrier in `read_lock` (loom must catch it).
    pub(crate) mutant_no_reader_barrier: bool,
    /// Test-only mutant: `synchronize` skips draining the stragglers on the
    /// other index before the flip (loom must catch it).
    pub(crate) mutant_no_straggler_drain: bool,
}

impl Default for Srcu {
    fn default() -> Self {
        Self::new()
    }
}

impl Srcu {
    pub fn new() -> Self {
        Srcu {
            idx: AtomicUsize::new(0),
            locks: [AtomicUsize::new(0), AtomicUsize::new(0)],
            unlocks: [AtomicUsize::new(0), AtomicUsize::new(0)],
            gp: Mutex::new(()),
            mutant_no_reader_barrier: false,
            mutant_no_straggler_drain: false,
        }
    }

    /// A domain whose readers omit the full barrier after incrementing
    /// their counter: the mutant the loom SRCU test must catch.
    pub fn new_mutant_no_reader_barrier() -> Self {
        let mut s = Self::new();
        s.mutant_no_reader_barrier = true;
        s
    }

    /// A domain whose grace periods do not wait for readers that sampled
    /// the index just before the previous flip: the second mutant the loom
    /// SRCU tests must catch.
    pub fn new_mutant_no_straggler_drain() -> Self {
        let mut s = Self::new();
        s.mutant_no_straggler_drain = true;
        s
    }

    /// `srcu_read_lock`: returns the index to pass to `read_unlock`.
    pub fn read_lock(&self) -> usize {
        let idx = self.idx.load(Ordering::Relaxed) & 1;
        self.locks[idx].fetch_add(1, Ordering::Relaxed);
        if !self.mutant_no_reader_barrier {
            smp_mb(); // B: pairs with C in readers_drained
        }
        idx
    }

    /// `srcu_read_unlock`.
    pub fn read_unlock(&self, idx: usize) {
        smp_mb(); // C: critical section before the unlock count
        self.unlocks[idx & 1].fetch_add(1, Ordering::Relaxed);
    }

    /// Number of readers currently inside a read section (racy snapshot).
    pub fn readers(&self) -> usize {
        let l = self.locks[0].load(Ordering::Relaxed) + self.locks[1].load(Ordering::Relaxed);
        let u = self.unlocks[0].load(Ordering::Relaxed) + self.unlocks[1].load(Ordering::Relaxed);
        l.saturating_sub(u)
    }

    fn readers_drained(&self, idx: usize) -> bool {
        let u = self.unlocks[idx].load(Ordering::Relaxed);
        smp_mb(); // A: pairs with B
        let l = self.locks[idx].load(Ordering::Relaxed);
        // A reader counted in `l` but not `u` is still inside.
        l == u
    }

    fn wait_drained(&self, idx: usize) {
        while !self.readers_drained(idx) {
            cpu_relax();
        }
    }

    /// Non-blocking probe used by the sequential reference: would a grace
    /// period started now have to wait for anyone?
    pub fn would_block(&self) -> bool {
        !(self.readers_drained(0) && self.readers_drained(1))
    }

    /// `synchronize_srcu`: waits for every reader that entered before it
    /// started; readers that enter afterwards may run concurrently.
    pub fn synchronize(&self) {
        let _gp = lock(&self.gp);
        smp_mb();
        let cur = self.idx.load(Ordering::Relaxed) & 1;
        // Stragglers that sampled the other index before the last flip.
        if !self.mutant_no_straggler_drain {
            self.wait_drained(cur ^ 1);
        }
        self.idx.store(cur ^ 1, Ordering::Relaxed);
        smp_mb();
        self.wait_drained(cur);
        smp_mb();
    }
}
