//! Apache Hudi's services run by Spark on tables we wrote: `show_commits`, `run_compaction`,
//! `run_clustering`, `run_clean` and `rollback_to_instant` succeed, and afterwards our reader,
//! hudi-rs and Spark read the model; then we write on top of what the services left.

use arrow::datatypes::{DataType, SchemaRef};
use hudi_core::keygen::KeyGenKind;
use hudi_core::WriteOperation as Op;
use serde_json::json;

use crate::support::data::{self, field, row, Row};
use crate::support::scenario::{Ctx, Scenario, Writer};
use crate::support::spec::TableSpec;

fn schema() -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Int32),
        field("region", DataType::Utf8),
        field("ts", DataType::Int64),
        field("v", DataType::Utf8),
        field("price", DataType::Decimal128(12, 3)),
    ])
}

fn r(id: i32, region: &str, ts: i64, v: &str) -> Row {
    row(
        json!({"id": id, "region": region, "ts": ts, "v": v, "price": format!("{id}.{:03}", ts % 1000)}),
    )
}

/// Several commits of ours: new file groups, updates (new file versions or log files).
fn ours(s: &mut Scenario) {
    let first: Vec<Row> = (1..=8)
        .map(|i| r(i, if i % 2 == 0 { "a" } else { "b" }, 1, "v1"))
        .collect();
    s.write(Writer::Ours, Op::Insert, first);
    s.write(
        Writer::Ours,
        Op::Insert,
        (9..=12).map(|i| r(i, "a", 1, "v1")).collect(),
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![r(1, "b", 2, "v2"), r(2, "a", 2, "v2"), r(9, "a", 2, "v2")],
    );
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![r(1, "b", 3, "v3"), r(3, "b", 3, "v3")],
    );
    s.write(Writer::Ours, Op::Delete, vec![r(4, "a", 0, "")]);
}

/// `show_commits` lists our commits with their record counts.
fn show_commits(s: &mut Scenario) {
    let t = s.spark_table();
    let rows = s.spark_service(
        &format!("CALL show_commits(table => '{t}', limit => 100)"),
        false,
    );
    let ours: Vec<String> = s.commits.iter().map(|c| c.instant.clone()).collect();
    let mut listed: Vec<String> = rows
        .iter()
        .map(|r| r["commit_time"].as_str().unwrap_or_default().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, ours, "show_commits of {}", s.spec.name);
    let written: i64 = rows
        .iter()
        .map(|r| r["total_records_written"].as_i64().unwrap_or(0))
        .sum();
    assert!(written > 0, "{rows:?}");
}

#[test]
fn spark_services_on_our_tables() {
    let Some(mut ctx) = Ctx::setup("spark_services_on_our_tables") else {
        return;
    };
    if !ctx.spark {
        return;
    }
    for mor in [false, true] {
        let mut spec = TableSpec::new(if mor { "svc_mor" } else { "svc_cow" }, schema(), &["id"])
            .partitioned(&["region"], KeyGenKind::Simple)
            .precombine("ts");
        if mor {
            spec = spec.mor();
        }
        let mut s = Scenario::new(&mut ctx, spec);
        ours(&mut s);
        show_commits(&mut s);
        let t = s.spark_table();
        if mor {
            s.spark_service(
                &format!("CALL run_compaction(op => 'scheduleAndExecute', table => '{t}', options => 'hoodie.compact.inline.max.delta.commits=1')"),
                true,
            );
        }
        // Clustering rewrites our small file groups into one per partition.
        let replaced = s.spark_clustering(&format!(
            "CALL run_clustering(op => 'scheduleAndExecute', table => '{t}')"
        ));
        println!("Spark's clustering replaced {replaced} of our file groups");
        s.check_history();
        // We write on top of the clustered table, then Spark rolls our commit back.
        s.write(
            Writer::Ours,
            Op::Upsert,
            vec![r(2, "a", 5, "after clustering"), r(13, "b", 1, "new")],
        );
        let last = s.commits.last().expect("a commit").instant.clone();
        s.spark_rollback(&last);
        s.write(
            Writer::Ours,
            Op::Upsert,
            vec![r(3, "b", 9, "after rollback"), r(14, "a", 1, "new")],
        );
        // Cleaning, retaining our last commit only, removes the file groups clustering
        // replaced and every older file version.
        let cleaned = s.spark_service(
            &format!("CALL run_clean(table => '{t}', retain_commits => 1)"),
            false,
        );
        let deleted: i64 = cleaned
            .iter()
            .map(|r| r["total_files_deleted"].as_i64().unwrap_or(0))
            .sum();
        assert!(
            deleted > 0,
            "run_clean deleted nothing on {}: {cleaned:?}",
            s.spec.name
        );
        s.write(Writer::Spark, Op::Upsert, vec![r(14, "a", 2, "spark")]);
        s.write(Writer::Ours, Op::Upsert, vec![r(5, "b", 9, "after clean")]);
        // As-of reads of cleaned instants are gone; the last ones still read.
        s.forget_history(2);
        s.check_history();
    }
    println!("Spark's services on our tables: {}", ctx.summary());
}
