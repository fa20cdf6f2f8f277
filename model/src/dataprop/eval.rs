//! Evaluating properties written as data on the machine's states, and
//! their stateright properties (one trampoline per slot).

use super::*;
use crate::machine::Machine;
use crate::state::*;
use stateright::{Model, Property};

struct Env<'a> {
    m: &'a Machine,
    s: &'a State,
    vars: [i32; 8],
}

fn terminal(m: &Machine, s: &State) -> bool {
    let mut v = Vec::new();
    m.actions(s, &mut v);
    v.is_empty()
}

fn path_of(e: &Env, i: i32) -> Option<usize> {
    (i >= 0 && (i as usize) < e.m.npaths as usize).then_some(i as usize)
}

impl Expr {
    fn int(&self, e: &mut Env) -> i32 {
        let (m, s) = (e.m, e.s);
        match self {
            Expr::Int(v) => *v,
            Expr::Var(k) => e.vars[*k as usize],
            Expr::Global(g) => match g {
                G::Requeue => s.requeue as i32,
                G::Pending => s.pending.count_ones() as i32,
                G::Stuck => s.threads.iter().filter(|t| t.stuck).count() as i32,
                G::Runnable => {
                    let enabled = (0..=m.worker).filter(|&t| m.enabled(s, t)).count() as i32;
                    enabled + (s.threads[m.worker].depth == 0 && s.pending != 0) as i32
                }
                G::Unfinished => (0..=m.worker).filter(|&t| !m.finished(s, t)).count() as i32,
                G::Iopolicy => s.iopolicy as u8 as i32,
                G::QFreeze => s.q_freeze as i32,
                G::HeadRef => s.head_ref as i32,
                G::Npaths => m.npaths as i32,
                G::Nnodes => m.nnodes as i32,
                _ => self.truth(e) as i32,
            },
            Expr::Path(i, f) => {
                let ix = i.int(e);
                let Some(p) = path_of(e, ix) else { return 0 };
                let ps = &s.paths[p];
                match f {
                    PF::Inflight => ps.inflight as i32,
                    PF::Ctrl => ps.ctrl as i32,
                    PF::Numa => ps.numa as i32,
                    PF::Id => p as i32,
                    _ => self.truth(e) as i32,
                }
            }
            Expr::Thread(i, f) => {
                let t = i.int(e);
                if t < 0 || t as usize > m.worker {
                    return 0;
                }
                match f {
                    TF::OpsDone => s.threads[t as usize].ops_done as i32,
                    TF::Id => t,
                    _ => self.truth(e) as i32,
                }
            }
            Expr::CurrentPath(n) => {
                let n = n.int(e);
                if n < 0 || n as usize >= m.nnodes as usize {
                    return -1;
                }
                match s.cp[n as usize] {
                    0 => -1,
                    crate::step::JUNK => -2,
                    v => v as i32 - 1,
                }
            }
            Expr::Bin(BinOp::Add, a, b) => a.int(e).saturating_add(b.int(e)),
            Expr::Bin(BinOp::Sub, a, b) => a.int(e).saturating_sub(b.int(e)),
            Expr::Quant(Quant::Count, d, k, body) => {
                let n = domain_len(m, d.0);
                let mut c = 0;
                for i in 0..n {
                    e.vars[*k as usize] = i;
                    c += body.truth(e) as i32;
                }
                c
            }
            _ => self.truth(e) as i32,
        }
    }

    fn truth(&self, e: &mut Env) -> bool {
        let (m, s) = (e.m, e.s);
        match self {
            Expr::Bool(b) => *b,
            Expr::Global(g) => match g {
                G::AtRest => m.at_rest(s),
                G::Terminal => terminal(m, s),
                G::HeadBit(b) => s.hbit(*b),
                G::HeadFreed => s.head_life == Life::Freed,
                G::DiskPresent => s.disk == DiskState::Allocated,
                G::DiskFreed => s.disk == DiskState::Freed,
                G::HeadLock => s.mutex[0] != 0,
                G::SubsysLock => s.mutex[1] != 0,
                G::Work(w) => s.pending & (1 << w) != 0,
                G::Viol(v) => s.viol & v != 0,
                _ => self.int(e) != 0,
            },
            Expr::Path(i, f) => {
                let ix = i.int(e);
                let Some(p) = path_of(e, ix) else {
                    return false;
                };
                let ps = &s.paths[p];
                match f {
                    PF::Bit(b) => ps.bit(*b),
                    PF::Life(l) => ps.life == *l,
                    PF::OnList => s.list().contains(&(p as u8)),
                    PF::Current => s.cp[..m.nnodes as usize].contains(&(p as u8 + 1)),
                    PF::SysfsLink => s.links & (1 << p) != 0,
                    PF::Usable => m.selectable(s, p),
                    PF::OptimizedUsable => m.optimized_usable(s, p),
                    PF::Disabled => m.is_disabled(s, p),
                    PF::Optimized => m.is_optimized(s, p),
                    _ => self.int(e) != 0,
                }
            }
            Expr::Thread(i, f) => {
                let t = i.int(e);
                if t < 0 || t as usize > m.worker {
                    return false;
                }
                let t = t as usize;
                match f {
                    TF::Finished => m.finished(s, t),
                    TF::Stuck => s.threads[t].stuck,
                    TF::Enabled => m.enabled(s, t),
                    TF::Worker => t == m.worker,
                    TF::InSrcu => s.threads[t].srcu > 0,
                    _ => self.int(e) != 0,
                }
            }
            Expr::Not(a) => !a.truth(e),
            Expr::Bin(op, a, b) => match op {
                BinOp::And => a.truth(e) && b.truth(e),
                BinOp::Or => a.truth(e) || b.truth(e),
                BinOp::Implies => !a.truth(e) || b.truth(e),
                BinOp::Eq | BinOp::Ne if is_bool(a) => (a.truth(e) == b.truth(e)) == (*op == BinOp::Eq),
                BinOp::Eq => a.int(e) == b.int(e),
                BinOp::Ne => a.int(e) != b.int(e),
                BinOp::Lt => a.int(e) < b.int(e),
                BinOp::Le => a.int(e) <= b.int(e),
                BinOp::Gt => a.int(e) > b.int(e),
                BinOp::Ge => a.int(e) >= b.int(e),
                BinOp::Add | BinOp::Sub => self.int(e) != 0,
            },
            Expr::Quant(q, d, k, body) => {
                let n = domain_len(m, d.0);
                match q {
                    Quant::All => (0..n).all(|i| {
                        e.vars[*k as usize] = i;
                        body.truth(e)
                    }),
                    Quant::Any => (0..n).any(|i| {
                        e.vars[*k as usize] = i;
                        body.truth(e)
                    }),
                    Quant::Count => self.int(e) != 0,
                }
            }
            Expr::Int(_) | Expr::Var(_) | Expr::CurrentPath(_) => self.int(e) != 0,
        }
    }
}

/// Is `e` a condition (the parser guarantees both sides of `==` agree)?
fn is_bool(e: &Expr) -> bool {
    match e {
        Expr::Bool(_) | Expr::Not(_) => true,
        Expr::Int(_) | Expr::Var(_) | Expr::CurrentPath(_) => false,
        Expr::Global(g) => global_is_bool(*g),
        Expr::Path(_, f) => !matches!(f, PF::Inflight | PF::Ctrl | PF::Numa | PF::Id),
        Expr::Thread(_, f) => !matches!(f, TF::OpsDone | TF::Id),
        Expr::Bin(op, _, _) => !matches!(op, BinOp::Add | BinOp::Sub),
        Expr::Quant(q, ..) => *q != Quant::Count,
    }
}

fn global_is_bool(g: G) -> bool {
    !matches!(g, G::Requeue | G::Pending | G::Stuck | G::Runnable | G::Unfinished | G::Iopolicy | G::QFreeze | G::HeadRef | G::Npaths | G::Nnodes)
}

fn domain_len(m: &Machine, d: Domain) -> i32 {
    match d {
        Domain::Paths => m.npaths as i32,
        Domain::Nodes => m.nnodes as i32,
        Domain::Threads => m.worker as i32 + 1,
    }
}

impl DataProperty {
    /// Does the property hold in `s`?
    pub fn holds(&self, m: &Machine, s: &State) -> bool {
        let applies = match &self.when {
            When::Always => true,
            When::AtRest => m.at_rest(s),
            When::AtEnd => terminal(m, s),
            When::After(op) => m.threads.iter().enumerate().any(|(t, tp)| tp.ops.iter().take(s.threads[t].ops_done as usize).any(|oc| op_name(&oc.op) == *op)),
        };
        if !applies {
            return true;
        }
        let mut env = Env { m, s, vars: [0; 8] };
        self.expr.truth(&mut env)
    }

    /// The swimlane label of the violating state for "at rest" / "final
    /// state" properties (`None`: the last step's function).
    pub fn state_label(&self) -> Option<&'static str> {
        match self.when {
            When::AtRest => Some("(at rest)"),
            When::AtEnd => Some("(final state)"),
            _ => None,
        }
    }
}

/// The trace `op` name of an operation.
pub fn op_name(op: &mpath_reference::ops::Op) -> String {
    serde_json::to_value(op).ok().and_then(|v| v.get("op").and_then(|o| o.as_str()).map(String::from)).unwrap_or_default()
}

macro_rules! trampolines {
    ($($i:literal)*) => {
        [$({
            fn f(m: &Machine, s: &State) -> bool {
                m.data_props.props[$i].holds(m, s)
            }
            f as fn(&Machine, &State) -> bool
        }),*]
    };
}

static TRAMPOLINES: [fn(&Machine, &State) -> bool; MAX_DATA_PROPERTIES] =
    trampolines!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);

/// The stateright properties of a machine's data properties.
pub fn properties(m: &Machine) -> Vec<Property<Machine>> {
    m.data_props.props.iter().enumerate().map(|(i, p)| Property::always(p.name, TRAMPOLINES[i])).collect()
}
