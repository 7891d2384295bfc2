//! Fuzz target `file_names`: see `hudi_core::fuzzing::file_names`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hudi_core::fuzzing::file_names(data));
