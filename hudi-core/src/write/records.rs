//! Input records prepared for a write: converted to the table's stored types, with their
//! record keys, partition paths, delete flags and ordering values, deduplicated on request.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::SchemaRef;

use crate::error::{HudiError, Result};
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
        }
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
