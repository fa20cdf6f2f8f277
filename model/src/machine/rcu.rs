//! RCU list and pointers: `list_add_tail_rcu`, `list_del_rcu` (keeps `next`),
//! the walk (`list_first_or_null_rcu`, `list_next_or_null_rcu`, the
//! round-robin `next_dev`), `list_empty` / `list_is_singular`, and the
//! RCU-published `current_path[]` slots (`srcu_dereference`,
//! `rcu_assign_pointer`, clearing).

use super::Machine;
use crate::state::*;
use crate::step::*;

impl Machine {
    /// Run a list or `current_path[]` step; returns true when it changed what
    /// the selectors read.
    #[inline]
    pub(super) fn exec_rcu(&self, s: &mut State, t: usize, step: &Step) -> bool {
        let reg = |s: &State, r: Reg| s.threads[t].regs[r as usize];
        match step {
            Step::ListAddTail { p } => {
                let v = reg(s, *p);
                if let Some(pi) = self.touch(s, v) {
                    let last = s.head_prev;
                    s.paths[pi].next = LHEAD;
                    s.paths[pi].prev = last;
                    *Self::link_of(s, last).0 = v;
                    s.head_prev = v;
                    s.paths[pi].life = Life::Linked;
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
                    if s.paths[pi].life == Life::Linked {
                        s.paths[pi].life = Life::Unlinked;
                    }
                }
                return true;
            }
            Step::ListFirst { dst } => {
                let v = s.head_next;
                set!(s, t, *dst, v);
                set!(s, t, Reg::Cnt, 0);
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
                set!(s, t, *r, n);
                self.count_loop(s, t);
            }
            Step::ListEmpty { dst } => {
                let v = (s.head_next == LHEAD) as u8;
                set!(s, t, *dst, v)
            }
            Step::ListSingular { dst } => {
                let v = (s.head_next != LHEAD && s.head_next == s.head_prev) as u8;
                set!(s, t, *dst, v)
            }
            Step::CpLoad { dst, node } => {
                let n = reg(s, *node) as usize;
                let v = if n < MAXN { s.cp[n] } else { 0 };
                set!(s, t, *dst, v)
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
                set!(s, t, *dst, changed as u8);
                return true;
            }
            Step::CpClearAll => {
                s.cp = [0; MAXN];
                return true;
            }
            _ => {}
        }
        false
    }

    pub(super) fn link_of(s: &mut State, l: u8) -> (&mut u8, &mut u8) {
        if l == LHEAD {
            (&mut s.head_next, &mut s.head_prev)
        } else {
            let p = &mut s.paths[(l - 1) as usize];
            (&mut p.next, &mut p.prev)
        }
    }

    pub(super) fn count_loop(&self, s: &mut State, t: usize) -> bool {
        let th = &mut s.threads[t];
        th.regs[Reg::Cnt as usize] = th.regs[Reg::Cnt as usize].saturating_add(1);
        if th.regs[Reg::Cnt as usize] > self.loop_bound {
            th.stuck = true;
            s.viol |= vbit::NONTERM;
            return false;
        }
        true
    }
}
