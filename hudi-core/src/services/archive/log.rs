//! The v6 archived timeline's files: `.hoodie/archived/.commits_.archive.N_1-0-1`, Hudi log
//! files of Avro data blocks of `HoodieArchivedMetaEntry` records. Each archival writes a new
//! version (object stores and local disks cannot append); readers take every version.

use std::collections::{BTreeMap, HashMap};

use apache_avro::Schema;
use bytes::Bytes;
use serde_json::Value as Json;

use crate::error::{HudiError, Result};
use crate::io::arrow_avro::encode_avro_data_content;
use crate::io::log_block::{encode_block, walk, BlockType, HeaderKey};
use crate::io::log_reader::avro_data_values;
use crate::model::avro_json::json_to_avro;
use crate::model::avro_schemas::ARCHIVED_META_ENTRY_SCHEMA;
use crate::model::metadata::avro_to_json;
use crate::model::ArchiveFileName;
use crate::storage::Storage;

pub const ARCHIVE_DIR: &str = ".hoodie/archived";

/// The archive files present, by version.
async fn archive_files(storage: &Storage) -> Result<Vec<(ArchiveFileName, String)>> {
    let listing = storage.list_dir(ARCHIVE_DIR).await?;
    let mut out: Vec<(ArchiveFileName, String)> = listing
        .files
        .iter()
        .filter_map(|f| {
            ArchiveFileName::parse(&f.name)
                .ok()
                .map(|n| (n, f.path.clone()))
        })
        .collect();
    out.sort_by(|a, b| {
        a.0.version
            .cmp(&b.0.version)
            .then_with(|| a.0.write_token.cmp(&b.0.write_token))
    });
    Ok(out)
}

/// Writes `entries` (JSON, converted by the entry schema) as a new archive file, `batch`
/// records per block; returns its path.
pub async fn write(storage: &Storage, entries: &[Json], batch: usize) -> Result<String> {
    let schema = Schema::parse_str(ARCHIVED_META_ENTRY_SCHEMA).map_err(|e| HudiError::Avro {
        context: "the archived entry schema".into(),
        reason: e.to_string(),
    })?;
    let version = archive_files(storage)
        .await?
        .last()
        .map(|(n, _)| n.version + 1)
        .unwrap_or(1);
    let name = ArchiveFileName {
        version,
        write_token: Some("1-0-1".into()),
    };
    let path = format!("{ARCHIVE_DIR}/{name}");
    let mut header = BTreeMap::new();
    header.insert(HeaderKey::Schema, ARCHIVED_META_ENTRY_SCHEMA.to_string());
    let mut out = Vec::new();
    for chunk in entries.chunks(batch.max(1)) {
        let values = chunk
            .iter()
            .map(|e| {
                json_to_avro(&schema, e).map_err(|reason| HudiError::Avro {
                    context: format!("archived entry of {}", e["commitTime"]),
                    reason,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let content = encode_avro_data_content(&values, &schema, &path)?;
        out.extend(encode_block(BlockType::AvroData, &header, &content));
    }
    storage.put_if_absent(&path, Bytes::from(out)).await?;
    Ok(path)
}

/// Every archived entry, oldest file first, as JSON. Corrupt regions are skipped with a
/// warning; a record that does not decode is an error naming the file.
pub async fn read(storage: &Storage) -> Result<Vec<Json>> {
    let mut schemas: HashMap<String, Schema> = HashMap::new();
    let mut out = Vec::new();
    for (_, path) in archive_files(storage).await? {
        let bytes = storage.get(&path).await?;
        let w = walk(&bytes);
        for c in &w.corrupt {
            log::warn!(
                "skipping {} corrupt bytes at {} of {}: {}",
                c.len,
                c.offset,
                storage.display(&path),
                c.reason
            );
        }
        for b in w
            .blocks
            .iter()
            .filter(|b| b.block_type == BlockType::AvroData)
        {
            let bad = |reason: String| HudiError::LogFormat {
                path: storage.display(&path),
                offset: b.offset,
                reason,
            };
            let text = b.schema().ok_or_else(|| bad("no SCHEMA header".into()))?;
            if !schemas.contains_key(text) {
                let s = Schema::parse_str(text).map_err(|e| bad(e.to_string()))?;
                schemas.insert(text.to_string(), s);
            }
            let values = avro_data_values(&b.content, &schemas[text]).map_err(bad)?;
            out.extend(values.iter().map(avro_to_json));
        }
    }
    Ok(out)
}
