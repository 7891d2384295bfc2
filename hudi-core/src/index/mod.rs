//! Indexes: finding the file group that holds a record key. Bloom (footer min/max ranges, then
//! the footer Bloom filter, then an exact check of the candidate files' keys) and simple
//! (every key of the affected files), each per partition or global; and the bucket index.

pub mod bucket;

use std::collections::{HashMap, HashSet};

use arrow::array::{Array, AsArray};

use crate::error::Result;
use crate::fs_view::{FileGroupId, FileSlice};
use crate::io::base_file::{read_footer_kv, ParquetFile};
use crate::io::bloom::{BloomFilter, FOOTER_KEY, MAX_RECORD_KEY, MIN_RECORD_KEY, TYPE_CODE_KEY};
use crate::model::{InstantTime, OrderingValue, RECORD_KEY_FIELD};
use crate::storage::Storage;

/// Where a record lives now.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLocation {
    pub group: FileGroupId,
    pub base_instant: InstantTime,
    /// The stored record's ordering value (when an ordering field was asked for).
    pub ordering: OrderingValue,
}

/// Which lookup: Bloom filters or plain key scans, per partition or global.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexKind {
    pub bloom: bool,
    pub global: bool,
}

/// Statistics of one lookup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupStats {
    pub files_considered: usize,
    pub files_read: usize,
}

/// Every record key of a base file.
pub async fn file_keys(storage: &Storage, path: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    scan_file_keys(storage, path, None, None, &mut |k, _| {
        out.push(k.to_string())
    })
    .await?;
    Ok(out)
}

/// Scans the record keys of a base file (with the value of `ordering_field`, if given) and
/// hands `hit` those in `only` (all of them when `None`): the file's keys are borrowed from
/// its decoded column, never collected.
async fn scan_file_keys(
    storage: &Storage,
    path: &str,
    ordering_field: Option<&str>,
    only: Option<&HashSet<&str>>,
    hit: &mut (dyn FnMut(&str, OrderingValue) + Send),
) -> Result<()> {
    let bytes = storage.get(path).await?;
    let file = ParquetFile::new(storage.display(path), bytes);
    let mut cols = vec![RECORD_KEY_FIELD.to_string()];
    cols.extend(ordering_field.map(String::from));
    for b in file.read(Some(&cols))? {
        let b = b?;
        let Some(keys) = b
            .column_by_name(RECORD_KEY_FIELD)
            .and_then(|c| c.as_string_opt::<i32>())
        else {
            continue;
        };
        let ord = ordering_field.and_then(|f| b.column_by_name(f));
        for i in 0..b.num_rows() {
            if !keys.is_valid(i) {
                continue;
            }
            let k = keys.value(i);
            if only.is_none_or(|set| set.contains(k)) {
                hit(
                    k,
                    ord.map_or(OrderingValue::Null, |c| OrderingValue::from_array(c, i)),
                );
            }
        }
    }
    Ok(())
}

/// Looks for `want` in one base file: its footer's key range and Bloom filter first (with
/// `kind.bloom`), then its key column. Returns whether the keys were read, and the hits.
#[allow(clippy::too_many_arguments)]
async fn lookup_file(
    storage: &Storage,
    kind: IndexKind,
    prune_by_ranges: bool,
    ordering_field: Option<&str>,
    s: &FileSlice,
    base: &crate::fs_view::BaseFile,
    bucket: &str,
    want: &HashSet<&str>,
) -> Result<(bool, Vec<((String, String), RecordLocation)>)> {
    let candidates: Vec<&str> = match kind.bloom {
        true => {
            let kv = read_footer_kv(storage, &base.path, base.size).await?;
            let (min, max) = (kv.get(MIN_RECORD_KEY), kv.get(MAX_RECORD_KEY));
            let bloom = match kv.get(FOOTER_KEY) {
                Some(b) => Some(BloomFilter::deserialize(
                    b,
                    kv.get(TYPE_CODE_KEY).map(String::as_str),
                    &storage.display(&base.path),
                )?),
                None => None,
            };
            want.iter()
                .copied()
                .filter(|k| {
                    !prune_by_ranges
                        || match (min, max) {
                            (Some(lo), Some(hi)) => *k >= lo.as_str() && *k <= hi.as_str(),
                            _ => true,
                        }
                })
                .filter(|k| bloom.as_ref().is_none_or(|b| b.might_contain(k)))
                .collect()
        }
        false => want.iter().copied().collect(),
    };
    if candidates.is_empty() {
        return Ok((false, Vec::new()));
    }
    let group = FileGroupId {
        partition: s.partition.clone(),
        file_id: s.file_id.clone(),
    };
    let candidates: HashSet<&str> = candidates.into_iter().collect();
    let mut hits = Vec::new();
    let mut hit = |k: &str, ordering: OrderingValue| {
        let loc = RecordLocation {
            group: group.clone(),
            base_instant: s.base_instant.clone(),
            ordering,
        };
        hits.push(((k.to_string(), bucket.to_string()), loc));
    };
    scan_file_keys(
        storage,
        &base.path,
        ordering_field,
        Some(&candidates),
        &mut hit,
    )
    .await?;
    Ok((true, hits))
}

/// Looks up `(record key, partition)` pairs among the latest base files `slices`.
/// Non-global indexes only look in the record's own partition; global ones anywhere (the
/// result is keyed by record key alone then). Returns the location of each found key.
pub async fn lookup(
    storage: &Storage,
    kind: IndexKind,
    prune_by_ranges: bool,
    ordering_field: Option<&str>,
    slices: &[&FileSlice],
    keys: &[(String, String)],
) -> Result<(HashMap<(String, String), RecordLocation>, LookupStats)> {
    let global = kind.global;
    // Keys wanted per partition ("" bucket for global lookups).
    let mut wanted: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (k, p) in keys {
        let bucket = if global { "" } else { p.as_str() };
        wanted.entry(bucket).or_default().insert(k.as_str());
    }
    // The files to look in, each with the keys wanted there; looked into on several cores
    // (each Bloom check is 30 hashes, and a file's candidates are all its partition's keys).
    let relevant: Vec<(&FileSlice, &crate::fs_view::BaseFile, &str, &HashSet<&str>)> = slices
        .iter()
        .filter_map(|s| {
            let base = s.base_file.as_ref()?;
            let bucket = if global { "" } else { s.partition.as_str() };
            wanted.get(bucket).map(|want| (*s, base, bucket, want))
        })
        .collect();
    let looked = crate::io::parallel::each_file_group(relevant.len(), |i| {
        let (s, base, bucket, want) = relevant[i];
        lookup_file(
            storage,
            kind,
            prune_by_ranges,
            ordering_field,
            s,
            base,
            bucket,
            want,
        )
    })
    .await?;
    let mut found: HashMap<(String, String), RecordLocation> = HashMap::new();
    let mut stats = LookupStats {
        files_considered: relevant.len(),
        files_read: 0,
    };
    // In slice order, as a sequential scan would find them.
    for (read, hits) in looked {
        stats.files_read += usize::from(read);
        found.extend(hits);
    }
    Ok((found, stats))
}
