//! Read and write Apache Hudi tables from Rust.
//!
//! ```no_run
//! # async fn demo() -> hudi_core::Result<()> {
//! let table = hudi_core::Table::open("/data/trips").await?;
//! let (schema, batches) = table.read().with_columns(vec!["uuid".into()]).collect().await?;
//! println!("{} columns, {} batches", schema.fields().len(), batches.len());
//! # Ok(()) }
//! ```

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
