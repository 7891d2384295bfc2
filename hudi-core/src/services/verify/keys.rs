//! The checks that read record keys: base-file footers and duplicate keys.

use std::collections::HashMap;

use arrow::array::{Array, StringArray};
use futures::TryStreamExt;

use super::{finding, Check, Finding};
use crate::error::Result;
use crate::fs_view::{BaseFile, FileSystemView};
use crate::io::base_file::ParquetFile;
use crate::io::bloom::{BloomFilter, FOOTER_KEY, MAX_RECORD_KEY, MIN_RECORD_KEY, TYPE_CODE_KEY};
use crate::model::{COMMIT_TIME_FIELD, PARTITION_PATH_FIELD, RECORD_KEY_FIELD};
use crate::snapshot::Snapshot;
use crate::storage::Storage;

/// At most this many duplicate keys are named one by one.
const MAX_NAMED_DUPLICATES: usize = 20;

/// Every base file's min/max-key footers and Bloom filter agree with the keys it holds.
pub(super) async fn footers(
    storage: &Storage,
    view: &FileSystemView,
    progress: Option<&crate::services::Progress>,
) -> Result<(Vec<Finding>, usize)> {
    let mut out = Vec::new();
    let mut count = 0;
    let bases: Vec<&BaseFile> = view
        .groups
        .values()
        .flat_map(|g| g.slices.values())
        .filter_map(|s| s.base_file.as_ref())
        .collect();
    for b in bases.iter().copied() {
        crate::services::report(progress, "verify", "base files", count, bases.len());
        count += 1;
        if let Err(e) = footer(storage, b, &mut out).await {
            out.push(finding(Check::Footer, &b.path, e.to_string()));
        }
    }
    Ok((out, count))
}

async fn footer(storage: &Storage, b: &BaseFile, out: &mut Vec<Finding>) -> Result<()> {
    let file = ParquetFile::new(storage.display(&b.path), storage.get(&b.path).await?);
    let kv: HashMap<String, String> = file
        .key_value_metadata()?
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let mut keys: Vec<String> = Vec::new();
    for batch in file.read(Some(&[RECORD_KEY_FIELD.to_string()]))? {
        let batch = batch?;
        let Some(col) = batch.column_by_name(RECORD_KEY_FIELD) else {
            return Ok(()); // virtual keys: nothing to compare
        };
        if let Some(a) = col.as_any().downcast_ref::<StringArray>() {
            keys.extend(a.iter().flatten().map(str::to_string));
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    let min = keys.iter().min().expect("non-empty");
    let max = keys.iter().max().expect("non-empty");
    for (footer_key, actual, which) in [
        (MIN_RECORD_KEY, min, "smallest"),
        (MAX_RECORD_KEY, max, "largest"),
    ] {
        if let Some(v) = kv.get(footer_key) {
            if v != actual {
                out.push(finding(
                    Check::Footer,
                    &b.path,
                    format!("{footer_key} is '{v}', but the file's {which} key is '{actual}'"),
                ));
            }
        }
    }
    if let Some(b64) = kv.get(FOOTER_KEY) {
        match BloomFilter::deserialize(b64, kv.get(TYPE_CODE_KEY).map(String::as_str), &b.path) {
            Err(e) => out.push(finding(Check::Footer, &b.path, e.to_string())),
            Ok(bloom) => {
                let absent: Vec<&String> =
                    keys.iter().filter(|k| !bloom.might_contain(k)).collect();
                if let Some(first) = absent.first() {
                    out.push(finding(
                        Check::Footer,
                        &b.path,
                        format!(
                            "the Bloom filter misses {} of the file's {} keys (e.g. '{first}'): an index lookup would not find them",
                            absent.len(),
                            keys.len()
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Operations that do not look up existing records: Hudi lets them write a key twice.
const INSERTS: [&str; 4] = [
    "INSERT",
    "BULK_INSERT",
    "INSERT_PREPPED",
    "BULK_INSERT_PREPPED",
];

/// Keys found twice: errors, and warnings where an insert (which Hudi does not deduplicate
/// against the table) or a commit no longer on the active timeline wrote a copy.
pub(super) struct Duplicates {
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub records: usize,
}

/// No record key twice in the snapshot: within a partition, or (`global`) across the table.
/// Holds the keys of one partition at a time (of the whole table for a global check).
pub(super) async fn duplicates(
    table: &Snapshot,
    global: bool,
    operations: &HashMap<String, String>,
) -> Result<Duplicates> {
    let columns = vec![
        RECORD_KEY_FIELD.to_string(),
        PARTITION_PATH_FIELD.to_string(),
        COMMIT_TIME_FIELD.to_string(),
    ];
    let (schema, _) = table.schema().await?;
    let opts = crate::read::ReadOptions {
        columns: Some(columns),
        ..Default::default()
    };
    let plan = crate::read::plan(
        table.storage(),
        table.config(),
        table.timeline(),
        schema,
        &opts,
    )
    .await?;
    // One partition at a time (the whole table for a global check): only its keys are held.
    let mut scopes: Vec<Vec<crate::fs_view::FileSlice>> = Vec::new();
    if global {
        scopes.push(plan.slices.clone());
    } else {
        let mut by_part: std::collections::BTreeMap<&str, Vec<_>> = Default::default();
        for s in &plan.slices {
            by_part
                .entry(s.partition.as_str())
                .or_default()
                .push(s.clone());
        }
        scopes.extend(by_part.into_values());
    }
    let mut dups = Vec::new();
    let mut records = 0;
    for slices in scopes {
        let mut scoped = plan.clone();
        scoped.slices = slices;
        let (d, n) = scope_duplicates(scoped.stream(table.storage().clone()), global).await?;
        dups.extend(d);
        records += n;
    }
    dups.sort();
    let inserted = |commits: &[String]| {
        commits.iter().any(|c| {
            operations
                .get(c)
                .is_none_or(|op| INSERTS.contains(&op.as_str()))
        })
    };
    let (allowed, wrong): (Vec<_>, Vec<_>) = dups.into_iter().partition(|(_, c)| inserted(c));
    Ok(Duplicates {
        errors: named(&wrong, global, ""),
        warnings: named(
            &allowed,
            global,
            " (written by an insert, which Hudi does not deduplicate against the table)",
        ),
        records,
    })
}

type KeyCopies = ((String, String), Vec<String>);

/// The keys found more than once in one scope's rows, with the commits of their copies.
async fn scope_duplicates(
    mut batches: futures::stream::BoxStream<'static, Result<arrow::array::RecordBatch>>,
    global: bool,
) -> Result<(Vec<KeyCopies>, usize)> {
    let mut seen: HashMap<(String, String), Vec<String>> = HashMap::new();
    let mut records = 0;
    while let Some(batch) = batches.try_next().await? {
        records += batch.num_rows();
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned())
        };
        let (Some(keys), parts, commits) = (
            col(RECORD_KEY_FIELD),
            col(PARTITION_PATH_FIELD),
            col(COMMIT_TIME_FIELD),
        ) else {
            continue;
        };
        for i in 0..batch.num_rows() {
            if keys.is_null(i) {
                continue;
            }
            let part = match (&parts, global) {
                (Some(p), false) if !p.is_null(i) => p.value(i).to_string(),
                _ => String::new(),
            };
            let commit = commits
                .as_ref()
                .filter(|c| !c.is_null(i))
                .map(|c| c.value(i).to_string())
                .unwrap_or_default();
            seen.entry((part, keys.value(i).to_string()))
                .or_default()
                .push(commit);
        }
    }
    let dups = seen.into_iter().filter(|(_, c)| c.len() > 1).collect();
    Ok((dups, records))
}

fn named(dups: &[KeyCopies], global: bool, why: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = dups
        .iter()
        .take(MAX_NAMED_DUPLICATES)
        .map(|((part, key), commits)| {
            let scope = match global {
                true => "the table".to_string(),
                false => format!("partition '{part}'"),
            };
            finding(
                Check::DuplicateKey,
                format!("{part}/{key}").trim_start_matches('/'),
                format!(
                    "record key '{key}' appears {} times in {scope}, by commits {}{why}",
                    commits.len(),
                    commits.join(", ")
                ),
            )
        })
        .collect();
    if dups.len() > MAX_NAMED_DUPLICATES {
        out.push(finding(
            Check::DuplicateKey,
            ".",
            format!(
                "{} more duplicate keys{why}",
                dups.len() - MAX_NAMED_DUPLICATES
            ),
        ));
    }
    out
}
