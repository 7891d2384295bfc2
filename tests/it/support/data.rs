//! The one data builder of the tests: rows are JSON objects in the oracles' canonical form
//! (`shared/oracle/read_oracle.py`: dates "YYYY-MM-DD", timestamps "…T…Z", decimals as strings,
//! binary as base64, structs and string-keyed maps as objects), turned into Arrow batches of a
//! given schema. A model of a table is then plain JSON, compared as is with every reader.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int32Array, Int64Array, ListArray, MapArray, RecordBatch, StringArray, StructArray,
    TimestampMicrosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use base64::Engine;
use serde_json::{json, Map, Value};

/// A row: column name → canonical value (absent = null).
pub type Row = Map<String, Value>;

/// A row from a JSON object literal.
pub fn row(v: Value) -> Row {
    match v {
        Value::Object(m) => m,
        other => panic!("a row is a JSON object, not {other}"),
    }
}

/// A nullable field.
pub fn field(name: &str, dt: DataType) -> Field {
    Field::new(name, dt, true)
}

pub fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

/// Timestamps as the readers show them: UTC microseconds.
pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

pub fn list_of(dt: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", dt, true)))
}

pub fn struct_of(fields: Vec<Field>) -> DataType {
    DataType::Struct(Fields::from(fields))
}

/// A map with string keys (the only maps Avro, hence Hudi, has).
pub fn map_of(value: DataType) -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "key_value",
            struct_of(vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", value, true),
            ]),
            false,
        )),
        false,
    )
}

/// The batch of `rows` in `schema`.
pub fn batch(schema: &SchemaRef, rows: &[Row]) -> RecordBatch {
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| {
            let vals: Vec<Option<&Value>> = rows.iter().map(|r| r.get(f.name())).collect();
            array(f.name(), f.data_type(), &vals)
        })
        .collect();
    RecordBatch::try_new_with_options(
        schema.clone(),
        cols,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )
    .expect("batch of rows")
}

/// Writes batches to a Parquet file (input for Spark, or for the CLI).
/// `path`: three rows `(id, city, ts, v)` in three cities (`ams`, `ber`, `cph`), `ts` 1 and
/// `v` "a": the input of the catalog-sync comparisons with Hudi's own sync tools.
pub fn write_three_cities(path: &Path) {
    let schema = schema(vec![
        field("id", DataType::Int64),
        field("city", DataType::Utf8),
        field("ts", DataType::Int64),
        field("v", DataType::Utf8),
    ]);
    let rows: Vec<Row> = [(0, "ams"), (1, "ber"), (2, "cph")]
        .iter()
        .map(|(i, c)| row(serde_json::json!({"id": i, "city": c, "ts": 1, "v": "a"})))
        .collect();
    write_parquet(path, &schema, &[batch(&schema, &rows)]);
}

pub fn write_parquet(path: &Path, schema: &SchemaRef, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).expect("create parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).expect("writer");
    for b in batches {
        w.write(b).expect("write batch");
    }
    w.close().expect("close parquet");
}

fn present<'a>(v: &Option<&'a Value>) -> Option<&'a Value> {
    v.filter(|x| !x.is_null())
}

fn array(name: &str, dt: &DataType, vals: &[Option<&Value>]) -> ArrayRef {
    let bad = |v: &Value| -> ! { panic!("column {name}: {v} is not a {dt}") };
    match dt {
        DataType::Boolean => Arc::new(BooleanArray::from(
            vals.iter()
                .map(|v| present(v).map(|x| x.as_bool().unwrap_or_else(|| bad(x))))
                .collect::<Vec<_>>(),
        )),
        DataType::Int32 => Arc::new(Int32Array::from(
            vals.iter()
                .map(|v| present(v).map(|x| x.as_i64().unwrap_or_else(|| bad(x)) as i32))
                .collect::<Vec<_>>(),
        )),
        DataType::Int64 => Arc::new(Int64Array::from(
            vals.iter()
                .map(|v| present(v).map(|x| x.as_i64().unwrap_or_else(|| bad(x))))
                .collect::<Vec<_>>(),
        )),
        DataType::Float32 => Arc::new(Float32Array::from(
            vals.iter()
                .map(|v| present(v).map(|x| x.as_f64().unwrap_or_else(|| bad(x)) as f32))
                .collect::<Vec<_>>(),
        )),
        DataType::Float64 => Arc::new(Float64Array::from(
            vals.iter()
                .map(|v| present(v).map(|x| x.as_f64().unwrap_or_else(|| bad(x))))
                .collect::<Vec<_>>(),
        )),
        DataType::Utf8 => Arc::new(StringArray::from(
            vals.iter()
                .map(|v| present(v).map(|x| x.as_str().unwrap_or_else(|| bad(x)).to_string()))
                .collect::<Vec<_>>(),
        )),
        DataType::Binary => {
            let decoded: Vec<Option<Vec<u8>>> = vals
                .iter()
                .map(|v| {
                    present(v).map(|x| {
                        base64::engine::general_purpose::STANDARD
                            .decode(x.as_str().unwrap_or_else(|| bad(x)))
                            .unwrap_or_else(|_| bad(x))
                    })
                })
                .collect();
            Arc::new(BinaryArray::from(
                decoded.iter().map(|b| b.as_deref()).collect::<Vec<_>>(),
            ))
        }
        DataType::Date32 => Arc::new(Date32Array::from(
            vals.iter()
                .map(|v| present(v).map(|x| days(x.as_str().unwrap_or_else(|| bad(x)))))
                .collect::<Vec<_>>(),
        )),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => Arc::new(
            TimestampMicrosecondArray::from(
                vals.iter()
                    .map(|v| present(v).map(|x| micros(x.as_str().unwrap_or_else(|| bad(x)))))
                    .collect::<Vec<_>>(),
            )
            .with_timezone_opt(tz.clone()),
        ),
        DataType::Decimal128(p, s) => Arc::new(
            Decimal128Array::from(
                vals.iter()
                    .map(|v| present(v).map(|x| unscaled(x.as_str().unwrap_or_else(|| bad(x)), *s)))
                    .collect::<Vec<_>>(),
            )
            .with_precision_and_scale(*p, *s)
            .expect("decimal precision"),
        ),
        DataType::List(item) => {
            let mut offsets = vec![0i32];
            let mut children: Vec<Option<&Value>> = Vec::new();
            for v in vals {
                if let Some(x) = present(v) {
                    children.extend(x.as_array().unwrap_or_else(|| bad(x)).iter().map(Some));
                }
                offsets.push(children.len() as i32);
            }
            let values = array(name, item.data_type(), &children);
            Arc::new(ListArray::new(
                item.clone(),
                OffsetBuffer::new(offsets.into()),
                values,
                nulls(vals),
            ))
        }
        DataType::Struct(fields) => {
            let children: Vec<ArrayRef> = fields
                .iter()
                .map(|f| {
                    let sub: Vec<Option<&Value>> = vals
                        .iter()
                        .map(|v| present(v).and_then(|x| x.get(f.name())))
                        .collect();
                    array(&format!("{name}.{}", f.name()), f.data_type(), &sub)
                })
                .collect();
            Arc::new(StructArray::new(fields.clone(), children, nulls(vals)))
        }
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else {
                panic!("map entries of {name} are not a struct");
            };
            let mut offsets = vec![0i32];
            let mut keys: Vec<String> = Vec::new();
            let mut items: Vec<Option<&Value>> = Vec::new();
            for v in vals {
                if let Some(x) = present(v) {
                    for (k, item) in x.as_object().unwrap_or_else(|| bad(x)) {
                        keys.push(k.clone());
                        items.push(Some(item));
                    }
                }
                offsets.push(keys.len() as i32);
            }
            let entries_array = StructArray::new(
                kv.clone(),
                vec![
                    Arc::new(StringArray::from(keys)) as ArrayRef,
                    array(name, kv[1].data_type(), &items),
                ],
                None,
            );
            Arc::new(MapArray::new(
                entries.clone(),
                OffsetBuffer::new(offsets.into()),
                entries_array,
                nulls(vals),
                *sorted,
            ))
        }
        other => panic!("column {name}: no test data builder for {other}"),
    }
}

fn nulls(vals: &[Option<&Value>]) -> Option<NullBuffer> {
    let valid: Vec<bool> = vals.iter().map(|v| present(v).is_some()).collect();
    valid.iter().any(|v| !v).then(|| NullBuffer::from(valid))
}

/// Days since the epoch of "YYYY-MM-DD".
pub fn days(s: &str) -> i32 {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"));
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Microseconds since the epoch of "YYYY-MM-DDTHH:MM:SS.ffffff" (a trailing Z allowed).
pub fn micros(s: &str) -> i64 {
    let t = chrono::NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{s}: {e}"));
    t.and_utc().timestamp_micros()
}

/// The unscaled value of a decimal string with `scale` fraction digits ("-12.50" → -1250).
pub fn unscaled(s: &str, scale: i8) -> i128 {
    let (neg, digits) = s.strip_prefix('-').map_or((false, s), |d| (true, d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(
        frac.len() == scale as usize,
        "decimal {s} must have {scale} fraction digits (the canonical form)"
    );
    let v: i128 = format!("{int}{frac}")
        .parse()
        .unwrap_or_else(|e| panic!("{s}: {e}"));
    if neg {
        -v
    } else {
        v
    }
}

/// The canonical string of a key or partition value (numbers and booleans as Java prints them,
/// strings and dates as they are).
pub fn key_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Compares two canonical values of a column of type `dt` as Hudi compares ordering values:
/// numbers and decimals numerically, strings, dates and timestamps in their natural order.
pub fn ordering_cmp(dt: &DataType, a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::Equal;
    let num = |v: &Value| -> f64 {
        match v {
            Value::Number(n) => n.as_f64().unwrap_or(0.0),
            Value::String(s) => s.parse().unwrap_or(0.0),
            _ => 0.0,
        }
    };
    match (a, b) {
        (Value::Null, Value::Null) => Equal,
        (Value::Null, _) => std::cmp::Ordering::Less,
        (_, Value::Null) => std::cmp::Ordering::Greater,
        _ => match dt {
            DataType::Utf8 | DataType::Date32 | DataType::Timestamp(..) | DataType::Boolean => {
                a.to_string().cmp(&b.to_string())
            }
            _ => num(a).partial_cmp(&num(b)).unwrap_or(Equal),
        },
    }
}

/// A null of every column of `schema` not in `r`, so that rows compare with readers' output.
pub fn complete(schema: &SchemaRef, mut r: Row) -> Row {
    for f in schema.fields() {
        r.entry(f.name().clone()).or_insert(json!(null));
    }
    r
}
