//! Input records prepared for a write: converted to the table's stored types, with their
//! record keys, partition paths, delete flags and ordering values, deduplicated on request.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;

use crate::error::{HudiError, Result};
use crate::keygen::KeyGenerator;
use crate::model::{OrderingValue, IS_DELETED_FIELD};
use crate::read::merge::ordering_at;

use super::schema::to_stored;

/// The records of one write.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// All input rows in the write schema (no meta columns).
    pub batch: RecordBatch,
    pub keys: Vec<String>,
    pub partitions: Vec<String>,
    /// Whether each row is a delete (`_hoodie_is_deleted = true`, or a delete operation).
    pub deletes: Vec<bool>,
    pub ordering: Vec<OrderingValue>,
    /// Rows taking part in the write, in input order (all, or the winners of deduplication).
    pub live: Vec<usize>,
}

impl Prepared {
    /// Converts and keys the input. `all_deletes` marks every row as a delete.
    pub fn new(
        batches: &[RecordBatch],
        schema: &SchemaRef,
        keygen: &KeyGenerator,
        ordering_field: Option<&str>,
        all_deletes: bool,
    ) -> Result<Self> {
        let converted = batches
            .iter()
            .map(|b| to_stored(b, schema))
            .collect::<Result<Vec<_>>>()?;
        let batch = concat_batches(schema, &converted)
            .map_err(|e| HudiError::arrow("collecting the input", e))?;
        let k = keygen.keys(&batch)?;
        let n = batch.num_rows();
        let deletes = if all_deletes {
            vec![true; n]
        } else {
            match batch
                .column_by_name(IS_DELETED_FIELD)
                .and_then(|c| c.as_boolean_opt().cloned())
            {
                Some(d) => (0..n).map(|i| d.is_valid(i) && d.value(i)).collect(),
                None => vec![false; n],
            }
        };
        let ordering = match ordering_field.and_then(|f| batch.column_by_name(f)) {
            Some(c) => (0..n).map(|i| ordering_at(c, i)).collect(),
            None => vec![OrderingValue::Null; n],
        };
        Ok(Prepared {
            batch,
            keys: k.record_keys,
            partitions: k.partition_paths,
            deletes,
            ordering,
            live: (0..n).collect(),
        })
    }

    /// Keeps one row per key (per key and partition unless `global`): the greatest ordering
    /// value wins, ties go to the later row (`OverwriteWithLatestAvroPayload.preCombine`).
    pub fn dedup(&mut self, global: bool) {
        let mut winner: HashMap<(&str, &str), usize> = HashMap::new();
        for &i in &self.live {
            let part = if global {
                ""
            } else {
                self.partitions[i].as_str()
            };
            let key = (self.keys[i].as_str(), part);
            match winner.get(&key) {
                Some(&j)
                    if matches!(
                        self.ordering[j].compare(&self.ordering[i]),
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
