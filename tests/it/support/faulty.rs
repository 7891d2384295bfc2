//! An object store that fails the writes a test chooses, as a full disk or a failing object
//! store fails them in the middle of a write: every put of a path the test names fails,
//! after a number of them succeeded.

use std::fmt;
use std::sync::{Arc, Mutex};

use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

type Matcher = Box<dyn Fn(&str) -> bool + Send + Sync>;

struct Rule {
    matches: Matcher,
    allowed: usize,
    seen: usize,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rule(allowed {}, seen {})", self.allowed, self.seen)
    }
}

#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    rule: Mutex<Option<Rule>>,
    /// Paths whose put failed.
    pub failed: Mutex<Vec<String>>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> FaultyStore {
        FaultyStore {
            inner,
            rule: Mutex::new(None),
            failed: Mutex::new(Vec::new()),
        }
    }

    /// From now on, puts of the paths `matches` accepts fail once `allowed` of them succeeded.
    pub fn fail_puts(
        &self,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
        allowed: usize,
    ) {
        *self.rule.lock().expect("rule") = Some(Rule {
            matches: Box::new(matches),
            allowed,
            seen: 0,
        });
    }

    fn check(&self, location: &Path) -> Result<()> {
        let mut rule = self.rule.lock().expect("rule");
        let Some(r) = rule.as_mut().filter(|r| (r.matches)(location.as_ref())) else {
            return Ok(());
        };
        r.seen += 1;
        if r.seen <= r.allowed {
            return Ok(());
        }
        self.failed
            .lock()
            .expect("failed")
            .push(location.to_string());
        Err(object_store::Error::Generic {
            store: "faulty",
            source: Box::new(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device",
            )),
        })
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.check(location)?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.check(location)?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.check(to)?;
        self.inner.copy_opts(from, to, options).await
    }
}
