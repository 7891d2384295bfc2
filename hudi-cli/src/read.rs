//! `hudi read`.

use std::path::PathBuf;

use futures::StreamExt;
use hudi_core::{InstantTime, Table};

use crate::error::CliError;
use crate::output::{Sink, TextFormat};
use crate::StorageArgs;

/// Read a table's rows (snapshot, read-optimized, incremental or time travel).
///
/// Examples:
///   hudi read /data/trips --limit 20
///   hudi read /data/trips --columns uuid,fare --format jsonl
///   hudi read /data/trips --as-of 2025-03-31T03:06:42
///   hudi read /data/trips --incremental --start 0 --end 20250331030645735
///   hudi read /data/trips --read-optimized --output base.parquet
///   hudi read s3://bucket/trips --count --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ReadArgs {
    /// Table path or URL.
    pub table: String,
    /// Time travel: read the table as of this instant (yyyyMMddHHmmss[SSS]) or ISO-8601 date or
    /// time (2026-12-01, 2026-12-01T15:30:00; with an offset it is converted to UTC).
    #[arg(long, value_name = "T")]
    pub as_of: Option<String>,
    /// Read base files only, without merging log files (merge-on-read tables).
    #[arg(long, conflicts_with = "incremental")]
    pub read_optimized: bool,
    /// Incremental read of the instants in (--start, --end].
    #[arg(long, conflicts_with = "as_of")]
    pub incremental: bool,
    /// Exclusive start of an incremental read (completion time on v8+ tables), as --as-of takes
    /// it; 0 (or 000) is the beginning, as in Hudi's docs. Default: the beginning.
    #[arg(long, value_name = "T", requires = "incremental")]
    pub start: Option<String>,
    /// Inclusive end of an incremental read. Default: the latest instant.
    #[arg(long, value_name = "T", requires = "incremental")]
    pub end: Option<String>,
    /// Columns to read, comma separated, in output order.
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Stop after this many rows.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Write the rows to this Parquet file (with exactly the reader's Arrow schema).
    #[arg(long, value_name = "FILE.parquet")]
    pub output: Option<PathBuf>,
    /// Format of rows printed to stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TextFormat,
    /// Print only the number of rows (every row is still read and merged).
    #[arg(long, conflicts_with_all = ["output", "limit"])]
    pub count: bool,
    /// With --count: print `{"rows": N}`.
    #[arg(long, requires = "count")]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

fn instant(arg: &'static str, v: &Option<String>) -> Result<Option<InstantTime>, CliError> {
    v.as_deref().map(|s| crate::parse_time(arg, s)).transpose()
}

pub async fn run(a: ReadArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let mut builder = table.read();
    if let Some(t) = instant("--as-of", &a.as_of)? {
        builder = builder.with_as_of(t);
    }
    if a.read_optimized {
        builder = builder.with_read_optimized();
    }
    if a.incremental {
        builder =
            builder.with_incremental(instant("--start", &a.start)?, instant("--end", &a.end)?);
    }
    if let Some(cols) = a.columns.clone() {
        builder = builder.with_columns(cols);
    }
    let mut scan = builder.stream().await?;
    if a.count {
        let mut rows = 0usize;
        while let Some(batch) = scan.batches.next().await {
            rows += batch?.num_rows();
        }
        if a.json {
            crate::output::print_json(&serde_json::json!({ "rows": rows }))?;
        } else {
            println!("{rows}");
        }
        return Ok(());
    }
    let mut sink = match &a.output {
        Some(p) => Sink::parquet(p, &scan.schema)?,
        None => Sink::text(a.format),
    };
    let mut rows = 0usize;
    // Reading into a file shows a spinner (stdout output stays clean).
    let spinner = a
        .output
        .as_ref()
        .map(|_| crate::progress::rows_spinner("read"));
    while let Some(batch) = scan.batches.next().await {
        let mut batch = batch?;
        if let Some(limit) = a.limit {
            if rows >= limit {
                break;
            }
            if rows + batch.num_rows() > limit {
                batch = batch.slice(0, limit - rows);
            }
        }
        rows += batch.num_rows();
        sink.write(&batch)?;
        if let Some(s) = &spinner {
            s.inc(batch.num_rows() as u64);
        }
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    sink.finish()?;
    if let Some(p) = &a.output {
        eprintln!("wrote {rows} rows to {}", p.display());
    }
    Ok(())
}
