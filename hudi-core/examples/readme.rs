//! The README's Rust example, whole: `cargo test` compiles it, a test checks that the README
//! shows the body of [`readme`] line for line, and `cargo run -p hudi-core --example readme`
//! runs it on a table in a temporary directory.

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use futures::TryStreamExt;

type Error = Box<dyn std::error::Error>;

async fn readme(path: &str, batches: Vec<RecordBatch>) -> Result<(), Error> {
    // README begin
    use hudi_core::{Table, TableBuilder, WriteOperation};

    // A local path, or an s3://, gs:// or az:// URL.
    let table = TableBuilder::new(path)
        .with_record_key_fields(vec!["event_id".into()])
        .with_partition_fields(vec!["region".into()])
        .with_precombine_field("ts")
        .create()
        .await?;
    let metrics = table
        .write(WriteOperation::Upsert)
        .execute_batches(batches)
        .await?;

    let table = Table::open(path).await?;
    let scan = table
        .read()
        .with_as_of(metrics.instant.clone())
        .stream()
        .await?;
    // scan.schema, and scan.batches: a stream of Arrow RecordBatches, one file group at a time
    let rows = scan
        .batches
        .try_fold(0, |n, b| async move { Ok(n + b.num_rows()) })
        .await?;

    let cleaned = table.clean().with_retained_commits(5).run().await?;
    // README end
    println!(
        "{rows} rows as of {}; clean: {:?}",
        metrics.instant, cleaned.outcome
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
        Field::new("ts", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["e1", "e2", "e3"])),
            Arc::new(StringArray::from(vec!["eu", "us", "eu"])),
            Arc::new(Int64Array::from(vec![1, 2, 3])),
        ],
    )?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("events");
    readme(&path.to_string_lossy(), vec![batch]).await
}
