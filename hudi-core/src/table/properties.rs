//! Changing `hoodie.properties` (`hudi config set|unset`): only keys whose change leaves every
//! committed file readable as before, through the backup-then-replace protocol, with a fresh
//! checksum.

use std::collections::BTreeMap;

use crate::config::capability::Changes;
use crate::config::table::{self, properties_file_text, TableConfig};
use crate::error::{HudiError, Result};
use crate::storage::{update_table_properties, PROPERTIES_FILE};
use crate::timeline::transition::Clock;

use super::Table;

/// Keys that describe how the committed files are laid out, named and keyed: changing one
/// would make the table lie about its own files. Each comes with the way to change it safely,
/// where there is one.
pub const PROTECTED_KEYS: &[(&str, &str)] = &[
    (
        table::TABLE_TYPE.key,
        "changing the table type needs a full compaction first (Hudi CLI: table change-table-type)",
    ),
    (
        table::TABLE_VERSION.key,
        "the table version changes only through an upgrade or downgrade",
    ),
    (
        table::TIMELINE_LAYOUT_VERSION.key,
        "the timeline layout changes only through an upgrade or downgrade",
    ),
    (
        "hoodie.table.initial.version",
        "records the version the table was created at",
    ),
    (
        table::RECORD_KEY_FIELDS.key,
        "existing records are keyed by these fields",
    ),
    (
        table::PARTITION_FIELDS.key,
        "existing files are partitioned by these fields",
    ),
    (
        table::KEYGEN_CLASS.key,
        "existing keys and partition paths were made by this key generator",
    ),
    (
        table::KEYGEN_TYPE.key,
        "existing keys and partition paths were made by this key generator",
    ),
    (
        table::HIVE_STYLE.key,
        "existing partition directories are named this way",
    ),
    (
        table::URL_ENCODE.key,
        "existing partition directories are named this way",
    ),
    (
        table::DROP_PARTITION_COLUMNS.key,
        "existing base files were written with or without partition columns",
    ),
    (
        table::BASE_FILE_FORMAT.key,
        "existing base files are in this format",
    ),
    (
        "hoodie.table.log.file.format",
        "existing log files are in this format",
    ),
    (
        table::POPULATE_META_FIELDS.key,
        "existing files were written with or without meta fields",
    ),
    (
        table::TIMELINE_TIMEZONE.key,
        "existing instant times are in this zone",
    ),
    (
        table::ARCHIVELOG_FOLDER.key,
        "the archived timeline is in this folder",
    ),
    (
        table::METADATA_PARTITIONS.key,
        "use `hudi metadata delete` to turn the metadata table off",
    ),
    (
        "hoodie.table.metadata.partitions.inflight",
        "use `hudi metadata delete` to turn the metadata table off",
    ),
    (
        table::CHECKSUM.key,
        "the checksum is computed from the table name on every update",
    ),
    (
        table::TABLE_NAME.key,
        "catalogs and the checksum know the table by this name",
    ),
    (
        table::DATABASE_NAME.key,
        "catalogs and the checksum know the table by this database",
    ),
    (
        "hoodie.bootstrap.base.path",
        "bootstrapped files are read from this path",
    ),
    (
        "hoodie.bootstrap.index.class",
        "bootstrapped files are found through this index",
    ),
];

/// One key's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

fn refuse(table: &Table, reason: String) -> HudiError {
    HudiError::Refused {
        operation: "updating hoodie.properties".into(),
        table: table.location().to_string(),
        reason,
    }
}

impl Table {
    /// Sets and removes table properties. Refuses keys outside `hoodie.*`, the
    /// [`PROTECTED_KEYS`], unsetting a key that is not set, and an update that changes
    /// nothing; the new properties must still parse as a table config. With `dry_run`, only
    /// reports what would change.
    pub async fn update_properties(
        &self,
        set: &BTreeMap<String, String>,
        unset: &[String],
        dry_run: bool,
        clock: &dyn Clock,
    ) -> Result<Vec<PropertyChange>> {
        let storage = self.storage();
        let current = crate::storage::load_table_config(storage).await?;
        let mut props = current.raw.clone();
        let mut changes = Vec::new();
        let keys = set.keys().chain(unset.iter());
        for key in keys {
            if !key.starts_with("hoodie.") {
                return Err(refuse(
                    self,
                    format!("'{key}' is not a Hudi table property (hoodie.*)"),
                ));
            }
            if let Some((_, why)) = PROTECTED_KEYS.iter().find(|(k, _)| k == key) {
                return Err(refuse(self, format!("'{key}' cannot be changed: {why}")));
            }
        }
        for (key, value) in set {
            let old = props.insert(key.clone(), value.clone());
            if old.as_deref() != Some(value.as_str()) {
                changes.push(PropertyChange {
                    key: key.clone(),
                    old,
                    new: Some(value.clone()),
                });
            }
        }
        for key in unset {
            let old = props.remove(key).ok_or_else(|| {
                refuse(
                    self,
                    format!("'{key}' is not set in {}", storage.display(PROPERTIES_FILE)),
                )
            })?;
            changes.push(PropertyChange {
                key: key.clone(),
                old: Some(old),
                new: None,
            });
        }
        if changes.is_empty() {
            return Err(refuse(
                self,
                "every key already has that value: nothing to change".into(),
            ));
        }
        // The result must still be a table this library (and Hudi) can open, and maintains.
        let operation = "updating hoodie.properties";
        if !dry_run {
            crate::txn::mutation::require_maintained(storage, &current, operation, Changes::Files)
                .await?;
        }
        let new = TableConfig::from_properties(props.clone(), &storage.display(PROPERTIES_FILE))?;
        crate::txn::mutation::require_maintained(storage, &new, operation, Changes::Files).await?;
        if !dry_run {
            update_table_properties(storage, properties_file_text(&props, &clock.now())).await?;
        }
        Ok(changes)
    }
}
