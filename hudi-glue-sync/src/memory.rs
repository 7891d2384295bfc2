//! A catalog in memory: what the planner's tests sync into, counting calls.

use std::collections::BTreeMap;
use std::sync::Mutex;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::catalog::{CallCounter, CallCounts, MetastoreClient, PartitionDef, TableDef};
use crate::error::{Result, SyncError};

/// A table and its partitions (values → location).
type Entry = (TableDef, BTreeMap<Vec<String>, String>);
type Tables = BTreeMap<String, Entry>;

#[derive(Debug, Default)]
struct State {
    databases: BTreeMap<String, Tables>,
}

/// Databases, tables and partitions held in memory.
#[derive(Debug, Default)]
pub struct MemoryCatalog {
    state: Mutex<State>,
    calls: CallCounter,
}

impl MemoryCatalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// A table and its partitions (values → location), if registered.
    pub fn table(&self, db: &str, name: &str) -> Option<Entry> {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.databases.get(db).and_then(|d| d.get(name)).cloned()
    }

    fn with<T>(&self, write: bool, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        if write {
            self.calls.wrote();
        } else {
            self.calls.read();
        }
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s)
    }
}

fn missing(what: String) -> SyncError {
    SyncError::Catalog {
        catalog: "memory",
        operation: "lookup",
        target: what,
        message: "not found".into(),
    }
}

fn tables<'s>(s: &'s mut State, db: &str) -> Result<&'s mut Tables> {
    s.databases
        .get_mut(db)
        .ok_or_else(|| missing(db.to_string()))
}

fn parts<'s>(s: &'s mut State, db: &str, t: &str) -> Result<&'s mut BTreeMap<Vec<String>, String>> {
    tables(s, db)?
        .get_mut(t)
        .map(|(_, p)| p)
        .ok_or_else(|| missing(format!("{db}.{t}")))
}

impl MetastoreClient for MemoryCatalog {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn calls(&self) -> CallCounts {
        self.calls.counts()
    }

    fn database_exists<'a>(&'a self, db: &'a str) -> BoxFuture<'a, Result<bool>> {
        async move { self.with(false, |s| Ok(s.databases.contains_key(db))) }.boxed()
    }

    fn create_database<'a>(&'a self, db: &'a str) -> BoxFuture<'a, Result<()>> {
        async move {
            self.with(true, |s| {
                s.databases.entry(db.to_string()).or_default();
                Ok(())
            })
        }
        .boxed()
    }

    fn get_table<'a>(
        &'a self,
        db: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<TableDef>>> {
        async move {
            self.with(false, |s| {
                Ok(s.databases
                    .get(db)
                    .and_then(|d| d.get(name))
                    .map(|(t, _)| t.clone()))
            })
        }
        .boxed()
    }

    fn create_table<'a>(&'a self, db: &'a str, table: &'a TableDef) -> BoxFuture<'a, Result<()>> {
        async move {
            self.with(true, |s| {
                tables(s, db)?.insert(table.name.clone(), (table.clone(), BTreeMap::new()));
                Ok(())
            })
        }
        .boxed()
    }

    fn update_table<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        _cascade: bool,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            self.with(true, |s| {
                let entry = tables(s, db)?
                    .get_mut(&table.name)
                    .ok_or_else(|| missing(format!("{db}.{}", table.name)))?;
                entry.0 = table.clone();
                Ok(())
            })
        }
        .boxed()
    }

    fn list_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Vec<PartitionDef>>> {
        async move {
            self.with(false, |s| {
                Ok(parts(s, db, table)?
                    .iter()
                    .map(|(v, l)| PartitionDef {
                        values: v.clone(),
                        location: l.clone(),
                    })
                    .collect())
            })
        }
        .boxed()
    }

    fn get_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
        values: &'a [Vec<String>],
    ) -> BoxFuture<'a, Result<Vec<PartitionDef>>> {
        async move {
            self.with(false, |s| {
                let p = parts(s, db, table)?;
                Ok(values
                    .iter()
                    .filter_map(|v| {
                        p.get(v).map(|l| PartitionDef {
                            values: v.clone(),
                            location: l.clone(),
                        })
                    })
                    .collect())
            })
        }
        .boxed()
    }

    fn add_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        partitions: &'a [PartitionDef],
    ) -> BoxFuture<'a, Result<()>> {
        self.update_partitions(db, table, partitions)
    }

    fn update_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        partitions: &'a [PartitionDef],
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            self.with(true, |s| {
                let p = parts(s, db, &table.name)?;
                for d in partitions {
                    p.insert(d.values.clone(), d.location.clone());
                }
                Ok(())
            })
        }
        .boxed()
    }

    fn drop_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
        values: &'a [Vec<String>],
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            self.with(true, |s| {
                let p = parts(s, db, table)?;
                for v in values {
                    p.remove(v);
                }
                Ok(())
            })
        }
        .boxed()
    }
}
