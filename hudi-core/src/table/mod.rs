//! The `Table` facade: create or open a table, inspect it, read it, write to it.

pub mod create;
pub mod maintenance;
pub mod metadata;
pub mod properties;
pub mod report;
pub mod services;

use std::collections::HashMap;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::stream::BoxStream;
use futures::TryStreamExt;

use crate::error::Result;
use crate::model::InstantTime;
use crate::read::schema::table_schema;
use crate::read::{self, QueryType, ReadOptions};
use crate::snapshot::Snapshot;
use crate::storage::Storage;
use crate::write::{WriteBuilder, WriteOperation};

/// An opened Hudi table: a [`Snapshot`] of it (storage, configuration and timeline as loaded
/// at open time, which the table derefs to) and the operations that start from it.
#[derive(Debug, Clone)]
pub struct Table {
    snapshot: Snapshot,
}

impl std::ops::Deref for Table {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl Table {
    /// Opens the table at a path or URL, with storage options (overriding the environment).
    pub async fn open_with_options(
        location: &str,
        options: &HashMap<String, String>,
    ) -> Result<Table> {
        let storage = Storage::open(location, options)?;
        Self::open_storage(storage).await
    }

    /// Opens the table at a path or URL.
    pub async fn open(location: &str) -> Result<Table> {
        Self::open_with_options(location, &HashMap::new()).await
    }

    /// Opens a table on an existing storage.
    pub async fn open_storage(storage: Storage) -> Result<Table> {
        Ok(Table {
            snapshot: Snapshot::load(storage).await?,
        })
    }

    /// The snapshot the table was opened with.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Starts a write with an operation; run it with `execute`.
    pub fn write(&self, operation: WriteOperation) -> WriteBuilder {
        WriteBuilder::new(self.storage().clone(), operation)
            .with_after_commit(std::sync::Arc::new(services::InlineServices))
    }

    /// Compaction (merge-on-read tables): schedule, run, or both.
    pub fn compaction(&self) -> services::CompactionBuilder {
        services::CompactionBuilder::new(self)
    }

    /// The table as it is on storage now.
    pub async fn reload(&self) -> Result<Table> {
        Self::open_storage(self.storage().clone()).await
    }

    /// Starts a read.
    pub fn read(&self) -> ReadBuilder<'_> {
        ReadBuilder {
            table: self,
            options: ReadOptions::default(),
        }
    }
}

/// A read being configured; run it with [`ReadBuilder::stream`] or [`ReadBuilder::collect`].
#[derive(Debug, Clone)]
pub struct ReadBuilder<'a> {
    table: &'a Table,
    options: ReadOptions,
}

/// A running read: its schema and its stream of batches.
pub struct TableScan {
    pub schema: SchemaRef,
    pub batches: BoxStream<'static, Result<RecordBatch>>,
}

impl<'a> ReadBuilder<'a> {
    /// Time travel: read as of this instant.
    pub fn with_as_of(mut self, t: InstantTime) -> Self {
        self.options.as_of = Some(t);
        self
    }

    /// Read base files only (no log merging).
    pub fn with_read_optimized(mut self) -> Self {
        self.options.query = QueryType::ReadOptimized;
        self
    }

    /// Incremental read of instants in `(start, end]`.
    pub fn with_incremental(
        mut self,
        start: Option<InstantTime>,
        end: Option<InstantTime>,
    ) -> Self {
        self.options.query = QueryType::Incremental { start, end };
        self
    }

    /// Keep only these columns, in this order.
    pub fn with_columns(mut self, columns: Vec<String>) -> Self {
        self.options.columns = Some(columns);
        self
    }

    /// Sets all options at once.
    pub fn with_options(mut self, options: ReadOptions) -> Self {
        self.options = options;
        self
    }

    /// Plans the read and returns its batches as a stream. A time-travel read of a version-6
    /// table has the schema the table had then, as Apache Hudi 0.14/0.15 reads it; Hudi 1.x
    /// (tables of version 8 and later) and every other read use the latest schema.
    pub async fn stream(self) -> Result<TableScan> {
        let t = self.table;
        let (storage, config, timeline) = (t.storage(), t.config(), t.timeline());
        let (schema, _) = match &self.options.as_of {
            Some(at) if config.version.time_travel_reads_schema_then() => {
                table_schema(storage, config, &timeline.as_of(at)).await?
            }
            _ => t.schema().await?,
        };
        let plan = read::plan(storage, config, timeline, schema, &self.options).await?;
        let schema = plan.output_schema.clone();
        Ok(TableScan {
            schema,
            batches: plan.stream(storage.clone()),
        })
    }

    /// Runs the read and collects every batch.
    pub async fn collect(self) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let scan = self.stream().await?;
        let batches = scan.batches.try_collect().await?;
        Ok((scan.schema, batches))
    }
}
