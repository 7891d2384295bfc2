//! The one table-spec helper: what a test table is (type, keys, partitioning, ordering, index,
//! options), how our builder and Spark's datasource are told so, and, independently of our
//! key generators, which record key and partition path a row gets.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::datatypes::{DataType, SchemaRef};
use hudi_core::config::table::TableType;
use hudi_core::keygen::KeyGenKind;
use hudi_core::write::config::IndexType;
use hudi_core::{Table, TableBuilder, WriteOperation};
use serde_json::Value;

use super::data::{key_string, Row};

#[derive(Debug, Clone)]
pub struct TableSpec {
    pub name: String,
    pub mor: bool,
    /// The data columns (no meta columns).
    pub schema: SchemaRef,
    pub record_key: Vec<String>,
    /// Partition fields; for the custom key generator `field:SIMPLE` / `field:TIMESTAMP`.
    pub partition_by: Vec<String>,
    pub keygen: KeyGenKind,
    pub hive_style: bool,
    pub precombine: Option<String>,
    pub index: IndexType,
    /// Options both writers get (and our builder stores): timestamp formats, bucket count, ...
    pub options: BTreeMap<String, String>,
}

impl TableSpec {
    /// A copy-on-write table keyed by `key`, not partitioned, Bloom index, no precombine field.
    pub fn new(name: &str, schema: SchemaRef, key: &[&str]) -> Self {
        TableSpec {
            name: name.to_string(),
            mor: false,
            schema,
            record_key: key.iter().map(|s| s.to_string()).collect(),
            partition_by: Vec::new(),
            keygen: if key.len() > 1 {
                KeyGenKind::Complex
            } else {
                KeyGenKind::NonPartitioned
            },
            hive_style: false,
            precombine: None,
            index: IndexType::Bloom,
            options: BTreeMap::new(),
        }
    }

    pub fn mor(mut self) -> Self {
        self.mor = true;
        self
    }

    pub fn partitioned(mut self, fields: &[&str], keygen: KeyGenKind) -> Self {
        self.partition_by = fields.iter().map(|s| s.to_string()).collect();
        self.keygen = keygen;
        self
    }

    pub fn hive_style(mut self) -> Self {
        self.hive_style = true;
        self
    }

    pub fn precombine(mut self, field: &str) -> Self {
        self.precombine = Some(field.to_string());
        self
    }

    pub fn index(mut self, index: IndexType) -> Self {
        self.index = index;
        self
    }

    pub fn buckets(self, n: u32) -> Self {
        self.index(IndexType::Bucket)
            .option("hoodie.bucket.index.num.buckets", &n.to_string())
    }

    pub fn option(mut self, k: &str, v: &str) -> Self {
        self.options.insert(k.to_string(), v.to_string());
        self
    }

    /// Partitioned by the epoch-millisecond column `field`, formatted `yyyy/MM/dd`.
    pub fn timestamp_partitioned(self, field: &str) -> Self {
        self.partitioned(&[field], KeyGenKind::Timestamp)
            .option(
                "hoodie.keygen.timebased.timestamp.type",
                "EPOCHMILLISECONDS",
            )
            .option("hoodie.keygen.timebased.output.dateformat", "yyyy/MM/dd")
    }

    pub fn global(&self) -> bool {
        self.index.is_global()
    }

    /// Creates the table with our builder.
    pub async fn create(&self, path: &Path) -> Table {
        let mut b = TableBuilder::new(path.to_string_lossy())
            .with_name(&self.name)
            .with_database("default")
            .with_table_type(if self.mor {
                TableType::MergeOnRead
            } else {
                TableType::CopyOnWrite
            })
            .with_record_key_fields(self.record_key.clone())
            .with_partition_fields(self.partition_by.clone())
            .with_key_generator(self.keygen)
            .with_hive_style_partitioning(self.hive_style)
            .with_index(self.index);
        if let Some(p) = &self.precombine {
            b = b.with_precombine_field(p);
        }
        for (k, v) in &self.options {
            b = b.with_option(k, v);
        }
        b.create()
            .await
            .unwrap_or_else(|e| panic!("create {}: {e}", self.name))
    }

    /// The Spark datasource options of a write with `op` into this table.
    pub fn spark_options(&self, op: WriteOperation) -> BTreeMap<String, String> {
        let mut o = BTreeMap::new();
        let mut set = |k: &str, v: &str| {
            o.insert(k.to_string(), v.to_string());
        };
        set("hoodie.table.name", &self.name);
        set("hoodie.database.name", "default");
        set(
            "hoodie.datasource.write.table.type",
            if self.mor {
                "MERGE_ON_READ"
            } else {
                "COPY_ON_WRITE"
            },
        );
        set(
            "hoodie.datasource.write.operation",
            &op.token().to_ascii_lowercase(),
        );
        set(
            "hoodie.datasource.write.recordkey.field",
            &self.record_key.join(","),
        );
        set(
            "hoodie.datasource.write.partitionpath.field",
            &self.partition_by.join(","),
        );
        set(
            "hoodie.datasource.write.keygenerator.class",
            self.keygen.class_name(),
        );
        set(
            "hoodie.datasource.write.hive_style_partitioning",
            &self.hive_style.to_string(),
        );
        if let Some(p) = &self.precombine {
            set("hoodie.datasource.write.precombine.field", p);
        }
        set("hoodie.index.type", self.index.name());
        for (k, v) in &self.options {
            set(k, v);
        }
        o
    }

    /// The record key Hudi gives a row: the value of a single key field, else `f:v,...`
    /// (`__null__` and `__empty__` for null and empty values).
    pub fn record_key(&self, r: &Row) -> String {
        let val = |f: &str| r.get(f).and_then(key_string);
        if self.record_key.len() == 1 && self.keygen != KeyGenKind::Complex {
            return val(&self.record_key[0]).unwrap_or_else(|| panic!("row without a key: {r:?}"));
        }
        self.record_key
            .iter()
            .map(|f| {
                let v = match val(f) {
                    None => "__null__".to_string(),
                    Some(s) if s.is_empty() => "__empty__".to_string(),
                    Some(s) => s,
                };
                format!("{f}:{v}")
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The partition path Hudi gives a row.
    pub fn partition_path(&self, r: &Row) -> String {
        if self.keygen == KeyGenKind::NonPartitioned {
            return String::new();
        }
        self.partition_by
            .iter()
            .map(|spec| {
                let (field, kind) = spec.split_once(':').unwrap_or((spec, "SIMPLE"));
                let timestamp = self.keygen == KeyGenKind::Timestamp || kind == "TIMESTAMP";
                let v = if timestamp {
                    self.timestamp_partition(r.get(field).unwrap_or(&Value::Null))
                } else {
                    r.get(field)
                        .and_then(key_string)
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "__HIVE_DEFAULT_PARTITION__".into())
                };
                if self.hive_style {
                    format!("{field}={v}")
                } else {
                    v
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The fields partitioned by a timestamp format.
    pub fn timestamp_partition_fields(&self) -> Vec<String> {
        self.partition_by
            .iter()
            .filter_map(|spec| {
                let (field, kind) = spec.split_once(':').unwrap_or((spec, "SIMPLE"));
                (self.keygen == KeyGenKind::Timestamp || kind == "TIMESTAMP")
                    .then(|| field.to_string())
            })
            .collect()
    }

    /// The formatted partition value of a timestamp (epoch milliseconds).
    pub fn timestamp_partition(&self, v: &Value) -> String {
        let millis = v.as_i64().expect("epoch millis of a timestamp partition");
        let java = self
            .options
            .get("hoodie.keygen.timebased.output.dateformat")
            .map(String::as_str)
            .unwrap_or("yyyy/MM/dd");
        let fmt = java
            .replace("yyyy", "%Y")
            .replace("MM", "%m")
            .replace("dd", "%d")
            .replace("HH", "%H");
        chrono::DateTime::from_timestamp_millis(millis)
            .expect("time")
            .format(&fmt)
            .to_string()
    }

    /// The type of the precombine column, if any.
    pub fn ordering_type(&self) -> Option<DataType> {
        let p = self.precombine.as_ref()?;
        Some(
            self.schema
                .field_with_name(p)
                .expect("precombine column")
                .data_type()
                .clone(),
        )
    }
}
