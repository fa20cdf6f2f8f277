//! What an SRCU read-side pair costs natively on this machine in the
//! shapes being compared, timed as `bench run` times (fastest of 31
//! batches of ≥ 1 ms): the reference's `Srcu::read_lock` + `read_unlock`
//! (shared counters: a locked RMW and a `fence(SeqCst)` = `mfence` on
//! each side), the instruction shape of Linux 6.12's Tree SRCU on x86_64
//! SMP (`this_cpu_inc` = a plain increment of a per-CPU counter, and
//! `smp_mb()` = `lock addl $0,-4(%rsp)`, on each side: kernel/rcu/srcutree.c
//! `__srcu_read_lock` / `__srcu_read_unlock`, arch/x86/include/asm/barrier.h).
//! The Tree shape is a hand-written replica of the instruction sequence,
//! not kernel code: it says what the barriers cost natively, which UML
//! (uniprocessor, Tiny SRCU: no barrier; its pair is measured by `bench
//! run` as `srcu_read_pair`) cannot show and x86_64 under TCG cannot time.
//!
//!     cargo run --release -p mpath-benches --example srcu_shapes

use mpath_reference::srcu::Srcu;
use std::hint::black_box;
use std::time::Instant;

const BATCHES: usize = 31;
const TARGET_NS: u128 = 1_000_000;

/// Fastest of [`BATCHES`] batches of `f(iters)`, ns per operation, with
/// the batch calibrated as `bench run` does.
fn fastest(f: &mut dyn FnMut(u64)) -> f64 {
    let mut time = |n: u64| {
        let t = Instant::now();
        f(n);
        t.elapsed().as_nanos()
    };
    let mut iters = 16u64;
    while (0..3).map(|_| time(iters)).min().unwrap_or(0) < TARGET_NS {
        iters *= 2;
    }
    (0..BATCHES).map(|_| time(iters)).min().unwrap_or(0) as f64 / iters as f64
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn smp_mb_x86() {
    // Linux's x86_64 __smp_mb(): a locked no-op add on the stack.
    // SAFETY: adds 0 to the dword below the stack pointer (the red zone), changes nothing.
    unsafe { std::arch::asm!("lock add dword ptr [rsp - 4], 0") }
}

fn main() {
    let srcu = Srcu::new();
    let reference = fastest(&mut |n| {
        for _ in 0..n {
            let i = black_box(&srcu).read_lock();
            srcu.read_unlock(i);
        }
    });
    println!("reference Srcu read_lock+read_unlock (locked RMW + mfence, each side): {reference:.2} ns/op");
    #[cfg(target_arch = "x86_64")]
    {
        let mut percpu = [0u64; 2];
        let tree = fastest(&mut |n| {
            for _ in 0..n {
                let c = black_box(&mut percpu);
                // SAFETY: plain volatile accesses to a local array (a counter the compiler must not fold)
                unsafe {
                    std::ptr::write_volatile(&mut c[0], std::ptr::read_volatile(&c[0]) + 1);
                    smp_mb_x86();
                    smp_mb_x86();
                    std::ptr::write_volatile(&mut c[1], std::ptr::read_volatile(&c[1]) + 1);
                }
            }
        });
        println!("Tree SRCU shape, x86_64 SMP (per-CPU inc + lock addl, each side): {tree:.2} ns/op (reference / Tree shape {:.2})", reference / tree);
    }
}
