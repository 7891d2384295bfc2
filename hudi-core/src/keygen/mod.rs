//! Key generators: the record key and partition path of each record, as Hudi's
//! `Simple`, `Complex`, `Nonpartitioned`, `TimestampBased` and `Custom` generators make them.

pub mod timestamp;
pub mod values;

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};

use crate::config::table::TableConfig;
use crate::config::ConfigKey;
use crate::error::{HudiError, Result};
use timestamp::TimestampConfig;
use values::cell_string;

pub const NULL_KEY: &str = "__null__";
pub const EMPTY_KEY: &str = "__empty__";
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The write option naming partition fields with their types for the custom generator.
pub const PARTITIONPATH_FIELD_OPT: ConfigKey =
    ConfigKey::new("hoodie.datasource.write.partitionpath.field");

/// Which generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyGenKind {
    Simple,
    Complex,
    NonPartitioned,
    Timestamp,
    Custom,
}

impl KeyGenKind {
    /// The class name stored in `hoodie.table.keygenerator.class` (v6).
    pub fn class_name(&self) -> &'static str {
        match self {
            KeyGenKind::Simple => "org.apache.hudi.keygen.SimpleKeyGenerator",
            KeyGenKind::Complex => "org.apache.hudi.keygen.ComplexKeyGenerator",
            KeyGenKind::NonPartitioned => "org.apache.hudi.keygen.NonpartitionedKeyGenerator",
            KeyGenKind::Timestamp => "org.apache.hudi.keygen.TimestampBasedKeyGenerator",
            KeyGenKind::Custom => "org.apache.hudi.keygen.CustomKeyGenerator",
        }
    }

    /// Parses a short name (`simple`, `complex`, `nonpartitioned`, `timestamp`, `custom`) or a
    /// type (`NON_PARTITION`, `TIMESTAMP`, ...).
    pub fn parse(s: &str) -> Option<KeyGenKind> {
        Some(match s.to_ascii_uppercase().replace('-', "_").as_str() {
            "SIMPLE" | "SIMPLE_AVRO" => KeyGenKind::Simple,
            "COMPLEX" | "COMPLEX_AVRO" => KeyGenKind::Complex,
            "NONPARTITIONED" | "NON_PARTITION" | "NON_PARTITION_AVRO" => KeyGenKind::NonPartitioned,
            "TIMESTAMP" | "TIMESTAMP_AVRO" | "TIMESTAMPBASED" => KeyGenKind::Timestamp,
            "CUSTOM" | "CUSTOM_AVRO" => KeyGenKind::Custom,
            _ => return None,
        })
    }
}

/// One partition field of the custom generator.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PartitionPart {
    Simple(String),
    Timestamp(String),
}

/// A configured key generator.
#[derive(Debug, Clone)]
pub struct KeyGenerator {
    kind: KeyGenKind,
    record_key_fields: Vec<String>,
    partition_parts: Vec<PartitionPart>,
    hive_style: bool,
    urlencode: bool,
    timestamp: Option<TimestampConfig>,
}

/// Keys of a batch in columnar form.
#[derive(Debug, Clone)]
pub struct KeyColumns {
    /// The record key of each row.
    pub record_keys: StringArray,
    /// The partition of each row: a position in `partitions`.
    pub partition_of_row: Vec<u32>,
    /// The batch's distinct partition paths, in order of first appearance.
    pub partitions: Vec<String>,
}

/// Keys of a batch.
#[derive(Debug, Clone, Default)]
pub struct BatchKeys {
    pub record_keys: Vec<String>,
    pub partition_paths: Vec<String>,
}

fn column<'a>(batch: &'a RecordBatch, field: &str) -> Result<&'a ArrayRef> {
    batch
        .column_by_name(field)
        .ok_or_else(|| HudiError::Schema {
            context: "key generation".into(),
            reason: format!(
                "the input has no column '{field}' (columns: {})",
                batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// Characters Hive escapes in partition values (`FileUtils.escapePathName`).
fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{01}'
            ..='\u{1F}'
                | '"'
                | '#'
                | '%'
                | '\''
                | '*'
                | '/'
                | ':'
                | '='
                | '?'
                | '\\'
                | '\u{7F}'
                | '{'
                | '['
                | ']'
                | '^'
    )
}

/// Hive-style `%XX` escaping of a partition value.
pub fn escape_partition_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if needs_escape(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Fails unless a partition path stays inside the table and out of its hidden folders: no
/// empty segments, none starting with `.` (`.`, `..`, `.hoodie`), no leading `/`, no control
/// characters.
pub fn check_partition_path(path: &str, key: &str) -> Result<()> {
    if path.is_empty() {
        return Ok(());
    }
    let bad = path.starts_with('/')
        || path.chars().any(char::is_control)
        || path.split('/').any(|s| s.is_empty() || s.starts_with('.'));
    if bad {
        return Err(HudiError::Schema {
            context: format!("record key '{key}'"),
            reason: format!(
                "partition path '{}' would leave the table's base path or land in a hidden folder such as .hoodie",
                path.escape_debug()
            ),
        });
    }
    Ok(())
}

impl KeyGenerator {
    /// Builds the generator a table is configured with; `options` (write options) add
    /// `hoodie.keygen.timebased.*` and the custom generator's typed partition fields.
    pub fn from_table(config: &TableConfig, options: &BTreeMap<String, String>) -> Result<Self> {
        let name = config.keygen_name().unwrap_or_else(|| {
            if config.partition_fields.is_empty() {
                "NON_PARTITION".into()
            } else if config.record_key_fields.len() > 1 || config.partition_fields.len() > 1 {
                "COMPLEX".into()
            } else {
                "SIMPLE".into()
            }
        });
        let kind = KeyGenKind::parse(&name).ok_or_else(|| HudiError::Unsupported {
            path: config.name.clone(),
            feature: format!("key generator {name}"),
        })?;
        let all = config.options_with(options);
        let raw_parts: Vec<String> = PARTITIONPATH_FIELD_OPT
            .lookup(options)
            .or_else(|| PARTITIONPATH_FIELD_OPT.lookup(&config.raw))
            .or_else(|| {
                config
                    .raw
                    .get("hoodie.table.partition.fields")
                    .map(String::as_str)
            })
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let partition_parts = match kind {
            KeyGenKind::NonPartitioned => Vec::new(),
            KeyGenKind::Custom => raw_parts
                .iter()
                .map(|p| match p.split_once(':') {
                    Some((f, t)) if t.eq_ignore_ascii_case("SIMPLE") => {
                        Ok(PartitionPart::Simple(f.to_string()))
                    }
                    Some((f, t)) if t.eq_ignore_ascii_case("TIMESTAMP") => {
                        Ok(PartitionPart::Timestamp(f.to_string()))
                    }
                    _ => Err(HudiError::InvalidConfig {
                        key: PARTITIONPATH_FIELD_OPT.key.into(),
                        value: p.clone(),
                        source_name: config.name.clone(),
                        reason: "the custom key generator needs field:SIMPLE or field:TIMESTAMP"
                            .into(),
                    }),
                })
                .collect::<Result<Vec<_>>>()?,
            KeyGenKind::Timestamp => config
                .partition_fields
                .iter()
                .cloned()
                .map(PartitionPart::Timestamp)
                .collect(),
            _ => config
                .partition_fields
                .iter()
                .cloned()
                .map(PartitionPart::Simple)
                .collect(),
        };
        let timestamp = if partition_parts
            .iter()
            .any(|p| matches!(p, PartitionPart::Timestamp(_)))
        {
            Some(TimestampConfig::from_options(&all)?)
        } else {
            None
        };
        if config.record_key_fields.is_empty() {
            return Err(HudiError::MissingConfig {
                key: "hoodie.table.recordkey.fields".into(),
                source_name: config.name.clone(),
            });
        }
        Ok(KeyGenerator {
            kind,
            record_key_fields: config.record_key_fields.clone(),
            partition_parts,
            hive_style: config.hive_style_partitioning,
            urlencode: config.urlencode_partitions,
            timestamp,
        })
    }

    pub fn kind(&self) -> KeyGenKind {
        self.kind
    }

    /// Record keys: a bare value for a single field (simple, non-partitioned, timestamp,
    /// custom), `f1:v1,f2:v2` otherwise; the complex generator writes `f:v` even for one field,
    /// as Hudi 0.14.0 does (and again after HUDI-9666).
    pub fn record_keys(&self, batch: &RecordBatch) -> Result<Vec<String>> {
        let cols: Vec<&ArrayRef> = self
            .record_key_fields
            .iter()
            .map(|f| column(batch, f))
            .collect::<Result<_>>()?;
        let bare = self.record_key_fields.len() == 1 && self.kind != KeyGenKind::Complex;
        let mut out = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            if bare {
                let field = &self.record_key_fields[0];
                match cell_string(cols[0], row) {
                    Some(v) if !v.is_empty() => out.push(v),
                    _ => {
                        return Err(HudiError::Schema {
                            context: format!("record key field '{field}', row {row}"),
                            reason: "a record key cannot be null or empty".into(),
                        })
                    }
                }
                continue;
            }
            let mut key = String::new();
            let mut all_null = true;
            for (i, (f, c)) in self.record_key_fields.iter().zip(&cols).enumerate() {
                if i > 0 {
                    key.push(',');
                }
                key.push_str(f);
                key.push(':');
                match cell_string(c, row) {
                    None => key.push_str(NULL_KEY),
                    Some(v) if v.is_empty() => key.push_str(EMPTY_KEY),
                    Some(v) => {
                        all_null = false;
                        key.push_str(&v);
                    }
                }
            }
            if all_null {
                return Err(HudiError::Schema {
                    context: format!("record key fields {:?}, row {row}", self.record_key_fields),
                    reason: "every record key field is null or empty".into(),
                });
            }
            out.push(key);
        }
        Ok(out)
    }

    /// Each partition part with the batch's column for it.
    fn partition_columns<'b>(
        &self,
        batch: &'b RecordBatch,
    ) -> Result<Vec<(&PartitionPart, &'b ArrayRef)>> {
        self.partition_parts
            .iter()
            .map(|p| {
                let f = match p {
                    PartitionPart::Simple(f) | PartitionPart::Timestamp(f) => f,
                };
                column(batch, f).map(|c| (p, c))
            })
            .collect()
    }

    /// Partition paths (`""` for non-partitioned tables), checked to stay inside the table.
    pub fn partition_paths(
        &self,
        batch: &RecordBatch,
        record_keys: &[String],
    ) -> Result<Vec<String>> {
        if self.partition_parts.is_empty() {
            return Ok(vec![String::new(); batch.num_rows()]);
        }
        let cols = self.partition_columns(batch)?;
        let mut out = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let key = record_keys.get(row).map(String::as_str).unwrap_or("");
            out.push(self.partition_path(&cols, row, key)?);
        }
        Ok(out)
    }

    /// The partition path of one row, checked to stay inside the table (`key` names the row
    /// in the error).
    fn partition_path(
        &self,
        cols: &[(&PartitionPart, &ArrayRef)],
        row: usize,
        key: &str,
    ) -> Result<String> {
        let mut path = String::new();
        for (i, (part, col)) in cols.iter().enumerate() {
            if i > 0 {
                path.push('/');
            }
            let (field, value) = match part {
                PartitionPart::Simple(f) => (f, cell_string(col, row)),
                PartitionPart::Timestamp(f) => {
                    let ts = self
                        .timestamp
                        .as_ref()
                        .ok_or_else(|| HudiError::MissingConfig {
                            key: timestamp::TIMESTAMP_TYPE.key.into(),
                            source_name: "key generator options".into(),
                        })?;
                    (f, Some(ts.format_cell(col, row, f)?))
                }
            };
            let value = match value {
                Some(v) if !v.is_empty() => {
                    if self.urlencode {
                        escape_partition_value(&v)
                    } else {
                        v
                    }
                }
                _ => DEFAULT_PARTITION.to_string(),
            };
            if self.hive_style {
                path.push_str(field);
                path.push('=');
            }
            path.push_str(&value);
        }
        check_partition_path(&path, key)?;
        Ok(path)
    }

    /// Why each row cannot be keyed (a null or empty record key, a partition path that would
    /// leave the table, a missing field), or `None` for rows that can: what a write with a
    /// bad-records sink sets aside. One pass when every row is good.
    pub fn row_problems(&self, batch: &RecordBatch) -> Vec<Option<String>> {
        if self.keys(batch).is_ok() {
            return vec![None; batch.num_rows()];
        }
        (0..batch.num_rows())
            .map(|i| self.keys(&batch.slice(i, 1)).err().map(|e| e.to_string()))
            .collect()
    }

    /// Record keys and partition paths of a batch in columnar form (see [`KeyColumns`]): the
    /// same keys and paths as [`keys`](Self::keys), with no allocation per row where the key
    /// is a string column and the partition one simple field.
    pub fn key_columns(&self, batch: &RecordBatch) -> Result<KeyColumns> {
        let record_keys = match self.string_key_column(batch)? {
            Some(keys) => keys,
            None => StringArray::from(self.record_keys(batch)?),
        };
        let mut out = KeyColumns {
            record_keys,
            partition_of_row: Vec::with_capacity(batch.num_rows()),
            partitions: Vec::new(),
        };
        if self.partition_parts.is_empty() {
            if batch.num_rows() > 0 {
                out.partitions.push(String::new());
                out.partition_of_row.resize(batch.num_rows(), 0);
            }
            return Ok(out);
        }
        let cols = self.partition_columns(batch)?;
        // A path depends on the row's partition values alone: one simple string field is
        // looked up by its value, anything else by the path itself.
        let single = match cols.as_slice() {
            [(PartitionPart::Simple(_), c)] => c.as_string_opt::<i32>(),
            _ => None,
        };
        let mut by_value: HashMap<Option<&str>, u32, ahash::RandomState> = HashMap::default();
        let mut by_path: HashMap<String, u32, ahash::RandomState> = HashMap::default();
        for row in 0..batch.num_rows() {
            let value = single.map(|c| c.is_valid(row).then(|| c.value(row)));
            if let Some(id) = value.and_then(|v| by_value.get(&v)) {
                out.partition_of_row.push(*id);
                continue;
            }
            let path = self.partition_path(&cols, row, out.record_keys.value(row))?;
            let next = out.partitions.len() as u32;
            let id = *by_path.entry(path).or_insert_with_key(|p| {
                out.partitions.push(p.clone());
                next
            });
            if let Some(v) = value {
                by_value.insert(v, id);
            }
            out.partition_of_row.push(id);
        }
        Ok(out)
    }

    /// The input's key column itself, when a single string field is the bare record key
    /// (after the same checks as [`record_keys`](Self::record_keys)); `None` otherwise.
    fn string_key_column(&self, batch: &RecordBatch) -> Result<Option<StringArray>> {
        let bare = self.record_key_fields.len() == 1 && self.kind != KeyGenKind::Complex;
        if !bare {
            return Ok(None);
        }
        let field = &self.record_key_fields[0];
        let Some(keys) = column(batch, field)?.as_string_opt::<i32>() else {
            return Ok(None);
        };
        let offsets = keys.value_offsets();
        let bad = (0..keys.len()).find(|&i| keys.is_null(i) || offsets[i] == offsets[i + 1]);
        if let Some(row) = bad {
            return Err(HudiError::Schema {
                context: format!("record key field '{field}', row {row}"),
                reason: "a record key cannot be null or empty".into(),
            });
        }
        Ok(Some(keys.clone()))
    }

    /// Record keys and partition paths of a batch.
    pub fn keys(&self, batch: &RecordBatch) -> Result<BatchKeys> {
        let record_keys = self.record_keys(batch)?;
        let partition_paths = self.partition_paths(batch, &record_keys)?;
        Ok(BatchKeys {
            record_keys,
            partition_paths,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::properties;
    use arrow::array::{Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn cfg(extra: &str) -> TableConfig {
        let text = format!("hoodie.table.name=t\nhoodie.table.version=6\n{extra}");
        TableConfig::from_properties(properties::parse(&text), "t").unwrap()
    }

    fn batch() -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int32, true),
                Field::new("name", DataType::Utf8, true),
                Field::new("p", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])),
                Arc::new(StringArray::from(vec![
                    Some("Alice"),
                    Some("Bob"),
                    Some(""),
                ])),
                Arc::new(StringArray::from(vec![Some("a:b/c"), None, Some("x")])),
            ],
        )
        .unwrap()
    }

    #[test]
    fn row_problems_name_each_unkeyable_row() {
        let g = KeyGenerator::from_table(
            &cfg("hoodie.table.recordkey.fields=id\nhoodie.table.partition.fields=p\nhoodie.table.keygenerator.class=org.apache.hudi.keygen.SimpleKeyGenerator"),
            &BTreeMap::new(),
        )
        .unwrap();
        let p = g.row_problems(&batch());
        assert!(p[0].is_none() && p[2].is_none(), "{p:?}");
        assert!(p[1].as_deref().unwrap().contains("null"), "{p:?}");
        let unsafe_part = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int32, true),
                Field::new("p", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int32Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec!["ok", "../../etc"])),
            ],
        )
        .unwrap();
        let p = g.row_problems(&unsafe_part);
        assert!(p[0].is_none());
        assert!(p[1].as_deref().unwrap().contains("base path"), "{p:?}");
    }

    #[test]
    fn columnar_keys_equal_the_row_keys() {
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int32, true),
                Field::new("name", DataType::Utf8, true),
                Field::new("p", DataType::Utf8, true),
                Field::new("q", DataType::Int32, true),
            ])),
            vec![
                Arc::new(Int32Array::from(vec![1, 2, 3, 4, 5])),
                Arc::new(StringArray::from(vec![
                    "Alice", "Bob", "Carol", "Dan", "Eve",
                ])),
                Arc::new(StringArray::from(vec![
                    Some("a:b/c"),
                    None,
                    Some("x"),
                    Some(""),
                    Some("x"),
                ])),
                Arc::new(Int32Array::from(vec![
                    Some(7),
                    Some(7),
                    None,
                    Some(8),
                    Some(7),
                ])),
            ],
        )
        .unwrap();
        let configs = [
            "hoodie.table.recordkey.fields=name\nhoodie.table.partition.fields=p",
            "hoodie.table.recordkey.fields=name\nhoodie.table.partition.fields=p\nhoodie.datasource.write.hive_style_partitioning=true\nhoodie.datasource.write.partitionpath.urlencode=true",
            "hoodie.table.recordkey.fields=id\nhoodie.table.partition.fields=q",
            "hoodie.table.recordkey.fields=id,name\nhoodie.table.partition.fields=p,q",
            "hoodie.table.recordkey.fields=name\nhoodie.table.partition.fields=p\nhoodie.table.keygenerator.class=org.apache.hudi.keygen.ComplexKeyGenerator",
            "hoodie.table.recordkey.fields=name",
        ];
        for c in configs {
            let g = KeyGenerator::from_table(&cfg(c), &BTreeMap::new()).unwrap();
            let rows = g.keys(&b).unwrap();
            let cols = g.key_columns(&b).unwrap();
            let keys: Vec<&str> = cols.record_keys.iter().map(Option::unwrap).collect();
            assert_eq!(keys, rows.record_keys, "{c}");
            let paths: Vec<&str> = cols
                .partition_of_row
                .iter()
                .map(|p| cols.partitions[*p as usize].as_str())
                .collect();
            assert_eq!(paths, rows.partition_paths, "{c}");
            // No rows, no partitions (a delete_partition of no rows names none).
            assert!(
                g.key_columns(&b.slice(0, 0)).unwrap().partitions.is_empty(),
                "{c}"
            );
            let mut distinct = rows.partition_paths.clone();
            distinct.dedup();
            assert!(
                cols.partitions.len() <= distinct.len(),
                "{c}: {:?}",
                cols.partitions
            );
        }
        // The same refusals, naming the row.
        let g = KeyGenerator::from_table(
            &cfg("hoodie.table.recordkey.fields=p\nhoodie.table.partition.fields=name"),
            &BTreeMap::new(),
        )
        .unwrap();
        let e = g.key_columns(&b).unwrap_err().to_string();
        assert_eq!(e, g.keys(&b).unwrap_err().to_string());
        assert!(e.contains("row 1"), "{e}");
    }

    #[test]
    fn complex_keys_with_null_and_empty() {
        let g = KeyGenerator::from_table(
            &cfg("hoodie.table.recordkey.fields=id,name\nhoodie.table.partition.fields=p\nhoodie.table.keygenerator.class=org.apache.hudi.keygen.ComplexKeyGenerator\nhoodie.datasource.write.hive_style_partitioning=true\nhoodie.datasource.write.partitionpath.urlencode=true\n"),
            &BTreeMap::new(),
        )
        .unwrap();
        let k = g.keys(&batch()).unwrap();
        assert_eq!(
            k.record_keys,
            vec![
                "id:1,name:Alice",
                "id:__null__,name:Bob",
                "id:3,name:__empty__"
            ]
        );
        assert_eq!(
            k.partition_paths,
            vec!["p=a%3Ab%2Fc", "p=__HIVE_DEFAULT_PARTITION__", "p=x"]
        );
    }

    #[test]
    fn simple_keys_refuse_nulls_and_unsafe_paths() {
        let g = KeyGenerator::from_table(
            &cfg("hoodie.table.recordkey.fields=id\nhoodie.table.partition.fields=p\nhoodie.table.keygenerator.class=org.apache.hudi.keygen.SimpleKeyGenerator\n"),
            &BTreeMap::new(),
        )
        .unwrap();
        let err = g.record_keys(&batch()).unwrap_err();
        assert!(err.to_string().contains("'id', row 1"), "{err}");
        let evil = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int32, true),
                Field::new("p", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int32Array::from(vec![7])),
                Arc::new(StringArray::from(vec!["../../etc"])),
            ],
        )
        .unwrap();
        let err = g.keys(&evil).unwrap_err();
        assert!(
            err.to_string().contains("leave the table") && err.to_string().contains("'7'"),
            "{err}"
        );
        for bad in [
            "/abs",
            "a/./b",
            "x\u{7}",
            "a//b",
            ".hoodie",
            "x/.hoodie/metadata",
            ".temp",
        ] {
            assert!(check_partition_path(bad, "k").is_err(), "{bad}");
        }
    }

    #[test]
    fn complex_single_field_uses_the_0_14_0_form() {
        let g = KeyGenerator::from_table(
            &cfg("hoodie.table.recordkey.fields=id\nhoodie.table.keygenerator.class=org.apache.hudi.keygen.ComplexKeyGenerator\n"),
            &BTreeMap::new(),
        )
        .unwrap();
        let b = batch().slice(0, 1);
        assert_eq!(g.record_keys(&b).unwrap(), vec!["id:1"]);
        let g =
            KeyGenerator::from_table(&cfg("hoodie.table.recordkey.fields=id\n"), &BTreeMap::new())
                .unwrap();
        assert_eq!(g.kind(), KeyGenKind::NonPartitioned);
        assert_eq!(g.keys(&b).unwrap().record_keys, vec!["1"]);
        assert_eq!(g.keys(&b).unwrap().partition_paths, vec![""]);
    }
}
