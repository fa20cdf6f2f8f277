//! loom: the SRCU domain (`srcu.rs`) under the C11 memory model.
//!
//! Run: `CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" cargo test -p mpath-reference --release --test loom_srcu`
//!
//! The property is the grace-period guarantee in its use-after-free form:
//! a writer unpublishes an object, calls `synchronize`, then frees it; a
//! reader that still sees the object published inside its read section
//! must never see it freed. (Either the reader began before the grace
//! period, which then waits for its exit, or it began after and, by the
//! barrier pairing B/A, sees the unpublish.) Every test is also run on a
//! mutant domain that loom must catch.

#![cfg(loom)]

mod loom_util;

use loom_util::{explore, explore_expect_failure};
use mpath_reference::srcu::Srcu;
use mpath_reference::sync::{thread, Arc, AtomicBool, Ordering};

/// One object: `published` is the RCU pointer (true = reachable), `freed`
/// the state of its memory.
struct Obj {
    published: AtomicBool,
    freed: AtomicBool,
}

impl Obj {
    fn new() -> Obj {
        Obj { published: AtomicBool::new(true), freed: AtomicBool::new(false) }
    }
    /// Reader side: a dereference inside a read section.
    fn read(&self, who: &str) {
        if self.published.load(Ordering::Relaxed) {
            assert!(!self.freed.load(Ordering::Relaxed), "{who}: object reached through the pointer is already freed");
        }
    }
    /// Writer side: `rcu_assign_pointer(p, NULL); synchronize_srcu(); kfree()`.
    fn retire(&self, srcu: &Srcu) {
        self.published.store(false, Ordering::Relaxed);
        srcu.synchronize();
        self.freed.store(true, Ordering::Relaxed);
    }
}

/// One reader, one writer, one grace period.
fn one_reader(srcu: fn() -> Srcu) {
    let s = Arc::new(srcu());
    let o = Arc::new(Obj::new());
    let (s2, o2) = (s.clone(), o.clone());
    let r = thread::spawn(move || {
        let idx = s2.read_lock();
        o2.read("reader");
        o2.read("reader (second dereference)");
        s2.read_unlock(idx);
    });
    o.retire(&s);
    r.join().unwrap();
    assert_eq!(s.readers(), 0, "a reader is still counted after every section ended");
}

#[test]
fn srcu_gp_waits_for_preexisting_reader() {
    explore("srcu_gp_waits_for_preexisting_reader", None, || one_reader(Srcu::new));
}

#[test]
fn srcu_mutant_no_reader_barrier_is_caught() {
    explore_expect_failure("srcu_mutant_no_reader_barrier", None, &["already freed"], || one_reader(Srcu::new_mutant_no_reader_barrier));
}

/// Two readers (each with one section) against one grace period.
fn two_readers(srcu: fn() -> Srcu) {
    let s = Arc::new(srcu());
    let o = Arc::new(Obj::new());
    let mut hs = Vec::new();
    for i in 0..2 {
        let (s2, o2) = (s.clone(), o.clone());
        hs.push(thread::spawn(move || {
            let idx = s2.read_lock();
            o2.read(if i == 0 { "reader 0" } else { "reader 1" });
            s2.read_unlock(idx);
        }));
    }
    o.retire(&s);
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(s.readers(), 0);
}

#[test]
fn srcu_two_readers_bounded() {
    explore("srcu_two_readers_bounded", Some(4), || two_readers(Srcu::new));
}

#[test]
fn srcu_two_readers_mutant_no_reader_barrier_is_caught() {
    explore_expect_failure("srcu_two_readers_mutant_no_reader_barrier", Some(4), &["already freed"], || two_readers(Srcu::new_mutant_no_reader_barrier));
}

/// Index flips: the writer runs two grace periods (objects A then B), the
/// reader one section that dereferences both. A reader that sampled the
/// index just before the first flip but counted itself afterwards (a
/// straggler on the old index) must still be waited for by the second
/// grace period, which flips back to that index.
fn index_flip(srcu: fn() -> Srcu) {
    let s = Arc::new(srcu());
    let a = Arc::new(Obj::new());
    let b = Arc::new(Obj::new());
    let (s2, a2, b2) = (s.clone(), a.clone(), b.clone());
    let r = thread::spawn(move || {
        let idx = s2.read_lock();
        a2.read("reader (object A)");
        b2.read("reader (object B)");
        s2.read_unlock(idx);
    });
    a.retire(&s);
    b.retire(&s);
    r.join().unwrap();
    assert_eq!(s.readers(), 0);
    // After two flips a third grace period with no reader returns at once
    // and both counters are balanced.
    s.synchronize();
    assert!(!s.would_block());
}

#[test]
fn srcu_index_flip_two_grace_periods() {
    explore("srcu_index_flip_two_grace_periods", None, || index_flip(Srcu::new));
}

#[test]
fn srcu_mutant_no_straggler_drain_is_caught() {
    explore_expect_failure("srcu_mutant_no_straggler_drain", None, &["already freed"], || index_flip(Srcu::new_mutant_no_straggler_drain));
}
