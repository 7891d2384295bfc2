//! The table lock of optimistic concurrency control: one file, created with put-if-absent
//! (on local disks and on S3 alike), at the path Hudi's `FileSystemBasedLockProvider` uses, so
//! that Hudi's writers and ours exclude each other. Its content says who holds it and until
//! when (Hudi's `LockInfo` fields, plus ours); Hudi leaves it empty. A holder renews it (its
//! modification time) while it holds it; a lock older than the expiry (a crashed holder) is
//! taken over; release removes it only while it is still ours.

use std::time::{Duration, Instant as Stopwatch};

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::error::{HudiError, Result};
use crate::storage::Storage;

use super::concurrency::LockConfig;

/// The lock every commit and table service of concurrent writers takes.
pub trait LockProvider: Send + Sync + std::fmt::Debug {
    /// Takes the lock, waiting as configured ([`HudiError::LockTimeout`] otherwise).
    fn acquire(&self) -> BoxFuture<'_, Result<Box<dyn TableLock>>>;
}

/// A held lock; [`TableLock::release`] gives it up.
pub trait TableLock: Send + std::fmt::Debug {
    fn release(self: Box<Self>) -> BoxFuture<'static, Result<()>>;
}

/// Hudi's `FileSystemBasedLockProvider`: the lock file of a table's storage.
#[derive(Debug, Clone)]
pub struct StorageLock {
    pub storage: Storage,
    pub config: LockConfig,
}

impl LockProvider for StorageLock {
    fn acquire(&self) -> BoxFuture<'_, Result<Box<dyn TableLock>>> {
        Box::pin(async move {
            let held = HeldLock::acquire(&self.storage, &self.config).await?;
            Ok(Box::new(held) as Box<dyn TableLock>)
        })
    }
}

impl TableLock for HeldLock {
    fn release(self: Box<Self>) -> BoxFuture<'static, Result<()>> {
        Box::pin((*self).release())
    }
}

/// A held lock. Dropping it stops its renewal; [`HeldLock::release`] removes it.
#[derive(Debug)]
pub struct HeldLock {
    storage: Storage,
    path: String,
    owner: String,
    renewal: Option<JoinHandle<()>>,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        if let Some(r) = self.renewal.take() {
            r.abort();
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn content(owner: &str, expire: Option<Duration>) -> Bytes {
    let now = chrono::Local::now();
    let v = json!({
        "lockCreateTime": now.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        "lockThreadName": format!("hudi-rust pid {}", std::process::id()),
        "lockStacksInfo": [],
        "owner": owner,
        "expiresAtMillis": expire.map(|e| now_ms() + e.as_millis() as i64),
    });
    Bytes::from(serde_json::to_vec_pretty(&v).unwrap_or_default())
}

/// Who holds a lock, from its content (Hudi's lock files are empty).
fn holder(bytes: &[u8], modified_ms: Option<i64>) -> String {
    let since = modified_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| format!(" since {}", t.format("%Y-%m-%d %H:%M:%S%.3f UTC")))
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    match (v["owner"].as_str(), v["lockThreadName"].as_str()) {
        (Some(o), Some(t)) => format!("{t} (owner {o}){since}"),
        (None, Some(t)) => format!("{t}{since}"),
        _ => format!("another writer (Apache Hudi's lock files name none){since}"),
    }
}

impl HeldLock {
    /// Takes the lock, waiting up to `config.wait`: [`HudiError::LockTimeout`] names the
    /// holder otherwise.
    pub async fn acquire(storage: &Storage, config: &LockConfig) -> Result<HeldLock> {
        let owner = uuid::Uuid::new_v4().to_string();
        let started = Stopwatch::now();
        loop {
            match storage
                .put_if_absent(&config.path, content(&owner, config.expire))
                .await
            {
                Ok(()) => return Ok(Self::held(storage, config, owner)),
                Err(HudiError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e),
            }
            let modified = storage.modified_ms(&config.path).await?;
            if let (Some(m), Some(expire)) = (modified, config.expire) {
                if now_ms() - m > expire.as_millis() as i64 {
                    log::warn!(
                        "taking over the lock {}: not renewed for more than {} s",
                        storage.display(&config.path),
                        expire.as_secs()
                    );
                    storage.delete(&config.path).await?;
                    continue;
                }
            }
            if started.elapsed() >= config.wait {
                let bytes = match storage.get(&config.path).await {
                    Ok(b) => b,
                    Err(HudiError::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                };
                return Err(HudiError::LockTimeout {
                    lock: storage.display(&config.path),
                    holder: holder(&bytes, modified),
                    waited_ms: started.elapsed().as_millis() as u64,
                });
            }
            tokio::time::sleep(config.retry_wait).await;
        }
    }

    fn held(storage: &Storage, config: &LockConfig, owner: String) -> HeldLock {
        // Renewed three times per expiry while held: a holder that lives keeps it.
        let renewal = config.expire.map(|expire| {
            let (storage, path, owner, every) = (
                storage.clone(),
                config.path.clone(),
                owner.clone(),
                expire / 3,
            );
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match is_ours(&storage, &path, &owner).await {
                        Ok(true) => {}
                        Ok(false) => {
                            log::warn!("the lock {} was taken over", storage.display(&path));
                            return;
                        }
                        // A read that failed says nothing: renew at the next turn.
                        Err(e) => {
                            log::warn!("reading the lock {}: {e}", storage.display(&path));
                            continue;
                        }
                    }
                    if let Err(e) = storage.put(&path, content(&owner, Some(expire))).await {
                        log::warn!("renewing the lock {}: {e}", storage.display(&path));
                    }
                }
            })
        });
        HeldLock {
            storage: storage.clone(),
            path: config.path.clone(),
            owner,
            renewal,
        }
    }

    /// Removes the lock, unless someone took it over. A lock that cannot be read is an
    /// error: left in place, it would hold every other writer back.
    pub async fn release(mut self) -> Result<()> {
        if let Some(r) = self.renewal.take() {
            r.abort();
            let _ = r.await;
        }
        if is_ours(&self.storage, &self.path, &self.owner).await? {
            self.storage.delete(&self.path).await
        } else {
            log::warn!(
                "the lock {} was taken over before its release",
                self.storage.display(&self.path)
            );
            Ok(())
        }
    }
}

/// Whether the lock file holds `owner` (a missing file holds no one).
async fn is_ours(storage: &Storage, path: &str, owner: &str) -> Result<bool> {
    match storage.get(path).await {
        Ok(b) => Ok(serde_json::from_slice::<serde_json::Value>(&b)
            .is_ok_and(|v| v["owner"].as_str() == Some(owner))),
        Err(HudiError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn config(expire: Option<Duration>, wait_ms: u64) -> LockConfig {
        LockConfig {
            path: ".hoodie/lock".into(),
            expire,
            wait: Duration::from_millis(wait_ms),
            retry_wait: Duration::from_millis(5),
        }
    }

    fn mem() -> Storage {
        Storage::from_store(
            Arc::new(object_store::memory::InMemory::new()),
            "t",
            "mem://t",
        )
    }

    #[tokio::test]
    async fn one_holder_at_a_time_and_a_timeout_names_the_holder() {
        let st = mem();
        let a = HeldLock::acquire(&st, &config(None, 50)).await.unwrap();
        let e = HeldLock::acquire(&st, &config(None, 50)).await.unwrap_err();
        assert!(matches!(e, HudiError::LockTimeout { .. }), "{e}");
        assert!(e.to_string().contains("hudi-rust pid"), "{e}");
        a.release().await.unwrap();
        assert!(!st.exists(".hoodie/lock").await.unwrap());
        let b = HeldLock::acquire(&st, &config(None, 50)).await.unwrap();
        b.release().await.unwrap();
    }

    #[tokio::test]
    async fn an_empty_lock_as_hudi_writes_it_excludes_until_it_expires() {
        let st = mem();
        st.put(".hoodie/lock", Bytes::new()).await.unwrap();
        let e = HeldLock::acquire(&st, &config(None, 30)).await.unwrap_err();
        assert!(e.to_string().contains("Apache Hudi"), "{e}");
        // Expired (older than 10 ms): taken over.
        tokio::time::sleep(Duration::from_millis(30)).await;
        let l = HeldLock::acquire(&st, &config(Some(Duration::from_millis(10)), 1000))
            .await
            .unwrap();
        assert!(is_ours(&st, ".hoodie/lock", &l.owner).await.unwrap());
        l.release().await.unwrap();
    }

    #[tokio::test]
    async fn a_holder_renews_its_lock_and_never_removes_another_ones() {
        let st = mem();
        let expire = Some(Duration::from_millis(90));
        let a = HeldLock::acquire(&st, &config(expire, 10)).await.unwrap();
        // Renewed every 30 ms: after 200 ms it is still not expired.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let e = HeldLock::acquire(&st, &config(expire, 10))
            .await
            .unwrap_err();
        assert!(matches!(e, HudiError::LockTimeout { .. }), "{e}");
        // Someone else's lock now (a takeover): a's release leaves it.
        st.put(".hoodie/lock", content("someone", None))
            .await
            .unwrap();
        a.release().await.unwrap();
        assert!(st.exists(".hoodie/lock").await.unwrap());
    }
}
