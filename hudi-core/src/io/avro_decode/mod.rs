//! Avro data-block records decoded straight into Arrow columns, with no `apache_avro::Value`
//! in between.
//!
//! A [`BlockDecoder`] is compiled once per (writer schema, target schema) pair. It covers the
//! flat records Hudi tables are made of: primitives, strings, bytes, enums, fixed, decimals,
//! dates, times and timestamps, each optionally in a union with null. A writer field the
//! target lacks is skipped, whatever its type. When a target column would need something else
//! (a nested record, list or map, a named reference, a union of several types), compilation
//! returns `None` and the caller decodes through `Value`s instead; both paths put the same
//! values into the same Arrow types (see the tests).

use apache_avro::schema::{InnerDecimalSchema, Schema as AvroSchema};
use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};

use crate::error::HudiError;

mod column;
mod cursor;
#[cfg(test)]
mod tests;

use column::Column;
use cursor::{skip_plan, Cursor, Skip};

/// How one non-null writer value is read and converted into its target column.
#[derive(Debug, Clone)]
enum Conv {
    Bool,
    IntToI32,
    IntToI64,
    LongToI64,
    /// A timestamp long rescaled from the writer's unit: `v * mul / div`.
    LongRescaled {
        mul: i64,
        div: i64,
    },
    IntToF32,
    LongToF32,
    FloatToF32,
    DoubleToF32,
    IntToF64,
    LongToF64,
    FloatToF64,
    DoubleToF64,
    StrToUtf8,
    BytesToUtf8Lossy,
    EnumToUtf8(Vec<String>),
    BytesToBin,
    FixedToBin(usize),
    BytesToFixed,
    FixedToFixed(usize),
    BytesToDecimal,
    FixedToDecimal(usize),
    IntToDecimal,
    LongToDecimal,
}

/// How one writer field is read: a plain value, or a union whose null branches append nulls.
#[derive(Debug, Clone)]
enum Read {
    Plain(Conv),
    Union(Vec<Option<Conv>>),
    /// A field of Avro type `null`: nothing to read.
    AlwaysNull,
}

#[derive(Debug, Clone)]
enum FieldStep {
    Into { col: usize, read: Read },
    Skip(Skip),
}

/// Decodes the records of Avro data blocks of one writer schema into batches of one target
/// schema.
#[derive(Debug, Clone)]
pub struct BlockDecoder {
    steps: Vec<FieldStep>,
    /// Target columns no writer field fills: all null.
    missing: Vec<bool>,
    target: SchemaRef,
}

/// The arithmetic of a timestamp unit, as ticks per second.
fn ticks(unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

fn writer_ticks(schema: &AvroSchema) -> Option<i64> {
    Some(match schema {
        AvroSchema::TimestampMillis | AvroSchema::LocalTimestampMillis => 1_000,
        AvroSchema::TimestampMicros | AvroSchema::LocalTimestampMicros => 1_000_000,
        AvroSchema::TimestampNanos | AvroSchema::LocalTimestampNanos => 1_000_000_000,
        _ => return None,
    })
}

fn is_int(s: &AvroSchema) -> bool {
    matches!(
        s,
        AvroSchema::Int | AvroSchema::Date | AvroSchema::TimeMillis
    )
}

fn is_long(s: &AvroSchema) -> bool {
    matches!(s, AvroSchema::Long | AvroSchema::TimeMicros) || writer_ticks(s).is_some()
}

/// The conversion of a non-union writer type into `target`, as `avro_arrow::build_array`
/// converts the same values; `None` when this decoder does not cover the pair.
fn conv(writer: &AvroSchema, target: &DataType) -> Option<Conv> {
    use AvroSchema as S;
    use DataType as D;
    Some(match (target, writer) {
        (D::Boolean, S::Boolean) => Conv::Bool,
        (D::Int32, w) if is_int(w) => Conv::IntToI32,
        (D::Date32, S::Date | S::Int) => Conv::IntToI32,
        (D::Time32(TimeUnit::Millisecond), S::TimeMillis | S::Int) => Conv::IntToI32,
        (D::Int64 | D::Time64(TimeUnit::Microsecond), w) if is_int(w) => Conv::IntToI64,
        (D::Int64 | D::Time64(TimeUnit::Microsecond), w) if is_long(w) => Conv::LongToI64,
        (D::Timestamp(unit, _), w) if *unit != TimeUnit::Second => match writer_ticks(w) {
            Some(from) => {
                let to = ticks(unit);
                if to >= from {
                    Conv::LongRescaled {
                        mul: to / from,
                        div: 1,
                    }
                } else {
                    Conv::LongRescaled {
                        mul: 1,
                        div: from / to,
                    }
                }
            }
            None if matches!(w, S::Long) => Conv::LongToI64,
            None if matches!(w, S::Int) => Conv::IntToI64,
            None => return None,
        },
        (D::Float32, S::Int) => Conv::IntToF32,
        (D::Float32, S::Long) => Conv::LongToF32,
        (D::Float32, S::Float) => Conv::FloatToF32,
        (D::Float32, S::Double) => Conv::DoubleToF32,
        (D::Float64, S::Int) => Conv::IntToF64,
        (D::Float64, S::Long) => Conv::LongToF64,
        (D::Float64, S::Float) => Conv::FloatToF64,
        (D::Float64, S::Double) => Conv::DoubleToF64,
        (D::Utf8, S::String) => Conv::StrToUtf8,
        (D::Utf8, S::Bytes) => Conv::BytesToUtf8Lossy,
        (D::Utf8, S::Enum(e)) => Conv::EnumToUtf8(e.symbols.clone()),
        (D::Binary, S::Bytes | S::String) => Conv::BytesToBin,
        (D::Binary, S::Fixed(f)) => Conv::FixedToBin(f.size),
        (D::FixedSizeBinary(_), S::Bytes) => Conv::BytesToFixed,
        (D::FixedSizeBinary(_), S::Fixed(f)) => Conv::FixedToFixed(f.size),
        (D::Decimal128(..), S::Decimal(d)) => match &d.inner {
            InnerDecimalSchema::Bytes => Conv::BytesToDecimal,
            InnerDecimalSchema::Fixed(f) => Conv::FixedToDecimal(f.size),
        },
        (D::Decimal128(..), S::Bytes) => Conv::BytesToDecimal,
        (D::Decimal128(..), S::Fixed(f)) => Conv::FixedToDecimal(f.size),
        (D::Decimal128(..), S::Int) => Conv::IntToDecimal,
        (D::Decimal128(..), S::Long) => Conv::LongToDecimal,
        _ => return None,
    })
}

fn read_plan(writer: &AvroSchema, target: &DataType) -> Option<Read> {
    match writer {
        AvroSchema::Union(u) => {
            let branches = u
                .variants()
                .iter()
                .map(|b| match b {
                    AvroSchema::Null => Some(None),
                    b => conv(b, target).map(Some),
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Read::Union(branches))
        }
        AvroSchema::Null => Some(Read::AlwaysNull),
        w => conv(w, target).map(Read::Plain),
    }
}

/// Where record `i` of a data block lies: after its 4-byte big-endian length at `pos`.
pub(crate) fn record_span(
    content: &[u8],
    pos: usize,
    i: usize,
) -> std::result::Result<(usize, usize), String> {
    let len = content
        .get(pos..pos.saturating_add(4))
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or_else(|| format!("record {i} length runs past the block"))?;
    let start = pos + 4;
    let end = start
        .checked_add(len)
        .filter(|e| *e <= content.len())
        .ok_or_else(|| format!("record {i} runs past the block"))?;
    Ok((start, end))
}

impl BlockDecoder {
    /// Compiles the decoder of records written with `writer` into batches of `target`, or
    /// `None` when some target column needs the general path.
    pub fn compile(writer: &AvroSchema, target: &SchemaRef) -> Option<BlockDecoder> {
        let AvroSchema::Record(rec) = writer else {
            return None;
        };
        let mut taken = vec![false; target.fields().len()];
        let mut steps = Vec::with_capacity(rec.fields.len());
        for f in &rec.fields {
            let col = target
                .fields()
                .iter()
                .position(|t| t.name() == &f.name)
                .filter(|c| !taken[*c]);
            steps.push(match col {
                Some(col) => {
                    taken[col] = true;
                    let read = read_plan(&f.schema, target.field(col).data_type())?;
                    FieldStep::Into { col, read }
                }
                None => FieldStep::Skip(skip_plan(&f.schema)?),
            });
        }
        Some(BlockDecoder {
            steps,
            missing: taken.iter().map(|t| !t).collect(),
            target: target.clone(),
        })
    }

    /// Decodes `count` length-prefixed records starting at `pos` of a data block's content.
    pub fn decode(
        &self,
        content: &[u8],
        mut pos: usize,
        count: usize,
        context: &str,
    ) -> std::result::Result<RecordBatch, String> {
        let mut cols: Vec<Column> = self
            .target
            .fields()
            .iter()
            .zip(&self.missing)
            .map(|(f, missing)| match missing {
                true => Ok(Column::Null(count)),
                false => Column::new(f.data_type(), count),
            })
            .collect::<std::result::Result<_, _>>()?;
        for i in 0..count {
            let (start, end) = record_span(content, pos, i)?;
            let mut cur = Cursor {
                buf: &content[start..end],
            };
            for step in &self.steps {
                match step {
                    FieldStep::Into { col, read } => {
                        cols[*col]
                            .push(read, &mut cur)
                            .map_err(|e| format!("record {i}: {e}"))?;
                    }
                    FieldStep::Skip(s) => cur.skip(s).map_err(|e| format!("record {i}: {e}"))?,
                }
            }
            pos = end;
        }
        let arrays = cols
            .into_iter()
            .zip(self.target.fields())
            .map(|(c, f)| c.finish(f.data_type()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        RecordBatch::try_new_with_options(
            self.target.clone(),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(count)),
        )
        .map_err(|e| HudiError::arrow(context.to_string(), e).to_string())
    }
}
