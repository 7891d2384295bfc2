//! Entry points of the fuzz targets (`fuzz/`, run by `fuzz/run.sh`): the parsers of what other
//! writers put on storage, each fed arbitrary bytes. The same functions replay the inputs kept
//! under `fuzz/regressions/<target>/` in the unit tests, so a crash, once fixed, stays fixed.
//! Every input must give a value or an error: never a panic, a hang or a huge allocation.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;

use crate::config::properties::parse;
use crate::config::table::TableConfig;
use crate::io::bloom::BloomFilter;
use crate::io::log_block::walk;
use crate::io::log_reader::LogFileDecoder;
use crate::model::avro_instants::RollbackPlan;
use crate::model::file_name::{ArchiveFileName, BaseFileName, LogFileName};
use crate::model::instant::Instant;
use crate::model::metadata::{
    avro_container_to_json, decode_json_or_avro, CleanMetadata, CleanPlan, CommitMetadata,
    CompactionPlan, RestoreMetadata, RestorePlan, RollbackMetadata, SavepointMetadata,
};
use crate::model::InstantTime;

/// A log file: the block walk (magic, sizes, headers, footers), then the decoding of every
/// block it finds against a small target schema.
pub fn log_file(data: &[u8]) {
    let bytes = Bytes::copy_from_slice(data);
    let w = walk(&bytes);
    for b in &w.blocks {
        assert!(b.size > 0, "a block of no bytes at {}", b.offset);
    }
    let target = Arc::new(Schema::new(vec![
        Field::new("_hoodie_record_key", DataType::Utf8, true),
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
    ]));
    if let Ok(mut d) = LogFileDecoder::new(target) {
        let _ = d.decode_file("fuzz.log.1_0-1-0", &bytes);
    }
}

/// `hoodie.properties`: the properties parser and the table config made from it.
pub fn properties(data: &[u8]) {
    let raw = parse(&String::from_utf8_lossy(data));
    if let Ok(cfg) = TableConfig::from_properties(raw, "hoodie.properties") {
        let _ = cfg.stored_checksum();
        let _ = cfg.keygen_name();
    }
}

/// Instant, base, log and archive file names: a name that parses prints back to one that
/// parses to the same value.
pub fn file_names(data: &[u8]) {
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = InstantTime::parse(name) {
        assert_eq!(InstantTime::parse(&t.to_string()).ok(), Some(t));
    }
    let _ = Instant::parse_file_name(name);
    if let Ok(b) = BaseFileName::parse(name) {
        assert_eq!(BaseFileName::parse(&b.to_string()).ok(), Some(b));
    }
    if let Ok(l) = LogFileName::parse(name) {
        assert_eq!(LogFileName::parse(&l.to_string()).ok(), Some(l));
    }
    if let Ok(a) = ArchiveFileName::parse(name) {
        assert_eq!(ArchiveFileName::parse(&a.to_string()).ok(), Some(a));
    }
}

/// Commit metadata (JSON, or an Avro container from table version 8), walked as the
/// timeline and the file-system view walk it.
pub fn commit_metadata(data: &[u8]) {
    if let Ok(m) = decode_json_or_avro::<CommitMetadata>(data) {
        let _ = m.schema();
        for (partition, stat) in m.write_stats() {
            let _ = (partition.len(), stat.path.as_deref());
        }
        for (partition, id) in m.replaced_file_ids() {
            let _ = (partition.len(), id.len());
        }
    }
}

/// The Avro instants of the table services, each decoded from the same bytes.
pub fn avro_plans(data: &[u8]) {
    let _ = avro_container_to_json(data);
    let _ = decode_json_or_avro::<CompactionPlan>(data);
    let _ = decode_json_or_avro::<CleanPlan>(data);
    let _ = decode_json_or_avro::<CleanMetadata>(data);
    let _ = decode_json_or_avro::<RollbackPlan>(data);
    let _ = decode_json_or_avro::<RollbackMetadata>(data);
    let _ = decode_json_or_avro::<RestorePlan>(data);
    let _ = decode_json_or_avro::<RestoreMetadata>(data);
    let _ = decode_json_or_avro::<SavepointMetadata>(data);
}

/// A Bloom filter from a base file's footer: the first byte picks the type code (none,
/// SIMPLE, DYNAMIC_V0), the rest is the footer's text; a filter that decodes answers lookups.
pub fn bloom(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let code = match kind % 3 {
        0 => None,
        1 => Some("SIMPLE"),
        _ => Some("DYNAMIC_V0"),
    };
    if let Ok(f) = BloomFilter::deserialize(text, code, "fuzz.parquet") {
        let _ = f.might_contain("key");
        let _ = f.might_contain("");
    }
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by the name `fuzz/run.sh` gives it.
pub const TARGETS: [(&str, Target); 6] = [
    ("log_block", log_file),
    ("properties", properties),
    ("file_names", file_names),
    ("commit_metadata", commit_metadata),
    ("avro_plans", avro_plans),
    ("bloom", bloom),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs every parser must survive: nothing, magic bytes alone, lengths that point past
    /// the end or ask for gigabytes, and text that is almost a valid name.
    fn hostile() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"#HUDI#".to_vec(),
            b"Obj\x01".to_vec(),
            b"{".to_vec(),
            b"20240101000000000.commit".to_vec(),
            b".f1_20240101.log.1_0-1-0".to_vec(),
            b"\x01AAAA".to_vec(),
            b"\x02AAAA".to_vec(),
        ];
        let mut huge = b"#HUDI#".to_vec();
        huge.extend(u64::MAX.to_be_bytes());
        huge.extend([0u8; 32]);
        v.push(huge);
        let mut block = b"#HUDI#".to_vec();
        block.extend(64u64.to_be_bytes());
        block.extend(1u32.to_be_bytes()); // format version
        block.extend(1u32.to_be_bytes()); // block type: avro data
        block.extend(0xffff_ffffu32.to_be_bytes()); // header entries
        block.extend([0u8; 48]);
        v.push(block);
        v
    }

    #[test]
    fn every_target_survives_hostile_input_and_every_kept_regression() {
        let kept = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
        for (name, target) in TARGETS {
            for input in hostile() {
                target(&input);
            }
            let Ok(dir) = std::fs::read_dir(kept.join(name)) else {
                continue;
            };
            for f in dir.flatten() {
                let bytes = std::fs::read(f.path()).expect("regression input");
                target(&bytes);
            }
        }
    }
}
