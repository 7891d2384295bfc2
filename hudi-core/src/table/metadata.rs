//! Turning off a table's metadata table (`hudi metadata delete`, as Hudi's CLI has): Apache
//! Hudi on Spark enables it by default since 0.14, and a writer that does not maintain it
//! (this library, for now) must not commit beside it, or Java readers that list files through
//! it would miss the new ones.

use crate::config::table::{properties_file_text, METADATA_PARTITIONS};
use crate::error::Result;
use crate::model::InstantTime;
use crate::storage::update_table_properties;
use crate::timeline::transition::Clock;

use super::Table;

/// The metadata table's directory under the base path.
pub const METADATA_TABLE_DIR: &str = ".hoodie/metadata";
const METADATA_PARTITIONS_INFLIGHT: &str = "hoodie.table.metadata.partitions.inflight";

/// What [`Table::delete_metadata_table`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataDeletion {
    /// The partitions `hoodie.properties` listed (`files`, `column_stats`, ...).
    pub partitions: Vec<String>,
    /// Files removed from `.hoodie/metadata`.
    pub files_deleted: usize,
    /// Where they were copied first, with `backup`.
    pub backup_dir: Option<String>,
    /// Pending instants of the data table at the time (writers that may still be running).
    pub pending_instants: Vec<InstantTime>,
}

impl Table {
    /// Deletes the metadata table: first `hoodie.properties` stops naming its partitions (so no
    /// reader uses it from then on), then its files go, copied first to
    /// `.hoodie/metadata_backup_<instant>` with `backup`. Stop every writer first: a writer
    /// that has the metadata table enabled re-creates it on its next commit.
    pub async fn delete_metadata_table(
        &self,
        backup: bool,
        clock: &dyn Clock,
    ) -> Result<MetadataDeletion> {
        let storage = self.storage();
        let config = crate::storage::load_table_config(storage).await?;
        let files = storage.list_recursive(METADATA_TABLE_DIR).await?;
        let inflight = config.raw.contains_key(METADATA_PARTITIONS_INFLIGHT);
        if config.metadata_partitions.is_empty() && files.is_empty() && !inflight {
            return Err(crate::error::HudiError::InvalidConfig {
                key: METADATA_PARTITIONS.key.into(),
                value: String::new(),
                source_name: storage.display(crate::storage::PROPERTIES_FILE),
                reason: "the table has no metadata table: nothing to delete".into(),
            });
        }
        let timeline = self.reload().await?.timeline().clone();
        let pending = timeline.pending().map(|i| i.requested().clone()).collect();
        if !config.metadata_partitions.is_empty() || inflight {
            let mut props = config.raw.clone();
            props.remove(METADATA_PARTITIONS.key);
            props.remove(METADATA_PARTITIONS_INFLIGHT);
            update_table_properties(storage, properties_file_text(&props, &clock.now())).await?;
        }
        let backup_dir = backup.then(|| {
            format!(
                ".hoodie/metadata_backup_{}",
                InstantTime::from_datetime_utc(&clock.now())
            )
        });
        for f in &files {
            if let Some(dir) = &backup_dir {
                let rel = f.path.strip_prefix(METADATA_TABLE_DIR).unwrap_or(&f.path);
                let bytes = storage.get(&f.path).await?;
                storage.put(&format!("{dir}{rel}"), bytes).await?;
            }
            storage.delete(&f.path).await?;
        }
        if let Ok(dir) = std::path::absolute(storage.location()) {
            // Local tables: the emptied directories go too (object stores have none).
            if !storage.location().contains("://") {
                let _ = std::fs::remove_dir_all(dir.join(METADATA_TABLE_DIR));
            }
        }
        Ok(MetadataDeletion {
            partitions: config.metadata_partitions.clone(),
            files_deleted: files.len(),
            backup_dir,
            pending_instants: pending,
        })
    }
}
