//! `hudi create` and `hudi write`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use hudi_core::keygen::KeyGenKind;
use hudi_core::write::config::IndexType;
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

#[derive(Debug, clap::Args)]
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

#[derive(Debug, clap::Args)]
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
        "location": table.location(), "name": c.name, "type": c.table_type.as_str(), "version": c.version,
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
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.build())
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

pub async fn write(a: WriteArgs) -> Result<(), CliError> {
    let opts = a.storage.options();
    let table = match Table::open_with_options(&a.table, &opts).await {
        Ok(t) => t,
        Err(HudiError::NotATable { .. }) if !a.spec.record_key.is_empty() => {
            builder(&a.table, &a.spec, &[], &a.storage)?.create().await?
        }
        Err(HudiError::NotATable { path }) => {
            return Err(CliError::Usage {
                arg: "TABLE",
                reason: format!("'{path}' is not a Hudi table; pass --record-key (and the other create flags) to create it"),
            })
        }
        Err(e) => return Err(e.into()),
    };
    // Every file is opened (and its format checked) up front; rows stream into the write.
    let mut inputs = Vec::new();
    let files = expand_inputs(&a.input)?;
    if files.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(CliError::Usage {
            arg: "--input",
            reason: "stdin (-) can be read only once".into(),
        });
    }
    for p in &files {
        inputs.push((p.clone(), open_input(p)?));
    }
    let spinner = crate::progress::rows_spinner("read");
    let counter = spinner.clone();
    let batches = inputs.into_iter().flat_map(move |(path, it)| {
        it.map(move |b| {
            b.map_err(|source| HudiError::Arrow {
                context: format!("reading '{}'", path.display()),
                source,
            })
        })
    });
    let batches = batches.inspect(move |b| {
        if let Ok(b) = b {
            counter.inc(b.num_rows() as u64);
        }
    });
    let op = match a.operation {
        OperationArg::Upsert => WriteOperation::Upsert,
        OperationArg::Insert => WriteOperation::Insert,
        OperationArg::BulkInsert => WriteOperation::BulkInsert,
        OperationArg::Delete => WriteOperation::Delete,
        OperationArg::InsertOverwrite => WriteOperation::InsertOverwrite,
        OperationArg::InsertOverwriteTable => WriteOperation::InsertOverwriteTable,
        OperationArg::DeletePartition => WriteOperation::DeletePartition,
    };
    let options: BTreeMap<String, String> = a.options.iter().cloned().collect();
    let m = table
        .write(op)
        .with_options(options)
        .with_partitions(a.partitions.clone())
        .execute(futures::stream::iter(batches))
        .await;
    spinner.finish_and_clear();
    let m = m?;
    if a.json {
        print_json(&json!({
            "instant": m.instant.as_str(), "operation": m.operation.token(),
            "records_inserted": m.records_inserted, "records_updated": m.records_updated,
            "records_deleted": m.records_deleted, "files_written": m.files_written,
            "file_groups_replaced": m.file_groups_replaced, "bytes_written": m.bytes_written,
            "duration_ms": m.duration_ms,
            "rolled_back": m.rolled_back.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        }))?;
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
    }
    Ok(())
}
