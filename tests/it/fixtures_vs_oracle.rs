//! Every fixture table, read in every mode with `hudi read --output`, compared line for line
//! with hudi-rs through the oracle's canonical JSON.

use hudi_core::Table;
use serde_json::{json, Value};

use crate::support;
use crate::support::oracle::Oracle;

struct Case {
    id: usize,
    fixture: String,
    label: String,
    args: Vec<String>,
    oracle: Value,
    our_error: Option<String>,
}

fn cases_for(
    fx: &support::Fixture,
    out_dir: &std::path::Path,
    cases: &mut Vec<Case>,
    rt: &tokio::runtime::Runtime,
) {
    let table_path = fx.table.to_string_lossy().to_string();
    let table = rt
        .block_on(Table::open(&table_path))
        .unwrap_or_else(|e| panic!("{}: {e}", fx.name));
    let writes: Vec<(String, String)> = table
        .timeline()
        .completed_writes()
        .map(|i| (i.requested().to_string(), i.ordering_time().to_string()))
        .collect();
    let mut push = |label: String, args: Vec<String>, mut oracle: Value| {
        let id = cases.len();
        let ours = out_dir.join(format!("{id}.parquet"));
        oracle["table"] = json!(table_path);
        oracle["ours"] = json!(ours.to_string_lossy());
        cases.push(Case {
            id,
            fixture: fx.name.clone(),
            label,
            args,
            oracle,
            our_error: None,
        });
    };
    push("snapshot".into(), vec![], json!({"mode": "snapshot"}));
    push(
        "read_optimized".into(),
        vec!["--read-optimized".into()],
        json!({"mode": "read_optimized"}),
    );
    for (req, _) in &writes {
        push(
            format!("as_of {req}"),
            vec!["--as-of".into(), req.clone()],
            json!({"mode": "as_of", "as_of": req}),
        );
    }
    let mut prev: Option<&String> = None;
    for (_, t) in &writes {
        let mut args = vec!["--incremental".into(), "--end".into(), t.clone()];
        if let Some(p) = prev {
            args.extend(["--start".into(), p.clone()]);
        }
        let start = prev.cloned().unwrap_or_else(|| "0".into());
        push(
            format!("incremental ({start}, {t}]"),
            args,
            json!({"mode": "incremental", "start": start, "end": t}),
        );
        prev = Some(t);
    }
}

/// Whether hudi-rs's rows equal ours but for columns added after the instant, which hudi-rs
/// shows as null in a time-travel read (it reads every instant with the latest schema) and
/// Apache Hudi, and we, leave out (the table's schema as of the instant).
fn same_but_later_columns(expected: &Value, actual: &Value) -> bool {
    let parse = |v: &Value| -> Vec<serde_json::Map<String, Value>> {
        v.as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|l| serde_json::from_str(l.as_str()?).ok())
            .collect()
    };
    let (exp, act) = (parse(expected), parse(actual));
    exp.len() == act.len()
        && exp.iter().zip(&act).all(|(e, a)| {
            a.iter().all(|(k, v)| e.get(k) == Some(v))
                && e.iter().all(|(k, v)| a.contains_key(k) || v.is_null())
        })
}

#[test]
fn every_fixture_in_every_mode_matches_hudi_rs() {
    let Some(shared) = support::shared_dir("every_fixture_in_every_mode_matches_hudi_rs") else {
        return;
    };
    let python = support::oracle_python(&shared);
    let fixtures = support::fixtures(&shared);
    assert!(
        fixtures.len() >= 17,
        "expected the 17 fixture tables, found {}",
        fixtures.len()
    );
    let out_dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    let mut cases = Vec::new();
    for fx in &fixtures {
        cases_for(fx, out_dir.path(), &mut cases, &rt);
    }
    for c in &mut cases {
        let ours = c.oracle["ours"].as_str().unwrap_or_default().to_string();
        let table = c.oracle["table"].as_str().unwrap_or_default().to_string();
        let mut args: Vec<&str> = vec!["read", &table, "--output", &ours];
        args.extend(c.args.iter().map(String::as_str));
        let (ok, _, stderr) = support::run_hudi(&args);
        if !ok {
            c.our_error = Some(stderr.trim().to_string());
            c.oracle["ours"] = Value::Null;
        }
    }

    // One Python process (the shared oracle driver) answers every case.
    let mut oracle = Oracle::start(&python, &shared);
    let answers: Vec<Value> = cases.iter().map(|c| oracle.ask(c.oracle.clone())).collect();

    let mut passed = 0usize;
    let mut failures = Vec::new();
    for c in &cases {
        let a = &answers[c.id];
        let what = format!("{} [{}]", c.fixture, c.label);
        if let Some(e) = a.get("error") {
            failures.push(format!("{what}: the oracle failed: {e}"));
        } else if let Some(e) = &c.our_error {
            failures.push(format!("{what}: hudi read failed: {e}"));
        } else if a["expected"] != a["actual"]
            && !(c.label.starts_with("as_of")
                && same_but_later_columns(&a["expected"], &a["actual"]))
        {
            let exp = a["expected"].as_array().cloned().unwrap_or_default();
            let act = a["actual"].as_array().cloned().unwrap_or_default();
            let first = exp.iter().zip(&act).find(|(x, y)| x != y);
            failures.push(format!(
                "{what}: {} rows expected, {} read; first difference:\n  expected {}\n  actual   {}",
                exp.len(),
                act.len(),
                first.map(|(x, _)| x.to_string()).unwrap_or_default(),
                first.map(|(_, y)| y.to_string()).unwrap_or_default()
            ));
        } else {
            passed += 1;
        }
    }
    // Our completed write instants are the oracle's.
    for fx in &fixtures {
        let a = oracle.ask(json!({"op": "instants", "table": fx.table.to_string_lossy()}));
        let theirs: Vec<(String, Option<String>)> = a["instants"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|i| {
                (
                    i["timestamp"].as_str().unwrap_or_default().to_string(),
                    i["completion_time"].as_str().map(String::from),
                )
            })
            .collect();
        let table = rt
            .block_on(Table::open(&fx.table.to_string_lossy()))
            .expect("open");
        let ours: Vec<(String, Option<String>)> = table
            .timeline()
            .completed_writes()
            .map(|i| {
                (
                    i.requested().to_string(),
                    i.completion().map(|t| t.to_string()),
                )
            })
            .collect();
        if ours == theirs {
            passed += 1;
        } else {
            failures.push(format!(
                "{}: completed instants differ: ours {ours:?}, hudi-rs {theirs:?}",
                fx.name
            ));
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    println!("fixture oracle comparisons over {} tables:", fixtures.len());
    println!("{passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} comparisons failed",
        failures.len(),
        passed + failures.len()
    );
}
