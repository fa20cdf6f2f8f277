//! The checker's own explicit-state search (replacing stateright's BFS/DFS
//! for `check`): a visited set of 128-bit state fingerprints, properties
//! evaluated once per new state, parent records (4 + 1 bytes per state)
//! for counterexamples, an accounted memory bound, optional partial-order
//! reduction ([`crate::por`]) with the dead-state canonicalisation
//! ([`crate::canon`]) and a level-synchronous multi-threaded BFS.
//!
//! Single-threaded BFS explores states in exactly the order of a FIFO
//! breadth-first search with actions in model order, and checks the
//! properties of a state when it is first discovered, so the first
//! violating state it records for a property is the one the shortest
//! counterexample search finds (the same shortest counterexample).

use crate::bounds::Mode;
use crate::canon::Masks;
use crate::machine::{Action, Machine};
use crate::state::State;
use crate::step::WorkKind;
use stateright::Model;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Default bound on the memory the search accounts for (visited set,
/// frontier, parent records): 8 GiB.
pub const DEFAULT_MAX_MEMORY: u64 = 8 << 30;

/// A property condition (true = holds in the state).
pub type Cond = fn(&Machine, &State) -> bool;

/// How to search.
#[derive(Clone, Debug)]
pub struct Opts {
    pub mode: Mode,
    /// Checker threads (BFS only; DFS always runs on one).
    pub threads: usize,
    pub symmetry: bool,
    pub reduction: bool,
    pub max_depth: Option<usize>,
    pub max_states: Option<usize>,
    pub timeout: Option<Duration>,
    pub max_memory: u64,
    /// Stop as soon as every property has a violation.
    pub stop_when_all_found: bool,
    /// Dead-state canonicalisation ([`crate::canon`]), with the reduction.
    pub canon: Option<crate::canon::Canon>,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            mode: Mode::Bfs,
            threads: 1,
            symmetry: false,
            reduction: false,
            max_depth: None,
            max_states: None,
            timeout: None,
            max_memory: DEFAULT_MAX_MEMORY,
            stop_when_all_found: true,
            canon: None,
        }
    }
}

/// Why the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Every reachable state (of the reduced graph, with reduction) was
    /// explored.
    Complete,
    /// Every property has a violation (the rest was not explored).
    AllFound,
    Depth,
    States,
    Time,
    Memory,
    Interrupted,
}

/// The result of a search.
pub struct Outcome {
    /// Generated states (the initial one and every successor, repeats included).
    pub states: usize,
    pub unique: usize,
    pub max_depth: usize,
    /// Per property (in the order given): the discovery index of the first
    /// violating state recorded (with `found_step`, of the state the
    /// violating transition starts from).
    pub found: Vec<Option<u32>>,
    /// Per property: the action code of the violating transition taken
    /// from the state `found` names, when the violation was recorded as a
    /// transition event ([`crate::canon`]) rather than as a new state.
    pub found_step: Vec<Option<u8>>,
    pub end: End,
    /// Peak accounted memory in bytes.
    pub memory: u64,
    parents: Vec<u32>,
    acts: Vec<u8>,
}

impl Outcome {
    /// The path from the initial state to the state discovered as `idx`:
    /// `(state, action taken from it)`, the last with `None`.
    pub fn path(&self, m: &Machine, idx: u32) -> Vec<(State, Option<Action>)> {
        let mut codes = Vec::new();
        let mut j = idx;
        while j != 0 {
            codes.push(self.acts[j as usize]);
            j = self.parents[j as usize];
        }
        codes.reverse();
        let mut out = Vec::with_capacity(codes.len() + 1);
        let mut s = m.init;
        for c in codes {
            let a = action_of(c);
            out.push((s, Some(a)));
            s = m.next_state(&s, a).expect("a recorded action replays");
        }
        out.push((s, None));
        out
    }

    /// The path to the violation of property `i` (the state the search
    /// recorded, or the target of the transition it recorded).
    pub fn witness(&self, m: &Machine, i: usize) -> Option<Vec<(State, Option<Action>)>> {
        let idx = self.found.get(i).copied().flatten()?;
        let mut p = self.path(m, idx);
        if let Some(code) = self.found_step.get(i).copied().flatten() {
            let a = action_of(code);
            let s = p.last().map(|x| x.0)?;
            let n = m.next_state(&s, a)?;
            if let Some(last) = p.last_mut() {
                last.1 = Some(a);
            }
            p.push((n, None));
        }
        Some(p)
    }
}

fn code_of(a: Action) -> u8 {
    match a {
        Action::Run(t) => t,
        Action::Work(w) => 0x80 | WorkKind::ALL.iter().position(|&k| k == w).unwrap_or(0) as u8,
    }
}

fn action_of(c: u8) -> Action {
    if c & 0x80 != 0 {
        Action::Work(WorkKind::ALL[(c & 0x7f) as usize])
    } else {
        Action::Run(c)
    }
}

// ------------------------------------------------------------------ visited set

/// An open-addressing set of fingerprints; each key carries the search
/// level (BFS depth) it was inserted at in its low 16 bits.
struct Table {
    slots: Vec<u128>,
    len: usize,
}

impl Table {
    fn new() -> Table {
        Table { slots: vec![0; 64], len: 0 }
    }
    fn bytes(&self) -> u64 {
        (self.slots.len() * 16) as u64
    }
    /// Insert `key`; `None` if it was new, else the level it carries.
    #[inline]
    fn insert(&mut self, key: u128, grown: &AtomicU64) -> Option<u16> {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let old = std::mem::take(&mut self.slots);
            self.slots = vec![0; old.len() * 2];
            grown.fetch_add((old.len() * 16) as u64, Ordering::Relaxed);
            let mask = self.slots.len() - 1;
            for k in old.into_iter().filter(|&k| k != 0) {
                let mut i = (k >> 32) as usize & mask;
                while self.slots[i] != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = k;
            }
        }
        let mask = self.slots.len() - 1;
        let mut i = (key >> 32) as usize & mask;
        loop {
            let e = self.slots[i];
            if e == 0 {
                self.slots[i] = key;
                self.len += 1;
                return None;
            }
            if (e ^ key) >> 16 == 0 {
                return Some(e as u16);
            }
            i = (i + 1) & mask;
        }
    }
}

const SHARDS: usize = 64;

struct Visited {
    shards: Vec<Mutex<Table>>,
    bytes: AtomicU64,
}

impl Visited {
    fn new() -> Visited {
        let shards: Vec<_> = (0..SHARDS).map(|_| Mutex::new(Table::new())).collect();
        let bytes = shards.iter().map(|t| t.lock().unwrap().bytes()).sum();
        Visited { shards, bytes: AtomicU64::new(bytes) }
    }
    #[inline]
    fn insert(&self, fp: u128, level: usize) -> Option<u16> {
        let key = (fp & !0xffff) | (1 << 127) | level.min(0xffff) as u128;
        let shard = (key >> 100) as usize % SHARDS;
        self.shards[shard].lock().unwrap_or_else(|e| e.into_inner()).insert(key, &self.bytes)
    }
}

// ------------------------------------------------------------------ search

struct Shared<'a> {
    m: &'a Machine,
    props: &'a [Cond],
    opts: &'a Opts,
    visited: Visited,
    /// Properties still without a violation (bit per property).
    open: AtomicU64,
    unique: AtomicUsize,
    states: AtomicUsize,
    halt: AtomicBool,
    end: Mutex<Option<End>>,
    start: Instant,
    stop: &'a AtomicBool,
    /// Bytes of the frontier and records (besides the visited set).
    other_bytes: AtomicU64,
    peak: AtomicU64,
    por: Option<crate::por::Por>,
}

impl Shared<'_> {
    fn halt(&self, e: End) {
        let mut g = self.end.lock().unwrap_or_else(|x| x.into_inner());
        if g.is_none() {
            *g = Some(e);
        }
        self.halt.store(true, Ordering::Relaxed);
    }
    /// The fingerprint of `n` (canonicalised with `masks` when the search
    /// canonicalises; `n` itself may be a raw successor).
    fn key_state(&self, n: &State, masks: &Masks) -> u128 {
        if self.opts.symmetry {
            n.canonical().fingerprint()
        } else if let Some(c) = self.opts.canon.as_ref() {
            let mut k = *n;
            c.apply(&mut k, masks);
            k.fingerprint()
        } else {
            n.fingerprint()
        }
    }
    /// The canonicalisation's masks for the properties open now (taken
    /// between BFS levels only, so a level's states do not depend on the
    /// threads' schedule).
    fn masks(&self) -> Masks {
        self.opts.canon.as_ref().map(|c| c.masks(self.open.load(Ordering::Relaxed))).unwrap_or_default()
    }
    /// A successor `n` of a stored state: the properties its transition
    /// violates as events (violation bits of open properties it sets), then
    /// `n` canonicalised. Returns the violated properties.
    #[inline]
    fn settle(&self, n: &mut State, masks: &Masks) -> u64 {
        let Some(c) = self.opts.canon.as_ref() else { return 0 };
        let v = if n.viol & masks.events != 0 { self.violations(n) } else { 0 };
        c.apply(n, masks);
        v
    }
    /// Violated properties among the open ones (bit mask).
    fn violations(&self, s: &State) -> u64 {
        let open = self.open.load(Ordering::Relaxed);
        let mut v = 0;
        let mut bits = open;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if !(self.props[i])(self.m, s) {
                v |= 1 << i;
            }
        }
        if v != 0 {
            let left = self.open.fetch_and(!v, Ordering::Relaxed) & !v;
            if left == 0 && self.opts.stop_when_all_found {
                self.halt(End::AllFound);
            }
        }
        v
    }
    /// Periodic checks (time, interrupt, memory).
    fn check_limits(&self) {
        if self.stop.load(Ordering::Relaxed) {
            self.halt(End::Interrupted);
        }
        if self.opts.timeout.is_some_and(|t| self.start.elapsed() >= t) {
            self.halt(End::Time);
        }
        let mem = self.visited.bytes.load(Ordering::Relaxed) + self.other_bytes.load(Ordering::Relaxed);
        self.peak.fetch_max(mem, Ordering::Relaxed);
        if mem > self.opts.max_memory {
            self.halt(End::Memory);
        }
    }
}

/// A newly discovered state of a level: the state, its parent's discovery
/// index, the action code and the properties it violates.
/// States of a BFS level, packed ([`pack`]): `bytes[offs[i]..offs[i + 1]]`.
struct Level {
    bytes: Vec<u8>,
    offs: Vec<usize>,
}

impl Level {
    fn new() -> Level {
        Level { bytes: Vec::new(), offs: vec![0] }
    }
    fn len(&self) -> usize {
        self.offs.len() - 1
    }
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn get(&self, base: &State, i: usize) -> State {
        unpack(base, &self.bytes[self.offs[i]..self.offs[i + 1]])
    }
    fn push(&mut self, base: &State, s: &State) {
        pack(base, s, &mut self.bytes);
        self.offs.push(self.bytes.len());
    }
    fn heap_bytes(&self) -> u64 {
        (self.bytes.capacity() + self.offs.capacity() * 8) as u64
    }
}

/// New states a checker thread discovered in a level: packed states and,
/// per state, its parent's discovery index, the action code and the
/// properties it violates.
struct Out {
    level: Level,
    meta: Vec<(u32, u8, u64)>,
    /// Violations recorded as events of transitions whose target was
    /// already known: (source's discovery index, action code, properties).
    events: Vec<(u32, u8, u64)>,
}

/// Pack `s` as its differences from `base` (the initial state): runs of
/// (bytes equal to base: count, differing bytes: count, the bytes).
/// States in a level differ from the initial state in a few dozen of
/// their bytes, so a frontier costs a third or less of plain states.
fn pack(base: &State, s: &State, out: &mut Vec<u8>) {
    let (b, z) = (s.as_bytes(), base.as_bytes());
    let n = b.len();
    let mut i = 0;
    while i < n {
        let mut same = 0;
        while i < n && same < 255 && b[i] == z[i] {
            same += 1;
            i += 1;
        }
        let start = i;
        while i < n && i - start < 255 && b[i] != z[i] {
            i += 1;
        }
        if same == 0 && i == start {
            continue;
        }
        out.push(same as u8);
        out.push((i - start) as u8);
        out.extend_from_slice(&b[start..i]);
    }
}

/// The state [`pack`] packed against the same `base`.
fn unpack(base: &State, packed: &[u8]) -> State {
    let mut s = *base;
    let n = std::mem::size_of::<State>();
    // SAFETY: State has no padding (crate::state::STATE_BYTES) and the
    // bytes written are a valid state's own bytes at the same offsets
    // (`packed` comes from `pack` of a State against this `base`), so the
    // result is that state, field for field.
    let dst = unsafe { std::slice::from_raw_parts_mut(&mut s as *mut State as *mut u8, n) };
    let (mut i, mut k) = (0usize, 0usize);
    while k + 1 < packed.len() {
        i += packed[k] as usize;
        let len = packed[k + 1] as usize;
        dst[i..i + len].copy_from_slice(&packed[k + 2..k + 2 + len]);
        i += len;
        k += 2 + len;
    }
    s
}

const STATE_COST: u64 = std::mem::size_of::<State>() as u64;

/// Expand states `frontier[range]` (discovery indices from `base`) at
/// `level` (1 = the initial state); new states go to `out`.
#[allow(clippy::too_many_arguments)] // one BFS level's slice: its context, range and outputs
fn expand(sh: &Shared, frontier: &Level, base: u32, lo: usize, hi: usize, level: usize, out: &mut Out, depth_cut: &AtomicBool, masks: &Masks) {
    let m = sh.m;
    let mut actions = Vec::with_capacity(8);
    for i in 0..hi - lo {
        let s0 = frontier.get(&m.init, lo + i);
        let s = &s0;
        if (lo + i).is_multiple_of(256) {
            sh.check_limits();
        }
        if sh.halt.load(Ordering::Relaxed) {
            return;
        }
        let idx = base + (lo + i) as u32;
        if sh.opts.max_depth.is_some_and(|d| level >= d) {
            actions.clear();
            m.actions(s, &mut actions);
            if !actions.is_empty() {
                depth_cut.store(true, Ordering::Relaxed);
            }
            continue;
        }
        actions.clear();
        m.actions(s, &mut actions);
        if let (Some(por), true) = (sh.por.as_ref(), actions.len() > 1) {
            if let Some((a, mut n, fresh)) =
                por.ample(m, s, &actions, masks.instrumentation() || sh.opts.canon.is_none(), |n| match sh.visited.insert(sh.key_state(n, masks), level + 1) {
                    None => Some(true),
                    Some(l) if l as usize == (level + 1).min(0xffff) => Some(false),
                    Some(_) => None,
                })
            {
                sh.states.fetch_add(1, Ordering::Relaxed);
                let ev = sh.settle(&mut n, masks);
                if fresh {
                    push_new(sh, out, n, idx, a, ev);
                } else if ev != 0 {
                    out.events.push((idx, code_of(a), ev));
                }
                continue;
            }
        }
        for &a in &actions {
            let Some(mut n) = m.next_state(s, a) else { continue };
            sh.states.fetch_add(1, Ordering::Relaxed);
            let ev = sh.settle(&mut n, masks);
            if sh.visited.insert(sh.key_state(&n, masks), level + 1).is_none() {
                push_new(sh, out, n, idx, a, ev);
                if sh.halt.load(Ordering::Relaxed) {
                    return;
                }
            } else if ev != 0 {
                out.events.push((idx, code_of(a), ev));
            }
        }
    }
}

#[inline]
fn push_new(sh: &Shared, out: &mut Out, n: State, parent: u32, a: Action, events: u64) {
    let v = sh.violations(&n) | events;
    let before = out.level.bytes.len();
    out.level.push(&sh.m.init, &n);
    out.meta.push((parent, code_of(a), v));
    sh.other_bytes.fetch_add((out.level.bytes.len() - before) as u64 + 8 + 16, Ordering::Relaxed);
    let u = sh.unique.fetch_add(1, Ordering::Relaxed) + 1;
    if sh.opts.max_states.is_some_and(|k| u >= k) {
        sh.halt(End::States);
    }
}

/// Progress callback argument: (states, unique, depth, elapsed).
pub type Tick<'a> = &'a dyn Fn(usize, usize, usize, Duration);

/// Search from the machine's initial state, checking `props`.
pub fn search(m: &Machine, props: &[Cond], opts: &Opts, stop: &AtomicBool, tick: Option<Tick>) -> Outcome {
    assert!(props.len() <= 64, "at most 64 properties per search");
    let sh = Shared {
        m,
        props,
        opts,
        visited: Visited::new(),
        open: AtomicU64::new(if props.len() == 64 { u64::MAX } else { (1u64 << props.len()) - 1 }),
        unique: AtomicUsize::new(1),
        states: AtomicUsize::new(1),
        halt: AtomicBool::new(false),
        end: Mutex::new(None),
        start: Instant::now(),
        stop,
        other_bytes: AtomicU64::new(0),
        peak: AtomicU64::new(0),
        por: (opts.reduction && !opts.symmetry).then(|| crate::por::Por::new(m)),
    };
    let mut found: Vec<Option<u32>> = vec![None; props.len()];
    let mut found_step: Vec<Option<u8>> = vec![None; props.len()];
    let mut parents: Vec<u32> = vec![0];
    let mut acts: Vec<u8> = vec![0];
    let v0 = sh.violations(&m.init);
    record(&mut found, v0, 0);
    // The stored initial state (canonicalised when the search does).
    let mut init = m.init;
    let mut masks = sh.masks();
    if let Some(c) = opts.canon.as_ref() {
        c.apply(&mut init, &masks);
    }
    sh.visited.insert(sh.key_state(&init, &masks), 1);
    let mut max_depth = 1;
    let depth_cut = AtomicBool::new(false);
    if props.is_empty() && opts.stop_when_all_found {
        sh.halt(End::AllFound);
    }
    match opts.mode {
        Mode::Bfs => {
            let mut frontier = Level::new();
            frontier.push(&m.init, &init);
            let mut base: u32 = 0;
            let mut level = 1;
            let threads = opts.threads.max(1);
            while !frontier.is_empty() && !sh.halt.load(Ordering::Relaxed) {
                max_depth = level;
                masks = sh.masks();
                sh.other_bytes.store(frontier.heap_bytes() + parents.capacity() as u64 * 5, Ordering::Relaxed);
                let mut outs: Vec<Out> = Vec::new();
                if threads == 1 {
                    let mut out = Out { level: Level::new(), meta: Vec::new(), events: Vec::new() };
                    // Progress and limits between chunks.
                    let chunk = 4096;
                    let mut lo = 0;
                    let mut last = Instant::now();
                    while lo < frontier.len() && !sh.halt.load(Ordering::Relaxed) {
                        let hi = (lo + chunk).min(frontier.len());
                        expand(&sh, &frontier, base, lo, hi, level, &mut out, &depth_cut, &masks);
                        lo = hi;
                        if let Some(t) = tick {
                            if last.elapsed() >= Duration::from_millis(100) {
                                last = Instant::now();
                                t(sh.states.load(Ordering::Relaxed), sh.unique.load(Ordering::Relaxed), level, sh.start.elapsed());
                            }
                        }
                    }
                    outs.push(out);
                } else {
                    let next_chunk = AtomicUsize::new(0);
                    let chunk = 512;
                    let done = AtomicUsize::new(0);
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = (0..threads)
                            .map(|_| {
                                let (sh, frontier, next_chunk, depth_cut, done, masks) = (&sh, &frontier, &next_chunk, &depth_cut, &done, &masks);
                                scope.spawn(move || {
                                    let mut out = Out { level: Level::new(), meta: Vec::new(), events: Vec::new() };
                                    loop {
                                        let lo = next_chunk.fetch_add(chunk, Ordering::Relaxed);
                                        if lo >= frontier.len() || sh.halt.load(Ordering::Relaxed) {
                                            break;
                                        }
                                        let hi = (lo + chunk).min(frontier.len());
                                        expand(sh, frontier, base, lo, hi, level, &mut out, depth_cut, masks);
                                    }
                                    done.fetch_add(1, Ordering::Relaxed);
                                    out
                                })
                            })
                            .collect();
                        while done.load(Ordering::Relaxed) < threads {
                            std::thread::sleep(Duration::from_millis(20));
                            sh.check_limits();
                            if let Some(t) = tick {
                                t(sh.states.load(Ordering::Relaxed), sh.unique.load(Ordering::Relaxed), level, sh.start.elapsed());
                            }
                        }
                        for h in handles {
                            outs.push(h.join().expect("checker thread"));
                        }
                    });
                }
                base += frontier.len() as u32;
                drop(frontier);
                let total: usize = outs.iter().map(|o| o.level.bytes.len()).sum();
                let count: usize = outs.iter().map(|o| o.meta.len()).sum();
                let mut next = Level { bytes: Vec::with_capacity(total), offs: Vec::with_capacity(count + 1) };
                next.offs.push(0);
                for out in outs {
                    let shift = next.bytes.len();
                    next.bytes.extend_from_slice(&out.level.bytes);
                    next.offs.extend(out.level.offs[1..].iter().map(|o| o + shift));
                    for (parent, a, v) in out.meta {
                        let idx = parents.len() as u32;
                        parents.push(parent);
                        acts.push(a);
                        record(&mut found, v, idx);
                    }
                    for (parent, a, v) in out.events {
                        record_step(&mut found, &mut found_step, v, parent, a);
                    }
                }
                frontier = next;
                level += 1;
            }
            if !frontier.is_empty() && !sh.halt.load(Ordering::Relaxed) {
                max_depth = level;
            }
        }
        Mode::Dfs => {
            // Depth-first: a stack of (state, discovery index, depth).
            let mut stack: Vec<(State, u32, u32)> = vec![(init, 0, 1)];
            let mut actions = Vec::with_capacity(8);
            let mut succ: Vec<(Action, State, u64)> = Vec::with_capacity(8);
            let mut events: Vec<(Action, u64)> = Vec::with_capacity(8);
            let mut k = 0u64;
            let mut last = Instant::now();
            while let Some((s, idx, d)) = stack.pop() {
                k += 1;
                if k.is_multiple_of(1024) {
                    sh.other_bytes.store(stack.capacity() as u64 * (STATE_COST + 8) + parents.capacity() as u64 * 5, Ordering::Relaxed);
                    sh.check_limits();
                    if let Some(t) = tick {
                        if last.elapsed() >= Duration::from_millis(100) {
                            last = Instant::now();
                            t(sh.states.load(Ordering::Relaxed), sh.unique.load(Ordering::Relaxed), max_depth, sh.start.elapsed());
                        }
                    }
                }
                if sh.halt.load(Ordering::Relaxed) {
                    break;
                }
                max_depth = max_depth.max(d as usize);
                masks = sh.masks();
                actions.clear();
                m.actions(&s, &mut actions);
                if opts.max_depth.is_some_and(|md| d as usize >= md) {
                    if !actions.is_empty() {
                        depth_cut.store(true, Ordering::Relaxed);
                    }
                    continue;
                }
                succ.clear();
                events.clear();
                let mut reduced = false;
                if let (Some(por), true) = (sh.por.as_ref(), actions.len() > 1) {
                    // Proviso: the ample successor is discovered now (the
                    // discovery edges form a forest: no cycle of reduced steps).
                    if let Some((a, mut n, _)) = por.ample(m, &s, &actions, masks.instrumentation() || sh.opts.canon.is_none(), |n| {
                        match sh.visited.insert(sh.key_state(n, &masks), 0) {
                            None => Some(true),
                            Some(_) => None,
                        }
                    }) {
                        sh.states.fetch_add(1, Ordering::Relaxed);
                        let ev = sh.settle(&mut n, &masks);
                        succ.push((a, n, ev));
                        reduced = true;
                    }
                }
                if !reduced {
                    for &a in &actions {
                        let Some(mut n) = m.next_state(&s, a) else { continue };
                        sh.states.fetch_add(1, Ordering::Relaxed);
                        let ev = sh.settle(&mut n, &masks);
                        if sh.visited.insert(sh.key_state(&n, &masks), 0).is_none() {
                            succ.push((a, n, ev));
                        } else if ev != 0 {
                            events.push((a, ev));
                        }
                    }
                }
                for &(a, ev) in events.iter() {
                    record_step(&mut found, &mut found_step, ev, idx, code_of(a));
                }
                for &(a, n, ev) in succ.iter() {
                    let v = sh.violations(&n) | ev;
                    let j = parents.len() as u32;
                    parents.push(idx);
                    acts.push(code_of(a));
                    record(&mut found, v, j);
                    let u = sh.unique.fetch_add(1, Ordering::Relaxed) + 1;
                    if opts.max_states.is_some_and(|x| u >= x) {
                        sh.halt(End::States);
                    }
                }
                // Explore the first action's successor first.
                for (k2, &(_, n, _)) in succ.iter().enumerate().rev() {
                    stack.push((n, parents.len() as u32 - (succ.len() - k2) as u32, d + 1));
                }
            }
        }
    }
    sh.check_limits();
    let end = sh.end.lock().unwrap_or_else(|x| x.into_inner()).take();
    let end = match end {
        Some(e) => e,
        None if depth_cut.load(Ordering::Relaxed) => End::Depth,
        None => End::Complete,
    };
    if let Some(t) = tick {
        t(sh.states.load(Ordering::Relaxed), sh.unique.load(Ordering::Relaxed), max_depth, sh.start.elapsed());
    }
    Outcome {
        states: sh.states.load(Ordering::Relaxed),
        unique: parents.len(),
        max_depth,
        found,
        found_step,
        end,
        memory: sh.peak.load(Ordering::Relaxed).max(sh.visited.bytes.load(Ordering::Relaxed)),
        parents,
        acts,
    }
}

fn record(found: &mut [Option<u32>], v: u64, idx: u32) {
    let mut bits = v;
    while bits != 0 {
        let i = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        if found[i].is_none() {
            found[i] = Some(idx);
        }
    }
}

/// Record violations `v` as events of the transition `action` from the
/// state discovered as `idx` (for properties without one yet).
fn record_step(found: &mut [Option<u32>], found_step: &mut [Option<u8>], v: u64, idx: u32, action: u8) {
    let mut bits = v;
    while bits != 0 {
        let i = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        if found[i].is_none() {
            found[i] = Some(idx);
            found_step[i] = Some(action);
        }
    }
}
