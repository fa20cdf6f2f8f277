//! A deterministic work queue: the requeue work (kblockd), the partition
//! scan work and the delayed head removal (`mpath_wq`). `queue_work` on a
//! pending work returns false, `mod_delayed_work` re-arms the timer, and
//! works run only when the trace (or a harness) asks, in FIFO order.

use crate::sync::{lock, AtomicBool, AtomicU64, Mutex, Ordering};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Work {
    Requeue,
    PartitionScan,
    RemoveHead,
}

impl Work {
    pub fn name(self) -> &'static str {
        match self {
            Work::Requeue => "requeue",
            Work::PartitionScan => "partition_scan",
            Work::RemoveHead => "remove_head",
        }
    }
}

#[derive(Default)]
struct Queue {
    ready: VecDeque<Work>,
    /// Delayed removal deadline (seconds on the virtual clock), if armed.
    remove_at: Option<u64>,
}

pub struct WorkQueue {
    q: Mutex<Queue>,
    /// Virtual clock, seconds.
    pub now: AtomicU64,
    /// Set by concurrent harnesses: the system is driven by several threads.
    pub concurrent: AtomicBool,
}

impl Default for WorkQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WorkQueue {
    pub fn new() -> Self {
        WorkQueue { q: Mutex::new(Queue::default()), now: AtomicU64::new(0), concurrent: AtomicBool::new(false) }
    }

    /// `queue_work`: false if already pending.
    pub fn queue(&self, w: Work) -> bool {
        let mut q = lock(&self.q);
        if q.ready.contains(&w) {
            return false;
        }
        q.ready.push_back(w);
        true
    }

    /// `mod_delayed_work`: (re)arm the timer; true if it was pending.
    pub fn mod_delayed(&self, secs: u64) -> bool {
        let mut q = lock(&self.q);
        let was = q.remove_at.is_some() || q.ready.contains(&Work::RemoveHead);
        q.ready.retain(|w| *w != Work::RemoveHead);
        q.remove_at = Some(self.now.load(Ordering::Relaxed) + secs);
        was
    }

    /// `cancel_delayed_work`: true if it was pending (timer or queued) and
    /// has not started.
    pub fn cancel_delayed(&self) -> bool {
        let mut q = lock(&self.q);
        let was = q.remove_at.take().is_some();
        let queued = q.ready.contains(&Work::RemoveHead);
        q.ready.retain(|w| *w != Work::RemoveHead);
        was || queued
    }

    /// Advance the clock; an expired removal timer queues its work.
    pub fn advance(&self, secs: u64) {
        let now = self.now.fetch_add(secs, Ordering::Relaxed) + secs;
        let mut q = lock(&self.q);
        if let Some(at) = q.remove_at {
            if at <= now {
                q.remove_at = None;
                if !q.ready.contains(&Work::RemoveHead) {
                    q.ready.push_back(Work::RemoveHead);
                }
            }
        }
    }

    /// Take the next ready work, if any.
    pub fn pop(&self) -> Option<Work> {
        lock(&self.q).ready.pop_front()
    }

    /// Remove a specific pending work (flush runs it synchronously).
    pub fn take(&self, w: Work) -> bool {
        let mut q = lock(&self.q);
        let had = q.ready.contains(&w);
        q.ready.retain(|x| *x != w);
        had
    }

    /// Pending works in queue order, then the armed timer.
    pub fn pending(&self) -> Vec<String> {
        let q = lock(&self.q);
        let mut v: Vec<String> = q.ready.iter().map(|w| w.name().to_string()).collect();
        if let Some(at) = q.remove_at {
            v.push(format!("remove_head@{at}"));
        }
        v
    }
}
