//! The named properties, each declared once in the table below: its name,
//! a one-line description, the reference violation kind a counterexample
//! reports, whether it is judged only at rest, and its predicate. Event
//! properties are recorded by the interpreter as violation bits when the
//! offending step runs; state properties are predicates over the state
//! (some only "at rest": every scenario thread finished, the worker idle
//! and no work pending).
//!
//! The predicates read the machine through [`View`] (what a property may
//! ask of the interpreter besides the state), so this module sits below
//! the interpreter: revision files, the catalogue and properties written
//! as data name these properties without depending on it.

use crate::state::*;
use mpath_reference::violation::Kind;
use stateright::{Model, Property};

/// What a property reads of the machine besides the state.
pub trait View: Model<State = State> {
    fn npaths(&self) -> u8;
    fn nnodes(&self) -> u8;
    /// Index of the worker thread (the last thread).
    fn worker(&self) -> usize;
    fn at_rest(&self, s: &State) -> bool;
    fn any_stuck(&self, s: &State) -> bool;
    fn finished(&self, s: &State, t: usize) -> bool;
    fn enabled(&self, s: &State, t: usize) -> bool;
    fn selectable(&self, s: &State, p: usize) -> bool;
}

/// One built-in property.
pub struct Decl {
    pub name: &'static str,
    pub description: &'static str,
    /// The reference violation kind a counterexample reports.
    pub kind: Kind,
    /// Judged only at rest (a counterexample's violating step is "(at rest)").
    pub at_rest: bool,
}

/// Declares every built-in property once: `CONST = "name", "description",
/// Kind, at_rest, |machine, state| holds;`. Gives the name constants,
/// [`ALL`] (report order) and [`properties`].
macro_rules! properties {
    ($($(#[$doc:meta])* $c:ident = $name:literal, $desc:literal, $kind:ident, at_rest: $rest:literal, $pred:expr;)*) => {
        $($(#[$doc])* pub const $c: &str = $name;)*

        /// Every property, in report order.
        pub const ALL: &[Decl] = &[$(Decl { name: $c, description: $desc, kind: Kind::$kind, at_rest: $rest }),*];

        /// The built-in properties as stateright properties, in report order.
        pub fn properties<M: View>() -> Vec<Property<M>> {
            vec![$(Property::always($c, $pred)),*]
        }
    };
}

properties! {
    NO_USE_AFTER_FREE = "no_use_after_free", "no access to a freed path or head", UseAfterFree, at_rest: false,
        |_: &M, s: &State| s.viol & (vbit::UAF_PATH | vbit::UAF_HEAD) == 0;
    NO_NULL_DISK = "no_null_disk", "no NULL disk dereference", NullDisk, at_rest: false,
        |_: &M, s: &State| s.viol & vbit::NULL_DISK == 0;
    NO_JUNK_POINTER = "no_junk_pointer", "no uninitialised pointer published into or used from current_path[]", JunkPointer, at_rest: false,
        |_: &M, s: &State| s.viol & vbit::JUNK == 0;
    NO_STALE_PATH = "no_stale_path_after_removal", "after a path is freed no current_path[] slot and no list entry refers to it", UseAfterFree, at_rest: false,
        |m: &M, s: &State| stale(m, s).is_none();
    NO_DUPLICATE_LINK = "no_duplicate_link", "no multipath sysfs link created twice", DuplicateLink, at_rest: false,
        |_: &M, s: &State| s.viol & vbit::DUP_LINK == 0;
    NO_LINK_FOR_REMOVED = "no_link_for_removed_path", "no multipath sysfs link left for a freed path", ContractBreach, at_rest: false,
        |m: &M, s: &State| link_left(m, s).is_none();
    LINK_BIT_MATCHES = "link_bit_matches_link_at_rest", "at rest, SYSFS_ATTR_LINK bit == link presence for every live path", ContractBreach, at_rest: true,
        |m: &M, s: &State| link_mismatch(m, s).is_none();
    NO_LEAKED_GENDISK = "no_leaked_gendisk", "at rest, the head gendisk is never added with DISK_LIVE clear", ContractBreach, at_rest: true,
        |m: &M, s: &State| !leaked_gendisk(m, s);
    NO_DEADLOCK = "no_deadlock", "no state where unfinished threads are all blocked", SelfDeadlock, at_rest: false,
        |m: &M, s: &State| !deadlocked(m, s);
    SELECTION_TERMINATES = "selection_terminates", "every path-selection loop ends within 2*paths+2 steps", NonTermination, at_rest: false,
        |_: &M, s: &State| s.viol & vbit::NONTERM == 0;
    NO_STRANDED_REQUEUE = "no_stranded_requeue",
        "at rest, no bio left on the requeue list while a usable path exists or after the head disk was shut down", ContractBreach, at_rest: true,
        |m: &M, s: &State| !stranded(m, s);
    OPTIMIZED_PREFERRED = "optimized_path_preferred", "with an optimized usable path and nothing changing concurrently, find_path returns one", ContractBreach,
        at_rest: false, |_: &M, s: &State| s.viol & vbit::QUALITY == 0;
    NO_UNLINKED_RETURNED = "no_unlinked_path_returned", "find_path never returns a path it saw unlinked when it chose it", ContractBreach, at_rest: false,
        |_: &M, s: &State| s.viol & vbit::UNLINKED_RET == 0;
    NO_DISABLED_RETURNED = "no_disabled_path_returned", "find_path never returns a path it saw disabled when it chose it", ContractBreach, at_rest: false,
        |_: &M, s: &State| s.viol & vbit::DISABLED_RET == 0;
}

/// Does `s` violate the named property (built-in, or declared as data on
/// the machine)?
pub fn violated<M: View>(m: &M, name: &str, s: &State) -> bool {
    m.properties().into_iter().find(|p| p.name == name).map(|p| !(p.condition)(m, s)).unwrap_or(false)
}

pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|d| d.name).collect()
}

pub fn decl(name: &str) -> Option<&'static Decl> {
    ALL.iter().find(|d| d.name == name)
}

pub fn describe(name: &str) -> &'static str {
    decl(name).map(|d| d.description).unwrap_or("")
}

pub fn kind_of(name: &str) -> Kind {
    decl(name).map(|d| d.kind).unwrap_or(Kind::ContractBreach)
}

/// A freed path still referenced by `current_path[]` or the list.
pub fn stale<M: View>(m: &M, s: &State) -> Option<u8> {
    let on_list = s.list();
    (0..m.npaths()).find(|&p| s.paths[p as usize].life == Life::Freed && (s.cp[..m.nnodes() as usize].contains(&(p + 1)) || on_list.contains(&p)))
}

pub fn link_left<M: View>(m: &M, s: &State) -> Option<u8> {
    (0..m.npaths()).find(|&p| s.paths[p as usize].life == Life::Freed && s.links & (1 << p) != 0)
}

pub fn link_mismatch<M: View>(m: &M, s: &State) -> Option<u8> {
    if !m.at_rest(s) {
        return None;
    }
    (0..m.npaths()).find(|&p| {
        let ps = &s.paths[p as usize];
        ps.life != Life::Freed && ps.life != Life::Unused && ps.bit(pbit::LINK) != (s.links & (1 << p) != 0)
    })
}

pub fn leaked_gendisk<M: View>(m: &M, s: &State) -> bool {
    m.at_rest(s) && s.hbit(hbit::GD_ADDED) && !s.hbit(hbit::DISK_LIVE)
}

pub fn deadlocked<M: View>(m: &M, s: &State) -> bool {
    if m.any_stuck(s) {
        return false;
    }
    let unfinished = (0..=m.worker()).any(|t| !m.finished(s, t));
    if !unfinished {
        return false;
    }
    let work_startable = s.threads[m.worker()].depth == 0 && s.pending != 0;
    !work_startable && !(0..=m.worker()).any(|t| m.enabled(s, t))
}

/// At rest, bios on the requeue list that nothing will resubmit: the head
/// is live and a path could take them (no later event is due to kick the
/// requeue work), or the head disk is no longer live (it was shut down:
/// a bio requeued by a submitter that still saw it live and queued after
/// the shutdown's requeue kick waits for the final head put, which its
/// own opener may never do). A bio can only be requeued while the head is
/// live (`mpath_available_path` tests it first) or by a failover, which
/// kicks the requeue work itself.
pub fn stranded<M: View>(m: &M, s: &State) -> bool {
    m.at_rest(s) && s.requeue > 0 && (!s.hbit(hbit::DISK_LIVE) || (0..m.npaths() as usize).any(|p| m.selectable(s, p)))
}
