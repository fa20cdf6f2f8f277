//! An RCU list of path indices (`head->dev_list` / `dev->siblings`).
//!
//! Pointers are encoded as `u32`: [`HEAD`] is the list head itself, `i + 1`
//! is path `i`, [`POISON`] is `LIST_POISON2`. Writers run under the head
//! mutex; `list_add_tail_rcu` publishes with a release store, readers load
//! `next` with acquire (`srcu_dereference`). `list_del_rcu` poisons only
//! `prev`: an unlinked entry keeps its `next` until it is freed.

use crate::sync::{AtomicU32, Ordering};

pub const HEAD: u32 = 0;
pub const POISON: u32 = u32::MAX;

#[inline]
pub fn enc(id: u32) -> u32 {
    id + 1
}
#[inline]
pub fn dec(p: u32) -> Option<u32> {
    if p == HEAD || p == POISON {
        None
    } else {
        Some(p - 1)
    }
}

pub struct Links {
    pub next: AtomicU32,
    pub prev: AtomicU32,
}

impl Links {
    fn new() -> Self {
        Links { next: AtomicU32::new(POISON), prev: AtomicU32::new(POISON) }
    }
}

pub struct RcuList {
    head: Links,
    nodes: Vec<Links>,
}

impl RcuList {
    pub fn new(capacity: usize) -> Self {
        let head = Links::new();
        head.next.store(HEAD, Ordering::Relaxed);
        head.prev.store(HEAD, Ordering::Relaxed);
        RcuList { head, nodes: (0..capacity).map(|_| Links::new()).collect() }
    }

    fn links(&self, p: u32) -> &Links {
        match dec(p) {
            None => &self.head,
            Some(i) => &self.nodes[i as usize],
        }
    }

    /// `list_add_tail_rcu`. Caller holds the writer lock.
    pub fn add_tail(&self, id: u32) {
        let new = enc(id);
        let last = self.head.prev.load(Ordering::Relaxed);
        let n = &self.nodes[id as usize];
        n.next.store(HEAD, Ordering::Relaxed);
        n.prev.store(last, Ordering::Relaxed);
        // rcu_assign_pointer(list_next_rcu(prev), new)
        self.links(last).next.store(new, Ordering::Release);
        self.head.prev.store(new, Ordering::Relaxed);
    }

    /// `list_del_rcu`. Caller holds the writer lock. `next` is kept.
    pub fn del(&self, id: u32) {
        let n = &self.nodes[id as usize];
        let next = n.next.load(Ordering::Relaxed);
        let prev = n.prev.load(Ordering::Relaxed);
        self.links(next).prev.store(prev, Ordering::Relaxed);
        self.links(prev).next.store(next, Ordering::Release);
        n.prev.store(POISON, Ordering::Relaxed);
    }

    /// `list_first_or_null_rcu`.
    pub fn first(&self) -> Option<u32> {
        dec(self.head.next.load(Ordering::Acquire))
    }

    /// `list_next_or_null_rcu` from `id` (valid also for an unlinked entry).
    pub fn next(&self, id: u32) -> Option<u32> {
        dec(self.nodes[id as usize].next.load(Ordering::Acquire))
    }

    /// `list_empty` (writer side or racy reader check).
    pub fn is_empty(&self) -> bool {
        self.head.next.load(Ordering::Acquire) == HEAD
    }

    /// `list_is_singular`: plain loads of `head->next` and `head->prev`.
    pub fn is_singular(&self) -> bool {
        let n = self.head.next.load(Ordering::Relaxed);
        let p = self.head.prev.load(Ordering::Relaxed);
        n != HEAD && n == p
    }

    /// Snapshot of the list in order (writer side / at rest).
    pub fn snapshot(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut p = self.head.next.load(Ordering::Acquire);
        while let Some(i) = dec(p) {
            if out.len() > self.nodes.len() {
                break; // corrupted list; callers check invariants separately
            }
            out.push(i);
            p = self.nodes[i as usize].next.load(Ordering::Acquire);
        }
        out
    }

    pub fn capacity(&self) -> usize {
        self.nodes.len()
    }
}
