//! File formats, without Hudi semantics: parquet base files, log files and their blocks,
//! Avro ⇄ Arrow conversion, schema alignment.

pub mod align;
pub mod arrow_avro;
pub mod avro_arrow;
pub(crate) mod avro_decode;
pub mod avro_encode;
pub mod base_file;
pub mod bloom;
pub mod log_block;
pub mod log_reader;
pub mod parallel;
pub mod parquet_writer;
pub mod row_store;
