//! The `libmultipath` backend: the series' own `lib/multipath.c`, driven
//! through its exported `mpath_*` API, for a tree that carries the series
//! (`mpath-verify series prepare`): v2, or v1 (`export_lib_v1`).
//!
//! Case bodies call only the suite's `mpvl_*` wrappers, so one emitter
//! serves both APIs. The C prelude is a shared head and core (world,
//! template callbacks, paths, removal, selection under the watchdog,
//! observation rows) and one section per API implementing the driver glue
//! that differs (the contract is the prototype block in the core).
//!
//! The suite plays the driver: an NVMe-like template whose callbacks read
//! per-path test state (controller state, READY, ANA), real gendisks for
//! the head (`mpath_alloc_head_disk`) and for each path, and the calls the
//! trace names. Every reported check reads library objects: `dev_list`
//! walked under SRCU, `current_path[]`, the head and device flag bits, the
//! head's kref, its gendisk state, the requeue list. Driver-side fields
//! (READY, ANA pending) are the suite's own state and are counted as not
//! applicable, never as kernel checks.
//!
//! An expected non-termination is confirmed in C: the template's
//! `is_disabled` callback, which the selection loop calls once per path it
//! visits, counts the calls of one selection; past a bound no terminating
//! selection can reach, it records the spin, lets the loop out (that one
//! path reads as usable) and the suite restores `current_path[]` and the
//! path's state, so the trace goes on from the state the reference kept.

use super::backend::{c_str, quoted, step_text, Case, KunitBackend, Target};
pub use super::export_lib_encoding::{predicates_c, predicates_c_from};
use super::export_lib_ops::world_and_setup;
use crate::parse::Trace;
use mpath_reference::driver::DriverKind;
use mpath_reference::violation::Kind;
use std::fmt::Write as _;

/// Kconfig/Makefile wiring, quoted in the generated file's header comment.
pub const KCONFIG_FRAGMENT: &str = include_str!("../../kunit/wiring/lib-Kconfig.fragment");
pub const MAKEFILE_FRAGMENT: &str = include_str!("../../kunit/wiring/lib-Makefile.fragment");
pub const KUNITCONFIG: &str = include_str!("../../kunit/libmultipath.kunitconfig");

/// Paths and controllers one case can hold.
pub const LIB_MAX: usize = 16;

/// The head of the suite's C: includes and constants.
const C_HEAD: &str = include_str!("../../kunit/libmultipath/mpvl_head.h");

/// The suite's world and the template callbacks every revision shares,
/// then the contract each API section implements.
const C_CORE: &str = include_str!("../../kunit/libmultipath/mpvl_core.h");

/// The v2 API's own state: the watchdog saves the access state it forces.
const C_API_V2_TYPES: &str = include_str!("../../kunit/libmultipath/mpvl_api_v2_types.h");

/// The v2 API section: the driver glue of the v2 series (`mpath_head`
/// carries the gendisk, `drvdata`, `access_state` in the device).
const C_API_V2: &str = include_str!("../../kunit/libmultipath/mpvl_api_v2.h");

/// The C prelude for a tree whose `multipath.h` declares `api`: the
/// shared head and core, then the API's own section.
pub fn prelude(api: crate::series::Api) -> String {
    let (types, body) = match api {
        crate::series::Api::V1 => (super::export_lib_v1::C_API_V1_TYPES, super::export_lib_v1::C_API_V1),
        _ => (C_API_V2_TYPES, C_API_V2),
    };
    let mut core = C_CORE.to_string();
    for (placeholder, c) in predicates_c().expect("the predicate table fits the suite's C encoding (tested)") {
        core = core.replace(placeholder, &c);
    }
    [C_HEAD, &super::c_common::embedded(), types, &core, body].concat()
}

/// A violation of the C's semantics that the compiled kernel does not show,
/// so no KUnit case can observe it.
fn compiled_away(v: &mpath_reference::violation::Violation, p: &mpath_reference::revision::Profile) -> Option<&'static str> {
    // v1 R4: `mpath_head = mpath_disk->mpath_head` comes before
    // `if (!mpath_disk) return;`, but nothing uses the value before the
    // test, and GCC moves the load below it (the built lib/multipath.o
    // starts with `test %rdi,%rdi; je`): with no disk the call returns
    // without a fault. Undefined behaviour all the same.
    (v.kind == Kind::NullDeref && v.function == "mpath_device_set_live" && !p.set_live_checks_disk_first)
        .then_some("expects v1's R4 NULL read in mpath_device_set_live, which the compiled kernel does not perform (GCC moves the unused load of mpath_disk->mpath_head below the NULL test): undefined behaviour no KUnit case can observe")
}

/// The world of a race schedule's header on the series (v2 API): the C
/// that declares and builds `w`, and the suite index of each path id.
pub fn race_setup(file: &str, h: &mpath_reference::trace::Header, target: &Target) -> Result<(String, Vec<Option<usize>>), String> {
    if h.driver != DriverKind::Nvme {
        return Err("the libmultipath suite's template follows NVMe's callbacks; SCSI is not driven".into());
    }
    if h.max_paths > LIB_MAX || h.nr_ctrls > LIB_MAX {
        return Err(format!("more than {LIB_MAX} paths or controllers"));
    }
    let t = Trace { file: file.to_string(), header: h.clone(), profile: h.resolve_profile()?, lines: Vec::new() };
    let e = world_and_setup(&t, target, "")?;
    Ok((e.out, e.map))
}

/// The libmultipath backend.
pub struct Libmultipath;

impl KunitBackend for Libmultipath {
    fn revision(&self, target: &Target) -> Result<&'static str, String> {
        match target.api {
            crate::series::Api::V1 => Ok("v1"),
            crate::series::Api::V2 => Ok("v2"),
            crate::series::Api::Unknown => Err("the tree's multipath.h declares neither the v1 nor the v2 API of the series".into()),
        }
    }
    fn no_scsi(&self) -> &'static str {
        "the libmultipath suite's template follows NVMe's callbacks; SCSI traces are not exported"
    }
    fn wrong_revision(&self, want: &str, got: &str) -> String {
        format!("the tree declares the {want} API; this trace's expectations are {got}'s")
    }
    fn max_paths(&self) -> usize {
        LIB_MAX
    }
    fn body(&self, t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String> {
        case_body(t, case, target)
    }
    fn prelude(&self, api: crate::series::Api) -> String {
        let mut s = String::new();
        s.push_str(" * Wiring (a tree carrying the libmultipath series; `kunit run` does it):\n *   lib/Kconfig.debug:\n");
        for (file, text) in [(None, KCONFIG_FRAGMENT), (Some("lib/Makefile"), MAKEFILE_FRAGMENT), (Some(".kunitconfig"), KUNITCONFIG)] {
            if let Some(f) = file {
                let _ = writeln!(s, " *   {f}:");
            }
            for l in text.lines() {
                quoted(&mut s, l);
            }
        }
        s.push_str(" */\n\n");
        let _ = writeln!(
            s,
            "/* the reference's DEFAULT_CAPACITY: head and path disks start with it */\n#define MPVL_CAPACITY {}ULL\n",
            mpath_reference::ops::DEFAULT_CAPACITY
        );
        s.push_str(&prelude(api));
        s
    }
}

/// The case body of a trace that passed the prechecks.
fn case_body(t: &Trace, case: &str, target: &Target) -> Result<(String, Case), String> {
    let mut e = world_and_setup(t, target, &format!("static void {case}(struct kunit *test)\n{{\n"))?;
    let mut seen_spins = 0usize;
    for (step, (_, l)) in t.lines.iter().enumerate() {
        let step = step as i64;
        // A non-termination first reported at this step is this step's verdict.
        let spins_now =
            l.expect.as_ref().and_then(|o| o.violations.as_ref()).map(|v| v.iter().filter(|x| x.kind == Kind::NonTermination).count()).unwrap_or(seen_spins);
        let spin = spins_now > seen_spins;
        seen_spins = spins_now;
        e.line(&format!("MPV_STEP(w, {step}, \"%s\", {});", c_str(&step_text(&l.op))));
        let now =
            l.expect.as_ref().and_then(|o| o.violations.as_ref()).map(|v| v.iter().filter(|x| x.step == step as u64).collect::<Vec<_>>()).unwrap_or_default();
        if let Some(why) = now.iter().find_map(|x| compiled_away(x, &t.profile)) {
            return Err(format!("step {step}: {why}"));
        }
        // Under an expected oops the call is the last thing the case does.
        let oops_here = now.iter().any(|x| matches!(x.kind, Kind::NullDeref | Kind::NullDisk));
        if oops_here {
            e.op(step, &l.op, None, spin)?;
            e.oops_at = Some(step);
            e.line("KUNIT_FAIL(test, \"mpv: expected an oops in the call above; the kernel went on\");");
            break;
        }
        e.op(step, &l.op, l.ret.as_ref(), spin)?;
        if let Some(o) = &l.expect {
            e.expect(step, o)?;
        }
    }
    e.out.push_str("}\n\n");
    let c = Case { trace: t.file.clone(), case: case.to_string(), steps: t.lines.len(), checks: e.checks, not_applicable: e.na, oops_at: e.oops_at };
    Ok((e.out, c))
}

#[cfg(test)]
mod predicate_tests {
    use super::super::export_lib_encoding::{ana_c, ctrl_c};
    use super::*;
    use mpath_reference::driver::{predicates, AnaState, CtrlState};

    /// The enumerators a generated `x == A || x == B` condition accepts.
    fn accepted(cond: &str) -> Vec<String> {
        cond.trim_matches(|c| c == '(' || c == ')').split(" || ").map(|t| t.rsplit(" == ").next().unwrap().to_string()).collect()
    }

    fn body(name: &str, gen: &[(&'static str, String)]) -> String {
        gen.iter().find(|(p, _)| *p == name).unwrap().1.clone()
    }

    /// For every controller state, the C condition accepts its enumerator
    /// exactly when the table's set holds the state.
    fn agrees(cond: &str, set: &[CtrlState]) -> Result<(), String> {
        let acc = accepted(cond);
        for s in CtrlState::ALL {
            if acc.iter().any(|a| a == ctrl_c(s)) != set.contains(&s) {
                return Err(format!("{s:?}: C {cond:?} vs table {set:?}"));
            }
        }
        Ok(())
    }

    #[test]
    fn the_prelude_predicates_are_the_tables() {
        let g = predicates_c().unwrap();
        agrees(&body("@NVME_CTRL_AVAILABLE@", &g), predicates::NVME_CTRL_AVAILABLE).unwrap();
        agrees(&body("@NVME_CTRL_ENABLED@", &g), predicates::NVME_CTRL_ENABLED).unwrap();
        agrees(&body("@NVME_CTRL_OPTIMIZED@", &g), predicates::NVME_CTRL_OPTIMIZED).unwrap();
        let ana = accepted(&body("@NVME_ANA_OPTIMIZED@", &g));
        for a in [AnaState::Optimized, AnaState::Nonoptimized, AnaState::Inaccessible, AnaState::PersistentLoss, AnaState::Change] {
            assert_eq!(ana.iter().any(|x| x == ana_c(a)), predicates::NVME_ANA_OPTIMIZED.contains(&a), "{a:?}");
        }
        for api in [crate::series::Api::V1, crate::series::Api::V2] {
            let p = prelude(api);
            assert!(!p.contains("@NVME_"), "a placeholder left in the prelude");
            for (_, c) in &g {
                assert!(p.contains(c.as_str()), "{c} not in the prelude");
            }
            // The C reads the generated conditions where the callbacks return.
            assert!(p.contains(&format!("return !({}) || p->ana_pending || !p->ready;", body("@NVME_CTRL_ENABLED@", &g))));
        }
    }

    /// A deliberately altered table gives other C, which the check refuses
    /// against the real table; a set the C encoding cannot express (only
    /// one of the two states it encodes as RECONNECTING) is an error.
    #[test]
    fn an_altered_table_is_caught() {
        use CtrlState::*;
        let altered = predicates_c_from(predicates::NVME_CTRL_AVAILABLE, &[Live], predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED).unwrap();
        let enabled = body("@NVME_CTRL_ENABLED@", &altered);
        assert_ne!(enabled, body("@NVME_CTRL_ENABLED@", &predicates_c().unwrap()));
        assert!(agrees(&enabled, predicates::NVME_CTRL_ENABLED).is_err());
        let e =
            predicates_c_from(&[Live, Resetting], predicates::NVME_CTRL_ENABLED, predicates::NVME_CTRL_OPTIMIZED, predicates::NVME_ANA_OPTIMIZED).unwrap_err();
        assert!(e.contains("MPVL_CTRL_RECONNECTING"), "{e}");
    }
}
