//! AWS Glue as the catalog (`aws-sdk-glue`): credentials from the standard chain, region and
//! endpoint override, catalog id; Glue's batch limits (100 partitions per create or update, 25
//! per delete, 1000 per get), "already exists" tolerated, throttled calls retried with backoff
//! by the SDK's standard retry mode, and partition batches sent a few at a time.

use std::collections::BTreeMap;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_glue::error::{DisplayErrorContext, SdkError};
use aws_sdk_glue::types as g;
use aws_sdk_glue::Client;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};

use crate::catalog::{CallCounter, CallCounts, Column, MetastoreClient, PartitionDef, TableDef};
use crate::error::{Result, SyncError};

const CREATE_BATCH: usize = 100;
const UPDATE_BATCH: usize = 100;
const DELETE_BATCH: usize = 25;
const GET_BATCH: usize = 1000;

/// How to reach Glue.
#[derive(Debug, Clone, Default)]
pub struct GlueOptions {
    /// `hoodie.aws.glue.region`; else the standard chain's (AWS_REGION, profile).
    pub region: Option<String>,
    /// `hoodie.aws.glue.endpoint`: a Glue-compatible endpoint (moto, a VPC endpoint).
    pub endpoint: Option<String>,
    /// The catalog (account) id; else the caller's account.
    pub catalog_id: Option<String>,
    /// Partition batches in flight at once (`..glue.partition_change_parallelism`; 1..=10).
    pub parallelism: usize,
}

pub struct GlueClient {
    client: Client,
    catalog_id: Option<String>,
    parallelism: usize,
    calls: CallCounter,
}

fn failed<E>(operation: &'static str, target: &str, e: SdkError<E>) -> SyncError
where
    E: std::error::Error + 'static,
{
    SyncError::Catalog {
        catalog: "Glue",
        operation,
        target: target.to_string(),
        message: DisplayErrorContext(&e).to_string(),
    }
}

fn built<T>(what: &str, r: std::result::Result<T, aws_sdk_glue::error::BuildError>) -> Result<T> {
    r.map_err(|e| SyncError::Unexpected {
        target: what.to_string(),
        what: e.to_string(),
    })
}

impl GlueClient {
    pub async fn connect(o: GlueOptions) -> GlueClient {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(8));
        if let Some(r) = &o.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &o.endpoint {
            loader = loader.endpoint_url(e.clone());
        }
        let conf = loader.load().await;
        GlueClient {
            client: Client::new(&conf),
            catalog_id: o.catalog_id,
            parallelism: o.parallelism.clamp(1, 10),
            calls: CallCounter::default(),
        }
    }

    fn read(&self) {
        self.calls.read();
    }

    fn wrote(&self) {
        self.calls.wrote();
    }

    fn columns(cols: &[Column]) -> Result<Vec<g::Column>> {
        cols.iter()
            .map(|c| {
                built(
                    &c.name,
                    g::Column::builder()
                        .name(&c.name)
                        .r#type(&c.type_name)
                        // Hudi's Glue sync writes an empty comment, never none.
                        .comment(c.comment.as_deref().unwrap_or(""))
                        .build(),
                )
            })
            .collect()
    }

    fn storage(t: &TableDef, location: &str) -> Result<g::StorageDescriptor> {
        let serde = g::SerDeInfo::builder()
            .serialization_library(&t.serde_library)
            .set_parameters(Some(t.serde_parameters.clone().into_iter().collect()))
            .build();
        Ok(g::StorageDescriptor::builder()
            .set_columns(Some(Self::columns(&t.columns)?))
            .location(location)
            .input_format(&t.input_format)
            .output_format(&t.output_format)
            .serde_info(serde)
            .build())
    }

    fn table_input(t: &TableDef) -> Result<g::TableInput> {
        // Hudi's Glue sync registers EXTERNAL_TABLE even for managed tables (only the
        // EXTERNAL parameter tells them apart).
        built(
            &t.name,
            g::TableInput::builder()
                .name(&t.name)
                .table_type("EXTERNAL_TABLE")
                .set_parameters(Some(t.parameters.clone().into_iter().collect()))
                .set_partition_keys(Some(Self::columns(&t.partition_keys)?))
                .storage_descriptor(Self::storage(t, &t.location)?)
                .build(),
        )
    }

    fn partition_input(t: &TableDef, p: &PartitionDef) -> Result<g::PartitionInput> {
        Ok(g::PartitionInput::builder()
            .set_values(Some(p.values.clone()))
            .storage_descriptor(Self::storage(t, &p.location)?)
            .build())
    }

    fn value_list(values: &[String]) -> Result<g::PartitionValueList> {
        built(
            &values.join("/"),
            g::PartitionValueList::builder()
                .set_values(Some(values.to_vec()))
                .build(),
        )
    }
}

fn def_of(t: &g::Table) -> TableDef {
    let sd = t.storage_descriptor();
    let cols = |c: &[g::Column]| -> Vec<Column> {
        c.iter()
            .map(|c| Column {
                name: c.name().to_string(),
                type_name: c.r#type().unwrap_or_default().to_string(),
                comment: c.comment().map(String::from),
            })
            .collect()
    };
    let map = |m: Option<&std::collections::HashMap<String, String>>| -> BTreeMap<String, String> {
        m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    TableDef {
        name: t.name().to_string(),
        columns: sd.map(|s| cols(s.columns())).unwrap_or_default(),
        partition_keys: cols(t.partition_keys()),
        location: sd
            .and_then(|s| s.location())
            .unwrap_or_default()
            .to_string(),
        input_format: sd
            .and_then(|s| s.input_format())
            .unwrap_or_default()
            .to_string(),
        output_format: sd
            .and_then(|s| s.output_format())
            .unwrap_or_default()
            .to_string(),
        serde_library: sd
            .and_then(|s| s.serde_info())
            .and_then(|s| s.serialization_library())
            .unwrap_or_default()
            .to_string(),
        serde_parameters: map(sd.and_then(|s| s.serde_info()).and_then(|s| s.parameters())),
        parameters: map(t.parameters()),
    }
}

fn partition_of(p: &g::Partition) -> PartitionDef {
    PartitionDef {
        values: p.values().to_vec(),
        location: p
            .storage_descriptor()
            .and_then(|s| s.location())
            .unwrap_or_default()
            .to_string(),
    }
}

/// Per-partition errors of a batch call, "already exists" left out when `tolerate_exists`.
fn batch_errors<'a>(
    op: &'static str,
    target: &str,
    errors: impl Iterator<Item = (&'a [String], Option<&'a g::ErrorDetail>)>,
    tolerate_exists: bool,
) -> Result<()> {
    let bad: Vec<String> = errors
        .filter(|(_, d)| {
            !(tolerate_exists && d.and_then(|d| d.error_code()) == Some("AlreadyExistsException"))
        })
        .map(|(v, d)| {
            format!(
                "{}: {} {}",
                v.join("/"),
                d.and_then(|d| d.error_code()).unwrap_or("error"),
                d.and_then(|d| d.error_message()).unwrap_or_default()
            )
        })
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(SyncError::Catalog {
        catalog: "Glue",
        operation: op,
        target: target.to_string(),
        message: format!("{} partitions failed: {}", bad.len(), bad.join("; ")),
    })
}

impl MetastoreClient for GlueClient {
    fn name(&self) -> &'static str {
        "Glue"
    }

    fn normalize_location(&self, location: &str) -> String {
        match location.strip_prefix("s3a://") {
            Some(rest) => format!("s3://{rest}"),
            None => location.to_string(),
        }
    }

    fn calls(&self) -> CallCounts {
        self.calls.counts()
    }

    fn database_exists<'a>(&'a self, db: &'a str) -> BoxFuture<'a, Result<bool>> {
        async move {
            self.read();
            let r = self
                .client
                .get_database()
                .set_catalog_id(self.catalog_id.clone())
                .name(db)
                .send()
                .await;
            match r {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_entity_not_found_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(failed("GetDatabase", db, e)),
            }
        }
        .boxed()
    }

    fn create_database<'a>(&'a self, db: &'a str) -> BoxFuture<'a, Result<()>> {
        async move {
            self.wrote();
            let input = built(
                db,
                g::DatabaseInput::builder()
                    .name(db)
                    .description("Automatically created by hudi-rust's catalog sync")
                    .build(),
            )?;
            let r = self
                .client
                .create_database()
                .set_catalog_id(self.catalog_id.clone())
                .database_input(input)
                .send()
                .await;
            match r {
                Ok(_) => Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_already_exists_exception()) =>
                {
                    Ok(())
                }
                Err(e) => Err(failed("CreateDatabase", db, e)),
            }
        }
        .boxed()
    }

    fn get_table<'a>(
        &'a self,
        db: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<TableDef>>> {
        async move {
            self.read();
            let r = self
                .client
                .get_table()
                .set_catalog_id(self.catalog_id.clone())
                .database_name(db)
                .name(name)
                .send()
                .await;
            match r {
                Ok(out) => Ok(out.table().map(def_of)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_entity_not_found_exception()) =>
                {
                    Ok(None)
                }
                Err(e) => Err(failed("GetTable", &format!("{db}.{name}"), e)),
            }
        }
        .boxed()
    }

    fn create_table<'a>(&'a self, db: &'a str, table: &'a TableDef) -> BoxFuture<'a, Result<()>> {
        async move {
            self.wrote();
            let r = self
                .client
                .create_table()
                .set_catalog_id(self.catalog_id.clone())
                .database_name(db)
                .table_input(Self::table_input(table)?)
                .send()
                .await;
            match r {
                Ok(_) => Ok(()),
                // Created by someone else since we looked: bring it to our definition.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_already_exists_exception()) =>
                {
                    self.update_table(db, table, false).await
                }
                Err(e) => Err(failed("CreateTable", &format!("{db}.{}", table.name), e)),
            }
        }
        .boxed()
    }

    fn update_table<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        cascade: bool,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            self.wrote();
            self.client
                .update_table()
                .set_catalog_id(self.catalog_id.clone())
                .database_name(db)
                .skip_archive(true)
                .table_input(Self::table_input(table)?)
                .send()
                .await
                .map_err(|e| failed("UpdateTable", &format!("{db}.{}", table.name), e))?;
            // Glue partitions keep a storage descriptor of their own: new columns reach the
            // existing ones only when each is rewritten (same location, new columns).
            if cascade && !table.partition_keys.is_empty() {
                let all = self.list_partitions(db, &table.name).await?;
                self.update_partitions(db, table, &all).await?;
            }
            Ok(())
        }
        .boxed()
    }

    fn list_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Vec<PartitionDef>>> {
        async move {
            let target = format!("{db}.{table}");
            let mut pages = self
                .client
                .get_partitions()
                .set_catalog_id(self.catalog_id.clone())
                .database_name(db)
                .table_name(table)
                .exclude_column_schema(true)
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                self.read();
                let page = page.map_err(|e| failed("GetPartitions", &target, e))?;
                out.extend(page.partitions().iter().map(partition_of));
            }
            Ok(out)
        }
        .boxed()
    }

    fn get_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
        values: &'a [Vec<String>],
    ) -> BoxFuture<'a, Result<Vec<PartitionDef>>> {
        async move {
            let target = format!("{db}.{table}");
            let mut out = Vec::new();
            for chunk in values.chunks(GET_BATCH) {
                let mut ask: Vec<g::PartitionValueList> = chunk
                    .iter()
                    .map(|v| Self::value_list(v))
                    .collect::<Result<_>>()?;
                // Unprocessed keys (throttling inside the batch) are asked again.
                while !ask.is_empty() {
                    self.read();
                    let r = self
                        .client
                        .batch_get_partition()
                        .set_catalog_id(self.catalog_id.clone())
                        .database_name(db)
                        .table_name(table)
                        .set_partitions_to_get(Some(ask))
                        .send()
                        .await
                        .map_err(|e| failed("BatchGetPartition", &target, e))?;
                    out.extend(r.partitions().iter().map(partition_of));
                    ask = r.unprocessed_keys().to_vec();
                }
            }
            Ok(out)
        }
        .boxed()
    }

    fn add_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        partitions: &'a [PartitionDef],
    ) -> BoxFuture<'a, Result<()>> {
        let calls = partitions
            .chunks(CREATE_BATCH)
            .map(move |c| self.create_batch(db, table, c));
        self.in_flight(calls).boxed()
    }

    fn update_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        partitions: &'a [PartitionDef],
    ) -> BoxFuture<'a, Result<()>> {
        let calls = partitions
            .chunks(UPDATE_BATCH)
            .map(move |c| self.update_batch(db, table, c));
        self.in_flight(calls).boxed()
    }

    fn drop_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
        values: &'a [Vec<String>],
    ) -> BoxFuture<'a, Result<()>> {
        let calls = values
            .chunks(DELETE_BATCH)
            .map(move |c| self.delete_batch(db, table, c));
        self.in_flight(calls).boxed()
    }
}

impl GlueClient {
    /// Runs batch calls a few at a time; the first error wins.
    async fn in_flight<F>(&self, calls: impl Iterator<Item = F>) -> Result<()>
    where
        F: std::future::Future<Output = Result<()>>,
    {
        futures::stream::iter(calls)
            .buffer_unordered(self.parallelism)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }

    async fn create_batch(&self, db: &str, table: &TableDef, chunk: &[PartitionDef]) -> Result<()> {
        let target = format!("{db}.{}", table.name);
        self.wrote();
        let inputs: Vec<g::PartitionInput> = chunk
            .iter()
            .map(|p| Self::partition_input(table, p))
            .collect::<Result<_>>()?;
        let r = self
            .client
            .batch_create_partition()
            .set_catalog_id(self.catalog_id.clone())
            .database_name(db)
            .table_name(&table.name)
            .set_partition_input_list(Some(inputs))
            .send()
            .await
            .map_err(|e| failed("BatchCreatePartition", &target, e))?;
        let errors = r
            .errors()
            .iter()
            .map(|e| (e.partition_values(), e.error_detail()));
        batch_errors("BatchCreatePartition", &target, errors, true)
    }

    async fn update_batch(&self, db: &str, table: &TableDef, chunk: &[PartitionDef]) -> Result<()> {
        let target = format!("{db}.{}", table.name);
        self.wrote();
        let entries: Vec<g::BatchUpdatePartitionRequestEntry> = chunk
            .iter()
            .map(|p| {
                built(
                    &p.values.join("/"),
                    g::BatchUpdatePartitionRequestEntry::builder()
                        .set_partition_value_list(Some(p.values.clone()))
                        .partition_input(Self::partition_input(table, p)?)
                        .build(),
                )
            })
            .collect::<Result<_>>()?;
        let r = self
            .client
            .batch_update_partition()
            .set_catalog_id(self.catalog_id.clone())
            .database_name(db)
            .table_name(&table.name)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| failed("BatchUpdatePartition", &target, e))?;
        let errors = r
            .errors()
            .iter()
            .map(|e| (e.partition_value_list(), e.error_detail()));
        batch_errors("BatchUpdatePartition", &target, errors, false)
    }

    async fn delete_batch(&self, db: &str, table: &str, chunk: &[Vec<String>]) -> Result<()> {
        let target = format!("{db}.{table}");
        self.wrote();
        let lists: Vec<g::PartitionValueList> = chunk
            .iter()
            .map(|v| Self::value_list(v))
            .collect::<Result<_>>()?;
        let r = self
            .client
            .batch_delete_partition()
            .set_catalog_id(self.catalog_id.clone())
            .database_name(db)
            .table_name(table)
            .set_partitions_to_delete(Some(lists))
            .send()
            .await
            .map_err(|e| failed("BatchDeletePartition", &target, e))?;
        let errors = r
            .errors()
            .iter()
            .map(|e| (e.partition_values(), e.error_detail()));
        batch_errors("BatchDeletePartition", &target, errors, false)
    }
}
