//! Finding partitions: directories holding a `.hoodie_partition_metadata` file.

use crate::error::Result;
use crate::storage::{FileInfo, Storage};

/// The partition metafile's name prefix (`.hoodie_partition_metadata[.parquet|.orc]`).
pub const PARTITION_METAFILE_PREFIX: &str = ".hoodie_partition_metadata";

/// Walks the table directory tree (skipping `.hoodie` and hidden directories) and returns
/// every partition with its files. The root is partition `""` of a non-partitioned table.
pub async fn list_partitions(storage: &Storage) -> Result<Vec<(String, Vec<FileInfo>)>> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(dir) = stack.pop() {
        let listing = storage.list_dir(&dir).await?;
        if listing
            .files
            .iter()
            .any(|f| f.name.starts_with(PARTITION_METAFILE_PREFIX))
        {
            out.push((dir, listing.files));
            continue;
        }
        for d in listing.dirs.into_iter().rev() {
            let name = d.rsplit('/').next().unwrap_or_default();
            if !name.starts_with('.') {
                stack.push(d);
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}
