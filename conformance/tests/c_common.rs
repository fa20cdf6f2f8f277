//! The C every prelude shares (conformance/kunit/mpv_common.h): each
//! generated suite carries it exactly once, embedded (no `#include` of a
//! file the kernel tree does not have), before the code that uses it, and
//! no prelude retypes what it defines.

use mpath_conformance::kunit::c_common::{embedded, INCLUDE_LINE, MPV_COMMON};
use mpath_conformance::kunit::export::{nvme612_harness_embedded, NVME612_HARNESS};
use mpath_conformance::kunit::race::{self, RaceBackend, RaceSuite};
use mpath_conformance::series::Api;

const GUARD: &str = "#define MPV_COMMON_H";

fn suites() -> Vec<(&'static str, String)> {
    let case = |backend| RaceSuite { source: String::new(), case: "mpv_race_x".into(), hooked: vec![], approximations: vec![], backend };
    vec![
        ("nvme-6.12 harness", nvme612_harness_embedded()),
        ("libmultipath v1 prelude", mpath_conformance::kunit::export_lib::prelude(Api::V1)),
        ("libmultipath v2 prelude", mpath_conformance::kunit::export_lib::prelude(Api::V2)),
        ("race suite on nvme-6.12", race::assemble(vec![case(RaceBackend::Nvme612)], "").0),
        ("race suite on the series", race::assemble(vec![case(RaceBackend::LibV2)], "").0),
    ]
}

#[test]
fn every_generated_suite_embeds_the_common_header_once() {
    for (name, c) in suites() {
        assert_eq!(c.matches(GUARD).count(), 1, "{name}: mpv_common.h embedded {} times", c.matches(GUARD).count());
        assert!(!c.contains(INCLUDE_LINE), "{name}: includes mpv_common.h, which the tree does not carry");
        // Embedded before its first user.
        let at = c.find(GUARD).unwrap();
        for user in ["MPV_STEP(", "MPV_EXPECT_EQ(", "MPV_LOG(", "mpv_object_id("] {
            if let Some(u) = c.find(user).filter(|&u| u < at) {
                panic!("{name}: {user} at byte {u}, before mpv_common.h at {at}");
            }
        }
    }
    // The harness on disk includes it (run-kunit.sh places it beside the
    // harness for hand-written suites).
    assert!(NVME612_HARNESS.contains(INCLUDE_LINE));
    // Embedded without its SPDX line: a suite's tag is its first line
    // (checkpatch --strict refuses a misplaced one in the libmultipath suite).
    assert!(MPV_COMMON.starts_with("/* SPDX-License-Identifier"));
    assert!(!embedded().contains("SPDX-License-Identifier"));
    assert!(embedded().contains(MPV_COMMON.split_once('\n').unwrap().1));
}

#[test]
fn no_prelude_retypes_the_common_machinery() {
    for (name, c) in suites() {
        for def in ["#define MPV_STEP(", "#define MPV_EXPECT_EQ(", "#define MPV_NONE", "#define MPV_UNKNOWN", "#define MPV_LOG("] {
            assert_eq!(c.matches(def).count(), 1, "{name}: {def} defined {} times", c.matches(def).count());
        }
        for old in ["MPVL_EXPECT_EQ", "MPVL_EXPECT_STREQ", "MPVL_NONE", "MPVL_UNKNOWN", "mpvl_step(", "MPV_RACE_LOG", "MPV_RACE_NULL", "MPV_RACE_UNKNOWN"] {
            assert!(!c.contains(old), "{name}: still carries {old}");
        }
    }
}
