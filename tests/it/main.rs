//! Integration tests of hudi-core and the `hudi` binary against real Spark-written tables
//! (`../shared/fixtures`) and an independent reader (hudi-rs, through `../shared/oracle`).

mod archival;
mod bad_input;
mod bulk_stream;
mod catalog_sync;
mod clean_by_hours;
mod cli;
mod cli_inspect;
mod cli_s3;
mod concurrency;
mod cow_recovery;
mod cow_sizing;
mod crash;
mod fixture_formats;
mod fixture_services;
mod fixtures_vs_oracle;
mod glue_sync;
mod hms_sync;
mod maintenance;
mod mor_recovery;
mod object_store_s3;
mod services;
mod spark_cli;
mod spark_fixtures;
mod spark_services;
mod spark_tables;
mod spark_types;
mod support;
mod unmaintained;
mod verify;
mod visibility;
mod write_matrix;
