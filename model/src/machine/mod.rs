//! The interpreter: threads run their operations' step programs; one
//! transition executes one shared step of one thread (plus the
//! register-only steps around it). A worker thread runs queued works
//! (requeue, partition scan, delayed removal). The stateright `Model`
//! over it is in [`crate::system`].
//!
//! This module holds the [`Machine`] and its queries; `interp` runs local
//! steps and dispatches each shared step to its primitive family's module,
//! one `impl Machine` each: `srcu`, `lock`, `rcu` (list and
//! `current_path[]`), `bits` (bits and sysfs links), `work` (works, timer,
//! requeue), `ctrl` (controller / namespace state), `disk` (gendisk,
//! references, frees), `select` (`find_path`'s loads and `consider`), and
//! `block` for the [`Builtin`]s; `predicates` are the driver predicates.

use crate::revision::Program;
use crate::scenario::{op_entry, Scenario, ScenarioError};
use crate::state::*;
use crate::step::*;
use mpath_reference::driver::DriverKind;
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

/// Write register `r` of thread `t` (the value is computed first).
macro_rules! set {
    ($s:ident, $t:ident, $r:expr, $v:expr) => {{
        let v = $v;
        $s.threads[$t].regs[$r as usize] = v;
    }};
}

mod bits;
mod block;
mod builtin;
mod ctrl;
mod disk;
mod interp;
mod lock;
mod predicates;
mod rcu;
mod select;
mod srcu;
mod work;

pub use builtin::{Builtin, QUEUE_DEPTH_SELECTOR};

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

/// The mutex's slot in `State::mutex`.
fn mutex_idx(m: Mutex) -> usize {
    match m {
        Mutex::Head => 0,
        Mutex::Subsys => 1,
    }
}
