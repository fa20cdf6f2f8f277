#![no_main]
//! cargo-fuzz target `ktap`: see mpath_conformance::fuzzing.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| (mpath_conformance::fuzzing::target("ktap").expect("registered").check)(data));
