//! The machine as a stateright [`Model`]: its transitions (a scenario
//! thread's next step, or the worker starting a queued work), its
//! properties (the built-in ones, then those declared as data) and each
//! step's description for stateright's Explorer. Above the interpreter,
//! the properties and the explanation, so none of them depends on it.

use crate::explain;
use crate::machine::{Action, Machine};
use crate::property::{self, View};
use crate::state::*;
use crate::step::*;
use stateright::{Model, Property};
use std::sync::atomic::Ordering;

impl Model for Machine {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![self.init]
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        if s.threads.iter().any(|t| t.stuck) && s.viol & vbit::NONTERM != 0 {
            // The spinning thread never leaves its read section; the others
            // may still run.
        }
        for t in 0..=self.worker {
            if self.enabled(s, t) {
                actions.push(Action::Run(t as u8));
            }
        }
        if s.threads[self.worker].depth == 0 {
            for w in WorkKind::ALL {
                if s.pending & w.bit() != 0 && self.program.func(w.function()).is_some() {
                    actions.push(Action::Work(w));
                }
            }
        }
    }

    fn next_state(&self, s: &State, a: Action) -> Option<State> {
        let mut n = *s;
        match a {
            Action::Run(t) => self.run(&mut n, t as usize),
            Action::Work(w) => {
                n.pending &= !w.bit();
                let f = self.program.func(w.function())? as u8;
                let wk = self.worker;
                n.threads[wk].regs = [0; NREG];
                self.start_frame(&mut n, wk, f);
                self.advance(&mut n, wk);
            }
        }
        Some(n)
    }

    fn within_boundary(&self, _s: &State) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut v = property::properties();
        v.extend(crate::dataprop::eval::properties(self));
        v
    }

    fn format_step(&self, last: &State, a: Action) -> Option<String> {
        let next = self.next_state(last, a)?;
        let d = explain::describe(self, last, &next, a);
        Some(format!("{}: {}: {}\n\n{:?}", d.thread_name, d.function, d.primitive, next))
    }

    fn format_action(&self, a: &Action) -> String {
        match a {
            Action::Run(t) => format!("run {}", self.thread_name(*t as usize)),
            Action::Work(w) => format!("worker starts {}", w.function()),
        }
    }
}

impl View for Machine {
    fn npaths(&self) -> u8 {
        self.npaths
    }
    fn nnodes(&self) -> u8 {
        self.nnodes
    }
    fn worker(&self) -> usize {
        self.worker
    }
    fn at_rest(&self, s: &State) -> bool {
        Machine::at_rest(self, s)
    }
    fn any_stuck(&self, s: &State) -> bool {
        Machine::any_stuck(self, s)
    }
    fn finished(&self, s: &State, t: usize) -> bool {
        Machine::finished(self, s, t)
    }
    fn enabled(&self, s: &State, t: usize) -> bool {
        Machine::enabled(self, s, t)
    }
    fn selectable(&self, s: &State, p: usize) -> bool {
        Machine::selectable(self, s, p)
    }
}
