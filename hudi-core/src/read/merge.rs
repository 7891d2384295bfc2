//! Merging a file slice: base records with the records and deletes of its log blocks.
//!
//! Table version 6 merges as Apache Hudi 0.14/0.15 does ([`MergeRule::Payload`]): log records
//! pre-combine by ordering value whatever the payload, deletes are compared only with records
//! of their Java class, and the merged log record replaces the base one (for
//! `DefaultHoodieRecordPayload` only when its ordering value is not smaller). Later versions
//! use Hudi 1.x merge modes ([`MergeRule::Mode`]): `EVENT_TIME_ORDERING` (the greatest
//! ordering value wins, ties to the later write; deletes with the default ordering value are
//! ordered by commit time) and `COMMIT_TIME_ORDERING` (the later write wins).

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::SchemaRef;

use crate::config::table::{RecordMergeMode, TableConfig};
use crate::error::{HudiError, Result};
use crate::io::log_reader::DeleteRecord;
use crate::io::row_store::RowStore;
use crate::model::{OrderingValue, IS_DELETED_FIELD, RECORD_KEY_FIELD};

const EVENT_TIME_STRATEGY: &str = "eeb8d96f-b1e4-49fd-bbf8-28ac514178e5";
const COMMIT_TIME_STRATEGY: &str = "ce9acb64-bde0-424c-9b91-f6ebba25356d";

/// The merge mode a table's records are merged with, inferred as Hudi does for tables that
/// do not store `hoodie.record.merge.mode`.
pub fn resolve_merge_mode(config: &TableConfig) -> Result<RecordMergeMode> {
    if let Some(m) = config.merge_mode {
        return match m {
            RecordMergeMode::Custom => Err(HudiError::Unsupported {
                path: config.name.clone(),
                feature: "hoodie.record.merge.mode=CUSTOM".into(),
            }),
            m => Ok(m),
        };
    }
    let strategy = config
        .raw
        .get("hoodie.record.merge.strategy.id")
        .map(String::as_str);
    let from_payload = |p: &str| -> Result<RecordMergeMode> {
        let short = p.rsplit('.').next().unwrap_or(p);
        match short {
            "DefaultHoodieRecordPayload" | "EventTimeAvroPayload" => {
                Ok(RecordMergeMode::EventTimeOrdering)
            }
            "OverwriteWithLatestAvroPayload" => Ok(RecordMergeMode::CommitTimeOrdering),
            other => Err(HudiError::Unsupported {
                path: config.name.clone(),
                feature: format!("payload class {other}"),
            }),
        }
    };
    let from_strategy = |s: &str| match s {
        EVENT_TIME_STRATEGY => Some(RecordMergeMode::EventTimeOrdering),
        COMMIT_TIME_STRATEGY => Some(RecordMergeMode::CommitTimeOrdering),
        _ => None,
    };
    if config.version.merge_strategy_before_payload() {
        if let Some(m) = strategy.and_then(from_strategy) {
            return Ok(m);
        }
    }
    if let Some(p) = &config.payload_class {
        return from_payload(p);
    }
    if let Some(m) = strategy.and_then(from_strategy) {
        return Ok(m);
    }
    Ok(if config.precombine_field.is_some() {
        RecordMergeMode::EventTimeOrdering
    } else {
        RecordMergeMode::CommitTimeOrdering
    })
}

/// A record's state in the log buffer.
#[derive(Debug, Clone)]
enum Entry {
    /// Row `row` of the buffer's row store.
    Data { row: usize, ordering: OrderingValue },
    Delete {
        ordering: OrderingValue,
        commit_time_delete: bool,
    },
}

impl Entry {
    fn is_commit_time_delete(&self) -> bool {
        matches!(
            self,
            Entry::Delete {
                commit_time_delete: true,
                ..
            }
        )
    }
    fn ordering(&self) -> &OrderingValue {
        match self {
            Entry::Data { ordering, .. } | Entry::Delete { ordering, .. } => ordering,
        }
    }
}

/// How the records of a file slice combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeRule {
    /// Apache Hudi 0.14/0.15 (table version 6). In the log (Java's log scanner, which
    /// pre-combines with the payload): a record replaces an older one unless the older's
    /// ordering value is greater; a delete is dropped when an older record of the delete's Java
    /// class has a greater ordering value (a log record's value keeps its raw Avro class, so a
    /// date, decimal or string record never outranks a delete). Against the base file the
    /// merged log record wins, with `event_time_base` (`DefaultHoodieRecordPayload`) a record
    /// only when the base record's ordering value is not greater; deletes always win.
    Payload { event_time_base: bool },
    /// Apache Hudi 1.x merge modes (table version 8 and later).
    Mode(RecordMergeMode),
}

/// The merge rule of a table.
pub fn resolve_merge_rule(config: &TableConfig) -> Result<MergeRule> {
    let mode = resolve_merge_mode(config)?;
    Ok(if config.version.merges_by_payload() {
        MergeRule::Payload {
            event_time_base: mode == RecordMergeMode::EventTimeOrdering,
        }
    } else {
        MergeRule::Mode(mode)
    })
}

/// Decides whether a newer log entry replaces an older one (pre-combining in the log).
fn newer_wins(rule: MergeRule, newer: &Entry, older: &Entry) -> bool {
    match rule {
        MergeRule::Payload { .. } => newer_wins_in_log_v6(newer, older),
        MergeRule::Mode(mode) => newer_wins_by_mode(mode, newer, older),
    }
}

/// Java 0.14/0.15's log scanner: `preCombine` for records, `processNextDeletedRecord` for
/// deletes.
fn newer_wins_in_log_v6(newer: &Entry, older: &Entry) -> bool {
    let older_value = match older {
        Entry::Data { ordering, .. } => ordering.as_avro_record_value(),
        Entry::Delete { ordering, .. } => ordering.clone(),
    };
    match newer {
        // An older delete is empty: the record wins ("natural order").
        Entry::Data { .. } if matches!(older, Entry::Delete { .. }) => true,
        Entry::Data { ordering, .. } => !matches!(
            older_value.compare(&ordering.as_avro_record_value()),
            Some(std::cmp::Ordering::Greater)
        ),
        Entry::Delete { ordering, .. } => {
            if ordering.is_natural_default() {
                return true;
            }
            !(older_value.same_class(ordering)
                && matches!(
                    older_value.compare(ordering),
                    Some(std::cmp::Ordering::Greater)
                ))
        }
    }
}

/// Hudi 1.x merge modes.
fn newer_wins_by_mode(mode: RecordMergeMode, newer: &Entry, older: &Entry) -> bool {
    if mode != RecordMergeMode::EventTimeOrdering {
        return true;
    }
    match newer {
        Entry::Delete {
            commit_time_delete,
            ordering,
        } => {
            if older.is_commit_time_delete() {
                return false;
            }
            if *commit_time_delete {
                return true;
            }
            // A delete with a real ordering value loses only to a strictly greater one.
            !matches!(
                older.ordering().compare_by_value(ordering),
                Some(std::cmp::Ordering::Greater)
            )
        }
        Entry::Data { ordering, .. } => {
            if newer.is_commit_time_delete() || older.is_commit_time_delete() {
                return true;
            }
            match ordering.compare_by_value(older.ordering()) {
                Some(o) => o != std::cmp::Ordering::Less,
                None => true,
            }
        }
    }
}

/// Decides whether the merged log entry replaces the base record.
fn log_wins_over_base(rule: MergeRule, log: &Entry, base: &Entry) -> bool {
    match rule {
        MergeRule::Payload { event_time_base } => match log {
            Entry::Delete { .. } => true,
            Entry::Data { ordering, .. } => {
                !event_time_base
                    || !matches!(
                        base.ordering().compare(ordering),
                        Some(std::cmp::Ordering::Greater)
                    )
            }
        },
        MergeRule::Mode(mode) => newer_wins_by_mode(mode, log, base),
    }
}

/// Log records of one file slice, merged by key, ready to be combined with the base file.
/// The records' rows sit in a [`RowStore`] that spills to a local file past a memory budget,
/// so a file group whose logs exceed memory still merges: base rows stream through, and the
/// winning log records follow in log order, read back sequentially.
pub struct LogBuffer {
    rule: MergeRule,
    ordering_field: Option<String>,
    /// Where record keys come from: the `_hoodie_record_key` column, or (a table with virtual
    /// keys, `hoodie.populate.meta.fields=false`) the table's key generator.
    keygen: Option<std::sync::Arc<crate::keygen::KeyGenerator>>,
    rows: RowStore,
    sealed: bool,
    entries: HashMap<String, Entry>,
    stats: MergeStats,
}

/// What a merge read from the logs (compaction write stats report it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Records of data blocks and keys of delete blocks.
    pub log_records: u64,
    /// Base records a log record replaced.
    pub updated: u64,
    /// Base records a delete removed.
    pub deleted: u64,
}

/// Rows per batch of the log records a merge emits.
const EMIT_BATCH_ROWS: usize = 8192;

/// Log bytes kept in memory before the buffer spills (`hoodie.memory.merge.max.size`).
pub const DEFAULT_MERGE_MEMORY: usize = 1024 * 1024 * 1024;

fn key_column(batch: &RecordBatch, ctx: &str) -> Result<arrow::array::StringArray> {
    let col = batch
        .column_by_name(RECORD_KEY_FIELD)
        .ok_or_else(|| HudiError::Corrupt {
            what: ctx.to_string(),
            reason: format!("records have no {RECORD_KEY_FIELD} column"),
        })?;
    col.as_string_opt::<i32>()
        .cloned()
        .ok_or_else(|| HudiError::Corrupt {
            what: ctx.to_string(),
            reason: format!("{RECORD_KEY_FIELD} is not a string column"),
        })
}

impl LogBuffer {
    /// A buffer for records of `schema`, spilling past `memory_budget` bytes of log rows.
    pub fn new(
        schema: SchemaRef,
        rule: MergeRule,
        ordering_field: Option<String>,
        memory_budget: usize,
    ) -> Self {
        LogBuffer {
            rule,
            ordering_field,
            keygen: None,
            rows: RowStore::new(schema, memory_budget),
            sealed: false,
            entries: HashMap::new(),
            stats: MergeStats::default(),
        }
    }

    /// Record keys come from this key generator (tables with virtual keys).
    pub fn with_key_generator(
        mut self,
        keygen: std::sync::Arc<crate::keygen::KeyGenerator>,
    ) -> Self {
        self.keygen = Some(keygen);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the log rows went to disk.
    pub fn spilled(&self) -> bool {
        self.rows.spilled()
    }

    pub fn stats(&self) -> MergeStats {
        self.stats
    }

    /// The record keys of a batch's rows.
    fn keys(&self, batch: &RecordBatch, ctx: &str) -> Result<arrow::array::StringArray> {
        match &self.keygen {
            Some(k) => Ok(arrow::array::StringArray::from(k.record_keys(batch)?)),
            None => key_column(batch, ctx),
        }
    }

    fn put(&mut self, key: &str, e: Entry) {
        self.stats.log_records += 1;
        match self.entries.get(key) {
            Some(old) => {
                if newer_wins(self.rule, &e, old) {
                    self.entries.insert(key.to_string(), e);
                }
            }
            None => {
                self.entries.insert(key.to_string(), e);
            }
        }
    }

    /// Adds a data block's records (in block order, later ones newer).
    pub fn add_data(&mut self, batch: RecordBatch, ctx: &str) -> Result<()> {
        let start = self.rows.len();
        let keys = self.keys(&batch, ctx)?;
        let ordering_col = self
            .ordering_field
            .as_ref()
            .and_then(|f| batch.column_by_name(f))
            .cloned();
        let deleted = batch
            .column_by_name(IS_DELETED_FIELD)
            .and_then(|c| c.as_boolean_opt().cloned());
        for row in 0..batch.num_rows() {
            if keys.is_null(row) {
                return Err(HudiError::Corrupt {
                    what: ctx.to_string(),
                    reason: format!("record {row} has a null {RECORD_KEY_FIELD}"),
                });
            }
            let ordering = ordering_col
                .as_ref()
                .map_or(OrderingValue::Null, |c| OrderingValue::from_array(c, row));
            let is_deleted = deleted
                .as_ref()
                .is_some_and(|d| d.is_valid(row) && d.value(row));
            let e = if is_deleted {
                Entry::Delete {
                    commit_time_delete: ordering == OrderingValue::Null,
                    ordering,
                }
            } else {
                Entry::Data {
                    row: start + row,
                    ordering,
                }
            };
            self.put(keys.value(row), e);
        }
        self.rows.push(batch)
    }

    /// Adds a delete block's keys.
    pub fn add_deletes(&mut self, records: &[DeleteRecord]) {
        for d in records {
            let e = Entry::Delete {
                commit_time_delete: d.ordering.is_natural_default(),
                ordering: d.ordering.clone(),
            };
            self.put(&d.record_key, e);
        }
    }

    fn seal(&mut self) -> Result<()> {
        if !self.sealed {
            self.rows.seal()?;
            self.sealed = true;
        }
        Ok(())
    }

    /// Merges one base batch with the buffer: the base rows that stay (no log record, or the
    /// base record wins). A log record that wins stays in the buffer and comes out with
    /// [`remaining`](Self::remaining); a delete removes the base row.
    pub fn merge_base(&mut self, base: &RecordBatch, ctx: &str) -> Result<RecordBatch> {
        self.seal()?;
        if self.entries.is_empty() {
            return Ok(base.clone());
        }
        let keys = self.keys(base, ctx)?;
        let ordering_col = self
            .ordering_field
            .as_ref()
            .and_then(|f| base.column_by_name(f))
            .cloned();
        let mut keep: Vec<bool> = Vec::with_capacity(base.num_rows());
        for row in 0..base.num_rows() {
            let entry = if keys.is_null(row) {
                None
            } else {
                self.entries.get(keys.value(row))
            };
            let Some(entry) = entry else {
                keep.push(true);
                continue;
            };
            let base_entry = Entry::Data {
                row: usize::MAX,
                ordering: ordering_col
                    .as_ref()
                    .map_or(OrderingValue::Null, |c| OrderingValue::from_array(c, row)),
            };
            let log_wins = log_wins_over_base(self.rule, entry, &base_entry);
            match (log_wins, entry) {
                (false, _) => {
                    self.entries.remove(keys.value(row));
                    keep.push(true);
                }
                (true, Entry::Data { .. }) => {
                    self.stats.updated += 1;
                    keep.push(false);
                }
                (true, Entry::Delete { .. }) => {
                    self.stats.deleted += 1;
                    self.entries.remove(keys.value(row));
                    keep.push(false);
                }
            }
        }
        arrow::compute::filter_record_batch(base, &arrow::array::BooleanArray::from(keep))
            .map_err(|e| HudiError::arrow(ctx.to_string(), e))
    }

    /// The winning log records (updates of base records, and inserts), deletes excluded, in
    /// log order and in batches; the buffer is empty afterwards.
    pub fn remaining(&mut self, _ctx: &str) -> Result<Vec<RecordBatch>> {
        self.seal()?;
        let mut rows: Vec<usize> = self
            .entries
            .values()
            .filter_map(|e| match e {
                Entry::Data { row, .. } => Some(*row),
                Entry::Delete { .. } => None,
            })
            .collect();
        self.entries.clear();
        rows.sort_unstable();
        rows.chunks(EMIT_BATCH_ROWS)
            .map(|chunk| self.rows.take(chunk))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::properties;

    fn cfg(extra: &str) -> TableConfig {
        let text = format!("hoodie.table.name=t\nhoodie.table.version=6\n{extra}");
        TableConfig::from_properties(properties::parse(&text), "t").unwrap()
    }

    #[test]
    fn infers_merge_modes_like_hudi() {
        let ow = "hoodie.compaction.payload.class=org.apache.hudi.common.model.OverwriteWithLatestAvroPayload\n";
        assert_eq!(
            resolve_merge_mode(&cfg(ow)).unwrap(),
            RecordMergeMode::CommitTimeOrdering
        );
        let d = "hoodie.compaction.payload.class=org.apache.hudi.common.model.DefaultHoodieRecordPayload\n";
        assert_eq!(
            resolve_merge_mode(&cfg(d)).unwrap(),
            RecordMergeMode::EventTimeOrdering
        );
        assert_eq!(
            resolve_merge_mode(&cfg("hoodie.table.precombine.field=ts\n")).unwrap(),
            RecordMergeMode::EventTimeOrdering
        );
        assert_eq!(
            resolve_merge_mode(&cfg("")).unwrap(),
            RecordMergeMode::CommitTimeOrdering
        );
        assert!(
            resolve_merge_mode(&cfg("hoodie.compaction.payload.class=com.x.MyPayload\n")).is_err()
        );
    }

    fn data(o: OrderingValue) -> Entry {
        Entry::Data {
            row: 0,
            ordering: o,
        }
    }

    fn del(o: OrderingValue, commit_time: bool) -> Entry {
        Entry::Delete {
            ordering: o,
            commit_time_delete: commit_time,
        }
    }

    #[test]
    fn event_time_rules() {
        let d = |o: i32| data(OrderingValue::Int(o));
        let m = MergeRule::Mode(RecordMergeMode::EventTimeOrdering);
        assert!(newer_wins(m, &d(2), &d(1)));
        assert!(newer_wins(m, &d(2), &d(2)));
        assert!(!newer_wins(m, &d(1), &d(2)));
        assert!(newer_wins(m, &del(OrderingValue::Int(0), true), &d(9)));
        assert!(!newer_wins(m, &del(OrderingValue::Int(5), false), &d(9)));
        assert!(newer_wins(m, &del(OrderingValue::Int(9), false), &d(9)));
        assert!(newer_wins(m, &d(1), &del(OrderingValue::Null, true)));
        // 1.x modes order by value across classes.
        assert!(!newer_wins(m, &del(OrderingValue::Long(5), false), &d(9)));
        assert!(newer_wins(
            MergeRule::Mode(RecordMergeMode::CommitTimeOrdering),
            &d(1),
            &d(2)
        ));
    }

    /// What Apache Hudi 0.15 on Spark returned for these cases (spark_types.rs checks them
    /// end to end): a log record outranks a later delete of a smaller value only when the
    /// delete's wrapper is of the record's raw Avro class.
    #[test]
    fn hudi_015_log_rules() {
        use OrderingValue as O;
        let v6 = MergeRule::Payload {
            event_time_base: false,
        };
        // Records pre-combine by value, ties to the later one.
        assert!(!newer_wins(v6, &data(O::Long(50)), &data(O::Long(100))));
        assert!(newer_wins(v6, &data(O::Long(100)), &data(O::Long(100))));
        assert!(!newer_wins(v6, &data(O::Date(1)), &data(O::Date(2))));
        // A record after a delete always wins.
        assert!(newer_wins(v6, &data(O::Long(1)), &del(O::Long(100), false)));
        // Deletes: same class and a greater older value keep the older record...
        for (rec, delete) in [
            (O::Long(100), O::Long(50)),
            (O::Int(100), O::Int(50)),
            (O::Float(2.5), O::Float(1.5)),
            (O::Double(2.5), O::Double(1.5)),
        ] {
            assert!(!newer_wins(v6, &del(delete, false), &data(rec)));
        }
        // ... a date, decimal or string record is raw Avro (Integer, Fixed, Utf8), never the
        // class of a DateWrapper, DecimalWrapper or StringWrapper: the delete wins.
        for (rec, delete) in [
            (O::Date(20), O::Date(10)),
            (O::Decimal(1250, 2), O::Decimal(999, 15)),
            (O::Str("b".into()), O::Str("a".into())),
        ] {
            assert!(newer_wins(v6, &del(delete, false), &data(rec)));
        }
        // An equal value, or the natural-order 0, deletes.
        assert!(newer_wins(
            v6,
            &del(O::Long(100), false),
            &data(O::Long(100))
        ));
        assert!(newer_wins(v6, &del(O::Int(0), true), &data(O::Int(100))));
        // Against the base file the log wins (OverwriteWithLatestAvroPayload)...
        assert!(log_wins_over_base(v6, &data(O::Long(1)), &data(O::Long(9))));
        // ... or wins when not smaller (DefaultHoodieRecordPayload); deletes always win.
        let default = MergeRule::Payload {
            event_time_base: true,
        };
        assert!(!log_wins_over_base(
            default,
            &data(O::Long(1)),
            &data(O::Long(9))
        ));
        assert!(log_wins_over_base(
            default,
            &data(O::Long(9)),
            &data(O::Long(9))
        ));
        assert!(log_wins_over_base(
            default,
            &del(O::Long(1), false),
            &data(O::Long(9))
        ));
    }

    #[test]
    fn a_spilled_buffer_merges_like_one_in_memory() {
        use arrow::array::{Int64Array, StringArray};
        use arrow::datatypes::{DataType, Field, Schema};
        use std::sync::Arc;
        let schema = Arc::new(Schema::new(vec![
            Field::new(RECORD_KEY_FIELD, DataType::Utf8, true),
            Field::new("o", DataType::Int64, true),
        ]));
        let batch = |keys: &[&str], o: &[i64]| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(StringArray::from(keys.to_vec())),
                    Arc::new(Int64Array::from(o.to_vec())),
                ],
            )
            .unwrap()
        };
        let rule = MergeRule::Payload {
            event_time_base: false,
        };
        let run = |budget: usize| {
            let mut b = LogBuffer::new(schema.clone(), rule, Some("o".into()), budget);
            b.add_data(batch(&["b", "d", "e"], &[5, 1, 1]), "log 1")
                .unwrap();
            b.add_data(batch(&["e"], &[0]), "log 2").unwrap();
            b.add_deletes(&[DeleteRecord {
                record_key: "c".into(),
                partition_path: None,
                ordering: OrderingValue::Null,
            }]);
            let kept = b
                .merge_base(&batch(&["a", "b", "c"], &[1, 1, 1]), "base")
                .unwrap();
            let mut out: Vec<(String, i64)> = Vec::new();
            for bt in std::iter::once(kept).chain(b.remaining("rest").unwrap()) {
                let k = bt.column(0).as_string::<i32>().clone();
                let o = bt
                    .column(1)
                    .as_primitive::<arrow::datatypes::Int64Type>()
                    .clone();
                out.extend((0..bt.num_rows()).map(|i| (k.value(i).to_string(), o.value(i))));
            }
            out.sort();
            (out, b.spilled(), b.stats())
        };
        let (mem, spilled_mem, stats) = run(usize::MAX);
        let (disk, spilled_disk, _) = run(1);
        assert!(!spilled_mem && spilled_disk);
        assert_eq!(mem, disk);
        // b updated, c deleted, d inserted, e's later record (0) loses to the earlier 1.
        let want = |v: &[(&str, i64)]| {
            v.iter()
                .map(|(k, o)| (k.to_string(), *o))
                .collect::<Vec<_>>()
        };
        assert_eq!(mem, want(&[("a", 1), ("b", 5), ("d", 1), ("e", 1)]));
        assert_eq!(
            stats,
            MergeStats {
                log_records: 5,
                updated: 1,
                deleted: 1
            }
        );
    }
}
