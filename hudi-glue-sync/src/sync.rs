//! One sync of a Hudi table into a catalog: plan what differs, then make the calls.

use std::collections::{BTreeMap, BTreeSet};

use hudi_core::{InstantTime, Table};
use serde_json::{json, Value};

use crate::catalog::{Column, MetastoreClient, PartitionDef, TableDef};
use crate::config::SyncConfig;
use crate::discover::{discover, full_listing_reason};
use crate::error::{Result, SyncError};
use crate::schema::{compatible, field_docs};
use crate::tables::{definition, views, LAST_COMMIT_COMPLETION_TIME_SYNC, LAST_COMMIT_TIME_SYNC};

/// What one catalog table needs.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub name: String,
    pub create: bool,
    /// Columns the table gains, and columns whose type widens (`name: from -> to`).
    pub columns_added: Vec<String>,
    pub columns_changed: Vec<String>,
    /// Columns whose comment changes (`sync_comment`).
    pub comments_changed: Vec<String>,
    /// Table or SerDe parameters (other than the sync time) that change.
    pub parameters_changed: Vec<String>,
    /// Why every partition was listed, when it was.
    pub full_listing: Option<String>,
    pub add: Vec<PartitionDef>,
    pub update: Vec<PartitionDef>,
    pub drop: Vec<Vec<String>>,
    pub last_synced: Option<String>,
    pub sync_to: String,
    /// The definition to leave in the catalog.
    pub def: TableDef,
}

impl TablePlan {
    /// Whether the plan changes anything (a second sync with nothing new does not).
    pub fn is_noop(&self) -> bool {
        !self.create
            && self.columns_added.is_empty()
            && self.columns_changed.is_empty()
            && self.comments_changed.is_empty()
            && self.parameters_changed.is_empty()
            && self.add.is_empty()
            && self.update.is_empty()
            && self.drop.is_empty()
            && self.last_synced.as_deref() == Some(self.sync_to.as_str())
    }

    fn schema_or_params_change(&self) -> bool {
        !(self.columns_added.is_empty()
            && self.columns_changed.is_empty()
            && self.comments_changed.is_empty()
            && self.parameters_changed.is_empty())
    }

    pub fn to_json(&self) -> Value {
        let values = |p: &[PartitionDef]| -> Vec<Value> {
            p.iter()
                .map(|p| json!({"values": p.values, "location": p.location}))
                .collect()
        };
        json!({
            "table": self.name, "create": self.create,
            "columns_added": self.columns_added, "columns_changed": self.columns_changed,
            "comments_changed": self.comments_changed,
            "parameters_changed": self.parameters_changed,
            "full_listing": self.full_listing,
            "partitions_added": values(&self.add), "partitions_updated": values(&self.update),
            "partitions_dropped": self.drop,
            "last_commit_time_sync": {"before": self.last_synced, "after": self.sync_to},
        })
    }
}

/// The whole sync: the database, then each table.
#[derive(Debug, Clone)]
pub struct SyncPlan {
    pub database: String,
    pub create_database: bool,
    pub tables: Vec<TablePlan>,
}

impl SyncPlan {
    pub fn is_noop(&self) -> bool {
        !self.create_database && self.tables.iter().all(TablePlan::is_noop)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "database": self.database, "create_database": self.create_database,
            "tables": self.tables.iter().map(TablePlan::to_json).collect::<Vec<_>>(),
        })
    }
}

/// The latest completed write: what `last_commit_time_sync` becomes.
fn latest_commit(table: &Table) -> Result<InstantTime> {
    table
        .timeline()
        .completed_writes()
        .last()
        .map(|i| i.requested().clone())
        .ok_or_else(|| SyncError::NoCommits {
            table: table.location().to_string(),
        })
}

/// When the latest completed write completed, as Hudi's Hive sync records it: the completion
/// time of the file name (table version 8+), else the completed instant file's modification
/// time, spelled as an instant (UTC).
fn latest_completion(table: &Table) -> Option<String> {
    let i = table.timeline().completed_writes().last()?;
    if let Some(c) = i.completion() {
        return Some(c.to_string());
    }
    let t = chrono::DateTime::from_timestamp_millis(i.modified_ms)?;
    Some(InstantTime::from_datetime_utc(&t).to_string())
}

/// Plans the sync of `table` into `client`'s catalog.
pub async fn plan(
    table: &Table,
    cfg: &SyncConfig,
    client: &dyn MetastoreClient,
) -> Result<SyncPlan> {
    let latest = latest_commit(table)?;
    let create_database = !client.database_exists(&cfg.database).await?;
    if create_database && !cfg.auto_create_database {
        return Err(SyncError::InvalidOption {
            key: "hoodie.datasource.hive_sync.auto_create_database".into(),
            value: "false".into(),
            reason: format!("database '{}' does not exist", cfg.database),
        });
    }
    let (schema, _) = table.schema().await?;
    let docs = if cfg.sync_comment {
        table_docs(table).await?
    } else {
        BTreeMap::new()
    };
    let mut tables = Vec::new();
    for (name, view) in views(cfg, table.config().table_type) {
        let mut def = definition(table, cfg, &schema, &docs, &name, view)?;
        def.location = client.normalize_location(&def.location);
        if client.name() == "Glue" {
            let on = if cfg.glue_metadata_listing {
                "TRUE"
            } else {
                "FALSE"
            };
            def.parameters
                .insert("hudi.metadata-listing-enabled".into(), on.into());
        } else if let Some(c) = latest_completion(table) {
            def.parameters
                .insert(LAST_COMMIT_COMPLETION_TIME_SYNC.into(), c);
        }
        let existing = if create_database {
            None
        } else {
            client.get_table(&cfg.database, &name).await?
        };
        tables.push(plan_table(table, cfg, client, def, existing, &latest).await?);
    }
    Ok(SyncPlan {
        database: cfg.database.clone(),
        create_database,
        tables,
    })
}

/// The docs of the table's fields: from the latest commit's schema, else the schema the table
/// was created with.
async fn table_docs(table: &Table) -> Result<BTreeMap<String, String>> {
    let text = match table.timeline().latest_schema().await? {
        Some(t) => Some(t),
        None => table.config().create_schema.clone(),
    };
    Ok(text.as_deref().map(field_docs).unwrap_or_default())
}

/// With `sync`, the columns whose comment differs from the catalog's (no comment and an empty
/// one are the same); without it, each column keeps the comment the catalog has, which a
/// person or another tool may have set.
fn comment_changes(sync: bool, old: &[Column], new: &mut [Column]) -> Vec<String> {
    let old: BTreeMap<String, Option<&str>> = old
        .iter()
        .map(|c| (c.name.to_ascii_lowercase(), c.comment.as_deref()))
        .collect();
    let mut changed = Vec::new();
    for c in new.iter_mut() {
        let Some(have) = old.get(&c.name.to_ascii_lowercase()) else {
            continue;
        };
        if !sync {
            c.comment = have.map(String::from);
        } else if have.unwrap_or("") != c.comment.as_deref().unwrap_or("") {
            changed.push(c.name.clone());
        }
    }
    changed
}

/// Column changes from `old` to `new`: (added, widened); an incompatible type change fails.
fn column_changes(
    table: &str,
    old: &[Column],
    new: &[Column],
) -> Result<(Vec<String>, Vec<String>)> {
    let old: BTreeMap<String, &Column> = old
        .iter()
        .map(|c| (c.name.to_ascii_lowercase(), c))
        .collect();
    let (mut added, mut changed) = (Vec::new(), Vec::new());
    for c in new {
        match old.get(&c.name.to_ascii_lowercase()) {
            None => added.push(c.name.clone()),
            Some(o) if o.type_name.eq_ignore_ascii_case(&c.type_name) => {}
            Some(o) if compatible(&o.type_name, &c.type_name) => {
                changed.push(format!("{}: {} -> {}", c.name, o.type_name, c.type_name))
            }
            Some(o) => {
                return Err(SyncError::IncompatibleSchema {
                    table: table.into(),
                    column: c.name.clone(),
                    catalog_type: o.type_name.clone(),
                    table_type: c.type_name.clone(),
                })
            }
        }
    }
    Ok((added, changed))
}

/// Keys whose desired value differs from what the catalog holds.
fn changed_keys(
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
    prefix: &str,
) -> Vec<String> {
    want.iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                LAST_COMMIT_TIME_SYNC | LAST_COMMIT_COMPLETION_TIME_SYNC
            )
        })
        .filter(|(k, v)| have.get(*k) != Some(v))
        .map(|(k, _)| format!("{prefix}{k}"))
        .collect()
}

async fn plan_table(
    table: &Table,
    cfg: &SyncConfig,
    client: &dyn MetastoreClient,
    mut def: TableDef,
    existing: Option<TableDef>,
    latest: &InstantTime,
) -> Result<TablePlan> {
    let db = cfg.database.as_str();
    let partitioned = !def.partition_keys.is_empty();
    let last_synced = existing
        .as_ref()
        .and_then(|e| e.parameters.get(LAST_COMMIT_TIME_SYNC).cloned());
    let last: Option<InstantTime> = last_synced.as_deref().and_then(|s| s.parse().ok());
    let mut plan = TablePlan {
        name: def.name.clone(),
        create: existing.is_none(),
        columns_added: Vec::new(),
        columns_changed: Vec::new(),
        comments_changed: Vec::new(),
        parameters_changed: Vec::new(),
        full_listing: None,
        add: Vec::new(),
        update: Vec::new(),
        drop: Vec::new(),
        last_synced,
        sync_to: latest.to_string(),
        def: def.clone(),
    };
    if let Some(e) = &existing {
        let (added, changed) = column_changes(&def.name, &e.columns, &def.columns)?;
        plan.columns_added = added;
        plan.columns_changed = changed;
        plan.comments_changed = comment_changes(cfg.sync_comment, &e.columns, &mut def.columns);
        comment_changes(false, &e.partition_keys, &mut def.partition_keys);
        if e.partition_keys.len() != def.partition_keys.len() {
            return Err(SyncError::Unexpected {
                target: format!("{db}.{}", def.name),
                what: format!(
                    "the catalog has {} partition keys, the table {}",
                    e.partition_keys.len(),
                    def.partition_keys.len()
                ),
            });
        }
        plan.parameters_changed = changed_keys(&e.parameters, &def.parameters, "");
        plan.parameters_changed.extend(changed_keys(
            &e.serde_parameters,
            &def.serde_parameters,
            "serde:",
        ));
        if e.input_format != def.input_format || !same_location(&e.location, &def.location) {
            plan.parameters_changed.push("storage".into());
        }
        // Parameters set by others stay.
        for (k, v) in &e.parameters {
            def.parameters.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &e.serde_parameters {
            def.serde_parameters
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
    }
    def.parameters
        .insert(LAST_COMMIT_TIME_SYNC.into(), latest.to_string());
    plan.def = def;
    if partitioned {
        plan_partitions(table, cfg, client, &mut plan, last.as_ref()).await?;
    }
    Ok(plan)
}

/// A location's path without scheme and authority (`s3://b/t/p`, `file:/t/p` → `/t/p`, ...),
/// as Hudi's sync compares locations: metastores rewrite `/t` as `file:/t`.
fn path_only(loc: &str) -> &str {
    let rest = match loc.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => loc.strip_prefix("file:").unwrap_or(loc),
    };
    rest.trim_end_matches('/')
}

fn same_location(a: &str, b: &str) -> bool {
    path_only(a) == path_only(b)
}

fn location(client: &dyn MetastoreClient, base: &str, path: &str) -> String {
    client.normalize_location(&format!("{}/{path}", base.trim_end_matches('/')))
}

async fn plan_partitions(
    table: &Table,
    cfg: &SyncConfig,
    client: &dyn MetastoreClient,
    plan: &mut TablePlan,
    last: Option<&InstantTime>,
) -> Result<()> {
    let db = cfg.database.as_str();
    let reason = if plan.create {
        Some("new table".to_string())
    } else {
        full_listing_reason(table, last)
    };
    let found = discover(table, reason.is_some(), last).await?;
    plan.full_listing = reason;
    let keys = plan.def.partition_keys.len();
    let values_of = |path: &str| -> Result<Vec<String>> {
        let v = cfg.extractor.values(path)?;
        if v.len() != keys {
            return Err(SyncError::InvalidOption {
                key: "hoodie.datasource.hive_sync.partition_extractor_class".into(),
                value: cfg.extractor.class_name(),
                reason: format!(
                    "partition '{path}' gives {} values for {keys} partition keys",
                    v.len()
                ),
            });
        }
        Ok(v)
    };
    let mut wanted: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for p in &found.live {
        wanted.insert(values_of(p)?, location(client, table.location(), p));
    }
    let examined: BTreeSet<Vec<String>> = found
        .examined
        .iter()
        .map(|p| values_of(p))
        .collect::<Result<_>>()?;
    let have: Vec<PartitionDef> = if plan.create {
        Vec::new()
    } else if found.full {
        client.list_partitions(db, &plan.name).await?
    } else {
        let ask: Vec<Vec<String>> = examined.iter().cloned().collect();
        client.get_partitions(db, &plan.name, &ask).await?
    };
    let have: BTreeMap<Vec<String>, String> =
        have.into_iter().map(|p| (p.values, p.location)).collect();
    for (values, loc) in &wanted {
        match have.get(values) {
            None => plan.add.push(PartitionDef {
                values: values.clone(),
                location: loc.clone(),
            }),
            Some(h) if !same_location(h, loc) => plan.update.push(PartitionDef {
                values: values.clone(),
                location: loc.clone(),
            }),
            Some(_) => {}
        }
    }
    for values in have.keys() {
        let gone = !wanted.contains_key(values) && (found.full || examined.contains(values));
        if gone {
            plan.drop.push(values.clone());
        }
    }
    Ok(())
}

/// What a sync did.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    pub plan: SyncPlan,
    /// Whether the calls were made (false for a dry run).
    pub applied: bool,
}

/// Makes the calls of a plan: the database, each table's schema and parameters, its
/// partitions, and last the sync time, so that a sync that fails midway is redone.
pub async fn apply(plan: &SyncPlan, client: &dyn MetastoreClient) -> Result<()> {
    let db = plan.database.as_str();
    if plan.create_database {
        client.create_database(db).await?;
    }
    for t in &plan.tables {
        if t.is_noop() {
            continue;
        }
        if t.create {
            let mut first = t.def.clone();
            first.parameters.remove(LAST_COMMIT_TIME_SYNC);
            client.create_table(db, &first).await?;
        } else if t.schema_or_params_change() {
            let mut now = t.def.clone();
            match &t.last_synced {
                Some(l) => now
                    .parameters
                    .insert(LAST_COMMIT_TIME_SYNC.into(), l.clone()),
                None => now.parameters.remove(LAST_COMMIT_TIME_SYNC),
            };
            let cascade = !(t.columns_added.is_empty() && t.columns_changed.is_empty());
            client.update_table(db, &now, cascade).await?;
        }
        if !t.add.is_empty() {
            client.add_partitions(db, &t.def, &t.add).await?;
        }
        if !t.update.is_empty() {
            client.update_partitions(db, &t.def, &t.update).await?;
        }
        if !t.drop.is_empty() {
            client.drop_partitions(db, &t.name, &t.drop).await?;
        }
        client.update_table(db, &t.def, false).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_follow_the_docs_only_with_sync_comment() {
        let col = |n: &str, c: Option<&str>| Column {
            name: n.into(),
            type_name: "string".into(),
            comment: c.map(String::from),
        };
        let old = [
            col("a", Some("by hand")),
            col("b", Some("")),
            col("c", None),
        ];
        let mut new = vec![col("A", None), col("b", None), col("c", Some("doc"))];
        assert!(comment_changes(false, &old, &mut new).is_empty());
        assert_eq!(new[0].comment.as_deref(), Some("by hand"), "kept");
        assert_eq!(new[2].comment, None, "kept: the catalog has none");
        let mut new = vec![col("a", None), col("b", None), col("c", Some("doc"))];
        assert_eq!(comment_changes(true, &old, &mut new), vec!["a", "c"]);
    }

    #[test]
    fn locations_compare_without_scheme_and_authority() {
        assert!(same_location("/tmp/t", "file:/tmp/t"));
        assert!(same_location("file:///tmp/t/", "/tmp/t"));
        assert!(same_location("s3a://b/t/p=1", "s3://b/t/p=1"));
        assert!(!same_location("/tmp/t/p=1", "/tmp/t/p=2"));
    }
}
