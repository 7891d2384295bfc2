//! The sync Hudi's writers run after each commit when `hoodie.datasource.meta.sync.enable`
//! (or `hoodie.datasource.hive_sync.enable`) is set: the tool named by
//! `hoodie.meta.sync.client.tool.class`, configured by the same options as the write. A Rust
//! program calls [`meta_sync`] after its write commits, as `hudi write` does.

use std::collections::BTreeMap;

use hudi_core::Table;

use crate::config::{sync_requested, GLUE_TOOL, HIVE_SYNC};
use crate::error::{Result, SyncError};
use crate::glue::{GlueClient, GlueOptions};
use crate::hms::HmsClient;
use crate::sync::SyncOutcome;
use crate::{MetastoreClient, SyncTool};

/// The sync tool the options ask for after each commit, if any; refuses what this crate
/// cannot run (a Hive sync in `jdbc` or `hiveql` mode), so that a write can refuse before it
/// writes.
pub fn requested_sync(options: &BTreeMap<String, String>) -> Result<Option<&'static str>> {
    let Some(tool) = sync_requested(options) else {
        return Ok(None);
    };
    if tool != GLUE_TOOL {
        let key = format!("{HIVE_SYNC}mode");
        if let Some(m) = options.get(&key).map(|m| m.trim().to_ascii_lowercase()) {
            if m != "hms" {
                return Err(SyncError::InvalidOption {
                    key,
                    value: m,
                    reason: format!(
                        "only the hms mode (Thrift, {HIVE_SYNC}metastore.uris) is supported"
                    ),
                });
            }
        }
    }
    Ok(Some(tool))
}

/// A Glue client from `hoodie.aws.glue.*` options, the arguments overriding them.
pub async fn glue_client(
    options: &BTreeMap<String, String>,
    region: Option<String>,
    endpoint: Option<String>,
    catalog_id: Option<String>,
) -> GlueClient {
    let option = |k: &str| options.get(k).cloned();
    GlueClient::connect(GlueOptions {
        region: region.or_else(|| option("hoodie.aws.glue.region")),
        endpoint: endpoint.or_else(|| option("hoodie.aws.glue.endpoint")),
        catalog_id,
        parallelism: option("hoodie.datasource.meta.sync.glue.partition_change_parallelism")
            .and_then(|v| v.parse().ok())
            .unwrap_or(4),
    })
    .await
}

/// A Hive metastore client for `uri`, or `hoodie.datasource.hive_sync.metastore.uris`
/// (default `thrift://localhost:9083`, as Hudi's).
pub fn hms_client(options: &BTreeMap<String, String>, uri: Option<&str>) -> Result<HmsClient> {
    let configured = options.get(&format!("{HIVE_SYNC}metastore.uris"));
    let uri = uri
        .or(configured.map(String::as_str))
        .unwrap_or("thrift://localhost:9083");
    let batch = options
        .get(&format!("{HIVE_SYNC}batch_num"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    HmsClient::connect(uri, batch)
}

/// Runs the sync the options ask for after a commit (`None` when they ask for none).
pub async fn meta_sync(
    table: &Table,
    options: &BTreeMap<String, String>,
) -> Result<Option<SyncOutcome>> {
    let Some(tool) = requested_sync(options)? else {
        return Ok(None);
    };
    let table = table.reload().await?;
    let client: Box<dyn MetastoreClient> = if tool == GLUE_TOOL {
        Box::new(glue_client(options, None, None, None).await)
    } else {
        Box::new(hms_client(options, None)?)
    };
    SyncTool::new(&table, client.as_ref())
        .with_options(options.clone())
        .run()
        .await
        .map(Some)
}
