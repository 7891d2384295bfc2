//! `hudi-bench`: throughput of the core write and read paths on generated data.
//!
//! Bulk-inserts N rows into a new copy-on-write table (10 partitions), upserts M rows (half
//! updates of existing keys, half new keys), then reads the snapshot back; prints rows/s per
//! phase and the peak resident memory as JSON. With `--updates-only` every upserted row
//! updates an existing key (a merge-on-read table then holds M updates in its logs: the
//! input of `interop/spark/bench_compaction.sh`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use clap::Parser;
use futures::StreamExt;
use hudi_core::{TableBuilder, WriteOperation};

#[derive(Debug, Parser)]
#[command(
    name = "hudi-bench",
    about = "Measure bulk insert, upsert and snapshot read throughput"
)]
struct Args {
    /// Rows to bulk insert.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Rows to upsert afterwards (half updates, half inserts).
    #[arg(long, default_value_t = 100_000)]
    upsert: usize,
    /// Directory for the table (a fresh subdirectory is made).
    #[arg(long, default_value = "/tmp/hudi-bench")]
    dir: PathBuf,
    /// Index for the upsert (BLOOM, SIMPLE, GLOBAL_BLOOM, GLOBAL_SIMPLE, BUCKET).
    #[arg(long, default_value = "BLOOM")]
    index: String,
    /// Table type: cow or mor.
    #[arg(long, default_value = "cow")]
    table_type: String,
    /// Buckets per partition (bucket index).
    #[arg(long, default_value_t = 16)]
    buckets: u32,
    /// Upsert updates of existing keys only (spread evenly over the table).
    #[arg(long)]
    updates_only: bool,
    /// Skip the snapshot read.
    #[arg(long)]
    no_read: bool,
}

fn batch(ids: impl Iterator<Item = i64>, ts: i64) -> RecordBatch {
    let ids: Vec<i64> = ids.collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Int64, false),
        Field::new("user", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(StringArray::from(
                ids.iter()
                    .map(|i| format!("user-{}", i % 50_000))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                ids.iter()
                    .map(|i| format!("r{}", i % 10))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(vec![ts; ids.len()])),
            Arc::new(Float64Array::from(
                ids.iter().map(|i| (*i as f64) * 0.5).collect::<Vec<_>>(),
            )),
        ],
    )
    .expect("generated batch")
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = Args::parse();
    let path = a.dir.join(format!("bench-{}", std::process::id()));
    let table = TableBuilder::new(path.to_string_lossy())
        .with_name("bench")
        .with_record_key_fields(vec!["event_id".into()])
        .with_partition_fields(vec!["region".into()])
        .with_precombine_field("ts")
        .with_option("hoodie.index.type", a.index.clone())
        .with_option("hoodie.bucket.index.num.buckets", a.buckets.to_string())
        .with_table_type(a.table_type.parse().map_err(|e: String| e)?)
        .create()
        .await?;
    let chunk = 100_000usize;
    let input: Vec<RecordBatch> = (0..a.rows)
        .step_by(chunk)
        .map(|s| batch((s as i64)..((s + chunk).min(a.rows) as i64), 1))
        .collect();
    let t = Instant::now();
    let m = table
        .write(WriteOperation::BulkInsert)
        .execute_batches(input)
        .await?;
    let bulk_s = t.elapsed().as_secs_f64();
    let rss_bulk = peak_rss_mb();

    let table = table.reload().await?;
    let (n_updates, n_inserts) = if a.updates_only {
        (a.upsert as i64, 0)
    } else {
        ((a.upsert / 2) as i64, (a.upsert / 2) as i64)
    };
    let step = (a.rows as i64 / n_updates.max(1)).max(1);
    // Spread over every partition (region = id % 10) and file group.
    let last = a.rows as i64 - 1;
    let updates = (0..n_updates).map(move |i| (i * step + i % step).min(last));
    let inserts = (a.rows as i64)..(a.rows as i64 + n_inserts);
    let t = Instant::now();
    let u = table
        .write(WriteOperation::Upsert)
        .with_option("hoodie.compact.inline", "false")
        .execute_batches(vec![batch(updates, 2), batch(inserts, 2)])
        .await?;
    let upsert_s = t.elapsed().as_secs_f64();
    let rss_upsert = peak_rss_mb();

    let table = table.reload().await?;
    let t = Instant::now();
    let mut rows = 0usize;
    if !a.no_read {
        let mut scan = table.read().stream().await?;
        while let Some(b) = scan.batches.next().await {
            rows += b?.num_rows();
        }
    }
    let read_s = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "bulk_insert": {"rows": a.rows, "seconds": bulk_s, "rows_per_s": a.rows as f64 / bulk_s, "files": m.files_written, "bytes": m.bytes_written, "peak_rss_mb": rss_bulk},
            "upsert": {"rows": a.upsert, "seconds": upsert_s, "rows_per_s": a.upsert as f64 / upsert_s, "updated": u.records_updated, "inserted": u.records_inserted, "files": u.files_written, "index": a.index, "peak_rss_mb": rss_upsert},
            "snapshot_read": {"rows": rows, "seconds": read_s, "rows_per_s": rows as f64 / read_s, "peak_rss_mb": peak_rss_mb()},
            "table": path.to_string_lossy(),
            "table_type": a.table_type,
        })
    );
    Ok(())
}
