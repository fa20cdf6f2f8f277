//! Partial-order reduction: in a state where the next step of one thread
//! commutes with everything the other threads (and the worker) can still
//! do, and changes nothing the non-monotone properties read, the checker
//! explores only that step (a singleton *ample set*) instead of every
//! interleaving.
//!
//! Footprints: every shared step reads and writes classes of shared
//! objects ([`class`]; statically, from the step kind and its operand
//! bits). A thread's *future* footprint is the union of the footprints of
//! every function on its call stack and of every operation it has not
//! started (callees included, transitively); the worker's is that of the
//! works that are pending or that some future step may queue. The
//! candidate step `a` of thread `t` (the step `Run(t)` executes, with the
//! local steps after it) is taken alone when
//!
//! * C1 (independence): no other thread's future footprint writes a class
//!   `a` reads or touches a class `a` writes (writes to `viol` are ORs
//!   and commute; SRCU counters are per thread); so every other step
//!   commutes with `a` and neither enables nor disables the other;
//! * visibility: `a` writes none of path life, `current_path[]`, the
//!   list and the sysfs links (the state properties that are not
//!   monotone: `no_stale_path_after_removal`, `no_link_for_removed_path`,
//!   read only those);
//! * proviso: its successor is new at the next BFS level (is not in the
//!   visited set from an earlier level; DFS: is discovered by this very
//!   step), so every cycle of the explored graph has a fully expanded
//!   state (reduced steps strictly increase the BFS level; DFS discovery
//!   edges form a forest).
//!
//! Why verdicts are unchanged (README-model.md, "Partial-order
//! reduction"): every interpreter-recorded violation is a sticky bit
//! (monotone), the at-rest properties and `no_deadlock` are predicates of
//! terminal states, and the two remaining state properties read only
//! invisible-to-`a` classes; with C1 and the proviso, for every path from
//! an explored state `s` to a state `s'` there is an explored state `s''`
//! reached from `s'` by steps that are independent of the path and
//! invisible, so `s''` keeps `s'`'s violations (and `s'' = s'` when `s'` is
//! terminal).
//!
//! Data properties of mode `always` / `after` can read anything: the
//! checker does not reduce when a check has any (at_rest / at_end ones are
//! terminal-state predicates and keep it on).

use crate::machine::{Action, Machine};
use crate::state::State;
use crate::step::{Bit, CStep, Pred, Step, WorkKind};

/// Classes of shared objects (bits of a footprint mask).
pub mod class {
    /// SRCU read-side counters (`head->srcu`): a thread's own counter;
    /// written by lock/unlock, read by `synchronize`.
    pub const SRCU_CNT: u64 = 1 << 0;
    /// Grace-period wait bits (`synchronize` writes its own, an unlock
    /// clears the others'; a waiting thread's enabledness reads them).
    pub const SRCU_WAIT: u64 = 1 << 1;
    pub const CSRCU_CNT: u64 = 1 << 2;
    pub const CSRCU_WAIT: u64 = 1 << 3;
    pub const MUTEX_HEAD: u64 = 1 << 4;
    pub const MUTEX_SUBSYS: u64 = 1 << 5;
    /// `dev_list` links (head and path next/prev).
    pub const LIST: u64 = 1 << 6;
    /// Path life (allocated, linked, unlinked, freed): every path access
    /// reads it (use-after-free detection).
    pub const LIFE: u64 = 1 << 7;
    /// Path bits: `PBIT << pbit` (7 bits).
    pub const PBIT: u64 = 1 << 8;
    /// Head bits: `HBIT << hbit` (6 bits).
    pub const HBIT: u64 = 1 << 16;
    /// ANA and access state.
    pub const ANA: u64 = 1 << 22;
    /// SCSI sdev / ALUA state.
    pub const SDEV: u64 = 1 << 23;
    pub const CTRL: u64 = 1 << 24;
    /// Path and head capacity.
    pub const CAP: u64 = 1 << 25;
    pub const CP: u64 = 1 << 26;
    pub const LINKS: u64 = 1 << 27;
    pub const PENDING: u64 = 1 << 28;
    pub const REQUEUE: u64 = 1 << 29;
    pub const HEAD_LIFE: u64 = 1 << 30;
    pub const HEAD_REF: u64 = 1 << 31;
    pub const DISK: u64 = 1 << 32;
    pub const IOPOLICY: u64 = 1 << 33;
    /// Requests in flight, `nr_active`, the head queue's freeze and
    /// references (only the request builtins touch them).
    pub const REQUESTS: u64 = 1 << 34;
    /// The `disturbed` flags of threads inside `mpath_find_path`: set by
    /// every step that changes selection state, reset when a thread
    /// enters it, read at its return.
    pub const SEL: u64 = 1 << 35;
    pub const ALL: u64 = (1 << 36) - 1;
    /// Classes whose concurrent writes commute (per-thread counters).
    pub const COMMUTING_WRITES: u64 = SRCU_CNT | SRCU_WAIT | CSRCU_CNT | CSRCU_WAIT;
    /// What the driver predicates (is_disabled, is_optimized, available)
    /// and the find_path instrumentation read of a path.
    pub const PATHPRED: u64 = LIFE | (PBIT << crate::state::pbit::READY) | (PBIT << crate::state::pbit::ANA_PENDING) | ANA | SDEV | CTRL;
    /// Classes the non-monotone state properties read.
    pub const VISIBLE: u64 = LIFE | CP | LIST | LINKS;
}

use class::*;

/// A footprint: classes read and written, and the works a step may queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fp {
    pub r: u64,
    pub w: u64,
    pub queues: u8,
}

impl Fp {
    const fn new(r: u64, w: u64) -> Fp {
        Fp { r, w, queues: 0 }
    }
    fn all() -> Fp {
        Fp { r: ALL, w: ALL, queues: 0x7 }
    }
    fn union(self, o: Fp) -> Fp {
        Fp { r: self.r | o.r, w: self.w | o.w, queues: self.queues | o.queues }
    }
    /// Do two footprints conflict (some step of each does not commute)?
    pub fn conflicts(self, o: Fp) -> bool {
        self.w & o.r != 0 || self.r & o.w != 0 || self.w & o.w & !COMMUTING_WRITES != 0
    }
}

fn bit_class(b: Bit) -> u64 {
    use crate::state::{hbit, pbit};
    match b {
        Bit::Link => PBIT << pbit::LINK,
        Bit::Ready => PBIT << pbit::READY,
        Bit::AnaPending => PBIT << pbit::ANA_PENDING,
        Bit::Removing => PBIT << pbit::REMOVING,
        Bit::DiskAdded => PBIT << pbit::DISK_ADDED,
        Bit::OnCtrl => PBIT << pbit::ON_CTRL,
        Bit::HasDisk => PBIT << pbit::HAS_DISK,
        Bit::DiskLive => HBIT << hbit::DISK_LIVE,
        Bit::QueueIfNoPath => HBIT << hbit::QUEUE_IF_NO_PATH,
        Bit::GdAdded => HBIT << hbit::GD_ADDED,
        Bit::SuppressPartScan => HBIT << hbit::SUPPRESS_PART_SCAN,
        Bit::CdevLive => HBIT << hbit::CDEV_LIVE,
        Bit::HeadUnlisted => HBIT << hbit::UNLISTED,
    }
}

/// The footprint of one shared step (as `Machine::exec` runs it; its
/// enabledness reads included). Steps this table does not know conflict
/// with everything.
pub fn step_fp(step: &Step) -> Fp {
    let sel_bit = |b: Bit| if matches!(b, Bit::Ready | Bit::AnaPending | Bit::HasDisk) { SEL } else { 0 };
    let touch = |b: Bit| if b.is_path_bit() && b != Bit::OnCtrl { LIFE } else { 0 };
    match step {
        Step::SrcuLock => Fp::new(0, SRCU_CNT),
        Step::SrcuUnlock => Fp::new(0, SRCU_CNT | SRCU_WAIT),
        Step::Synchronize => Fp::new(SRCU_CNT | SRCU_WAIT | HEAD_LIFE, SRCU_WAIT),
        Step::CtrlSrcuLock => Fp::new(0, CSRCU_CNT),
        Step::CtrlSrcuUnlock => Fp::new(0, CSRCU_CNT | CSRCU_WAIT),
        Step::CtrlSynchronize => Fp::new(CSRCU_CNT | CSRCU_WAIT, CSRCU_WAIT),
        Step::Lock { m } | Step::Unlock { m } => {
            let c = match m {
                crate::step::Mutex::Head => MUTEX_HEAD,
                crate::step::Mutex::Subsys => MUTEX_SUBSYS,
            };
            Fp::new(c, c)
        }
        Step::ListAddTail { .. } | Step::ListDel { .. } => Fp::new(LIST | LIFE, LIST | LIFE | SEL),
        Step::ListFirst { .. } | Step::ListEmpty { .. } | Step::ListSingular { .. } => Fp::new(LIST, 0),
        Step::ListNext { .. } | Step::NextDev { .. } => Fp::new(LIST | LIFE, 0),
        Step::CpLoad { .. } => Fp::new(CP, 0),
        Step::CpStore { .. } | Step::CpClearAll => Fp::new(0, CP | SEL),
        Step::CpClearMatching { .. } => Fp::new(CP, CP | SEL),
        Step::TestBit { bit, .. } => Fp::new(bit_class(*bit) | touch(*bit), 0),
        Step::SetBit { bit, .. } | Step::ClearBit { bit, .. } => Fp::new(touch(*bit), bit_class(*bit) | sel_bit(*bit)),
        Step::TestAndSetBit { bit, .. } | Step::TestAndClearBit { bit, .. } => Fp::new(bit_class(*bit) | touch(*bit), bit_class(*bit) | sel_bit(*bit)),
        // The path's controller index and the head's delayed_removal_secs
        // (issue 13's thread operations) have no class of their own: a
        // step reading them conflicts with everything (sound, no reduction).
        Step::Load { what: Pred::CtrlIndex | Pred::RemovalSecs, .. } => Fp::all(),
        Step::Load { what, .. } => Fp::new(
            match what {
                Pred::IsDisabled | Pred::IsOptimized | Pred::IsAvailable => PATHPRED,
                Pred::Access => PATHPRED | ANA,
                Pred::CtrlLive => LIFE | CTRL,
                Pred::CapacityMismatch => LIFE | CAP,
                Pred::HasHeadDisk => DISK,
                Pred::RefCount => HEAD_REF,
                Pred::Iopolicy => IOPOLICY,
                Pred::IsCtrlIoctl => 0,
                Pred::CtrlIndex | Pred::RemovalSecs => unreachable!("matched above"),
            },
            0,
        ),
        Step::Consider { .. } => Fp::new(PATHPRED | IOPOLICY | REQUESTS, 0),
        Step::DerefHeadDisk => Fp::new(DISK, 0),
        Step::DeviceAddDisk { .. } => Fp::new(DISK, HBIT << crate::state::hbit::GD_ADDED),
        Step::DelGendisk => Fp::new(HEAD_LIFE, HBIT << crate::state::hbit::GD_ADDED),
        Step::AddCdev | Step::DelCdev => Fp::new(0, HBIT << crate::state::hbit::CDEV_LIVE),
        Step::DerefPath { .. } | Step::IoctlBegin { .. } => Fp::new(LIFE, 0),
        Step::UsePathDisk { .. } => Fp::new(LIFE | (PBIT << crate::state::pbit::HAS_DISK), 0),
        Step::SetCapacity { .. } => Fp::new(LIFE, CAP),
        Step::HeadTakeCapacity { .. } => Fp::new(LIFE | CAP, CAP),
        Step::SetAna { .. } => Fp::new(LIFE, ANA | SEL),
        Step::SetIopolicy { .. } => Fp::new(0, IOPOLICY | SEL),
        Step::ClearDisk { .. } => Fp::new(LIFE, (PBIT << crate::state::pbit::HAS_DISK) | SEL),
        Step::SetSdevState { .. } => Fp::new(LIFE, SDEV | SEL),
        Step::LinkCreate { .. } => Fp::new(LIFE | LINKS, LINKS),
        Step::LinkRemove { .. } => Fp::new(LIFE, LINKS),
        Step::QueueWork { w } => Fp { r: 0, w: PENDING, queues: w.bit() },
        Step::CancelWork { .. } => Fp::new(PENDING, PENDING),
        Step::RequeueAdd | Step::RequeueTake { .. } => Fp::new(REQUEUE, REQUEUE),
        Step::RefDecAndTest { .. } => Fp::new(HEAD_LIFE | HEAD_REF, HEAD_REF),
        Step::WaitRefZero => Fp::new(HEAD_REF, 0),
        Step::HeadCleanup => Fp::new(HEAD_LIFE, 0),
        Step::FreeHead => Fp::new(HEAD_LIFE, HEAD_LIFE),
        Step::FreePath { .. } => Fp::new(LIFE, LIFE | SEL),
        Step::BioFail | Step::WakeUpVar | Step::IoctlFinish | Step::Yield => Fp::new(0, 0),
        s if s.is_local() => Fp::new(0, 0),
        #[allow(unreachable_patterns)]
        _ => Fp::all(),
    }
}

/// Per-revision-and-scenario tables.
pub struct Por {
    /// Footprint of each function with its callees (whole body).
    func: Vec<Fp>,
    /// Per scenario thread: footprint of its operations `k..` (`ops[t][k]`).
    ops: Vec<Vec<Fp>>,
    /// Per work kind: the work function's footprint (and PENDING).
    works: Vec<Option<Fp>>,
    /// Some function can run from entry to return without a shared step
    /// and is (or calls) find_path: every step may then enter and leave
    /// find_path in its local continuation.
    find_local: bool,
}

impl Por {
    pub fn new(m: &Machine) -> Por {
        let prog = &m.program;
        let n = prog.funcs.len();
        let mut own: Vec<Fp> = Vec::with_capacity(n);
        let mut callees: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (f, func) in prog.funcs.iter().enumerate() {
            let mut fp = Fp::default();
            if m.builtin(f as u8).is_some() {
                fp = Fp::all();
            }
            for st in &func.steps {
                match st {
                    CStep::Plain(s) => fp = fp.union(step_fp(s)),
                    CStep::Call(g) => callees[f].push(*g as usize),
                    _ => {}
                }
            }
            if Some(f as u8) == m.find_path_fn {
                fp = fp.union(Fp::new(PATHPRED | SEL, 0));
            }
            own.push(fp);
        }
        // Transitive closure over calls (fixpoint).
        let mut func = own.clone();
        loop {
            let mut changed = false;
            for f in 0..n {
                let mut u = func[f];
                for &g in &callees[f] {
                    u = u.union(func[g]);
                }
                if u != func[f] {
                    func[f] = u;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // Does find_path (or a function calling it) complete without a
        // shared step on some path? Conservative: a function "may be local"
        // unless every path from its entry meets a shared step.
        let may_local = may_complete_locally(m);
        let calls_find = |f: usize| -> bool {
            let Some(fp) = m.find_path_fn else { return false };
            let mut seen = vec![false; n];
            let mut st = vec![f];
            while let Some(x) = st.pop() {
                if x == fp as usize {
                    return true;
                }
                if std::mem::replace(&mut seen[x], true) {
                    continue;
                }
                st.extend(callees[x].iter().copied());
            }
            false
        };
        let find_local = (0..n).any(|f| may_local[f] && calls_find(f));
        let ops = m
            .threads
            .iter()
            .map(|tp| {
                let mut v = vec![Fp::default(); tp.ops.len() + 1];
                for k in (0..tp.ops.len()).rev() {
                    v[k] = v[k + 1].union(func[tp.ops[k].func as usize]);
                }
                v
            })
            .collect();
        let works = WorkKind::ALL.iter().map(|w| prog.func(w.function()).map(|f| func[f as usize].union(Fp::new(PENDING, PENDING)))).collect();
        Por { func, ops, works, find_local }
    }

    /// The future footprint of thread `u` in `s` (`instr`: the find_path
    /// instrumentation is live, see [`Por::ample`]).
    fn future(&self, m: &Machine, s: &State, u: usize, instr: bool) -> Fp {
        let th = &s.threads[u];
        if th.stuck {
            return Fp::default();
        }
        let mut fp = Fp::default();
        for fr in &th.stack[..th.depth as usize] {
            fp = fp.union(self.func.get(fr.func as usize).copied().unwrap_or_else(Fp::all));
        }
        if u != m.worker {
            if let Some(v) = self.ops.get(u) {
                fp = fp.union(v.get(th.ops_done as usize).copied().unwrap_or_default());
            }
        }
        if th.wait != 0 {
            fp.r |= SRCU_CNT | SRCU_WAIT;
        }
        if th.wait_ctrl != 0 {
            fp.r |= CSRCU_CNT | CSRCU_WAIT;
        }
        if th.in_find > 0 && instr {
            fp.r |= SEL | PATHPRED;
        }
        if !instr {
            fp.r &= !SEL;
            fp.w &= !SEL;
        }
        fp
    }

    /// The worker's future: its current work and every work that is
    /// pending or may be queued by `queues` (or by those works).
    fn worker_future(&self, m: &Machine, s: &State, queues: u8, instr: bool) -> Fp {
        let mut fp = self.future(m, s, m.worker, instr);
        let mut q = s.pending | queues | fp.queues;
        let mut done = 0u8;
        while q & !done != 0 {
            let i = (q & !done).trailing_zeros() as usize;
            done |= 1 << i;
            if let Some(Some(w)) = self.works.get(i) {
                fp = fp.union(*w);
                q |= w.queues;
            }
        }
        if !instr {
            fp.r &= !SEL;
            fp.w &= !SEL;
        }
        fp
    }

    /// A singleton ample set of `s`, if one exists: the first thread (in
    /// action order) whose step satisfies C1 and visibility and whose
    /// successor `probe` accepts (`Some(new)`: the proviso holds, `new` =
    /// it was just added to the visited set). Returns the action, the
    /// successor and `new`.
    ///
    /// `instr`: the find_path instrumentation (`disturbed`, `seen_*`, the
    /// checks at find_path's return) still serves an open property. When
    /// all three find_path properties are decided, the dead-state
    /// canonicalisation ([`crate::canon`]) zeroes that bookkeeping, so in
    /// the model the search then explores it does not exist: the `SEL`
    /// class and find_path's return reads are dropped from footprints.
    pub fn ample(
        &self,
        m: &Machine,
        s: &State,
        actions: &[Action],
        instr: bool,
        mut probe: impl FnMut(&State) -> Option<bool>,
    ) -> Option<(Action, State, bool)> {
        let nthreads = m.worker + 1;
        let mut fut = [Fp::default(); crate::state::MAXT];
        let mut queues = 0u8;
        for (u, f) in fut.iter_mut().enumerate().take(nthreads) {
            if u != m.worker {
                *f = self.future(m, s, u, instr);
                queues |= f.queues;
            }
        }
        let wq = queues;
        for &a in actions {
            let Action::Run(t) = a else { continue };
            let t = t as usize;
            let Some(n) = stateright::Model::next_state(m, s, a) else { continue };
            let Some(fa) = self.candidate(m, s, &n, t, instr) else { continue };
            if fa.w & VISIBLE != 0 {
                continue;
            }
            // The worker's future includes works the others (or t's later
            // steps) may queue.
            let mut ok = true;
            for (u, &fut_u) in fut.iter().enumerate().take(nthreads) {
                if u == t {
                    continue;
                }
                let fu = if u == m.worker { self.worker_future(m, s, wq | fa.queues, instr) } else { fut_u };
                if fa.conflicts(fu) {
                    ok = false;
                    break;
                }
            }
            if !ok {
                continue;
            }
            if let Some(new) = probe(&n) {
                return Some((a, n, new));
            }
        }
        None
    }

    /// The footprint of what `Run(t)` executes in `s` (the step it runs,
    /// after starting the next operation when `t` is idle).
    fn candidate(&self, m: &Machine, s: &State, n: &State, t: usize, instr: bool) -> Option<Fp> {
        let mut pre = *s;
        if pre.threads[t].depth == 0 && !m.begin_op(&mut pre, t) {
            return None;
        }
        let mut fp = Fp::default();
        if let Some((f, pc)) = m.resting(&pre, t) {
            if m.builtin(f).is_some() {
                return None;
            }
            match m.step_at(f, pc) {
                Some(CStep::Plain(st)) => fp = step_fp(st),
                _ => return None,
            }
        }
        // Inside find_path before or after the step (its return reads the
        // paths and `disturbed`; entering it resets `disturbed`), or
        // possibly entering and leaving it in the local steps after it.
        if instr && (self.find_local || pre.threads[t].in_find > 0 || n.threads[t].in_find > 0) {
            fp.r |= SEL | PATHPRED;
        }
        if fp.w == ALL {
            return None;
        }
        if !instr {
            fp.r &= !SEL;
            fp.w &= !SEL;
        }
        Some(fp)
    }
}

/// Per function: may it return without executing a shared step?
fn may_complete_locally(m: &Machine) -> Vec<bool> {
    let prog = &m.program;
    let n = prog.funcs.len();
    let mut local = vec![false; n];
    loop {
        let mut changed = false;
        for f in 0..n {
            if local[f] || m.builtin(f as u8).is_some() {
                continue;
            }
            let steps = &prog.funcs[f].steps;
            let mut seen = vec![false; steps.len() + 1];
            let mut st = vec![0usize];
            let mut reach_end = false;
            while let Some(pc) = st.pop() {
                if pc >= steps.len() {
                    reach_end = true;
                    break;
                }
                if std::mem::replace(&mut seen[pc], true) {
                    continue;
                }
                match &steps[pc] {
                    CStep::Goto(to) => st.push(*to as usize),
                    CStep::IfZero(_, to) | CStep::IfNonZero(_, to) | CStep::IfEq(_, _, to) | CStep::IfNe(_, _, to) | CStep::IfLt(_, _, to) => {
                        st.push(*to as usize);
                        st.push(pc + 1);
                    }
                    CStep::Call(g) => {
                        if local[*g as usize] {
                            st.push(pc + 1);
                        }
                    }
                    CStep::Plain(Step::Return) => {
                        reach_end = true;
                        break;
                    }
                    CStep::Plain(s) if s.is_local() => st.push(pc + 1),
                    CStep::Plain(_) => {}
                }
            }
            if reach_end {
                local[f] = true;
                changed = true;
            }
        }
        if !changed {
            return local;
        }
    }
}
