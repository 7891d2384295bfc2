//! The table's Arrow schema as catalog columns (Hive type names) and as the Spark schema JSON
//! Spark's datasource reads back from `spark.sql.sources.schema.part.N`.

use std::collections::BTreeMap;

use arrow::datatypes::{DataType, Field, Fields};
use serde_json::Value;

use crate::catalog::Column;
use crate::error::{Result, SyncError};

/// The Hive type of an Arrow type, as Hudi's `HiveSchemaUtil` writes catalog columns:
/// timestamps are `bigint` unless `support_timestamp`, nested names bare, `-` in them made `_`,
/// the whole string lower case.
pub fn hive_type(t: &DataType, support_timestamp: bool) -> Result<String> {
    Ok(hive_type_raw(t, support_timestamp)?.to_ascii_lowercase())
}

fn hive_type_raw(t: &DataType, support_timestamp: bool) -> Result<String> {
    let hive_type = hive_type_raw;
    Ok(match t {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            "int".into()
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, _) if support_timestamp => "timestamp".into(),
        DataType::Timestamp(_, _) => "bigint".into(),
        DataType::Time32(_) => "int".into(),
        DataType::Time64(_) => "bigint".into(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("array<{}>", hive_type(f.data_type(), support_timestamp)?)
        }
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(unsupported(t));
            };
            let (k, v) = match kv.iter().as_slice() {
                [k, v] => (k, v),
                _ => return Err(unsupported(t)),
            };
            format!(
                "map<{},{}>",
                hive_type(k.data_type(), support_timestamp)?,
                hive_type(v.data_type(), support_timestamp)?
            )
        }
        DataType::Struct(fields) => {
            let inner: Result<Vec<String>> = fields
                .iter()
                .map(|f| {
                    Ok(format!(
                        "{}:{}",
                        f.name().replace('$', "_dollar_").replace('-', "_"),
                        hive_type(f.data_type(), support_timestamp)?
                    ))
                })
                .collect();
            format!("struct<{}>", inner?.join(","))
        }
        DataType::Dictionary(_, v) => hive_type(v, support_timestamp)?,
        _ => return Err(unsupported(t)),
    })
}

fn unsupported(t: &DataType) -> SyncError {
    SyncError::InvalidOption {
        key: "schema".into(),
        value: t.to_string(),
        reason: "no Hive type for this column type".into(),
    }
}

/// Catalog columns of fields (top-level names as they are; the catalogs lower-case them).
pub fn columns(fields: &[&Field], support_timestamp: bool) -> Result<Vec<Column>> {
    fields
        .iter()
        .map(|f| {
            Ok(Column::new(
                f.name().clone(),
                hive_type(f.data_type(), support_timestamp)?,
            ))
        })
        .collect()
}

/// The docs of a table's top-level fields in its Avro schema (`name` lowercased → doc; empty
/// docs left out): what Hudi's sync writes as column comments with `sync_comment`. A schema
/// that is not JSON has no docs.
pub fn field_docs(avro_schema: &str) -> BTreeMap<String, String> {
    let Ok(v) = serde_json::from_str::<Value>(avro_schema) else {
        return BTreeMap::new();
    };
    v["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let name = f["name"].as_str()?;
            let doc = f["doc"].as_str().filter(|d| !d.is_empty())?;
            Some((name.to_ascii_lowercase(), doc.to_string()))
        })
        .collect()
}

/// Spark's JSON of a data type, keys in the order `StructType.json` writes them.
fn spark_type(t: &DataType) -> Result<String> {
    let name = |n: &str| format!("\"{n}\"");
    Ok(match t {
        DataType::Boolean => name("boolean"),
        // Spark's byte and short reach Hudi's Avro schema as int.
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::UInt8
        | DataType::UInt16
        | DataType::Time32(_) => name("integer"),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 | DataType::Time64(_) => name("long"),
        DataType::Float16 | DataType::Float32 => name("float"),
        DataType::Float64 => name("double"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => name("string"),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => name("binary"),
        DataType::Date32 | DataType::Date64 => name("date"),
        // Whatever support_timestamp says: the Hive column may be bigint, Spark's is timestamp.
        DataType::Timestamp(_, _) => name("timestamp"),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => name(&format!("decimal({p},{s})")),
        // Hudi's spelling, with a space after the first comma; parquet-avro's two-level lists
        // (Hudi's default) have required elements.
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => format!(
            r#"{{"type":"array", "elementType":{},"containsNull":false}}"#,
            spark_type(f.data_type())?
        ),
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(unsupported(t));
            };
            let (k, v) = match kv.iter().as_slice() {
                [k, v] => (k, v),
                _ => return Err(unsupported(t)),
            };
            format!(
                r#"{{"type":"map", "keyType":{},"valueType":{},"valueContainsNull":{}}}"#,
                spark_type(k.data_type())?,
                spark_type(v.data_type())?,
                v.is_nullable()
            )
        }
        DataType::Struct(fields) => spark_struct(fields.iter().map(|f| f.as_ref()))?,
        DataType::Dictionary(_, v) => spark_type(v)?,
        _ => return Err(unsupported(t)),
    })
}

fn spark_struct<'a>(fields: impl Iterator<Item = &'a Field>) -> Result<String> {
    let fields: Result<Vec<String>> = fields
        .map(|f| {
            Ok(format!(
                r#"{{"name":{},"type":{},"nullable":{},"metadata":{{}}}}"#,
                Value::String(f.name().clone()),
                spark_type(f.data_type())?,
                f.is_nullable()
            ))
        })
        .collect();
    Ok(format!(
        r#"{{"type":"struct","fields":[{}]}}"#,
        fields?.join(",")
    ))
}

/// The Spark schema JSON of the table: data columns, then partition columns.
pub fn spark_schema_json(data: &[&Field], partition: &[&Field]) -> Result<String> {
    spark_struct(data.iter().chain(partition).copied())
}

/// `spark.sql.sources.schema.*` parameters: the schema JSON cut every `threshold` characters
/// and the partition column names.
pub fn spark_schema_parameters(
    schema_json: &str,
    partition_names: &[String],
    threshold: usize,
) -> Vec<(String, String)> {
    let chars: Vec<char> = schema_json.chars().collect();
    let parts: Vec<String> = chars
        .chunks(threshold.max(1))
        .map(|c| c.iter().collect())
        .collect();
    let mut out = vec![(
        "spark.sql.sources.schema.numParts".to_string(),
        parts.len().to_string(),
    )];
    for (i, p) in parts.into_iter().enumerate() {
        out.push((format!("spark.sql.sources.schema.part.{i}"), p));
    }
    if !partition_names.is_empty() {
        out.push((
            "spark.sql.sources.schema.numPartCols".to_string(),
            partition_names.len().to_string(),
        ));
        for (i, p) in partition_names.iter().enumerate() {
            out.push((format!("spark.sql.sources.schema.partCol.{i}"), p.clone()));
        }
    }
    out
}

/// Whether a catalog column of type `from` may become `to`, as Hudi's
/// `isSchemaTypeUpdateAllowed` decides: the same type, int to bigint, float to double, or
/// struct to struct.
pub fn compatible(from: &str, to: &str) -> bool {
    let norm = |t: &str| {
        t.chars()
            .filter(|c| !c.is_whitespace() && *c != '`')
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let (from, to) = (norm(from), norm(to));
    from == to
        || matches!(
            (from.as_str(), to.as_str()),
            ("int", "bigint") | ("float", "double")
        )
        || (from.contains("struct") && to.contains("struct"))
}

/// Fields of a struct type as references, for callers holding `Fields`.
pub fn refs(fields: &Fields) -> Vec<&Field> {
    fields.iter().map(|f| f.as_ref()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;
    use std::sync::Arc;

    #[test]
    fn hive_types_as_hudi_spells_them() {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        assert_eq!(hive_type(&ts, false).unwrap(), "bigint");
        assert_eq!(hive_type(&ts, true).unwrap(), "timestamp");
        assert_eq!(
            hive_type(&DataType::Decimal128(12, 3), false).unwrap(),
            "decimal(12,3)"
        );
        let item = Field::new("item", DataType::Int32, true);
        let s = DataType::Struct(
            vec![
                Field::new("a", DataType::Utf8, true),
                Field::new("b", DataType::List(Arc::new(item)), true),
            ]
            .into(),
        );
        assert_eq!(
            hive_type(&s, false).unwrap(),
            "struct<a:string,b:array<int>>"
        );
        let kv = Field::new(
            "entries",
            DataType::Struct(
                vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Float64, true),
                ]
                .into(),
            ),
            false,
        );
        assert_eq!(
            hive_type(&DataType::Map(Arc::new(kv), false), false).unwrap(),
            "map<string,double>"
        );
        assert!(hive_type(&DataType::Null, false).is_err());
    }

    #[test]
    fn spark_schema_splits_at_the_threshold_and_names_partition_columns() {
        let a = Field::new("a", DataType::Int64, false);
        let p = Field::new("p", DataType::Utf8, true);
        let js = spark_schema_json(&[&a], &[&p]).unwrap();
        assert_eq!(
            js,
            r#"{"type":"struct","fields":[{"name":"a","type":"long","nullable":false,"metadata":{}},{"name":"p","type":"string","nullable":true,"metadata":{}}]}"#
        );
        let params = spark_schema_parameters(&js, &["p".into()], 40);
        let parts: String = params
            .iter()
            .filter(|(k, _)| k.starts_with("spark.sql.sources.schema.part."))
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(parts, js);
        let n = js.chars().count().div_ceil(40);
        assert_eq!(params[0].1, n.to_string());
        assert!(params.contains(&("spark.sql.sources.schema.partCol.0".into(), "p".into())));
    }

    #[test]
    fn docs_of_top_level_fields_become_comments() {
        let avro = r#"{"type":"record","name":"r","fields":[
            {"name":"_hoodie_commit_time","type":["null","string"],"doc":""},
            {"name":"Fare","type":"double","doc":"in euro"},
            {"name":"rider","type":{"type":"record","name":"x","fields":[{"name":"n","type":"int","doc":"inner"}]}}]}"#;
        let docs = field_docs(avro);
        assert_eq!(docs.len(), 1, "{docs:?}");
        assert_eq!(docs["fare"], "in euro");
        assert!(field_docs("not json").is_empty());
    }

    #[test]
    fn widening_is_compatible_and_narrowing_is_not() {
        assert!(compatible("int", "bigint"));
        assert!(compatible("INT", "int"));
        assert!(!compatible("bigint", "int"));
        assert!(!compatible("string", "int"));
        assert!(
            !compatible("int", "double"),
            "Hudi refuses what it does not list"
        );
        assert!(compatible("struct<a:int>", "struct<a:int,b:string>"));
    }
}
