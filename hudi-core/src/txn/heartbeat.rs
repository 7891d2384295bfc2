//! Heartbeats of running writes, as Hudi 0.15 keeps them: an empty file
//! `.hoodie/.heartbeat/<instant>` created before the instant's requested file and rewritten
//! every interval; its modification time is the heartbeat. A write whose heartbeat is older
//! than `interval × tolerable misses`, or missing, has failed (the LAZY failed-writes policy
//! rolls back only those). The file goes after the commit, or after the rollback.

use bytes::Bytes;
use tokio::task::JoinHandle;

use crate::error::Result;
use crate::model::InstantTime;
use crate::storage::Storage;

use super::concurrency::HeartbeatConfig;

pub const HEARTBEAT_DIR: &str = ".hoodie/.heartbeat";

pub fn heartbeat_path(t: &InstantTime) -> String {
    format!("{HEARTBEAT_DIR}/{t}")
}

/// A running heartbeat. Dropping it stops the beats and leaves the file (it then expires).
#[derive(Debug)]
pub struct Heartbeat {
    storage: Storage,
    instant: InstantTime,
    beats: Option<JoinHandle<()>>,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        if let Some(b) = self.beats.take() {
            b.abort();
        }
    }
}

impl Heartbeat {
    /// Writes the first beat, then one every interval in the background.
    pub async fn start(
        storage: &Storage,
        t: &InstantTime,
        config: HeartbeatConfig,
    ) -> Result<Self> {
        let path = heartbeat_path(t);
        storage.put(&path, Bytes::new()).await?;
        let st = storage.clone();
        let beats = tokio::spawn(async move {
            loop {
                tokio::time::sleep(config.interval).await;
                if let Err(e) = st.put(&path, Bytes::new()).await {
                    log::warn!("heartbeat {}: {e}", st.display(&path));
                }
            }
        });
        Ok(Heartbeat {
            storage: storage.clone(),
            instant: t.clone(),
            beats: Some(beats),
        })
    }

    /// Stops the beats and removes the file (the write committed or was rolled back).
    pub async fn stop(mut self) -> Result<()> {
        if let Some(b) = self.beats.take() {
            b.abort();
            // A beat under way must not write the file again after it is removed.
            let _ = b.await;
        }
        delete(&self.storage, &self.instant).await
    }
}

/// Removes the heartbeat of `t` (if any).
pub async fn delete(storage: &Storage, t: &InstantTime) -> Result<()> {
    storage.delete(&heartbeat_path(t)).await
}

/// Whether the write `t` has stopped beating: its heartbeat is missing or older than the
/// expiry, at `now_ms`.
pub async fn is_expired(
    storage: &Storage,
    t: &InstantTime,
    config: HeartbeatConfig,
    now_ms: i64,
) -> Result<bool> {
    Ok(last_beat(storage, t)
        .await?
        .is_none_or(|m| config.expired(m, now_ms)))
}

/// When the write `t` last beat (epoch milliseconds), if it keeps a heartbeat.
pub async fn last_beat(storage: &Storage, t: &InstantTime) -> Result<Option<i64>> {
    storage.modified_ms(&heartbeat_path(t)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn a_beating_write_lives_a_stopped_one_expires_a_missing_one_is_expired() {
        let st = Storage::from_store(
            Arc::new(object_store::memory::InMemory::new()),
            "t",
            "mem://t",
        );
        let t: InstantTime = "20250101000000000".parse().unwrap();
        let config = HeartbeatConfig {
            interval: Duration::from_millis(20),
            misses: 2,
        };
        let now = || chrono::Utc::now().timestamp_millis();
        assert!(is_expired(&st, &t, config, now()).await.unwrap());
        let hb = Heartbeat::start(&st, &t, config).await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(!is_expired(&st, &t, config, now()).await.unwrap());
        drop(hb);
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(is_expired(&st, &t, config, now()).await.unwrap());
        assert!(st.exists(&heartbeat_path(&t)).await.unwrap());
        let hb = Heartbeat::start(&st, &t, config).await.unwrap();
        hb.stop().await.unwrap();
        assert!(!st.exists(&heartbeat_path(&t)).await.unwrap());
    }
}
