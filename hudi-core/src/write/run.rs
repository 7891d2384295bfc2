//! Running a write: open the table for writing (checks, failed writes rolled back), prepare
//! the input, plan the file groups, then one transaction writes them and commits.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant as Stopwatch;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::config::capability::Changes;
use crate::config::table::{properties_file_text, TableConfig, TableType, CREATE_SCHEMA};
use crate::error::{HudiError, Result};
use crate::fs_view::FileSystemView;
use crate::io::avro_arrow::parse_avro_schema;
use crate::keygen::KeyGenerator;
use crate::model::avro_instants::encode_requested_replace;
use crate::model::metadata::CommitMetadata;
use crate::model::{with_meta_fields, Action, InstantTime};
use crate::storage::update_table_properties;
use crate::timeline::Timeline;
use crate::txn::concurrency::ConcurrencyConfig;
use crate::txn::{policy, Transaction};

use super::config::{IndexType, WriteConfig};
use super::handle::{write_file_group, WriteContext};
use super::records::Prepared;
use super::{
    current_schema, json_bytes, log_handle, plan, schema, write_partition_metadata, WriteBuilder,
    WriteMetrics, WriteOperation,
};
use crate::txn::rollback::rollback_failed_writes;

/// The table as a write finds it.
pub(super) struct Opened {
    pub config: TableConfig,
    /// Table properties overlaid with the write's options.
    pub options: BTreeMap<String, String>,
    pub cc: ConcurrencyConfig,
    pub timeline: Timeline,
    pub rolled_back: Vec<crate::model::InstantTime>,
}

/// The partitions a write's file-system view needs, or `None` for the whole table (global
/// indexes look everywhere; `insert_overwrite_table` replaces everything).
fn view_scope(
    op: WriteOperation,
    wc: &WriteConfig,
    prepared: &Prepared,
    partitions_to_drop: &[String],
) -> Option<Vec<String>> {
    match op {
        WriteOperation::InsertOverwriteTable => None,
        WriteOperation::DeletePartition => Some(partitions_to_drop.to_vec()),
        WriteOperation::Upsert | WriteOperation::Delete if wc.index.is_global() => None,
        _ => Some(prepared.partition_names().to_vec()),
    }
}

impl WriteBuilder {
    pub(super) async fn run<S>(self, first: Option<RecordBatch>, rest: S) -> Result<WriteMetrics>
    where
        S: Stream<Item = Result<RecordBatch>> + Unpin,
    {
        let started = Stopwatch::now();
        let opened = self.open_for_write().await?;
        let (config, timeline) = (&opened.config, &opened.timeline);
        let options = &opened.options;
        let wc = WriteConfig::from_options(options)?;
        if let Some(hook) = &self.after_commit {
            hook.check(options)?;
        }
        let write_schema = self.write_schema(config, timeline, first.as_ref()).await?;
        if self.streams(&wc) {
            return self
                .run_bulk(&opened, &wc, write_schema, first, rest, started)
                .await;
        }
        let mut prepared = self
            .prepare(config, &wc, write_schema.clone(), first, rest)
            .await?;
        log::debug!(
            "{} rows prepared after {:?} (spilled: {})",
            prepared.len(),
            started.elapsed(),
            prepared.rows.spilled()
        );

        let partitions_to_drop = self.partitions_to_drop(&wc, &prepared)?;
        let merge_on_read = config.table_type == TableType::MergeOnRead;
        let action = if self.operation.is_replace() {
            Action::ReplaceCommit
        } else if merge_on_read {
            Action::DeltaCommit
        } else {
            Action::Commit
        };
        let requested = if action == Action::ReplaceCommit {
            Bytes::from(encode_requested_replace().map_err(|e| HudiError::Avro {
                context: "requested replace metadata".into(),
                reason: e,
            })?)
        } else {
            Bytes::new()
        };
        // The instant is taken before the plan names files after it: a concurrent writer
        // that picked the same millisecond makes this one pass to the next.
        let mut txn = Transaction::begin(
            &self.storage,
            timeline,
            action,
            requested,
            self.clock.as_ref(),
            policy(&self.storage, &opened.cc, true),
        )
        .await?;
        let t = txn.instant().clone();
        // Beside concurrent writers the write is based on the table as it is once its instant
        // exists: a compaction planned before it is in its view (its logs start the new slice),
        // one planned after it is a conflict at the commit.
        let based = match self.base_timeline(&opened, &mut txn).await {
            Ok(b) => b,
            Err(e) => {
                if let Err(a) = txn.abandon().await {
                    log::warn!("giving up the instant {t}: {a}");
                }
                return Err(e);
            }
        };
        let timeline = &based;
        let loaded = async {
            // Records of a partition-local write can only be in their own partitions: list
            // those alone (a 7000-partition table is not listed for a write touching 100).
            let view = match view_scope(self.operation, &wc, &prepared, &partitions_to_drop) {
                Some(parts) => {
                    FileSystemView::load_partitions(&self.storage, timeline, None, &parts).await?
                }
                None => FileSystemView::load(&self.storage, timeline, None).await?,
            };
            let avg = plan::average_record_size(
                timeline,
                wc.record_size_estimate,
                wc.record_size_threshold_bytes,
            )
            .await?;
            Ok::<_, HudiError>((view, avg))
        }
        .await;
        let (view, avg_record_size) = match loaded {
            Ok(l) => l,
            Err(e) => {
                if let Err(a) = txn.abandon().await {
                    log::warn!("giving up the instant {t}: {a}");
                }
                return Err(e);
            }
        };
        let pc = plan::PlanContext {
            op: self.operation,
            wc: &wc,
            view: &view,
            merge_on_read,
            record_key_fields: &config.record_key_fields,
            ordering_field: config.precombine_field.as_deref(),
            instant: &t,
        };
        let planned = plan::plan(
            &self.storage,
            &pc,
            &mut prepared,
            avg_record_size,
            &partitions_to_drop,
        )
        .await;
        let p = match planned {
            Ok(p) if self.operation == WriteOperation::DeletePartition && p.replaced.is_empty() => {
                if let Err(a) = txn.abandon().await {
                    log::warn!("giving up the instant {t}: {a}");
                }
                return Err(self.refuse_delete_partition(format!(
                    "no file group in partition(s) {}: nothing to delete",
                    partitions_to_drop.join(", ")
                )));
            }
            Ok(p) => p,
            Err(e) => {
                if let Err(a) = txn.abandon().await {
                    log::warn!("giving up the instant {t}: {a}");
                }
                return Err(e);
            }
        };
        log::debug!(
            "{t} planned after {:?}: {} base file groups, {} log file groups",
            started.elapsed(),
            p.groups.len(),
            p.logs.len()
        );
        let mut metrics = WriteMetrics::new(t.clone(), self.operation, opened.rolled_back.clone());
        let written = async {
            txn.start(json_bytes(&plan::workload_profile(&p, self.operation))?)
                .await?;
            let meta = self
                .write_files(
                    config,
                    &wc,
                    &write_schema,
                    &prepared,
                    &p,
                    &mut txn,
                    &mut metrics,
                )
                .await?;
            json_bytes(&meta)
        }
        .await;
        log::debug!("{t} files written after {:?}", started.elapsed());
        let committed = match written {
            Ok(meta) => txn.commit(meta).await,
            Err(e) => {
                drop(txn); // its heartbeat stops before the rollback removes it
                Err(e)
            }
        };
        let committed = match committed {
            Ok(c) => c,
            // A loser leaves nothing behind; so does any failed write beside concurrent
            // writers (its live heartbeat would keep them from rolling it back for minutes).
            Err(e) if opened.cc.is_optimistic() || matches!(e, HudiError::WriteConflict { .. }) => {
                if let Err(r) = self.roll_back_own(&opened, &t).await {
                    log::warn!("rolling back the failed write {t}: {r}");
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.after_committed(
            config,
            timeline,
            &write_schema,
            &committed.instant,
            metrics,
            started,
        )
        .await
    }

    /// What follows a commit: the create schema of a first write, the inline services.
    pub(super) async fn after_committed(
        &self,
        config: &TableConfig,
        timeline: &Timeline,
        write_schema: &SchemaRef,
        instant: &InstantTime,
        mut metrics: WriteMetrics,
        started: Stopwatch,
    ) -> Result<WriteMetrics> {
        let after = |source: HudiError| HudiError::AfterCommit {
            instant: instant.to_string(),
            source: Box::new(source),
        };
        self.after_commit(config, timeline, write_schema)
            .await
            .map_err(after)?;
        if let Some(hook) = &self.after_commit {
            metrics.inline_services = hook
                .after_commit(&self.storage, &self.options, &metrics, self.clock.as_ref())
                .await
                .map_err(after)?;
        }
        metrics.duration_ms = started.elapsed().as_millis() as u64;
        Ok(metrics)
    }

    /// The timeline the write is based on: as opened, or under optimistic concurrency
    /// control as it is once the write's instant exists (the transaction is based on it too).
    pub(super) async fn base_timeline(
        &self,
        opened: &Opened,
        txn: &mut Transaction,
    ) -> Result<Timeline> {
        if !opened.cc.is_optimistic() {
            return Ok(opened.timeline.clone());
        }
        let now = opened.timeline.reload().await?;
        txn.rebase(now.clone());
        Ok(now)
    }

    /// Rolls back this writer's own pending instant `t` (after it lost a write conflict),
    /// under the table lock, as every rollback of concurrent writers runs.
    pub(super) async fn roll_back_own(&self, opened: &Opened, t: &InstantTime) -> Result<()> {
        crate::txn::locked(&self.storage, &opened.cc, async {
            let now = Timeline::load(&self.storage, &opened.config).await?;
            match now.pending().find(|i| i.requested() == t) {
                Some(own) => {
                    let clock = self.clock.as_ref();
                    crate::txn::rollback::rollback_instant(&self.storage, &now, own, clock).await?;
                }
                // Another writer rolled it back while it ran: what it wrote since goes.
                None if now.completed_write(t).is_none() => {
                    crate::txn::rollback::purge_uncommitted(&self.storage, t).await?;
                }
                None => {}
            }
            Ok(())
        })
        .await
    }

    /// Loads the table as it is now (not as it was opened), refuses what this writer must not
    /// write, and rolls back failed writes (EAGER).
    async fn open_for_write(&self) -> Result<Opened> {
        let operation = format!("{} write", self.operation.token().to_ascii_lowercase());
        let crate::txn::mutation::Mutation { config, options } =
            crate::txn::mutation::Mutation::begin(
                &self.storage,
                &operation,
                Changes::Records,
                &self.options,
            )
            .await?;
        let cc = ConcurrencyConfig::from_options(&self.storage, &options)?;
        let opened = Timeline::load(&self.storage, &config).await?;
        let rolled =
            rollback_failed_writes(&self.storage, &opened, self.clock.as_ref(), &cc).await?;
        // Rollbacks a crashed restore left pending may have gone without a rollback.
        let changed =
            !rolled.is_empty() || opened.pending().any(|i| i.action() == Action::Rollback);
        let timeline = if !changed {
            opened
        } else {
            opened.reload().await?
        };
        Ok(Opened {
            config,
            options,
            cc,
            timeline,
            rolled_back: rolled.into_iter().map(|r| r.rolled_back).collect(),
        })
    }

    /// The partitions a `delete_partition` drops: those named (`with_partitions`,
    /// `hoodie.datasource.write.partitions.to.delete`), else those of the input rows, as
    /// Hudi's Spark writer does.
    fn partitions_to_drop(&self, wc: &WriteConfig, prepared: &Prepared) -> Result<Vec<String>> {
        let mut named = self.partitions.clone();
        named.extend(wc.partitions_to_delete.iter().cloned());
        if self.operation != WriteOperation::DeletePartition || !named.is_empty() {
            return Ok(named);
        }
        let from_rows = prepared.partition_names().to_vec();
        if from_rows.is_empty() {
            return Err(self.refuse_delete_partition(
                "no partitions named and no input rows to take them from".into(),
            ));
        }
        Ok(from_rows)
    }

    fn refuse_delete_partition(&self, reason: String) -> HudiError {
        HudiError::Refused {
            operation: "delete_partition".into(),
            table: self.storage.location().to_string(),
            reason,
        }
    }

    /// The schema of this write: the table's, evolved by the input's columns.
    async fn write_schema(
        &self,
        config: &TableConfig,
        timeline: &Timeline,
        first: Option<&RecordBatch>,
    ) -> Result<SchemaRef> {
        let table_schema = current_schema(config, timeline).await?;
        let write_schema: SchemaRef = match (&table_schema, first) {
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
        Ok(write_schema)
    }

    /// Converts, keys and (on request) deduplicates the input rows.
    async fn prepare<S>(
        &self,
        config: &TableConfig,
        wc: &WriteConfig,
        write_schema: SchemaRef,
        first: Option<RecordBatch>,
        mut rest: S,
    ) -> Result<Prepared>
    where
        S: Stream<Item = Result<RecordBatch>> + Unpin,
    {
        let keygen = KeyGenerator::from_table(config, &self.options)?;
        let ordering = config.precombine_field.as_deref();
        let all_deletes = self.operation == WriteOperation::Delete;
        let dedup = match self.operation {
            WriteOperation::Upsert => wc.combine_before_upsert,
            WriteOperation::Delete => wc.combine_before_delete,
            _ => wc.combine_before_insert,
        };
        // A plain insert never compares ordering values (a bucket table's insert can still
        // meet stored records of its keys).
        let plain_insert = matches!(
            self.operation,
            WriteOperation::BulkInsert | WriteOperation::Insert
        ) && !dedup
            && wc.index != IndexType::Bucket;
        let mut prepared = Prepared::with_ordering(write_schema, wc.spill_threshold, !plain_insert);
        if wc.index == IndexType::Bucket {
            prepared =
                prepared.with_buckets(wc.hash_fields(&config.record_key_fields), wc.num_buckets);
        }
        if let Some(b) = &first {
            prepared.push(b, &keygen, ordering, all_deletes)?;
        }
        while let Some(b) = rest.next().await {
            prepared.push(&b?, &keygen, ordering, all_deletes)?;
        }
        prepared.seal()?;
        if dedup {
            prepared.dedup(wc.index.is_global());
        }
        Ok(prepared)
    }

    /// Writes the plan's base and log files under the transaction; returns the commit
    /// metadata.
    #[allow(clippy::too_many_arguments)]
    async fn write_files(
        &self,
        config: &TableConfig,
        wc: &WriteConfig,
        write_schema: &SchemaRef,
        prepared: &Prepared,
        p: &plan::Plan,
        txn: &mut Transaction,
        metrics: &mut WriteMetrics,
    ) -> Result<CommitMetadata> {
        let t = txn.instant().clone();
        for part in p.partitions_written() {
            write_partition_metadata(&self.storage, &part, &t, &self.clock).await?;
        }
        let schema_json = if write_schema.fields().is_empty() {
            String::new()
        } else {
            schema::avro_schema(write_schema, &config.name, true, true)?
        };
        let ctx = WriteContext {
            storage: &self.storage,
            instant: &t,
            schema: Arc::new(with_meta_fields(write_schema)),
            avro_schema: &schema_json,
            record_name: schema::record_full_name(&config.name),
            config: wc,
            prepared,
            ordering_field: config.precombine_field.as_deref(),
        };
        let mut meta = CommitMetadata {
            operation_type: Some(self.operation.token().to_string()),
            ..Default::default()
        };
        let mut add = |partition: &str, stat| {
            metrics.add(&stat);
            meta.partition_to_write_stats
                .entry(partition.to_string())
                .or_default()
                .push(stat);
        };
        for fg in &p.groups {
            txn.touch(fg.id());
        }
        // File groups are written on several cores at once.
        let stats = crate::io::parallel::each_file_group(p.groups.len(), |task| {
            write_file_group(&ctx, &p.groups[task], task)
        })
        .await?;
        for (fg, stat) in p.groups.iter().zip(stats) {
            add(&fg.partition, stat);
        }
        if !p.logs.is_empty() {
            let avro = parse_avro_schema(&schema_json, "log block writer schema")?;
            let delete_schema = parse_avro_schema(
                crate::io::log_reader::DELETE_RECORD_LIST_SCHEMA,
                "delete block schema",
            )?;
            for lg in &p.logs {
                txn.touch(lg.id());
            }
            // Log files too are written on several cores at once.
            let first = p.groups.len();
            let stats = crate::io::parallel::each_file_group(p.logs.len(), |n| {
                let (avro, delete_schema) = (&avro, &delete_schema);
                log_handle::append_log(&ctx, &p.logs[n], &wc.log, avro, delete_schema, first + n)
            })
            .await?;
            for (lg, stats) in p.logs.iter().zip(stats) {
                for stat in stats {
                    add(&lg.partition, stat);
                }
            }
        }
        if self.operation.is_replace() {
            let mut replaced: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for g in &p.replaced {
                txn.touch(g.clone());
                replaced
                    .entry(g.partition.clone())
                    .or_default()
                    .push(g.file_id.clone());
                metrics.file_groups_replaced += 1;
            }
            meta.partition_to_replace_file_ids = Some(replaced);
        }
        self.add_extra_metadata(config, write_schema, &mut meta)?;
        Ok(meta)
    }

    /// Adds the commit's `extraMetadata`: the writer schema, then the caller's entries.
    pub(super) fn add_extra_metadata(
        &self,
        config: &TableConfig,
        write_schema: &SchemaRef,
        meta: &mut CommitMetadata,
    ) -> Result<()> {
        if !write_schema.fields().is_empty() {
            let avro = schema::avro_schema(write_schema, &config.name, false, true)?;
            meta.extra_metadata.insert("schema".into(), avro);
        }
        if let Some(extra) = &self.extra_metadata {
            for (k, v) in extra.entries() {
                meta.extra_metadata.entry(k).or_insert(v);
            }
        }
        Ok(())
    }

    /// Whether the write streams its input straight into files (see [`super::bulk`]): a bulk
    /// insert that neither deduplicates nor routes rows to buckets.
    fn streams(&self, wc: &WriteConfig) -> bool {
        self.operation == WriteOperation::BulkInsert
            && !wc.combine_before_insert
            && wc.index != IndexType::Bucket
    }

    /// The first write of a table fixes its create schema (a table others wrote keeps its
    /// properties as they are).
    async fn after_commit(
        &self,
        config: &TableConfig,
        timeline: &Timeline,
        write_schema: &SchemaRef,
    ) -> Result<()> {
        let first_write = timeline.completed_writes().next().is_none();
        if config.create_schema.is_none() && first_write && !write_schema.fields().is_empty() {
            let mut props = config.raw.clone();
            props.insert(
                CREATE_SCHEMA.key.into(),
                schema::avro_schema(write_schema, &config.name, false, false)?,
            );
            update_table_properties(
                &self.storage,
                properties_file_text(&props, &self.clock.now()),
            )
            .await?;
        }
        Ok(())
    }
}
