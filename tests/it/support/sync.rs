//! What the catalog-sync tests share: JSON-lines inputs, and the `hudi write` of the tables
//! they sync (keyed by `id`, partitioned hive-style by `city`, ordered by `ts`).

use std::fmt::Display;
use std::path::Path;

/// Writes `rows`, one JSON value a line, to `dir/name`; returns the path.
pub fn jsonl<T: Display>(dir: &Path, name: &str, rows: &[T]) -> String {
    let p = dir.join(name);
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&p, text).expect("input");
    p.to_string_lossy().to_string()
}

/// The arguments of `hudi write TABLE --input INPUT` into a table keyed by `id`, partitioned
/// hive-style by `city` and ordered by `ts`, then `extra`.
pub fn write_by_city<'a>(table: &'a str, input: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "write",
        table,
        "--input",
        input,
        "--record-key",
        "id",
        "--partition-by",
        "city",
        "--precombine",
        "ts",
        "--hive-style",
    ];
    args.extend(extra);
    args
}
