//! Avro ⇄ Arrow: schema mapping and conversion of decoded Avro records into record batches.
//!
//! The Arrow types chosen are the ones the parquet reader produces for the same columns in
//! Hudi base files, so that rows from log blocks and base files line up exactly.

use std::sync::Arc;

use apache_avro::schema::Schema as AvroSchema;
use apache_avro::types::Value;
use arrow::array::{
    new_null_array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array,
    FixedSizeBinaryArray, Float32Array, Float64Array, Int32Array, Int64Array, ListArray, MapArray,
    RecordBatch, RecordBatchOptions, StringArray, StructArray, Time32MillisecondArray,
    Time64MicrosecondArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use crate::error::{HudiError, Result};

fn schema_err(context: &str, reason: impl Into<String>) -> HudiError {
    HudiError::Schema {
        context: context.to_string(),
        reason: reason.into(),
    }
}

/// The Arrow schema of a top-level Avro record schema.
pub fn avro_schema_to_arrow(schema: &AvroSchema) -> Result<Schema> {
    match schema {
        AvroSchema::Record(r) => {
            let fields = r
                .fields
                .iter()
                .map(|f| field_to_arrow(&f.name, &f.schema))
                .collect::<Result<Vec<_>>>()?;
            Ok(Schema::new(fields))
        }
        other => Err(schema_err(
            "avro schema",
            format!("top-level schema must be a record, found {other:?}"),
        )),
    }
}

/// Parses an Avro schema JSON text.
pub fn parse_avro_schema(text: &str, context: &str) -> Result<AvroSchema> {
    AvroSchema::parse_str(text).map_err(|e| HudiError::Avro {
        context: context.to_string(),
        reason: e.to_string(),
    })
}

fn field_to_arrow(name: &str, schema: &AvroSchema) -> Result<Field> {
    let (dt, nullable) = type_to_arrow(name, schema)?;
    Ok(Field::new(name, dt, nullable))
}

fn type_to_arrow(name: &str, schema: &AvroSchema) -> Result<(DataType, bool)> {
    let dt = match schema {
        AvroSchema::Union(u) => {
            let non_null: Vec<&AvroSchema> = u
                .variants()
                .iter()
                .filter(|s| !matches!(s, AvroSchema::Null))
                .collect();
            return match non_null.as_slice() {
                [] => Ok((DataType::Null, true)),
                [one] => Ok((type_to_arrow(name, one)?.0, true)),
                _ => Err(schema_err(
                    &format!("field '{name}'"),
                    "unions of several non-null types are not supported",
                )),
            };
        }
        AvroSchema::Null => DataType::Null,
        AvroSchema::Boolean => DataType::Boolean,
        AvroSchema::Int => DataType::Int32,
        AvroSchema::Long => DataType::Int64,
        AvroSchema::Float => DataType::Float32,
        AvroSchema::Double => DataType::Float64,
        AvroSchema::Bytes => DataType::Binary,
        AvroSchema::String | AvroSchema::Enum(_) | AvroSchema::Uuid(_) => DataType::Utf8,
        AvroSchema::Fixed(f) => DataType::FixedSizeBinary(f.size as i32),
        AvroSchema::Decimal(d) => {
            if d.precision > 38 {
                return Err(schema_err(
                    &format!("field '{name}'"),
                    format!("decimal precision {} exceeds 38", d.precision),
                ));
            }
            DataType::Decimal128(d.precision as u8, d.scale as i8)
        }
        AvroSchema::Date => DataType::Date32,
        AvroSchema::TimeMillis => DataType::Time32(TimeUnit::Millisecond),
        AvroSchema::TimeMicros => DataType::Time64(TimeUnit::Microsecond),
        AvroSchema::TimestampMillis => {
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        }
        AvroSchema::TimestampMicros => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        AvroSchema::TimestampNanos => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        AvroSchema::LocalTimestampMillis => DataType::Timestamp(TimeUnit::Millisecond, None),
        AvroSchema::LocalTimestampMicros => DataType::Timestamp(TimeUnit::Microsecond, None),
        AvroSchema::LocalTimestampNanos => DataType::Timestamp(TimeUnit::Nanosecond, None),
        AvroSchema::Array(a) => {
            let (item, nullable) = type_to_arrow("element", &a.items)?;
            DataType::List(Arc::new(Field::new("element", item, nullable)))
        }
        AvroSchema::Map(m) => {
            let (value, nullable) = type_to_arrow("value", &m.types)?;
            let entries = Field::new(
                "key_value",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", value, nullable),
                ])),
                false,
            );
            DataType::Map(Arc::new(entries), false)
        }
        AvroSchema::Record(r) => DataType::Struct(Fields::from(
            r.fields
                .iter()
                .map(|f| field_to_arrow(&f.name, &f.schema))
                .collect::<Result<Vec<_>>>()?,
        )),
        other => {
            return Err(schema_err(
                &format!("field '{name}'"),
                format!("unsupported Avro type {other:?}"),
            ))
        }
    };
    Ok((dt, false))
}

/// Builds a record batch with the `target` schema from decoded Avro records. Fields are
/// matched by name; a target field missing from the records is all null.
pub fn records_to_batch(
    records: &[Value],
    target: &SchemaRef,
    context: &str,
) -> Result<RecordBatch> {
    let field_values: Vec<Vec<Option<&Value>>> = {
        let mut cols: Vec<Vec<Option<&Value>>> =
            vec![Vec::with_capacity(records.len()); target.fields().len()];
        // Records of one block share a writer schema, so the name → position map is built once.
        let mut positions: Option<Vec<Option<usize>>> = None;
        for rec in records {
            let fields = match unwrap_union(rec) {
                Value::Record(f) => f,
                other => {
                    return Err(schema_err(
                        context,
                        format!("expected a record, found {other:?}"),
                    ))
                }
            };
            let pos = positions.get_or_insert_with(|| {
                target
                    .fields()
                    .iter()
                    .map(|tf| fields.iter().position(|(n, _)| n == tf.name()))
                    .collect()
            });
            for (i, p) in pos.iter().enumerate() {
                let v = p
                    .and_then(|p| fields.get(p))
                    .and_then(|(n, v)| (n == target.field(i).name()).then_some(v));
                // Fall back to a search when a record's layout differs from the first one's.
                let v = match (v, p) {
                    (None, Some(_)) => fields
                        .iter()
                        .find(|(n, _)| n == target.field(i).name())
                        .map(|(_, v)| v),
                    (v, _) => v,
                };
                cols[i].push(v);
            }
        }
        cols
    };
    let columns = target
        .fields()
        .iter()
        .zip(field_values)
        .map(|(f, vals)| {
            build_array(
                &vals,
                f.data_type(),
                &format!("{context}, field '{}'", f.name()),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new_with_options(
        target.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(records.len())),
    )
    .map_err(|e| HudiError::arrow(context.to_string(), e))
}

fn unwrap_union(v: &Value) -> &Value {
    match v {
        Value::Union(_, inner) => unwrap_union(inner),
        v => v,
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.map(unwrap_union).filter(|v| !matches!(v, Value::Null))
}

fn mismatch(context: &str, dt: &DataType, v: &Value) -> HudiError {
    schema_err(
        context,
        format!("cannot put Avro value {v:?} into Arrow type {dt}"),
    )
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) | Value::Date(i) | Value::TimeMillis(i) => Some(i64::from(*i)),
        Value::Long(i)
        | Value::TimeMicros(i)
        | Value::TimestampMillis(i)
        | Value::TimestampMicros(i)
        | Value::TimestampNanos(i)
        | Value::LocalTimestampMillis(i)
        | Value::LocalTimestampMicros(i)
        | Value::LocalTimestampNanos(i) => Some(*i),
        _ => None,
    }
}

/// A timestamp value converted to `unit`, using the unit its Avro logical type carries.
fn timestamp_in(v: &Value, unit: &TimeUnit) -> Option<i64> {
    let (raw, per_sec): (i64, i64) = match v {
        Value::TimestampMillis(i) | Value::LocalTimestampMillis(i) => (*i, 1_000),
        Value::TimestampNanos(i) | Value::LocalTimestampNanos(i) => (*i, 1_000_000_000),
        Value::TimestampMicros(i) | Value::LocalTimestampMicros(i) => (*i, 1_000_000),
        // A plain long is taken to be in the target unit.
        Value::Long(i) => return Some(*i),
        Value::Int(i) => return Some(i64::from(*i)),
        _ => return None,
    };
    let target: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    Some(if target >= per_sec {
        raw.saturating_mul(target / per_sec)
    } else {
        raw.div_euclid(per_sec / target)
    })
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(f64::from(*f)),
        Value::Double(f) => Some(*f),
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        _ => None,
    }
}

pub(crate) fn decimal_from_be(bytes: &[u8]) -> Option<i128> {
    if bytes.is_empty() {
        return Some(0);
    }
    if bytes.len() > 16 {
        return None;
    }
    let negative = bytes[0] & 0x80 != 0;
    let mut buf = if negative { [0xFFu8; 16] } else { [0u8; 16] };
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    Some(i128::from_be_bytes(buf))
}

fn nulls_of(vals: &[Option<&Value>]) -> Option<NullBuffer> {
    let valid: Vec<bool> = vals.iter().map(|v| present(*v).is_some()).collect();
    if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    }
}

macro_rules! primitive {
    ($vals:expr, $arr:ty, $conv:expr, $dt:expr, $ctx:expr) => {{
        let mut out = Vec::with_capacity($vals.len());
        for v in $vals {
            match present(*v) {
                None => out.push(None),
                Some(v) => out.push(Some($conv(v).ok_or_else(|| mismatch($ctx, $dt, v))?)),
            }
        }
        Arc::new(<$arr>::from(out)) as ArrayRef
    }};
}

/// Builds one Arrow array of type `dt` from Avro values (`None` and Avro nulls become nulls).
pub fn build_array(vals: &[Option<&Value>], dt: &DataType, ctx: &str) -> Result<ArrayRef> {
    let arr: ArrayRef = match dt {
        DataType::Null => new_null_array(dt, vals.len()),
        DataType::Boolean => primitive!(
            vals,
            BooleanArray,
            |v: &Value| match v {
                Value::Boolean(b) => Some(*b),
                _ => None,
            },
            dt,
            ctx
        ),
        DataType::Int32 => primitive!(
            vals,
            Int32Array,
            |v: &Value| match v {
                Value::Int(i) | Value::Date(i) | Value::TimeMillis(i) => Some(*i),
                _ => None,
            },
            dt,
            ctx
        ),
        DataType::Int64 => primitive!(vals, Int64Array, as_i64, dt, ctx),
        DataType::Float32 => primitive!(
            vals,
            Float32Array,
            |v: &Value| as_f64(v).map(|f| f as f32),
            dt,
            ctx
        ),
        DataType::Float64 => primitive!(vals, Float64Array, as_f64, dt, ctx),
        DataType::Date32 => primitive!(
            vals,
            Date32Array,
            |v: &Value| match v {
                Value::Date(i) | Value::Int(i) => Some(*i),
                _ => None,
            },
            dt,
            ctx
        ),
        DataType::Time32(TimeUnit::Millisecond) => primitive!(
            vals,
            Time32MillisecondArray,
            |v: &Value| match v {
                Value::TimeMillis(i) | Value::Int(i) => Some(*i),
                _ => None,
            },
            dt,
            ctx
        ),
        DataType::Time64(TimeUnit::Microsecond) => {
            primitive!(vals, Time64MicrosecondArray, as_i64, dt, ctx)
        }
        DataType::Timestamp(unit, tz) => {
            let mut out = Vec::with_capacity(vals.len());
            for v in vals {
                match present(*v) {
                    None => out.push(None),
                    Some(v) => out.push(Some(
                        timestamp_in(v, unit).ok_or_else(|| mismatch(ctx, dt, v))?,
                    )),
                }
            }
            match unit {
                TimeUnit::Millisecond => {
                    Arc::new(TimestampMillisecondArray::from(out).with_timezone_opt(tz.clone()))
                        as ArrayRef
                }
                TimeUnit::Microsecond => {
                    Arc::new(TimestampMicrosecondArray::from(out).with_timezone_opt(tz.clone()))
                }
                TimeUnit::Nanosecond => {
                    Arc::new(TimestampNanosecondArray::from(out).with_timezone_opt(tz.clone()))
                }
                TimeUnit::Second => {
                    return Err(schema_err(
                        ctx,
                        "second-precision timestamps are not supported",
                    ))
                }
            }
        }
        DataType::Utf8 => {
            let mut out: Vec<Option<String>> = Vec::with_capacity(vals.len());
            for v in vals {
                out.push(match present(*v) {
                    None => None,
                    Some(Value::String(s)) | Some(Value::Enum(_, s)) => Some(s.clone()),
                    Some(Value::Uuid(u)) => Some(u.to_string()),
                    Some(Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                    Some(v) => return Err(mismatch(ctx, dt, v)),
                });
            }
            Arc::new(StringArray::from(out))
        }
        DataType::Binary => {
            let mut out: Vec<Option<&[u8]>> = Vec::with_capacity(vals.len());
            for v in vals {
                out.push(match present(*v) {
                    None => None,
                    Some(Value::Bytes(b)) | Some(Value::Fixed(_, b)) => Some(b.as_slice()),
                    Some(Value::String(s)) => Some(s.as_bytes()),
                    Some(v) => return Err(mismatch(ctx, dt, v)),
                });
            }
            Arc::new(BinaryArray::from(out))
        }
        DataType::FixedSizeBinary(n) => {
            let mut out: Vec<Option<&[u8]>> = Vec::with_capacity(vals.len());
            for v in vals {
                out.push(match present(*v) {
                    None => None,
                    Some(Value::Fixed(_, b)) | Some(Value::Bytes(b)) => Some(b.as_slice()),
                    Some(v) => return Err(mismatch(ctx, dt, v)),
                });
            }
            Arc::new(
                FixedSizeBinaryArray::try_from_sparse_iter_with_size(out.into_iter(), *n)
                    .map_err(|e| HudiError::arrow(ctx.to_string(), e))?,
            )
        }
        DataType::Decimal128(p, s) => {
            let mut out = Vec::with_capacity(vals.len());
            for v in vals {
                out.push(match present(*v) {
                    None => None,
                    Some(Value::Decimal(d)) => {
                        let bytes: Vec<u8> =
                            Vec::try_from(d).map_err(|e| schema_err(ctx, e.to_string()))?;
                        Some(
                            decimal_from_be(&bytes)
                                .ok_or_else(|| schema_err(ctx, "decimal wider than 16 bytes"))?,
                        )
                    }
                    Some(Value::Bytes(b)) | Some(Value::Fixed(_, b)) => Some(
                        decimal_from_be(b)
                            .ok_or_else(|| schema_err(ctx, "decimal wider than 16 bytes"))?,
                    ),
                    Some(Value::Int(i)) => Some(i128::from(*i)),
                    Some(Value::Long(i)) => Some(i128::from(*i)),
                    Some(v) => return Err(mismatch(ctx, dt, v)),
                });
            }
            Arc::new(
                Decimal128Array::from(out)
                    .with_precision_and_scale(*p, *s)
                    .map_err(|e| HudiError::arrow(ctx.to_string(), e))?,
            )
        }
        DataType::List(item) => {
            let mut offsets = Vec::with_capacity(vals.len() + 1);
            offsets.push(0i32);
            let mut children: Vec<Option<&Value>> = Vec::new();
            for v in vals {
                match present(*v) {
                    None => {}
                    Some(Value::Array(items)) => children.extend(items.iter().map(Some)),
                    Some(v) => return Err(mismatch(ctx, dt, v)),
                }
                offsets.push(
                    i32::try_from(children.len()).map_err(|_| schema_err(ctx, "list too long"))?,
                );
            }
            let child = build_array(&children, item.data_type(), ctx)?;
            Arc::new(
                ListArray::try_new(
                    item.clone(),
                    OffsetBuffer::new(offsets.into()),
                    child,
                    nulls_of(vals),
                )
                .map_err(|e| HudiError::arrow(ctx.to_string(), e))?,
            )
        }
        DataType::Map(entries, ordered) => {
            let (key_field, value_field) = match entries.data_type() {
                DataType::Struct(f) if f.len() == 2 => (f[0].clone(), f[1].clone()),
                _ => return Err(schema_err(ctx, "map entries must be a two-field struct")),
            };
            let mut offsets = Vec::with_capacity(vals.len() + 1);
            offsets.push(0i32);
            let mut keys: Vec<String> = Vec::new();
            let mut values: Vec<Option<&Value>> = Vec::new();
            for v in vals {
                match present(*v) {
                    None => {}
                    Some(Value::Map(m)) => {
                        // HashMap order is arbitrary: sort for deterministic output.
                        let mut entries: Vec<_> = m.iter().collect();
                        entries.sort_by(|a, b| a.0.cmp(b.0));
                        for (k, val) in entries {
                            keys.push(k.clone());
                            values.push(Some(val));
                        }
                    }
                    Some(v) => return Err(mismatch(ctx, dt, v)),
                }
                offsets
                    .push(i32::try_from(keys.len()).map_err(|_| schema_err(ctx, "map too large"))?);
            }
            let key_arr: ArrayRef = Arc::new(StringArray::from(keys));
            let val_arr = build_array(&values, value_field.data_type(), ctx)?;
            let st = StructArray::try_new(
                Fields::from(vec![key_field, value_field]),
                vec![key_arr, val_arr],
                None,
            )
            .map_err(|e| HudiError::arrow(ctx.to_string(), e))?;
            Arc::new(
                MapArray::try_new(
                    entries.clone(),
                    OffsetBuffer::new(offsets.into()),
                    st,
                    nulls_of(vals),
                    *ordered,
                )
                .map_err(|e| HudiError::arrow(ctx.to_string(), e))?,
            )
        }
        DataType::Struct(fields) => {
            let mut child_vals: Vec<Vec<Option<&Value>>> =
                vec![Vec::with_capacity(vals.len()); fields.len()];
            for v in vals {
                match present(*v) {
                    None => child_vals.iter_mut().for_each(|c| c.push(None)),
                    Some(Value::Record(rec)) => {
                        for (i, f) in fields.iter().enumerate() {
                            child_vals[i]
                                .push(rec.iter().find(|(n, _)| n == f.name()).map(|(_, v)| v));
                        }
                    }
                    Some(v) => return Err(mismatch(ctx, dt, v)),
                }
            }
            let children = fields
                .iter()
                .zip(child_vals)
                .map(|(f, cv)| build_array(&cv, f.data_type(), ctx))
                .collect::<Result<Vec<_>>>()?;
            if fields.is_empty() {
                Arc::new(StructArray::new_empty_fields(vals.len(), nulls_of(vals)))
            } else {
                Arc::new(
                    StructArray::try_new(fields.clone(), children, nulls_of(vals))
                        .map_err(|e| HudiError::arrow(ctx.to_string(), e))?,
                )
            }
        }
        other => {
            return Err(schema_err(
                ctx,
                format!("unsupported Arrow type {other} for Avro data"),
            ))
        }
    };
    Ok(arr)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type":"record","name":"r","fields":[
      {"name":"id","type":["null","int"],"default":null},
      {"name":"name","type":["null","string"],"default":null},
      {"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
      {"name":"d","type":["null",{"type":"fixed","name":"fixed","size":5,"logicalType":"decimal","precision":10,"scale":5}],"default":null},
      {"name":"arr","type":["null",{"type":"array","items":["null",{"type":"record","name":"a","fields":[{"name":"x","type":["null","string"]}]}]}],"default":null},
      {"name":"m","type":["null",{"type":"map","values":["null","double"]}],"default":null}
    ]}"#;

    #[test]
    fn maps_schema_and_converts_records() {
        let avro = parse_avro_schema(SCHEMA, "test").unwrap();
        let arrow = Arc::new(avro_schema_to_arrow(&avro).unwrap());
        assert_eq!(
            arrow.field(2).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(arrow.field(3).data_type(), &DataType::Decimal128(10, 5));
        let mut rec = apache_avro::types::Record::new(&avro).unwrap();
        rec.put("id", Value::Union(1, Box::new(Value::Int(7))));
        rec.put("name", Value::Union(0, Box::new(Value::Null)));
        rec.put(
            "ts",
            Value::Union(1, Box::new(Value::TimestampMicros(1_000_001))),
        );
        rec.put(
            "d",
            Value::Union(
                1,
                Box::new(Value::Fixed(5, vec![0xFF, 0xFF, 0xFF, 0xFF, 0xFE])),
            ),
        );
        rec.put(
            "arr",
            Value::Union(
                1,
                Box::new(Value::Array(vec![Value::Union(
                    1,
                    Box::new(Value::Record(vec![(
                        "x".into(),
                        Value::Union(1, Box::new(Value::String("q".into()))),
                    )])),
                )])),
            ),
        );
        rec.put("m", Value::Union(0, Box::new(Value::Null)));
        let v: Value = rec.into();
        let batch = records_to_batch(&[v], &arrow, "test").unwrap();
        assert_eq!(batch.num_rows(), 1);
        let id = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap();
        assert_eq!(id.value(0), 7);
        assert!(batch.column(1).is_null(0));
        let d = batch
            .column(3)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        assert_eq!(d.value(0), -2);
        let arr = batch
            .column(4)
            .as_any()
            .downcast_ref::<ListArray>()
            .unwrap();
        assert_eq!(arr.value_length(0), 1);
        assert!(batch.column(5).is_null(0));
    }
}
