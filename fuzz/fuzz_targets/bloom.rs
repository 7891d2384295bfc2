//! Fuzz target `bloom`: see `hudi_core::fuzzing::bloom`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hudi_core::fuzzing::bloom(data));
