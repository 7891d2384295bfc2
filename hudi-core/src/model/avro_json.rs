//! JSON to Avro values by a schema: the instant contents Hudi keeps as JSON (commit metadata)
//! or decodes from Avro are re-encoded under another record's schema (the archived timeline's
//! `HoodieArchivedMetaEntry`) the way Jackson's `convertValue` maps them in Java: fields by
//! name, unknown ones ignored, missing ones their default.

use std::collections::HashMap;

use apache_avro::schema::{Name, Namespace, ResolvedSchema};
use apache_avro::types::Value;
use apache_avro::Schema;
use serde_json::Value as Json;

use super::metadata::DecodeResult;

/// Converts `json` to a value of `schema` (named types resolved within `schema`).
pub fn json_to_avro(schema: &Schema, json: &Json) -> DecodeResult<Value> {
    let resolved = ResolvedSchema::try_from(schema).map_err(|e| e.to_string())?;
    let names: HashMap<Name, &Schema> = resolved
        .get_names()
        .iter()
        .map(|(n, s)| (n.clone(), *s))
        .collect();
    convert(schema, json, &names, &None, "$")
}

fn mismatch(path: &str, want: &str, got: &Json) -> String {
    format!("{path}: expected {want}, found {got}")
}

fn int_of(json: &Json, path: &str) -> DecodeResult<i64> {
    match json {
        Json::Number(n) => n.as_i64().ok_or_else(|| mismatch(path, "an integer", json)),
        Json::String(s) => s.parse().map_err(|_| mismatch(path, "an integer", json)),
        _ => Err(mismatch(path, "an integer", json)),
    }
}

fn convert(
    schema: &Schema,
    json: &Json,
    names: &HashMap<Name, &Schema>,
    ns: &Namespace,
    path: &str,
) -> DecodeResult<Value> {
    Ok(match schema {
        Schema::Null => match json {
            Json::Null => Value::Null,
            _ => return Err(mismatch(path, "null", json)),
        },
        Schema::Boolean => Value::Boolean(
            json.as_bool()
                .ok_or_else(|| mismatch(path, "a boolean", json))?,
        ),
        Schema::Int => {
            let v = int_of(json, path)?;
            Value::Int(i32::try_from(v).map_err(|_| mismatch(path, "an int", json))?)
        }
        Schema::Long => Value::Long(int_of(json, path)?),
        Schema::Float => Value::Float(
            json.as_f64()
                .ok_or_else(|| mismatch(path, "a number", json))? as f32,
        ),
        Schema::Double => Value::Double(
            json.as_f64()
                .ok_or_else(|| mismatch(path, "a number", json))?,
        ),
        Schema::String => match json {
            Json::String(s) => Value::String(s.clone()),
            _ => return Err(mismatch(path, "a string", json)),
        },
        Schema::Bytes => match json {
            Json::String(s) => Value::Bytes(s.as_bytes().to_vec()),
            _ => return Err(mismatch(path, "bytes as a string", json)),
        },
        Schema::Enum(e) => match json {
            Json::String(s) => {
                let i = e
                    .symbols
                    .iter()
                    .position(|x| x == s)
                    .ok_or_else(|| mismatch(path, "an enum symbol", json))?;
                Value::Enum(i as u32, s.clone())
            }
            _ => return Err(mismatch(path, "an enum symbol", json)),
        },
        Schema::Array(a) => {
            let items = json
                .as_array()
                .ok_or_else(|| mismatch(path, "an array", json))?;
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| convert(&a.items, x, names, ns, &format!("{path}[{i}]")))
                    .collect::<DecodeResult<_>>()?,
            )
        }
        Schema::Map(m) => {
            let obj = json
                .as_object()
                .ok_or_else(|| mismatch(path, "an object", json))?;
            Value::Map(
                obj.iter()
                    .map(|(k, x)| {
                        Ok((
                            k.clone(),
                            convert(&m.types, x, names, ns, &format!("{path}.{k}"))?,
                        ))
                    })
                    .collect::<DecodeResult<_>>()?,
            )
        }
        Schema::Union(u) => {
            if json.is_null() {
                if let Some(i) = u.variants().iter().position(|v| matches!(v, Schema::Null)) {
                    return Ok(Value::Union(i as u32, Box::new(Value::Null)));
                }
            }
            let mut last = None;
            for (i, v) in u.variants().iter().enumerate() {
                if matches!(v, Schema::Null) {
                    continue;
                }
                match convert(v, json, names, ns, path) {
                    Ok(x) => return Ok(Value::Union(i as u32, Box::new(x))),
                    Err(e) => last = Some(e),
                }
            }
            return Err(last.unwrap_or_else(|| mismatch(path, "a union branch", json)));
        }
        Schema::Record(r) => {
            let obj = json
                .as_object()
                .ok_or_else(|| mismatch(path, "an object", json))?;
            let inner_ns: Namespace = r.name.namespace().map(String::from).or_else(|| ns.clone());
            let mut fields = Vec::with_capacity(r.fields.len());
            for f in &r.fields {
                let fpath = format!("{path}.{}", f.name);
                let v = match obj.get(&f.name) {
                    Some(x) => convert(&f.schema, x, names, &inner_ns, &fpath)?,
                    None => match &f.default {
                        Some(d) => {
                            convert(&f.schema, d, names, &inner_ns, &fpath).or_else(|_| {
                                default_of_union(&f.schema, d, names, &inner_ns, &fpath)
                            })?
                        }
                        None => convert(&f.schema, &Json::Null, names, &inner_ns, &fpath)
                            .map_err(|_| format!("{fpath}: missing, and it has no default"))?,
                    },
                };
                fields.push((f.name.clone(), v));
            }
            Value::Record(fields)
        }
        Schema::Ref { name } => {
            let full = name.fully_qualified_name(ns.as_deref()).into_owned();
            let target = names
                .get(&full)
                .or_else(|| names.get(name))
                .ok_or_else(|| format!("{path}: unknown type {}", name.fullname(None)))?;
            let target_ns: Namespace = full.namespace().map(String::from);
            convert(target, json, names, &target_ns, path)?
        }
        other => return Err(format!("{path}: schema {other:?} is not supported here")),
    })
}

/// A field default is the value of a union's first branch.
fn default_of_union(
    schema: &Schema,
    default: &Json,
    names: &HashMap<Name, &Schema>,
    ns: &Namespace,
    path: &str,
) -> DecodeResult<Value> {
    match schema {
        Schema::Union(u) => {
            let first = u
                .variants()
                .first()
                .ok_or_else(|| format!("{path}: empty union"))?;
            Ok(Value::Union(
                0,
                Box::new(convert(first, default, names, ns, path)?),
            ))
        }
        _ => Err(format!("{path}: bad default {default}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::avro_schemas::ARCHIVED_META_ENTRY_SCHEMA;

    #[test]
    fn archived_entries_convert_and_encode() {
        let schema = Schema::parse_str(ARCHIVED_META_ENTRY_SCHEMA).unwrap();
        let j = serde_json::json!({
            "hoodieCommitMetadata": {
                "partitionToWriteStats": {"a": [{"fileId": "f", "path": "a/f.parquet",
                    "prevCommit": "null", "numWrites": 3, "numInserts": 1, "totalLogFiles": null,
                    "unknownToTheSchema": 5}]},
                "extraMetadata": {"ROLLING_STAT": ""}, "operationType": "UPSERT",
                "version": null, "compacted": false},
            "hoodieCleanMetadata": {"startCleanTime": "20250101000000002", "timeTakenInMillis": 3,
                "totalFilesDeleted": 1, "earliestCommitToRetain": "", "partitionMetadata": {},
                "version": 2},
            "commitTime": "20250101000000000", "actionType": "commit",
            "actionState": "COMPLETED", "stateTransitionTime": "20250101000000001",
            "version": null,
        });
        let v = json_to_avro(&schema, &j).unwrap();
        let mut bytes = Vec::new();
        apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
            .build()
            .unwrap()
            .write_value_ref(&mut bytes, &v)
            .unwrap();
        let back = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
            .build()
            .unwrap()
            .read_value(&mut &bytes[..])
            .unwrap();
        let back = crate::model::metadata::avro_to_json(&back);
        assert_eq!(back["commitTime"], "20250101000000000");
        assert_eq!(back["hoodieCleanMetadata"]["version"], 2);
        let stat = &back["hoodieCommitMetadata"]["partitionToWriteStats"]["a"][0];
        assert_eq!(stat["numWrites"], 3);
        assert!(stat["numDeletes"].is_null());
        assert!(back["hoodieRollbackMetadata"].is_null());
        let bad = serde_json::json!({"commitTime": 5});
        let e = json_to_avro(&schema, &bad).unwrap_err();
        assert!(e.contains("commitTime"), "{e}");
    }
}
