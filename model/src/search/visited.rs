//! The visited set: 128-bit state fingerprints in open-addressing tables,
//! sharded behind mutexes for the multi-threaded BFS; each key carries the
//! level it was first inserted at.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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

pub(super) struct Visited {
    shards: Vec<Mutex<Table>>,
    pub(super) bytes: AtomicU64,
}

impl Visited {
    pub(super) fn new() -> Visited {
        let shards: Vec<_> = (0..SHARDS).map(|_| Mutex::new(Table::new())).collect();
        let bytes = shards.iter().map(|t| t.lock().unwrap().bytes()).sum();
        Visited { shards, bytes: AtomicU64::new(bytes) }
    }
    #[inline]
    pub(super) fn insert(&self, fp: u128, level: usize) -> Option<u16> {
        let key = (fp & !0xffff) | (1 << 127) | level.min(0xffff) as u128;
        let shard = (key >> 100) as usize % SHARDS;
        self.shards[shard].lock().unwrap_or_else(|e| e.into_inner()).insert(key, &self.bytes)
    }
}
