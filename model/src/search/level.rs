//! A BFS level's states, packed as their differences from the initial
//! state, and what a checker thread discovered in a level ([`Out`]).

use crate::state::State;

/// States of a BFS level, packed ([`pack`]): `bytes[offs[i]..offs[i + 1]]`.
pub(super) struct Level {
    pub(super) bytes: Vec<u8>,
    pub(super) offs: Vec<usize>,
}

impl Level {
    pub(super) fn new() -> Level {
        Level { bytes: Vec::new(), offs: vec![0] }
    }
    pub(super) fn len(&self) -> usize {
        self.offs.len() - 1
    }
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }
    #[inline]
    pub(super) fn get(&self, base: &State, i: usize) -> State {
        unpack(base, &self.bytes[self.offs[i]..self.offs[i + 1]])
    }
    #[inline]
    pub(super) fn push(&mut self, base: &State, s: &State) {
        pack(base, s, &mut self.bytes);
        self.offs.push(self.bytes.len());
    }
    pub(super) fn heap_bytes(&self) -> u64 {
        (self.bytes.capacity() + self.offs.capacity() * 8) as u64
    }
}

/// New states a checker thread discovered in a level: packed states and,
/// per state, its parent's discovery index, the action code and the
/// properties it violates.
pub(super) struct Out {
    pub(super) level: Level,
    pub(super) meta: Vec<(u32, u8, u64)>,
    /// Violations recorded as events of transitions whose target was
    /// already known: (source's discovery index, action code, properties).
    pub(super) events: Vec<(u32, u8, u64)>,
}

impl Out {
    pub(super) fn new() -> Out {
        Out { level: Level::new(), meta: Vec::new(), events: Vec::new() }
    }
}

/// Pack `s` as its differences from `base` (the initial state): runs of
/// (bytes equal to base: count, differing bytes: count, the bytes).
/// States in a level differ from the initial state in a few dozen of
/// their bytes, so a frontier costs a third or less of plain states.
#[inline]
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
#[inline]
fn unpack(base: &State, packed: &[u8]) -> State {
    let mut s = *base;
    let n = std::mem::size_of::<State>();
    // SAFETY: State has no padding (crate::state::STATE_BYTES) and the
    // bytes written are a valid state's own bytes at the same offsets
    // (`packed` comes from `pack` of a State against this `base`), so the
    // result is that state, field for field (its `#[repr(u8)]` enum fields
    // hold that state's valid discriminants).
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

/// Bytes of one plain state (the DFS stack's entries).
pub(super) const STATE_COST: u64 = std::mem::size_of::<State>() as u64;
