//! Creating tables (table version 6, timeline layout 1).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::Schema;
use bytes::Bytes;

use super::Table;
use crate::config::table::{self, properties_file_text, TableConfig, TableType};
use crate::error::{HudiError, Result};
use crate::keygen::KeyGenKind;
use crate::storage::{Storage, PROPERTIES_FILE};
use crate::timeline::transition::{ClockRef, SystemClock};
use crate::write::config::IndexType;
use crate::write::schema::{avro_schema, stored_schema};

/// A table being configured; create it with [`TableBuilder::create`].
#[derive(Debug, Clone)]
pub struct TableBuilder {
    location: String,
    storage_options: std::collections::HashMap<String, String>,
    name: Option<String>,
    database: Option<String>,
    table_type: TableType,
    record_key_fields: Vec<String>,
    partition_fields: Vec<String>,
    precombine_field: Option<String>,
    keygen: Option<KeyGenKind>,
    hive_style: bool,
    urlencode: bool,
    index: Option<IndexType>,
    schema: Option<Arc<Schema>>,
    options: BTreeMap<String, String>,
    clock: ClockRef,
}

impl TableBuilder {
    pub fn new(location: impl Into<String>) -> Self {
        TableBuilder {
            location: location.into(),
            storage_options: Default::default(),
            name: None,
            database: None,
            table_type: TableType::CopyOnWrite,
            record_key_fields: Vec::new(),
            partition_fields: Vec::new(),
            precombine_field: None,
            keygen: None,
            hive_style: false,
            urlencode: false,
            index: None,
            schema: None,
            options: BTreeMap::new(),
            clock: Arc::new(SystemClock),
        }
    }

    pub fn with_storage_options(mut self, o: std::collections::HashMap<String, String>) -> Self {
        self.storage_options = o;
        self
    }
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    pub fn with_database(mut self, db: impl Into<String>) -> Self {
        self.database = Some(db.into());
        self
    }
    pub fn with_table_type(mut self, t: TableType) -> Self {
        self.table_type = t;
        self
    }
    pub fn with_record_key_fields(mut self, f: Vec<String>) -> Self {
        self.record_key_fields = f;
        self
    }
    pub fn with_partition_fields(mut self, f: Vec<String>) -> Self {
        self.partition_fields = f;
        self
    }
    pub fn with_precombine_field(mut self, f: impl Into<String>) -> Self {
        self.precombine_field = Some(f.into());
        self
    }
    pub fn with_key_generator(mut self, k: KeyGenKind) -> Self {
        self.keygen = Some(k);
        self
    }
    pub fn with_hive_style_partitioning(mut self, on: bool) -> Self {
        self.hive_style = on;
        self
    }
    pub fn with_urlencode_partitions(mut self, on: bool) -> Self {
        self.urlencode = on;
        self
    }
    pub fn with_index(mut self, i: IndexType) -> Self {
        self.index = Some(i);
        self
    }
    /// The table's initial schema (`hoodie.table.create.schema`); otherwise the first write's.
    pub fn with_schema(mut self, s: Arc<Schema>) -> Self {
        self.schema = Some(s);
        self
    }
    /// Any `hoodie.*` option to store in `hoodie.properties`.
    pub fn with_option(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.options.insert(k.into(), v.into());
        self
    }
    pub fn with_clock(mut self, clock: ClockRef) -> Self {
        self.clock = clock;
        self
    }

    fn properties(&self, name: &str) -> Result<BTreeMap<String, String>> {
        if self.record_key_fields.is_empty() {
            return Err(HudiError::MissingConfig {
                key: "hoodie.table.recordkey.fields".into(),
                source_name: format!("create of '{}'", self.location),
            });
        }
        let keygen = self.keygen.unwrap_or(if self.partition_fields.is_empty() {
            KeyGenKind::NonPartitioned
        } else if self.record_key_fields.len() > 1 || self.partition_fields.len() > 1 {
            KeyGenKind::Complex
        } else {
            KeyGenKind::Simple
        });
        if keygen == KeyGenKind::NonPartitioned && !self.partition_fields.is_empty() {
            return Err(HudiError::InvalidConfig {
                key: "hoodie.table.partition.fields".into(),
                value: self.partition_fields.join(","),
                source_name: format!("create of '{}'", self.location),
                reason: "a non-partitioned table takes no partition fields".into(),
            });
        }
        let mut p = BTreeMap::new();
        let mut set = |k: &str, v: String| {
            p.insert(k.to_string(), v);
        };
        set("hoodie.table.name", name.to_string());
        set("hoodie.table.type", self.table_type.as_str().to_string());
        // New tables are created at the version this library writes.
        let version = crate::config::version::TableVersion::Six;
        set(table::TABLE_VERSION.key, version.number().to_string());
        set(
            table::TIMELINE_LAYOUT_VERSION.key,
            version.default_timeline_layout().to_string(),
        );
        set(
            "hoodie.table.recordkey.fields",
            self.record_key_fields.join(","),
        );
        if !self.partition_fields.is_empty() {
            // Table version 6 stores field names only (Java keeps `field:TYPE` from v8 on);
            // the custom generator's typed list is kept as its write option.
            let fields = self
                .partition_fields
                .iter()
                .map(|f| f.split(':').next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",");
            if keygen == KeyGenKind::Custom {
                set(
                    "hoodie.datasource.write.partitionpath.field",
                    self.partition_fields.join(","),
                );
            }
            set("hoodie.table.partition.fields", fields);
        }
        if let Some(f) = &self.precombine_field {
            set("hoodie.table.precombine.field", f.clone());
        }
        set(
            "hoodie.table.keygenerator.class",
            keygen.class_name().to_string(),
        );
        set(
            "hoodie.datasource.write.hive_style_partitioning",
            self.hive_style.to_string(),
        );
        set(
            "hoodie.datasource.write.partitionpath.urlencode",
            self.urlencode.to_string(),
        );
        set(
            "hoodie.datasource.write.drop.partition.columns",
            "false".into(),
        );
        set("hoodie.archivelog.folder", "archived".into());
        set("hoodie.table.timeline.timezone", "UTC".into());
        set(
            "hoodie.compaction.payload.class",
            "org.apache.hudi.common.model.OverwriteWithLatestAvroPayload".into(),
        );
        if let Some(db) = &self.database {
            set("hoodie.database.name", db.clone());
        }
        if let Some(i) = self.index {
            // Under our own key: Java reads `hoodie.index.type` from table properties as a
            // write-config default, and its procedures then fail on bucket tables (they pass
            // no record key field to HoodieIndexConfig's bucket validation).
            set(crate::write::config::TABLE_INDEX_TYPE, i.name().to_string());
        }
        if let Some(s) = &self.schema {
            set(
                "hoodie.table.create.schema",
                avro_schema(&*stored_schema(s)?, name, false, false)?,
            );
        }
        for (k, v) in &self.options {
            set(k, v.clone());
        }
        Ok(p)
    }

    /// Fails unless `input` (the first write's schema) has the columns the new table is keyed,
    /// partitioned and ordered by (a custom key generator's fields are `name:TYPE`): a table
    /// keyed on a column that does not exist would be made, and the write then fail.
    pub fn check_input(&self, input: &Schema) -> Result<()> {
        let partition_fields = self
            .partition_fields
            .iter()
            .map(|p| p.split(':').next().unwrap_or(p).to_string());
        let fields = self
            .record_key_fields
            .iter()
            .cloned()
            .chain(partition_fields)
            .chain(self.precombine_field.iter().cloned());
        for f in fields {
            if input.field_with_name(&f).is_err() {
                let columns: Vec<&str> = input.fields().iter().map(|c| c.name().as_str()).collect();
                return Err(HudiError::Schema {
                    context: format!("the first write into '{}'", self.location),
                    reason: format!(
                        "the input has no column '{f}' (columns: {}); no table was created",
                        columns.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// Create-on-first-write, the one rule the CLI and the Python package share: the table at
    /// the location if there is one (the builder's settings then do not apply), else a new
    /// table for `input`, once [`TableBuilder::check_input`] accepts it. Without record key
    /// fields there is nothing to create: `NotATable`.
    pub async fn open_or_create(self, input: &Schema) -> Result<Table> {
        let storage = Storage::open(&self.location, &self.storage_options)?;
        match Table::open_storage(storage).await {
            Err(HudiError::NotATable { .. }) if !self.record_key_fields.is_empty() => {
                self.check_input(input)?;
                self.create().await
            }
            other => other,
        }
    }

    /// The table name: the one given, else the location's last segment.
    fn table_name(&self) -> Result<String> {
        match &self.name {
            Some(n) => Ok(n.clone()),
            None => self
                .location
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .map(String::from)
                .ok_or_else(|| HudiError::MissingConfig {
                    key: "hoodie.table.name".into(),
                    source_name: format!("create of '{}'", self.location),
                }),
        }
    }

    /// The configuration the table would have, without creating it (a writer that screens its
    /// input before the first commit keys it with this).
    pub fn table_config(&self) -> Result<TableConfig> {
        let props = self.properties(&self.table_name()?)?;
        TableConfig::from_properties(props, &format!("create of '{}'", self.location))
    }

    /// Creates the table; fails if one exists at the location.
    pub async fn create(self) -> Result<Table> {
        let storage = Storage::open(&self.location, &self.storage_options)?;
        let name = self.table_name()?;
        let props = self.properties(&name)?;
        // Validate what would be written before writing it.
        TableConfig::from_properties(props.clone(), &storage.display(PROPERTIES_FILE))?;
        let text = properties_file_text(&props, &self.clock.now());
        storage
            .put_if_absent(PROPERTIES_FILE, Bytes::from(text))
            .await
            .map_err(|e| match e {
                HudiError::AlreadyExists { path } => HudiError::InvalidLocation {
                    location: path,
                    reason: "a Hudi table already exists here".into(),
                },
                e => e,
            })?;
        if let Ok(p) = std::path::absolute(storage.location()) {
            // Local tables get the empty folders Java creates; object stores need none.
            if !self.location.contains("://") || self.location.starts_with("file://") {
                for d in [
                    ".hoodie/.aux/.bootstrap/.partitions",
                    ".hoodie/.aux/.bootstrap/.fileids",
                    ".hoodie/.schema",
                    ".hoodie/.temp",
                    ".hoodie/archived",
                ] {
                    std::fs::create_dir_all(p.join(d)).map_err(|source| HudiError::Io {
                        path: p.join(d),
                        source,
                    })?;
                }
            }
        }
        Table::open_storage(storage).await
    }
}
