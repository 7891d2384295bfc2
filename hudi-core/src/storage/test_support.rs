//! Tables on in-memory storage, for unit tests of planners and views.

use std::sync::Arc;

use bytes::Bytes;

use super::{Storage, PROPERTIES_FILE};

/// An empty table of `table_type` (`COPY_ON_WRITE` or `MERGE_ON_READ`, version 6) on
/// in-memory storage, with `instants` (file name under `.hoodie/`, content) on its timeline.
pub async fn memory_table(table_type: &str, instants: &[(&str, &str)]) -> Storage {
    let st = Storage::from_store(
        Arc::new(object_store::memory::InMemory::new()),
        "t",
        "mem://t",
    );
    let props = format!(
        "hoodie.table.name=t\nhoodie.table.version=6\nhoodie.table.type={table_type}\nhoodie.table.timeline.timezone=UTC\n"
    );
    st.put(PROPERTIES_FILE, Bytes::from(props)).await.unwrap();
    for (name, content) in instants {
        st.put(&format!(".hoodie/{name}"), Bytes::from(content.to_string()))
            .await
            .unwrap();
    }
    st
}

/// An empty copy-on-write table on in-memory storage, and its timeline.
pub async fn memory_timeline() -> (Storage, crate::timeline::Timeline) {
    let st = memory_table("COPY_ON_WRITE", &[]).await;
    let config = super::load_table_config(&st).await.unwrap();
    let tl = crate::timeline::Timeline::load(&st, &config).await.unwrap();
    (st, tl)
}
