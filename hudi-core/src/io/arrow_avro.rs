//! Arrow → Avro: rows of a record batch as Avro values of a given (writer) schema, and the
//! binary encoding of log data and delete blocks.

use std::collections::HashMap;

use apache_avro::schema::{InnerDecimalSchema, Schema as AvroSchema};
use apache_avro::types::Value;
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::*;

use crate::error::{HudiError, Result};
use crate::model::OrderingValue;

pub(crate) fn err(ctx: &str, reason: impl Into<String>) -> HudiError {
    HudiError::Avro {
        context: ctx.to_string(),
        reason: reason.into(),
    }
}

pub(crate) fn fixed_bytes(v: i128, size: usize) -> Vec<u8> {
    let be = v.to_be_bytes();
    if size >= 16 {
        let fill = if v < 0 { 0xFF } else { 0 };
        let mut out = vec![fill; size - 16];
        out.extend_from_slice(&be);
        out
    } else {
        be[16 - size..].to_vec()
    }
}

pub(crate) fn int_of(arr: &ArrayRef, row: usize) -> Option<i64> {
    Some(match arr.data_type() {
        DataType::Int8 => i64::from(arr.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => i64::from(arr.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => i64::from(arr.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => arr.as_primitive::<Int64Type>().value(row),
        DataType::Date32 => i64::from(arr.as_primitive::<Date32Type>().value(row)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            arr.as_primitive::<TimestampMicrosecondType>().value(row)
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            arr.as_primitive::<TimestampMillisecondType>().value(row)
        }
        _ => return None,
    })
}

/// The Avro value of one cell under `schema`.
pub fn cell_value(arr: &ArrayRef, row: usize, schema: &AvroSchema, ctx: &str) -> Result<Value> {
    if let AvroSchema::Union(u) = schema {
        let variants = u.variants();
        let null_idx = variants.iter().position(|s| matches!(s, AvroSchema::Null));
        if arr.is_null(row) {
            let i = null_idx.ok_or_else(|| err(ctx, "null value for a non-nullable field"))?;
            return Ok(Value::Union(i as u32, Box::new(Value::Null)));
        }
        let (i, s) = variants
            .iter()
            .enumerate()
            .find(|(_, s)| !matches!(s, AvroSchema::Null))
            .ok_or_else(|| err(ctx, "union of only nulls"))?;
        return Ok(Value::Union(
            i as u32,
            Box::new(cell_value(arr, row, s, ctx)?),
        ));
    }
    if arr.is_null(row) {
        return match schema {
            AvroSchema::Null => Ok(Value::Null),
            _ => Err(err(ctx, "null value for a non-nullable field")),
        };
    }
    let mismatch = || {
        err(
            ctx,
            format!("cannot write Arrow {} as Avro {schema:?}", arr.data_type()),
        )
    };
    Ok(match schema {
        AvroSchema::Null => Value::Null,
        AvroSchema::Boolean => {
            Value::Boolean(arr.as_boolean_opt().ok_or_else(mismatch)?.value(row))
        }
        AvroSchema::Int => Value::Int(int_of(arr, row).ok_or_else(mismatch)? as i32),
        AvroSchema::Long => Value::Long(int_of(arr, row).ok_or_else(mismatch)?),
        AvroSchema::Date => Value::Date(int_of(arr, row).ok_or_else(mismatch)? as i32),
        AvroSchema::TimestampMicros => {
            Value::TimestampMicros(int_of(arr, row).ok_or_else(mismatch)?)
        }
        AvroSchema::TimestampMillis => {
            Value::TimestampMillis(int_of(arr, row).ok_or_else(mismatch)?)
        }
        AvroSchema::LocalTimestampMicros => {
            Value::LocalTimestampMicros(int_of(arr, row).ok_or_else(mismatch)?)
        }
        AvroSchema::Float => Value::Float(match arr.data_type() {
            DataType::Float32 => arr.as_primitive::<Float32Type>().value(row),
            DataType::Float64 => arr.as_primitive::<Float64Type>().value(row) as f32,
            _ => return Err(mismatch()),
        }),
        AvroSchema::Double => Value::Double(match arr.data_type() {
            DataType::Float32 => f64::from(arr.as_primitive::<Float32Type>().value(row)),
            DataType::Float64 => arr.as_primitive::<Float64Type>().value(row),
            _ => int_of(arr, row).ok_or_else(mismatch)? as f64,
        }),
        AvroSchema::String | AvroSchema::Uuid(_) => Value::String(match arr.data_type() {
            DataType::Utf8 => arr.as_string::<i32>().value(row).to_string(),
            DataType::LargeUtf8 => arr.as_string::<i64>().value(row).to_string(),
            _ => return Err(mismatch()),
        }),
        AvroSchema::Bytes => Value::Bytes(match arr.data_type() {
            DataType::Binary => arr.as_binary::<i32>().value(row).to_vec(),
            DataType::LargeBinary => arr.as_binary::<i64>().value(row).to_vec(),
            DataType::FixedSizeBinary(_) => arr.as_fixed_size_binary().value(row).to_vec(),
            _ => return Err(mismatch()),
        }),
        AvroSchema::Fixed(f) => Value::Fixed(
            f.size,
            arr.as_fixed_size_binary_opt()
                .ok_or_else(mismatch)?
                .value(row)
                .to_vec(),
        ),
        AvroSchema::Decimal(d) => {
            let v = arr
                .as_primitive_opt::<Decimal128Type>()
                .ok_or_else(mismatch)?
                .value(row);
            match &d.inner {
                InnerDecimalSchema::Fixed(f) => Value::Fixed(f.size, fixed_bytes(v, f.size)),
                InnerDecimalSchema::Bytes => Value::Bytes(minimal_be_bytes(v)),
            }
        }
        AvroSchema::Array(a) => {
            let l = arr.as_list_opt::<i32>().ok_or_else(mismatch)?;
            let values = l.value(row);
            (0..values.len())
                .map(|i| cell_value(&values, i, &a.items, ctx))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array)?
        }
        AvroSchema::Map(m) => {
            let map = arr.as_map_opt().ok_or_else(mismatch)?;
            let entries = map.value(row);
            let keys = entries.column(0);
            let vals = entries.column(1);
            let mut out = HashMap::with_capacity(entries.len());
            for i in 0..entries.len() {
                let k = keys
                    .as_string_opt::<i32>()
                    .ok_or_else(mismatch)?
                    .value(i)
                    .to_string();
                out.insert(k, cell_value(vals, i, &m.types, ctx)?);
            }
            Value::Map(out)
        }
        AvroSchema::Record(r) => {
            let s = arr.as_struct_opt().ok_or_else(mismatch)?;
            let mut fields = Vec::with_capacity(r.fields.len());
            for f in &r.fields {
                let v = match s.column_by_name(&f.name) {
                    Some(c) => cell_value(c, row, &f.schema, &format!("{ctx}.{}", f.name))?,
                    None => null_of(&f.schema, ctx)?,
                };
                fields.push((f.name.clone(), v));
            }
            Value::Record(fields)
        }
        other => return Err(err(ctx, format!("unsupported Avro type {other:?}"))),
    })
}

fn null_of(schema: &AvroSchema, ctx: &str) -> Result<Value> {
    match schema {
        AvroSchema::Union(u) => u
            .variants()
            .iter()
            .position(|s| matches!(s, AvroSchema::Null))
            .map(|i| Value::Union(i as u32, Box::new(Value::Null)))
            .ok_or_else(|| err(ctx, "missing column for a non-nullable field")),
        AvroSchema::Null => Ok(Value::Null),
        _ => Err(err(ctx, "missing column for a non-nullable field")),
    }
}

/// The top-level record of `schema` and, for each of its fields, the batch's column of that
/// name (`None` when the batch has none).
pub(crate) fn record_columns<'a, 's>(
    batch: &'a RecordBatch,
    schema: &'s AvroSchema,
    ctx: &str,
) -> Result<(
    &'s apache_avro::schema::RecordSchema,
    Vec<Option<&'a ArrayRef>>,
)> {
    let AvroSchema::Record(r) = schema else {
        return Err(err(ctx, "the writer schema is not a record"));
    };
    let cols = r
        .fields
        .iter()
        .map(|f| batch.column_by_name(&f.name))
        .collect();
    Ok((r, cols))
}

/// Each row of `batch` as an Avro record of the top-level record `schema` (fields by name;
/// a field without a column is null).
pub fn batch_to_records(batch: &RecordBatch, schema: &AvroSchema, ctx: &str) -> Result<Vec<Value>> {
    let (r, cols) = record_columns(batch, schema, ctx)?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let mut fields = Vec::with_capacity(r.fields.len());
        for (f, c) in r.fields.iter().zip(&cols) {
            let v = match c {
                Some(c) => cell_value(c, row, &f.schema, &format!("{ctx}, field '{}'", f.name))?,
                None => null_of(&f.schema, ctx)?,
            };
            fields.push((f.name.clone(), v));
        }
        out.push(Value::Record(fields));
    }
    Ok(out)
}

/// The content of an Avro data block (block version 3): count, then length-prefixed datums.
pub fn encode_avro_data_content(
    records: &[Value],
    schema: &AvroSchema,
    ctx: &str,
) -> Result<Vec<u8>> {
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(schema)
        .build()
        .map_err(|e| err(ctx, e.to_string()))?;
    let mut out = Vec::with_capacity(records.len() * 64 + 8);
    out.extend_from_slice(&3u32.to_be_bytes());
    out.extend_from_slice(&(records.len() as u32).to_be_bytes());
    let mut buf = Vec::new();
    for r in records {
        buf.clear();
        writer
            .write_value_ref(&mut buf, r)
            .map_err(|e| err(ctx, e.to_string()))?;
        out.extend_from_slice(&(buf.len() as u32).to_be_bytes());
        out.extend_from_slice(&buf);
    }
    Ok(out)
}

/// Union branches of `HoodieDeleteRecord.orderingVal` (Hudi 0.14/0.15's wrapper records).
pub mod wrapper {
    pub const NULL: u32 = 0;
    pub const BOOLEAN: u32 = 1;
    pub const INT: u32 = 2;
    pub const LONG: u32 = 3;
    pub const FLOAT: u32 = 4;
    pub const DOUBLE: u32 = 5;
    pub const BYTES: u32 = 6;
    pub const STRING: u32 = 7;
    pub const DATE: u32 = 8;
    pub const DECIMAL: u32 = 9;
    pub const TIME_MICROS: u32 = 10;
    pub const TIMESTAMP_MICROS: u32 = 11;
    /// `DecimalWrapper.value` is `decimal(30, 15)`: Java rescales every decimal to it.
    pub const DECIMAL_SCALE: i8 = 15;
    pub const DECIMAL_PRECISION: u32 = 30;
}

/// A decimal's unscaled value at `DecimalWrapper`'s scale (15), as Java's
/// `BigDecimal.setScale(15)` makes it; `None` when that would round or overflow decimal(30).
fn decimal_at_wrapper_scale(v: i128, scale: i8) -> Option<i128> {
    let up = wrapper::DECIMAL_SCALE.checked_sub(scale)?;
    let rescaled = if up >= 0 {
        v.checked_mul(10i128.checked_pow(up as u32)?)?
    } else {
        let p = 10i128.checked_pow(u32::from(up.unsigned_abs()))?;
        (v % p == 0).then(|| v / p)?
    };
    (rescaled.unsigned_abs() < 10u128.pow(wrapper::DECIMAL_PRECISION)).then_some(rescaled)
}

/// Minimal two's-complement big-endian bytes (Java's `BigInteger.toByteArray`).
pub(crate) fn minimal_be_bytes(v: i128) -> Vec<u8> {
    let mut b = v.to_be_bytes().to_vec();
    while b.len() > 1 && ((b[0] == 0 && b[1] & 0x80 == 0) || (b[0] == 0xFF && b[1] & 0x80 != 0)) {
        b.remove(0);
    }
    b
}

/// The wrapper record of an ordering value in a delete block, as Java's
/// `HoodieAvroUtils.wrapValueIntoAvro` makes it: one wrapper per Java class, decimals at scale
/// 15; a missing value is the natural-order `Integer` 0 (what Java's records without an
/// ordering value carry; a null would fail Java's log scanner).
fn ordering_wrapper(o: &OrderingValue, key: &str) -> Result<Value> {
    let wrap =
        |i: u32, v: Value| Value::Union(i, Box::new(Value::Record(vec![("value".into(), v)])));
    Ok(match o {
        OrderingValue::Null => wrap(wrapper::INT, Value::Int(0)),
        OrderingValue::Bool(b) => wrap(wrapper::BOOLEAN, Value::Boolean(*b)),
        OrderingValue::Int(i) => wrap(wrapper::INT, Value::Int(*i)),
        OrderingValue::Long(i) => wrap(wrapper::LONG, Value::Long(*i)),
        OrderingValue::Float(f) => wrap(wrapper::FLOAT, Value::Float(*f)),
        OrderingValue::Double(f) => wrap(wrapper::DOUBLE, Value::Double(*f)),
        OrderingValue::Bytes(b) => wrap(wrapper::BYTES, Value::Bytes(b.clone())),
        OrderingValue::Str(s) | OrderingValue::Utf8(s) => {
            wrap(wrapper::STRING, Value::String(s.clone()))
        }
        OrderingValue::Date(d) => wrap(wrapper::DATE, Value::Int(*d)),
        OrderingValue::Instant(t) => wrap(wrapper::TIMESTAMP_MICROS, Value::TimestampMicros(*t)),
        OrderingValue::Decimal(v, s) | OrderingValue::Fixed(v, s) => {
            let at15 = decimal_at_wrapper_scale(*v, *s).ok_or_else(|| {
                err(
                    "delete block",
                    format!(
                        "the ordering value of key '{key}' (unscaled {v}, scale {s}) does not fit Hudi's DecimalWrapper (decimal(30,15))"
                    ),
                )
            })?;
            wrap(
                wrapper::DECIMAL,
                Value::Decimal(apache_avro::Decimal::from(minimal_be_bytes(at15))),
            )
        }
    })
}

/// The content of a version-3 delete block: `HoodieDeleteRecordList` with wrapper-record
/// ordering values. `deletes` are (record key, partition path, ordering value).
pub fn encode_delete_content(
    deletes: &[(String, String, OrderingValue)],
    delete_schema: &AvroSchema,
) -> Result<Vec<u8>> {
    let items: Vec<Value> = deletes
        .iter()
        .map(|(k, p, o)| {
            Ok(Value::Record(vec![
                (
                    "recordKey".into(),
                    Value::Union(1, Box::new(Value::String(k.clone()))),
                ),
                (
                    "partitionPath".into(),
                    Value::Union(1, Box::new(Value::String(p.clone()))),
                ),
                ("orderingVal".into(), ordering_wrapper(o, k)?),
            ]))
        })
        .collect::<Result<_>>()?;
    let value = Value::Record(vec![("deleteRecordList".into(), Value::Array(items))]);
    let writer = apache_avro::writer::datum::GenericDatumWriter::builder(delete_schema)
        .build()
        .map_err(|e| err("delete block", e.to_string()))?;
    let data = writer
        .write_value_to_vec(value)
        .map_err(|e| err("delete block", e.to_string()))?;
    let mut out = Vec::with_capacity(data.len() + 8);
    out.extend_from_slice(&3u32.to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(&data);
    Ok(out)
}
