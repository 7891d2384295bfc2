//! Types and ordering values through Apache Hudi: a full-width table (every Avro type Hudi
//! stores, nested, nulls everywhere) written by us and by Spark, compacted by Spark; tables
//! without a precombine field; delete-block ordering values that Java's log scanner compares
//! by class. Our reader, hudi-rs and Spark read the model after every step.

use arrow::datatypes::{DataType, Field, SchemaRef};
use hudi_core::keygen::KeyGenKind;
use hudi_core::WriteOperation as Op;
use serde_json::{json, Value};

use crate::support::data::{self, field, list_of, map_of, row, struct_of, ts_type, Row};
use crate::support::scenario::{Ctx, Scenario, Writer};
use crate::support::spec::TableSpec;

fn wide_schema() -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Utf8),
        field("part", DataType::Utf8),
        field("b", DataType::Boolean),
        field("i", DataType::Int32),
        field("l", DataType::Int64),
        field("f", DataType::Float32),
        field("d", DataType::Float64),
        field("dec5", DataType::Decimal128(5, 2)),
        field("dec10", DataType::Decimal128(10, 4)),
        field("dec18", DataType::Decimal128(18, 6)),
        field("dec38", DataType::Decimal128(38, 10)),
        field("s", DataType::Utf8),
        field("bin", DataType::Binary),
        field("dt", DataType::Date32),
        field("ts", ts_type()),
        field("arr_i", list_of(DataType::Int32)),
        field("arr_s", list_of(DataType::Utf8)),
        field("m", map_of(DataType::Int64)),
        field(
            "st",
            struct_of(vec![
                field("a", DataType::Int32),
                field("b", DataType::Utf8),
            ]),
        ),
        field(
            "nested",
            list_of(struct_of(vec![
                field("x", DataType::Int32),
                field("tags", list_of(DataType::Utf8)),
            ])),
        ),
        field(
            "mst",
            map_of(struct_of(vec![
                field("p", DataType::Float64),
                field("q", DataType::Boolean),
            ])),
        ),
        field(
            "deep",
            struct_of(vec![
                field(
                    "inner",
                    struct_of(vec![
                        field("k", DataType::Utf8),
                        field("v", list_of(DataType::Int64)),
                    ]),
                ),
                field("when", DataType::Date32),
            ]),
        ),
        Field::new("_hoodie_is_deleted", DataType::Boolean, true),
    ])
}

/// A full row; `n` varies every value, `l` is the ordering value.
fn wide(id: &str, part: &str, n: i64, l: i64) -> Row {
    let sign = if n % 2 == 0 { "" } else { "-" };
    row(json!({
        "id": id, "part": part, "b": n % 2 == 0, "i": n * 7 - 3, "l": l,
        "f": 1.5 + n as f64, "d": -2.25 * n as f64,
        "dec5": format!("{sign}{}.{:02}", 100 + n, n % 100),
        "dec10": format!("{sign}{}.{:04}", 123_456 + n, n * 11 % 10_000),
        "dec18": format!("{}.{:06}", 123_456_789_012i64 + n, n * 13 % 1_000_000),
        "dec38": format!("{sign}{}{:02}.{:010}", "9999999999999999999999999", n % 100, n * 17),
        "s": format!("s-{n}-ünï©ødé"), "bin": data_b64(n),
        "dt": format!("19{:02}-0{}-1{}", 60 + n % 40, 1 + n % 9, n % 10),
        "ts": format!("19{:02}-12-31T23:59:{:02}.{:06}Z", 65 + n % 30, n % 60, n * 1001 % 1_000_000),
        // No null elements in arrays: Java's parquet-avro writer (old list structure, Hudi's
        // default) cannot write them; `null_elements_in_arrays` reads ours.
        "arr_i": [n, -n],
        "arr_s": if n % 3 == 0 { json!([]) } else { json!(["x", format!("y{n}")]) },
        "m": {"one": n, "two": null},
        "st": {"a": n, "b": if n % 2 == 0 { json!(null) } else { json!(format!("b{n}")) }},
        "nested": [{"x": n, "tags": ["t1"]}, {"x": null, "tags": null}],
        "mst": {"k": {"p": 0.5 * n as f64, "q": null}},
        "deep": {"inner": {"k": format!("k{n}"), "v": [n, n + 1]}, "when": "2000-02-29"},
    }))
}

fn data_b64(n: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([0u8, 255, n as u8, 10])
}

/// Nulls in every column but the key, partition and ordering value.
fn wide_nulls(id: &str, part: &str, l: i64) -> Row {
    row(json!({"id": id, "part": part, "l": l}))
}

fn wide_spec(name: &str) -> TableSpec {
    TableSpec::new(name, wide_schema(), &["id"])
        .partitioned(&["part"], KeyGenKind::Simple)
        .precombine("l")
}

/// Ours bulk insert and upserts (nulls, then values again), Spark's upsert over our files
/// (its merge or append handle decodes every type of ours), ours on top of Spark's, a delete.
fn wide_steps(s: &mut Scenario) {
    let first: Vec<Row> = (1..=5)
        .map(|n| wide(&format!("k{n}"), if n % 2 == 0 { "p0" } else { "p1" }, n, 1))
        .chain([wide_nulls("k6", "p0", 1)])
        .collect();
    s.write(Writer::Ours, Op::BulkInsert, first);
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![
            wide_nulls("k1", "p1", 2),
            wide("k2", "p0", 20, 2),
            wide("k7", "p1", 7, 1),
        ],
    );
    if s.ctx.spark {
        s.write(
            Writer::Spark,
            Op::Upsert,
            vec![wide("k3", "p1", 30, 3), wide("k8", "p0", 8, 1)],
        );
    }
    s.write(
        Writer::Ours,
        Op::Upsert,
        vec![wide("k1", "p1", 10, 4), wide("k6", "p0", 60, 4)],
    );
    s.write(Writer::Ours, Op::Delete, vec![wide_nulls("k5", "p1", 0)]);
}

#[test]
fn full_width_tables_round_trip_through_every_reader_and_spark_compaction() {
    let Some(mut ctx) = Ctx::setup("full_width_tables_round_trip_through_every_reader") else {
        return;
    };
    for spec in [
        wide_spec("wide_cow"),
        wide_spec("wide_mor_avro").mor(),
        wide_spec("wide_mor_parquet")
            .mor()
            .option("hoodie.logfile.data.block.format", "parquet"),
    ] {
        let mut s = Scenario::new(&mut ctx, spec);
        wide_steps(&mut s);
        if s.spec.mor && s.ctx.spark {
            // Java's compactor reads our base files and our log blocks of every type.
            s.spark_service(
                "CALL run_compaction(op => 'scheduleAndExecute', path => '{path}', options => 'hoodie.compact.inline.max.delta.commits=1')",
                true,
            );
        }
        s.check_history();
    }
    println!("full-width tables: {}", ctx.summary());
}

/// Null elements inside arrays (which Java's default Avro writer cannot write, but every
/// reader reads): written by us, read by our reader, hudi-rs and Spark.
#[test]
fn null_elements_in_arrays() {
    let Some(mut ctx) = Ctx::setup("null_elements_in_arrays") else {
        return;
    };
    for spec in [wide_spec("nulls_cow"), wide_spec("nulls_mor").mor()] {
        let mut s = Scenario::new(&mut ctx, spec);
        let with_nulls = |id: &str, n: i64, l: i64| {
            let mut r = wide(id, "p0", n, l);
            r.insert("arr_i".into(), json!([n, null, -n]));
            r.insert(
                "nested".into(),
                json!([{"x": n, "tags": ["t1", null]}, null]),
            );
            r
        };
        s.write(
            Writer::Ours,
            Op::Insert,
            vec![with_nulls("k1", 1, 1), with_nulls("k2", 2, 1)],
        );
        s.write(Writer::Ours, Op::Upsert, vec![with_nulls("k1", 10, 2)]);
        s.check_history();
    }
    println!("null array elements: {}", ctx.summary());
}

fn plain_schema() -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Int32),
        field("region", DataType::Utf8),
        field("v", DataType::Utf8),
        field("_hoodie_is_deleted", DataType::Boolean),
    ])
}

fn plain(id: i32, region: &str, v: &str) -> Row {
    row(json!({"id": id, "region": region, "v": v}))
}

fn gone(id: i32, region: &str) -> Row {
    row(json!({"id": id, "region": region, "v": "gone", "_hoodie_is_deleted": true}))
}

/// Without a precombine field the later write wins; deletes carry the natural-order 0.
#[test]
fn tables_without_a_precombine_field() {
    let Some(mut ctx) = Ctx::setup("tables_without_a_precombine_field") else {
        return;
    };
    for spec in [
        TableSpec::new("noorder_cow", plain_schema(), &["id"])
            .partitioned(&["region"], KeyGenKind::Simple),
        TableSpec::new("noorder_mor", plain_schema(), &["id"])
            .partitioned(&["region"], KeyGenKind::Simple)
            .mor(),
    ] {
        let mut s = Scenario::new(&mut ctx, spec);
        s.write(
            Writer::Ours,
            Op::Insert,
            (1..=5).map(|i| plain(i, "a", "first")).collect(),
        );
        s.write(
            Writer::Ours,
            Op::Upsert,
            vec![plain(1, "a", "second"), plain(2, "a", "second")],
        );
        s.write(
            Writer::Ours,
            Op::Upsert,
            vec![gone(1, "a"), plain(6, "a", "new")],
        );
        s.write(Writer::Ours, Op::Delete, vec![plain(3, "a", "")]);
        if s.ctx.spark {
            // Spark's datasource upserts need a precombine field; its SQL does not.
            s.spark_dml("UPDATE {table} SET v = 'spark' WHERE id = 2", |m, ct| {
                let e = m
                    .live
                    .get_mut(&("a".to_string(), "2".to_string()))
                    .expect("record 2");
                e.row.insert("v".into(), json!("spark"));
                e.commit = ct.to_string();
            });
            s.spark_dml("DELETE FROM {table} WHERE id = 4", |m, _| {
                m.live.remove(&("a".to_string(), "4".to_string()));
            });
            s.write(Writer::Spark, Op::Delete, vec![plain(6, "a", "")]);
        }
        s.write(
            Writer::Ours,
            Op::Upsert,
            vec![plain(2, "a", "ours again"), gone(5, "a")],
        );
        if s.spec.mor && s.ctx.spark {
            s.spark_service(
                "CALL run_compaction(op => 'scheduleAndExecute', path => '{path}', options => 'hoodie.compact.inline.max.delta.commits=1')",
                true,
            );
        }
        s.check_history();
    }
    println!("tables without precombine: {}", ctx.summary());
}

fn ordered_schema(dt: DataType) -> SchemaRef {
    data::schema(vec![
        field("id", DataType::Int32),
        field("o", dt),
        field("v", DataType::Utf8),
        field("_hoodie_is_deleted", DataType::Boolean),
    ])
}

/// Java keeps a log record over a later delete whose ordering value is smaller only when both
/// values are of one class: delete blocks must wrap ordering values by the column's type
/// (LongWrapper for a long column, FloatWrapper, DateWrapper, DecimalWrapper at scale 15...).
/// Java's log scanner reads a record's raw Avro value, so a date, decimal or string record
/// never outranks a delete (Apache Hudi 0.15 on Spark shows exactly this; hudi-rs lets every
/// delete win).
#[test]
fn delete_ordering_values_keep_their_column_type() {
    let Some(mut ctx) = Ctx::setup("delete_ordering_values_keep_their_column_type") else {
        return;
    };
    let ts = |s: u32| json!(format!("2024-01-01T00:00:0{s}.000000Z"));
    let cases: Vec<(&str, DataType, Value, Value, bool)> = vec![
        ("long", DataType::Int64, json!(100), json!(50), true),
        ("int", DataType::Int32, json!(100), json!(50), true),
        ("float", DataType::Float32, json!(2.5), json!(1.5), true),
        ("double", DataType::Float64, json!(2.5), json!(1.5), true),
        ("timestamp", ts_type(), ts(2), ts(1), true),
        (
            "date",
            DataType::Date32,
            json!("2024-03-02"),
            json!("2024-03-01"),
            false,
        ),
        (
            "decimal",
            DataType::Decimal128(10, 2),
            json!("12.50"),
            json!("9.99"),
            false,
        ),
        ("string", DataType::Utf8, json!("b"), json!("a"), false),
    ];
    for (name, dt, high, low, outranks) in cases {
        let spec = TableSpec::new(&format!("order_{name}"), ordered_schema(dt), &["id"])
            .precombine("o")
            .mor();
        let mut s = Scenario::new(&mut ctx, spec);
        // The hudi-rs reader merges by commit time only: Apache Hudi decides here.
        s.readers
            .retain(|r| *r != crate::support::scenario::Reader::HudiRs);
        let r = |id: i32, o: &Value, v: &str| row(json!({"id": id, "o": o, "v": v}));
        let flag = |mut x: Row| {
            x.insert("_hoodie_is_deleted".into(), json!(true));
            x
        };
        let base: Vec<Row> = (1..=4).map(|i| r(i, &low, "base")).collect();
        s.write(Writer::Ours, Op::Insert, base);
        // Log records: 1 and 3 high, 2 low; 4 high then low (pre-combining keeps high).
        s.write(
            Writer::Ours,
            Op::Upsert,
            vec![
                r(1, &high, "log"),
                r(2, &low, "log"),
                r(3, &high, "log"),
                r(4, &high, "high"),
            ],
        );
        s.write_expecting(Writer::Ours, Op::Upsert, vec![r(4, &low, "low")], |_| {});
        // Deletes: 1 low (outranked if the classes match), 2 high, 3 equal (deletes).
        s.write_expecting(
            Writer::Ours,
            Op::Upsert,
            vec![
                flag(r(1, &low, "x")),
                flag(r(2, &high, "x")),
                flag(r(3, &high, "x")),
            ],
            |m| {
                let key = |k: &str| (String::new(), k.to_string());
                if !outranks {
                    m.live.remove(&key("1"));
                }
                m.live.remove(&key("2"));
                m.live.remove(&key("3"));
            },
        );
        if s.ctx.spark {
            // Java's compactor applies the same rules.
            s.spark_service(
                "CALL run_compaction(op => 'scheduleAndExecute', path => '{path}', options => 'hoodie.compact.inline.max.delta.commits=1')",
                true,
            );
        }
    }
    println!("ordering values in delete blocks: {}", ctx.summary());
}
