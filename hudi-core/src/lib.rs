//! Read, write and maintain Apache Hudi tables from Rust.
//!
//! Write, then read:
//!
//! ```no_run
//! # async fn demo(batches: Vec<arrow::array::RecordBatch>) -> hudi_core::Result<()> {
//! use hudi_core::{Table, TableBuilder, WriteOperation};
//!
//! let table = TableBuilder::new("/data/trips")
//!     .with_record_key_fields(vec!["uuid".into()])
//!     .with_partition_fields(vec!["city".into()])
//!     .with_precombine_field("ts")
//!     .create()
//!     .await?;
//! let metrics = table.write(WriteOperation::Upsert).execute_batches(batches).await?;
//! let table = Table::open("/data/trips").await?;
//! let (schema, batches) = table.read().with_columns(vec!["uuid".into()]).collect().await?;
//! println!("{} columns, {} batches as of {}", schema.fields().len(), batches.len(), metrics.instant);
//! # Ok(()) }
//! ```
//!
//! Layers, each using only those before it (tests aside):
//!
//! | layer | what |
//! |---|---|
//! | [`error`], [`config`], [`model`] | errors; `hoodie.*` keys, `hoodie.properties`, the table version and what this library maintains; instants, file names, metadata |
//! | [`storage`] | the object store, named crash points |
//! | [`timeline`] | the timeline and the one place its files change (`timeline::transition`) |
//! | [`fs_view`] | file groups and slices as of an instant |
//! | [`io`] | Parquet base files, log blocks, Bloom filters, Avro and Arrow |
//! | [`keygen`], [`index`] | record keys and partition paths; where keys are |
//! | [`write`](mod@write), [`read`] | writes; snapshot, read-optimized, time-travel and incremental reads |
//! | [`snapshot`] | one view of a table for one operation |
//! | [`txn`], [`services`] | the commit protocol, every mutation's start and capability check; compaction, clean, rollback, savepoints, restore, archival, repairs, verify |
//! | [`table`] | the [`Table`] facade and its builders |
//!
//! A command that would change a table with a part this library does not maintain (a metadata
//! table, table version 8 or 9, CDC, ...) refuses it with [`HudiError::Unmaintained`] and
//! changes nothing; reads go ahead.

pub mod config;
pub mod error;
pub mod fs_view;
#[doc(hidden)]
pub mod fuzzing;
pub mod index;
pub mod io;
pub mod keygen;
pub mod model;
pub mod read;
pub mod services;
pub mod snapshot;
pub mod storage;
pub mod table;
pub mod timeline;
pub mod txn;
pub mod write;

pub use error::{HudiError, Result};
pub use model::InstantTime;
pub use read::{QueryType, ReadOptions};
pub use snapshot::Snapshot;
pub use table::create::TableBuilder;
pub use table::report::Report;
pub use table::{ReadBuilder, Table, TableScan};
pub use write::{WriteMetrics, WriteOperation};
