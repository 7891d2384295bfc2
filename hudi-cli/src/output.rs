//! Writing record batches: to a Parquet file, or to stdout as a table, JSON lines or CSV.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;

use crate::error::CliError;

/// Text formats for stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextFormat {
    /// An aligned table.
    Table,
    /// One JSON object per row.
    Jsonl,
    /// Comma-separated values with a header (flat columns only).
    Csv,
}

/// A sink for batches.
pub enum Sink {
    Parquet {
        path: std::path::PathBuf,
        writer: ArrowWriter<File>,
    },
    Table {
        batches: Vec<RecordBatch>,
    },
    Jsonl {
        writer: arrow::json::LineDelimitedWriter<std::io::Stdout>,
    },
    Csv {
        writer: arrow::csv::Writer<std::io::Stdout>,
    },
}

impl Sink {
    pub fn parquet(path: &Path, schema: &SchemaRef) -> Result<Sink, CliError> {
        let file = File::create(path).map_err(|source| CliError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        let writer = ArrowWriter::try_new(file, schema.clone(), None).map_err(|source| {
            CliError::Parquet {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(Sink::Parquet {
            path: path.to_path_buf(),
            writer,
        })
    }

    pub fn text(format: TextFormat) -> Sink {
        match format {
            TextFormat::Table => Sink::Table {
                batches: Vec::new(),
            },
            TextFormat::Jsonl => Sink::Jsonl {
                writer: arrow::json::LineDelimitedWriter::new(std::io::stdout()),
            },
            TextFormat::Csv => Sink::Csv {
                writer: arrow::csv::Writer::new(std::io::stdout()),
            },
        }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), CliError> {
        match self {
            Sink::Parquet { path, writer } => {
                writer.write(batch).map_err(|source| CliError::Parquet {
                    path: path.clone(),
                    source,
                })
            }
            Sink::Table { batches } => {
                batches.push(batch.clone());
                Ok(())
            }
            Sink::Jsonl { writer } => writer.write(batch).map_err(text_err("jsonl")),
            Sink::Csv { writer } => writer.write(batch).map_err(text_err("csv")),
        }
    }

    pub fn finish(self) -> Result<(), CliError> {
        match self {
            Sink::Parquet { path, writer } => {
                writer
                    .close()
                    .map_err(|source| CliError::Parquet { path, source })?;
                Ok(())
            }
            Sink::Table { batches } => {
                let text = arrow::util::pretty::pretty_format_batches(&batches)
                    .map_err(text_err("table"))?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "{text}").map_err(CliError::stdout)
            }
            Sink::Jsonl { mut writer } => writer.finish().map_err(text_err("jsonl")),
            Sink::Csv { .. } => Ok(()),
        }
    }
}

fn text_err(format: &'static str) -> impl Fn(arrow::error::ArrowError) -> CliError {
    move |source| match source {
        arrow::error::ArrowError::IoError(_, e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CliError::BrokenPipe
        }
        source => CliError::Format { format, source },
    }
}

/// Prints a JSON value on one line.
pub fn print_json(v: &serde_json::Value) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}").map_err(CliError::stdout)
}

/// Prints rows (JSON objects) as an aligned text table of `columns`, in that order; a field a
/// row lacks (or holds null) shows as `-`.
pub fn print_rows(columns: &[&str], rows: &[serde_json::Value]) -> Result<(), CliError> {
    let cell = |r: &serde_json::Value, c: &str| match r.get(c) {
        None | Some(serde_json::Value::Null) => "-".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|c| cell(r, c)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| r[i].len()).fold(c.len(), usize::max))
        .collect();
    let line = |vals: Vec<&str>| {
        let mut s = vals
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join("  ");
        s.truncate(s.trim_end().len());
        s
    };
    let mut text = line(columns.to_vec());
    for r in &cells {
        text.push('\n');
        text.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(CliError::stdout)
}
