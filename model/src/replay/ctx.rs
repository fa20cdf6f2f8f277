//! Running one operation to completion on the model (its thread, then
//! the worker inside `run_works`), with what it did that its `ret` reports.

use super::rules::RetRule;
use super::seq::op_name;
use crate::machine::{Action, Machine, OpCall};
use crate::scenario::op_entry;
use crate::state::*;
use crate::step::{CStep, Step, WorkKind, JUNK};
use mpath_reference::driver::DriverKind;
use mpath_reference::io::Submit;
use mpath_reference::ops::{Op, Ret};
use mpath_reference::work::Work;
use stateright::Model;

pub(super) struct Ctx {
    pub(super) m: Machine,
    /// `bios_failed`: the reference's count after setup, plus every
    /// `bio_fail` step the model ran since.
    pub(super) bios_failed: u64,
    /// The pending works in the order the model queued them (the state
    /// keeps a set; a `queue_work` of a pending work queues nothing, as in
    /// the kernel): what `run_works` runs first and `pending_work` lists.
    pub(super) queue: Vec<WorkKind>,
    /// The virtual clock (seconds; the reference's after setup, plus every
    /// `advance_time`): an armed removal timer is listed as
    /// `remove_head@(now + seconds left)`.
    pub(super) now: u64,
    /// Requests in flight per path when the running operation began.
    pub(super) inflight_before: Vec<u8>,
}

/// Why an operation stopped short.
pub(super) enum Stop {
    Gap(String),
    Progress(String),
}

/// What a running operation did that its `ret` reports.
#[derive(Default)]
pub(super) struct Events {
    submit: Option<Submit>,
    links: Vec<u32>,
    /// Paths the revalidation callback cleared READY on.
    revalidated: Vec<u32>,
}

impl Ctx {
    pub(super) fn where_is(&self, s: &State, t: usize) -> String {
        match self.m.resting(s, t) {
            Some((f, pc)) => format!("{} step {pc}", self.m.program.funcs[f as usize].name),
            None => "idle".into(),
        }
    }

    /// Runs thread `t` (already started) until its operation returns,
    /// recording the events `ret` is made of and counting failed bios.
    pub(super) fn finish(&mut self, s: &mut State, t: usize, ev: &mut Events) -> Result<(), Stop> {
        let mut guard = 0u32;
        while s.threads[t].depth > 0 {
            if s.threads[t].stuck {
                return Err(Stop::Progress(format!("a loop that does not terminate in {}", self.where_is(s, t))));
            }
            if !self.m.enabled(s, t) {
                return Err(Stop::Progress(format!("blocked in {}", self.where_is(s, t))));
            }
            if let Some((f, pc)) = self.m.resting(s, t) {
                if let Some(CStep::Plain(step)) = self.m.step_at(f, pc) {
                    match step {
                        Step::UsePathDisk { p } => {
                            let v = s.threads[t].regs[*p as usize];
                            if v == JUNK {
                                self.bios_failed += 1;
                                ev.submit.get_or_insert(Submit::Failed);
                            } else if v != 0 {
                                ev.submit.get_or_insert(Submit::Path(v as u32 - 1));
                            }
                        }
                        Step::RequeueAdd => {
                            ev.submit.get_or_insert(Submit::Requeued);
                        }
                        Step::BioFail => {
                            self.bios_failed += 1;
                            ev.submit.get_or_insert(Submit::Failed);
                        }
                        // Requests still in flight on a path being freed
                        // complete with an error (as the reference's
                        // `free_path` has it).
                        Step::FreePath { p } => {
                            let v = s.threads[t].regs[*p as usize];
                            if v != 0 && v as usize <= MAXP && s.paths[v as usize - 1].life != Life::Freed {
                                self.bios_failed += s.paths[v as usize - 1].inflight as u64;
                            }
                        }
                        Step::ClearBit { bit: crate::step::Bit::Ready, on: Some(r) }
                            if self.m.program.funcs[f as usize].name == "nvme_mpath_revalidate_paths_cb" =>
                        {
                            let v = s.threads[t].regs[*r as usize];
                            if v != 0 && (v as usize) <= MAXP {
                                ev.revalidated.push(v as u32 - 1);
                            }
                        }
                        _ => {}
                    }
                }
            }
            let links = s.links;
            self.m.run(s, t);
            for w in WorkKind::ALL {
                if s.pending & w.bit() != 0 && !self.queue.contains(&w) {
                    self.queue.push(w);
                }
            }
            for p in 0..MAXP as u32 {
                if s.links & !links & (1 << p) != 0 {
                    ev.links.push(p);
                }
            }
            guard += 1;
            if guard > 100_000 {
                return Err(Stop::Progress(format!("more than 100000 steps in {}", self.where_is(s, t))));
            }
        }
        if s.threads[t].stuck {
            return Err(Stop::Progress("a loop that does not terminate".into()));
        }
        Ok(())
    }

    pub(super) fn run_op(&mut self, s: &mut State, t: usize, op: &Op, rule: RetRule) -> Result<Ret, Stop> {
        let (name, args) = op_entry(op, self.m.driver).map_err(Stop::Gap)?;
        let func = self.m.program.func(name).ok_or_else(|| Stop::Gap(format!("op {}: no step program on this revision", op_name(op))))? as u8;
        self.m.threads[t].ops = vec![OpCall { op: op.clone(), func, args }];
        s.threads[t].ops_done = 0;
        self.m.record_ret = true;
        self.inflight_before = s.paths.iter().map(|p| p.inflight).collect();
        self.m.begin_op(s, t);
        let mut ev = Events::default();
        self.finish(s, t, &mut ev)?;
        let reg = s.threads[t].last_ret;
        let ended = |p: u32| self.inflight_before.get(p as usize).is_some_and(|&n| n > s.paths[p as usize].inflight);
        Ok(match rule {
            RetRule::Nothing => Ret::None,
            RetRule::RegPath => Ret::Path(match reg {
                0 => None,
                JUNK => return Err(Stop::Progress("an uninitialised pointer returned".into())),
                v => Some(v as u32 - 1),
            }),
            RetRule::RegBool => Ret::Bool(reg != 0),
            RetRule::Submitted => Ret::Submit(ev.submit.ok_or_else(|| Stop::Progress("the bio was neither submitted, requeued nor failed".into()))?),
            RetRule::LinksMade => Ret::Paths(ev.links),
            RetRule::Count(n) => Ret::Int(n),
            RetRule::WorksRun => Ret::None,
            RetRule::SecsShown => Ret::Str(format!("{reg}\n")),
            RetRule::PolicyShown => Ret::Str(match mpath_reference::iopolicy::iopolicy_name(reg) {
                Some(n) => format!("{n}\n"),
                None => String::new(),
            }),
            RetRule::FoundOr(e) => Ret::Int(if reg != 0 { 0 } else { e }),
            RetRule::FoundElse(a, b) => Ret::Int(if reg != 0 { a } else { b }),
            RetRule::RequestEnded(p) => Ret::Bool(ended(p)),
            RetRule::Revalidated => Ret::Paths(ev.revalidated),
        })
    }

    /// `run_works`: the worker runs every pending work until none is left.
    pub(super) fn run_works(&mut self, s: &mut State, node: i32) -> Result<Vec<Work>, Stop> {
        let mut ran = Vec::new();
        let wk = self.m.worker;
        while s.pending != 0 {
            self.queue.retain(|w| s.pending & w.bit() != 0);
            let Some(&w) = self.queue.first() else {
                return Err(Stop::Progress("a work is pending that was never queued".into()));
            };
            if w == WorkKind::Requeue && node != 0 {
                return Err(Stop::Gap("run_works on a node other than 0: the model's worker resubmits on node 0".into()));
            }
            if self.m.program.func(w.function()).is_none() {
                return Err(Stop::Gap(format!("work {}: no step program on this revision", w.function())));
            }
            // SCSI's remove work ends with the head's last put
            // (sd_mpath_put_disk -> mpath_put_disk), which flushes the
            // requeue work inside it; the step programs stop at
            // mpath_remove_disk (put_disk is not a modelled operation).
            if w == WorkKind::RemoveHead && self.m.driver == DriverKind::Scsi {
                return Err(Stop::Gap(
                    "scsi remove work: its final head put (mpath_put_disk, which flushes the requeue work) not modelled in step programs".into(),
                ));
            }
            *s = self.m.next_state(s, Action::Work(w)).ok_or_else(|| Stop::Progress(format!("{} cannot start", w.function())))?;
            self.queue.remove(0);
            let mut ev = Events::default();
            self.finish(s, wk, &mut ev)?;
            ran.push(match w {
                WorkKind::Requeue => Work::Requeue,
                WorkKind::PartitionScan => Work::PartitionScan,
                WorkKind::RemoveHead => Work::RemoveHead,
            });
            if ran.len() > 1000 {
                break;
            }
        }
        Ok(ran)
    }
}
