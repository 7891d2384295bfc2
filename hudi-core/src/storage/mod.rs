//! Table storage over `object_store`: local paths, `file://`, `s3://`, `gs://` and `az://` URLs.
//!
//! Every path handed to [`Storage`] is relative to the table's base path, with `/` separators.
//! Relative paths are checked so that nothing can be read or written outside the base path.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use url::Url;

use crate::error::{HudiError, Result};
use crate::model::file_name::is_debris;

pub(crate) mod failpoint;
mod table_props;
#[cfg(test)]
pub(crate) mod test_support;
pub use table_props::{
    load_table_config, update_table_properties, HOODIE_DIR, PROPERTIES_BACKUP, PROPERTIES_FILE,
};

/// One listed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// File name (last path segment).
    pub name: String,
    /// Path relative to the table's base path.
    pub path: String,
    pub size: u64,
    pub last_modified_ms: i64,
}

/// The files and sub-directories directly under one directory.
#[derive(Debug, Clone, Default)]
pub struct DirListing {
    pub files: Vec<FileInfo>,
    pub dirs: Vec<String>,
}

/// A table's base location on some object store.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    base: Path,
    location: String,
    /// A local file system, where Hadoop (Spark) keeps a `.<name>.crc` checksum beside each
    /// file it writes and fails to read a file whose checksum no longer matches.
    local: bool,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("location", &self.location)
            .finish()
    }
}

/// Environment variable prefixes read as storage options per scheme (`AWS_REGION` →
/// `aws_region`), as the object_store builders' own `from_env` do.
fn env_options(prefix: &str) -> HashMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// A local path as the operating system resolves it: `~` (alone or before a `/`) is the home
/// directory, as a shell would expand it; the existing part of the path is resolved with its
/// `.`, `..` and symbolic links, and what does not exist yet (a table to create) is appended
/// with its `.` and `..` applied.
fn local_path(location: &str) -> std::io::Result<std::path::PathBuf> {
    use std::path::{Component, PathBuf};
    let expanded = match location.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let home = std::env::var_os("HOME").ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "~ used, but HOME is not set")
            })?;
            PathBuf::from(home).join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(if location.is_empty() { "." } else { location }),
    };
    let absolute = std::path::absolute(expanded)?;
    // The longest existing ancestor, resolved by the OS; the rest applied lexically.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let mut resolved = loop {
        match existing.canonicalize() {
            Ok(p) => break p,
            Err(_) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                // `..` or the root: resolve what remains lexically.
                _ => break PathBuf::new(),
            },
        }
    };
    if resolved.as_os_str().is_empty() {
        rest.clear();
        for c in absolute.components() {
            match c {
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::CurDir => {}
                c => resolved.push(c.as_os_str()),
            }
        }
        return Ok(resolved);
    }
    for name in rest.into_iter().rev() {
        match name.to_str() {
            Some("..") => {
                resolved.pop();
            }
            Some(".") => {}
            _ => resolved.push(name),
        }
    }
    Ok(resolved)
}

impl Storage {
    /// Opens a location: a local path, or a URL with scheme `file`, `s3`/`s3a`, `gs`, `az`/
    /// `abfs`/`abfss`. `options` (e.g. from `--storage-option k=v`) override the environment.
    pub fn open(location: &str, options: &HashMap<String, String>) -> Result<Storage> {
        let invalid = |reason: String| HudiError::InvalidLocation {
            location: location.to_string(),
            reason,
        };
        let location_trimmed = location.trim_end_matches('/');
        if !location.contains("://") {
            let p = local_path(location_trimmed).map_err(|e| invalid(e.to_string()))?;
            return Self::local(&p, location);
        }
        let url = Url::parse(location_trimmed).map_err(|e| invalid(e.to_string()))?;
        if url.scheme() == "file" {
            let p = url
                .to_file_path()
                .map_err(|_| invalid("not a local file URL".into()))?;
            return Self::local(&p, location);
        }
        let mut opts: HashMap<String, String> = match url.scheme() {
            "s3" | "s3a" => env_options("AWS_"),
            "gs" => env_options("GOOGLE_"),
            "az" | "abfs" | "abfss" | "adl" | "azure" => env_options("AZURE_"),
            other => return Err(invalid(format!("unsupported scheme '{other}'"))),
        };
        opts.extend(
            options
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone())),
        );
        let mut url_for_store = url.clone();
        if url.scheme() == "s3a" {
            let s = url.as_str().replacen("s3a://", "s3://", 1);
            url_for_store = Url::parse(&s).map_err(|e| invalid(e.to_string()))?;
        }
        let (store, base) = object_store::parse_url_opts(&url_for_store, opts)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Storage {
            store: Arc::from(store),
            base,
            location: location_trimmed.to_string(),
            local: false,
        })
    }

    fn local(path: &std::path::Path, location: &str) -> Result<Storage> {
        let base = Path::from_absolute_path(path).map_err(|e| HudiError::InvalidLocation {
            location: location.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Storage {
            store: Arc::new(object_store::local::LocalFileSystem::new()),
            base,
            location: path.display().to_string(),
            local: true,
        })
    }

    /// Wraps an existing store (tests use an in-memory one).
    pub fn from_store(store: Arc<dyn ObjectStore>, base: &str, location: &str) -> Storage {
        Storage {
            store,
            base: Path::from(base),
            location: location.to_string(),
            local: false,
        }
    }

    /// The location as given (absolute for local paths).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The underlying object store.
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The store path of a path relative to the base. Fails on `..`, `.`, empty or
    /// control-character segments, so that no caller can escape the base path.
    pub fn path(&self, rel: &str) -> Result<Path> {
        let rel = rel.trim_matches('/');
        let mut raw = self.base.as_ref().to_string();
        if !rel.is_empty() {
            for seg in rel.split('/') {
                if seg.is_empty() || seg == "." || seg == ".." || seg.chars().any(char::is_control)
                {
                    return Err(HudiError::InvalidLocation {
                        location: format!("{}/{}", self.location, rel),
                        reason: format!(
                            "path segment '{seg}' would leave or confuse the table's base path"
                        ),
                    });
                }
            }
            if !raw.is_empty() {
                raw.push('/');
            }
            raw.push_str(rel);
        }
        // Segments are taken verbatim (no percent-encoding): a partition directory is named
        // exactly as `_hoodie_partition_path` and the commit metadata say.
        Path::parse(&raw).map_err(|e| HudiError::InvalidLocation {
            location: format!("{}/{}", self.location, rel),
            reason: e.to_string(),
        })
    }

    fn rel_of(&self, p: &Path) -> String {
        let base_n = self.base.parts().count();
        p.parts()
            .skip(base_n)
            .map(|s| s.as_ref().to_string())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A display form of a relative path, for messages.
    pub fn display(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.location.clone()
        } else {
            format!("{}/{}", self.location, rel.trim_start_matches('/'))
        }
    }

    /// Lists files and sub-directories directly under `rel`, skipping debris
    /// (`__MACOSX`, `.DS_Store`, `._*`, `.crc`). A missing directory lists as empty.
    pub async fn list_dir(&self, rel: &str) -> Result<DirListing> {
        let prefix = self.path(rel)?;
        let res = match self.store.list_with_delimiter(Some(&prefix)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(DirListing::default()),
            Err(e) => return Err(HudiError::storage(self.display(rel), e)),
        };
        let mut out = DirListing::default();
        for meta in res.objects {
            let path = self.rel_of(&meta.location);
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            if is_debris(&name) {
                continue;
            }
            out.files.push(FileInfo {
                name,
                path,
                size: meta.size,
                last_modified_ms: meta.last_modified.timestamp_millis(),
            });
        }
        for p in res.common_prefixes {
            let path = self.rel_of(&p);
            let name = path.rsplit('/').next().unwrap_or_default();
            if !is_debris(name) {
                out.dirs.push(path);
            }
        }
        out.files.sort_by(|a, b| a.name.cmp(&b.name));
        out.dirs.sort();
        Ok(out)
    }

    /// Lists every file under `rel`, recursively, skipping debris.
    pub async fn list_recursive(&self, rel: &str) -> Result<Vec<FileInfo>> {
        let prefix = self.path(rel)?;
        let metas: Vec<_> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))?;
        let mut out: Vec<FileInfo> = metas
            .into_iter()
            .filter_map(|meta| {
                let path = self.rel_of(&meta.location);
                if path.split('/').any(is_debris) {
                    return None;
                }
                Some(FileInfo {
                    name: path.rsplit('/').next().unwrap_or_default().to_string(),
                    path,
                    size: meta.size,
                    last_modified_ms: meta.last_modified.timestamp_millis(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Reads a whole file.
    pub async fn get(&self, rel: &str) -> Result<Bytes> {
        let p = self.path(rel)?;
        let r = self
            .store
            .get(&p)
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))?;
        r.bytes()
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))
    }

    /// Reads a byte range of a file.
    pub async fn get_range(&self, rel: &str, range: std::ops::Range<u64>) -> Result<Bytes> {
        let p = self.path(rel)?;
        self.store
            .get_range(&p, range)
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))
    }

    /// Whether a file exists.
    pub async fn exists(&self, rel: &str) -> Result<bool> {
        let p = self.path(rel)?;
        match self.store.head(&p).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(HudiError::storage(self.display(rel), e)),
        }
    }

    /// Last modification time of a file in epoch milliseconds, or `None` when it is missing.
    pub async fn modified_ms(&self, rel: &str) -> Result<Option<i64>> {
        let p = self.path(rel)?;
        match self.store.head(&p).await {
            Ok(m) => Ok(Some(m.last_modified.timestamp_millis())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(HudiError::storage(self.display(rel), e)),
        }
    }

    /// Size of a file in bytes.
    pub async fn size(&self, rel: &str) -> Result<u64> {
        let p = self.path(rel)?;
        self.store
            .head(&p)
            .await
            .map(|m| m.size)
            .map_err(|e| HudiError::storage(self.display(rel), e))
    }

    /// Writes a file, replacing any existing one (and, on a local file system, the Hadoop
    /// checksum of the file it replaces, which would no longer match).
    pub async fn put(&self, rel: &str, data: Bytes) -> Result<()> {
        self.put_payload(rel, PutPayload::from_bytes(data)).await
    }

    /// Writes a file given in parts, as [`put`](Self::put) (the parts are not joined first).
    pub async fn put_parts(&self, rel: &str, parts: Vec<Bytes>) -> Result<()> {
        self.put_payload(rel, parts.into_iter().collect()).await
    }

    async fn put_payload(&self, rel: &str, payload: PutPayload) -> Result<()> {
        failpoint::hit("before", "put", rel);
        let p = self.path(rel)?;
        self.drop_checksum(rel).await?;
        self.store
            .put(&p, payload)
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))?;
        failpoint::hit("after", "put", rel);
        Ok(())
    }

    /// Uploads a local file to `rel` in parts of 8 MiB (a multipart upload on object stores),
    /// never holding more than a few parts in memory; replaces any existing file.
    pub async fn put_file(&self, rel: &str, local: &std::path::Path) -> Result<()> {
        failpoint::hit("before", "put", rel);
        use tokio::io::AsyncReadExt;
        const PART: usize = 8 << 20;
        let p = self.path(rel)?;
        self.drop_checksum(rel).await?;
        let io = |source| HudiError::Io {
            path: local.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::File::open(local).await.map_err(io)?;
        let upload = self
            .store
            .put_multipart(&p)
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))?;
        let mut parts = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0u8; PART];
        loop {
            let n = file.read(&mut buf).await.map_err(io)?;
            if n == 0 {
                break;
            }
            parts
                .wait_for_capacity(4)
                .await
                .map_err(|e| HudiError::storage(self.display(rel), e))?;
            parts.write(&buf[..n]);
        }
        parts
            .finish()
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))?;
        failpoint::hit("after", "put", rel);
        Ok(())
    }

    /// Removes the `.<name>.crc` Hadoop's local file system keeps beside `rel`, if any.
    async fn drop_checksum(&self, rel: &str) -> Result<()> {
        if !self.local {
            return Ok(());
        }
        let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        if name.ends_with(".crc") {
            return Ok(());
        }
        let crc = if dir.is_empty() {
            format!(".{name}.crc")
        } else {
            format!("{dir}/.{name}.crc")
        };
        let p = self.path(&crc)?;
        match self.store.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(HudiError::storage(self.display(&crc), e)),
        }
    }

    /// Creates a file atomically, failing with [`HudiError::AlreadyExists`] if it exists.
    pub async fn put_if_absent(&self, rel: &str, data: Bytes) -> Result<()> {
        failpoint::hit("before", "put", rel);
        let p = self.path(rel)?;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        self.store
            .put_opts(&p, PutPayload::from_bytes(data), opts)
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))?;
        failpoint::hit("after", "put", rel);
        Ok(())
    }

    /// Deletes a file if it exists; returns whether it did. (Object stores that do not report
    /// missing keys on delete, S3 among them, always answer `true`.)
    pub async fn delete_existing(&self, rel: &str) -> Result<bool> {
        failpoint::hit("before", "delete", rel);
        let p = self.path(rel)?;
        let existed = match self.store.delete(&p).await {
            Ok(()) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => return Err(HudiError::storage(self.display(rel), e)),
        };
        self.drop_checksum(rel).await?;
        failpoint::hit("after", "delete", rel);
        Ok(existed)
    }

    /// Deletes a directory and everything under it (debris included); returns how many files
    /// went. The base path itself cannot be deleted this way.
    pub async fn delete_tree(&self, rel: &str) -> Result<usize> {
        failpoint::hit("before", "delete_tree", rel);
        if rel.trim_matches('/').is_empty() {
            return Err(HudiError::InvalidLocation {
                location: self.location.clone(),
                reason: "refusing to delete the table's base path".into(),
            });
        }
        let prefix = self.path(rel)?;
        let objects: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| HudiError::storage(self.display(rel), e))?;
        for o in &objects {
            match self.store.delete(&o.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(HudiError::storage(self.display(rel), e)),
            }
        }
        if self.local {
            let dir = std::path::PathBuf::from(format!("/{prefix}"));
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(HudiError::Io {
                        path: dir.clone(),
                        source: e,
                    })
                }
            }
        }
        failpoint::hit("after", "delete_tree", rel);
        Ok(objects.len())
    }

    /// The table-relative path of a full path in any of the forms Hudi writers record
    /// (`/abs/t/p/f`, `file:/abs/t/p/f`, `file:///abs/t/p/f`, `s3a://b/t/p/f` for an `s3://`
    /// table), or `None` when it lies outside the table.
    pub fn relative(&self, full: &str) -> Option<String> {
        relative_to(&self.location, full)
    }

    /// Deletes a file (with its Hadoop checksum on a local file system); deleting a missing
    /// file is not an error.
    pub async fn delete(&self, rel: &str) -> Result<()> {
        failpoint::hit("before", "delete", rel);
        let p = self.path(rel)?;
        match self.store.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(HudiError::storage(self.display(rel), e)),
        }
        self.drop_checksum(rel).await?;
        failpoint::hit("after", "delete", rel);
        Ok(())
    }
}

/// See [`Storage::relative`].
fn relative_to(location: &str, full: &str) -> Option<String> {
    fn norm(s: &str) -> String {
        let s = s
            .strip_prefix("file://")
            .or_else(|| s.strip_prefix("file:"))
            .unwrap_or(s);
        let s = s
            .replacen("s3a://", "s3://", 1)
            .replacen("s3n://", "s3://", 1);
        let s = s.replacen("abfss://", "abfs://", 1);
        // Collapse repeated leading slashes left by `file:///`.
        let trimmed = s.trim_start_matches('/');
        if s.starts_with('/') {
            format!("/{trimmed}")
        } else {
            s
        }
    }
    let base = format!("{}/", norm(location).trim_end_matches('/'));
    norm(full)
        .strip_prefix(&base)
        .filter(|r| !r.is_empty())
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem() -> Storage {
        Storage::from_store(
            Arc::new(object_store::memory::InMemory::new()),
            "base/t",
            "mem://t",
        )
    }

    #[test]
    fn local_paths_resolve_dots_and_the_home_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        let at = |p: &str| local_path(&format!("{}/{p}", root.display())).unwrap();
        assert_eq!(at("a/b/../b/./"), root.join("a/b"));
        assert_eq!(at("a/../a/new"), root.join("a/new"));
        // A table to create: what does not exist yet is applied lexically.
        assert_eq!(at("a/missing/../x/./y"), root.join("a/x/y"));
        assert_eq!(at("missing/deeper/../../a"), root.join("a"));
        let home = std::env::var("HOME").unwrap();
        let home = std::path::Path::new(&home);
        let home = home.canonicalize().unwrap_or_else(|_| home.to_path_buf());
        assert_eq!(local_path("~").unwrap(), home);
        assert_eq!(local_path("~/t").unwrap(), home.join("t"));
        // Only a leading `~` alone or before `/` is the home directory.
        assert!(local_path("~x").unwrap().ends_with("~x"));
        let s = Storage::open(&format!("{}/a/b/..", root.display()), &HashMap::new()).unwrap();
        assert_eq!(s.location(), root.join("a").display().to_string());
    }

    #[test]
    fn full_paths_in_other_forms_resolve_to_the_table() {
        let rel = |l: &str, f: &str| relative_to(l, f);
        assert_eq!(
            rel("/opt/t", "/opt/t/p=1/f.parquet").as_deref(),
            Some("p=1/f.parquet")
        );
        assert_eq!(
            rel("/opt/t", "file:/opt/t/f.parquet").as_deref(),
            Some("f.parquet")
        );
        assert_eq!(
            rel("/opt/t", "file:///opt/t/a/.f_1.log.1_0-1-2").as_deref(),
            Some("a/.f_1.log.1_0-1-2")
        );
        assert_eq!(rel("s3://b/t", "s3a://b/t/p/f").as_deref(), Some("p/f"));
        assert_eq!(rel("/opt/t", "/opt/other/f"), None);
        assert_eq!(rel("/opt/t", "/opt/tt/f"), None);
        assert_eq!(rel("/opt/t", "/opt/t/"), None);
    }

    #[tokio::test]
    async fn put_file_uploads_every_part_of_a_local_file() {
        let s = mem();
        let dir = tempfile::tempdir().unwrap();
        // Two full 8 MiB parts and a short one, each byte telling its position.
        let data: Vec<u8> = (0..(17u32 << 20) + 5).map(|i| (i % 251) as u8).collect();
        let local = dir.path().join("f.bin");
        std::fs::write(&local, &data).unwrap();
        s.put_file("out/f.bin", &local).await.unwrap();
        assert_eq!(s.get("out/f.bin").await.unwrap().as_ref(), data.as_slice());
        let missing = s.put_file("out/g.bin", &dir.path().join("none")).await;
        assert!(
            matches!(&missing, Err(HudiError::Io { path, .. }) if path.ends_with("none")),
            "{missing:?}"
        );
        assert!(!s.exists("out/g.bin").await.unwrap());
    }

    #[tokio::test]
    async fn put_get_list_and_put_if_absent() {
        let s = mem();
        s.put("a/x.txt", Bytes::from_static(b"1")).await.unwrap();
        s.put("a/.DS_Store", Bytes::from_static(b"junk"))
            .await
            .unwrap();
        s.put("a/b/y.txt", Bytes::from_static(b"22")).await.unwrap();
        s.put("__MACOSX/z", Bytes::from_static(b"z")).await.unwrap();
        let l = s.list_dir("a").await.unwrap();
        assert_eq!(
            l.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            vec!["x.txt"]
        );
        assert_eq!(l.dirs, vec!["a/b"]);
        let all = s.list_recursive("").await.unwrap();
        assert_eq!(
            all.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
            vec!["a/b/y.txt", "a/x.txt"]
        );
        assert_eq!(s.get("a/b/y.txt").await.unwrap().as_ref(), b"22");
        assert_eq!(s.get_range("a/b/y.txt", 1..2).await.unwrap().as_ref(), b"2");
        s.put_if_absent("c", Bytes::from_static(b"1"))
            .await
            .unwrap();
        assert!(matches!(
            s.put_if_absent("c", Bytes::from_static(b"2")).await,
            Err(HudiError::AlreadyExists { .. })
        ));
        assert!(matches!(
            s.get("missing").await,
            Err(HudiError::NotFound { .. })
        ));
        s.delete("c").await.unwrap();
        s.delete("c").await.unwrap();
        assert!(!s.exists("c").await.unwrap());
    }

    #[test]
    fn refuses_paths_that_leave_the_base() {
        let s = mem();
        for bad in ["../x", "a/../../x", "a/./b", "a//b", "a/\u{1}b"] {
            assert!(s.path(bad).is_err(), "{bad}");
        }
        assert_eq!(s.path("a=1/b").unwrap().as_ref(), "base/t/a=1/b");
    }
}

#[cfg(test)]
mod local_tests {
    use super::*;

    #[tokio::test]
    async fn lists_hidden_files_on_local_disks() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(&dir.path().to_string_lossy(), &HashMap::new()).unwrap();
        s.put(
            ".hoodie/.temp/1/a/.f_1.log.1_0-0-0.marker.APPEND",
            Bytes::new(),
        )
        .await
        .unwrap();
        s.put(
            ".hoodie/.temp/1/a/b_0-0-0_1.parquet.marker.CREATE",
            Bytes::new(),
        )
        .await
        .unwrap();
        let all = s.list_recursive(".hoodie/.temp/1").await.unwrap();
        let names: Vec<&str> = all.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                ".f_1.log.1_0-0-0.marker.APPEND",
                "b_0-0-0_1.parquet.marker.CREATE"
            ]
        );
    }
}

#[cfg(test)]
mod encoding_tests {
    use super::*;

    #[tokio::test]
    async fn special_characters_reach_the_disk_unchanged_and_list_back() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(&dir.path().to_string_lossy(), &HashMap::new()).unwrap();
        for seg in ["p=a%3Ab", "p=x y", "p=#{}^[]", "p=ü"] {
            s.put(&format!("{seg}/f.txt"), Bytes::from_static(b"1"))
                .await
                .unwrap();
            assert!(
                dir.path().join(seg).join("f.txt").exists(),
                "{seg} on disk: {:?}",
                std::fs::read_dir(dir.path())
                    .unwrap()
                    .map(|e| e.unwrap().file_name())
                    .collect::<Vec<_>>()
            );
            let l = s.list_dir(seg).await.unwrap();
            assert_eq!(l.files.len(), 1, "{seg}");
            assert_eq!(l.files[0].path, format!("{seg}/f.txt"));
            assert_eq!(s.get(&format!("{seg}/f.txt")).await.unwrap().as_ref(), b"1");
        }
        let top = s.list_dir("").await.unwrap();
        assert!(top.dirs.contains(&"p=a%3Ab".to_string()), "{:?}", top.dirs);
    }

    #[tokio::test]
    async fn rewriting_or_deleting_a_local_file_drops_its_hadoop_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let st = Storage::open(&dir.path().to_string_lossy(), &HashMap::new()).unwrap();
        std::fs::create_dir_all(dir.path().join(".hoodie")).unwrap();
        std::fs::write(dir.path().join(".hoodie/hoodie.properties"), "a=1").unwrap();
        std::fs::write(dir.path().join(".hoodie/.hoodie.properties.crc"), "x").unwrap();
        std::fs::write(dir.path().join("f.parquet"), "p").unwrap();
        std::fs::write(dir.path().join(".f.parquet.crc"), "x").unwrap();
        st.put(".hoodie/hoodie.properties", Bytes::from_static(b"a=2"))
            .await
            .unwrap();
        assert!(!dir.path().join(".hoodie/.hoodie.properties.crc").exists());
        st.delete("f.parquet").await.unwrap();
        assert!(!dir.path().join(".f.parquet.crc").exists());
        // New files and missing checksums are fine.
        st.put("g.parquet", Bytes::from_static(b"g")).await.unwrap();
        st.delete("missing").await.unwrap();
    }
}
