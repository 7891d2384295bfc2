//! `hudi metadata`: the table's metadata table.

use hudi_core::timeline::transition::SystemClock;
use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// The metadata table: `delete` turns it off.
///
/// Examples:
///   hudi metadata delete /data/trips
///   hudi metadata delete /data/trips --backup
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct MetadataArgs {
    #[command(subcommand)]
    pub command: MetadataCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum MetadataCommand {
    /// Delete the metadata table, so that writers that do not maintain it (this one) can
    /// write.
    ///
    /// `hoodie.properties` stops naming the metadata partitions first, then
    /// `.hoodie/metadata` is removed. Stop every writer before: a Spark writer with
    /// `hoodie.metadata.enable=true` (Hudi's default since 0.14) re-creates it on its next
    /// commit, so set `hoodie.metadata.enable=false` in its options afterwards.
    ///
    /// Examples:
    ///   hudi metadata delete /data/trips
    ///   hudi metadata delete s3://bucket/trips --backup --json
    #[command(verbatim_doc_comment)]
    Delete(DeleteArgs),
}

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// Table path or URL.
    pub table: String,
    /// Copy the metadata table to `.hoodie/metadata_backup_<instant>` before deleting it.
    #[arg(long)]
    pub backup: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: MetadataArgs) -> Result<(), CliError> {
    match a.command {
        MetadataCommand::Delete(d) => delete(d).await,
    }
}

async fn delete(a: DeleteArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let done = table.delete_metadata_table(a.backup, &SystemClock).await?;
    let pending: Vec<&str> = done.pending_instants.iter().map(|t| t.as_str()).collect();
    if a.json {
        return print_json(&json!({
            "table": table.location(),
            "partitions": done.partitions,
            "files_deleted": done.files_deleted,
            "backup": done.backup_dir,
            "pending_instants": pending,
        }));
    }
    println!(
        "deleted the metadata table of {} (partitions: {}; {} files{})",
        table.location(),
        if done.partitions.is_empty() {
            "none listed".to_string()
        } else {
            done.partitions.join(", ")
        },
        done.files_deleted,
        done.backup_dir
            .map(|d| format!(", copied first to {d}"))
            .unwrap_or_default()
    );
    if !pending.is_empty() {
        eprintln!(
            "warning: instants {} are pending on the table: a writer may still be running",
            pending.join(", ")
        );
    }
    println!("Spark writers must now set hoodie.metadata.enable=false, or they re-create it.");
    Ok(())
}
