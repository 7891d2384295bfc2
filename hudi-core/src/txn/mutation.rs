//! The start of every mutation (write, table service, repair, property change): the table as
//! it is now, with `hoodie.properties` read once and the call's options laid over it once, and
//! the one capability check ([`crate::config::capability`]) made before anything is written.

use std::collections::BTreeMap;

use crate::config::capability::{unmaintained_parts, Changes, Unmaintained};
use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};
use crate::storage::Storage;

/// Where Apache Hudi keeps the consistent-hashing bucket index's metadata.
const CONSISTENT_HASHING_DIR: &str = ".hoodie/.bucket_index/consistent_hashing_metadata";

/// A mutation's view of the table: its properties as they are now, and the options it runs
/// with (the table's properties overlaid by the call's).
#[derive(Debug, Clone)]
pub struct Mutation {
    pub config: TableConfig,
    pub options: BTreeMap<String, String>,
}

impl Mutation {
    /// Loads `hoodie.properties`, refuses `operation` (e.g. "compaction"), which `changes`
    /// records or only files, when the table has a part it would not maintain, and merges
    /// `call_options` over the properties.
    pub async fn begin(
        storage: &Storage,
        operation: &str,
        changes: Changes,
        call_options: &BTreeMap<String, String>,
    ) -> Result<Mutation> {
        let config = crate::storage::load_table_config(storage).await?;
        require_maintained(storage, &config, operation, changes).await?;
        let options = config.options_with(call_options);
        Ok(Mutation { config, options })
    }

    /// The same view without the capability check: for what only looks (a dry run), and for
    /// the services a write runs after its commit (the write checked at its start).
    pub async fn look(
        storage: &Storage,
        call_options: &BTreeMap<String, String>,
    ) -> Result<Mutation> {
        let config = crate::storage::load_table_config(storage).await?;
        let options = config.options_with(call_options);
        Ok(Mutation { config, options })
    }
}

/// The parts of the table a mutation that `changes` would not maintain, from its properties,
/// its merge rule (for records) and what is on storage.
pub async fn unmaintained(
    storage: &Storage,
    config: &TableConfig,
    changes: Changes,
) -> Result<Vec<Unmaintained>> {
    let bucket_meta = storage.list_dir(CONSISTENT_HASHING_DIR).await?;
    let consistent_hashing = !bucket_meta.files.is_empty() || !bucket_meta.dirs.is_empty();
    let mut parts = unmaintained_parts(config, consistent_hashing, changes);
    if changes == Changes::Records {
        if let Err(HudiError::Unsupported { feature, .. }) =
            crate::read::merge::resolve_merge_mode(config)
        {
            parts.push(Unmaintained::MergeRule(feature));
        }
    }
    Ok(parts)
}

/// Refuses `operation` on a table with parts it would not maintain, naming each.
pub async fn require_maintained(
    storage: &Storage,
    config: &TableConfig,
    operation: &str,
    changes: Changes,
) -> Result<()> {
    let parts = unmaintained(storage, config, changes).await?;
    if parts.is_empty() {
        return Ok(());
    }
    Err(HudiError::Unmaintained {
        operation: operation.to_string(),
        table: storage.location().to_string(),
        parts,
    })
}
