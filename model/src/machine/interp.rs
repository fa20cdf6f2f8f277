//! Execution: local steps (registers, jumps, calls, returns) run until a
//! thread rests at a shared step; [`Machine::run`] executes that one step,
//! dispatched to its primitive family's module.

use super::Machine;
use crate::state::*;
use crate::step::*;
use mpath_reference::driver::DriverKind;

impl Machine {
    pub(super) fn val(&self, th: &Thread, v: Val) -> u8 {
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
    pub(super) fn touch(&self, s: &mut State, v: u8) -> Option<usize> {
        if v == JUNK {
            s.viol |= vbit::JUNK;
            return None;
        }
        if v == 0 || v as usize > MAXP {
            return None;
        }
        let p = v as usize - 1;
        if s.paths[p].life == Life::Freed || s.paths[p].life == Life::Unused {
            s.viol |= vbit::UAF_PATH;
        }
        Some(p)
    }

    pub(super) fn touch_head(&self, s: &mut State) {
        if s.head_life == Life::Freed {
            s.viol |= vbit::UAF_HEAD;
        }
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

    pub(super) fn do_return(&self, s: &mut State, t: usize) {
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

    /// Execute one shared step, in its primitive family's module; returns
    /// true if it changed state the path selectors read (for the quality
    /// property's "nothing changing").
    pub(super) fn exec(&self, s: &mut State, t: usize, step: &Step) -> bool {
        match step {
            Step::SrcuLock | Step::SrcuUnlock | Step::Synchronize | Step::CtrlSrcuLock | Step::CtrlSrcuUnlock | Step::CtrlSynchronize => {
                self.exec_srcu(s, t, step)
            }
            Step::Lock { .. } | Step::Unlock { .. } => self.exec_lock(s, t, step),
            Step::ListAddTail { .. }
            | Step::ListDel { .. }
            | Step::ListFirst { .. }
            | Step::ListNext { .. }
            | Step::NextDev { .. }
            | Step::ListEmpty { .. }
            | Step::ListSingular { .. }
            | Step::CpLoad { .. }
            | Step::CpStore { .. }
            | Step::CpClearMatching { .. }
            | Step::CpClearAll => self.exec_rcu(s, t, step),
            Step::TestBit { .. }
            | Step::SetBit { .. }
            | Step::ClearBit { .. }
            | Step::TestAndSetBit { .. }
            | Step::TestAndClearBit { .. }
            | Step::LinkCreate { .. }
            | Step::LinkRemove { .. } => self.exec_bits(s, t, step),
            Step::Load { .. } | Step::Consider { .. } => self.exec_select(s, t, step),
            Step::DerefHeadDisk
            | Step::DeviceAddDisk { .. }
            | Step::DelGendisk
            | Step::AddCdev
            | Step::DelCdev
            | Step::DerefPath { .. }
            | Step::UsePathDisk { .. }
            | Step::RefDecAndTest { .. }
            | Step::WaitRefZero
            | Step::WakeUpVar
            | Step::HeadCleanup
            | Step::FreeHead
            | Step::FreePath { .. }
            | Step::IoctlBegin { .. }
            | Step::IoctlFinish
            | Step::Yield => self.exec_disk(s, t, step),
            Step::SetCapacity { .. }
            | Step::HeadTakeCapacity { .. }
            | Step::SetAna { .. }
            | Step::SetIopolicy { .. }
            | Step::ClearDisk { .. }
            | Step::Poke { .. }
            | Step::ChangeCtrlState { .. }
            | Step::SetSdevState { .. } => self.exec_ctrl(s, t, step),
            Step::QueueWork { .. }
            | Step::CancelWork { .. }
            | Step::ModDelayedWork
            | Step::AdvanceTime { .. }
            | Step::StoreRemovalSecs { .. }
            | Step::RequeueAdd
            | Step::RequeueTake { .. }
            | Step::BioFail => self.exec_work(s, t, step),
            // Local steps never reach here.
            _ => false,
        }
    }
}
