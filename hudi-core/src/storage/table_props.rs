//! Loading `hoodie.properties`, with the checksum check and the fallback to the backup.

use super::Storage;
use crate::config::properties;
use crate::config::table::TableConfig;
use crate::error::{HudiError, Result};

pub const HOODIE_DIR: &str = ".hoodie";
pub const PROPERTIES_FILE: &str = ".hoodie/hoodie.properties";
pub const PROPERTIES_BACKUP: &str = ".hoodie/hoodie.properties.backup";

async fn read_config(storage: &Storage, rel: &str) -> Result<TableConfig> {
    let bytes = storage.get(rel).await?;
    let text = String::from_utf8_lossy(&bytes);
    TableConfig::from_properties(properties::parse(&text), &storage.display(rel))
}

/// Whether the config's stored checksum (if any) is the right one.
fn checksum_ok(c: &TableConfig) -> std::result::Result<(), (u64, u64)> {
    match c.stored_checksum() {
        None => Ok(()),
        Some(Ok(found)) if found == c.expected_checksum() => Ok(()),
        Some(Ok(found)) => Err((c.expected_checksum(), found)),
        Some(Err(_)) => Err((c.expected_checksum(), 0)),
    }
}

/// Reads `.hoodie/hoodie.properties`. If it is missing, unreadable, or fails its checksum,
/// reads `.hoodie/hoodie.properties.backup` instead, as Java does after an interrupted update.
pub async fn load_table_config(storage: &Storage) -> Result<TableConfig> {
    let primary = read_config(storage, PROPERTIES_FILE).await;
    let primary_problem = match primary {
        Ok(c) => match checksum_ok(&c) {
            Ok(()) => return Ok(c),
            Err(mismatch) => Some(mismatch),
        },
        Err(HudiError::NotFound { .. }) => None,
        Err(e) => {
            // Unreadable primary: only a good backup can save the day.
            return match read_config(storage, PROPERTIES_BACKUP).await {
                Ok(b) if checksum_ok(&b).is_ok() => Ok(b),
                _ => Err(e),
            };
        }
    };
    match read_config(storage, PROPERTIES_BACKUP).await {
        Ok(b) if checksum_ok(&b).is_ok() => {
            log::warn!(
                "{} is missing or fails its checksum; using {}",
                storage.display(PROPERTIES_FILE),
                storage.display(PROPERTIES_BACKUP)
            );
            Ok(b)
        }
        _ => match primary_problem {
            Some((expected, found)) => Err(HudiError::ChecksumMismatch {
                path: storage.display(PROPERTIES_FILE),
                expected,
                found,
            }),
            None => Err(HudiError::NotATable {
                path: storage.location().to_string(),
            }),
        },
    }
}

/// Replaces `hoodie.properties` safely, as Java's update protocol does: back the current file
/// up, write the new one (with a fresh checksum), read it back, then drop the backup. A crash
/// at any point leaves a readable valid file or backup.
pub async fn update_table_properties(storage: &Storage, text: String) -> Result<TableConfig> {
    let current = storage.get(PROPERTIES_FILE).await?;
    storage.put(PROPERTIES_BACKUP, current).await?;
    storage
        .put(PROPERTIES_FILE, bytes::Bytes::from(text))
        .await?;
    let config = read_config(storage, PROPERTIES_FILE).await?;
    if let Err((expected, found)) = checksum_ok(&config) {
        return Err(HudiError::ChecksumMismatch {
            path: storage.display(PROPERTIES_FILE),
            expected,
            found,
        });
    }
    storage.delete(PROPERTIES_BACKUP).await?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::sync::Arc;

    fn mem() -> Storage {
        Storage::from_store(
            Arc::new(object_store::memory::InMemory::new()),
            "t",
            "mem://t",
        )
    }

    const GOOD: &str = "hoodie.table.name=v6_empty\nhoodie.database.name=default\nhoodie.table.version=6\nhoodie.table.checksum=1980710965\n";

    #[tokio::test]
    async fn falls_back_to_backup_on_checksum_mismatch() {
        let s = mem();
        let bad = GOOD.replace("1980710965", "1");
        s.put(PROPERTIES_FILE, Bytes::from(bad)).await.unwrap();
        let err = load_table_config(&s).await.unwrap_err();
        assert!(
            matches!(
                err,
                HudiError::ChecksumMismatch {
                    expected: 1980710965,
                    found: 1,
                    ..
                }
            ),
            "{err}"
        );
        s.put(PROPERTIES_BACKUP, Bytes::from_static(GOOD.as_bytes()))
            .await
            .unwrap();
        let c = load_table_config(&s).await.unwrap();
        assert_eq!(c.name, "v6_empty");
    }

    #[tokio::test]
    async fn missing_properties_is_not_a_table() {
        let s = mem();
        assert!(matches!(
            load_table_config(&s).await,
            Err(HudiError::NotATable { .. })
        ));
        s.put(PROPERTIES_BACKUP, Bytes::from_static(GOOD.as_bytes()))
            .await
            .unwrap();
        assert_eq!(
            load_table_config(&s).await.unwrap().version,
            crate::config::version::TableVersion::Six
        );
    }
}
