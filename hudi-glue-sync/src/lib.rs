//! Register Apache Hudi tables in a catalog (AWS Glue, a Hive metastore) the way Hudi's
//! `HiveSyncTool` and `AwsGlueCatalogSyncTool` do: one table per copy-on-write table, `_ro`
//! and `_rt` per merge-on-read table, partitions added, moved and dropped as commits change
//! them, new columns added, `last_commit_time_sync` kept so that the next sync reads only the
//! commits after it.
//!
//! ```no_run
//! # async fn demo() -> hudi_glue_sync::Result<()> {
//! use hudi_glue_sync::{GlueClient, GlueOptions, SyncTool};
//! let table = hudi_core::Table::open("s3://bucket/trips").await?;
//! let glue = GlueClient::connect(GlueOptions { parallelism: 5, ..Default::default() }).await;
//! let outcome = SyncTool::new(&table, &glue).with_option("hoodie.datasource.hive_sync.database", "lake").run().await?;
//! println!("{}", outcome.plan.to_json());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use hudi_core::Table;

pub mod catalog;
pub mod config;
mod discover;
pub mod error;
mod glue;
mod hms;
pub mod memory;
mod meta;
pub mod partitions;
pub mod schema;
mod sync;
pub mod tables;

pub use catalog::{CallCounts, Column, MetastoreClient, PartitionDef, TableDef};
pub use config::{sync_requested, SyncConfig, TableStrategy};
pub use error::{Result, SyncError};
pub use glue::{GlueClient, GlueOptions};
pub use hms::{partition_name, HmsClient};
pub use meta::{glue_client, hms_client, meta_sync, requested_sync};
pub use sync::{SyncOutcome, SyncPlan, TablePlan};

/// One sync of a table into a catalog.
pub struct SyncTool<'a> {
    table: &'a Table,
    client: &'a dyn MetastoreClient,
    options: BTreeMap<String, String>,
    dry_run: bool,
}

impl<'a> SyncTool<'a> {
    pub fn new(table: &'a Table, client: &'a dyn MetastoreClient) -> Self {
        SyncTool {
            table,
            client,
            options: BTreeMap::new(),
            dry_run: false,
        }
    }

    /// A sync option (`hoodie.datasource.hive_sync.database`, `..table`, `..skip_ro_suffix`, ...).
    pub fn with_option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    pub fn with_options(mut self, options: BTreeMap<String, String>) -> Self {
        self.options.extend(options);
        self
    }

    /// Plan only: read the table and the catalog, change nothing.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    pub async fn run(self) -> Result<SyncOutcome> {
        let cfg = SyncConfig::from_options(self.table, &self.options)?;
        let plan = sync::plan(self.table, &cfg, self.client).await?;
        if !self.dry_run {
            sync::apply(&plan, self.client).await?;
        }
        Ok(SyncOutcome {
            plan,
            applied: !self.dry_run,
        })
    }
}
