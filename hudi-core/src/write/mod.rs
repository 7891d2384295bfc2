//! Writes to copy-on-write tables: bulk_insert, insert, upsert, delete, insert_overwrite,
//! insert_overwrite_table and delete_partition, through the commit protocol
//! (`timeline::transition`): requested → inflight (workload profile) → markers and data files
//! → completed commit with full write stats and the writer schema → markers removed.

pub mod config;
pub mod handle;
pub mod log_handle;
pub mod markers;
pub mod plan;
pub mod records;
pub mod rollback;
pub mod rows;
pub mod schema;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant as Stopwatch;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::config::table::{properties_file_text, TableConfig, TableType, CREATE_SCHEMA};
use crate::error::{HudiError, Result};
use crate::fs_view::FileSystemView;
use crate::io::avro_arrow::{avro_schema_to_arrow, parse_avro_schema};
use crate::keygen::KeyGenerator;
use crate::model::avro_instants::encode_requested_replace;
use crate::model::metadata::CommitMetadata;
use crate::model::{Action, InstantTime, META_FIELDS};
use crate::read::schema::with_meta_fields;
use crate::storage::{update_table_properties, Storage};
use crate::timeline::transition::{next_instant, ClockRef, SystemClock, Transitions};
use crate::timeline::Timeline;

use config::WriteConfig;
use handle::{write_file_group, WriteContext};
use records::Prepared;
use rollback::{rollback_failed_writes, RollbackOutcome};

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
}

impl WriteMetrics {
    /// Counts one written file.
    fn add(&mut self, stat: &crate::model::metadata::WriteStat) {
        self.records_inserted += stat.num_inserts as u64;
        self.records_updated += stat.num_update_writes as u64;
        self.records_deleted += stat.num_deletes as u64;
        self.files_written += 1;
        self.bytes_written += stat.file_size_in_bytes as u64;
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
}

impl WriteBuilder {
    pub fn new(storage: Storage, operation: WriteOperation) -> Self {
        WriteBuilder {
            storage,
            operation,
            options: BTreeMap::new(),
            clock: Arc::new(SystemClock),
            partitions: Vec::new(),
        }
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

    async fn run<S>(self, first: Option<RecordBatch>, mut rest: S) -> Result<WriteMetrics>
    where
        S: Stream<Item = Result<RecordBatch>> + Unpin,
    {
        let started = Stopwatch::now();
        // Work from the table as it is now, not as it was when it was opened.
        let config = crate::storage::load_table_config(&self.storage).await?;
        let opened = Timeline::load(&self.storage, &config).await?;
        if config.version != 6 {
            return Err(HudiError::Unsupported {
                path: self.storage.location().to_string(),
                feature: format!(
                    "writing table version {} (this writer writes version 6)",
                    config.version
                ),
            });
        }
        if !config.populate_meta_fields {
            return Err(HudiError::Unsupported {
                path: self.storage.location().to_string(),
                feature: "writing tables with hoodie.populate.meta.fields=false (keys are not stored in the files)".into(),
            });
        }
        if !config.metadata_partitions.is_empty() {
            // Committing without updating the metadata table would make Java and hudi-rs
            // serve a stale file list.
            return Err(HudiError::Unsupported {
                path: self.storage.location().to_string(),
                feature: format!(
                    "writing a table whose metadata table is in use (hoodie.table.metadata.partitions={}); \
                     stop its writers and run `hudi metadata delete {}` to turn it off, then write \
                     from Spark with hoodie.metadata.enable=false",
                    config.metadata_partitions.join(","),
                    self.storage.location()
                ),
            });
        }
        let rolled = rollback_failed_writes(&self.storage, &opened, self.clock.as_ref()).await?;
        let timeline = if rolled.is_empty() {
            opened
        } else {
            opened.reload().await?
        };
        let mut options = config.raw.clone();
        options.extend(self.options.iter().map(|(k, v)| (k.clone(), v.clone())));
        let wc = WriteConfig::from_options(&options)?;

        let table_schema = current_schema(&config, &timeline).await?;
        let write_schema: SchemaRef = match (&table_schema, &first) {
            (Some(t), Some(b)) => schema::evolve(t, &schema::stored_schema(&b.schema())?)?,
            (Some(t), None) => t.clone(),
            (None, Some(b)) => schema::stored_schema(&b.schema())?,
            (None, None) if self.operation == WriteOperation::DeletePartition => {
                Arc::new(Schema::empty())
            }
            (None, None) => {
                return Err(HudiError::Schema {
                    context: self.storage.location().to_string(),
                    reason: "the first write needs input rows (or a schema given at create)".into(),
                })
            }
        };
        if !write_schema.fields().is_empty() {
            // Fails now, before anything is written, on names Avro cannot carry.
            schema::avro_schema(&write_schema, &config.name, true, true)?;
        }
        let keygen = KeyGenerator::from_table(&config, &self.options)?;
        let ordering = config.precombine_field.clone();
        let all_deletes = self.operation == WriteOperation::Delete;
        let mut prepared = Prepared::new(write_schema.clone(), wc.spill_threshold);
        if let Some(b) = &first {
            prepared.push(b, &keygen, ordering.as_deref(), all_deletes)?;
        }
        while let Some(b) = rest.next().await {
            prepared.push(&b?, &keygen, ordering.as_deref(), all_deletes)?;
        }
        prepared.seal()?;
        let dedup = match self.operation {
            WriteOperation::Upsert => wc.combine_before_upsert,
            WriteOperation::Delete => wc.combine_before_delete,
            _ => wc.combine_before_insert,
        };
        if dedup {
            prepared.dedup(wc.index.is_global());
        }

        let view = FileSystemView::load(&self.storage, &timeline, None).await?;
        let avg_record_size = plan::average_record_size(
            &timeline,
            wc.record_size_estimate,
            wc.record_size_threshold_bytes,
        )
        .await?;
        let mut partitions_to_drop = self.partitions.clone();
        partitions_to_drop.extend(wc.partitions_to_delete.iter().cloned());
        let t = next_instant(&timeline, self.clock.as_ref());
        let merge_on_read = config.table_type == TableType::MergeOnRead;
        let mut pending_compactions = std::collections::HashMap::new();
        for (c, plan) in timeline.pending_compactions().await? {
            for op in plan.operations {
                if let (Some(p), Some(f)) = (op.partition_path, op.file_id) {
                    pending_compactions.insert(
                        crate::fs_view::FileGroupId {
                            partition: p,
                            file_id: f,
                        },
                        c.clone(),
                    );
                }
            }
        }
        let clustering = rollback::pending_clustering_groups(&timeline).await?;
        let pc = plan::PlanContext {
            op: self.operation,
            wc: &wc,
            view: &view,
            merge_on_read,
            record_key_fields: &config.record_key_fields,
            pending_compactions: &pending_compactions,
            clustering: &clustering,
            ordering_field: ordering.as_deref(),
            instant: &t,
        };
        let p = plan::plan(
            &self.storage,
            &pc,
            &mut prepared,
            avg_record_size,
            &partitions_to_drop,
        )
        .await?;

        let action = if self.operation.is_replace() {
            Action::ReplaceCommit
        } else if merge_on_read {
            Action::DeltaCommit
        } else {
            Action::Commit
        };
        let tr = Transitions::new(&self.storage, &timeline);
        let requested = if action == Action::ReplaceCommit {
            Bytes::from(encode_requested_replace().map_err(|e| HudiError::Avro {
                context: "requested replace metadata".into(),
                reason: e,
            })?)
        } else {
            Bytes::new()
        };
        tr.request(&t, action, requested).await?;
        let profile = plan::workload_profile(&p, self.operation);
        tr.inflight(&t, action, json_bytes(&profile)?).await?;

        for part in p.partitions_written() {
            write_partition_metadata(&self.storage, &part, &t, &self.clock).await?;
        }
        let full_schema: SchemaRef = Arc::new(with_meta_fields(&write_schema));
        let schema_json = if write_schema.fields().is_empty() {
            String::new()
        } else {
            schema::avro_schema(&write_schema, &config.name, true, true)?
        };
        let ctx = WriteContext {
            storage: &self.storage,
            instant: &t,
            schema: full_schema,
            avro_schema: &schema_json,
            record_name: schema::record_full_name(&config.name),
            config: &wc,
            prepared: &prepared,
            ordering_field: ordering.as_deref(),
        };
        let mut meta = CommitMetadata {
            operation_type: Some(self.operation.token().to_string()),
            ..Default::default()
        };
        let mut metrics = WriteMetrics {
            instant: t.clone(),
            operation: self.operation,
            records_inserted: 0,
            records_updated: 0,
            records_deleted: 0,
            files_written: 0,
            file_groups_replaced: 0,
            bytes_written: 0,
            duration_ms: 0,
            rolled_back: rolled
                .iter()
                .map(|r: &RollbackOutcome| r.rolled_back.clone())
                .collect(),
        };
        for (task, fg) in p.groups.iter().enumerate() {
            let stat = write_file_group(&ctx, fg, task).await?;
            metrics.add(&stat);
            meta.partition_to_write_stats
                .entry(fg.partition.clone())
                .or_default()
                .push(stat);
        }
        if !p.logs.is_empty() {
            let avro = parse_avro_schema(&schema_json, "log block writer schema")?;
            let delete_schema = parse_avro_schema(
                crate::io::log_reader::DELETE_RECORD_LIST_SCHEMA,
                "delete block schema",
            )?;
            for (n, lg) in p.logs.iter().enumerate() {
                let task = p.groups.len() + n;
                let stats =
                    log_handle::append_log(&ctx, lg, &wc.log, &avro, &delete_schema, task).await?;
                for stat in stats {
                    metrics.add(&stat);
                    meta.partition_to_write_stats
                        .entry(lg.partition.clone())
                        .or_default()
                        .push(stat);
                }
            }
        }
        if self.operation.is_replace() {
            let mut replaced: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for g in &p.replaced {
                replaced
                    .entry(g.partition.clone())
                    .or_default()
                    .push(g.file_id.clone());
                metrics.file_groups_replaced += 1;
            }
            meta.partition_to_replace_file_ids = Some(replaced);
        }
        if !write_schema.fields().is_empty() {
            let avro = schema::avro_schema(&write_schema, &config.name, false, true)?;
            meta.extra_metadata.insert("schema".into(), avro);
        }
        tr.complete(&t, action, json_bytes(&meta)?).await?;
        markers::delete_markers(&self.storage, &t).await?;
        let first_write = timeline.completed_writes().next().is_none();
        if config.create_schema.is_none() && first_write && !write_schema.fields().is_empty() {
            // The first write fixes the table's create schema (a table others wrote keeps its
            // properties as they are).
            let mut props = config.raw.clone();
            props.insert(
                CREATE_SCHEMA.key.into(),
                schema::avro_schema(&write_schema, &config.name, false, false)?,
            );
            update_table_properties(
                &self.storage,
                properties_file_text(&props, &self.clock.now()),
            )
            .await?;
        }
        metrics.duration_ms = started.elapsed().as_millis() as u64;
        Ok(metrics)
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
        .map_err(|e| HudiError::Schema {
            context: "commit metadata".into(),
            reason: e.to_string(),
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
async fn write_partition_metadata(
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
