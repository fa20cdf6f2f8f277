//! The model state: plain fixed-size data (arrays of small integers and
//! bitsets), `Copy`, cheap to hash and compare.

use crate::step::NREG;
use std::fmt;

/// Path slots.
pub const MAXP: usize = 4;
/// Threads including the work-queue worker.
pub const MAXT: usize = 5;
/// NUMA nodes (`current_path[]` slots).
pub const MAXN: usize = 2;
/// Controllers / hosts.
pub const MAXC: usize = 4;
/// Call-stack depth.
pub const STACK: usize = 7;

/// `list_head` encoding: 0 is the list head, `p + 1` path `p`.
pub const LHEAD: u8 = 0;
pub const POISON: u8 = 255;

/// A path's `enum mpath_access_state` (`Optimized = 0`, `Nonoptimized`,
/// `Other`): the reference's `#[repr(u8)]` enum, one byte.
pub use mpath_reference::driver::AccessState;
/// NVMe ANA, SCSI device and ALUA states: the reference's `#[repr(u8)]`
/// enums. ANA and sdev have no 0 variant; the state keeps `None` (byte 0)
/// for "unset" (an unused slot; NVMe ANA before a descriptor), and the
/// assertions below prove `None` is that byte, so the bytes and
/// fingerprints are the former raw `u8`s'.
pub use mpath_reference::driver::{AluaState, AnaState, CtrlState, SdevState};
/// Path and head life, and the head gendisk (`head->disk`): the
/// reference's own `#[repr(u8)]` enums (`Unused = 0` .. `Freed = 4`;
/// `None = 0` .. `Freed = 3`), one byte each in the state, so its bytes
/// and fingerprints are what the former numbered constants gave.
pub use mpath_reference::head::{DiskState, Life};
/// The iopolicy: the reference's `#[repr(u8)]` enum (`Numa = 0`).
pub use mpath_reference::iopolicy::IoPolicy;

const _: () = {
    assert!(std::mem::size_of::<Option<AnaState>>() == 1 && std::mem::size_of::<Option<SdevState>>() == 1);
    // SAFETY: both are one initialised byte (asserted above).
    assert!(unsafe { std::mem::transmute::<Option<AnaState>, u8>(None) } == 0);
    // SAFETY: as above.
    assert!(unsafe { std::mem::transmute::<Option<SdevState>, u8>(None) } == 0);
};

/// The byte a state field stores for an optional state (0 = unset).
pub fn opt_byte<T: Into<u8>>(v: Option<T>) -> u8 {
    v.map(Into::into).unwrap_or(0)
}

/// A controller as the state keeps it, in one byte: `ctrl->state` in bits
/// 0..6 and `NVME_CTRL_FAILFAST_EXPIRED` in bit 7 (the byte the former
/// `ctrls: [u8; MAXC]` held, so bytes and fingerprints are unchanged). The
/// byte is private: only the accessors below write it, so its state bits
/// always name a `CtrlState`. Zero is `NEW`, failfast clear.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Ctrl(u8);

const FAILFAST: u8 = 0x80;

impl Ctrl {
    pub fn new(state: CtrlState, failfast_expired: bool) -> Ctrl {
        Ctrl(state as u8 | if failfast_expired { FAILFAST } else { 0 })
    }
    /// `ctrl->state`.
    pub fn state(self) -> CtrlState {
        CtrlState::from_u8(self.0 & !FAILFAST).unwrap_or(CtrlState::New)
    }
    /// `NVME_CTRL_FAILFAST_EXPIRED`.
    pub fn failfast_expired(self) -> bool {
        self.0 & FAILFAST != 0
    }
    pub fn set_state(&mut self, state: CtrlState) {
        self.0 = (self.0 & FAILFAST) | state as u8;
    }
    pub fn set_failfast_expired(&mut self, on: bool) {
        self.0 = (self.0 & !FAILFAST) | if on { FAILFAST } else { 0 };
    }
}

/// Path bit positions in [`PathState::bits`].
pub mod pbit {
    pub const LINK: u8 = 0;
    pub const READY: u8 = 1;
    pub const ANA_PENDING: u8 = 2;
    pub const REMOVING: u8 = 3;
    pub const DISK_ADDED: u8 = 4;
    pub const ON_CTRL: u8 = 5;
    pub const HAS_DISK: u8 = 6;
}

/// Head bit positions in [`State::head_bits`].
pub mod hbit {
    pub const DISK_LIVE: u8 = 0;
    pub const QUEUE_IF_NO_PATH: u8 = 1;
    pub const GD_ADDED: u8 = 2;
    pub const SUPPRESS_PART_SCAN: u8 = 3;
    pub const CDEV_LIVE: u8 = 4;
    /// NVMe: the head is off `subsys->nsheads` (`Bit::HeadUnlisted`).
    pub const UNLISTED: u8 = 5;
}

/// Event violations recorded by the interpreter ([`State::viol`] bits).
pub mod vbit {
    pub const UAF_PATH: u16 = 1 << 0;
    pub const UAF_HEAD: u16 = 1 << 1;
    pub const NULL_DISK: u16 = 1 << 2;
    pub const JUNK: u16 = 1 << 3;
    pub const DUP_LINK: u16 = 1 << 4;
    pub const NONTERM: u16 = 1 << 5;
    pub const UNLINKED_RET: u16 = 1 << 6;
    pub const DISABLED_RET: u16 = 1 << 7;
    pub const QUALITY: u16 = 1 << 8;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct PathState {
    pub life: Life,
    pub bits: u8,
    /// NVMe ANA state (`None`: no descriptor yet, or not NVMe).
    pub ana: Option<AnaState>,
    /// `enum mpath_access_state`.
    pub access: AccessState,
    /// SCSI device state (`None` in an unused slot).
    pub sdev: Option<SdevState>,
    /// SCSI ALUA state.
    pub alua: AluaState,
    pub ctrl: u8,
    pub numa: i8,
    /// Capacity class (0 = zero sectors).
    pub cap: u8,
    pub next: u8,
    pub prev: u8,
    /// Requests in flight on the path's queue (submitted to it and not yet
    /// ended; saturating at 7). Only revisions that use the request
    /// builtins (`machine::Builtin`) change it.
    pub inflight: u8,
    /// Which of those requests were counted in `ctrl->nr_active` at start
    /// (`NVME_MPATH_CNT_ACTIVE`), oldest first: bit 0 is the oldest.
    pub counted: u8,
    /// How many of them (the oldest) a thread is completing (between its
    /// `blk_mq_complete_request` and its `nvme_end_req`).
    pub claimed: u8,
}

impl Default for PathState {
    /// An unused slot: every field zero.
    fn default() -> PathState {
        PathState {
            life: Life::Unused,
            bits: 0,
            ana: None,
            access: AccessState::Optimized,
            sdev: None,
            alua: AluaState::Optimal,
            ctrl: 0,
            numa: 0,
            cap: 0,
            next: 0,
            prev: 0,
            inflight: 0,
            counted: 0,
            claimed: 0,
        }
    }
}

impl PathState {
    pub fn bit(&self, b: u8) -> bool {
        self.bits & (1 << b) != 0
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(C)]
pub struct Frame {
    pub func: u8,
    pub pc: u8,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(C)]
pub struct Thread {
    pub regs: [u8; NREG],
    pub stack: [Frame; STACK],
    pub depth: u8,
    /// Operations completed.
    pub ops_done: u8,
    /// `head->srcu` / `ctrl->srcu` read-section nesting.
    pub srcu: u8,
    pub ctrl_srcu: u8,
    /// Readers this thread's grace period still waits for (bit per thread).
    pub wait: u8,
    pub wait_ctrl: u8,
    /// Spinning for ever (a selection loop exceeded its bound).
    pub stuck: bool,
    /// Inside `mpath_find_path` (nesting).
    pub in_find: u8,
    /// Another thread changed selection state during this find_path.
    pub disturbed: bool,
    /// Paths last read (within this find_path) while disabled / unlinked.
    pub seen_disabled: u8,
    pub seen_unlinked: u8,
    /// `ret` of the last completed operation (only when the machine's
    /// `record_ret` is set, as in the reference cross-check).
    pub last_ret: u8,
    /// Symmetry group: the index of the first thread running the same
    /// operations with the same arguments (constant).
    pub group: u8,
    /// Holds a reference on the head disk's queue (`bio_queue_enter` ..
    /// `blk_queue_exit`, the `q_usage_counter` a freeze waits for).
    pub q_ref: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct State {
    pub paths: [PathState; MAXP],
    /// Per controller: its state and failfast flag ([`Ctrl`], one byte).
    pub ctrls: [Ctrl; MAXC],
    pub head_next: u8,
    pub head_prev: u8,
    pub cp: [u8; MAXN],
    pub head_bits: u8,
    pub head_life: Life,
    pub head_ref: i8,
    pub head_cap: u8,
    pub disk: DiskState,
    /// Existing `multipath/<path>` links (bit per path).
    pub links: u8,
    /// Bios on the requeue list (saturating at 7).
    pub requeue: u8,
    /// Pending works (`WorkKind::bit`).
    pub pending: u8,
    /// Mutex owners (thread + 1, 0 = free): head->lock, subsys->lock.
    pub mutex: [u8; 2],
    pub iopolicy: IoPolicy,
    /// `ctrl->nr_active` per controller (the queue-depth selector's depth;
    /// a negative count is stored as 254, -1 as 255).
    pub nr_active: [u8; MAXC],
    /// `mq_freeze_depth` of the head disk's queue.
    pub q_freeze: u8,
    /// The delayed removal's timer (`remove_work`'s, armed by
    /// `mod_delayed_work`): 0 = not armed, else the seconds left (>= 1;
    /// 255 = beyond the model's clock, never expires). Only a machine with
    /// a clock (`Machine::clocked`) arms it; the others queue the work at
    /// once. Added for `advance_time` (issue 13).
    pub timer: u8,
    /// `head->delayed_removal_secs` (saturating at 255): the delay the
    /// timer is armed with.
    pub removal_secs: u8,
    pub viol: u16,
    pub threads: [Thread; MAXT],
}

/// Bytes of [`State`] when it has no padding: every field is a byte (or an
/// array of bytes), except `viol` (a `u16` at an even offset). The checker
/// fingerprints a state by hashing these bytes ([`State::fingerprint`]);
/// the assertion below fails to compile when a field added to `State`,
/// `Thread`, `PathState` or `Frame` introduces padding (then reorder the
/// fields or update the sum).
pub const STATE_BYTES: usize = MAXP * 14 + MAXC + 9 + 3 + 2 + 1 + MAXC + 1 + 2 + 2 + MAXT * (NREG + 2 * STACK + 14);
const _: () = assert!(
    std::mem::size_of::<State>() == STATE_BYTES && std::mem::size_of::<PathState>() == 14 && std::mem::size_of::<Thread>() == NREG + 2 * STACK + 14,
    "State has padding (or a field was added): update STATE_BYTES, see State::as_bytes"
);

impl State {
    /// The state's bytes (no padding: see [`STATE_BYTES`]).
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: State is repr(C), every field is an initialised integer,
        // bool or one-byte `#[repr(u8)]` enum, and the assertion above proves there are no padding bytes,
        // so all size_of::<State>() bytes are initialised.
        unsafe { std::slice::from_raw_parts(self as *const State as *const u8, std::mem::size_of::<State>()) }
    }

    /// A 128-bit fingerprint of the state: two independent 64-bit hashes
    /// of its bytes (wyhash-style folded multiplies, fixed constants). The
    /// checker's visited set keeps fingerprints instead of states; with n
    /// states the chance that any two distinct states share one is below
    /// n^2 / 2^112 (the low 16 bits carry the search level), e.g. 5e-19
    /// for 50 million states.
    pub fn fingerprint(&self) -> u128 {
        #[inline(always)]
        fn mix(a: u64, b: u64) -> u64 {
            let r = (a as u128).wrapping_mul(b as u128);
            (r as u64) ^ ((r >> 64) as u64)
        }
        const K: [u64; 6] =
            [0xa076_1d64_78bd_642f, 0xe703_7ed1_a0b4_28db, 0x8ebc_6af0_9c88_c6e3, 0x5899_65cc_7537_4cc3, 0x1d8e_4e27_c47d_124f, 0x9e37_79b9_7f4a_7c15];
        let b = self.as_bytes();
        let (mut h1, mut h2) = (K[4], K[5]);
        let mut chunks = b.chunks_exact(16);
        for c in &mut chunks {
            let w0 = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
            let w1 = u64::from_le_bytes(c[8..].try_into().unwrap_or_default());
            h1 = mix(w0 ^ K[0] ^ h1, w1 ^ K[1]);
            h2 = mix(w0 ^ K[2], w1 ^ K[3] ^ h2);
        }
        let mut tail = [0u8; 16];
        tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        let w0 = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
        let w1 = u64::from_le_bytes(tail[8..].try_into().unwrap_or_default());
        h1 = mix(w0 ^ K[0] ^ h1, w1 ^ K[1]);
        h2 = mix(w0 ^ K[2], w1 ^ K[3] ^ h2);
        h1 = mix(h1 ^ K[5], (b.len() as u64) ^ K[2]);
        h2 = mix(h2 ^ K[4], (b.len() as u64) ^ K[0]);
        ((h1 as u128) << 64) | h2 as u128
    }

    pub fn hbit(&self, b: u8) -> bool {
        self.head_bits & (1 << b) != 0
    }
    /// Path ids reachable from the list head, in order (bounded).
    pub fn list(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut p = self.head_next;
        while p != LHEAD && p != POISON && out.len() <= MAXP {
            out.push(p - 1);
            p = self.paths[(p - 1) as usize].next;
        }
        out
    }
}

fn ptr(v: u8) -> String {
    match v {
        0 => "NULL".into(),
        crate::step::JUNK => "JUNK".into(),
        v => format!("P{}", v - 1),
    }
}

impl fmt::Debug for State {
    /// A readable one-screen rendering (used by the Explorer).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dev_list: {:?}", self.list().iter().map(|p| format!("P{p}")).collect::<Vec<_>>())?;
        writeln!(f, "current_path: {:?}", self.cp.iter().map(|&v| ptr(v)).collect::<Vec<_>>())?;
        writeln!(
            f,
            "head: bits={:05b} (cdev,scan,gd_added,qifnp,live) life={} ref={} disk={} links={:04b} requeue={} pending={:03b} mutex={:?} iopolicy={} viol={:09b}",
            self.head_bits, self.head_life as u8, self.head_ref, self.disk as u8, self.links, self.requeue, self.pending, self.mutex, self.iopolicy as u8, self.viol
        )?;
        if self.timer != 0 {
            writeln!(f, "remove_work timer: {} s left (delayed_removal_secs {})", self.timer, self.removal_secs)?;
        }
        if self.q_freeze != 0 || self.nr_active.iter().any(|&n| n != 0) {
            writeln!(f, "head queue: freeze_depth={} nr_active={:?}", self.q_freeze, self.nr_active)?;
        }
        for (i, p) in self.paths.iter().enumerate() {
            if p.life != Life::Unused {
                writeln!(
                    f,
                    "P{i}: life={} bits={:07b} (disk,onctrl,added,removing,anapend,ready,link) ana={} access={} sdev={} alua={} ctrl={} next={} prev={}",
                    p.life as u8,
                    p.bits,
                    opt_byte(p.ana),
                    p.access as u8,
                    opt_byte(p.sdev),
                    p.alua as u8,
                    p.ctrl,
                    p.next,
                    p.prev
                )?;
                if p.inflight != 0 {
                    writeln!(f, "P{i}: requests in flight={} counted={:b} being completed={}", p.inflight, p.counted, p.claimed)?;
                }
            }
        }
        for (i, t) in self.threads.iter().enumerate() {
            if t.depth > 0 || t.ops_done > 0 {
                writeln!(
                    f,
                    "T{i}: ops_done={} stack={:?} srcu={} wait={:b} stuck={} regs={:?}{}",
                    t.ops_done,
                    &t.stack[..t.depth as usize].iter().map(|fr| (fr.func, fr.pc)).collect::<Vec<_>>(),
                    t.srcu,
                    t.wait,
                    t.stuck,
                    t.regs,
                    if t.q_ref { " q_ref" } else { "" }
                )?;
            }
        }
        Ok(())
    }
}

impl State {
    /// A canonical member of this state's symmetry class under permutations
    /// of threads in the same group (identical operation lists). Sound
    /// because no property depends on thread identity; `wait` bitsets and
    /// mutex owners are renumbered with the threads.
    pub fn canonical(&self) -> State {
        let mut perm: [usize; MAXT] = [0, 1, 2, 3, 4];
        let mut changed = false;
        for g in 0..MAXT {
            let members: Vec<usize> = (0..MAXT).filter(|&t| self.threads[t].group as usize == g).collect();
            if members.len() < 2 || members[0] != g {
                continue;
            }
            let mut sorted = members.clone();
            sorted.sort_by(|&a, &b| {
                let (mut x, mut y) = (self.threads[a], self.threads[b]);
                x.wait = 0;
                x.wait_ctrl = 0;
                y.wait = 0;
                y.wait_ctrl = 0;
                x.cmp(&y).then(a.cmp(&b))
            });
            for (slot, &old) in members.iter().zip(sorted.iter()) {
                if perm[*slot] != old {
                    changed = true;
                }
                perm[*slot] = old;
            }
        }
        if !changed {
            return *self;
        }
        let mut inv = [0usize; MAXT];
        for (new, &old) in perm.iter().enumerate() {
            inv[old] = new;
        }
        let remap = |bits: u8| -> u8 {
            let mut out = 0u8;
            for (old, &new) in inv.iter().enumerate() {
                if bits & (1 << old) != 0 {
                    out |= 1 << new;
                }
            }
            out
        };
        let mut r = *self;
        for (slot, &old) in r.threads.iter_mut().zip(perm.iter()) {
            let mut th = self.threads[old];
            th.wait = remap(th.wait);
            th.wait_ctrl = remap(th.wait_ctrl);
            *slot = th;
        }
        for m in r.mutex.iter_mut() {
            if *m != 0 {
                *m = inv[*m as usize - 1] as u8 + 1;
            }
        }
        r
    }
}

impl stateright::Representative for State {
    fn representative(&self) -> Self {
        self.canonical()
    }
}
