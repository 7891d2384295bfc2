//! Input records prepared for a write: converted to the table's stored types, with their
//! record keys, partition paths, delete flags and ordering values, deduplicated on request.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::SchemaRef;

use crate::error::{HudiError, Result};
use crate::index::bucket::bucket_id;
use crate::keygen::KeyGenerator;
use crate::model::{OrderingValue, IS_DELETED_FIELD};

use super::schema::{stored_schema, to_stored};
use crate::io::row_store::RowStore;

/// Strings of all rows in one buffer (no allocation per row).
#[derive(Debug, Default)]
struct Strings {
    data: String,
    ends: Vec<usize>,
}

impl Strings {
    fn push(&mut self, s: &str) {
        self.data.push_str(s);
        self.ends.push(self.data.len());
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }
}

/// Fails on an input column unknown to the write `schema` (fixed by the first batch): it would
/// be lost.
pub(super) fn check_columns(schema: &SchemaRef, input: &RecordBatch) -> Result<()> {
    let incoming = stored_schema(&input.schema())?;
    match incoming
        .fields()
        .iter()
        .find(|f| schema.field_with_name(f.name()).is_err())
    {
        Some(f) => Err(HudiError::Schema {
            context: format!("column '{}'", f.name()),
            reason: "appears in a later input batch but not in the first one".into(),
        }),
        None => Ok(()),
    }
}

/// The records of one write.
pub struct Prepared {
    /// Input rows in the write schema (no meta columns), in memory or spilled.
    pub rows: RowStore,
    /// Record keys, by row.
    keys: Strings,
    /// Partition of each row (an index into `partition_names`).
    partitions: Vec<u32>,
    partition_names: Vec<String>,
    /// Whether each row is a delete (`_hoodie_is_deleted = true`, or a delete operation).
    pub deletes: Vec<bool>,
    /// Ordering value of each row; empty when the write never compares them (a plain
    /// insert: 32 bytes a row saved).
    ordering: Vec<OrderingValue>,
    track_ordering: bool,
    /// Rows taking part in the write, in input order (all, or the winners of deduplication).
    pub live: Vec<usize>,
    /// Partition paths numbered as they first appear: rows are stored by partition, so that
    /// a file group's rows are read back without the rest of the input.
    partition_ids: HashMap<String, u32, ahash::RandomState>,
    /// With the bucket index: the hash fields and buckets per partition. Rows are then
    /// stored by partition and bucket, each bucket being one file group.
    buckets: Option<(Vec<String>, u32)>,
}

impl Prepared {
    /// The ordering value of row `i` (null when not tracked).
    pub fn ordering(&self, i: usize) -> &OrderingValue {
        static NULL: OrderingValue = OrderingValue::Null;
        self.ordering.get(i).unwrap_or(&NULL)
    }

    /// The record key of row `i`.
    pub fn key(&self, i: usize) -> &str {
        self.keys.get(i)
    }

    /// The partition path of row `i`.
    pub fn partition(&self, i: usize) -> &str {
        &self.partition_names[self.partitions[i] as usize]
    }

    /// The number of row `i`'s partition in [`Self::partition_names`].
    pub fn partition_index(&self, i: usize) -> u32 {
        self.partitions[i]
    }

    /// Every partition path of the input, in order of first appearance.
    pub fn partition_names(&self) -> &[String] {
        &self.partition_names
    }

    /// Rows of the input.
    pub fn len(&self) -> usize {
        self.partitions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }

    /// Moves row `i` to partition `p` (a global index keeping a record where it is).
    pub fn set_partition(&mut self, i: usize, p: &str) {
        self.partitions[i] = self.partition_id(p);
    }

    fn partition_id(&mut self, p: &str) -> u32 {
        if let Some(id) = self.partition_ids.get(p) {
            return *id;
        }
        let id = self.partition_names.len() as u32;
        self.partition_names.push(p.to_string());
        self.partition_ids.insert(p.to_string(), id);
        id
    }
}

impl Prepared {
    /// An empty set of records in the write `schema`; rows past `spill_threshold` bytes go to
    /// a local temporary file; `track_ordering`: whether rows' ordering values are kept (see
    /// [`Self::ordering`]).
    pub fn with_ordering(schema: SchemaRef, spill_threshold: usize, track_ordering: bool) -> Self {
        Prepared {
            rows: RowStore::new(schema, spill_threshold),
            keys: Strings::default(),
            partitions: Vec::new(),
            partition_names: Vec::new(),
            deletes: Vec::new(),
            ordering: Vec::new(),
            track_ordering,
            live: Vec::new(),
            partition_ids: HashMap::default(),
            buckets: None,
        }
    }

    /// Stores rows by bucket as well as by partition (`hash_fields`, `num_buckets` of the
    /// bucket index): a bucket's rows are then read back alone.
    pub fn with_buckets(mut self, hash_fields: Vec<String>, num_buckets: u32) -> Self {
        self.buckets = Some((hash_fields, num_buckets.max(1)));
        self
    }

    /// Converts, keys and stores one input batch. `all_deletes` marks every row a delete.
    pub fn push(
        &mut self,
        input: &RecordBatch,
        keygen: &KeyGenerator,
        ordering_field: Option<&str>,
        all_deletes: bool,
    ) -> Result<()> {
        let schema = self.rows.schema().clone();
        check_columns(&schema, input)?;
        let batch = to_stored(input, &schema)?;
        let k = keygen.key_columns(&batch)?;
        let n = batch.num_rows();
        let start = self.partitions.len();
        if all_deletes {
            self.deletes.extend(std::iter::repeat_n(true, n));
        } else {
            match batch
                .column_by_name(IS_DELETED_FIELD)
                .and_then(|c| c.as_boolean_opt().cloned())
            {
                Some(d) => self
                    .deletes
                    .extend((0..n).map(|i| d.is_valid(i) && d.value(i))),
                None => self.deletes.extend(std::iter::repeat_n(false, n)),
            }
        }
        match ordering_field
            .filter(|_| self.track_ordering)
            .and_then(|f| batch.column_by_name(f))
        {
            Some(c) => self
                .ordering
                .extend((0..n).map(|i| OrderingValue::from_array(c, i))),
            None if self.track_ordering => self
                .ordering
                .extend(std::iter::repeat_n(OrderingValue::Null, n)),
            None => {}
        }
        let ids: Vec<u32> = k.partitions.iter().map(|p| self.partition_id(p)).collect();
        let segments: Vec<u32> = k
            .partition_of_row
            .iter()
            .map(|p| ids[*p as usize])
            .collect();
        for key in k.record_keys.iter() {
            self.keys.push(key.unwrap_or_default());
        }
        self.partitions.extend_from_slice(&segments);
        self.live.extend(start..start + n);
        let segments = match &self.buckets {
            // A segment per partition and bucket (a collision only costs locality).
            Some((fields, n_buckets)) => segments
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let b = bucket_id(self.keys.get(start + i), fields, *n_buckets);
                    p.wrapping_mul(*n_buckets).wrapping_add(b)
                })
                .collect(),
            None => segments,
        };
        self.rows.push_segmented(batch, Some(&segments))
    }

    /// Ends the input.
    pub fn seal(&mut self) -> Result<()> {
        self.rows.seal()
    }

    /// Keeps one row per key (per key and partition unless `global`): the greatest ordering
    /// value wins, ties go to the later row (`OverwriteWithLatestAvroPayload.preCombine`).
    pub fn dedup(&mut self, global: bool) {
        let mut winner: HashMap<(&str, u32), usize, ahash::RandomState> =
            HashMap::with_capacity_and_hasher(self.live.len(), Default::default());
        for &i in &self.live {
            let part = if global { 0 } else { self.partitions[i] };
            let key = (self.keys.get(i), part);
            match winner.get(&key) {
                Some(&j)
                    if matches!(
                        self.ordering(j).compare(self.ordering(i)),
                        Some(std::cmp::Ordering::Greater)
                    ) => {}
                _ => {
                    winner.insert(key, i);
                }
            }
        }
        let mut keep: Vec<usize> = winner.into_values().collect();
        keep.sort_unstable();
        self.live = keep;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::config::properties;
    use crate::config::table::TableConfig;

    fn keygen() -> KeyGenerator {
        let text =
            "hoodie.table.name=t\nhoodie.table.version=6\nhoodie.table.recordkey.fields=id\n\
                    hoodie.table.partition.fields=p\n\
                    hoodie.table.keygenerator.class=org.apache.hudi.keygen.SimpleKeyGenerator";
        let config = TableConfig::from_properties(properties::parse(text), "t").unwrap();
        KeyGenerator::from_table(&config, &BTreeMap::new()).unwrap()
    }

    fn input(from: i64, n: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("p", DataType::Utf8, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let ids: Vec<String> = (from..from + n).map(|i| format!("k{i}")).collect();
        let parts: Vec<&str> = (from..from + n)
            .map(|i| if i % 3 == 0 { "a" } else { "b" })
            .collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(ids)),
                Arc::new(StringArray::from(parts)),
                Arc::new(Int64Array::from_iter_values(from..from + n)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn bucketed_rows_are_stored_by_partition_and_bucket_and_read_back_whole() {
        let schema = input(0, 1).schema();
        let fields = vec!["id".to_string()];
        // Threshold 0: every batch spills, as a large input's would.
        let mut p = Prepared::with_ordering(schema, 0, true).with_buckets(fields.clone(), 4);
        for from in [0, 500] {
            p.push(&input(from, 500), &keygen(), Some("v"), false)
                .unwrap();
        }
        p.seal().unwrap();
        assert!(p.rows.spilled());
        let mut groups: BTreeMap<(String, u32), Vec<usize>> = BTreeMap::new();
        for i in 0..p.len() {
            let b = bucket_id(p.key(i), &fields, 4);
            groups
                .entry((p.partition(i).to_string(), b))
                .or_default()
                .push(i);
        }
        assert_eq!(groups.len(), 8, "2 partitions x 4 buckets");
        // One stored batch per input batch and (partition, bucket): a bucket's rows never
        // share a batch with another bucket's.
        assert_eq!(p.rows.stored_batches(), 16);
        let mut seen = BTreeSet::new();
        for ((part, bucket), rows) in &groups {
            let got = p.rows.take(rows).unwrap();
            let ids = got.column(0).as_string::<i32>();
            let parts = got.column(1).as_string::<i32>();
            for (k, &i) in rows.iter().enumerate() {
                assert_eq!(ids.value(k), p.key(i));
                assert_eq!(parts.value(k), part);
                assert_eq!(bucket_id(ids.value(k), &fields, 4), *bucket);
                assert!(seen.insert(ids.value(k).to_string()));
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
