//! Fuzz target `log_block`: see `hudi_core::fuzzing::log_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hudi_core::fuzzing::log_file(data));
