//! A Hive metastore as the catalog: Thrift's binary protocol over a buffered transport
//! (`thrift://host:port`, what Hive's metastore serves by default), through the
//! `hive_metastore` crate's client generated from Hive's IDL.

use std::collections::{BTreeMap, HashMap};
use std::net::ToSocketAddrs;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use hive_metastore as h;
use pilota::{AHashMap, FastStr};
use volo_thrift::MaybeException;

use crate::catalog::{CallCounter, CallCounts, Column, MetastoreClient, PartitionDef, TableDef};
use crate::error::{Result, SyncError};

type Client = h::ThriftHiveMetastoreClient;

pub struct HmsClient {
    client: Client,
    uri: String,
    batch: usize,
    calls: CallCounter,
    /// What the metastore holds of each table read or created through this client that a
    /// `TableDef` does not carry, by `db.table`: updates keep it without reading the table
    /// again.
    known: Mutex<HashMap<String, Known>>,
}

/// A table's creation time and owner (kept on update) and partition keys (which name its
/// partitions).
#[derive(Clone)]
struct Known {
    create_time: Option<i32>,
    owner: Option<FastStr>,
    partition_keys: Vec<Column>,
}

fn failed(operation: &'static str, target: &str, message: impl std::fmt::Display) -> SyncError {
    SyncError::Catalog {
        catalog: "Hive metastore",
        operation,
        target: target.to_string(),
        message: message.to_string(),
    }
}

fn fs(s: &str) -> FastStr {
    FastStr::new(s)
}

fn map(m: &BTreeMap<String, String>) -> AHashMap<FastStr, FastStr> {
    m.iter().map(|(k, v)| (fs(k), fs(v))).collect()
}

fn unmap(m: Option<&AHashMap<FastStr, FastStr>>) -> BTreeMap<String, String> {
    m.map(|m| {
        m.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
    .unwrap_or_default()
}

fn fields(cols: &[Column]) -> Vec<h::FieldSchema> {
    cols.iter()
        .map(|c| h::FieldSchema {
            name: Some(fs(&c.name)),
            r#type: Some(fs(&c.type_name)),
            comment: Some(fs(c.comment.as_deref().unwrap_or(""))),
        })
        .collect()
}

fn columns(f: Option<&Vec<h::FieldSchema>>) -> Vec<Column> {
    f.map(|f| {
        f.iter()
            .map(|c| Column {
                name: c.name.as_deref().unwrap_or_default().to_string(),
                type_name: c.r#type.as_deref().unwrap_or_default().to_string(),
                comment: c
                    .comment
                    .as_ref()
                    .map(|c| c.to_string())
                    .filter(|c| !c.is_empty()),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn storage(t: &TableDef, location: &str) -> h::StorageDescriptor {
    h::StorageDescriptor {
        cols: Some(fields(&t.columns)),
        location: Some(fs(location)),
        input_format: Some(fs(&t.input_format)),
        output_format: Some(fs(&t.output_format)),
        compressed: Some(false),
        num_buckets: Some(0),
        serde_info: Some(h::SerDeInfo {
            name: None,
            serialization_lib: Some(fs(&t.serde_library)),
            parameters: Some(map(&t.serde_parameters)),
        }),
        bucket_cols: Some(Vec::new()),
        sort_cols: Some(Vec::new()),
        parameters: Some(AHashMap::default()),
        ..Default::default()
    }
}

fn table_of(db: &str, t: &TableDef) -> h::Table {
    let external = t.parameters.get("EXTERNAL").is_some_and(|v| v == "TRUE");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i32)
        .unwrap_or(0);
    h::Table {
        table_name: Some(fs(&t.name)),
        db_name: Some(fs(db)),
        owner: std::env::var("USER").ok().map(|u| fs(&u)),
        create_time: Some(now),
        last_access_time: Some(0),
        retention: Some(0),
        sd: Some(storage(t, &t.location)),
        partition_keys: Some(fields(&t.partition_keys)),
        parameters: Some(map(&t.parameters)),
        table_type: Some(fs(if external {
            "EXTERNAL_TABLE"
        } else {
            "MANAGED_TABLE"
        })),
        ..Default::default()
    }
}

fn def_of(t: &h::Table) -> TableDef {
    let sd = t.sd.as_ref();
    let serde = sd.and_then(|s| s.serde_info.as_ref());
    TableDef {
        name: t.table_name.as_deref().unwrap_or_default().to_string(),
        columns: columns(sd.and_then(|s| s.cols.as_ref())),
        partition_keys: columns(t.partition_keys.as_ref()),
        location: sd
            .and_then(|s| s.location.as_deref())
            .unwrap_or_default()
            .to_string(),
        input_format: sd
            .and_then(|s| s.input_format.as_deref())
            .unwrap_or_default()
            .to_string(),
        output_format: sd
            .and_then(|s| s.output_format.as_deref())
            .unwrap_or_default()
            .to_string(),
        serde_library: serde
            .and_then(|s| s.serialization_lib.as_deref())
            .unwrap_or_default()
            .to_string(),
        serde_parameters: unmap(serde.and_then(|s| s.parameters.as_ref())),
        parameters: unmap(t.parameters.as_ref()),
    }
}

fn partition_of(p: &h::Partition) -> PartitionDef {
    PartitionDef {
        values: p
            .values
            .as_ref()
            .map(|v| v.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
        location: p
            .sd
            .as_ref()
            .and_then(|s| s.location.as_deref())
            .unwrap_or_default()
            .to_string(),
    }
}

/// Hive's escaping of a partition value in a partition name (`FileUtils.escapePathName`).
fn escape(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        let special = c.is_control()
            || matches!(
                c,
                '"' | '#'
                    | '%'
                    | '\''
                    | '*'
                    | '/'
                    | ':'
                    | '='
                    | '?'
                    | '\\'
                    | '\u{7f}'
                    | '{'
                    | '['
                    | ']'
                    | '^'
            );
        if special {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `k1=v1/k2=v2`, the name Hive gives a partition.
pub fn partition_name(keys: &[Column], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(k, v)| format!("{}={}", escape(&k.name.to_ascii_lowercase()), escape(v)))
        .collect::<Vec<_>>()
        .join("/")
}

impl HmsClient {
    /// Connects to `thrift://host:port`.
    pub fn connect(uri: &str, batch: usize) -> Result<HmsClient> {
        let bad = |why: String| SyncError::InvalidOption {
            key: "hoodie.datasource.hive_sync.metastore.uris".into(),
            value: uri.into(),
            reason: why,
        };
        let hostport = uri
            .split(',')
            .next()
            .unwrap_or(uri)
            .trim()
            .strip_prefix("thrift://")
            .ok_or_else(|| bad("expected thrift://host:port".into()))?;
        let addr = hostport
            .to_socket_addrs()
            .map_err(|e| bad(e.to_string()))?
            .next()
            .ok_or_else(|| bad("resolves to no address".into()))?;
        let client = h::ThriftHiveMetastoreClientBuilder::new("hive-metastore")
            .address(addr)
            .make_codec(volo_thrift::codec::default::DefaultMakeCodec::buffered())
            .connect_timeout(Some(Duration::from_secs(10)))
            .rpc_timeout(Some(Duration::from_secs(300)))
            .build();
        Ok(HmsClient {
            client,
            uri: uri.to_string(),
            batch: batch.max(1),
            calls: CallCounter::default(),
            known: Mutex::new(HashMap::new()),
        })
    }

    fn remember(&self, db: &str, t: &h::Table, def: &TableDef) {
        let known = Known {
            create_time: t.create_time,
            owner: t.owner.clone(),
            partition_keys: def.partition_keys.clone(),
        };
        let mut m = self.known.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(format!("{db}.{}", def.name), known);
    }

    /// What is known of `db.name`, read from the metastore when this client has not seen it.
    async fn known(&self, db: &str, name: &str) -> Result<Option<Known>> {
        let key = format!("{db}.{name}");
        let cached = {
            let m = self.known.lock().unwrap_or_else(|e| e.into_inner());
            m.get(&key).cloned()
        };
        if cached.is_some() {
            return Ok(cached);
        }
        self.get_table(db, name).await?;
        let m = self.known.lock().unwrap_or_else(|e| e.into_inner());
        Ok(m.get(&key).cloned())
    }

    fn read(&self) {
        self.calls.read();
    }

    fn wrote(&self) {
        self.calls.wrote();
    }

    fn target(&self, what: &str) -> String {
        format!("{what} at {}", self.uri)
    }
}

/// The value of a call, its declared exception or transport error as a sync error.
fn answer<T, E: std::fmt::Debug>(
    op: &'static str,
    target: &str,
    r: std::result::Result<MaybeException<T, E>, volo_thrift::ClientError>,
) -> Result<std::result::Result<T, E>> {
    match r {
        Ok(MaybeException::Ok(v)) => Ok(Ok(v)),
        Ok(MaybeException::Exception(e)) => Ok(Err(e)),
        Err(e) => Err(failed(op, target, e)),
    }
}

impl MetastoreClient for HmsClient {
    fn name(&self) -> &'static str {
        "Hive metastore"
    }

    fn calls(&self) -> CallCounts {
        self.calls.counts()
    }

    fn database_exists<'a>(&'a self, db: &'a str) -> BoxFuture<'a, Result<bool>> {
        async move {
            self.read();
            let t = self.target(db);
            match answer("get_database", &t, self.client.get_database(fs(db)).await)? {
                Ok(_) => Ok(true),
                Err(h::ThriftHiveMetastoreGetDatabaseException::O1(_)) => Ok(false),
                Err(e) => Err(failed("get_database", &t, format!("{e:?}"))),
            }
        }
        .boxed()
    }

    fn create_database<'a>(&'a self, db: &'a str) -> BoxFuture<'a, Result<()>> {
        async move {
            self.wrote();
            let t = self.target(db);
            let d = h::Database {
                name: Some(fs(db)),
                description: Some(fs("automatically created by hudi-rust's catalog sync")),
                ..Default::default()
            };
            match answer("create_database", &t, self.client.create_database(d).await)? {
                Ok(()) | Err(h::ThriftHiveMetastoreCreateDatabaseException::O1(_)) => Ok(()),
                Err(e) => Err(failed("create_database", &t, format!("{e:?}"))),
            }
        }
        .boxed()
    }

    fn get_table<'a>(
        &'a self,
        db: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<TableDef>>> {
        async move {
            self.read();
            let t = self.target(&format!("{db}.{name}"));
            match answer(
                "get_table",
                &t,
                self.client.get_table(fs(db), fs(name)).await,
            )? {
                Ok(table) => {
                    let def = def_of(&table);
                    self.remember(db, &table, &def);
                    Ok(Some(def))
                }
                Err(h::ThriftHiveMetastoreGetTableException::O2(_)) => Ok(None),
                Err(e) => Err(failed("get_table", &t, format!("{e:?}"))),
            }
        }
        .boxed()
    }

    fn create_table<'a>(&'a self, db: &'a str, table: &'a TableDef) -> BoxFuture<'a, Result<()>> {
        async move {
            self.wrote();
            let t = self.target(&format!("{db}.{}", table.name));
            let new = table_of(db, table);
            match answer(
                "create_table",
                &t,
                self.client.create_table(new.clone()).await,
            )? {
                Ok(()) => {
                    self.remember(db, &new, table);
                    Ok(())
                }
                // Created since we looked: bring it to our definition.
                Err(h::ThriftHiveMetastoreCreateTableException::O1(_)) => {
                    self.update_table(db, table, false).await
                }
                Err(e) => Err(failed("create_table", &t, format!("{e:?}"))),
            }
        }
        .boxed()
    }

    fn update_table<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        cascade: bool,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            let t = self.target(&format!("{db}.{}", table.name));
            let mut new = table_of(db, table);
            // Keep what the metastore assigned at creation.
            if let Some(old) = self.known(db, &table.name).await? {
                new.create_time = old.create_time;
                new.owner = old.owner;
            }
            self.wrote();
            let cascade = cascade && !table.partition_keys.is_empty();
            let r = self
                .client
                .alter_table_with_cascade(fs(db), fs(&table.name), new, cascade)
                .await;
            answer("alter_table", &t, r)?.map_err(|e| failed("alter_table", &t, format!("{e:?}")))
        }
        .boxed()
    }

    fn list_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
    ) -> BoxFuture<'a, Result<Vec<PartitionDef>>> {
        async move {
            self.read();
            let t = self.target(&format!("{db}.{table}"));
            let r = self.client.get_partitions(fs(db), fs(table), -1).await;
            let parts = answer("get_partitions", &t, r)?
                .map_err(|e| failed("get_partitions", &t, format!("{e:?}")))?;
            Ok(parts.iter().map(partition_of).collect())
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
            let t = self.target(&format!("{db}.{table}"));
            let Some(def) = self.known(db, table).await? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for chunk in values.chunks(self.batch) {
                self.read();
                let names: Vec<FastStr> = chunk
                    .iter()
                    .map(|v| fs(&partition_name(&def.partition_keys, v)))
                    .collect();
                let r = self
                    .client
                    .get_partitions_by_names(fs(db), fs(table), names)
                    .await;
                let parts = answer("get_partitions_by_names", &t, r)?
                    .map_err(|e| failed("get_partitions_by_names", &t, format!("{e:?}")))?;
                out.extend(parts.iter().map(partition_of));
            }
            Ok(out)
        }
        .boxed()
    }

    fn add_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        partitions: &'a [PartitionDef],
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            let t = self.target(&format!("{db}.{}", table.name));
            for chunk in partitions.chunks(self.batch) {
                self.wrote();
                let parts = chunk.iter().map(|p| self.partition(db, table, p)).collect();
                let req = h::AddPartitionsRequest {
                    db_name: fs(db),
                    tbl_name: fs(&table.name),
                    parts,
                    if_not_exists: true,
                    need_result: Some(false),
                    ..Default::default()
                };
                let r = self.client.add_partitions_req(req).await;
                answer("add_partitions_req", &t, r)?
                    .map_err(|e| failed("add_partitions_req", &t, format!("{e:?}")))?;
            }
            Ok(())
        }
        .boxed()
    }

    fn update_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a TableDef,
        partitions: &'a [PartitionDef],
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            let t = self.target(&format!("{db}.{}", table.name));
            for chunk in partitions.chunks(self.batch) {
                self.wrote();
                let parts = chunk.iter().map(|p| self.partition(db, table, p)).collect();
                let r = self
                    .client
                    .alter_partitions(fs(db), fs(&table.name), parts)
                    .await;
                answer("alter_partitions", &t, r)?
                    .map_err(|e| failed("alter_partitions", &t, format!("{e:?}")))?;
            }
            Ok(())
        }
        .boxed()
    }

    fn drop_partitions<'a>(
        &'a self,
        db: &'a str,
        table: &'a str,
        values: &'a [Vec<String>],
    ) -> BoxFuture<'a, Result<()>> {
        let calls = values.iter().map(move |v| self.drop_one(db, table, v));
        futures::stream::iter(calls)
            .buffer_unordered(4)
            .try_collect::<Vec<()>>()
            .map(|r| r.map(|_| ()))
            .boxed()
    }
}

impl HmsClient {
    async fn drop_one(&self, db: &str, table: &str, values: &[String]) -> Result<()> {
        self.wrote();
        let t = self.target(&format!("{db}.{table}"));
        let vals: Vec<FastStr> = values.iter().map(|s| fs(s)).collect();
        let r = self
            .client
            .drop_partition(fs(db), fs(table), vals, false)
            .await;
        match answer("drop_partition", &t, r)? {
            // Already gone: what was wanted.
            Ok(_) | Err(h::ThriftHiveMetastoreDropPartitionException::O1(_)) => Ok(()),
            Err(e) => Err(failed("drop_partition", &t, format!("{e:?}"))),
        }
    }

    fn partition(&self, db: &str, table: &TableDef, p: &PartitionDef) -> h::Partition {
        h::Partition {
            values: Some(p.values.iter().map(|v| fs(v)).collect()),
            db_name: Some(fs(db)),
            table_name: Some(fs(&table.name)),
            create_time: Some(0),
            last_access_time: Some(0),
            sd: Some(storage(table, &p.location)),
            parameters: Some(AHashMap::default()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_escape_as_hive_does() {
        let keys = vec![Column::new("Day", "string"), Column::new("h", "string")];
        assert_eq!(
            partition_name(&keys, &["2024/01/02".into(), "a=b c".into()]),
            "day=2024%2F01%2F02/h=a%3Db c"
        );
    }
}
