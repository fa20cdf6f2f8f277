//! The interpreter: threads run their operations' step programs; one
//! transition executes one shared step of one thread (plus the
//! register-only steps around it). A worker thread runs queued works
//! (requeue, partition scan, delayed removal). The stateright `Model`
//! over it is in [`crate::system`].

use crate::revision::Program;
use crate::scenario::{op_entry, Scenario, ScenarioError};
use crate::state::*;
use crate::step::*;
use mpath_reference::driver::{predicates, CtrlState, DriverKind};
use mpath_reference::ops::Op;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A checker action: run thread `t` one shared step, or let the worker
/// start a pending work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Run(u8),
    Work(WorkKind),
}

/// Kernel primitives the step language (`step.rs`) has no step for. A
/// revision uses one by defining a function of the builtin's name whose
/// body is exactly the one *carrier* step [`Builtin::carrier`] names; the
/// interpreter runs that step with the primitive's semantics instead of
/// (or, for `submit_bio_noacct`, in addition to) its own, and the swimlane
/// shows the function's name. Revisions that define none of them (v1, v2,
/// v3 and their mutants) behave exactly as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// `bio_queue_enter()` on the head disk's queue (`__submit_bio` takes
    /// it around the head's `->submit_bio`): blocks while the queue is
    /// frozen, then holds a `q_usage_counter` reference. Carrier: `yield`.
    QueueEnter,
    /// `blk_queue_exit()`: drops that reference. Carrier: `yield`.
    QueueExit,
    /// `blk_freeze_queue_start()` on the head disk's queue:
    /// `mq_freeze_depth++`, new `bio_queue_enter` calls wait. Carrier: `yield`.
    FreezeStart,
    /// `blk_mq_freeze_queue_wait()`: blocks until no thread holds a
    /// reference on the head disk's queue. Carrier: `yield`.
    FreezeWait,
    /// `blk_mq_unfreeze_queue()`: `mq_freeze_depth--`. Carrier: `yield`.
    Unfreeze,
    /// `submit_bio_noacct()` of a bio remapped to the path in `p`: the
    /// carrier `use_path_disk` step, then a request is in flight on `p`
    /// (`nvme_mpath_start_request`: counted in `ctrl->nr_active` when the
    /// iopolicy is queue-depth). Carrier: `use_path_disk`.
    SubmitToPath,
    /// `blk_mq_complete_request()` of the oldest request in flight on the
    /// path in `on` that nobody completes yet: `dst` = 1 and this thread now
    /// completes it (a completion operation: `failover`, whose request
    /// stays in flight until its `nvme_end_req`), or `dst` = 0 when there
    /// is none (without a request there is no completion). Reads no kernel
    /// object. Carrier: `load` (its `what` is ignored).
    CompleteRequest,
    /// `nvme_end_req()`: a request in flight on `p` ends, the oldest one
    /// being completed (or, with none being completed, the oldest;
    /// `nvme_mpath_end_request`: `atomic_dec_if_positive(&ns->ctrl->nr_active)`
    /// if it was counted at start; reads the path). With none in flight
    /// nothing happens and nothing is read. Carrier: `deref_path`.
    EndRequest,
    /// `blk_mq_freeze_queue_wait(ns->disk->queue)` in `del_gendisk(ns->disk)`:
    /// waits until no request is in flight on the path in `p`. Meanwhile the
    /// device completes them: while one is in flight that no thread is
    /// completing, each execution ends it (as [`Builtin::EndRequest`]) and
    /// the step runs again; one another thread is completing blocks the
    /// step until that thread's `nvme_end_req`. Reads the path. Carrier:
    /// `deref_path`.
    DrainRequests,
}

impl Builtin {
    /// Every builtin: the function name that selects it, and the builtin.
    pub const ALL: &'static [(&'static str, Builtin)] = &[
        ("bio_queue_enter", Builtin::QueueEnter),
        ("blk_queue_exit", Builtin::QueueExit),
        ("blk_freeze_queue_start", Builtin::FreezeStart),
        ("blk_mq_freeze_queue_wait", Builtin::FreezeWait),
        ("blk_mq_unfreeze_queue", Builtin::Unfreeze),
        ("submit_bio_noacct", Builtin::SubmitToPath),
        ("blk_mq_complete_request", Builtin::CompleteRequest),
        ("nvme_end_req", Builtin::EndRequest),
        ("ns_freeze_queue_wait", Builtin::DrainRequests),
    ];

    pub fn by_name(name: &str) -> Option<Builtin> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }

    /// The carrier step's name (`s` in the revision file).
    pub fn carrier(self) -> &'static str {
        match self {
            Builtin::QueueEnter | Builtin::QueueExit | Builtin::FreezeStart | Builtin::FreezeWait | Builtin::Unfreeze => "yield",
            Builtin::SubmitToPath => "use_path_disk",
            Builtin::EndRequest | Builtin::DrainRequests => "deref_path",
            Builtin::CompleteRequest => "load",
        }
    }

    fn carrier_ok(self, step: &Step) -> bool {
        matches!(
            (self, step),
            (Builtin::QueueEnter | Builtin::QueueExit | Builtin::FreezeStart | Builtin::FreezeWait | Builtin::Unfreeze, Step::Yield)
                | (Builtin::SubmitToPath, Step::UsePathDisk { .. })
                | (Builtin::EndRequest | Builtin::DrainRequests, Step::DerefPath { .. })
                | (Builtin::CompleteRequest, Step::Load { .. })
        )
    }
}

/// The function whose `consider` steps (mode `find_path`) use the path's
/// controller's `nr_active` as their metric instead of the NUMA distance:
/// 6.12's `nvme_queue_depth_path` (`depth = atomic_read(&ns->ctrl->nr_active)`,
/// the lowest depth wins, ties to the first).
pub const QUEUE_DEPTH_SELECTOR: &str = "nvme_queue_depth_path";

/// A model path as the driver predicates (`mpath_reference::driver::
/// predicates`, shared with the reference) read it.
struct ModelPath<'a> {
    s: &'a State,
    p: usize,
}

impl predicates::PathView for ModelPath<'_> {
    fn ctrl_state(&self) -> u8 {
        self.s.ctrls[(self.s.paths[self.p].ctrl as usize).min(MAXC - 1)] & 0x7f
    }
    fn failfast_expired(&self) -> bool {
        self.s.ctrls[(self.s.paths[self.p].ctrl as usize).min(MAXC - 1)] & 0x80 != 0
    }
    fn ns_flags(&self) -> (bool, bool) {
        let ps = &self.s.paths[self.p];
        (ps.bit(pbit::READY), ps.bit(pbit::ANA_PENDING))
    }
    fn ana(&self) -> u8 {
        self.s.paths[self.p].ana
    }
    fn sdev(&self) -> u8 {
        self.s.paths[self.p].sdev
    }
    fn alua(&self) -> u8 {
        self.s.paths[self.p].alua
    }
}

/// One operation of a thread, compiled.
#[derive(Clone, Debug)]
pub struct OpCall {
    pub op: Op,
    pub func: u8,
    pub args: Vec<(Reg, u8)>,
}

#[derive(Clone, Debug)]
pub struct ThreadProg {
    pub name: String,
    pub ops: Vec<OpCall>,
}

/// The model of one (revision, scenario) pair.
#[derive(Clone)]
pub struct Machine {
    pub program: Arc<Program>,
    pub scenario: Arc<Scenario>,
    pub driver: DriverKind,
    pub threads: Vec<ThreadProg>,
    /// Index of the worker thread (= number of scenario threads).
    pub worker: usize,
    pub npaths: u8,
    pub nnodes: u8,
    pub nonline: u8,
    pub distances: [[u8; MAXN]; MAXN],
    pub loop_bound: u8,
    pub find_path_fn: Option<u8>,
    /// The builtin each function id stands for, if any.
    pub builtins: Vec<Option<Builtin>>,
    /// The function id of [`QUEUE_DEPTH_SELECTOR`], if the revision has it.
    pub qd_fn: Option<u8>,
    pub init: State,
    pub stop: Arc<AtomicBool>,
    /// Keep each operation's return value in `Thread::last_ret` (for the
    /// sequential cross-check; off when checking, to keep states canonical).
    pub record_ret: bool,
    /// Properties declared as data (`dataprop`), checked after the
    /// built-in ones.
    pub data_props: Arc<crate::dataprop::PropertySet>,
    /// The machine has a clock: some thread runs `advance_time` (or the
    /// sequential replay, whose traces advance a virtual clock). Then
    /// `mod_delayed_work` arms `State::timer` and only `advance_time`
    /// expires it; without a clock the delayed work is queued at once and
    /// the worker may start it at any point (issue 13).
    pub clocked: bool,
}

impl Machine {
    pub fn new(program: Arc<Program>, scenario: &Scenario, reference_profile: &str, stop: Arc<AtomicBool>) -> Result<Machine, ScenarioError> {
        let init = scenario.initial_state(reference_profile)?;
        Self::with_init(program, scenario, init, stop)
    }

    /// A machine starting from `init` (already computed; the scenario's
    /// header gives driver, topology and path count, its threads the
    /// operations). No bound on the operation count is checked here.
    pub fn with_init(program: Arc<Program>, scenario: &Scenario, init: State, stop: Arc<AtomicBool>) -> Result<Machine, ScenarioError> {
        let clocked = scenario.threads.iter().any(|t| t.ops.iter().any(|o| matches!(o, Op::AdvanceTime { .. })));
        Self::with_init_clock(program, scenario, init, stop, clocked)
    }

    /// [`Machine::with_init`] with the clock given: without one, a removal
    /// timer `init` holds armed is expired at once (its work pending).
    pub fn with_init_clock(program: Arc<Program>, scenario: &Scenario, init: State, stop: Arc<AtomicBool>, clocked: bool) -> Result<Machine, ScenarioError> {
        let mut init = init;
        if !clocked && init.timer != 0 {
            init.timer = 0;
            init.pending |= WorkKind::RemoveHead.bit();
        }
        let h = &scenario.header;
        let mut threads = Vec::new();
        for t in &scenario.threads {
            let mut ops = Vec::new();
            for op in &t.ops {
                let (name, args) = op_entry(op, h.driver).map_err(|e| ScenarioError::Invalid { name: scenario.name.clone(), msg: e })?;
                let func = program.func(name).ok_or_else(|| ScenarioError::Invalid {
                    name: scenario.name.clone(),
                    msg: format!("revision {} has no function {name:?} (needed by {:?})", program.revision, op),
                })?;
                ops.push(OpCall { op: op.clone(), func: func as u8, args });
            }
            threads.push(ThreadProg { name: t.name.clone(), ops });
        }
        if program.funcs.len() > 255 {
            return Err(ScenarioError::Invalid { name: scenario.name.clone(), msg: "too many functions".into() });
        }
        let mut builtins = Vec::with_capacity(program.funcs.len());
        for f in &program.funcs {
            let b = Builtin::by_name(&f.name);
            if let Some(b) = b {
                let ok = matches!(f.steps.as_slice(), [CStep::Plain(st)] if b.carrier_ok(st));
                if !ok {
                    return Err(ScenarioError::Invalid {
                        name: scenario.name.clone(),
                        msg: format!("revision {}: builtin function {:?} must be exactly one {:?} step", program.revision, f.name, b.carrier()),
                    });
                }
            }
            builtins.push(b);
        }
        let nnodes = h.topology.possible.len() as u8;
        let mut distances = [[10u8; MAXN]; MAXN];
        for (a, row) in distances.iter_mut().enumerate().take(nnodes as usize) {
            for (b, d) in row.iter_mut().enumerate().take(nnodes as usize) {
                *d = h.topology.node_distance(a as i32, b as i32).min(254) as u8;
            }
        }
        for t in 0..MAXT {
            init.threads[t].group = t as u8;
        }
        for t in 0..threads.len() {
            let key = |u: usize| threads[u].ops.iter().map(|o| (o.func, o.args.clone())).collect::<Vec<_>>();
            if let Some(first) = (0..t).find(|&u| key(u) == key(t)) {
                init.threads[t].group = first as u8;
            }
        }
        let m = Machine {
            program: program.clone(),
            scenario: Arc::new(scenario.clone()),
            driver: h.driver,
            worker: threads.len(),
            threads,
            npaths: h.max_paths as u8,
            nnodes,
            nonline: h.topology.online.len() as u8,
            distances,
            loop_bound: 2 * h.max_paths as u8 + 2,
            find_path_fn: program.func("mpath_find_path").map(|f| f as u8),
            builtins,
            qd_fn: program.func(QUEUE_DEPTH_SELECTOR).map(|f| f as u8),
            init,
            stop,
            record_ret: false,
            data_props: Arc::new(crate::dataprop::PropertySet::default()),
            clocked,
        };
        Ok(m)
    }

    // ------------------------------------------------------------ queries

    /// The function and step a thread rests at (`None` when idle/finished).
    pub fn resting(&self, s: &State, t: usize) -> Option<(u8, u8)> {
        let th = &s.threads[t];
        if th.depth == 0 {
            return None;
        }
        let fr = th.stack[th.depth as usize - 1];
        Some((fr.func, fr.pc))
    }

    /// The function thread `t` is executing (its innermost frame).
    fn resting_func(&self, s: &State, t: usize) -> Option<u8> {
        let th = &s.threads[t];
        (th.depth > 0).then(|| th.stack[th.depth as usize - 1].func)
    }

    pub fn step_at(&self, func: u8, pc: u8) -> Option<&CStep> {
        self.program.funcs.get(func as usize)?.steps.get(pc as usize)
    }

    pub fn finished(&self, s: &State, t: usize) -> bool {
        let th = &s.threads[t];
        th.depth == 0 && (t == self.worker || th.ops_done as usize >= self.threads[t].ops.len())
    }

    /// All scenario threads done, worker idle, nothing pending (an armed
    /// removal timer is pending work, as the reference lists it).
    pub fn at_rest(&self, s: &State) -> bool {
        (0..=self.worker).all(|t| self.finished(s, t)) && s.pending == 0 && s.timer == 0
    }

    pub fn enabled(&self, s: &State, t: usize) -> bool {
        let th = &s.threads[t];
        if th.depth == 0 {
            return !th.stuck && t != self.worker && (th.ops_done as usize) < self.threads[t].ops.len();
        }
        if th.stuck || th.wait != 0 || th.wait_ctrl != 0 {
            return false;
        }
        let Some((f, pc)) = self.resting(s, t) else { return false };
        match self.builtin(f) {
            Some(Builtin::QueueEnter) => return s.q_freeze == 0,
            Some(Builtin::FreezeWait) => return !s.threads.iter().any(|u| u.q_ref),
            Some(Builtin::DrainRequests) => {
                // Blocked while the only requests left are being completed
                // by other threads.
                if let Some(CStep::Plain(Step::DerefPath { p })) = self.step_at(f, pc) {
                    let v = th.regs[*p as usize];
                    if v != 0 && v as usize <= MAXP {
                        let ps = &s.paths[v as usize - 1];
                        return !(ps.inflight > 0 && ps.inflight == ps.claimed);
                    }
                }
                return true;
            }
            _ => {}
        }
        match self.step_at(f, pc) {
            Some(CStep::Plain(Step::Lock { m })) => s.mutex[mutex_idx(*m)] == 0,
            Some(CStep::Plain(Step::WaitRefZero)) => s.head_ref <= 0,
            _ => true,
        }
    }

    /// The builtin function `f` stands for, if any.
    pub fn builtin(&self, f: u8) -> Option<Builtin> {
        self.builtins.get(f as usize).copied().flatten()
    }

    pub fn any_stuck(&self, s: &State) -> bool {
        s.threads.iter().any(|t| t.stuck)
    }

    // ------------------------------------------------------------ driver predicates

    fn ctrl_state(&self, s: &State, p: usize) -> u8 {
        s.ctrls[(s.paths[p].ctrl as usize).min(MAXC - 1)] & 0x7f
    }

    pub fn is_disabled(&self, s: &State, p: usize) -> bool {
        predicates::is_disabled(self.driver, &ModelPath { s, p })
    }

    pub fn is_optimized(&self, s: &State, p: usize) -> bool {
        predicates::is_optimized(self.driver, &ModelPath { s, p })
    }

    pub fn is_available(&self, s: &State, p: usize) -> bool {
        predicates::available(self.driver, &ModelPath { s, p })
    }

    /// An OPTIMIZED, usable, linked path (the quality property's notion).
    pub fn optimized_usable(&self, s: &State, p: usize) -> bool {
        s.paths[p].life == life::LINKED && !self.is_disabled(s, p) && self.is_optimized(s, p) && s.paths[p].access == 0
    }

    /// A linked path the selectors would pick (not disabled, opt/nonopt).
    pub fn selectable(&self, s: &State, p: usize) -> bool {
        s.paths[p].life == life::LINKED && !self.is_disabled(s, p) && s.paths[p].access <= 1
    }

    // ------------------------------------------------------------ execution

    fn val(&self, th: &Thread, v: Val) -> u8 {
        match v {
            Val::Int(x) => x,
            Val::Reg(r) => th.regs[r as usize],
            Val::Named(n) => match n {
                Named::Null => 0,
                Named::Junk => JUNK,
                Named::Inf => INF,
                Named::Npaths => self.npaths,
                Named::Nnodes => self.nnodes,
                Named::NonlineNodes => self.nonline,
                Named::DriverScsi => (self.driver == DriverKind::Scsi) as u8,
            },
        }
    }

    /// Touch path object `v` (a pointer value): a use-after-free or a wild
    /// pointer is recorded. Returns the path index if it is a real path.
    fn touch(&self, s: &mut State, v: u8) -> Option<usize> {
        if v == JUNK {
            s.viol |= vbit::JUNK;
            return None;
        }
        if v == 0 || v as usize > MAXP {
            return None;
        }
        let p = v as usize - 1;
        if s.paths[p].life == life::FREED || s.paths[p].life == life::UNUSED {
            s.viol |= vbit::UAF_PATH;
        }
        Some(p)
    }

    fn touch_head(&self, s: &mut State) {
        if s.head_life == life::FREED {
            s.viol |= vbit::UAF_HEAD;
        }
    }

    /// Record what a selector saw when it read path `p`.
    fn see(&self, s: &mut State, t: usize, p: usize) {
        let dis = self.is_disabled(s, p);
        let unl = s.paths[p].life != life::LINKED;
        let th = &mut s.threads[t];
        if th.in_find == 0 {
            return;
        }
        let b = 1u8 << p;
        th.seen_disabled = if dis { th.seen_disabled | b } else { th.seen_disabled & !b };
        th.seen_unlinked = if unl { th.seen_unlinked | b } else { th.seen_unlinked & !b };
    }

    pub(crate) fn start_frame(&self, s: &mut State, t: usize, func: u8) -> bool {
        let th = &mut s.threads[t];
        if th.depth as usize >= STACK {
            return false;
        }
        th.stack[th.depth as usize] = Frame { func, pc: 0 };
        th.depth += 1;
        th.regs[Reg::Cnt as usize] = 0;
        if Some(func) == self.find_path_fn {
            th.in_find += 1;
            if th.in_find == 1 {
                th.disturbed = false;
                th.seen_disabled = 0;
                th.seen_unlinked = 0;
            }
        }
        true
    }

    fn do_return(&self, s: &mut State, t: usize) {
        let func = s.threads[t].stack[s.threads[t].depth as usize - 1].func;
        if Some(func) == self.find_path_fn {
            self.check_selection(s, t);
            s.threads[t].in_find -= 1;
        }
        let th = &mut s.threads[t];
        th.depth -= 1;
        th.stack[th.depth as usize] = Frame::default();
        if th.depth == 0 {
            if self.record_ret {
                th.last_ret = th.regs[Reg::Ret as usize];
            }
            th.regs = [0; NREG];
            if t != self.worker {
                th.ops_done += 1;
            }
        }
    }

    /// The instrumentation at `mpath_find_path`'s return.
    fn check_selection(&self, s: &mut State, t: usize) {
        let th = s.threads[t];
        let r = th.regs[Reg::Ret as usize];
        if r == JUNK {
            s.viol |= vbit::JUNK;
            return;
        }
        if r != 0 && (r as usize) <= MAXP {
            let b = 1u8 << (r - 1);
            if th.seen_disabled & b != 0 {
                s.viol |= vbit::DISABLED_RET;
            }
            if th.seen_unlinked & b != 0 {
                s.viol |= vbit::UNLINKED_RET;
            }
        }
        if th.in_find == 1 && !th.disturbed {
            let any = (0..self.npaths as usize).any(|p| self.optimized_usable(s, p));
            let ok = r != 0 && (r as usize) <= MAXP && self.optimized_usable(s, r as usize - 1);
            if any && !ok {
                s.viol |= vbit::QUALITY;
            }
        }
    }

    /// Run local steps until the thread rests at a shared step or is idle.
    pub fn advance(&self, s: &mut State, t: usize) {
        for _ in 0..10_000 {
            if s.threads[t].stuck {
                return;
            }
            if s.threads[t].depth == 0 {
                // An operation completed (or none started): the next one
                // starts in the thread's next transition.
                return;
            }
            let fr = s.threads[t].stack[s.threads[t].depth as usize - 1];
            let Some(step) = self.step_at(fr.func, fr.pc) else {
                self.do_return(s, t);
                continue;
            };
            if !step.is_local() {
                return;
            }
            let step = step.clone();
            let th = &mut s.threads[t];
            let top = th.depth as usize - 1;
            th.stack[top].pc += 1;
            let jump = |th: &mut Thread, to: u16| th.stack[top].pc = to as u8;
            match step {
                CStep::Goto(to) => jump(th, to),
                CStep::IfZero(r, to) => {
                    if th.regs[r as usize] == 0 {
                        jump(th, to)
                    }
                }
                CStep::IfNonZero(r, to) => {
                    if th.regs[r as usize] != 0 {
                        jump(th, to)
                    }
                }
                CStep::IfEq(a, b, to) => {
                    let bv = self.val(th, b);
                    if th.regs[a as usize] == bv {
                        jump(th, to)
                    }
                }
                CStep::IfNe(a, b, to) => {
                    let bv = self.val(th, b);
                    if th.regs[a as usize] != bv {
                        jump(th, to)
                    }
                }
                CStep::IfLt(a, b, to) => {
                    let bv = self.val(th, b);
                    if th.regs[a as usize] < bv {
                        jump(th, to)
                    }
                }
                CStep::Call(f) => {
                    if !self.start_frame(s, t, f as u8) {
                        s.threads[t].stuck = true;
                        s.viol |= vbit::NONTERM;
                        return;
                    }
                }
                CStep::Plain(Step::Set { r, v }) => {
                    let x = self.val(th, v);
                    th.regs[r as usize] = x;
                }
                CStep::Plain(Step::Inc { r }) => th.regs[r as usize] = th.regs[r as usize].wrapping_add(1),
                CStep::Plain(Step::Dec { r }) => th.regs[r as usize] = th.regs[r as usize].wrapping_sub(1),
                CStep::Plain(Step::Return) => {
                    th.stack[top].pc -= 1;
                    self.do_return(s, t);
                }
                CStep::Plain(_) => {}
            }
        }
        // A register-only loop that never reaches a shared step.
        s.threads[t].stuck = true;
        s.viol |= vbit::NONTERM;
    }

    /// Start thread `t`'s next operation and run its leading local steps.
    pub fn begin_op(&self, s: &mut State, t: usize) -> bool {
        let done = s.threads[t].ops_done as usize;
        let Some(oc) = self.threads.get(t).and_then(|th| th.ops.get(done)) else { return false };
        s.threads[t].regs = [0; NREG];
        for &(r, v) in &oc.args {
            s.threads[t].regs[r as usize] = v;
        }
        self.start_frame(s, t, oc.func);
        self.advance(s, t);
        true
    }

    /// Execute the shared step thread `t` rests at, then advance.
    pub fn run(&self, s: &mut State, t: usize) {
        let idle = s.threads[t].depth == 0;
        if idle {
            // Start the next operation; stop if it completed without a
            // shared step or its first shared step is blocked.
            let started = self.begin_op(s, t);
            let runnable = started && s.threads[t].depth > 0 && self.enabled(s, t);
            if !runnable {
                return;
            }
        }
        let Some((f, pc)) = self.resting(s, t) else { return };
        let Some(CStep::Plain(step)) = self.step_at(f, pc).cloned() else { return };
        let top = s.threads[t].depth as usize - 1;
        s.threads[t].stack[top].pc += 1;
        let writes = match self.builtin(f) {
            Some(b) => self.exec_builtin(s, t, b, &step),
            None => self.exec(s, t, &step),
        };
        if writes {
            for u in 0..=self.worker {
                if u != t && s.threads[u].in_find > 0 {
                    s.threads[u].disturbed = true;
                }
            }
        }
        self.advance(s, t);
    }

    fn bit_ref(&self, s: &mut State, t: usize, bit: Bit, on: Option<Reg>) -> Option<(bool, u8)> {
        if bit.is_path_bit() {
            let v = s.threads[t].regs[on? as usize];
            // Membership of ctrl->namespaces is read from the controller's
            // list, not from the namespace.
            let p = if bit == Bit::OnCtrl {
                if v == 0 || v as usize > MAXP {
                    return None;
                }
                v as usize - 1
            } else {
                self.touch(s, v)?
            };
            let b = match bit {
                Bit::Link => pbit::LINK,
                Bit::Ready => pbit::READY,
                Bit::AnaPending => pbit::ANA_PENDING,
                Bit::Removing => pbit::REMOVING,
                Bit::DiskAdded => pbit::DISK_ADDED,
                Bit::OnCtrl => pbit::ON_CTRL,
                _ => pbit::HAS_DISK,
            };
            Some((true, (p as u8) << 4 | b))
        } else {
            let b = match bit {
                Bit::DiskLive => hbit::DISK_LIVE,
                Bit::QueueIfNoPath => hbit::QUEUE_IF_NO_PATH,
                Bit::GdAdded => hbit::GD_ADDED,
                Bit::SuppressPartScan => hbit::SUPPRESS_PART_SCAN,
                Bit::HeadUnlisted => hbit::UNLISTED,
                _ => hbit::CDEV_LIVE,
            };
            Some((false, b))
        }
    }

    fn bit_get(s: &State, r: (bool, u8)) -> bool {
        if r.0 {
            s.paths[(r.1 >> 4) as usize].bit(r.1 & 15)
        } else {
            s.hbit(r.1)
        }
    }

    fn bit_put(s: &mut State, r: (bool, u8), v: bool) {
        let (word, b) = if r.0 { (&mut s.paths[(r.1 >> 4) as usize].bits, r.1 & 15) } else { (&mut s.head_bits, r.1) };
        if v {
            *word |= 1 << b;
        } else {
            *word &= !(1 << b);
        }
    }

    fn link_of(s: &mut State, l: u8) -> (&mut u8, &mut u8) {
        if l == LHEAD {
            (&mut s.head_next, &mut s.head_prev)
        } else {
            let p = &mut s.paths[(l - 1) as usize];
            (&mut p.next, &mut p.prev)
        }
    }

    fn count_loop(&self, s: &mut State, t: usize) -> bool {
        let th = &mut s.threads[t];
        th.regs[Reg::Cnt as usize] = th.regs[Reg::Cnt as usize].saturating_add(1);
        if th.regs[Reg::Cnt as usize] > self.loop_bound {
            th.stuck = true;
            s.viol |= vbit::NONTERM;
            return false;
        }
        true
    }

    /// A request starts on path `p` (`nvme_mpath_start_request`): counted
    /// in its controller's `nr_active` under the queue-depth iopolicy.
    /// Returns whether `nr_active` changed.
    fn start_request(&self, s: &mut State, p: usize) -> bool {
        let ps = &mut s.paths[p];
        if ps.inflight >= 7 {
            return false;
        }
        let counted = s.iopolicy == 2;
        if counted {
            ps.counted |= 1 << ps.inflight;
        }
        ps.inflight += 1;
        if counted {
            let c = (ps.ctrl as usize).min(MAXC - 1);
            if s.nr_active[c] < 253 {
                s.nr_active[c] += 1;
            }
        }
        counted
    }

    /// Request `k` (0 = the oldest) in flight on path `p` ends
    /// (`nvme_end_req`): `atomic_dec_if_positive(&ns->ctrl->nr_active)` if
    /// it was counted. Returns whether `nr_active` changed.
    fn end_request(&self, s: &mut State, p: usize, k: u8) -> bool {
        let ps = &mut s.paths[p];
        if k >= ps.inflight {
            return false;
        }
        let counted = ps.counted & (1 << k) != 0;
        let low = ps.counted & ((1u8 << k) - 1);
        ps.counted = low | ((ps.counted >> (k + 1)) << k);
        ps.inflight -= 1;
        let c = (ps.ctrl as usize).min(MAXC - 1);
        if counted && (1..=253).contains(&s.nr_active[c]) {
            s.nr_active[c] -= 1;
            return true;
        }
        false
    }

    /// Execute the carrier step of builtin `b` with the builtin's
    /// semantics; returns true if it changed state the path selectors read.
    fn exec_builtin(&self, s: &mut State, t: usize, b: Builtin, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        let path_of = |v: u8| if v == 0 || v as usize > MAXP { None } else { Some(v as usize - 1) };
        match (b, step) {
            (Builtin::QueueEnter, _) => s.threads[t].q_ref = true,
            (Builtin::QueueExit, _) => s.threads[t].q_ref = false,
            (Builtin::FreezeStart, _) => s.q_freeze = s.q_freeze.saturating_add(1),
            (Builtin::FreezeWait, _) => {}
            (Builtin::Unfreeze, _) => s.q_freeze = s.q_freeze.saturating_sub(1),
            (Builtin::SubmitToPath, Step::UsePathDisk { p }) => {
                let v = reg(s, *p);
                self.exec(s, t, step);
                if let Some(pi) = path_of(v) {
                    return self.start_request(s, pi);
                }
            }
            (Builtin::CompleteRequest, Step::Load { dst, on, .. }) => {
                let v = on.map(|r| reg(s, r)).unwrap_or(0);
                let mut x = 0;
                if let Some(pi) = path_of(v) {
                    let ps = &mut s.paths[pi];
                    if ps.inflight > ps.claimed {
                        ps.claimed += 1;
                        x = 1;
                    }
                }
                s.threads[t].regs[*dst as usize] = x;
            }
            (Builtin::EndRequest, Step::DerefPath { p }) => {
                let v = reg(s, *p);
                if let Some(pi) = path_of(v) {
                    if s.paths[pi].inflight > 0 {
                        self.touch(s, v);
                        // Claimed requests are the oldest ones.
                        if s.paths[pi].claimed > 0 {
                            s.paths[pi].claimed -= 1;
                        }
                        return self.end_request(s, pi, 0);
                    }
                }
            }
            (Builtin::DrainRequests, Step::DerefPath { p }) => {
                let v = reg(s, *p);
                self.touch(s, v);
                if let Some(pi) = path_of(v) {
                    let (n, c) = (s.paths[pi].inflight, s.paths[pi].claimed);
                    if n > c {
                        // The device completes the oldest request nobody
                        // else completes; the wait goes on.
                        let top = s.threads[t].depth as usize - 1;
                        s.threads[t].stack[top].pc -= 1;
                        return self.end_request(s, pi, c);
                    }
                }
            }
            // Carriers are checked when the machine is built.
            _ => {}
        }
        false
    }

    /// Execute one shared step; returns true if it changed state the path
    /// selectors read (for the quality property's "nothing changing").
    fn exec(&self, s: &mut State, t: usize, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        macro_rules! set {
            ($r:expr, $v:expr) => {{
                let v = $v;
                s.threads[t].regs[$r as usize] = v;
            }};
        }
        match step {
            Step::SrcuLock => s.threads[t].srcu += 1,
            Step::SrcuUnlock => {
                let th = &mut s.threads[t];
                th.srcu = th.srcu.saturating_sub(1);
                if th.srcu == 0 {
                    for u in s.threads.iter_mut() {
                        u.wait &= !(1 << t);
                    }
                }
            }
            Step::Synchronize => {
                self.touch_head(s);
                let mut w = 0u8;
                for (u, th) in s.threads.iter().enumerate() {
                    if th.srcu > 0 {
                        w |= 1 << u;
                    }
                }
                s.threads[t].wait = w;
            }
            Step::CtrlSrcuLock => s.threads[t].ctrl_srcu += 1,
            Step::CtrlSrcuUnlock => {
                let th = &mut s.threads[t];
                th.ctrl_srcu = th.ctrl_srcu.saturating_sub(1);
                if th.ctrl_srcu == 0 {
                    for u in s.threads.iter_mut() {
                        u.wait_ctrl &= !(1 << t);
                    }
                }
            }
            Step::CtrlSynchronize => {
                let mut w = 0u8;
                for (u, th) in s.threads.iter().enumerate() {
                    if th.ctrl_srcu > 0 {
                        w |= 1 << u;
                    }
                }
                s.threads[t].wait_ctrl = w;
            }
            Step::Lock { m } => s.mutex[mutex_idx(*m)] = t as u8 + 1,
            Step::Unlock { m } => s.mutex[mutex_idx(*m)] = 0,
            Step::ListAddTail { p } => {
                let v = reg(s, *p);
                if let Some(pi) = self.touch(s, v) {
                    let last = s.head_prev;
                    s.paths[pi].next = LHEAD;
                    s.paths[pi].prev = last;
                    *Self::link_of(s, last).0 = v;
                    s.head_prev = v;
                    s.paths[pi].life = life::LINKED;
                }
                return true;
            }
            Step::ListDel { p } => {
                let v = reg(s, *p);
                if let Some(pi) = self.touch(s, v) {
                    let (n, pr) = (s.paths[pi].next, s.paths[pi].prev);
                    if pr != POISON && n != POISON {
                        *Self::link_of(s, n).1 = pr;
                        *Self::link_of(s, pr).0 = n;
                    }
                    s.paths[pi].prev = POISON;
                    if s.paths[pi].life == life::LINKED {
                        s.paths[pi].life = life::UNLINKED;
                    }
                }
                return true;
            }
            Step::ListFirst { dst } => {
                let v = s.head_next;
                set!(*dst, v);
                set!(Reg::Cnt, 0);
            }
            Step::ListNext { r } | Step::NextDev { r } => {
                let v = reg(s, *r);
                let mut n = 0;
                if let Some(pi) = self.touch(s, v) {
                    n = s.paths[pi].next;
                    if n == POISON {
                        n = 0;
                    }
                }
                if n == LHEAD && matches!(step, Step::NextDev { .. }) {
                    n = s.head_next;
                }
                set!(*r, n);
                self.count_loop(s, t);
            }
            Step::ListEmpty { dst } => {
                let v = (s.head_next == LHEAD) as u8;
                set!(*dst, v)
            }
            Step::ListSingular { dst } => {
                let v = (s.head_next != LHEAD && s.head_next == s.head_prev) as u8;
                set!(*dst, v)
            }
            Step::CpLoad { dst, node } => {
                let n = reg(s, *node) as usize;
                let v = if n < MAXN { s.cp[n] } else { 0 };
                set!(*dst, v)
            }
            Step::CpStore { node, src } => {
                let n = reg(s, *node) as usize;
                let v = reg(s, *src);
                if v == JUNK {
                    s.viol |= vbit::JUNK;
                }
                if n < MAXN {
                    s.cp[n] = v;
                }
                return true;
            }
            Step::CpClearMatching { p, dst } => {
                let v = reg(s, *p);
                let mut changed = false;
                for n in 0..self.nnodes as usize {
                    if s.cp[n] == v && v != 0 {
                        s.cp[n] = 0;
                        changed = true;
                    }
                }
                set!(*dst, changed as u8);
                return true;
            }
            Step::CpClearAll => {
                s.cp = [0; MAXN];
                return true;
            }
            Step::TestBit { bit, on, dst } => {
                let v = self.bit_ref(s, t, *bit, *on).map(|r| Self::bit_get(s, r)).unwrap_or(false);
                set!(*dst, v as u8)
            }
            Step::SetBit { bit, on } | Step::ClearBit { bit, on } => {
                if let Some(r) = self.bit_ref(s, t, *bit, *on) {
                    Self::bit_put(s, r, matches!(step, Step::SetBit { .. }));
                }
                return matches!(bit, Bit::Ready | Bit::AnaPending | Bit::HasDisk);
            }
            Step::TestAndSetBit { bit, on, dst } | Step::TestAndClearBit { bit, on, dst } => {
                let mut old = false;
                if let Some(r) = self.bit_ref(s, t, *bit, *on) {
                    old = Self::bit_get(s, r);
                    Self::bit_put(s, r, matches!(step, Step::TestAndSetBit { .. }));
                }
                set!(*dst, old as u8);
                return matches!(bit, Bit::Ready | Bit::AnaPending | Bit::HasDisk);
            }
            Step::Load { dst, what, on } => {
                let pv = on.map(|r| reg(s, r)).unwrap_or(0);
                let needs_path = matches!(
                    what,
                    Pred::IsDisabled | Pred::IsOptimized | Pred::IsAvailable | Pred::Access | Pred::CtrlLive | Pred::CapacityMismatch | Pred::CtrlIndex
                );
                let p = if needs_path { self.touch(s, pv) } else { None };
                if needs_path && p.is_none() {
                    set!(*dst, 0);
                    return false;
                }
                let v = match (what, p) {
                    (Pred::IsDisabled, Some(p)) => {
                        self.see(s, t, p);
                        self.is_disabled(s, p) as u8
                    }
                    (Pred::IsOptimized, Some(p)) => {
                        self.see(s, t, p);
                        self.is_optimized(s, p) as u8
                    }
                    (Pred::IsAvailable, Some(p)) => self.is_available(s, p) as u8,
                    (Pred::Access, Some(p)) => {
                        self.see(s, t, p);
                        s.paths[p].access
                    }
                    (Pred::CtrlLive, Some(p)) => (self.ctrl_state(s, p) == CtrlState::Live as u8) as u8,
                    (Pred::CapacityMismatch, Some(p)) => (s.paths[p].cap != s.head_cap) as u8,
                    (Pred::HasHeadDisk, _) => (s.disk != disk::NONE) as u8,
                    (Pred::RefCount, _) => s.head_ref.max(0) as u8,
                    (Pred::Iopolicy, _) => s.iopolicy,
                    (Pred::IsCtrlIoctl, _) => (self.driver == DriverKind::Nvme && reg(s, Reg::Arg) == 1) as u8,
                    (Pred::CtrlIndex, Some(p)) => s.paths[p].ctrl,
                    (Pred::RemovalSecs, _) => s.removal_secs,
                    _ => 0,
                };
                set!(*dst, v)
            }
            Step::Consider { mode } => {
                let src = if *mode == ConsiderMode::RoundRobinOld { Reg::Old } else { Reg::Dev };
                let v = reg(s, src);
                let Some(p) = self.touch(s, v) else { return false };
                self.see(s, t, p);
                let dis = self.is_disabled(s, p);
                let acc = s.paths[p].access;
                let qd = self.qd_fn.is_some() && self.resting_func(s, t) == self.qd_fn;
                let th = &mut s.threads[t];
                let r = &mut th.regs;
                match mode {
                    ConsiderMode::FindPath => {
                        if !dis {
                            let numa = s.paths[p].numa;
                            let node = r[Reg::N as usize] as usize;
                            let d = if qd {
                                // nvme_queue_depth_path: depth = atomic_read(&ns->ctrl->nr_active)
                                s.nr_active[(s.paths[p].ctrl as usize).min(MAXC - 1)]
                            } else if numa >= 0 && s.iopolicy == 0 && node < MAXN && (numa as usize) < MAXN {
                                self.distances[node][numa as usize]
                            } else {
                                10
                            };
                            if acc == 0 && d < r[Reg::FoundD as usize] {
                                r[Reg::Found as usize] = v;
                                r[Reg::FoundD as usize] = d;
                            } else if acc == 1 && d < r[Reg::FallbackD as usize] {
                                r[Reg::Fallback as usize] = v;
                                r[Reg::FallbackD as usize] = d;
                            }
                        }
                    }
                    ConsiderMode::RoundRobin => {
                        r[Reg::Tmp as usize] = 0;
                        if !dis && acc == 0 {
                            r[Reg::Found as usize] = v;
                            r[Reg::Tmp as usize] = 1;
                        } else if !dis && acc == 1 {
                            r[Reg::Found as usize] = v;
                        }
                    }
                    ConsiderMode::RoundRobinOld => {
                        let found = r[Reg::Found as usize];
                        r[Reg::Tmp as usize] = (!dis && (acc == 0 || (found == 0 && acc == 1))) as u8;
                    }
                }
            }
            Step::DerefHeadDisk => {
                if s.disk == disk::NONE || s.disk == disk::ERR_PTR {
                    s.viol |= vbit::NULL_DISK;
                } else if s.disk == disk::FREED {
                    s.viol |= vbit::UAF_HEAD;
                }
            }
            Step::DeviceAddDisk { dst } => {
                if s.disk != disk::ALLOCATED {
                    s.viol |= vbit::NULL_DISK;
                } else {
                    s.head_bits |= 1 << hbit::GD_ADDED;
                }
                set!(*dst, 0)
            }
            Step::DelGendisk => {
                self.touch_head(s);
                s.head_bits &= !(1 << hbit::GD_ADDED);
            }
            Step::AddCdev => s.head_bits |= 1 << hbit::CDEV_LIVE,
            Step::DelCdev => s.head_bits &= !(1 << hbit::CDEV_LIVE),
            Step::DerefPath { p } => {
                let v = reg(s, *p);
                self.touch(s, v);
            }
            Step::UsePathDisk { p } => {
                let v = reg(s, *p);
                if let Some(pi) = self.touch(s, v) {
                    if !s.paths[pi].bit(pbit::HAS_DISK) {
                        s.viol |= vbit::NULL_DISK;
                    }
                }
            }
            Step::SetCapacity { p, v } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].cap = *v;
                }
            }
            Step::HeadTakeCapacity { p } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.head_cap = s.paths[pi].cap;
                }
            }
            Step::SetAna { p, src } => {
                let pv = reg(s, *p);
                let a = reg(s, *src);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].ana = a;
                    s.paths[pi].access = match a {
                        1 => 0,
                        2 => 1,
                        _ => 2,
                    };
                }
                return true;
            }
            Step::SetIopolicy { src } => {
                s.iopolicy = reg(s, *src);
                return true;
            }
            Step::ClearDisk { p } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].bits &= !(1 << pbit::HAS_DISK);
                }
                return true;
            }
            Step::LinkCreate { p, dst } => {
                let pv = reg(s, *p);
                let mut rc = 0;
                if let Some(pi) = self.touch(s, pv) {
                    if s.links & (1 << pi) != 0 {
                        s.viol |= vbit::DUP_LINK;
                        rc = 1;
                    } else {
                        s.links |= 1 << pi;
                    }
                }
                set!(*dst, rc)
            }
            Step::LinkRemove { p } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.links &= !(1 << pi);
                }
            }
            Step::QueueWork { w } => s.pending |= w.bit(),
            Step::CancelWork { w, dst } => {
                // The removal work is also pending while its timer is armed.
                let armed = *w == WorkKind::RemoveHead && s.timer != 0;
                let was = s.pending & w.bit() != 0 || armed;
                s.pending &= !w.bit();
                if armed {
                    s.timer = 0;
                }
                set!(*dst, was as u8)
            }
            Step::ModDelayedWork => {
                let rh = WorkKind::RemoveHead.bit();
                if self.clocked && s.removal_secs != 0 {
                    // Re-armed: a queued, not started instance waits again.
                    s.pending &= !rh;
                    s.timer = s.removal_secs;
                } else {
                    s.timer = 0;
                    s.pending |= rh;
                }
            }
            Step::AdvanceTime { secs } => {
                let d = reg(s, *secs);
                if s.timer != 0 && s.timer != 255 {
                    if d >= s.timer {
                        s.timer = 0;
                        s.pending |= WorkKind::RemoveHead.bit();
                    } else {
                        s.timer -= d;
                    }
                }
            }
            Step::StoreRemovalSecs { src } => s.removal_secs = reg(s, *src),
            Step::Poke { field, on, src } => {
                let v = reg(s, *src);
                let o = reg(s, *on);
                match field {
                    Field::CtrlState | Field::Failfast | Field::NrActive => {
                        let c = (o as usize).min(MAXC - 1);
                        match field {
                            Field::CtrlState => s.ctrls[c] = (s.ctrls[c] & 0x80) | (v & 0x7f),
                            Field::Failfast => s.ctrls[c] = (s.ctrls[c] & 0x7f) | if v != 0 { 0x80 } else { 0 },
                            _ => s.nr_active[c] = v,
                        }
                    }
                    Field::SdevState | Field::AluaState => {
                        if let Some(pi) = self.touch(s, o) {
                            if *field == Field::SdevState {
                                s.paths[pi].sdev = v;
                            } else {
                                s.paths[pi].alua = v;
                            }
                        }
                    }
                }
                return true;
            }
            Step::ChangeCtrlState { ctrl, state, table, dst } => {
                let c = (reg(s, *ctrl) as usize).min(MAXC - 1);
                let new = reg(s, *state);
                let old = s.ctrls[c] & 0x7f;
                let mut changed = true;
                if *table {
                    let may = match (CtrlState::from_u8(old), CtrlState::from_u8(new)) {
                        (Some(o), Some(n)) => o.nvme_may_become(n),
                        _ => false,
                    };
                    changed = may;
                    if may && new == CtrlState::Live as u8 && old == CtrlState::Connecting as u8 {
                        s.ctrls[c] &= 0x7f;
                    }
                }
                if changed {
                    s.ctrls[c] = (s.ctrls[c] & 0x80) | (new & 0x7f);
                }
                set!(*dst, changed as u8);
                return changed;
            }
            Step::RequeueAdd => s.requeue = (s.requeue + 1).min(7),
            Step::RequeueTake { dst } => {
                let n = s.requeue;
                s.requeue = 0;
                set!(*dst, n)
            }
            Step::BioFail => {}
            Step::RefDecAndTest { dst } => {
                self.touch_head(s);
                s.head_ref -= 1;
                let z = (s.head_ref == 0) as u8;
                set!(*dst, z)
            }
            Step::WaitRefZero => {}
            Step::WakeUpVar => {}
            Step::HeadCleanup => self.touch_head(s),
            Step::FreeHead => {
                self.touch_head(s);
                s.head_life = life::FREED;
            }
            Step::FreePath { p } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].life = life::FREED;
                }
                return true;
            }
            Step::IoctlBegin { p } => {
                let pv = reg(s, *p);
                self.touch(s, pv);
                let d = (self.driver == DriverKind::Nvme && reg(s, Reg::Arg) == 1) as u8;
                set!(Reg::Data, d)
            }
            Step::IoctlFinish => set!(Reg::Data, 0),
            Step::SetSdevState { p, v } => {
                let pv = reg(s, *p);
                if let Some(pi) = self.touch(s, pv) {
                    s.paths[pi].sdev = *v;
                }
                return true;
            }
            Step::Yield => {}
            // Local steps never reach here.
            _ => {}
        }
        false
    }
}

fn mutex_idx(m: Mutex) -> usize {
    match m {
        Mutex::Head => 0,
        Mutex::Subsys => 1,
    }
}

impl Machine {
    pub fn thread_name(&self, t: usize) -> String {
        if t == self.worker {
            "worker".into()
        } else {
            self.threads[t].name.clone()
        }
    }
}
