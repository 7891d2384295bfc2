//! `hoodie.properties`: the table's own configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::version::TableVersion;
use super::ConfigKey;
use crate::error::{HudiError, Result};

pub const TABLE_NAME: ConfigKey = ConfigKey::new("hoodie.table.name");
pub const DATABASE_NAME: ConfigKey = ConfigKey::new("hoodie.database.name");
pub const TABLE_TYPE: ConfigKey = ConfigKey::new("hoodie.table.type").with_default("COPY_ON_WRITE");
pub const TABLE_VERSION: ConfigKey = ConfigKey::new("hoodie.table.version");
pub const TIMELINE_LAYOUT_VERSION: ConfigKey = ConfigKey::new("hoodie.timeline.layout.version");
pub const TIMELINE_PATH: ConfigKey =
    ConfigKey::new("hoodie.timeline.path").with_default("timeline");
pub const RECORD_KEY_FIELDS: ConfigKey = ConfigKey::new("hoodie.table.recordkey.fields");
pub const PARTITION_FIELDS: ConfigKey = ConfigKey::new("hoodie.table.partition.fields");
pub const PRECOMBINE_FIELD: ConfigKey = ConfigKey::new("hoodie.table.precombine.field");
pub const ORDERING_FIELDS: ConfigKey = ConfigKey::new("hoodie.table.ordering.fields");
pub const KEYGEN_CLASS: ConfigKey = ConfigKey::new("hoodie.table.keygenerator.class");
pub const KEYGEN_TYPE: ConfigKey = ConfigKey::new("hoodie.table.keygenerator.type");
pub const HIVE_STYLE: ConfigKey =
    ConfigKey::new("hoodie.datasource.write.hive_style_partitioning").with_default("false");
pub const URL_ENCODE: ConfigKey =
    ConfigKey::new("hoodie.datasource.write.partitionpath.urlencode").with_default("false");
pub const DROP_PARTITION_COLUMNS: ConfigKey =
    ConfigKey::new("hoodie.datasource.write.drop.partition.columns").with_default("false");
pub const BASE_FILE_FORMAT: ConfigKey =
    ConfigKey::new("hoodie.table.base.file.format").with_default("PARQUET");
pub const TIMELINE_TIMEZONE: ConfigKey =
    ConfigKey::new("hoodie.table.timeline.timezone").with_default("LOCAL");
pub const CREATE_SCHEMA: ConfigKey = ConfigKey::new("hoodie.table.create.schema");
pub const POPULATE_META_FIELDS: ConfigKey =
    ConfigKey::new("hoodie.populate.meta.fields").with_default("true");
pub const PAYLOAD_CLASS: ConfigKey = ConfigKey::new("hoodie.compaction.payload.class")
    .with_aliases(&["hoodie.datasource.write.payload.class"]);
pub const MERGE_MODE: ConfigKey = ConfigKey::new("hoodie.record.merge.mode");
pub const METADATA_PARTITIONS: ConfigKey = ConfigKey::new("hoodie.table.metadata.partitions");
pub const ARCHIVELOG_FOLDER: ConfigKey =
    ConfigKey::new("hoodie.archivelog.folder").with_default("archived");
pub const CHECKSUM: ConfigKey = ConfigKey::new("hoodie.table.checksum");

/// Copy-on-write or merge-on-read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableType {
    CopyOnWrite,
    MergeOnRead,
}

impl TableType {
    pub fn as_str(&self) -> &'static str {
        match self {
            TableType::CopyOnWrite => "COPY_ON_WRITE",
            TableType::MergeOnRead => "MERGE_ON_READ",
        }
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TableType {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "COPY_ON_WRITE" | "COW" => Ok(TableType::CopyOnWrite),
            "MERGE_ON_READ" | "MOR" => Ok(TableType::MergeOnRead),
            _ => Err("expected COPY_ON_WRITE or MERGE_ON_READ".into()),
        }
    }
}

/// The format of base files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseFileFormat {
    Parquet,
    Orc,
    HFile,
    Lance,
}

impl BaseFileFormat {
    pub fn extension(&self) -> &'static str {
        match self {
            BaseFileFormat::Parquet => "parquet",
            BaseFileFormat::Orc => "orc",
            BaseFileFormat::HFile => "hfile",
            BaseFileFormat::Lance => "lance",
        }
    }
}

impl FromStr for BaseFileFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "PARQUET" => Ok(BaseFileFormat::Parquet),
            "ORC" => Ok(BaseFileFormat::Orc),
            "HFILE" => Ok(BaseFileFormat::HFile),
            "LANCE" => Ok(BaseFileFormat::Lance),
            _ => Err("expected PARQUET, ORC, HFILE or LANCE".into()),
        }
    }
}

/// How records with the same key are merged (table version 8+; derived for v6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordMergeMode {
    /// The greatest ordering value wins; ties go to the later write.
    EventTimeOrdering,
    /// The later write wins.
    CommitTimeOrdering,
    /// A payload class or custom merger decides.
    Custom,
}

impl FromStr for RecordMergeMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "EVENT_TIME_ORDERING" => Ok(RecordMergeMode::EventTimeOrdering),
            "COMMIT_TIME_ORDERING" => Ok(RecordMergeMode::CommitTimeOrdering),
            "CUSTOM" => Ok(RecordMergeMode::Custom),
            _ => Err("expected EVENT_TIME_ORDERING, COMMIT_TIME_ORDERING or CUSTOM".into()),
        }
    }
}

/// The parsed `hoodie.properties`.
#[derive(Debug, Clone)]
pub struct TableConfig {
    pub name: String,
    pub database: Option<String>,
    pub table_type: TableType,
    pub version: TableVersion,
    pub timeline_layout_version: u32,
    pub timeline_path: String,
    pub record_key_fields: Vec<String>,
    pub partition_fields: Vec<String>,
    pub precombine_field: Option<String>,
    pub keygen_class: Option<String>,
    pub keygen_type: Option<String>,
    pub hive_style_partitioning: bool,
    pub urlencode_partitions: bool,
    pub drop_partition_columns: bool,
    pub base_file_format: BaseFileFormat,
    pub timeline_timezone_utc: bool,
    pub create_schema: Option<String>,
    pub populate_meta_fields: bool,
    pub payload_class: Option<String>,
    pub merge_mode: Option<RecordMergeMode>,
    pub metadata_partitions: Vec<String>,
    pub archivelog_folder: String,
    /// Every key as stored, un-escaped.
    pub raw: BTreeMap<String, String>,
}

/// CRC32 of `"<database>.<table>"`, the value of `hoodie.table.checksum`.
pub fn table_checksum(database: Option<&str>, table_name: &str) -> u64 {
    let mut h = crc32fast::Hasher::new();
    h.update(database.unwrap_or("").as_bytes());
    h.update(b".");
    h.update(table_name.as_bytes());
    u64::from(h.finalize())
}

/// The text of a `hoodie.properties` file holding `props`, with `hoodie.table.checksum` set
/// from the database and table names and the two comment lines Java's `Properties.store` writes.
pub fn properties_file_text(
    props: &BTreeMap<String, String>,
    now: &chrono::DateTime<chrono::Utc>,
) -> String {
    let mut props = props.clone();
    if let Some(name) = TABLE_NAME.lookup(&props) {
        let checksum = table_checksum(DATABASE_NAME.lookup(&props), name);
        props.insert(CHECKSUM.key.to_string(), checksum.to_string());
    }
    let comments = [
        format!("Updated at {}", now.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
        now.format("%a %b %d %H:%M:%S UTC %Y").to_string(),
    ];
    super::properties::format(&props, &comments)
}

fn list(v: Option<&str>) -> Vec<String> {
    v.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

impl TableConfig {
    /// Parses and validates the properties; `source_name` names the file in errors.
    pub fn from_properties(raw: BTreeMap<String, String>, source_name: &str) -> Result<Self> {
        let invalid = |key: &ConfigKey, value: &str, reason: String| HudiError::InvalidConfig {
            key: key.key.to_string(),
            value: value.to_string(),
            source_name: source_name.to_string(),
            reason,
        };
        let required = |key: &ConfigKey| {
            key.get(&raw)
                .map(str::to_string)
                .ok_or_else(|| HudiError::MissingConfig {
                    key: key.key.to_string(),
                    source_name: source_name.to_string(),
                })
        };
        let parse_bool = |key: &ConfigKey| -> Result<bool> {
            let v = key.get(&raw).unwrap_or("false");
            match v.trim().to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(invalid(key, v, "expected true or false".into())),
            }
        };

        let name = required(&TABLE_NAME)?;
        let version_str = required(&TABLE_VERSION)?;
        let number: u32 = version_str
            .trim()
            .parse()
            .map_err(|_| invalid(&TABLE_VERSION, &version_str, "not a number".into()))?;
        let version = TableVersion::from_number(number).ok_or_else(|| {
            HudiError::UnsupportedTableVersion {
                version: number,
                path: source_name.to_string(),
                supported: TableVersion::read_list(),
            }
        })?;
        let table_type_str = TABLE_TYPE.get(&raw).unwrap_or("COPY_ON_WRITE");
        let table_type = table_type_str
            .parse()
            .map_err(|e| invalid(&TABLE_TYPE, table_type_str, e))?;
        let default_layout = version.default_timeline_layout();
        let timeline_layout_version = match TIMELINE_LAYOUT_VERSION.get(&raw) {
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| invalid(&TIMELINE_LAYOUT_VERSION, v, "not a number".into()))?,
            None => default_layout,
        };
        let base_format_str = BASE_FILE_FORMAT.get(&raw).unwrap_or("PARQUET");
        let base_file_format = base_format_str
            .parse()
            .map_err(|e| invalid(&BASE_FILE_FORMAT, base_format_str, e))?;
        let merge_mode = match MERGE_MODE.lookup(&raw) {
            Some(v) => Some(v.parse().map_err(|e| invalid(&MERGE_MODE, v, e))?),
            None => None,
        };
        let tz = TIMELINE_TIMEZONE.get(&raw).unwrap_or("LOCAL");
        let timeline_timezone_utc = match tz.to_ascii_uppercase().as_str() {
            "UTC" => true,
            "LOCAL" => false,
            _ => {
                return Err(invalid(
                    &TIMELINE_TIMEZONE,
                    tz,
                    "expected UTC or LOCAL".into(),
                ))
            }
        };
        // v9 stores the ordering fields instead of the precombine field.
        let precombine_field = PRECOMBINE_FIELD
            .lookup(&raw)
            .or_else(|| ORDERING_FIELDS.lookup(&raw))
            .and_then(|s| s.split(',').map(str::trim).find(|s| !s.is_empty()))
            .map(String::from);
        // Custom key generators may store `field:TYPE`; only the field name matters here.
        let partition_fields = list(PARTITION_FIELDS.lookup(&raw))
            .into_iter()
            .map(|f| f.split(':').next().unwrap_or_default().to_string())
            .collect();

        Ok(TableConfig {
            database: DATABASE_NAME
                .lookup(&raw)
                .filter(|s| !s.is_empty())
                .map(String::from),
            table_type,
            version,
            timeline_layout_version,
            timeline_path: TIMELINE_PATH.get(&raw).unwrap_or("timeline").to_string(),
            record_key_fields: list(RECORD_KEY_FIELDS.lookup(&raw)),
            partition_fields,
            precombine_field,
            keygen_class: KEYGEN_CLASS.lookup(&raw).map(String::from),
            keygen_type: KEYGEN_TYPE.lookup(&raw).map(String::from),
            hive_style_partitioning: parse_bool(&HIVE_STYLE)?,
            urlencode_partitions: parse_bool(&URL_ENCODE)?,
            drop_partition_columns: parse_bool(&DROP_PARTITION_COLUMNS)?,
            base_file_format,
            timeline_timezone_utc,
            create_schema: CREATE_SCHEMA.lookup(&raw).map(String::from),
            populate_meta_fields: {
                let v = POPULATE_META_FIELDS.get(&raw).unwrap_or("true");
                match v.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(invalid(
                            &POPULATE_META_FIELDS,
                            v,
                            "expected true or false".into(),
                        ))
                    }
                }
            },
            payload_class: PAYLOAD_CLASS.lookup(&raw).map(String::from),
            merge_mode,
            metadata_partitions: list(METADATA_PARTITIONS.lookup(&raw)),
            archivelog_folder: ARCHIVELOG_FOLDER
                .get(&raw)
                .unwrap_or("archived")
                .to_string(),
            name,
            raw,
        })
    }

    /// The options an operation runs with: these properties overlaid by the call's options
    /// (the one place this rule lives).
    pub fn options_with(&self, call: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut all = self.raw.clone();
        all.extend(call.iter().map(|(k, v)| (k.clone(), v.clone())));
        all
    }

    /// The stored checksum, if any, parsed.
    pub fn stored_checksum(&self) -> Option<std::result::Result<u64, String>> {
        CHECKSUM
            .lookup(&self.raw)
            .map(|v| v.trim().parse::<u64>().map_err(|_| v.to_string()))
    }

    /// The checksum these properties should carry.
    pub fn expected_checksum(&self) -> u64 {
        table_checksum(self.database.as_deref(), &self.name)
    }

    /// Whether the timeline uses layout 2 (`.hoodie/timeline/`, `T_C.action`).
    pub fn uses_layout_v2(&self) -> bool {
        self.timeline_layout_version >= 2
    }

    /// Key generator as a short upper-case name (`SIMPLE`, `COMPLEX`, ...), from the type or class.
    pub fn keygen_name(&self) -> Option<String> {
        if let Some(t) = &self.keygen_type {
            return Some(t.to_ascii_uppercase());
        }
        let class = self.keygen_class.as_deref()?;
        let short = class.rsplit('.').next().unwrap_or(class);
        let name = match short {
            "SimpleKeyGenerator" | "SimpleAvroKeyGenerator" => "SIMPLE",
            "ComplexKeyGenerator" | "ComplexAvroKeyGenerator" => "COMPLEX",
            "NonpartitionedKeyGenerator" | "NonpartitionedAvroKeyGenerator" => "NON_PARTITION",
            "TimestampBasedKeyGenerator" | "TimestampBasedAvroKeyGenerator" => "TIMESTAMP",
            "CustomKeyGenerator" | "CustomAvroKeyGenerator" => "CUSTOM",
            "GlobalDeleteKeyGenerator" => "GLOBAL_DELETE",
            other => other,
        };
        Some(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::properties;

    #[test]
    fn checksum_matches_fixture_values() {
        assert_eq!(table_checksum(Some("default"), "v6_empty"), 1980710965);
        assert_eq!(
            table_checksum(Some("default"), "v6_complexkeygen_hivestyle"),
            281415413
        );
    }

    #[test]
    fn written_properties_carry_a_valid_checksum() {
        let mut m = BTreeMap::new();
        m.insert("hoodie.table.name".to_string(), "v6_empty".to_string());
        m.insert("hoodie.database.name".to_string(), "default".to_string());
        m.insert("hoodie.table.version".to_string(), "6".to_string());
        m.insert(
            "hoodie.table.create.schema".to_string(),
            "{\"type\":\"record\"}".to_string(),
        );
        let now = chrono::DateTime::from_timestamp(1_713_461_533, 0).unwrap();
        let text = properties_file_text(&m, &now);
        assert!(
            text.starts_with(
                "#Updated at 2024-04-18T17:32:13.000Z\n#Thu Apr 18 17:32:13 UTC 2024\n"
            ),
            "{text}"
        );
        assert!(text.contains("hoodie.table.checksum=1980710965\n"));
        assert!(text.contains("hoodie.table.create.schema={\"type\"\\:\"record\"}"));
        let c = TableConfig::from_properties(properties::parse(&text), "t").unwrap();
        assert_eq!(c.stored_checksum(), Some(Ok(c.expected_checksum())));
    }

    #[test]
    fn parses_v9_config_with_ordering_fields() {
        let text = "hoodie.table.name=t\nhoodie.table.version=9\nhoodie.table.type=MERGE_ON_READ\n\
                    hoodie.table.ordering.fields=txn_ts\nhoodie.table.partition.fields=region:SIMPLE\n\
                    hoodie.record.merge.mode=EVENT_TIME_ORDERING\nhoodie.timeline.layout.version=2\n";
        let c = TableConfig::from_properties(properties::parse(text), "test").unwrap();
        assert_eq!(c.precombine_field.as_deref(), Some("txn_ts"));
        assert_eq!(c.partition_fields, vec!["region"]);
        assert_eq!(c.table_type, TableType::MergeOnRead);
        assert!(c.uses_layout_v2());
        assert_eq!(c.merge_mode, Some(RecordMergeMode::EventTimeOrdering));
    }

    #[test]
    fn rejects_bad_values_and_versions() {
        let bad = properties::parse(
            "hoodie.table.name=t\nhoodie.table.version=6\nhoodie.table.type=FOO\n",
        );
        let err = TableConfig::from_properties(bad, "x/hoodie.properties").unwrap_err();
        assert!(err.to_string().contains("hoodie.table.type"), "{err}");
        let v5 = properties::parse("hoodie.table.name=t\nhoodie.table.version=5\n");
        let err = TableConfig::from_properties(v5, "/tmp/t/.hoodie/hoodie.properties").unwrap_err();
        assert!(
            err.to_string().contains("unsupported table version 5")
                && err.to_string().contains("supported are 6, 8, 9"),
            "{err}"
        );
        let missing = properties::parse("hoodie.table.version=6\n");
        assert!(matches!(
            TableConfig::from_properties(missing, "p"),
            Err(HudiError::MissingConfig { .. })
        ));
    }
}
