#![no_main]
//! cargo-fuzz target `revision`: see mpath_conformance::fuzzing.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| (mpath_conformance::fuzzing::target("revision").expect("registered").check)(data));
