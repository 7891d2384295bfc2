//! Fuzz target `properties`: see `hudi_core::fuzzing::properties`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hudi_core::fuzzing::properties(data));
