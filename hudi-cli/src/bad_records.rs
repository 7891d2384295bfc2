//! `hudi write --bad-records-path DIR`: input records that cannot be written are set aside in
//! a JSON-lines file with the reason, and the others commit.
//!
//! A record is bad when its JSON line does not parse, when a JSON or CSV record does not fit
//! the columns (the table's types, or those inferred for new columns), or when it cannot be
//! keyed: a null or empty record key, a partition value that would leave the table's base path
//! (every input format).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow::array::{BooleanArray, RecordBatch};
use arrow::datatypes::SchemaRef;
use hudi_core::keygen::KeyGenerator;
use hudi_core::storage::Storage;
use hudi_core::HudiError;
use serde_json::{json, Value};

use crate::error::CliError;

/// Rows per decoded batch of JSON lines.
const JSON_BATCH: usize = 8192;

/// The file bad records go to, and how many went.
pub struct BadRecords {
    /// Where they are (a local path or a URL), as the commit's metadata names it.
    pub path: String,
    /// The local file written: `path` itself, or a spool uploaded to `remote` at the end.
    local: PathBuf,
    out: BufWriter<File>,
    remote: Option<Remote>,
    pub count: u64,
    keygen: KeyGenerator,
    /// The table's columns (meta columns left out): JSON lines must fit their types.
    table_schema: Option<SchemaRef>,
}

/// An object-store destination and the local spool its records gather in first.
struct Remote {
    storage: Storage,
    name: String,
    spool: tempfile::TempPath,
}

/// What is left to do for bad records that go to an object store: one upload.
pub struct Upload(Remote);

impl Upload {
    pub async fn run(self) -> Result<(), HudiError> {
        let r = self.0;
        r.storage.put_file(&r.name, &r.spool).await
    }
}

pub type Shared = Arc<Mutex<BadRecords>>;

fn write_err(path: &Path, source: std::io::Error) -> CliError {
    CliError::Write {
        path: path.to_path_buf(),
        source,
    }
}

impl BadRecords {
    /// Creates `DIR/bad-records-<millis>.jsonl` (and DIR); a DIR that is a URL
    /// (`s3://bucket/bad`) gets the file uploaded when the input ends, before the commit.
    pub fn create(
        dir: &str,
        storage: &HashMap<String, String>,
        keygen: KeyGenerator,
        table_schema: Option<SchemaRef>,
    ) -> Result<Shared, CliError> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let name = format!("bad-records-{stamp}.jsonl");
        let (path, local, remote) = if dir.contains("://") {
            let storage = Storage::open(dir, storage)?;
            let spool = tempfile::NamedTempFile::new()
                .map_err(|e| write_err(&std::env::temp_dir(), e))?
                .into_temp_path();
            let path = format!("{}/{name}", dir.trim_end_matches('/'));
            let local = spool.to_path_buf();
            (
                path,
                local,
                Some(Remote {
                    storage,
                    name,
                    spool,
                }),
            )
        } else {
            let dir = Path::new(dir);
            std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
            let local = dir.join(name);
            (local.to_string_lossy().to_string(), local, None)
        };
        let file = File::create(&local).map_err(|e| write_err(&local, e))?;
        Ok(Arc::new(Mutex::new(BadRecords {
            path,
            local,
            out: BufWriter::new(file),
            remote,
            count: 0,
            keygen,
            table_schema,
        })))
    }

    fn record(&mut self, source: &str, reason: &str, record: Value) -> Result<(), CliError> {
        self.count += 1;
        let line = json!({"source": source, "reason": reason, "record": record});
        writeln!(self.out, "{line}").map_err(|e| write_err(&self.local, e))
    }

    /// Keeps the rows of `batch` that can be keyed; the others are written out.
    pub fn screen(&mut self, source: &str, batch: RecordBatch) -> Result<RecordBatch, CliError> {
        let problems = self.keygen.row_problems(&batch);
        if problems.iter().all(Option::is_none) {
            return Ok(batch);
        }
        let fmt = |source| CliError::Format {
            format: "arrow",
            source,
        };
        // Only the bad rows are turned into JSON.
        let bad = BooleanArray::from(problems.iter().map(Option::is_some).collect::<Vec<_>>());
        let bad_rows = arrow::compute::filter_record_batch(&batch, &bad).map_err(fmt)?;
        for (row, why) in rows_as_json(&bad_rows)?
            .into_iter()
            .zip(problems.iter().flatten())
        {
            self.record(source, why, row)?;
        }
        let keep = arrow::compute::not(&bad).map_err(fmt)?;
        arrow::compute::filter_record_batch(&batch, &keep).map_err(fmt)
    }

    /// Flushes the file; for an object store, hands over the upload still to run (once).
    pub fn finish(&mut self) -> Result<Option<Upload>, HudiError> {
        self.out.flush().map_err(|source| HudiError::Io {
            path: self.local.clone(),
            source,
        })?;
        Ok(self.remote.take().map(Upload))
    }

    /// What the commit's extraMetadata says of them.
    pub fn metadata(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("bad.records.count".to_string(), self.count.to_string()),
            ("bad.records.path".to_string(), self.path.clone()),
        ])
    }
}

fn rows_as_json(batch: &RecordBatch) -> Result<Vec<Value>, CliError> {
    let mut w = arrow::json::ArrayWriter::new(Vec::new());
    let fmt = |source| CliError::Format {
        format: "json",
        source,
    };
    w.write(batch).map_err(fmt)?;
    w.finish().map_err(fmt)?;
    let bytes = w.into_inner();
    match serde_json::from_slice::<Vec<Value>>(&bytes) {
        Ok(v) => Ok(v),
        Err(_) => Ok(vec![Value::Null; batch.num_rows()]),
    }
}

/// JSON lines read one record at a time: a line that does not parse, or whose values do not
/// fit `schema`, goes to the bad records; the rest come out in batches.
pub struct ScreenedJsonl<R> {
    lines: std::io::Lines<R>,
    line_no: usize,
    schema: SchemaRef,
    source: String,
    bad: Shared,
}

impl<R: BufRead> ScreenedJsonl<R> {
    pub fn new(reader: R, schema: SchemaRef, source: String, bad: Shared) -> Self {
        ScreenedJsonl {
            lines: reader.lines(),
            line_no: 0,
            schema,
            source,
            bad,
        }
    }

    fn decode(&self, values: &[Value]) -> Result<Option<RecordBatch>, arrow::error::ArrowError> {
        let mut d = arrow::json::ReaderBuilder::new(self.schema.clone())
            .with_batch_size(JSON_BATCH)
            .build_decoder()?;
        d.serialize(values)?;
        d.flush()
    }

    fn bad(&self, reason: String, record: Value) -> Result<(), arrow::error::ArrowError> {
        let mut b = self.bad.lock().unwrap_or_else(|e| e.into_inner());
        b.record(&self.source, &reason, record)
            .map_err(|e| arrow::error::ArrowError::ExternalError(Box::new(e)))
    }

    /// The next batch of good records, or `None` at the end.
    fn next_batch(&mut self) -> Result<Option<RecordBatch>, arrow::error::ArrowError> {
        let mut values = Vec::new();
        while values.len() < JSON_BATCH {
            let Some(line) = self.lines.next() else {
                break;
            };
            self.line_no += 1;
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(&line) {
                Ok(v @ Value::Object(_)) => values.push(v),
                Ok(_) => self.bad(
                    format!("line {}: not a JSON object", self.line_no),
                    Value::String(line),
                )?,
                Err(e) => self.bad(format!("line {}: {e}", self.line_no), Value::String(line))?,
            }
        }
        if values.is_empty() {
            return Ok(None);
        }
        if let Ok(b) = self.decode(&values) {
            return Ok(b);
        }
        // Some record does not fit the columns: decode one by one to find it.
        let mut good = Vec::with_capacity(values.len());
        for v in values {
            match self.decode(std::slice::from_ref(&v)) {
                Ok(_) => good.push(v),
                Err(e) => self.bad(format!("does not fit the input's columns: {e}"), v)?,
            }
        }
        match good.is_empty() {
            true => Ok(Some(RecordBatch::new_empty(self.schema.clone()))),
            false => self.decode(&good),
        }
    }
}

impl<R: BufRead> Iterator for ScreenedJsonl<R> {
    type Item = Result<RecordBatch, arrow::error::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

fn lock_schema(bad: &Shared) -> Option<SchemaRef> {
    bad.lock()
        .unwrap_or_else(|e| e.into_inner())
        .table_schema
        .clone()
}

fn read_err(what: &str, e: &dyn std::fmt::Display) -> CliError {
    CliError::Usage {
        arg: "--input",
        reason: format!("cannot read '{what}': {e}"),
    }
}

/// The schema JSON lines are decoded with: the table's columns with their types, then the
/// columns only the input has, each with the type most of the first 10,000 lines that parse
/// give it (integers and decimals together make a double), so that one stray value is a bad
/// record rather than the type of its column.
fn infer(
    lines: impl Iterator<Item = String>,
    what: &str,
    table: Option<&SchemaRef>,
) -> Result<SchemaRef, CliError> {
    use arrow::datatypes::{DataType, Field, Schema};
    let mut order: Vec<String> = Vec::new();
    let mut votes: BTreeMap<String, Vec<(DataType, usize)>> = BTreeMap::new();
    for line in lines.take(10_000) {
        let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let one = arrow::json::reader::infer_json_schema_from_iterator(std::iter::once(Ok(v)))
            .map_err(|e| read_err(what, &e))?;
        for f in one.fields() {
            if f.data_type() == &DataType::Null {
                continue;
            }
            let v = votes.entry(f.name().clone()).or_default();
            if v.is_empty() && !order.contains(f.name()) {
                order.push(f.name().clone());
            }
            match v.iter_mut().find(|(t, _)| t == f.data_type()) {
                Some((_, n)) => *n += 1,
                None => v.push((f.data_type().clone(), 1)),
            }
        }
    }
    let majority = |name: &str| -> DataType {
        let mut v = votes.get(name).cloned().unwrap_or_default();
        let ints = v.iter().position(|(t, _)| *t == DataType::Int64);
        let floats = v.iter().position(|(t, _)| *t == DataType::Float64);
        if let (Some(i), Some(f)) = (ints, floats) {
            v[f].1 += v[i].1;
            v.remove(i);
        }
        v.into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(t, _)| t)
            .unwrap_or(DataType::Utf8)
    };
    let mut fields: Vec<Field> = table
        .map(|t| {
            t.fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect()
        })
        .unwrap_or_default();
    for name in order {
        if !fields.iter().any(|f| f.name() == &name) {
            fields.push(Field::new(&name, majority(&name), true));
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// JSON lines from stdin, screened: the first 10,000 lines are buffered for the schema.
pub fn open_stdin(bad: Shared) -> Result<ScreenedJsonl<Box<dyn BufRead + Send>>, CliError> {
    let mut stdin = BufReader::new(std::io::stdin());
    let mut head = Vec::new();
    for _ in 0..10_000 {
        match stdin.read_until(b'\n', &mut head) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(read_err("<stdin>", &e)),
        }
    }
    let table = lock_schema(&bad);
    let schema = infer(
        String::from_utf8_lossy(&head).lines().map(String::from),
        "<stdin>",
        table.as_ref(),
    )?;
    let all: Box<dyn BufRead + Send> =
        Box::new(BufReader::new(std::io::Cursor::new(head).chain(stdin)));
    Ok(ScreenedJsonl::new(all, schema, "<stdin>".into(), bad))
}

/// Opens a JSON-lines file for a screened read (schema inferred from its first lines).
pub fn open_jsonl(path: &Path, bad: Shared) -> Result<ScreenedJsonl<BufReader<File>>, CliError> {
    let what = path.display().to_string();
    let file = File::open(path).map_err(|e| read_err(&what, &e))?;
    let table = lock_schema(&bad);
    let lines = BufReader::new(&file).lines().map_while(Result::ok);
    let schema = infer(lines, &what, table.as_ref())?;
    let file = File::open(path).map_err(|e| read_err(&what, &e))?;
    Ok(ScreenedJsonl::new(BufReader::new(file), schema, what, bad))
}

/// CSV records read in chunks: a chunk that does not decode is decoded record by record, and
/// the records that do not fit the columns (a value of the wrong type, the wrong number of
/// fields) go to the bad records. A record is one line, or several while a quoted field is
/// open.
pub struct ScreenedCsv<R> {
    lines: std::io::Lines<R>,
    line_no: usize,
    schema: SchemaRef,
    source: String,
    bad: Shared,
}

impl<R: BufRead> ScreenedCsv<R> {
    fn decode(&self, text: &str) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
        arrow::csv::ReaderBuilder::new(self.schema.clone())
            .with_header(false)
            .with_batch_size(JSON_BATCH)
            .build(std::io::Cursor::new(text.as_bytes()))?
            .collect()
    }

    /// The next record (its first line's number and its text), or `None` at the end.
    fn next_record(&mut self) -> Result<Option<(usize, String)>, arrow::error::ArrowError> {
        let Some(first) = self.lines.next().transpose()? else {
            return Ok(None);
        };
        self.line_no += 1;
        let at = self.line_no;
        let mut rec = first;
        while rec.matches('"').count() % 2 == 1 {
            let Some(more) = self.lines.next().transpose()? else {
                break;
            };
            self.line_no += 1;
            rec.push('\n');
            rec.push_str(&more);
        }
        Ok(Some((at, rec)))
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, arrow::error::ArrowError> {
        let mut records = Vec::new();
        while records.len() < JSON_BATCH {
            match self.next_record()? {
                Some((_, r)) if r.trim().is_empty() => {}
                Some(r) => records.push(r),
                None => break,
            }
        }
        if records.is_empty() {
            return Ok(None);
        }
        let all: String = records.iter().map(|(_, r)| format!("{r}\n")).collect();
        let batches = match self.decode(&all) {
            Ok(b) => b,
            Err(_) => {
                let mut good = Vec::new();
                for (at, r) in &records {
                    match self.decode(&format!("{r}\n")) {
                        Ok(b) => good.extend(b),
                        Err(e) => {
                            let mut bad = self.bad.lock().unwrap_or_else(|e| e.into_inner());
                            bad.record(
                                &self.source,
                                &format!("line {at}: {e}"),
                                Value::String(r.clone()),
                            )
                            .map_err(|e| arrow::error::ArrowError::ExternalError(Box::new(e)))?;
                        }
                    }
                }
                good
            }
        };
        let batch = arrow::compute::concat_batches(&self.schema, &batches)?;
        Ok(Some(batch))
    }
}

impl<R: BufRead> Iterator for ScreenedCsv<R> {
    type Item = Result<RecordBatch, arrow::error::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

/// Opens a CSV file (with a header) for a screened read: the table's columns keep their
/// types; the others are inferred from the first 10,000 records.
pub fn open_csv(path: &Path, bad: Shared) -> Result<ScreenedCsv<BufReader<File>>, CliError> {
    use arrow::datatypes::{Field, Schema};
    let what = path.display().to_string();
    let mut file = File::open(path).map_err(|e| read_err(&what, &e))?;
    // Short records are bad records, not a reason to refuse the whole file.
    let format = arrow::csv::reader::Format::default()
        .with_header(true)
        .with_truncated_rows(true);
    let (inferred, _) = format
        .infer_schema(&mut file, Some(10_000))
        .map_err(|e| read_err(&what, &e))?;
    let table = lock_schema(&bad);
    let fields: Vec<Field> = inferred
        .fields()
        .iter()
        .map(|f| {
            let known = table
                .as_ref()
                .and_then(|t| t.field_with_name(f.name()).ok().cloned());
            known
                .unwrap_or_else(|| f.as_ref().clone())
                .with_nullable(true)
        })
        .collect();
    let file = File::open(path).map_err(|e| read_err(&what, &e))?;
    let mut lines = BufReader::new(file).lines();
    lines.next(); // the header
    Ok(ScreenedCsv {
        lines,
        line_no: 1,
        schema: Arc::new(Schema::new(fields)),
        source: what,
        bad,
    })
}
