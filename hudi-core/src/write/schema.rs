//! Schemas on the write path: normalizing input batches to the types Hudi stores, the Avro
//! schema written to commit metadata, and the evolution rules between a table's schema and
//! an incoming one.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};
use serde_json::{json, Value};

use crate::error::{HudiError, Result};
use crate::model::META_FIELDS;

fn err(column: &str, reason: impl Into<String>) -> HudiError {
    HudiError::Schema {
        context: format!("column '{column}'"),
        reason: reason.into(),
    }
}

/// The stored type for an input type: small ints widen to int, timestamps become UTC
/// microseconds, large/view strings become strings, dictionaries their values.
pub fn stored_type(column: &str, dt: &DataType) -> Result<DataType> {
    Ok(match dt {
        DataType::Int8 | DataType::Int16 | DataType::UInt8 | DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Boolean => dt.clone(),
        DataType::Float16 => DataType::Float32,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => DataType::Binary,
        DataType::FixedSizeBinary(_) => DataType::Binary,
        DataType::Date32 | DataType::Date64 => DataType::Date32,
        DataType::Timestamp(_, _) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        DataType::Decimal128(p, s) if *s >= 0 => DataType::Decimal128(*p, *s),
        DataType::Dictionary(_, v) => stored_type(column, v)?,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::FixedSizeList(f, _) => DataType::List(Arc::new(Field::new(
            "element",
            stored_type(column, f.data_type())?,
            true,
        ))),
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| {
                    Ok(Field::new(
                        f.name(),
                        stored_type(&format!("{column}.{}", f.name()), f.data_type())?,
                        true,
                    ))
                })
                .collect::<Result<Vec<_>>>()?
                .into(),
        ),
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(err(column, "map entries must be a struct"));
            };
            if !matches!(
                kv[0].data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) {
                return Err(err(column, "Hudi (Avro) maps need string keys"));
            }
            let value = stored_type(column, kv[1].data_type())?;
            DataType::Map(
                Arc::new(Field::new(
                    "key_value",
                    DataType::Struct(Fields::from(vec![
                        Field::new("key", DataType::Utf8, false),
                        Field::new("value", value, true),
                    ])),
                    false,
                )),
                false,
            )
        }
        other => {
            return Err(err(
                column,
                format!("type {other} cannot be stored in a Hudi table"),
            ))
        }
    })
}

/// The stored schema of an input schema (all fields nullable, meta columns dropped).
pub fn stored_schema(input: &Schema) -> Result<SchemaRef> {
    let fields = input
        .fields()
        .iter()
        .filter(|f| !META_FIELDS.contains(&f.name().as_str()))
        .map(|f| {
            Ok(Field::new(
                f.name(),
                stored_type(f.name(), f.data_type())?,
                true,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// Casts a batch to `target` (a stored schema): columns by name, missing ones null.
pub fn to_stored(batch: &RecordBatch, target: &SchemaRef) -> Result<RecordBatch> {
    let cols = target
        .fields()
        .iter()
        .map(|f| -> Result<ArrayRef> {
            match batch.column_by_name(f.name()) {
                Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
                // A value the table's type cannot hold is the input's fault: a schema error
                // naming the column and both types (never a silent null).
                Some(c) => {
                    let ctx = format!("column '{}'", f.name());
                    crate::io::align::align_array_strict(c, f.data_type(), &ctx)
                        .or_else(|_| crate::io::align::strict_cast(c, f.data_type(), &ctx))
                }
                None => Ok(arrow::array::new_null_array(
                    f.data_type(),
                    batch.num_rows(),
                )),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new_with_options(
        target.clone(),
        cols,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(|e| HudiError::arrow("converting input to the table schema", e))
}

/// Whether stored type `from` may be written into a column of stored type `to` without
/// changing the table type (Hudi's allowed promotions are handled by [`evolve`]).
fn promotion(from: &DataType, to: &DataType) -> Option<DataType> {
    use DataType::*;
    if from == to {
        return Some(to.clone());
    }
    match (to, from) {
        // Table type wider than input: the input is cast up.
        (Int64, Int32) | (Float32, Int32 | Int64) | (Float64, Int32 | Int64 | Float32) => {
            Some(to.clone())
        }
        // Input wider than the table: the table type is promoted.
        (Int32, Int64) => Some(Int64),
        (Int32 | Int64, Float32) => Some(Float32),
        (Int32 | Int64 | Float32, Float64) => Some(Float64),
        (Struct(tf), Struct(ff)) => {
            let merged = merge_fields(tf, ff).ok()?;
            Some(Struct(merged))
        }
        (List(tf), List(ff)) => Some(List(Arc::new(Field::new(
            "element",
            promotion(ff.data_type(), tf.data_type())?,
            true,
        )))),
        (Map(te, s), Map(fe, _)) => match (te.data_type(), fe.data_type()) {
            (Struct(tkv), Struct(fkv)) => {
                let v = promotion(fkv[1].data_type(), tkv[1].data_type())?;
                Some(Map(
                    Arc::new(Field::new(
                        "key_value",
                        Struct(Fields::from(vec![
                            Field::new("key", Utf8, false),
                            Field::new("value", v, true),
                        ])),
                        false,
                    )),
                    *s,
                ))
            }
            _ => None,
        },
        _ => None,
    }
}

fn merge_fields(
    table: &Fields,
    incoming: &Fields,
) -> std::result::Result<Fields, (String, String)> {
    let mut out: Vec<FieldRef> = Vec::with_capacity(table.len() + incoming.len());
    for t in table {
        match incoming.find(t.name()) {
            Some((_, f)) => {
                let dt = promotion(f.data_type(), t.data_type()).ok_or_else(|| {
                    (
                        t.name().to_string(),
                        format!(
                            "cannot write {} into a column of type {}",
                            f.data_type(),
                            t.data_type()
                        ),
                    )
                })?;
                out.push(Arc::new(Field::new(t.name(), dt, true)));
            }
            None => out.push(t.clone()),
        }
    }
    for f in incoming {
        if table.find(f.name()).is_none() {
            out.push(Arc::new(Field::new(f.name(), f.data_type().clone(), true)));
        }
    }
    Ok(out.into())
}

/// The table schema after a write with `incoming` columns: new nullable columns are added at
/// the end, int→long→float→double promotions are applied; anything else fails, naming the
/// column, before any file is written.
pub fn evolve(table: &SchemaRef, incoming: &SchemaRef) -> Result<SchemaRef> {
    let merged = merge_fields(table.fields(), incoming.fields()).map_err(|(c, r)| err(&c, r))?;
    Ok(Arc::new(Schema::new(merged)))
}

pub use crate::io::parquet_writer::decimal_fixed_size;

fn avro_type(dt: &DataType, name: &str, namespace: &str, nullable_first: bool) -> Result<Value> {
    let t = match dt {
        DataType::Boolean => json!("boolean"),
        DataType::Int32 => json!("int"),
        DataType::Int64 => json!("long"),
        DataType::Float32 => json!("float"),
        DataType::Float64 => json!("double"),
        DataType::Utf8 => json!("string"),
        DataType::Binary => json!("bytes"),
        DataType::Date32 => json!({"type": "int", "logicalType": "date"}),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            json!({"type": "long", "logicalType": "timestamp-micros"})
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            json!({"type": "long", "logicalType": "timestamp-millis"})
        }
        DataType::Decimal128(p, s) => json!({
            "type": "fixed", "name": "fixed", "namespace": format!("{namespace}.{name}"),
            "size": decimal_fixed_size(*p), "logicalType": "decimal", "precision": p, "scale": s
        }),
        DataType::List(item) => json!({
            "type": "array",
            "items": avro_field_type(item.data_type(), name, namespace, nullable_first)?
        }),
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(err(name, "map entries must be a struct"));
            };
            json!({"type": "map", "values": avro_field_type(kv[1].data_type(), name, namespace, nullable_first)?})
        }
        DataType::Struct(fields) => {
            let parent_ns = namespace.to_string();
            let child_ns = format!("{namespace}.{name}");
            json!({
                "type": "record", "name": name, "namespace": parent_ns,
                "fields": fields.iter().map(|f| avro_field(f, &child_ns, nullable_first)).collect::<Result<Vec<_>>>()?
            })
        }
        other => return Err(err(name, format!("no Avro type for {other}"))),
    };
    Ok(t)
}

fn avro_field_type(
    dt: &DataType,
    name: &str,
    namespace: &str,
    nullable_first: bool,
) -> Result<Value> {
    let t = avro_type(dt, name, namespace, nullable_first)?;
    Ok(if nullable_first {
        json!(["null", t])
    } else {
        json!([t, "null"])
    })
}

fn avro_field(f: &Field, namespace: &str, nullable_first: bool) -> Result<Value> {
    check_field_name(f.name())?;
    let t = avro_field_type(f.data_type(), f.name(), namespace, nullable_first)?;
    Ok(if nullable_first {
        json!({"name": f.name(), "type": t, "default": null})
    } else {
        json!({"name": f.name(), "type": t})
    })
}

/// Hudi's `HoodieAvroUtils.sanitizeName`: an invalid first character, then every character
/// outside `[A-Za-z0-9_]`, becomes `__`.
pub fn sanitize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        let ok = c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit());
        if ok {
            out.push(c);
        } else {
            out.push_str("__");
        }
    }
    out
}

fn check_field_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(err(
            name,
            "is not a valid Avro field name (a letter or _, then letters, digits or _)",
        ))
    }
}

/// The full name of a table's Avro record, `hoodie.<table>.<table>_record` (sanitized): the
/// root of the parquet schema parquet-avro writes.
pub fn record_full_name(table_name: &str) -> String {
    let t = sanitize_name(table_name);
    format!("hoodie.{t}.{t}_record")
}

/// The Avro schema of a table's records (`<table>_record` in namespace `hoodie.<table>`, with
/// the table name sanitized as Hudi does).
/// `nullable_first`: the writer form (`["null",T]` with default null, used in commit metadata
/// and log blocks); otherwise the `hoodie.table.create.schema` form (`[T,"null"]`).
pub fn avro_schema(
    schema: &Schema,
    table_name: &str,
    with_meta_fields: bool,
    nullable_first: bool,
) -> Result<String> {
    let table_name = sanitize_name(table_name);
    let record = format!("{table_name}_record");
    let namespace = format!("hoodie.{table_name}");
    let child_ns = format!("{namespace}.{record}");
    let mut fields: Vec<Value> = Vec::new();
    if with_meta_fields {
        for m in META_FIELDS {
            fields.push(json!({"name": m, "type": ["null", "string"], "doc": "", "default": null}));
        }
    }
    for f in schema
        .fields()
        .iter()
        .filter(|f| !META_FIELDS.contains(&f.name().as_str()))
    {
        fields.push(avro_field(f, &child_ns, nullable_first)?);
    }
    Ok(
        json!({"type": "record", "name": record, "namespace": namespace, "fields": fields})
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::avro_arrow::{avro_schema_to_arrow, parse_avro_schema};

    #[test]
    fn avro_schema_round_trips_through_the_reader_mapping() {
        let s = Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("d", DataType::Decimal128(10, 5), true),
            Field::new(
                "ts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "l",
                DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))),
                true,
            ),
            Field::new(
                "st",
                DataType::Struct(Fields::from(vec![Field::new("x", DataType::Float64, true)])),
                true,
            ),
        ]);
        let text = avro_schema(&s, "t", false, true).unwrap();
        assert!(
            text.contains(r#""namespace":"hoodie.t.t_record.d","precision":10,"scale":5,"size":5"#),
            "{text}"
        );
        let back = avro_schema_to_arrow(&parse_avro_schema(&text, "t").unwrap()).unwrap();
        assert_eq!(back.fields().len(), 5);
        assert_eq!(back.field(1).data_type(), &DataType::Decimal128(10, 5));
        assert_eq!(decimal_fixed_size(15), 7);
        assert_eq!(decimal_fixed_size(10), 5);
        assert_eq!(sanitize_name("my-table"), "my__table");
        assert_eq!(sanitize_name("2024_sales"), "__024_sales");
        let t = avro_schema(
            &Schema::new(vec![Field::new("a", DataType::Int32, true)]),
            "my-table",
            false,
            true,
        )
        .unwrap();
        assert!(parse_avro_schema(&t, "t").is_ok(), "{t}");
        let bad = Schema::new(vec![Field::new("my col", DataType::Int32, true)]);
        let e = avro_schema(&bad, "t", false, true).unwrap_err();
        assert!(e.to_string().contains("'my col'"), "{e}");
    }

    #[test]
    fn evolution_adds_columns_promotes_and_refuses_the_rest() {
        let t = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let i = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("n", DataType::Utf8, true),
        ]));
        let e = evolve(&t, &i).unwrap();
        assert_eq!(e.field(0).data_type(), &DataType::Int64);
        assert_eq!(e.field(2).name(), "n");
        let bad = Arc::new(Schema::new(vec![Field::new("s", DataType::Int32, true)]));
        let er = evolve(&t, &bad).unwrap_err();
        assert!(er.to_string().contains("'s'"), "{er}");
        assert!(stored_type("x", &DataType::Duration(TimeUnit::Second)).is_err());
    }
}
