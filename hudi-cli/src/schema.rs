//! `hudi schema`: the table's schema, now or as of an instant.

use hudi_core::read::schema::{table_schema, SchemaSource};
use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// The table's schema, now or as of an instant.
///
/// The schema of the latest commit that carries one (as Hudi resolves it), or of the latest
/// one at or before --instant; as Arrow fields, or the Avro schema Hudi stored.
///
/// Examples:
///   hudi schema /data/events
///   hudi schema /data/events --instant 20261201153000123
///   hudi schema /data/events --avro          # the Avro schema of the commit metadata
///   hudi schema /data/events --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct SchemaArgs {
    /// Table path or URL.
    pub table: String,
    /// The schema as of this instant (or ISO-8601 time).
    #[arg(long, value_name = "T")]
    pub instant: Option<String>,
    /// Print the Avro schema stored in the commit metadata.
    #[arg(long, conflicts_with = "json")]
    pub avro: bool,
    /// Print one JSON object: fields, where the schema came from, and the Avro schema.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: SchemaArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let timeline = match &a.instant {
        Some(t) => table.timeline().as_of(&crate::parse_time("--instant", t)?),
        None => table.timeline().clone(),
    };
    let avro = timeline.latest_schema().await?;
    if a.avro {
        let text = avro.ok_or_else(|| CliError::Usage {
            arg: "--avro",
            reason: format!(
                "no commit of '{}' up to that instant stores a schema",
                table.location()
            ),
        })?;
        println!("{text}");
        return Ok(());
    }
    let (schema, source) = table_schema(table.storage(), table.config(), &timeline).await?;
    let source = match source {
        SchemaSource::CommitMetadata => "commit metadata",
        SchemaSource::BaseFile => "the footer of a base file",
        SchemaSource::CreateSchema => "hoodie.table.create.schema",
    };
    if a.json {
        let fields: Vec<_> = schema
            .fields()
            .iter()
            .map(|f| json!({"name": f.name(), "type": f.data_type().to_string(), "nullable": f.is_nullable()}))
            .collect();
        let avro: Option<serde_json::Value> = avro.and_then(|t| serde_json::from_str(&t).ok());
        return print_json(&json!({"source": source, "fields": fields, "avro": avro}));
    }
    println!("schema of {} (from {source}):", table.location());
    let width = schema
        .fields()
        .iter()
        .map(|f| f.name().len())
        .max()
        .unwrap_or(0);
    for f in schema.fields() {
        let null = if f.is_nullable() { "" } else { "  not null" };
        println!("  {:<width$}  {}{null}", f.name(), f.data_type());
    }
    Ok(())
}
