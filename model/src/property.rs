//! The named properties. Event properties are recorded by the interpreter
//! as violation bits when the offending step runs; state properties are
//! predicates over the state (some only "at rest": every scenario thread
//! finished, the worker idle and no work pending).

use crate::machine::Machine;
use crate::state::*;
use mpath_reference::violation::Kind;
use stateright::Property;

pub const NO_USE_AFTER_FREE: &str = "no_use_after_free";
pub const NO_NULL_DISK: &str = "no_null_disk";
pub const NO_JUNK_POINTER: &str = "no_junk_pointer";
pub const NO_STALE_PATH: &str = "no_stale_path_after_removal";
pub const NO_DUPLICATE_LINK: &str = "no_duplicate_link";
pub const NO_LINK_FOR_REMOVED: &str = "no_link_for_removed_path";
pub const LINK_BIT_MATCHES: &str = "link_bit_matches_link_at_rest";
pub const NO_LEAKED_GENDISK: &str = "no_leaked_gendisk";
pub const NO_DEADLOCK: &str = "no_deadlock";
pub const SELECTION_TERMINATES: &str = "selection_terminates";
pub const NO_STRANDED_REQUEUE: &str = "no_stranded_requeue";
pub const OPTIMIZED_PREFERRED: &str = "optimized_path_preferred";
pub const NO_UNLINKED_RETURNED: &str = "no_unlinked_path_returned";
pub const NO_DISABLED_RETURNED: &str = "no_disabled_path_returned";

/// Every property, in report order, with a one-line description and the
/// reference violation kind used when a counterexample is reported.
pub const ALL: &[(&str, &str, Kind)] = &[
    (NO_USE_AFTER_FREE, "no access to a freed path or head", Kind::UseAfterFree),
    (NO_NULL_DISK, "no NULL disk dereference", Kind::NullDisk),
    (NO_JUNK_POINTER, "no uninitialised pointer published into or used from current_path[]", Kind::JunkPointer),
    (NO_STALE_PATH, "after a path is freed no current_path[] slot and no list entry refers to it", Kind::UseAfterFree),
    (NO_DUPLICATE_LINK, "no multipath sysfs link created twice", Kind::DuplicateLink),
    (NO_LINK_FOR_REMOVED, "no multipath sysfs link left for a freed path", Kind::ContractBreach),
    (LINK_BIT_MATCHES, "at rest, SYSFS_ATTR_LINK bit == link presence for every live path", Kind::ContractBreach),
    (NO_LEAKED_GENDISK, "at rest, the head gendisk is never added with DISK_LIVE clear", Kind::ContractBreach),
    (NO_DEADLOCK, "no state where unfinished threads are all blocked", Kind::SelfDeadlock),
    (SELECTION_TERMINATES, "every path-selection loop ends within 2*paths+2 steps", Kind::NonTermination),
    (NO_STRANDED_REQUEUE, "at rest, no bio left on the requeue list while a usable path exists or after the head disk was shut down", Kind::ContractBreach),
    (OPTIMIZED_PREFERRED, "with an optimized usable path and nothing changing concurrently, find_path returns one", Kind::ContractBreach),
    (NO_UNLINKED_RETURNED, "find_path never returns a path it saw unlinked when it chose it", Kind::ContractBreach),
    (NO_DISABLED_RETURNED, "find_path never returns a path it saw disabled when it chose it", Kind::ContractBreach),
];

pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|(n, _, _)| *n).collect()
}

pub fn describe(name: &str) -> &'static str {
    ALL.iter().find(|(n, _, _)| *n == name).map(|(_, d, _)| *d).unwrap_or("")
}

pub fn kind_of(name: &str) -> Kind {
    ALL.iter().find(|(n, _, _)| *n == name).map(|(_, _, k)| *k).unwrap_or(Kind::ContractBreach)
}

/// A freed path still referenced by `current_path[]` or the list.
pub fn stale(m: &Machine, s: &State) -> Option<u8> {
    let on_list = s.list();
    (0..m.npaths).find(|&p| s.paths[p as usize].life == life::FREED && (s.cp[..m.nnodes as usize].contains(&(p + 1)) || on_list.contains(&p)))
}

pub fn link_left(m: &Machine, s: &State) -> Option<u8> {
    (0..m.npaths).find(|&p| s.paths[p as usize].life == life::FREED && s.links & (1 << p) != 0)
}

pub fn link_mismatch(m: &Machine, s: &State) -> Option<u8> {
    if !m.at_rest(s) {
        return None;
    }
    (0..m.npaths).find(|&p| {
        let ps = &s.paths[p as usize];
        ps.life != life::FREED && ps.life != life::UNUSED && ps.bit(pbit::LINK) != (s.links & (1 << p) != 0)
    })
}

pub fn leaked_gendisk(m: &Machine, s: &State) -> bool {
    m.at_rest(s) && s.hbit(hbit::GD_ADDED) && !s.hbit(hbit::DISK_LIVE)
}

pub fn deadlocked(m: &Machine, s: &State) -> bool {
    if m.any_stuck(s) {
        return false;
    }
    let unfinished = (0..=m.worker).any(|t| !m.finished(s, t));
    if !unfinished {
        return false;
    }
    let work_startable = s.threads[m.worker].depth == 0 && s.pending != 0;
    !work_startable && !(0..=m.worker).any(|t| m.enabled(s, t))
}

/// At rest, bios on the requeue list that nothing will resubmit: the head
/// is live and a path could take them (no later event is due to kick the
/// requeue work), or the head disk is no longer live (it was shut down:
/// a bio requeued by a submitter that still saw it live and queued after
/// the shutdown's requeue kick waits for the final head put, which its
/// own opener may never do). A bio can only be requeued while the head is
/// live (`mpath_available_path` tests it first) or by a failover, which
/// kicks the requeue work itself.
pub fn stranded(m: &Machine, s: &State) -> bool {
    m.at_rest(s) && s.requeue > 0 && (!s.hbit(hbit::DISK_LIVE) || (0..m.npaths as usize).any(|p| m.selectable(s, p)))
}

pub fn properties() -> Vec<Property<Machine>> {
    vec![
        Property::always(NO_USE_AFTER_FREE, |_, s: &State| s.viol & (vbit::UAF_PATH | vbit::UAF_HEAD) == 0),
        Property::always(NO_NULL_DISK, |_, s: &State| s.viol & vbit::NULL_DISK == 0),
        Property::always(NO_JUNK_POINTER, |_, s: &State| s.viol & vbit::JUNK == 0),
        Property::always(NO_STALE_PATH, |m, s| stale(m, s).is_none()),
        Property::always(NO_DUPLICATE_LINK, |_, s: &State| s.viol & vbit::DUP_LINK == 0),
        Property::always(NO_LINK_FOR_REMOVED, |m, s| link_left(m, s).is_none()),
        Property::always(LINK_BIT_MATCHES, |m, s| link_mismatch(m, s).is_none()),
        Property::always(NO_LEAKED_GENDISK, |m, s| !leaked_gendisk(m, s)),
        Property::always(NO_DEADLOCK, |m, s| !deadlocked(m, s)),
        Property::always(SELECTION_TERMINATES, |_, s: &State| s.viol & vbit::NONTERM == 0),
        Property::always(NO_STRANDED_REQUEUE, |m, s| !stranded(m, s)),
        Property::always(OPTIMIZED_PREFERRED, |_, s: &State| s.viol & vbit::QUALITY == 0),
        Property::always(NO_UNLINKED_RETURNED, |_, s: &State| s.viol & vbit::UNLINKED_RET == 0),
        Property::always(NO_DISABLED_RETURNED, |_, s: &State| s.viol & vbit::DISABLED_RET == 0),
    ]
}

/// Does `s` violate the named property?
pub fn violated(m: &Machine, name: &str, s: &State) -> bool {
    use stateright::Model;
    m.properties().into_iter().find(|p| p.name == name).map(|p| !(p.condition)(m, s)).unwrap_or(false)
}
