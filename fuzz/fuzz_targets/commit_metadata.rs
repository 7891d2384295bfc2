//! Fuzz target `commit_metadata`: see `hudi_core::fuzzing::commit_metadata`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hudi_core::fuzzing::commit_metadata(data));
