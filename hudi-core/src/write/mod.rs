//! Writes to copy-on-write tables: bulk_insert, insert, upsert, delete, insert_overwrite,
//! insert_overwrite_table and delete_partition, through the commit protocol
//! (`timeline::transition`): requested → inflight (workload profile) → markers and data files
//! → completed commit with full write stats and the writer schema → markers removed.

pub mod base_writer;
mod bulk;
pub mod config;
pub mod handle;
pub mod log_handle;
pub mod plan;
pub mod records;
mod run;
pub mod schema;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};
use crate::io::avro_arrow::{avro_schema_to_arrow, parse_avro_schema};
use crate::model::metadata::CommitMetadata;
use crate::model::{InstantTime, META_FIELDS};
use crate::storage::Storage;
use crate::timeline::transition::{ClockRef, SystemClock};
use crate::timeline::Timeline;

/// A write operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOperation {
    BulkInsert,
    Insert,
    Upsert,
    Delete,
    InsertOverwrite,
    InsertOverwriteTable,
    DeletePartition,
}

impl WriteOperation {
    /// The `operationType` written to commit metadata.
    pub fn token(&self) -> &'static str {
        match self {
            WriteOperation::BulkInsert => "BULK_INSERT",
            WriteOperation::Insert => "INSERT",
            WriteOperation::Upsert => "UPSERT",
            WriteOperation::Delete => "DELETE",
            WriteOperation::InsertOverwrite => "INSERT_OVERWRITE",
            WriteOperation::InsertOverwriteTable => "INSERT_OVERWRITE_TABLE",
            WriteOperation::DeletePartition => "DELETE_PARTITION",
        }
    }

    pub fn parse(s: &str) -> Option<WriteOperation> {
        Some(match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "bulk_insert" => WriteOperation::BulkInsert,
            "insert" => WriteOperation::Insert,
            "upsert" => WriteOperation::Upsert,
            "delete" => WriteOperation::Delete,
            "insert_overwrite" => WriteOperation::InsertOverwrite,
            "insert_overwrite_table" => WriteOperation::InsertOverwriteTable,
            "delete_partition" => WriteOperation::DeletePartition,
            _ => return None,
        })
    }

    /// Whether the operation completes as a replace commit.
    pub fn is_replace(&self) -> bool {
        matches!(
            self,
            WriteOperation::InsertOverwrite
                | WriteOperation::InsertOverwriteTable
                | WriteOperation::DeletePartition
        )
    }
}

/// A table service a write ran after it committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineService {
    pub service: &'static str,
    pub instant: InstantTime,
    pub detail: String,
}

/// What runs after a write commits (inline table services). The table layer provides it, so
/// that writers do not depend on the services built above them.
pub trait AfterCommit: Send + Sync + std::fmt::Debug {
    /// Checks the services' options before anything is written, so that a bad option fails
    /// the write rather than the services after its commit.
    fn check(&self, _options: &BTreeMap<String, String>) -> Result<()> {
        Ok(())
    }

    fn after_commit<'a>(
        &'a self,
        storage: &'a Storage,
        options: &'a BTreeMap<String, String>,
        write: &'a WriteMetrics,
        clock: &'a dyn crate::timeline::transition::Clock,
    ) -> futures::future::BoxFuture<'a, Result<Vec<InlineService>>>;
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteMetrics {
    pub instant: InstantTime,
    pub operation: WriteOperation,
    pub records_inserted: u64,
    pub records_updated: u64,
    pub records_deleted: u64,
    pub files_written: u64,
    pub file_groups_replaced: u64,
    pub bytes_written: u64,
    pub duration_ms: u64,
    /// Failed writes rolled back before this one.
    pub rolled_back: Vec<InstantTime>,
    /// Table services run after the commit (inline compaction, ...).
    pub inline_services: Vec<InlineService>,
}

impl WriteMetrics {
    fn new(instant: InstantTime, operation: WriteOperation, rolled_back: Vec<InstantTime>) -> Self {
        WriteMetrics {
            instant,
            operation,
            records_inserted: 0,
            records_updated: 0,
            records_deleted: 0,
            files_written: 0,
            file_groups_replaced: 0,
            bytes_written: 0,
            duration_ms: 0,
            rolled_back,
            inline_services: Vec::new(),
        }
    }

    /// Counts one written file.
    fn add(&mut self, stat: &crate::model::metadata::WriteStat) {
        self.records_inserted += stat.num_inserts as u64;
        self.records_updated += stat.num_update_writes as u64;
        self.records_deleted += stat.num_deletes as u64;
        self.files_written += 1;
        self.bytes_written += stat.file_size_in_bytes as u64;
    }
}

/// Entries a caller adds to a commit's `extraMetadata`, asked for when the commit metadata is
/// made, after the whole input has been read (counts kept while it streams, for instance).
#[derive(Clone)]
pub struct ExtraMetadata(Arc<dyn Fn() -> BTreeMap<String, String> + Send + Sync>);

impl ExtraMetadata {
    pub fn new(f: impl Fn() -> BTreeMap<String, String> + Send + Sync + 'static) -> Self {
        ExtraMetadata(Arc::new(f))
    }

    fn entries(&self) -> BTreeMap<String, String> {
        (self.0)()
    }
}

impl std::fmt::Debug for ExtraMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExtraMetadata(..)")
    }
}

/// A write being configured; run it with [`WriteBuilder::execute`].
#[derive(Debug, Clone)]
pub struct WriteBuilder {
    storage: Storage,
    operation: WriteOperation,
    options: BTreeMap<String, String>,
    clock: ClockRef,
    partitions: Vec<String>,
    after_commit: Option<Arc<dyn AfterCommit>>,
    extra_metadata: Option<ExtraMetadata>,
}

impl WriteBuilder {
    pub fn new(storage: Storage, operation: WriteOperation) -> Self {
        WriteBuilder {
            storage,
            operation,
            options: BTreeMap::new(),
            clock: Arc::new(SystemClock),
            partitions: Vec::new(),
            after_commit: None,
            extra_metadata: None,
        }
    }

    /// Entries for the commit's `extraMetadata` (Hudi's own keys, such as `schema`, win).
    pub fn with_extra_metadata(mut self, extra: ExtraMetadata) -> Self {
        self.extra_metadata = Some(extra);
        self
    }

    /// What runs after the commit (the table's inline services).
    pub fn with_after_commit(mut self, hook: Arc<dyn AfterCommit>) -> Self {
        self.after_commit = Some(hook);
        self
    }

    /// Sets a `hoodie.*` write option.
    pub fn with_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    pub fn with_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.options.extend(options);
        self
    }

    /// The clock instant times come from.
    pub fn with_clock(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    /// Partitions to drop (delete_partition).
    pub fn with_partitions(mut self, partitions: Vec<String>) -> Self {
        self.partitions = partitions;
        self
    }

    /// Runs the write over a stream of batches. Rows are converted and keyed as they arrive;
    /// past `hoodie.write.spill.threshold.bytes` (256 MiB) they are spilled to a local
    /// temporary file, so the input is never held in memory whole.
    pub async fn execute<S>(self, mut input: S) -> Result<WriteMetrics>
    where
        S: Stream<Item = Result<RecordBatch>> + Unpin,
    {
        let first = input.next().await.transpose()?;
        self.run(first, input).await
    }

    /// Runs the write over batches already in memory.
    pub async fn execute_batches(self, batches: Vec<RecordBatch>) -> Result<WriteMetrics> {
        let mut it = batches.into_iter();
        let first = it.next();
        self.run(first, futures::stream::iter(it.map(Ok))).await
    }
}

/// A write token `<task>-<stage>-<attempt>` unique to this commit: the stage is the instant's
/// time of day (HHmmssSSS), so a file name is never reused, even after a rollback.
pub(crate) fn write_token(instant: &InstantTime, task: usize) -> String {
    let stage: u32 = instant
        .as_str()
        .get(8..17)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    format!("{task}-{stage}-{task}")
}

fn json_bytes(m: &CommitMetadata) -> Result<Bytes> {
    serde_json::to_vec_pretty(m)
        .map(Bytes::from)
        .map_err(|e| HudiError::Internal {
            what: format!("serializing commit metadata: {e}"),
        })
}

/// The table's current schema (no meta columns): the latest commit's, else the create schema.
async fn current_schema(config: &TableConfig, timeline: &Timeline) -> Result<Option<SchemaRef>> {
    let text = match timeline.latest_schema().await? {
        Some(t) => Some(t),
        None => config.create_schema.clone(),
    };
    let Some(text) = text else { return Ok(None) };
    let avro = parse_avro_schema(&text, &format!("schema of table '{}'", config.name))?;
    let arrow = avro_schema_to_arrow(&avro)?;
    let fields: Vec<_> = arrow
        .fields()
        .iter()
        .filter(|f| !META_FIELDS.contains(&f.name().as_str()))
        .cloned()
        .collect();
    Ok(Some(schema::stored_schema(&Schema::new(fields))?))
}

/// Writes `<partition>/.hoodie_partition_metadata` if the partition has none yet (one
/// create-if-absent: an existing file is left as it is).
pub(crate) async fn write_partition_metadata(
    storage: &Storage,
    partition: &str,
    t: &InstantTime,
    clock: &ClockRef,
) -> Result<()> {
    let path = if partition.is_empty() {
        ".hoodie_partition_metadata".to_string()
    } else {
        format!("{partition}/.hoodie_partition_metadata")
    };
    let depth = if partition.is_empty() {
        0
    } else {
        partition.split('/').count()
    };
    let text = format!(
        "#partition metadata\n#{}\ncommitTime={t}\npartitionDepth={depth}\n",
        clock.now().format("%a %b %d %H:%M:%S UTC %Y")
    );
    match storage.put_if_absent(&path, Bytes::from(text)).await {
        Ok(()) | Err(HudiError::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}
