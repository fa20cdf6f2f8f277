//! Depth-first search: a stack of (state, discovery index, depth), the
//! first action's successor explored first.

use super::level::STATE_COST;
use super::opts::{End, Tick};
use super::shared::{code_of, Records, Shared};
use crate::canon::Masks;
use crate::machine::Action;
use crate::state::State;
use stateright::Model;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Run the DFS from the stored initial state `init`; returns the depth
/// reached.
pub(super) fn run(sh: &Shared, rec: &mut Records, init: &State, depth_cut: &AtomicBool, tick: Option<Tick>) -> usize {
    let m = sh.m;
    let mut max_depth = 1;
    let mut stack: Vec<(State, u32, u32)> = vec![(*init, 0, 1)];
    let mut actions = Vec::with_capacity(8);
    let mut succ: Vec<(Action, State, u64)> = Vec::with_capacity(8);
    let mut events: Vec<(Action, u64)> = Vec::with_capacity(8);
    let mut k = 0u64;
    let mut last = Instant::now();
    while let Some((s, idx, d)) = stack.pop() {
        k += 1;
        if k.is_multiple_of(1024) {
            sh.other_bytes.store(stack.capacity() as u64 * (STATE_COST + 8) + rec.parents.capacity() as u64 * 5, Ordering::Relaxed);
            sh.check_limits();
            if tick.is_some() && last.elapsed() >= Duration::from_millis(100) {
                last = Instant::now();
                sh.tick(tick, max_depth);
            }
        }
        if sh.halt.load(Ordering::Relaxed) {
            break;
        }
        max_depth = max_depth.max(d as usize);
        let masks = sh.masks();
        actions.clear();
        m.actions(&s, &mut actions);
        if sh.opts.max_depth.is_some_and(|md| d as usize >= md) {
            if !actions.is_empty() {
                depth_cut.store(true, Ordering::Relaxed);
            }
            continue;
        }
        successors(sh, &s, &actions, &masks, &mut succ, &mut events);
        for &(a, ev) in events.iter() {
            rec.record(ev, idx, Some(code_of(a)));
        }
        for &(a, n, ev) in succ.iter() {
            let v = sh.violations(&n) | ev;
            rec.discover(idx, code_of(a), v);
            let u = sh.unique.fetch_add(1, Ordering::Relaxed) + 1;
            if sh.opts.max_states.is_some_and(|x| u >= x) {
                sh.halt(End::States);
            }
        }
        // Explore the first action's successor first.
        for (k2, &(_, n, _)) in succ.iter().enumerate().rev() {
            stack.push((n, rec.parents.len() as u32 - (succ.len() - k2) as u32, d + 1));
        }
    }
    max_depth
}

/// The new successors of `s` (the ample one with the reduction, when one
/// qualifies), and the violations of transitions to known states as events.
#[inline]
fn successors(sh: &Shared, s: &State, actions: &[Action], masks: &Masks, succ: &mut Vec<(Action, State, u64)>, events: &mut Vec<(Action, u64)>) {
    let m = sh.m;
    succ.clear();
    events.clear();
    if let (Some(por), true) = (sh.por.as_ref(), actions.len() > 1) {
        // Proviso: the ample successor is discovered now (the
        // discovery edges form a forest: no cycle of reduced steps).
        if let Some((a, mut n, _)) =
            por.ample(m, s, actions, masks.instrumentation() || sh.opts.canon.is_none(), |n| match sh.visited.insert(sh.key_state(n, masks), 0) {
                None => Some(true),
                Some(_) => None,
            })
        {
            sh.states.fetch_add(1, Ordering::Relaxed);
            let ev = sh.settle(&mut n, masks);
            succ.push((a, n, ev));
            return;
        }
    }
    for &a in actions {
        let Some(mut n) = m.next_state(s, a) else { continue };
        sh.states.fetch_add(1, Ordering::Relaxed);
        let ev = sh.settle(&mut n, masks);
        if sh.visited.insert(sh.key_state(&n, masks), 0).is_none() {
            succ.push((a, n, ev));
        } else if ev != 0 {
            events.push((a, ev));
        }
    }
}
