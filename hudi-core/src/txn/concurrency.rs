//! Concurrency options, as Hudi 0.15 names them: the mode (`single_writer` or
//! `optimistic_concurrency_control`), the file-system lock (Hudi's
//! `FileSystemBasedLockProvider`: `<hoodie.write.lock.filesystem.path>/lock`, by default
//! `.hoodie/lock`) and the heartbeat of each write. A pending write whose heartbeat lives is a
//! running writer's and is never rolled back, whatever `hoodie.cleaner.policy.failed.writes`
//! says (Hudi's EAGER would; its LAZY, which optimistic concurrency forces, would not).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::ConfigKey;
use crate::error::{HudiError, Result};
use crate::storage::Storage;

use super::lock::{LockProvider, StorageLock};

pub const MODE: ConfigKey =
    ConfigKey::new("hoodie.write.concurrency.mode").with_default("SINGLE_WRITER");
pub const LOCK_PROVIDER: ConfigKey = ConfigKey::new("hoodie.write.lock.provider");
pub const LOCK_PATH: ConfigKey = ConfigKey::new("hoodie.write.lock.filesystem.path");
pub const LOCK_EXPIRE_MINUTES: ConfigKey =
    ConfigKey::new("hoodie.write.lock.filesystem.expire").with_default("0");
pub const LOCK_WAIT_MS: ConfigKey =
    ConfigKey::new("hoodie.write.lock.wait_time_ms").with_default("60000");
pub const LOCK_RETRY_WAIT_MS: ConfigKey =
    ConfigKey::new("hoodie.write.lock.client.wait_time_ms_between_retry").with_default("100");
pub const HEARTBEAT_INTERVAL_MS: ConfigKey =
    ConfigKey::new("hoodie.client.heartbeat.interval_in_ms").with_default("60000");
pub const HEARTBEAT_MISSES: ConfigKey =
    ConfigKey::new("hoodie.client.heartbeat.tolerable.misses").with_default("2");

/// Hudi's file-system lock provider, the one lock both Hudi and we take.
pub const FILE_SYSTEM_LOCK: &str =
    "org.apache.hudi.client.transaction.lock.FileSystemBasedLockProvider";

/// The lock: where, how long a holder keeps it without renewing, how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockConfig {
    /// The lock file, relative to the base path.
    pub path: String,
    /// A lock not renewed for this long may be taken over (`None`: never).
    pub expire: Option<Duration>,
    pub wait: Duration,
    pub retry_wait: Duration,
}

/// Heartbeats of running writes: `.hoodie/.heartbeat/<instant>`, touched every `interval`;
/// expired once older than `interval × misses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatConfig {
    pub interval: Duration,
    pub misses: u32,
}

impl HeartbeatConfig {
    pub fn expiry(&self) -> Duration {
        self.interval * self.misses.max(1)
    }

    /// Whether something last touched at `since_ms` is older than the expiry at `now_ms`.
    pub fn expired(&self, since_ms: i64, now_ms: i64) -> bool {
        now_ms - since_ms > self.expiry().as_millis() as i64
    }
}

/// The concurrency options of one writer or service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConcurrencyConfig {
    /// `Some` under optimistic concurrency control.
    pub lock: Option<LockConfig>,
    pub heartbeat: HeartbeatConfig,
}

fn bad(key: &ConfigKey, v: &str, reason: &str) -> HudiError {
    HudiError::InvalidConfig {
        key: key.key.to_string(),
        value: v.to_string(),
        source_name: "write options".into(),
        reason: reason.to_string(),
    }
}

fn num(o: &BTreeMap<String, String>, key: &ConfigKey) -> Result<u64> {
    let v = key.get(o).unwrap_or("");
    v.trim().parse().map_err(|_| bad(key, v, "not a number"))
}

impl ConcurrencyConfig {
    /// One writer at a time (Hudi's default).
    pub fn single_writer() -> Self {
        ConcurrencyConfig {
            lock: None,
            heartbeat: HeartbeatConfig {
                interval: Duration::from_secs(60),
                misses: 2,
            },
        }
    }

    pub fn is_optimistic(&self) -> bool {
        self.lock.is_some()
    }

    /// The lock of optimistic concurrency control on `storage`, if configured.
    pub fn lock_provider(&self, storage: &Storage) -> Option<std::sync::Arc<dyn LockProvider>> {
        self.lock.as_ref().map(|config| {
            std::sync::Arc::new(StorageLock {
                storage: storage.clone(),
                config: config.clone(),
            }) as std::sync::Arc<dyn LockProvider>
        })
    }

    /// Parses the options (table properties overlaid with write options) of a table on
    /// `storage`. A lock outside the table, another lock provider or another mode is refused.
    pub fn from_options(storage: &Storage, o: &BTreeMap<String, String>) -> Result<Self> {
        let heartbeat = HeartbeatConfig {
            interval: Duration::from_millis(num(o, &HEARTBEAT_INTERVAL_MS)?.max(1)),
            misses: num(o, &HEARTBEAT_MISSES)?.clamp(1, u32::MAX as u64) as u32,
        };
        let mode = MODE.get(o).unwrap_or("SINGLE_WRITER");
        let optimistic = match mode.trim().to_ascii_uppercase().as_str() {
            "SINGLE_WRITER" => false,
            "OPTIMISTIC_CONCURRENCY_CONTROL" => true,
            _ => {
                return Err(bad(
                    &MODE,
                    mode,
                    "supported: single_writer, optimistic_concurrency_control",
                ))
            }
        };
        let lock = optimistic.then(|| lock_config(storage, o)).transpose()?;
        Ok(ConcurrencyConfig { lock, heartbeat })
    }
}

fn lock_config(storage: &Storage, o: &BTreeMap<String, String>) -> Result<LockConfig> {
    if let Some(p) = LOCK_PROVIDER.lookup(o) {
        if p.trim() != FILE_SYSTEM_LOCK {
            return Err(bad(
                &LOCK_PROVIDER,
                p,
                &format!("the lock provider supported is {FILE_SYSTEM_LOCK}"),
            ));
        }
    }
    let dir = match LOCK_PATH.lookup(o).map(str::trim).filter(|s| !s.is_empty()) {
        None => ".hoodie".to_string(),
        Some(d) => storage
            .relative(d)
            .or_else(|| (!d.contains(':') && !d.starts_with('/')).then(|| d.to_string()))
            .ok_or_else(|| {
                bad(
                    &LOCK_PATH,
                    d,
                    "the lock must lie inside the table's base path",
                )
            })?,
    };
    let dir = dir.trim_matches('/');
    let path = if dir.is_empty() {
        "lock".to_string()
    } else {
        format!("{dir}/lock")
    };
    storage.path(&path)?;
    let minutes = num(o, &LOCK_EXPIRE_MINUTES)?;
    Ok(LockConfig {
        path,
        expire: (minutes > 0).then(|| Duration::from_secs(minutes * 60)),
        wait: Duration::from_millis(num(o, &LOCK_WAIT_MS)?),
        retry_wait: Duration::from_millis(num(o, &LOCK_RETRY_WAIT_MS)?.max(1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> Storage {
        Storage::from_store(
            std::sync::Arc::new(object_store::memory::InMemory::new()),
            "t",
            "/data/t",
        )
    }

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn optimistic_mode_takes_hudis_file_system_lock() {
        let st = storage();
        let single = ConcurrencyConfig::from_options(&st, &opts(&[])).unwrap();
        assert_eq!(single, ConcurrencyConfig::single_writer());
        let occ = ConcurrencyConfig::from_options(
            &st,
            &opts(&[
                (
                    "hoodie.write.concurrency.mode",
                    "optimistic_concurrency_control",
                ),
                ("hoodie.write.lock.filesystem.expire", "2"),
            ]),
        )
        .unwrap();
        let lock = occ.lock.unwrap();
        assert_eq!(lock.path, ".hoodie/lock");
        assert_eq!(lock.expire, Some(Duration::from_secs(120)));
        assert_eq!(occ.heartbeat.expiry(), Duration::from_secs(120));
        let aux = ConcurrencyConfig::from_options(
            &st,
            &opts(&[
                (
                    "hoodie.write.concurrency.mode",
                    "OPTIMISTIC_CONCURRENCY_CONTROL",
                ),
                (
                    "hoodie.write.lock.filesystem.path",
                    "file:///data/t/.hoodie/.aux",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(aux.lock.unwrap().path, ".hoodie/.aux/lock");
    }

    #[test]
    fn other_modes_providers_and_outside_locks_are_refused() {
        let st = storage();
        let occ = (
            "hoodie.write.concurrency.mode",
            "optimistic_concurrency_control",
        );
        for (o, key) in [
            (
                opts(&[(
                    "hoodie.write.concurrency.mode",
                    "NON_BLOCKING_CONCURRENCY_CONTROL",
                )]),
                "hoodie.write.concurrency.mode",
            ),
            (
                opts(&[
                    occ,
                    (
                        "hoodie.write.lock.provider",
                        "org.apache.hudi.client.transaction.lock.ZookeeperBasedLockProvider",
                    ),
                ]),
                "hoodie.write.lock.provider",
            ),
            (
                opts(&[
                    occ,
                    ("hoodie.write.lock.filesystem.path", "/elsewhere/locks"),
                ]),
                "hoodie.write.lock.filesystem.path",
            ),
        ] {
            let e = ConcurrencyConfig::from_options(&st, &o).unwrap_err();
            assert!(e.to_string().contains(key), "{e}");
        }
    }
}
