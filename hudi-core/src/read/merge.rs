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
use arrow::compute::interleave_record_batch;
use arrow::datatypes::SchemaRef;

use crate::config::table::{RecordMergeMode, TableConfig};
use crate::error::{HudiError, Result};
use crate::io::log_reader::DeleteRecord;
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
    if config.version >= 8 {
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
    /// Row `row` of log batch `batch`.
    Data {
        batch: usize,
        row: usize,
        ordering: OrderingValue,
    },
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
    Ok(if config.version < 8 {
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
pub struct LogBuffer {
    schema: SchemaRef,
    rule: MergeRule,
    ordering_field: Option<String>,
    /// Where record keys come from: the `_hoodie_record_key` column, or (a table with virtual
    /// keys, `hoodie.populate.meta.fields=false`) the table's key generator.
    keygen: Option<std::sync::Arc<crate::keygen::KeyGenerator>>,
    batches: Vec<RecordBatch>,
    entries: HashMap<String, Entry>,
    /// Keys in first-seen order, for a deterministic output of inserts.
    order: Vec<String>,
}

fn key_column(batch: &RecordBatch, ctx: &str) -> Result<arrow::array::StringArray> {
    let col = batch
        .column_by_name(RECORD_KEY_FIELD)
        .ok_or_else(|| HudiError::Schema {
            context: ctx.to_string(),
            reason: format!("records have no {RECORD_KEY_FIELD} column"),
        })?;
    col.as_string_opt::<i32>()
        .cloned()
        .ok_or_else(|| HudiError::Schema {
            context: ctx.to_string(),
            reason: format!("{RECORD_KEY_FIELD} is not a string column"),
        })
}

impl LogBuffer {
    pub fn new(schema: SchemaRef, rule: MergeRule, ordering_field: Option<String>) -> Self {
        LogBuffer {
            schema,
            rule,
            ordering_field,
            keygen: None,
            batches: Vec::new(),
            entries: HashMap::new(),
            order: Vec::new(),
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

    /// The record keys of a batch's rows.
    fn keys(&self, batch: &RecordBatch, ctx: &str) -> Result<arrow::array::StringArray> {
        match &self.keygen {
            Some(k) => Ok(arrow::array::StringArray::from(k.record_keys(batch)?)),
            None => key_column(batch, ctx),
        }
    }

    fn put(&mut self, key: &str, e: Entry) {
        match self.entries.get(key) {
            Some(old) => {
                if newer_wins(self.rule, &e, old) {
                    self.entries.insert(key.to_string(), e);
                }
            }
            None => {
                self.order.push(key.to_string());
                self.entries.insert(key.to_string(), e);
            }
        }
    }

    /// Adds a data block's records (in block order, later ones newer).
    pub fn add_data(&mut self, batch: RecordBatch, ctx: &str) -> Result<()> {
        let idx = self.batches.len();
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
                return Err(HudiError::Schema {
                    context: ctx.to_string(),
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
                    batch: idx,
                    row,
                    ordering,
                }
            };
            self.put(keys.value(row), e);
        }
        self.batches.push(batch);
        Ok(())
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

    /// Merges one base batch with the buffer: rows without a log record pass through, rows
    /// with one are replaced or dropped. Matched keys are taken out of the buffer.
    pub fn merge_base(&mut self, base: &RecordBatch, ctx: &str) -> Result<RecordBatch> {
        if self.entries.is_empty() {
            return Ok(base.clone());
        }
        let keys = self.keys(base, ctx)?;
        let ordering_col = self
            .ordering_field
            .as_ref()
            .and_then(|f| base.column_by_name(f))
            .cloned();
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(base.num_rows());
        for row in 0..base.num_rows() {
            let entry = if keys.is_null(row) {
                None
            } else {
                self.entries.get(keys.value(row))
            };
            let Some(entry) = entry else {
                picks.push((0, row));
                continue;
            };
            let base_entry = Entry::Data {
                batch: usize::MAX,
                row,
                ordering: ordering_col
                    .as_ref()
                    .map_or(OrderingValue::Null, |c| OrderingValue::from_array(c, row)),
            };
            let log_wins = log_wins_over_base(self.rule, entry, &base_entry);
            let entry =
                self.entries
                    .remove(keys.value(row))
                    .ok_or_else(|| HudiError::Internal {
                        what: format!("{ctx}: a log buffer entry vanished"),
                    })?;
            match (log_wins, entry) {
                (false, _) => picks.push((0, row)),
                (true, Entry::Data { batch, row: r, .. }) => picks.push((batch + 1, r)),
                (true, Entry::Delete { .. }) => {}
            }
        }
        let mut sources: Vec<&RecordBatch> = vec![base];
        sources.extend(self.batches.iter());
        interleave_record_batch(&sources, &picks).map_err(|e| HudiError::arrow(ctx.to_string(), e))
    }

    /// The log records no base row matched (inserts), deletes excluded.
    pub fn remaining(&mut self, ctx: &str) -> Result<Option<RecordBatch>> {
        let picks: Vec<(usize, usize)> = self
            .order
            .iter()
            .filter_map(|k| match self.entries.get(k) {
                Some(Entry::Data { batch, row, .. }) => Some((*batch, *row)),
                _ => None,
            })
            .collect();
        self.entries.clear();
        if picks.is_empty() {
            return Ok(None);
        }
        let sources: Vec<&RecordBatch> = self.batches.iter().collect();
        let out = interleave_record_batch(&sources, &picks)
            .map_err(|e| HudiError::arrow(ctx.to_string(), e))?;
        debug_assert_eq!(out.schema(), self.schema);
        Ok(Some(out))
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
            batch: 0,
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
}
