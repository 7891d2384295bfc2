//! Arrow rows straight to Avro binary, for log data blocks: the bytes
//! [`encode_avro_data_content`](super::arrow_avro::encode_avro_data_content) writes for
//! [`batch_to_records`](super::arrow_avro::batch_to_records)' values, without building a
//! `Value` tree per row (one buffer, no allocation per cell).

use std::collections::HashMap;

use apache_avro::schema::InnerDecimalSchema;
use apache_avro::Schema as AvroSchema;
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type};

use super::arrow_avro::{err, fixed_bytes, int_of, minimal_be_bytes, record_columns};
use crate::error::Result;

/// Avro's zig-zag varint.
fn put_long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

/// The union branch holding null, for a missing column or a null cell.
fn put_null(out: &mut Vec<u8>, schema: &AvroSchema, ctx: &str, what: &str) -> Result<()> {
    match schema {
        AvroSchema::Union(u) => {
            let i = u
                .variants()
                .iter()
                .position(|s| matches!(s, AvroSchema::Null))
                .ok_or_else(|| err(ctx, format!("{what} for a non-nullable field")))?;
            put_long(out, i as i64);
            Ok(())
        }
        AvroSchema::Null => Ok(()),
        _ => Err(err(ctx, format!("{what} for a non-nullable field"))),
    }
}

/// Encodes one cell under `schema` (as `cell_value` followed by Avro's encoder would).
fn put_cell(
    out: &mut Vec<u8>,
    arr: &ArrayRef,
    row: usize,
    schema: &AvroSchema,
    ctx: &str,
) -> Result<()> {
    if let AvroSchema::Union(u) = schema {
        if arr.is_null(row) {
            return put_null(out, schema, ctx, "null value");
        }
        let (i, s) = u
            .variants()
            .iter()
            .enumerate()
            .find(|(_, s)| !matches!(s, AvroSchema::Null))
            .ok_or_else(|| err(ctx, "union of only nulls"))?;
        put_long(out, i as i64);
        return put_cell(out, arr, row, s, ctx);
    }
    if arr.is_null(row) {
        return put_null(out, schema, ctx, "null value");
    }
    let mismatch = || {
        err(
            ctx,
            format!("cannot write Arrow {} as Avro {schema:?}", arr.data_type()),
        )
    };
    let int = || int_of(arr, row).ok_or_else(mismatch);
    match schema {
        AvroSchema::Null => {}
        AvroSchema::Boolean => out.push(u8::from(
            arr.as_boolean_opt().ok_or_else(mismatch)?.value(row),
        )),
        AvroSchema::Int | AvroSchema::Date => put_long(out, i64::from(int()? as i32)),
        AvroSchema::Long
        | AvroSchema::TimestampMicros
        | AvroSchema::TimestampMillis
        | AvroSchema::LocalTimestampMicros => put_long(out, int()?),
        AvroSchema::Float => {
            let v = match arr.data_type() {
                DataType::Float32 => arr.as_primitive::<Float32Type>().value(row),
                DataType::Float64 => arr.as_primitive::<Float64Type>().value(row) as f32,
                _ => return Err(mismatch()),
            };
            out.extend_from_slice(&v.to_le_bytes());
        }
        AvroSchema::Double => {
            let v = match arr.data_type() {
                DataType::Float32 => f64::from(arr.as_primitive::<Float32Type>().value(row)),
                DataType::Float64 => arr.as_primitive::<Float64Type>().value(row),
                _ => int()? as f64,
            };
            out.extend_from_slice(&v.to_le_bytes());
        }
        AvroSchema::String | AvroSchema::Uuid(_) => match arr.data_type() {
            DataType::Utf8 => put_bytes(out, arr.as_string::<i32>().value(row).as_bytes()),
            DataType::LargeUtf8 => put_bytes(out, arr.as_string::<i64>().value(row).as_bytes()),
            _ => return Err(mismatch()),
        },
        AvroSchema::Bytes => match arr.data_type() {
            DataType::Binary => put_bytes(out, arr.as_binary::<i32>().value(row)),
            DataType::LargeBinary => put_bytes(out, arr.as_binary::<i64>().value(row)),
            DataType::FixedSizeBinary(_) => put_bytes(out, arr.as_fixed_size_binary().value(row)),
            _ => return Err(mismatch()),
        },
        AvroSchema::Fixed(f) => {
            let v = arr
                .as_fixed_size_binary_opt()
                .ok_or_else(mismatch)?
                .value(row);
            if v.len() != f.size {
                return Err(err(
                    ctx,
                    format!("{} bytes for a fixed of {}", v.len(), f.size),
                ));
            }
            out.extend_from_slice(v);
        }
        AvroSchema::Decimal(d) => {
            let v = arr
                .as_primitive_opt::<Decimal128Type>()
                .ok_or_else(mismatch)?
                .value(row);
            match &d.inner {
                InnerDecimalSchema::Fixed(f) => out.extend_from_slice(&fixed_bytes(v, f.size)),
                InnerDecimalSchema::Bytes => put_bytes(out, &minimal_be_bytes(v)),
            }
        }
        AvroSchema::Array(a) => {
            let values = arr.as_list_opt::<i32>().ok_or_else(mismatch)?.value(row);
            if !values.is_empty() {
                put_long(out, values.len() as i64);
                for i in 0..values.len() {
                    put_cell(out, &values, i, &a.items, ctx)?;
                }
            }
            out.push(0);
        }
        AvroSchema::Map(m) => {
            let entries = arr.as_map_opt().ok_or_else(mismatch)?.value(row);
            let keys = entries
                .column(0)
                .as_string_opt::<i32>()
                .ok_or_else(mismatch)?;
            let vals = entries.column(1);
            // A key given twice keeps its last value, as a map of values would.
            let mut last: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
            for i in 0..entries.len() {
                last.insert(keys.value(i), i);
            }
            if !last.is_empty() {
                put_long(out, last.len() as i64);
                for i in (0..entries.len()).filter(|i| last[keys.value(*i)] == *i) {
                    put_bytes(out, keys.value(i).as_bytes());
                    put_cell(out, vals, i, &m.types, ctx)?;
                }
            }
            out.push(0);
        }
        AvroSchema::Record(r) => {
            let s = arr.as_struct_opt().ok_or_else(mismatch)?;
            for f in &r.fields {
                match s.column_by_name(&f.name) {
                    Some(c) => put_cell(out, c, row, &f.schema, ctx)?,
                    None => put_null(out, &f.schema, ctx, "missing column")?,
                }
            }
        }
        other => return Err(err(ctx, format!("unsupported Avro type {other:?}"))),
    }
    Ok(())
}

/// The content of an Avro data block (block version 3) holding each row of `batch` as a
/// record of the top-level record `schema` (fields by name; a field without a column is
/// null): version, count, then each record's length and bytes.
pub fn encode_batch_content(
    batch: &RecordBatch,
    schema: &AvroSchema,
    ctx: &str,
) -> Result<Vec<u8>> {
    let (r, cols) = record_columns(batch, schema, ctx)?;
    let ctxs: Vec<String> = r
        .fields
        .iter()
        .map(|f| format!("{ctx}, field '{}'", f.name))
        .collect();
    let n = batch.num_rows();
    let mut out = Vec::with_capacity(n * 64 + 8);
    out.extend_from_slice(&3u32.to_be_bytes());
    out.extend_from_slice(&(n as u32).to_be_bytes());
    let mut rec = Vec::with_capacity(256);
    for row in 0..n {
        rec.clear();
        for ((f, c), fctx) in r.fields.iter().zip(&cols).zip(&ctxs) {
            match c {
                Some(c) => put_cell(&mut rec, c, row, &f.schema, fctx)?,
                None => put_null(&mut rec, &f.schema, fctx, "missing column")?,
            }
        }
        out.extend_from_slice(&(rec.len() as u32).to_be_bytes());
        out.extend_from_slice(&rec);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
        Int32Array, Int64Array, ListBuilder, MapBuilder, StringArray, StringBuilder, StructArray,
        TimestampMicrosecondArray,
    };
    use arrow::datatypes::{Field, Schema};

    use super::*;
    use crate::io::arrow_avro::{batch_to_records, encode_avro_data_content};

    const SCHEMA: &str = r#"{"type":"record","name":"r","fields":[
      {"name":"i","type":["null","int"],"default":null},
      {"name":"l","type":"long"},
      {"name":"s","type":["null","string"],"default":null},
      {"name":"d","type":["null","double"],"default":null},
      {"name":"f","type":["null","float"],"default":null},
      {"name":"b","type":["null","boolean"],"default":null},
      {"name":"by","type":["null","bytes"],"default":null},
      {"name":"dec","type":["null",{"type":"fixed","name":"dec_fixed","size":5,"logicalType":"decimal","precision":10,"scale":2}],"default":null},
      {"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
      {"name":"dt","type":["null",{"type":"int","logicalType":"date"}],"default":null},
      {"name":"arr","type":["null",{"type":"array","items":["null","string"]}],"default":null},
      {"name":"m","type":["null",{"type":"map","values":["null","long"]}],"default":null},
      {"name":"rec","type":["null",{"type":"record","name":"inner","fields":[{"name":"a","type":["null","int"],"default":null}]}],"default":null},
      {"name":"absent","type":["null","string"],"default":null}
    ]}"#;

    fn batch() -> RecordBatch {
        let mut arr = ListBuilder::new(StringBuilder::new());
        arr.values().append_value("x");
        arr.values().append_null();
        arr.append(true);
        arr.append(true); // empty list
        arr.append(false);
        let mut m = MapBuilder::new(None, StringBuilder::new(), Int64Array::builder(0));
        // One entry per map: a map of values encodes its entries in hash order.
        m.keys().append_value("k");
        m.values().append_value(-7);
        m.append(true).unwrap();
        m.keys().append_value("n");
        m.values().append_null();
        m.append(true).unwrap();
        m.append(false).unwrap();
        let inner = StructArray::from(vec![(
            Arc::new(Field::new("a", DataType::Int32, true)),
            Arc::new(Int32Array::from(vec![Some(1), None, Some(i32::MIN)])) as ArrayRef,
        )]);
        let cols: Vec<(&str, ArrayRef)> = vec![
            (
                "i",
                Arc::new(Int32Array::from(vec![Some(-1), None, Some(i32::MAX)])),
            ),
            ("l", Arc::new(Int64Array::from(vec![0, i64::MIN, 1 << 40]))),
            (
                "s",
                Arc::new(StringArray::from(vec![Some("é"), None, Some("")])),
            ),
            (
                "d",
                Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-0.0)])),
            ),
            (
                "f",
                Arc::new(Float32Array::from(vec![Some(2.25), Some(f32::MAX), None])),
            ),
            (
                "b",
                Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
            ),
            (
                "by",
                Arc::new(BinaryArray::from(vec![
                    Some(&b"\x00\xff"[..]),
                    None,
                    Some(b""),
                ])),
            ),
            (
                "dec",
                Arc::new(
                    Decimal128Array::from(vec![Some(12345), Some(-1), None])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
            ),
            (
                "ts",
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(1),
                    None,
                    Some(-5),
                ])),
            ),
            (
                "dt",
                Arc::new(Date32Array::from(vec![Some(19000), Some(-1), None])),
            ),
            ("arr", Arc::new(arr.finish())),
            ("m", Arc::new(m.finish())),
            ("rec", Arc::new(inner)),
        ];
        let schema = Schema::new(
            cols.iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), *n != "l"))
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap()
    }

    #[test]
    fn direct_encoding_matches_avro_values_byte_for_byte() {
        let schema = AvroSchema::parse_str(SCHEMA).unwrap();
        let b = batch();
        let direct = encode_batch_content(&b, &schema, "test").unwrap();
        let records = batch_to_records(&b, &schema, "test").unwrap();
        let via_values = encode_avro_data_content(&records, &schema, "test").unwrap();
        assert_eq!(direct, via_values);
        // A slice (offsets not at zero) encodes as its rows do.
        let tail = b.slice(1, 2);
        let records = batch_to_records(&tail, &schema, "test").unwrap();
        assert_eq!(
            encode_batch_content(&tail, &schema, "test").unwrap(),
            encode_avro_data_content(&records, &schema, "test").unwrap()
        );
    }

    #[test]
    fn nulls_in_non_nullable_fields_are_refused() {
        let schema = AvroSchema::parse_str(
            r#"{"type":"record","name":"r","fields":[{"name":"l","type":"long"}]}"#,
        )
        .unwrap();
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("l", DataType::Int64, true)])),
            vec![Arc::new(Int64Array::from(vec![Some(1), None]))],
        )
        .unwrap();
        let e = encode_batch_content(&b, &schema, "block")
            .unwrap_err()
            .to_string();
        assert!(e.contains("field 'l'") && e.contains("non-nullable"), "{e}");
    }
}
