//! One view of a table for one operation: its storage, `hoodie.properties` read once and its
//! timeline loaded once. Reads, inspections and services look at the table through one
//! snapshot, so every question they ask is answered from the same state; the file-system view
//! and the schema are derived from it on demand. Mutations start from
//! [`crate::txn::mutation::Mutation`], which reads the properties again as they are at the
//! start of the mutation and checks them.

use arrow::datatypes::SchemaRef;

use crate::config::table::TableConfig;
use crate::config::version::TableVersion;
use crate::error::Result;
use crate::fs_view::FileSystemView;
use crate::model::InstantTime;
use crate::read::schema::{table_schema, SchemaSource};
use crate::storage::{load_table_config, Storage};
use crate::timeline::Timeline;

/// A table as loaded at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    storage: Storage,
    config: TableConfig,
    timeline: Timeline,
}

impl Snapshot {
    /// Reads `hoodie.properties` and loads the timeline.
    pub async fn load(storage: Storage) -> Result<Snapshot> {
        let config = load_table_config(&storage).await?;
        let timeline = Timeline::load(&storage, &config).await?;
        Ok(Snapshot {
            storage,
            config,
            timeline,
        })
    }

    /// Where the table is.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// `hoodie.properties`, parsed.
    pub fn config(&self) -> &TableConfig {
        &self.config
    }

    /// The timeline as loaded.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The table version, which answers the format questions.
    pub fn version(&self) -> TableVersion {
        self.config.version
    }

    /// The location of the table.
    pub fn location(&self) -> &str {
        self.storage.location()
    }

    /// The schema reads return (meta columns first), and where it came from.
    pub async fn schema(&self) -> Result<(SchemaRef, SchemaSource)> {
        table_schema(&self.storage, &self.config, &self.timeline).await
    }

    /// The file-system view as of an instant (latest when `None`).
    pub async fn file_system_view(&self, as_of: Option<&InstantTime>) -> Result<FileSystemView> {
        FileSystemView::load(&self.storage, &self.timeline, as_of).await
    }
}
