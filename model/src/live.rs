//! Register liveness (for the dead-state canonicalisation, [`crate::canon`]):
//! which of a thread's registers may still be read before being
//! overwritten, from where its call stack rests.
//!
//! A may-analysis over the compiled step programs, backwards, to a fixpoint
//! over calls. Per function `f` and step index `pc` (`pc == len` is the
//! implicit return):
//!
//! * `gen[f][pc]`: registers some execution from `pc` may read before
//!   writing them, before `f` returns;
//! * `pass[f][pc]`: registers some execution from `pc` may leave unwritten
//!   until `f` returns.
//!
//! Then a thread whose frames are `f0@pc0 .. fk@pck` (outermost first; an
//! outer frame's `pc` is the step after its call) may read exactly the
//! registers in `live = gen_k | (pass_k & live(f0..f(k-1)))`, with nothing
//! live below the outermost frame (the operation ends and its registers
//! are zeroed) except `ret` when the machine records it.
//!
//! Over-approximations only (sound): a shared step reads every register
//! operand it names (its `dst` aside: no shared step reads its destination,
//! and none counts as writing it), plus the implicit ones (`Consider`: the
//! selector registers; `ListNext` / `NextDev`: the loop counter; the ioctl
//! steps and `IsCtrlIoctl`: `arg`); only `set` kills a register, and a call
//! (its frame start) the loop counter; `mpath_find_path`'s return reads
//! `ret` (the selection instrumentation); a builtin function (a kernel
//! primitive the machine runs natively) reads and keeps every register,
//! and a thread with a builtin frame keeps them all.

use crate::machine::Machine;
use crate::state::Thread;
use crate::step::{CStep, Pred, Reg, Step, Val};

const ALL: u16 = u16::MAX;

fn bit(r: Reg) -> u16 {
    1 << (r as u16)
}

fn val_reads(v: &Val) -> u16 {
    match v {
        Val::Reg(r) => bit(*r),
        _ => 0,
    }
}

/// The registers a shared (or unknown local) step may read, `dst` aside.
pub fn step_reads(step: &Step) -> u16 {
    // Every register operand: the step's fields as data (a `Reg` field
    // serialises as its name; `Val` is untagged). Label names, function
    // names and enum-typed fields are skipped by key.
    let mut r = 0u16;
    match serde_json::to_value(step) {
        Ok(serde_json::Value::Object(fields)) => {
            for (k, v) in fields {
                if matches!(k.as_str(), "s" | "to" | "name" | "f" | "bit" | "what" | "mode" | "m" | "w" | "field" | "dst") {
                    continue;
                }
                if let serde_json::Value::String(_) = v {
                    if let Ok(reg) = serde_json::from_value::<Reg>(v) {
                        r |= bit(reg);
                    }
                }
            }
        }
        _ => return ALL,
    }
    r | match step {
        Step::Consider { .. } => {
            bit(Reg::Dev) | bit(Reg::Old) | bit(Reg::N) | bit(Reg::Found) | bit(Reg::FoundD) | bit(Reg::Fallback) | bit(Reg::FallbackD) | bit(Reg::Tmp)
        }
        Step::ListNext { .. } | Step::NextDev { .. } => bit(Reg::Cnt),
        Step::Load { what: Pred::IsCtrlIoctl, .. } | Step::IoctlBegin { .. } => bit(Reg::Arg),
        _ => 0,
    }
}

/// Per-function tables of the analysis.
#[derive(Clone, Debug, Default)]
pub struct Liveness {
    gen: Vec<Vec<u16>>,
    pass: Vec<Vec<u16>>,
    builtin: Vec<bool>,
    /// Live below the outermost frame.
    base: u16,
}

impl Liveness {
    pub fn new(m: &Machine) -> Liveness {
        let prog = &m.program;
        let n = prog.funcs.len();
        let builtin: Vec<bool> = (0..n).map(|f| m.builtin(f as u8).is_some()).collect();
        let reads: Vec<Vec<u16>> = prog
            .funcs
            .iter()
            .map(|func| {
                func.steps
                    .iter()
                    .map(|st| match st {
                        CStep::Plain(s) if !s.is_local() => step_reads(s),
                        _ => 0,
                    })
                    .collect()
            })
            .collect();
        let mut gen: Vec<Vec<u16>> = prog.funcs.iter().map(|f| vec![0; f.steps.len() + 1]).collect();
        let mut pass: Vec<Vec<u16>> = gen.clone();
        let cnt = bit(Reg::Cnt);
        loop {
            let mut changed = false;
            for f in 0..n {
                let steps = &prog.funcs[f].steps;
                let len = steps.len();
                let ret_reads = if Some(f as u8) == m.find_path_fn { bit(Reg::Ret) } else { 0 };
                for pc in (0..=len).rev() {
                    let at = |v: &Vec<u16>, to: usize| v[to.min(len)];
                    let (g, p) = if builtin[f] {
                        (ALL, ALL)
                    } else if pc == len {
                        (ret_reads, ALL)
                    } else {
                        let (gn, pn) = (gen[f][pc + 1], pass[f][pc + 1]);
                        match &steps[pc] {
                            CStep::Plain(Step::Return) => (ret_reads, ALL),
                            CStep::Plain(Step::Set { r, v }) => (val_reads(v) | (gn & !bit(*r)), pn & !bit(*r)),
                            CStep::Plain(Step::Inc { r }) | CStep::Plain(Step::Dec { r }) => (bit(*r) | gn, pn),
                            CStep::Plain(s) if s.is_local() => (ALL, ALL),
                            CStep::Plain(_) => (reads[f][pc] | gn, pn),
                            CStep::Goto(to) => (at(&gen[f], *to as usize), at(&pass[f], *to as usize)),
                            CStep::IfZero(r, to) | CStep::IfNonZero(r, to) => (bit(*r) | gn | at(&gen[f], *to as usize), pn | at(&pass[f], *to as usize)),
                            CStep::IfEq(a, b, to) | CStep::IfNe(a, b, to) | CStep::IfLt(a, b, to) => {
                                (bit(*a) | val_reads(b) | gn | at(&gen[f], *to as usize), pn | at(&pass[f], *to as usize))
                            }
                            CStep::Call(g) => {
                                let g = *g as usize;
                                if g >= n || builtin[g] {
                                    (ALL, ALL)
                                } else {
                                    ((gen[g][0] | (pass[g][0] & gn)) & !cnt, pass[g][0] & pn & !cnt)
                                }
                            }
                        }
                    };
                    if g != gen[f][pc] || p != pass[f][pc] {
                        gen[f][pc] |= g;
                        pass[f][pc] |= p;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        Liveness { gen, pass, builtin, base: if m.record_ret { bit(Reg::Ret) } else { 0 } }
    }

    /// An unsound analysis that declares every register dead everywhere
    /// (a broken variant for the tests: the canonicalisation must then
    /// change verdicts, showing the verdict comparison can catch it).
    #[doc(hidden)]
    pub fn all_dead_for_tests(m: &Machine) -> Liveness {
        let gen: Vec<Vec<u16>> = m.program.funcs.iter().map(|f| vec![0; f.steps.len() + 1]).collect();
        Liveness { pass: gen.clone(), gen, builtin: vec![false; m.program.funcs.len()], base: 0 }
    }

    /// The registers thread `th` may still read (`None`: keep them all).
    pub fn live(&self, th: &Thread) -> Option<u16> {
        if th.stuck || th.depth == 0 {
            return None;
        }
        let mut live = self.base;
        for fr in &th.stack[..th.depth as usize] {
            let f = fr.func as usize;
            if self.builtin.get(f).copied().unwrap_or(true) {
                return None;
            }
            let g = self.gen[f].get(fr.pc as usize).copied().unwrap_or(ALL);
            let p = self.pass[f].get(fr.pc as usize).copied().unwrap_or(ALL);
            live = g | (p & live);
        }
        Some(live)
    }

    /// Zero the dead registers of `th`.
    #[inline]
    pub fn apply(&self, th: &mut Thread) {
        if let Some(live) = self.live(th) {
            for (i, r) in th.regs.iter_mut().enumerate() {
                if live & (1 << i) == 0 {
                    *r = 0;
                }
            }
        }
    }
}
