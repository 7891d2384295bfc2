//! Fuzz target `avro_plans`: see `hudi_core::fuzzing::avro_plans`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hudi_core::fuzzing::avro_plans(data));
