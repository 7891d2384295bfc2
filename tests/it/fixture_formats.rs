//! Formats over every fixture file: `hoodie.properties`, timeline file names, data file names,
//! and log blocks (checked against the oracle's independent walker).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use hudi_core::config::properties;
use hudi_core::config::table::TableConfig;
use hudi_core::io::log_block::{walk, BlockType};
use hudi_core::io::log_reader::{LogContent, LogFileDecoder};
use hudi_core::model::{DataFileName, Instant, TimelineLayout};
use hudi_core::Table;

use crate::support::{self, all_files};

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn properties_of_every_fixture_parse_validate_and_round_trip() {
    let Some(shared) =
        support::shared_dir("properties_of_every_fixture_parse_validate_and_round_trip")
    else {
        return;
    };
    let mut checked = 0;
    for fx in support::fixtures(&shared) {
        for p in all_files(&fx.table)
            .into_iter()
            .filter(|p| name(p) == "hoodie.properties")
        {
            let text = std::fs::read_to_string(&p).expect("read properties");
            let map = properties::parse(&text);
            let c = TableConfig::from_properties(map.clone(), &p.to_string_lossy())
                .expect("valid config");
            assert_eq!(
                c.stored_checksum()
                    .expect("fixture has a checksum")
                    .expect("numeric"),
                c.expected_checksum(),
                "{}",
                p.display()
            );
            let again = properties::parse(&properties::format(&map, &["comment".into()]));
            assert_eq!(again, map, "{}", p.display());
            checked += 1;
        }
    }
    // 17 tables, plus the metadata tables of the v8/v9 fixtures.
    assert!(checked >= 17, "only {checked} properties files");
}

#[test]
fn every_timeline_and_data_file_name_round_trips() {
    let Some(shared) = support::shared_dir("every_timeline_and_data_file_name_round_trips") else {
        return;
    };
    let (mut instants, mut data) = (0, 0);
    for fx in support::fixtures(&shared) {
        for p in all_files(&fx.table) {
            let n = name(&p);
            let parent = name(p.parent().expect("parent"));
            let in_timeline = parent == ".hoodie" || parent == "timeline";
            if in_timeline && n.starts_with(|c: char| c.is_ascii_digit()) {
                let i =
                    Instant::parse_file_name(&n).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                let layout = if parent == "timeline" {
                    TimelineLayout::V2
                } else {
                    TimelineLayout::V1
                };
                assert_eq!(i.file_name(layout), n);
                instants += 1;
            } else if !p.to_string_lossy().contains("/.hoodie/") {
                if let Some(parsed) = DataFileName::classify(&n) {
                    let parsed = parsed.unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                    let back = match parsed {
                        DataFileName::Base(b) => b.to_string(),
                        DataFileName::Log(l) => l.to_string(),
                    };
                    assert_eq!(back, n);
                    data += 1;
                }
            }
        }
    }
    assert!(
        instants > 100 && data > 60,
        "{instants} instant files, {data} data files"
    );
}

/// `(offset, type ordinal)` of each block of each file, per the oracle's `walk_log.py`, run
/// once over all files (its sections come out in argument order).
fn oracle_blocks(python: &Path, shared: &Path, files: &[PathBuf]) -> Vec<Vec<(u64, u32)>> {
    let out = Command::new(python)
        .arg(shared.join("oracle/formats/walk_log.py"))
        .args(files)
        .output()
        .expect("run walk_log.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // pyarrow sometimes aborts at interpreter exit after reading a parquet block; the walk
    // itself is complete by then.
    let aborted_at_exit = stderr.trim() == "terminate called without an active exception";
    assert!(
        out.status.success() || aborted_at_exit,
        "walk_log.py failed: {stderr}"
    );
    let mut sections: Vec<Vec<(u64, u32)>> = Vec::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        if l.starts_with("=== ") {
            sections.push(Vec::new());
            continue;
        }
        let l = l.trim_start();
        let parsed = l.strip_prefix("block#").and_then(|rest| {
            let off: u64 = rest.split('@').nth(1)?.split(':').next()?.parse().ok()?;
            let ty: u32 = l.split("type=").nth(1)?.split('(').next()?.parse().ok()?;
            Some((off, ty))
        });
        if let (Some(b), Some(cur)) = (parsed, sections.last_mut()) {
            cur.push(b);
        }
    }
    assert_eq!(
        sections.len(),
        files.len(),
        "walk_log.py output: one section per file"
    );
    sections
}

#[test]
fn log_walker_reads_every_fixture_log_file_like_the_oracle() {
    let Some(shared) =
        support::shared_dir("log_walker_reads_every_fixture_log_file_like_the_oracle")
    else {
        return;
    };
    let python = support::oracle_python(&shared);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut by_type: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut files = 0;
    let mut decoded_rows = 0;
    let fixtures = support::fixtures(&shared);
    let every_log: Vec<PathBuf> = fixtures
        .iter()
        .flat_map(|fx| all_files(&fx.table))
        .filter(|p| name(p).contains(".log."))
        .collect();
    let expected: BTreeMap<PathBuf, Vec<(u64, u32)>> = every_log
        .iter()
        .cloned()
        .zip(oracle_blocks(&python, &shared, &every_log))
        .collect();
    for fx in &fixtures {
        let logs: Vec<PathBuf> = all_files(&fx.table)
            .into_iter()
            .filter(|p| name(p).contains(".log."))
            .collect();
        if logs.is_empty() {
            continue;
        }
        let table = rt
            .block_on(Table::open(&fx.table.to_string_lossy()))
            .expect("open");
        let (schema, _) = rt.block_on(table.schema()).expect("schema");
        for p in logs {
            let bytes = Bytes::from(std::fs::read(&p).expect("read log"));
            let w = walk(&bytes);
            assert!(w.corrupt.is_empty(), "{}: {:?}", p.display(), w.corrupt);
            let ours: Vec<(u64, u32)> = w
                .blocks
                .iter()
                .map(|b| (b.offset, b.block_type.ordinal()))
                .collect();
            assert_eq!(&ours, &expected[&p], "{}", p.display());
            for b in &w.blocks {
                *by_type
                    .entry(match b.block_type {
                        BlockType::AvroData => "avro",
                        BlockType::ParquetData => "parquet",
                        BlockType::Delete => "delete",
                        BlockType::Command => "command",
                        BlockType::HFileData => "hfile",
                        _ => "other",
                    })
                    .or_default() += 1;
            }
            files += 1;
            // Data-table log files decode into the table schema.
            if !p.to_string_lossy().contains("/.hoodie/metadata/") {
                let mut dec = LogFileDecoder::new(schema.clone()).expect("decoder");
                for c in dec
                    .decode_file(&p.to_string_lossy(), &bytes)
                    .expect("decode")
                {
                    match c {
                        LogContent::Data { batch, .. } => decoded_rows += batch.num_rows(),
                        LogContent::Delete { records, .. } => decoded_rows += records.len(),
                        LogContent::Rollback { .. } => {}
                    }
                }
            }
        }
    }
    println!("walked {files} log files: {by_type:?}; {decoded_rows} data-table records decoded");
    assert!(files > 100, "only {files} log files");
    for t in ["avro", "parquet", "delete", "command", "hfile"] {
        assert!(
            by_type.get(t).copied().unwrap_or(0) > 0,
            "no {t} block in the fixtures"
        );
    }
    assert!(decoded_rows > 0);
}

#[test]
fn bloom_filters_regenerate_byte_identical_from_fixture_keys() {
    use arrow::array::AsArray;
    use hudi_core::io::base_file::ParquetFile;
    use hudi_core::io::bloom::{
        BloomFilter, BloomType, FOOTER_KEY, MAX_RECORD_KEY, MIN_RECORD_KEY, TYPE_CODE_KEY,
    };
    let Some(shared) =
        support::shared_dir("bloom_filters_regenerate_byte_identical_from_fixture_keys")
    else {
        return;
    };
    let mut checked = 0;
    for fx in support::fixtures(&shared) {
        for p in all_files(&fx.table) {
            if !name(&p).ends_with(".parquet") || p.to_string_lossy().contains("/.hoodie/") {
                continue;
            }
            let file = ParquetFile::new(
                p.to_string_lossy(),
                Bytes::from(std::fs::read(&p).expect("read")),
            );
            let kv: BTreeMap<String, Option<String>> = file
                .key_value_metadata()
                .expect("footer")
                .into_iter()
                .collect();
            let Some(Some(stored)) = kv.get(FOOTER_KEY) else {
                continue;
            };
            let type_code = kv.get(TYPE_CODE_KEY).cloned().flatten();
            let mut keys = Vec::new();
            for b in file
                .read(Some(&["_hoodie_record_key".to_string()]))
                .expect("read keys")
            {
                let b = b.expect("batch");
                keys.extend(
                    b.column(0)
                        .as_string::<i32>()
                        .iter()
                        .flatten()
                        .map(String::from),
                );
            }
            let kind =
                BloomType::from_code(type_code.as_deref().unwrap_or("SIMPLE")).expect("known type");
            let mut f = BloomFilter::new(kind, 60_000, 1e-9, 100_000);
            for k in &keys {
                f.add(k);
            }
            assert_eq!(&f.serialize(), stored, "{}", p.display());
            let parsed =
                BloomFilter::deserialize(stored, type_code.as_deref(), &p.to_string_lossy())
                    .expect("parse");
            assert!(keys.iter().all(|k| parsed.might_contain(k)));
            assert_eq!(
                kv.get(MIN_RECORD_KEY).cloned().flatten(),
                keys.iter().min().cloned(),
                "{}",
                p.display()
            );
            assert_eq!(
                kv.get(MAX_RECORD_KEY).cloned().flatten(),
                keys.iter().max().cloned(),
                "{}",
                p.display()
            );
            checked += 1;
        }
    }
    println!("{checked} fixture Bloom filters regenerated byte for byte");
    assert!(
        checked >= 60,
        "only {checked} base files with a Bloom filter"
    );
}

#[test]
fn key_generators_reproduce_every_fixture_key_and_partition() {
    use arrow::array::AsArray;
    use hudi_core::keygen::KeyGenerator;
    let Some(shared) =
        support::shared_dir("key_generators_reproduce_every_fixture_key_and_partition")
    else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut rows = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for fx in support::fixtures(&shared) {
        let table = rt
            .block_on(Table::open(&fx.table.to_string_lossy()))
            .expect("open");
        // 0.14 does not store every keygen option in hoodie.properties: take them from the SQL.
        let sql = std::fs::read_to_string(shared.join("fixtures").join(format!("{}.sql", fx.name)))
            .unwrap_or_default();
        let opts: BTreeMap<String, String> = sql
            .lines()
            .filter_map(|l| {
                let (k, v) = l.trim().trim_end_matches(',').split_once('=')?;
                let k = k.trim().trim_matches('\'');
                let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
                k.starts_with("hoodie.keygen.")
                    .then(|| (k.to_string(), v.to_string()))
            })
            .collect();
        let g = KeyGenerator::from_table(table.config(), &opts)
            .unwrap_or_else(|e| panic!("{}: {e}", fx.name));
        kinds.insert(format!("{:?}", g.kind()));
        let (_, batches) = rt.block_on(table.read().collect()).expect("read");
        for b in batches {
            let keys = g.keys(&b).unwrap_or_else(|e| panic!("{}: {e}", fx.name));
            let stored_k: Vec<String> = b
                .column_by_name("_hoodie_record_key")
                .expect("key")
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(String::from)
                .collect();
            let stored_p: Vec<String> = b
                .column_by_name("_hoodie_partition_path")
                .expect("partition")
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(String::from)
                .collect();
            assert_eq!(keys.record_keys, stored_k, "{}", fx.name);
            assert_eq!(keys.partition_paths, stored_p, "{}", fx.name);
            rows += b.num_rows();
        }
    }
    println!("{rows} fixture rows: keys and partition paths regenerated ({kinds:?})");
    assert!(kinds.len() >= 4, "{kinds:?}");
}
