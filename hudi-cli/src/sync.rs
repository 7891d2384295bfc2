//! `hudi sync glue` and `hudi sync hms`: register a table in AWS Glue or a Hive metastore as
//! Hudi's `AwsGlueCatalogSyncTool` and `HiveSyncTool` (HMS mode) do.

use std::collections::BTreeMap;

use hudi_core::Table;
use hudi_glue_sync::config::HIVE_SYNC;
use hudi_glue_sync::{MetastoreClient, SyncOutcome, SyncTool};
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// Register tables in a catalog (AWS Glue, a Hive metastore), as Hudi's catalog sync does.
///
/// Examples:
///   hudi sync glue s3://bucket/trips --database lake
///   hudi sync glue s3://bucket/trips --database lake --dry-run --json
///   hudi sync hms /data/trips --metastore-uri thrift://127.0.0.1:9083 --database lake
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub command: SyncCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SyncCommand {
    /// Register the table in AWS Glue: one table (copy-on-write) or `_ro`, `_rt` and the plain
    /// name (merge-on-read), its partitions, and later only what the commits since changed.
    ///
    /// Credentials come from the standard AWS chain (environment, profile, instance role).
    ///
    /// Examples:
    ///   hudi sync glue s3://bucket/trips --database lake
    ///   hudi sync glue s3://bucket/trips --database lake --dry-run          # what would change
    ///   hudi sync glue /data/trips --database lake --endpoint http://127.0.0.1:5000 --region us-east-1 --json
    ///   hudi sync glue s3://bucket/trips --database lake --option hoodie.datasource.hive_sync.skip_ro_suffix=true
    #[command(verbatim_doc_comment)]
    Glue(GlueArgs),
    /// Register the table in a Hive metastore (Thrift, binary protocol): the same tables,
    /// partitions and parameters as Hudi's HiveSyncTool in HMS mode.
    ///
    /// Examples:
    ///   hudi sync hms /data/trips --metastore-uri thrift://127.0.0.1:9083 --database lake
    ///   hudi sync hms s3://bucket/trips --metastore-uri thrift://hms:9083 --database lake --dry-run
    ///   hudi sync hms /data/trips --metastore-uri thrift://hms:9083 --database lake --option hoodie.datasource.hive_sync.support_timestamp=true --json
    #[command(verbatim_doc_comment)]
    Hms(HmsArgs),
}

#[derive(Debug, clap::Args)]
pub struct HmsArgs {
    /// Table path or URL.
    pub table: String,
    /// The metastore (`hoodie.datasource.hive_sync.metastore.uris`).
    #[arg(long, value_name = "thrift://HOST:PORT")]
    pub metastore_uri: String,
    /// Database (created if missing; `hoodie.datasource.hive_sync.database`).
    #[arg(long)]
    pub database: String,
    /// Catalog table name (default: the Hudi table's name).
    #[arg(long = "table")]
    pub name: Option<String>,
    /// Sync option `hoodie.*=value` (repeatable), as Hudi's sync names them.
    #[arg(long = "option", value_name = "KEY=VALUE", value_parser = crate::parse_kv)]
    pub options: Vec<(String, String)>,
    /// Print the planned changes; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the plan and the outcome as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, clap::Args)]
pub struct GlueArgs {
    /// Table path or URL.
    pub table: String,
    /// Glue database (created if missing; `hoodie.datasource.hive_sync.database`).
    #[arg(long)]
    pub database: String,
    /// Catalog table name (default: the Hudi table's name).
    #[arg(long = "table")]
    pub name: Option<String>,
    /// Glue endpoint (`hoodie.aws.glue.endpoint`), e.g. a VPC endpoint or a local moto.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// AWS region (`hoodie.aws.glue.region`); default from the environment or profile.
    #[arg(long)]
    pub region: Option<String>,
    /// Glue catalog (account) id; default the caller's.
    #[arg(long)]
    pub catalog_id: Option<String>,
    /// Sync option `hoodie.*=value` (repeatable), as Hudi's sync names them.
    #[arg(long = "option", value_name = "KEY=VALUE", value_parser = crate::parse_kv)]
    pub options: Vec<(String, String)>,
    /// Print the planned changes; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the plan and the outcome as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: SyncArgs) -> Result<(), CliError> {
    match a.command {
        SyncCommand::Glue(g) => glue(g).await,
        SyncCommand::Hms(h) => hms(h).await,
    }
}

async fn hms(a: HmsArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let mut options: BTreeMap<String, String> = a.options.iter().cloned().collect();
    let client = hudi_glue_sync::hms_client(&options, Some(&a.metastore_uri))?;
    options.insert(format!("{HIVE_SYNC}database"), a.database.clone());
    if let Some(n) = &a.name {
        options.insert(format!("{HIVE_SYNC}table"), n.clone());
    }
    let started = std::time::Instant::now();
    let outcome = SyncTool::new(&table, &client)
        .with_options(options)
        .with_dry_run(a.dry_run)
        .run()
        .await?;
    report(&outcome, &client, started.elapsed().as_millis(), a.json)
}

async fn glue(a: GlueArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let mut options: BTreeMap<String, String> = a.options.iter().cloned().collect();
    let client = hudi_glue_sync::glue_client(
        &options,
        a.region.clone(),
        a.endpoint.clone(),
        a.catalog_id.clone(),
    )
    .await;
    options.insert(
        "hoodie.datasource.hive_sync.database".into(),
        a.database.clone(),
    );
    if let Some(n) = &a.name {
        options.insert("hoodie.datasource.hive_sync.table".into(), n.clone());
    }
    let started = std::time::Instant::now();
    let outcome = SyncTool::new(&table, &client)
        .with_options(options)
        .with_dry_run(a.dry_run)
        .run()
        .await?;
    report(&outcome, &client, started.elapsed().as_millis(), a.json)
}

fn report(
    o: &SyncOutcome,
    client: &dyn MetastoreClient,
    ms: u128,
    as_json: bool,
) -> Result<(), CliError> {
    let calls = client.calls();
    if as_json {
        let mut v = o.plan.to_json();
        v["applied"] = json!(o.applied);
        v["catalog"] = json!(client.name());
        v["calls"] = json!({"reads": calls.reads, "writes": calls.writes});
        v["duration_ms"] = json!(ms);
        return print_json(&v);
    }
    let verb = if o.applied {
        ""
    } else {
        " (dry run: nothing changed)"
    };
    if o.plan.create_database {
        println!("create database {}", o.plan.database);
    }
    for t in &o.plan.tables {
        let name = format!("{}.{}", o.plan.database, t.name);
        if t.is_noop() {
            println!("{name}: up to date (last_commit_time_sync {})", t.sync_to);
            continue;
        }
        let what = if t.create { "create" } else { "update" };
        println!(
            "{name}: {what}; partitions +{} ~{} -{}; columns +{} ~{}; last_commit_time_sync {} -> {}",
            t.add.len(),
            t.update.len(),
            t.drop.len(),
            t.columns_added.len(),
            t.columns_changed.len(),
            t.last_synced.as_deref().unwrap_or("(none)"),
            t.sync_to
        );
        if let Some(why) = &t.full_listing {
            println!("  all partitions listed: {why}");
        }
        if !t.comments_changed.is_empty() {
            println!("  comments: {}", t.comments_changed.join(", "));
        }
        if !t.parameters_changed.is_empty() {
            println!("  parameters: {}", t.parameters_changed.join(", "));
        }
    }
    println!(
        "{} calls ({} changing the catalog) in {ms} ms{verb}",
        calls.reads + calls.writes,
        calls.writes
    );
    Ok(())
}
