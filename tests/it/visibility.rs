//! Only committed files are visible: a write whose completed instant file is missing (crashed
//! before committing) or a stray file of an unknown instant never shows in any read.

use arrow::array::{AsArray, RecordBatch};
use hudi_core::{InstantTime, Table};

use crate::support;

/// Sorted (record key, commit time, file name) of every row.
fn keys(batches: &[RecordBatch]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for b in batches {
        let col = |n: &str| {
            b.column_by_name(n)
                .expect("meta column")
                .as_string::<i32>()
                .clone()
        };
        let (k, t, f) = (
            col("_hoodie_record_key"),
            col("_hoodie_commit_time"),
            col("_hoodie_file_name"),
        );
        for i in 0..b.num_rows() {
            out.push((
                k.value(i).to_string(),
                t.value(i).to_string(),
                f.value(i).to_string(),
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn files_of_uncommitted_instants_are_never_read() {
    let Some(shared) = support::shared_dir("files_of_uncommitted_instants_are_never_read") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut checked = 0;
    for fx in support::fixtures(&shared).into_iter().filter(|f| {
        f.name.ends_with("cow/v6_nonpartitioned")
            || f.name.ends_with("cow/v6_complexkeygen_hivestyle")
            || f.name.ends_with("mor/parquet/v6_simplekeygen_nonhivestyle")
            || f.name.ends_with("cow/v8_nonpartitioned")
            || f.name.ends_with("mor/avro/v9_txns_simple_meta")
    }) {
        let original = rt
            .block_on(Table::open(&fx.table.to_string_lossy()))
            .expect("open");
        let writes: Vec<_> = original.timeline().completed_writes().cloned().collect();
        let (last, before) = (&writes[writes.len() - 1], &writes[writes.len() - 2]);
        let (_, expected) = rt
            .block_on(
                original
                    .read()
                    .with_as_of(before.requested().clone())
                    .collect(),
            )
            .expect("as-of read");

        // Crash before commit: the completed file of the last write is gone.
        let dir = tempfile::tempdir().expect("tempdir");
        support::copy_tree(&fx.table, dir.path());
        let tl_dir = original.timeline().dir().to_string();
        std::fs::remove_file(
            dir.path()
                .join(&tl_dir)
                .join(last.instant.file_name(original.timeline().layout())),
        )
        .expect("remove completed instant file");
        // And a stray data file of an instant the timeline has never seen.
        let stray_instant = InstantTime::parse("20991231235959999").expect("instant");
        let view = rt.block_on(original.file_system_view(None)).expect("view");
        let slice = view
            .latest_slices()
            .into_iter()
            .find(|s| s.base_file.is_some())
            .expect("a base file");
        let base = slice.base_file.as_ref().expect("base");
        let stray = format!("{}_0-0-0_{stray_instant}.parquet", base.name.file_id);
        let stray_path = dir.path().join(&base.path).with_file_name(stray);
        std::fs::copy(dir.path().join(&base.path), stray_path).expect("stray file");

        let crashed = rt
            .block_on(Table::open(&dir.path().to_string_lossy()))
            .expect("open crashed copy");
        let (_, got) = rt.block_on(crashed.read().collect()).expect("snapshot");
        assert_eq!(
            keys(&got),
            keys(&expected),
            "{}: snapshot after a crash",
            fx.name
        );
        let (_, got) = rt
            .block_on(crashed.read().with_read_optimized().collect())
            .expect("ro");
        let (_, exp_ro) = rt
            .block_on(
                original
                    .read()
                    .with_read_optimized()
                    .with_as_of(before.requested().clone())
                    .collect(),
            )
            .expect("ro as of");
        assert_eq!(
            keys(&got),
            keys(&exp_ro),
            "{}: read-optimized after a crash",
            fx.name
        );
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn lance_tables_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".hoodie/timeline")).expect("mkdir");
    std::fs::write(
        dir.path().join(".hoodie/hoodie.properties"),
        "hoodie.table.name=t\nhoodie.table.version=9\nhoodie.timeline.layout.version=2\n\
         hoodie.table.base.file.format=LANCE\nhoodie.table.create.schema={\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}\n",
    )
    .expect("write");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let t = rt
        .block_on(Table::open(&dir.path().to_string_lossy()))
        .expect("open");
    let err = rt
        .block_on(t.read().collect())
        .expect_err("lance must be refused");
    assert!(err.to_string().contains("Lance"), "{err}");
}
