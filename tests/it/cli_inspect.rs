//! The inspection commands on the tables `hudi demo` writes: `demo` itself, `commits`,
//! `fsview`, `timeline --incomplete`, `log show`, `schema`, `stats`, `config`, `checkpoint`
//! and `completions`, each checked against the generator, the files on disk, the shared log
//! walker or hudi-rs.

use serde_json::Value;

use crate::support;

/// Runs `hudi` (which must succeed) and parses each line of its output as JSON.
fn json_lines(args: &[&str]) -> Vec<Value> {
    let (ok, out, err) = support::run_hudi(args);
    assert!(ok, "{args:?}: {err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn demo_writes_maintains_and_reads_two_tables_that_hudi_rs_reads_alike() {
    let Some(shared) = support::shared_dir("demo_writes_maintains_and_reads") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("demo");
    let d = out_dir.to_string_lossy().to_string();
    let (ok, out, err) = support::run_hudi(&["demo", &d, "--events", "10000", "--json"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).expect("demo json");
    assert_eq!(v["ok"], true, "{v}");
    let tables = v["tables"].as_array().expect("tables");
    assert_eq!(tables.len(), 2);
    // 10000 events; 500 updated and 500 new, then 100 corrected; 100 deleted.
    let mut oracle =
        crate::support::oracle::Oracle::start(&support::oracle_python(&shared), &shared);
    for t in tables {
        let steps: Vec<&str> = t["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s["step"].as_str().expect("step"))
            .collect();
        let want: &[&str] = match t["type"].as_str() {
            Some("MERGE_ON_READ") => &[
                "bulk_insert",
                "upsert 1",
                "compaction",
                "upsert 2",
                "compaction",
                "delete",
                "clean",
            ],
            _ => &["bulk_insert", "upsert 1", "upsert 2", "delete", "clean"],
        };
        assert_eq!(steps, want, "{t}");
        let clean = &t["steps"][want.len() - 1];
        assert!(clean["files_deleted"].as_u64() > Some(0), "{clean}");
        let checks = t["checks"].as_array().expect("checks");
        assert_eq!(checks.len(), 3);
        assert!(checks.iter().all(|c| c["ok"] == true), "{t}");
        assert_eq!(checks[0]["rows"], 10400);
        let path = std::path::PathBuf::from(t["path"].as_str().expect("path"));
        let rows = oracle.rows(&path, "snapshot", serde_json::json!({}));
        assert_eq!(
            rows.len(),
            10400,
            "hudi-rs reads the demo's {}",
            path.display()
        );
        let sum: i64 = rows.iter().filter_map(|r| r["amount_cents"].as_i64()).sum();
        assert_eq!(Value::from(sum), checks[0]["sum_amount_cents"]);
        // The time travel and the incremental query, as hudi-rs answers them.
        let at = t["steps"][want.len() - 3]["instant"]
            .as_str()
            .expect("instant");
        let then = oracle.rows(&path, "as_of", serde_json::json!({"as_of": at}));
        assert_eq!(Value::from(then.len()), checks[1]["rows"], "as of {at}");
        let first = t["steps"][0]["instant"].as_str().expect("instant");
        let incr = oracle.rows(&path, "incremental", serde_json::json!({"start": first}));
        assert_eq!(Value::from(incr.len()), checks[2]["rows"], "after {first}");
        assert_eq!(checks[1]["rows"], 10_500);
        assert_eq!(checks[2]["rows"], 1_100);
    }
    inspect_demo_tables(&out_dir);
    // A second run into the same directory is refused rather than mixed into the tables.
    let (ok, _, err) = support::run_hudi(&["demo", &d]);
    assert!(!ok && err.contains("not empty"), "{err}");
}

/// `commits`, `fsview`, `timeline --incomplete` and `completions` on the demo's tables: the
/// numbers are the generator's, the files those on disk.
fn inspect_demo_tables(dir: &std::path::Path) {
    let mor = dir.join("clicks_mor");
    let mor_s = mor.to_string_lossy().to_string();
    let writes = json_lines(&["commits", "show", &mor_s, "--json"]);
    let ops: Vec<&str> = writes
        .iter()
        .map(|w| w["operation"].as_str().expect("operation"))
        .collect();
    assert_eq!(
        ops,
        [
            "DELETE",
            "COMPACT",
            "UPSERT",
            "COMPACT",
            "UPSERT",
            "BULK_INSERT"
        ],
        "newest first"
    );
    let n = |w: &Value, k: &str| w[k].as_i64().expect(k);
    assert_eq!(n(&writes[5], "records_inserted"), 10_000);
    assert_eq!(n(&writes[4], "records_inserted"), 500);
    assert_eq!(n(&writes[4], "records_updated"), 500);
    assert_eq!(n(&writes[2], "records_updated"), 100);
    assert_eq!(n(&writes[0], "records_deleted"), 100);
    let limited = json_lines(&["commits", "show", &mor_s, "--json", "--limit", "2"]);
    assert_eq!(limited, writes[..2]);
    let parts = json_lines(&["commits", "partitions", &mor_s, "--json"]);
    assert_eq!(parts.len(), 8, "the delete touched all 8 countries");
    let deleted: i64 = parts.iter().map(|p| n(p, "records_deleted")).sum();
    assert_eq!(deleted, 100);
    // Every file the latest COW commit names is on disk with the size its stat gives.
    let cow = dir.join("clicks_cow");
    let cow_s = cow.to_string_lossy().to_string();
    let files = json_lines(&["commits", "files", &cow_s, "--json"]);
    assert_eq!(files.len(), 8);
    for f in &files {
        let path = cow.join(f["path"].as_str().expect("path"));
        let size = std::fs::metadata(&path).expect("file of the commit").len();
        assert_eq!(size as i64, n(f, "file_size"), "{}", path.display());
    }
    let (ok, out, err) = support::run_hudi(&["commits", "files", &cow_s, "--instant", "1"]);
    assert!(!ok && err.contains("--instant"), "{out}{err}");
    // The latest slices: 16 file groups (8 bulk-inserted, 8 of new events); each base and
    // log file is on disk with the size shown.
    let slices = json_lines(&["fsview", &mor_s, "--latest", "--json"]);
    assert_eq!(slices.len(), 16);
    for s in &slices {
        let part = mor.join(s["partition"].as_str().expect("partition"));
        let base = part.join(s["base_file"].as_str().expect("base file"));
        let size = std::fs::metadata(&base).expect("base file").len();
        assert_eq!(Some(size), s["base_size"].as_u64());
        let logs: u64 = s["log_file_names"]
            .as_array()
            .expect("logs")
            .iter()
            .map(|l| {
                std::fs::metadata(part.join(l.as_str().expect("name")))
                    .expect("log")
                    .len()
            })
            .sum();
        assert_eq!(Some(logs), s["log_size"].as_u64());
    }
    let all = json_lines(&["fsview", &mor_s, "--json", "--partition", "country=de"]);
    assert!(all.len() > 2 && all.iter().all(|s| s["partition"] == "country=de"));
    let (ok, _, err) = support::run_hudi(&["fsview", &mor_s, "--partition", "country=xx"]);
    assert!(!ok && err.contains("country=xx"), "{err}");
    let (ok, out, _) = support::run_hudi(&["timeline", &mor_s, "--incomplete"]);
    assert!(ok && out.contains("no incomplete instants"), "{out}");
    let (ok, out, _) = support::run_hudi(&["completions", "bash"]);
    assert!(
        ok && out.contains("fsview") && out.contains("commits"),
        "bash completions"
    );
}

/// `log show`, `schema`, `stats` and `config` on a demo table; log blocks as the shared log
/// walker sees them, sizes as on disk, properties as hudi-rs then reads them.
#[test]
fn log_schema_stats_and_config_commands() {
    let Some(shared) = support::shared_dir("log_schema_stats_and_config_commands") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = dir.path().join("demo");
    let (ok, _, err) = support::run_hudi(&["demo", &demo.to_string_lossy(), "--events", "10000"]);
    assert!(ok, "{err}");
    let (cow, mor) = (demo.join("clicks_cow"), demo.join("clicks_mor"));
    let (cow_s, mor_s) = (
        cow.to_string_lossy().to_string(),
        mor.to_string_lossy().to_string(),
    );

    // Every log file: the blocks (offset, type, record count) the shared walker finds.
    let logs: Vec<_> = support::all_files(&mor)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".log."))
        .collect();
    assert!(!logs.is_empty());
    let python = support::oracle_python(&shared);
    let mut kinds = std::collections::BTreeSet::new();
    for log in &logs {
        let ours = json_lines(&[
            "log",
            "show",
            &log.to_string_lossy(),
            "--json",
            "--records",
            "2",
        ]);
        let walked = std::process::Command::new(&python)
            .arg(shared.join("oracle/formats/walk_log.py"))
            .arg(log)
            .output()
            .expect("walk_log.py");
        let text = String::from_utf8_lossy(&walked.stdout);
        let theirs: Vec<(u64, String)> = text
            .lines()
            .filter_map(|l| {
                let rest = l.trim().strip_prefix("block#")?;
                let at: u64 = rest.split('@').nth(1)?.split(':').next()?.parse().ok()?;
                let kind = rest.split('(').nth(1)?.split(')').next()?.to_string();
                Some((at, kind))
            })
            .collect();
        let got: Vec<(u64, String)> = ours
            .iter()
            .map(|b| {
                (
                    b["offset"].as_u64().expect("offset"),
                    b["type"].as_str().expect("type").into(),
                )
            })
            .collect();
        assert_eq!(got, theirs, "{}", log.display());
        let counts: Vec<u64> = text
            .lines()
            .filter_map(|l| {
                l.split("recordCount=")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        let our_counts: Vec<u64> = ours
            .iter()
            .filter(|b| b["type"] == "AVRO_DATA_BLOCK")
            .map(|b| b["records"].as_u64().expect("records"))
            .collect();
        assert_eq!(our_counts, counts, "{}", log.display());
        for b in &ours {
            kinds.insert(b["type"].as_str().expect("type").to_string());
            if let Some(rows) = b["rows"].as_array() {
                assert!(rows.len() <= 2 && !rows.is_empty(), "{b}");
            }
        }
    }
    assert!(
        kinds.contains("AVRO_DATA_BLOCK") && kinds.contains("DELETE_BLOCK"),
        "{kinds:?}"
    );

    // The schema: the writer's columns after Hudi's five meta columns, and the Avro text.
    let s = &json_lines(&["schema", &mor_s, "--json"])[0];
    let names: Vec<&str> = s["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(&names[..2], ["_hoodie_commit_time", "_hoodie_commit_seqno"]);
    assert_eq!(
        &names[5..],
        [
            "event_id",
            "user_id",
            "country",
            "event_type",
            "page",
            "amount_cents",
            "ts"
        ]
    );
    assert_eq!(s["source"], "commit metadata");
    let (ok, avro, _) = support::run_hudi(&["schema", &mor_s, "--avro"]);
    let avro: Value = serde_json::from_str(avro.trim()).expect("avro schema json");
    // Hudi stores the writer's schema, without the meta columns.
    assert!(
        ok && avro["fields"].as_array().expect("fields").len() == 7,
        "{avro}"
    );

    // Write amplification: the total is the sum of the commits' records.
    let wa = json_lines(&["stats", "wa", &mor_s, "--json"]);
    let total = wa.last().expect("total");
    assert_eq!(total["instant"], "total");
    let written: i64 = wa[..wa.len() - 1]
        .iter()
        .map(|r| r["records_written"].as_i64().expect("written"))
        .sum();
    assert_eq!(total["records_written"], written);
    assert_eq!(
        total["records_updated"],
        500 + 500 + 100 + 100,
        "upserts, then compactions"
    );
    // File sizes: every base file on disk, counted once, min and max as on disk.
    let sizes = json_lines(&["stats", "filesizes", &cow_s, "--json"]);
    let all = sizes.last().expect("ALL");
    let on_disk: Vec<u64> = support::all_files(&cow)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| std::fs::metadata(p).expect("meta").len())
        .collect();
    assert_eq!(all["commit"], "ALL");
    assert_eq!(all["files"], on_disk.len());
    assert_eq!(all["min"], *on_disk.iter().min().expect("min"));
    assert_eq!(all["max"], *on_disk.iter().max().expect("max"));

    // Properties: read one, change a safe one, refuse the rest; hudi-rs reads the result.
    let (ok, name, _) = support::run_hudi(&["config", "get", &cow_s, "hoodie.table.name"]);
    assert!(ok && name.trim() == "clicks_cow", "{name}");
    let key = "hoodie.cleaner.commits.retained";
    let changed = json_lines(&["config", "set", &cow_s, &format!("{key}=7"), "--json"]);
    assert_eq!(changed[0]["key"], key);
    assert_eq!(changed[0]["new"], "7");
    let (_, v, _) = support::run_hudi(&["config", "get", &cow_s, key]);
    assert_eq!(v.trim(), "7");
    assert!(!cow.join(".hoodie/hoodie.properties.backup").exists());
    for refused in [
        vec!["config", "set", &cow_s, "hoodie.table.type=MERGE_ON_READ"],
        vec![
            "config",
            "set",
            &cow_s,
            "hoodie.table.recordkey.fields=user_id",
        ],
        vec!["config", "set", &cow_s, &format!("{key}=7")],
        vec!["config", "unset", &cow_s, "hoodie.not.set"],
        vec!["config", "set", &cow_s, "spark.sql.shuffle.partitions=4"],
    ] {
        let (ok, _, err) = support::run_hudi(&refused);
        assert!(!ok && err.contains("refused"), "{refused:?}: {err}");
    }
    let (ok, _, _) = support::run_hudi(&["config", "unset", &cow_s, key, "--dry-run"]);
    assert!(ok);
    let (_, v, _) = support::run_hudi(&["config", "get", &cow_s, key]);
    assert_eq!(v.trim(), "7", "a dry run changes nothing");
    let (ok, _, err) = support::run_hudi(&["verify", &cow_s]);
    assert!(ok, "the checksum still holds: {err}");
    let mut oracle =
        crate::support::oracle::Oracle::start(&support::oracle_python(&shared), &shared);
    assert_eq!(
        oracle.rows(&cow, "snapshot", serde_json::json!({})).len(),
        10_400
    );

    // A pending compaction: the timeline lists it as incomplete, fsview names it on the
    // slices it covers and counts their logs as scheduled.
    let (ok, out, err) =
        support::run_hudi(&["compaction", "schedule", &mor_s, "--force", "--json"]);
    assert!(ok, "{err}");
    let planned: Value = serde_json::from_str(out.trim()).expect("json");
    let planned = planned["scheduled"]
        .as_str()
        .expect("a compaction was planned");
    let (ok, out, _) = support::run_hudi(&["timeline", &mor_s, "--incomplete"]);
    assert!(
        ok && out.contains(planned) && out.contains("compaction"),
        "{out}"
    );
    let slices = json_lines(&["fsview", &mor_s, "--latest", "--json"]);
    let covered: Vec<&Value> = slices
        .iter()
        .filter(|s| s["pending_compaction"].as_str() == Some(planned))
        .collect();
    assert!(!covered.is_empty(), "{slices:?}");
    assert!(covered
        .iter()
        .any(|s| s["log_size_scheduled"].as_u64() > Some(0)));
    let (ok, _, err) = support::run_hudi(&["compaction", "run", &mor_s]);
    assert!(ok, "{err}");

    // The streamer checkpoint: none yet; set lands in the latest delta commit's extra metadata.
    let (ok, _, err) = support::run_hudi(&["checkpoint", "get", &mor_s]);
    assert!(!ok && err.contains("no commit"), "{err}");
    let set = json_lines(&[
        "checkpoint",
        "set",
        &mor_s,
        "--checkpoint",
        "clicks,0:42,1:7",
        "--json",
    ]);
    let instant = set[0]["instant"].as_str().expect("instant").to_string();
    let commit: Value = serde_json::from_slice(
        &std::fs::read(mor.join(format!(".hoodie/{instant}.deltacommit"))).expect("commit file"),
    )
    .expect("still JSON");
    assert_eq!(
        commit["extraMetadata"]["deltastreamer.checkpoint.key"],
        "clicks,0:42,1:7"
    );
    assert!(commit["partitionToWriteStats"]
        .as_object()
        .is_some_and(|m| !m.is_empty()));
    assert!(mor
        .join(set[0]["backup"].as_str().expect("backup"))
        .exists());
    let got = json_lines(&["checkpoint", "get", &mor_s, "--json"]);
    assert_eq!(got[0]["checkpoint"], "clicks,0:42,1:7");
    assert_eq!(got[0]["instant"], instant.as_str());
    let (ok, _, err) = support::run_hudi(&["verify", &mor_s]);
    assert!(ok, "{err}");
    assert_eq!(
        oracle.rows(&mor, "snapshot", serde_json::json!({})).len(),
        10_400
    );
}
