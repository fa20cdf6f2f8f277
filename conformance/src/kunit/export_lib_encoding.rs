//! The libmultipath suite's C encoding of driver state: the enumerators
//! the template's callbacks read, and the callbacks' conditions generated
//! from the reference's one predicate table.

use mpath_reference::driver::{ana_to_access, predicates, AccessState, AnaState, CtrlState};

/// `enum mpvl_ctrl`'s enumerators, in declaration order.
const MPVL_CTRL: [&str; 4] = ["MPVL_CTRL_OTHER", "MPVL_CTRL_LIVE", "MPVL_CTRL_DELETING", "MPVL_CTRL_RECONNECTING"];
/// `enum mpvl_ana`'s enumerators, in declaration order.
const MPVL_ANA: [&str; 3] = ["MPVL_ANA_OPTIMIZED", "MPVL_ANA_NONOPTIMIZED", "MPVL_ANA_OTHER"];

/// `expr == A || expr == B ...` over the C enumerators (`enc` of each
/// member of `set`, in `order`), parenthesised when there are several;
/// an error when `set` splits an enumerator's class (two states the C
/// encodes alike, one in the set and one not: the C cannot say it).
fn c_condition<T: Copy + PartialEq + std::fmt::Debug>(
    expr: &str,
    set: &[T],
    all: &[T],
    enc: impl Fn(T) -> &'static str,
    order: &[&str],
) -> Result<String, String> {
    for &a in all {
        for &b in all {
            if enc(a) == enc(b) && set.contains(&a) != set.contains(&b) {
                return Err(format!("{a:?} and {b:?} are both {} in the suite's C, but the predicate table tells them apart", enc(a)));
            }
        }
    }
    let names: Vec<&str> = order.iter().copied().filter(|n| set.iter().any(|&x| enc(x) == *n)).collect();
    let terms: Vec<String> = names.iter().map(|n| format!("{expr} == {n}")).collect();
    Ok(match terms.len() {
        0 => "false".to_string(),
        1 => terms[0].clone(),
        _ => format!("({})", terms.join(" || ")),
    })
}

/// The C bodies of the suite's `is_disabled` / `is_optimized` /
/// `available_path` (placeholders in the core), generated from the one
/// predicate table, `mpath_reference::driver::predicates`: the controller
/// states each accepts, in the suite's encoding (`ctrl_c`, `ana_c`). The
/// suite has no FAILFAST_EXPIRED flag (its traces never set one).
pub fn predicates_c() -> Result<Vec<(&'static str, String)>, String> {
    predicates_c_from(predicates::NVME_CTRL_AVAILABLE, predicates::NVME_CTRL_ENABLED, predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED)
}

/// [`predicates_c`] from given state sets (a test alters them).
pub fn predicates_c_from(
    available: &[CtrlState],
    enabled: &[CtrlState],
    optimized: &[CtrlState],
    ana_optimized: &[AnaState],
) -> Result<Vec<(&'static str, String)>, String> {
    const ANA_ALL: [AnaState; 5] = [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change];
    let ctrl = |expr: &str, set: &[CtrlState]| c_condition(expr, set, &CtrlState::ALL, ctrl_c, &MPVL_CTRL);
    let avail = ctrl("s", available)?;
    let enabled = ctrl("s", enabled)?;
    let optimized = ctrl("mpvl_w(d)->ctrl[mpvl_p(d)->ctrl]", optimized)?;
    let ana = c_condition("mpvl_p(d)->ana", ana_optimized, &ANA_ALL, ana_c, &MPVL_ANA)?;
    // `!(x)` of a single term keeps the parentheses of the C.
    let enabled = enabled.strip_prefix('(').and_then(|e| e.strip_suffix(')')).map(str::to_string).unwrap_or(enabled);
    Ok(vec![
        ("@NVME_CTRL_AVAILABLE@", avail.trim_start_matches('(').trim_end_matches(')').to_string()),
        ("@NVME_CTRL_ENABLED@", enabled),
        ("@NVME_CTRL_OPTIMIZED@", optimized),
        ("@NVME_ANA_OPTIMIZED@", ana),
    ])
}

/// The suite's ANA encoding (`enum mpvl_ana`).
pub(super) fn ana_c(a: AnaState) -> &'static str {
    match ana_to_access(a) {
        AccessState::Optimized => "MPVL_ANA_OPTIMIZED",
        AccessState::Nonoptimized => "MPVL_ANA_NONOPTIMIZED",
        AccessState::Other => "MPVL_ANA_OTHER",
    }
}

/// The suite's controller encoding (`enum mpvl_ctrl`), after NVMe's
/// `nvme_path_is_disabled` / `nvme_available_path` readings.
pub(super) fn ctrl_c(s: CtrlState) -> &'static str {
    match s {
        CtrlState::Live => "MPVL_CTRL_LIVE",
        CtrlState::Deleting => "MPVL_CTRL_DELETING",
        CtrlState::Resetting | CtrlState::Connecting => "MPVL_CTRL_RECONNECTING",
        _ => "MPVL_CTRL_OTHER",
    }
}

/// `enum mpath_iopolicy`'s enumerators, in the reference's name order.
pub(super) const IOPOLICY_C: [&str; 3] = ["MPATH_IOPOLICY_NUMA", "MPATH_IOPOLICY_RR", "MPATH_IOPOLICY_QD"];
