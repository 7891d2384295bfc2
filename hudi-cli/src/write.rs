//! `hudi create` and `hudi write`.

use hudi_core::Report;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;

use arrow::array::RecordBatch;
use hudi_core::keygen::KeyGenKind;
use hudi_core::write::config::IndexType;
use hudi_core::write::ExtraMetadata;
use hudi_core::{HudiError, Table, TableBuilder, WriteOperation};
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TypeArg {
    Cow,
    Mor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeygenArg {
    Simple,
    Complex,
    Nonpartitioned,
    Timestamp,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[clap(rename_all = "snake_case")]
pub enum IndexArg {
    Bloom,
    GlobalBloom,
    Simple,
    GlobalSimple,
    Bucket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[clap(rename_all = "snake_case")]
pub enum OperationArg {
    Upsert,
    Insert,
    BulkInsert,
    Delete,
    InsertOverwrite,
    InsertOverwriteTable,
    DeletePartition,
}

/// How a table is laid out (for `create`, and `write` to a path with no table yet).
#[derive(Debug, Clone, clap::Args)]
pub struct TableSpec {
    /// Table name (default: the last path segment).
    #[arg(long)]
    pub name: Option<String>,
    /// Table type.
    #[arg(long = "type", value_enum, default_value = "cow")]
    pub table_type: TypeArg,
    /// Record key field(s), comma separated.
    #[arg(long, value_delimiter = ',')]
    pub record_key: Vec<String>,
    /// Partition field(s), comma separated (custom key generator: field:SIMPLE|TIMESTAMP).
    #[arg(long, value_delimiter = ',')]
    pub partition_by: Vec<String>,
    /// Precombine (ordering) field: the greater value wins among records with one key.
    #[arg(long)]
    pub precombine: Option<String>,
    /// Key generator (default: simple, complex or non-partitioned from the fields).
    #[arg(long, value_enum)]
    pub keygen: Option<KeygenArg>,
    /// Hive-style partition paths (field=value).
    #[arg(long)]
    pub hive_style: bool,
    /// Index used to find existing records.
    #[arg(long, value_enum)]
    pub index: Option<IndexArg>,
    /// Number of buckets (bucket index).
    #[arg(long)]
    pub buckets: Option<u32>,
    /// Database name (feeds the table checksum and catalog sync).
    #[arg(long)]
    pub database: Option<String>,
}

/// Create a table (table version 6).
///
/// Examples:
///   hudi create /data/trips --record-key uuid --partition-by city --precombine ts --hive-style
///   hudi create s3://bucket/events --type mor --record-key id --index bucket --buckets 64
///   hudi create /data/orders --record-key order_id,line --keygen complex --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CreateArgs {
    /// Table path or URL.
    pub table: String,
    #[command(flatten)]
    pub spec: TableSpec,
    /// Any `hoodie.*` option to store in hoodie.properties.
    #[arg(long = "option", value_name = "KEY=VALUE", value_parser = crate::parse_kv)]
    pub options: Vec<(String, String)>,
    /// Print the created table's description as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Write rows from Parquet, Arrow IPC, CSV or JSON-lines files (upsert, insert, ...).
///
/// The table is created on the first write when --record-key is given. Rows stream into the
/// write; files are written and committed atomically, and failed writes before this one are
/// rolled back first.
///
/// Examples:
///   hudi write /data/trips --input day1.parquet --operation bulk_insert --record-key uuid --precombine ts
///   hudi write /data/trips --input changes.jsonl              # upsert (the default)
///   hudi write /data/trips --input 'landing/day=*/*.parquet'  # a glob, expanded in order
///   producer | hudi write /data/trips --input -               # JSON lines from stdin
///   hudi write /data/trips --input gone.csv --operation delete
///   hudi write /data/trips --operation delete_partition --partitions city=paris
///   hudi write /data/trips --input raw.jsonl --bad-records-path /data/bad --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct WriteArgs {
    /// Table path or URL.
    pub table: String,
    /// Input files: .parquet, .arrow (IPC file or stream), .csv (with a header), .jsonl; glob
    /// patterns (quoted: 'day=*/part-*.parquet') are expanded; `-` reads JSON lines from stdin.
    #[arg(long, num_args = 1.., required_unless_present = "partitions")]
    pub input: Vec<PathBuf>,
    /// Write operation.
    #[arg(long, value_enum, default_value = "upsert")]
    pub operation: OperationArg,
    /// Partitions to drop (delete_partition), comma separated.
    #[arg(long, value_delimiter = ',')]
    pub partitions: Vec<String>,
    /// Write option `hoodie.*=value` (repeatable).
    #[arg(long = "option", value_name = "KEY=VALUE", value_parser = crate::parse_kv)]
    pub options: Vec<(String, String)>,
    /// Print the write's metrics as JSON.
    #[arg(long)]
    pub json: bool,
    /// Set aside records that cannot be written (a JSON line that does not parse, a JSON or CSV
    /// record that does not fit the columns, a null or empty record key, a partition value
    /// that would leave the table) in
    /// DIR/bad-records-<millis>.jsonl, each with its reason, and commit the others; the count
    /// and file go into the commit's extraMetadata (bad.records.count, bad.records.path).
    /// DIR may be a URL (s3://bucket/bad): the file is uploaded before the commit.
    /// Without it a bad record fails the write before anything is committed.
    #[arg(long, value_name = "DIR")]
    pub bad_records_path: Option<String>,
    /// Create the table first if there is none (takes the create flags).
    #[command(flatten)]
    pub spec: TableSpec,
    #[command(flatten)]
    pub storage: StorageArgs,
}

fn builder(
    table: &str,
    spec: &TableSpec,
    options: &[(String, String)],
    storage: &StorageArgs,
) -> Result<TableBuilder, CliError> {
    if spec.record_key.is_empty() {
        return Err(CliError::Usage {
            arg: "--record-key",
            reason: "a table needs at least one record key field".into(),
        });
    }
    let mut b = TableBuilder::new(table)
        .with_storage_options(storage.options())
        .with_record_key_fields(spec.record_key.clone())
        .with_partition_fields(spec.partition_by.clone())
        .with_hive_style_partitioning(spec.hive_style);
    if let Some(n) = &spec.name {
        b = b.with_name(n);
    }
    if let Some(d) = &spec.database {
        b = b.with_database(d);
    }
    if let Some(p) = &spec.precombine {
        b = b.with_precombine_field(p);
    }
    if let Some(k) = spec.keygen {
        b = b.with_key_generator(match k {
            KeygenArg::Simple => KeyGenKind::Simple,
            KeygenArg::Complex => KeyGenKind::Complex,
            KeygenArg::Nonpartitioned => KeyGenKind::NonPartitioned,
            KeygenArg::Timestamp => KeyGenKind::Timestamp,
            KeygenArg::Custom => KeyGenKind::Custom,
        });
    }
    if spec.table_type == TypeArg::Mor {
        b = b.with_table_type(hudi_core::config::table::TableType::MergeOnRead);
    }
    if let Some(n) = spec.buckets {
        if spec.index != Some(IndexArg::Bucket) {
            return Err(CliError::Usage {
                arg: "--buckets",
                reason: "takes --index bucket".into(),
            });
        }
        b = b.with_option("hoodie.bucket.index.num.buckets", n.to_string());
    }
    if let Some(i) = spec.index {
        b = b.with_index(match i {
            IndexArg::Bloom => IndexType::Bloom,
            IndexArg::GlobalBloom => IndexType::GlobalBloom,
            IndexArg::Simple => IndexType::Simple,
            IndexArg::GlobalSimple => IndexType::GlobalSimple,
            IndexArg::Bucket => IndexType::Bucket,
        });
    }
    for (k, v) in options {
        b = b.with_option(k, v);
    }
    Ok(b)
}

pub async fn create(a: CreateArgs) -> Result<(), CliError> {
    let table = builder(&a.table, &a.spec, &a.options, &a.storage)?
        .create()
        .await?;
    let c = table.config();
    let v = json!({
        "location": table.location(), "name": c.name, "type": c.table_type.as_str(), "version": c.version.number(),
        "record_key_fields": c.record_key_fields, "partition_fields": c.partition_fields,
        "key_generator": c.keygen_name(),
    });
    if a.json {
        print_json(&v)?;
    } else {
        println!(
            "created {} table '{}' (version {}) at {}",
            c.table_type,
            c.name,
            c.version,
            table.location()
        );
    }
    Ok(())
}

fn read_err(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Usage {
        arg: "--input",
        reason: format!("cannot read '{}': {e}", path.display()),
    }
}

/// Batches of one input file, read lazily.
type Batches = Box<dyn Iterator<Item = Result<RecordBatch, arrow::error::ArrowError>> + Send>;

/// Opens one input file by its extension; its batches are read as the write consumes them.
/// The input files: each argument as given, or the files a glob pattern in it matches
/// (sorted; a pattern matching nothing is an error); `-` stays (stdin).
pub fn expand_inputs(args: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for a in args {
        let s = a.to_string_lossy();
        if a.exists() || s == "-" || !s.contains(['*', '?', '[']) {
            out.push(a.clone());
            continue;
        }
        let bad = |reason: String| CliError::Usage {
            arg: "--input",
            reason,
        };
        let mut matched: Vec<PathBuf> = glob::glob(&s)
            .map_err(|e| bad(format!("'{s}': {e}")))?
            .filter_map(|m| m.ok())
            .filter(|p| p.is_file())
            .collect();
        if matched.is_empty() {
            return Err(bad(format!("'{s}' matches no file")));
        }
        matched.sort();
        out.extend(matched);
    }
    Ok(out)
}

/// JSON lines from stdin: the schema is inferred from the first 10,000 lines, which are
/// buffered; the rest streams.
fn stdin_jsonl() -> Result<Batches, CliError> {
    use std::io::{BufRead, Read};
    let path = Path::new("<stdin>");
    let mut stdin = BufReader::new(std::io::stdin());
    let mut head = Vec::new();
    for _ in 0..10_000 {
        let n = stdin
            .read_until(b'\n', &mut head)
            .map_err(|e| read_err(path, e))?;
        if n == 0 {
            break;
        }
    }
    if head.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CliError::Usage {
            arg: "--input",
            reason: "stdin holds no JSON lines".into(),
        });
    }
    let (schema, _) = arrow::json::reader::infer_json_schema(BufReader::new(&head[..]), None)
        .map_err(|e| read_err(path, e))?;
    let all = std::io::Cursor::new(head).chain(stdin);
    Ok(Box::new(
        arrow::json::ReaderBuilder::new(Arc::new(schema))
            .build(BufReader::new(all))
            .map_err(|e| read_err(path, e))?,
    ))
}

pub fn open_input(path: &Path) -> Result<Batches, CliError> {
    if path.as_os_str() == "-" {
        return stdin_jsonl();
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let file = File::open(path).map_err(|e| read_err(path, e))?;
    Ok(match ext.as_str() {
        "parquet" => Box::new(
            hudi_core::io::base_file::checked_builder(&path.display().to_string(), file)
                .map_err(|e| read_err(path, e))?
                .build()
                .map_err(|e| read_err(path, e))?,
        ),
        "arrow" | "ipc" | "feather" => match arrow::ipc::reader::FileReader::try_new(file, None) {
            Ok(r) => Box::new(r),
            Err(_) => {
                let f = File::open(path).map_err(|e| read_err(path, e))?;
                Box::new(
                    arrow::ipc::reader::StreamReader::try_new(BufReader::new(f), None)
                        .map_err(|e| read_err(path, e))?,
                )
            }
        },
        "csv" => {
            let mut f = file;
            let format = arrow::csv::reader::Format::default().with_header(true);
            let (schema, _) = format
                .infer_schema(&mut f, Some(10_000))
                .map_err(|e| read_err(path, e))?;
            f.rewind().map_err(|e| read_err(path, e))?;
            Box::new(
                arrow::csv::ReaderBuilder::new(Arc::new(schema))
                    .with_format(format)
                    .build(f)
                    .map_err(|e| read_err(path, e))?,
            )
        }
        "jsonl" | "json" | "ndjson" => {
            let mut r = BufReader::new(file);
            let (schema, _) = arrow::json::reader::infer_json_schema_from_seekable(&mut r, None)
                .map_err(|e| read_err(path, e))?;
            Box::new(
                arrow::json::ReaderBuilder::new(Arc::new(schema))
                    .build(r)
                    .map_err(|e| read_err(path, e))?,
            )
        }
        other => {
            return Err(CliError::Usage {
                arg: "--input",
                reason: format!(
                    "'{}': unknown input type '.{other}' (use .parquet, .arrow, .csv or .jsonl)",
                    path.display()
                ),
            })
        }
    })
}

fn operation(op: OperationArg) -> WriteOperation {
    match op {
        OperationArg::Upsert => WriteOperation::Upsert,
        OperationArg::Insert => WriteOperation::Insert,
        OperationArg::BulkInsert => WriteOperation::BulkInsert,
        OperationArg::Delete => WriteOperation::Delete,
        OperationArg::InsertOverwrite => WriteOperation::InsertOverwrite,
        OperationArg::InsertOverwriteTable => WriteOperation::InsertOverwriteTable,
        OperationArg::DeletePartition => WriteOperation::DeletePartition,
    }
}

fn lock(
    b: &crate::bad_records::Shared,
) -> std::sync::MutexGuard<'_, crate::bad_records::BadRecords> {
    b.lock().unwrap_or_else(|e| e.into_inner())
}

type InputBatches = Box<dyn Iterator<Item = Result<RecordBatch, HudiError>> + Send>;

/// The input files, opened (and their formats checked) up front, as one stream of batches;
/// with a bad-records sink, JSON lines are read record by record and rows that cannot be
/// keyed are set aside.
/// Flushes the bad records and uploads them if they go to an object store (once).
async fn finish_bad(b: &crate::bad_records::Shared) -> Result<(), HudiError> {
    let upload = lock(b).finish()?;
    if let Some(u) = upload {
        u.run().await?;
    }
    Ok(())
}

fn input_batches(
    args: &[PathBuf],
    bad: Option<crate::bad_records::Shared>,
) -> Result<InputBatches, CliError> {
    let files = expand_inputs(args)?;
    if files.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(CliError::Usage {
            arg: "--input",
            reason: "stdin (-) can be read only once".into(),
        });
    }
    let mut inputs = Vec::new();
    for p in &files {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
        let it: Batches = match (&bad, ext, p.as_os_str() == "-") {
            (Some(b), _, true) => Box::new(crate::bad_records::open_stdin(b.clone())?),
            (Some(b), "jsonl" | "json" | "ndjson", _) => {
                Box::new(crate::bad_records::open_jsonl(p, b.clone())?)
            }
            (Some(b), "csv", _) => Box::new(crate::bad_records::open_csv(p, b.clone())?),
            _ => open_input(p)?,
        };
        inputs.push((p.clone(), it));
    }
    let batches = inputs.into_iter().flat_map(move |(path, it)| {
        let bad = bad.clone();
        it.map(move |b| {
            let source = path.display().to_string();
            let b = b.map_err(|source| HudiError::Arrow {
                context: format!("reading '{}'", path.display()),
                source,
            })?;
            match &bad {
                Some(bad) => lock(bad).screen(&source, b).map_err(|e| HudiError::Io {
                    path: PathBuf::from(&source),
                    source: std::io::Error::other(e.to_string()),
                }),
                None => Ok(b),
            }
        })
    });
    Ok(Box::new(read_ahead(batches)))
}

/// Batches read on a thread of their own, one ahead of the write: the next batch is read
/// (and decoded, and screened) while the last one is written.
fn read_ahead<T: Send + 'static>(
    it: impl Iterator<Item = T> + Send + 'static,
) -> impl Iterator<Item = T> + Send {
    // A rendezvous channel: one batch is read ahead, none is queued.
    let (tx, rx) = std::sync::mpsc::sync_channel(0);
    std::thread::spawn(move || {
        for item in it {
            if tx.send(item).is_err() {
                return; // the write stopped reading
            }
        }
    });
    rx.into_iter()
}

pub async fn write(a: WriteArgs) -> Result<(), CliError> {
    let opts = a.storage.options();
    // An existing table, or the builder of the one the first write creates.
    let existing = match Table::open_with_options(&a.table, &opts).await {
        Ok(t) => Ok(t),
        Err(HudiError::NotATable { .. }) if !a.spec.record_key.is_empty() => {
            Err(builder(&a.table, &a.spec, &[], &a.storage)?)
        }
        Err(HudiError::NotATable { path }) => {
            return Err(CliError::Usage {
                arg: "TABLE",
                reason: format!("'{path}' is not a Hudi table; pass --record-key (and the other create flags) to create it"),
            })
        }
        Err(e) => return Err(e.into()),
    };
    let options: BTreeMap<String, String> = a.options.iter().cloned().collect();
    // Refused before the write when the sync asked for cannot run.
    let meta_sync = hudi_glue_sync::requested_sync(&options)?;
    let sync_options = options.clone();
    let bad = match &a.bad_records_path {
        Some(dir) => {
            let (config, schema) = match &existing {
                Ok(t) => (t.config().clone(), t.schema().await.ok()),
                Err(new) => (new.table_config()?, None),
            };
            let keygen = hudi_core::keygen::KeyGenerator::from_table(&config, &options)?;
            let columns = schema.map(|(s, _)| {
                let data: Vec<_> = s
                    .fields()
                    .iter()
                    .filter(|f| !hudi_core::model::META_FIELDS.contains(&f.name().as_str()))
                    .cloned()
                    .collect();
                Arc::new(arrow::datatypes::Schema::new(data))
            });
            Some(crate::bad_records::BadRecords::create(
                dir,
                &a.storage.options(),
                keygen,
                columns,
            )?)
        }
        None => None,
    };
    let spinner = crate::progress::rows_spinner("read");
    let counter = spinner.clone();
    let batches = input_batches(&a.input, bad.clone())?.inspect(move |b| {
        if let Ok(b) = b {
            counter.inc(b.num_rows() as u64);
        }
    });
    let mut batches = batches.peekable();
    if let Some(bad) = &bad {
        // Every record set aside: nothing to commit, and saying so is the answer.
        while batches
            .peek()
            .is_some_and(|b| b.as_ref().is_ok_and(|b| b.num_rows() == 0))
        {
            batches.next();
        }
        if batches.peek().is_none() && a.operation != OperationArg::DeletePartition {
            spinner.finish_and_clear();
            finish_bad(bad).await?;
            let b = lock(bad);
            return Err(CliError::Usage {
                arg: "--input",
                reason: format!(
                    "every input record is bad ({} in {}): nothing committed",
                    b.count, b.path
                ),
            });
        }
    }
    let table = match existing {
        Ok(t) => t,
        // Created for the first batch's columns, once they are checked; an input that
        // fails or has no rows creates nothing.
        Err(new) => {
            let schema = match batches.peek() {
                Some(Ok(first)) => first.schema(),
                Some(Err(_)) => match batches.next() {
                    Some(Err(e)) => return Err(e.into()),
                    _ => {
                        return Err(CliError::Usage {
                            arg: "--input",
                            reason: "the input could not be read: no table was created".into(),
                        })
                    }
                },
                None => {
                    return Err(CliError::Usage {
                        arg: "--input",
                        reason: "the input has no rows: no table was created".into(),
                    })
                }
            };
            new.open_or_create(&schema).await?
        }
    };
    let mut w = table
        .write(operation(a.operation))
        .with_options(options)
        .with_partitions(a.partitions.clone());
    if let Some(bad) = &bad {
        let b = bad.clone();
        w = w.with_extra_metadata(ExtraMetadata::new(move || lock(&b).metadata()));
    }
    // Bad records are in place (uploaded, for an object store) when the input ends, before
    // the commit that names them; a failed upload fails the write.
    let tail = bad.clone();
    let end = futures::stream::once(async move {
        match &tail {
            Some(b) => finish_bad(b).await.err().map(Err),
            None => None,
        }
    })
    .filter_map(futures::future::ready);
    let m = w
        .execute(Box::pin(futures::stream::iter(batches).chain(end)))
        .await;
    spinner.finish_and_clear();
    let bad_summary = match &bad {
        Some(b) => {
            finish_bad(b).await?;
            let b = lock(b);
            Some((b.count, b.path.clone()))
        }
        None => None,
    };
    let m = m?;
    let synced = match meta_sync {
        Some(_) => hudi_glue_sync::meta_sync(&table, &sync_options)
            .await
            .map_err(|e| CliError::SyncAfterCommit {
                instant: m.instant.to_string(),
                reason: e.to_string(),
            })?,
        None => None,
    };
    if let (Some((n, path)), false) = (&bad_summary, a.json) {
        eprintln!("{n} bad records set aside in {path}");
    }
    if a.json {
        let mut v = m.to_json();
        v["bad_records"] = json!(bad_summary.as_ref().map(|(n, _)| n));
        v["bad_records_path"] = json!(bad_summary.as_ref().map(|(_, p)| p));
        v["meta_sync"] = json!(synced.as_ref().map(|o| o.plan.to_json()));
        print_json(&v)?;
    } else {
        for t in &m.rolled_back {
            println!("rolled back failed write {t}");
        }
        println!(
            "{} {}: {} inserted, {} updated, {} deleted, {} files ({} bytes), {} file groups replaced, {} ms",
            m.operation.token(),
            m.instant,
            m.records_inserted,
            m.records_updated,
            m.records_deleted,
            m.files_written,
            m.bytes_written,
            m.file_groups_replaced,
            m.duration_ms
        );
        if let Some(o) = &synced {
            for t in &o.plan.tables {
                println!(
                    "synced {}.{}: partitions +{} ~{} -{}",
                    o.plan.database,
                    t.name,
                    t.add.len(),
                    t.update.len(),
                    t.drop.len()
                );
            }
        }
    }
    Ok(())
}
