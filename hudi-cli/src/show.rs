//! `hudi show`.

use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// Show a table's configuration and size, and whether this library writes it (a table with
/// a part it does not maintain, such as a metadata table, is read only here, and says why).
///
/// Examples:
///   hudi show /data/trips
///   hudi show s3://bucket/trips --json --storage-option aws_region=eu-west-1
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    /// Table path or URL.
    pub table: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: ShowArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let c = table.config();
    let tl = table.timeline();
    let view = table.file_system_view(None).await?;
    let (groups, base_files, log_files) = view.counts();
    let latest = tl.completed_writes().last();
    // What this library would refuse to change, and why (empty: it writes and maintains it).
    let records = hudi_core::config::capability::Changes::Records;
    let unmaintained: Vec<String> =
        hudi_core::txn::mutation::unmaintained(table.storage(), c, records)
            .await?
            .iter()
            .map(|p| p.to_string())
            .collect();
    let v = json!({
        "location": table.location(),
        "name": c.name,
        "database": c.database,
        "type": c.table_type.as_str(),
        "version": c.version.number(),
        "timeline_layout_version": c.timeline_layout_version,
        "record_key_fields": c.record_key_fields,
        "partition_fields": c.partition_fields,
        "precombine_field": c.precombine_field,
        "key_generator": c.keygen_name(),
        "hive_style_partitioning": c.hive_style_partitioning,
        "base_file_format": c.base_file_format.extension(),
        "partitions": view.partitions.len(),
        "file_groups": groups,
        "base_files": base_files,
        "log_files": log_files,
        "instants": tl.instants().len(),
        "completed_writes": tl.completed_writes().count(),
        "pending_instants": tl.pending().count(),
        "writable": unmaintained.is_empty(),
        "unmaintained": unmaintained,
        "latest_instant": latest.map(|i| json!({
            "requested": i.requested().as_str(),
            "completed": i.completion().map(|t| t.as_str()),
            "action": i.action().token(),
        })),
    });
    if a.json {
        return print_json(&v);
    }
    let mut out = String::new();
    let fields = [
        ("location", table.location().to_string()),
        ("name", c.name.clone()),
        ("database", c.database.clone().unwrap_or_default()),
        ("type", c.table_type.to_string()),
        ("version", c.version.to_string()),
        ("record key", c.record_key_fields.join(",")),
        ("partition fields", c.partition_fields.join(",")),
        (
            "precombine field",
            c.precombine_field.clone().unwrap_or_default(),
        ),
        ("key generator", c.keygen_name().unwrap_or_default()),
        ("partitions", view.partitions.len().to_string()),
        ("file groups", groups.to_string()),
        ("base files", base_files.to_string()),
        ("log files", log_files.to_string()),
        ("instants", tl.instants().len().to_string()),
        (
            "latest instant",
            latest
                .map(|i| format!("{} {}", i.requested(), i.action()))
                .unwrap_or_else(|| "none".into()),
        ),
    ];
    for (k, v) in fields {
        out.push_str(&format!("{k:<18}{v}\n"));
    }
    let writable = match unmaintained.is_empty() {
        true => "yes".to_string(),
        false => format!(
            "no, read only: the table has {}",
            unmaintained.join("; and ")
        ),
    };
    out.push_str(&format!("{:<18}{writable}\n", "writable"));
    print!("{out}");
    Ok(())
}
