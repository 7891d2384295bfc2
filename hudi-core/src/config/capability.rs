//! What of a table this library maintains. A table may have parts other writers keep up to
//! date (a metadata table, change-data logs, a bootstrap index, ...): a write or service that
//! changed files without updating them would leave Apache Hudi's readers with a stale view,
//! which is data loss even when our own reader looks fine. So every mutation first lists the
//! parts of the table it would not maintain ([`unmaintained_parts`]) and refuses when there is
//! any, naming each ([`crate::HudiError::Unmaintained`]). Reads are never refused for them.
//!
//! The properties are checked against every key of Apache Hudi's `HoodieTableConfig`: each is
//! either one this library implements, or refused when it is set to a value that asks for
//! something this library does not do. An unknown `hoodie.table.*` key is refused too: it is a
//! table property of a Hudi release newer than what this library knows.

use std::fmt;

use super::table::{BaseFileFormat, TableConfig};

/// What a mutation changes, which decides the parts it must understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changes {
    /// Records (writes, compaction, deduplication): keys and merge rules matter.
    Records,
    /// Only files and instants (clean, rollback, savepoints, restore, archival, repairs,
    /// properties): records are moved or dropped whole, never merged or keyed.
    Files,
}

/// A part of a table this library does not maintain.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmaintained {
    /// A table version this library reads but does not write.
    TableVersion(super::version::TableVersion),
    /// A metadata table (`hoodie.table.metadata.partitions`, or partitions being built);
    /// `deletable` when turning it off would make the table one this library writes.
    MetadataTable {
        partitions: Vec<String>,
        deletable: bool,
    },
    /// Change data capture logs (`hoodie.table.cdc.enabled=true`).
    ChangeDataCapture,
    /// A bootstrapped table: base files that point into another path.
    Bootstrap { base_path: String },
    /// Base files in another format than Parquet.
    BaseFileFormat(BaseFileFormat),
    /// Records without meta fields (`hoodie.populate.meta.fields=false`): keys are not stored.
    VirtualKeys,
    /// The consistent-hashing bucket index (`.hoodie/.bucket_index/consistent_hashing_metadata`).
    ConsistentHashingIndex,
    /// Secondary or expression indexes defined on the table.
    Indexes { key: String, value: String },
    /// Records merged by a rule this library does not implement (a custom payload or merger).
    MergeRule(String),
    /// A table property set to a value this library does not implement.
    Property {
        key: String,
        value: String,
        reason: &'static str,
    },
    /// A table property this library does not know (`hoodie.table.*` of a newer release).
    UnknownProperty { key: String, value: String },
}

impl fmt::Display for Unmaintained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmaintained::TableVersion(v) => write!(
                f,
                "table version {v} (this library writes table version {})",
                super::version::TableVersion::written_list()
            ),
            Unmaintained::MetadataTable {
                partitions,
                deletable,
            } => {
                let p = partitions.join(",");
                write!(f, "a metadata table (partitions {p}) that this library does not update yet")?;
                if *deletable {
                    f.write_str(
                        "; to write here, stop the table's other writers, run `hudi metadata \
                         delete` on it and write from them with hoodie.metadata.enable=false",
                    )?;
                }
                Ok(())
            }
            Unmaintained::ChangeDataCapture => {
                f.write_str("change data capture (hoodie.table.cdc.enabled=true): CDC log files")
            }
            Unmaintained::Bootstrap { base_path } => write!(
                f,
                "a bootstrap base path (hoodie.bootstrap.base.path={base_path})"
            ),
            Unmaintained::BaseFileFormat(b) => write!(
                f,
                "base files in {} (hoodie.table.base.file.format)",
                b.extension()
            ),
            Unmaintained::VirtualKeys => f.write_str(
                "records without meta fields (hoodie.populate.meta.fields=false): keys are not stored",
            ),
            Unmaintained::ConsistentHashingIndex => f.write_str(
                "the consistent-hashing bucket index (.hoodie/.bucket_index/consistent_hashing_metadata)",
            ),
            Unmaintained::Indexes { key, value } => write!(f, "indexes ({key}={value})"),
            Unmaintained::MergeRule(rule) => write!(f, "records merged by {rule}"),
            Unmaintained::Property { key, value, reason } => write!(f, "{key}={value} ({reason})"),
            Unmaintained::UnknownProperty { key, value } => {
                write!(f, "the table property {key}={value}, unknown to this library")
            }
        }
    }
}

/// Keys of Apache Hudi's table config that this library implements, whatever their value (the
/// ones checked by value are in [`unmaintained_parts`]).
const IMPLEMENTED: &[&str] = &[
    "hoodie.table.name",
    "hoodie.database.name",
    "hoodie.table.type",
    "hoodie.table.version",
    "hoodie.table.initial.version",
    "hoodie.table.precombine.field",
    "hoodie.table.ordering.fields",
    "hoodie.table.partition.fields",
    "hoodie.table.recordkey.fields",
    "hoodie.table.create.schema",
    "hoodie.table.keygenerator.class",
    "hoodie.table.keygenerator.type",
    "hoodie.table.timeline.timezone",
    "hoodie.table.checksum",
    "hoodie.table.cdc.supplemental.logging.mode",
    "hoodie.table.base.file.format",
    "hoodie.table.log.file.format",
    "hoodie.table.format",
    "hoodie.table.cdc.enabled",
    "hoodie.table.metadata.partitions",
    "hoodie.table.metadata.partitions.inflight",
    "hoodie.table.multiple.base.file.formats.enable",
    "hoodie.table.partial.update.mode",
    "hoodie.table.merge.properties",
    "hoodie.table.secondary.indexes.metadata",
    "hoodie.table.index.defs.path",
];

fn is_true(v: &str) -> bool {
    v.trim().eq_ignore_ascii_case("true")
}

fn set(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The parts of the table its properties show a mutation that `changes` would not maintain;
/// empty when it maintains them all. `consistent_hashing` says whether the table has
/// consistent-hashing bucket metadata on storage.
pub fn unmaintained_parts(
    config: &TableConfig,
    consistent_hashing: bool,
    changes: Changes,
) -> Vec<Unmaintained> {
    let raw = &config.raw;
    let get = |k: &str| set(raw.get(k));
    let mut parts = Vec::new();
    if !config.version.is_written() {
        parts.push(Unmaintained::TableVersion(config.version));
    }
    let mut mdt: Vec<String> = config.metadata_partitions.clone();
    if let Some(building) = get("hoodie.table.metadata.partitions.inflight") {
        mdt.extend(
            building
                .split(',')
                .map(|s| format!("{} (being built)", s.trim())),
        );
    }
    if !mdt.is_empty() {
        parts.push(Unmaintained::MetadataTable {
            partitions: mdt,
            deletable: false,
        });
    }
    if get("hoodie.table.cdc.enabled").is_some_and(is_true) {
        parts.push(Unmaintained::ChangeDataCapture);
    }
    if let Some(base_path) = get("hoodie.bootstrap.base.path") {
        parts.push(Unmaintained::Bootstrap {
            base_path: base_path.to_string(),
        });
    }
    if config.base_file_format != BaseFileFormat::Parquet {
        parts.push(Unmaintained::BaseFileFormat(config.base_file_format));
    }
    if !config.populate_meta_fields && changes == Changes::Records {
        parts.push(Unmaintained::VirtualKeys);
    }
    if consistent_hashing {
        parts.push(Unmaintained::ConsistentHashingIndex);
    }
    for key in [
        "hoodie.table.secondary.indexes.metadata",
        "hoodie.table.index.defs.path",
    ] {
        if let Some(value) = get(key) {
            let (key, value) = (key.to_string(), value.to_string());
            parts.push(Unmaintained::Indexes { key, value });
        }
    }
    parts.extend(by_value(raw));
    parts.extend(raw.iter().filter_map(|(k, v)| {
        let table_key = k.starts_with("hoodie.table.");
        (table_key && !IMPLEMENTED.contains(&k.as_str())).then(|| Unmaintained::UnknownProperty {
            key: k.clone(),
            value: v.clone(),
        })
    }));
    // `hudi metadata delete` is the remedy only when nothing else stands in the way.
    if let [Unmaintained::MetadataTable { deletable, .. }] = parts.as_mut_slice() {
        *deletable = true;
    }
    parts
}

/// A key, whether a value of it asks for something not implemented, and what it asks for.
type ValueCheck = (&'static str, fn(&str) -> bool, &'static str);

/// Properties whose value asks for something this library does not do.
fn by_value(raw: &std::collections::BTreeMap<String, String>) -> Vec<Unmaintained> {
    let checks: [ValueCheck; 5] = [
        (
            "hoodie.table.log.file.format",
            |v| !v.eq_ignore_ascii_case("HOODIE_LOG"),
            "log files in another format than Hudi's log format",
        ),
        (
            "hoodie.partition.metafile.use.base.format",
            is_true,
            "partition metafiles in the base file format",
        ),
        (
            "hoodie.table.multiple.base.file.formats.enable",
            is_true,
            "base files in several formats",
        ),
        (
            "hoodie.table.partial.update.mode",
            |v| !v.eq_ignore_ascii_case("NONE"),
            "partial updates",
        ),
        (
            "hoodie.table.merge.properties",
            |_| true,
            "merge properties of a custom merge",
        ),
    ];
    checks
        .iter()
        .filter_map(|(key, asks, reason)| {
            let value = set(raw.get(*key))?;
            asks(value).then(|| Unmaintained::Property {
                key: key.to_string(),
                value: value.to_string(),
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::properties;

    fn config(extra: &str) -> TableConfig {
        let text = format!("hoodie.table.name=t\nhoodie.table.version=6\n{extra}");
        TableConfig::from_properties(properties::parse(&text), "p").unwrap()
    }

    #[test]
    fn a_plain_version_6_table_is_maintained() {
        let c = config(
            "hoodie.table.recordkey.fields=id\nhoodie.table.metadata.partitions=\n\
             hoodie.table.metadata.partitions.inflight=\nhoodie.table.cdc.enabled=false\n\
             hoodie.cleaner.policy=KEEP_LATEST_COMMITS\n",
        );
        assert_eq!(unmaintained_parts(&c, false, Changes::Records), vec![]);
    }

    #[test]
    fn each_part_is_named() {
        let cases: [(&str, &str); 10] = [
            ("hoodie.table.version=9\n", "table version 9"),
            ("hoodie.table.metadata.partitions=files\n", "metadata table"),
            (
                "hoodie.table.metadata.partitions.inflight=files\n",
                "files (being built)",
            ),
            ("hoodie.table.cdc.enabled=true\n", "change data capture"),
            ("hoodie.bootstrap.base.path=/src\n", "bootstrap base path"),
            ("hoodie.table.base.file.format=ORC\n", "base files in orc"),
            ("hoodie.populate.meta.fields=false\n", "without meta fields"),
            (
                "hoodie.partition.metafile.use.base.format=true\n",
                "partition metafiles",
            ),
            ("hoodie.table.secondary.indexes.metadata=x\n", "indexes"),
            ("hoodie.table.future.thing=1\n", "unknown to this library"),
        ];
        for (props, says) in cases {
            let text = format!("hoodie.table.name=t\nhoodie.table.version=6\n{props}");
            let c = TableConfig::from_properties(properties::parse(&text), "p").unwrap();
            let parts = unmaintained_parts(&c, false, Changes::Records);
            assert_eq!(parts.len(), 1, "{props}: {parts:?}");
            assert!(parts[0].to_string().contains(says), "{props}: {}", parts[0]);
        }
        let c = config("");
        assert_eq!(
            unmaintained_parts(&c, true, Changes::Files),
            vec![Unmaintained::ConsistentHashingIndex]
        );
        // The remedy `hudi metadata delete` is named only when it would make the table writable.
        let c = config("hoodie.table.metadata.partitions=files\n");
        assert!(unmaintained_parts(&c, false, Changes::Files)[0]
            .to_string()
            .contains("hudi metadata delete"));
        let c = config("hoodie.table.metadata.partitions=files\nhoodie.table.version=9\n");
        let parts = unmaintained_parts(&c, false, Changes::Files);
        assert_eq!(parts.len(), 2);
        assert!(
            !parts[1].to_string().contains("hudi metadata delete"),
            "{}",
            parts[1]
        );
        // Virtual keys matter only where records are keyed: clean or rollback go ahead.
        let c = config("hoodie.populate.meta.fields=false\n");
        assert_eq!(unmaintained_parts(&c, false, Changes::Files), vec![]);
        assert_eq!(
            unmaintained_parts(&c, false, Changes::Records),
            vec![Unmaintained::VirtualKeys]
        );
    }
}
