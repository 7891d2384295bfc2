//! Indexes: finding the file group that holds a record key. Bloom (footer min/max ranges, then
//! the footer Bloom filter, then an exact check of the candidate files' keys) and simple
//! (every key of the affected files), each per partition or global; and the bucket index.

pub mod bucket;
mod wanted;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use parquet::file::metadata::ParquetMetaData;

use crate::error::Result;
use crate::fs_view::{BaseFile, FileSlice};
use crate::io::base_file::{footer_kv, read_columns, read_footer};
use crate::io::bloom::{BloomFilter, FOOTER_KEY, MAX_RECORD_KEY, MIN_RECORD_KEY, TYPE_CODE_KEY};
use crate::model::{OrderingValue, RECORD_KEY_FIELD};
use crate::storage::Storage;

use wanted::{KeyMap, Wanted};

/// Where a record lives now.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLocation {
    /// The slice (a position in the slices looked in) whose base file holds it.
    pub slice: usize,
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
pub async fn file_keys(storage: &Storage, base: &BaseFile) -> Result<Vec<String>> {
    let mut out = Vec::new();
    scan_file_keys(storage, base, None, None, None, &mut |k, _, _| {
        out.push(k.to_string())
    })
    .await?;
    Ok(out)
}

/// Scans the record keys of a base file (with the value of `ordering_field`, if given) and
/// hands `hit` those in `only` (all of them when `None`) with their numbers there: the
/// file's keys are borrowed from its decoded column, never collected. Only the key (and
/// ordering) column chunks are fetched; `meta` is the footer when it was read already.
async fn scan_file_keys(
    storage: &Storage,
    base: &BaseFile,
    meta: Option<Arc<ParquetMetaData>>,
    ordering_field: Option<&str>,
    only: Option<&KeyMap<'_>>,
    hit: &mut (dyn FnMut(&str, u32, OrderingValue) + Send),
) -> Result<()> {
    let meta = match meta {
        Some(m) => m,
        None => read_footer(storage, &base.path, base.size).await?,
    };
    let mut cols = vec![RECORD_KEY_FIELD.to_string()];
    cols.extend(ordering_field.map(String::from));
    for b in read_columns(storage, &base.path, base.size, meta, &cols).await? {
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
            let n = match only {
                None => 0,
                Some(set) => match set.get(k) {
                    Some(n) => *n,
                    None => continue,
                },
            };
            let ordering = ord.map_or(OrderingValue::Null, |c| OrderingValue::from_array(c, i));
            hit(k, n, ordering);
        }
    }
    Ok(())
}

/// Looks for the `want`ed keys in one base file: its footer's key range and Bloom filter
/// first (with `kind.bloom`), then its key column. Returns whether the keys were read, and
/// the numbers of the keys found with their ordering values.
async fn lookup_file(
    storage: &Storage,
    kind: IndexKind,
    prune_by_ranges: bool,
    ordering_field: Option<&str>,
    base: &BaseFile,
    want: &Wanted<'_>,
) -> Result<(bool, Vec<(u32, OrderingValue)>)> {
    let (meta, filtered) = match kind.bloom {
        true => {
            let meta = read_footer(storage, &base.path, base.size).await?;
            let kv = footer_kv(&meta);
            let (min, max) = (kv.get(MIN_RECORD_KEY), kv.get(MAX_RECORD_KEY));
            let bloom = match kv.get(FOOTER_KEY) {
                Some(b) => Some(BloomFilter::deserialize(
                    b,
                    kv.get(TYPE_CODE_KEY).map(String::as_str),
                    &storage.display(&base.path),
                )?),
                None => None,
            };
            let range = match (min, max) {
                (Some(lo), Some(hi)) if prune_by_ranges => Some((lo.as_str(), hi.as_str())),
                _ => None,
            };
            (Some(meta), Some(want.candidates(bloom.as_ref(), range)))
        }
        false => (None, None),
    };
    let candidates = filtered.as_ref().unwrap_or(want.numbers());
    if candidates.is_empty() {
        return Ok((false, Vec::new()));
    }
    let mut hits = Vec::new();
    let mut hit = |_: &str, n: u32, ordering: OrderingValue| hits.push((n, ordering));
    scan_file_keys(
        storage,
        base,
        meta,
        ordering_field,
        Some(candidates),
        &mut hit,
    )
    .await?;
    Ok((true, hits))
}

/// Looks up `n` `(record key, partition)` pairs (`row(i)` is the `i`-th) among the latest base
/// files `slices`. Non-global indexes only look in the record's own partition; global ones
/// anywhere. Returns the pairs found, by number (ascending), with their locations. Only pairs
/// whose partition has a base file are looked at (a write's new partitions cost nothing).
pub async fn lookup<'a>(
    storage: &Storage,
    kind: IndexKind,
    prune_by_ranges: bool,
    ordering_field: Option<&str>,
    slices: &[&FileSlice],
    n: usize,
    row: impl Fn(usize) -> (&'a str, &'a str),
) -> Result<(Vec<(usize, RecordLocation)>, LookupStats)> {
    let bucket_of = |partition: &'a str| if kind.global { "" } else { partition };
    // The buckets to look in (a partition, or "" for global lookups) and the files there.
    let mut buckets: HashMap<&str, usize, ahash::RandomState> = HashMap::default();
    let mut relevant: Vec<(usize, &BaseFile, usize)> = Vec::new();
    for (i, s) in slices.iter().enumerate() {
        let Some(base) = s.base_file.as_ref() else {
            continue;
        };
        let bucket = if kind.global {
            ""
        } else {
            s.partition.as_str()
        };
        let next = buckets.len();
        let b = *buckets.entry(bucket).or_insert(next);
        relevant.push((i, base, b));
    }
    // The distinct keys wanted in each bucket, and each pair's (bucket, key number).
    let mut wanted: Vec<Wanted> = (0..buckets.len()).map(|_| Wanted::new()).collect();
    let mut slot: Vec<(usize, usize, u32)> = Vec::new();
    for i in 0..n {
        let (k, p) = row(i);
        if let Some(&b) = buckets.get(bucket_of(p)) {
            slot.push((i, b, wanted[b].add(k)));
        }
    }
    for w in &mut wanted {
        w.seal();
    }
    // Each file with keys wanted there, looked into on several cores (a file's candidates
    // are all its partition's keys).
    relevant.retain(|(_, _, b)| !wanted[*b].is_empty());
    let looked = crate::io::parallel::each_file_group(relevant.len(), |i| {
        let (_, base, b) = relevant[i];
        lookup_file(
            storage,
            kind,
            prune_by_ranges,
            ordering_field,
            base,
            &wanted[b],
        )
    })
    .await?;
    let mut found: Vec<HashMap<u32, RecordLocation, ahash::RandomState>> =
        (0..wanted.len()).map(|_| HashMap::default()).collect();
    let mut stats = LookupStats {
        files_considered: relevant.len(),
        files_read: 0,
    };
    // In slice order, as a sequential scan would find them (a later slice wins).
    for ((slice, _, b), (read, hits)) in relevant.iter().zip(looked) {
        stats.files_read += usize::from(read);
        for (k, ordering) in hits {
            let slice = *slice;
            found[*b].insert(k, RecordLocation { slice, ordering });
        }
    }
    let out = slot
        .into_iter()
        .filter_map(|(i, b, k)| found[b].get(&k).map(|l| (i, l.clone())))
        .collect();
    Ok((out, stats))
}
