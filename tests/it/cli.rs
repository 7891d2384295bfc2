//! The `hudi` binary: inspection output and error behaviour.

use serde_json::Value;

use crate::support;

#[test]
fn show_json_reports_the_fixture_layout() {
    let Some(shared) = support::shared_dir("show_json_reports_the_fixture_layout") else {
        return;
    };
    let fx = support::fixtures(&shared)
        .into_iter()
        .find(|f| f.name.ends_with("cow/v6_complexkeygen_hivestyle"))
        .expect("fixture");
    let (ok, out, err) = support::run_hudi(&["show", &fx.table.to_string_lossy(), "--json"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["type"], "COPY_ON_WRITE");
    assert_eq!(v["version"], 6);
    assert_eq!(v["key_generator"], "COMPLEX");
    assert_eq!(v["record_key_fields"], serde_json::json!(["id", "name"]));
    assert_eq!(v["partitions"], 3);
    assert_eq!(v["file_groups"], 3);
    assert_eq!(v["base_files"], 4);
    assert_eq!(v["latest_instant"]["requested"], "20240418173235694");

    let (ok, out, _) =
        support::run_hudi(&["timeline", &fx.table.to_string_lossy(), "--json", "--all"]);
    assert!(ok);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 6, "two commits, three state files each");
    assert_eq!(lines[1]["file"], "20240418173213674.inflight");

    let (ok, out, _) = support::run_hudi(&[
        "read",
        &fx.table.to_string_lossy(),
        "--columns",
        "id,name",
        "--format",
        "jsonl",
        "--limit",
        "3",
    ]);
    assert!(ok);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json row"))
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r.as_object().is_some_and(|o| o.len() == 2)));
}

#[test]
fn errors_are_one_line_naming_the_culprit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_string_lossy().to_string();
    let (ok, _, err) = support::run_hudi(&["show", &path]);
    assert!(!ok);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("is not a Hudi table") && err.contains(&path),
        "{err}"
    );

    // An unsupported table version.
    std::fs::create_dir_all(dir.path().join(".hoodie")).expect("mkdir");
    std::fs::write(
        dir.path().join(".hoodie/hoodie.properties"),
        "hoodie.table.name=t\nhoodie.table.version=5\n",
    )
    .expect("write");
    let (ok, _, err) = support::run_hudi(&["read", &path]);
    assert!(!ok);
    assert!(err.contains("unsupported table version 5"), "{err}");

    let Some(shared) = support::shared_dir("errors_are_one_line_naming_the_culprit") else {
        return;
    };
    let fx = support::fixtures(&shared)
        .into_iter()
        .next()
        .expect("fixture");
    let t = fx.table.to_string_lossy().to_string();
    let (ok, _, err) = support::run_hudi(&["read", &t, "--as-of", "yesterday"]);
    assert!(!ok && err.contains("yesterday"), "{err}");
    let (ok, _, err) = support::run_hudi(&["read", &t, "--columns", "no_such_column"]);
    assert!(!ok && err.contains("no_such_column"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
