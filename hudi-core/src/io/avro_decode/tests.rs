use std::sync::Arc;

use apache_avro::schema::Schema as AvroSchema;
use apache_avro::types::Value;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::BlockDecoder;
use crate::io::arrow_avro::encode_avro_data_content;
use crate::io::avro_arrow::{avro_schema_to_arrow, parse_avro_schema, records_to_batch};

const WRITER: &str = r#"{"type":"record","name":"r","fields":[
  {"name":"id","type":"int"},
  {"name":"name","type":["null","string"],"default":null},
  {"name":"ts","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null},
  {"name":"amount","type":["null","double"],"default":null},
  {"name":"f","type":"float"},
  {"name":"dec","type":["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}]},
  {"name":"fdec","type":{"type":"fixed","name":"fd","size":5,"logicalType":"decimal","precision":10,"scale":2}},
  {"name":"e","type":{"type":"enum","name":"en","symbols":["A","B","C"]}},
  {"name":"skipped","type":["null",{"type":"record","name":"inner","fields":[
    {"name":"xs","type":{"type":"array","items":"string"}},
    {"name":"m","type":{"type":"map","values":["null","long"]}},
    {"name":"fx","type":{"type":"fixed","name":"f3","size":3}}]}]},
  {"name":"b","type":"boolean"},
  {"name":"bin","type":"bytes"},
  {"name":"d","type":{"type":"int","logicalType":"date"}},
  {"name":"l","type":["long","null"]},
  {"name":"n","type":"null"},
  {"name":"promoted","type":"int"}
]}"#;

fn target() -> SchemaRef {
    let utc = Some("UTC".into());
    Arc::new(Schema::new(vec![
        Field::new("promoted", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("id", DataType::Int32, false),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, utc), true),
        Field::new("amount", DataType::Float64, true),
        Field::new("f", DataType::Float64, false),
        Field::new("dec", DataType::Decimal128(10, 2), true),
        Field::new("fdec", DataType::Decimal128(10, 2), false),
        Field::new("e", DataType::Utf8, false),
        Field::new("absent", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, false),
        Field::new("bin", DataType::Binary, false),
        Field::new("d", DataType::Date32, false),
        Field::new("l", DataType::Int64, true),
        Field::new("n", DataType::Utf8, true),
    ]))
}

fn record(i: i32) -> Value {
    let some = i % 3 != 0;
    let opt = |b: u32, v: Value| match some {
        true => Value::Union(b, Box::new(v)),
        false => Value::Union(if b == 0 { 1 } else { 0 }, Box::new(Value::Null)),
    };
    let inner = Value::Record(vec![
        (
            "xs".into(),
            Value::Array(vec![Value::String(format!("x{i}"))]),
        ),
        (
            "m".into(),
            Value::Map(
                [("k".to_string(), Value::Union(1, Box::new(Value::Long(7))))]
                    .into_iter()
                    .collect(),
            ),
        ),
        ("fx".into(), Value::Fixed(3, vec![1, 2, 3])),
    ]);
    let dec = (i64::from(i) * -12345).to_be_bytes()[5..].to_vec();
    Value::Record(vec![
        ("id".into(), Value::Int(i)),
        ("name".into(), opt(1, Value::String(format!("név {i}")))),
        (
            "ts".into(),
            opt(1, Value::TimestampMillis(1_700_000_000_000 + i64::from(i))),
        ),
        ("amount".into(), opt(1, Value::Double(f64::from(i) / 7.0))),
        ("f".into(), Value::Float(i as f32 * 0.5)),
        ("dec".into(), opt(1, Value::Decimal(dec.clone().into()))),
        ("fdec".into(), Value::Decimal(dec.into())),
        (
            "e".into(),
            Value::Enum((i % 3) as u32, ["A", "B", "C"][(i % 3) as usize].into()),
        ),
        ("skipped".into(), opt(1, inner)),
        ("b".into(), Value::Boolean(i % 2 == 0)),
        ("bin".into(), Value::Bytes(vec![i as u8; (i % 4) as usize])),
        ("d".into(), Value::Date(19_000 + i)),
        (
            "l".into(),
            match some {
                true => Value::Union(0, Box::new(Value::Long(-i64::from(i)))),
                false => Value::Union(1, Box::new(Value::Null)),
            },
        ),
        ("n".into(), Value::Null),
        ("promoted".into(), Value::Int(i * 1000)),
    ])
}

fn block(schema: &AvroSchema, records: &[Value]) -> Vec<u8> {
    encode_avro_data_content(records, schema, "test").unwrap()
}

#[test]
fn direct_decoding_equals_the_value_path() {
    let schema = parse_avro_schema(WRITER, "test").unwrap();
    let records: Vec<Value> = (0..50).map(record).collect();
    let content = block(&schema, &records);
    let target = target();
    let d = BlockDecoder::compile(&schema, &target).expect("direct decoder applies");
    let direct = d.decode(&content, 8, records.len(), "test").unwrap();
    let values = crate::io::log_reader::avro_data_values(&content, &schema).unwrap();
    let general = records_to_batch(&values, &target, "test").unwrap();
    assert_eq!(direct.num_rows(), 50);
    for (i, f) in target.fields().iter().enumerate() {
        assert_eq!(direct.column(i), general.column(i), "column {}", f.name());
    }
    assert_eq!(
        direct.column(9).null_count(),
        50,
        "absent column is all null"
    );
    assert_eq!(direct.column(1).null_count(), 17, "union nulls kept");
}

#[test]
fn nested_target_columns_take_the_general_path() {
    let schema = parse_avro_schema(WRITER, "test").unwrap();
    let inner = avro_schema_to_arrow(&schema).unwrap();
    let nested = Arc::new(Schema::new(vec![inner
        .field_with_name("skipped")
        .unwrap()
        .clone()]));
    assert!(BlockDecoder::compile(&schema, &nested).is_none());
}

#[test]
fn truncated_or_garbled_records_are_errors_naming_the_record() {
    let schema = parse_avro_schema(WRITER, "test").unwrap();
    let records: Vec<Value> = (1..3).map(record).collect();
    let mut content = block(&schema, &records);
    let d = BlockDecoder::compile(&schema, &target()).unwrap();
    let cut = content.len() - 3;
    let err = d.decode(&content[..cut], 8, 2, "t").unwrap_err();
    assert!(err.contains("record 1"), "{err}");
    // Record 0's length prefix claims more than its datum holds.
    content[11] += 1;
    let err = d.decode(&content, 8, 2, "t").unwrap_err();
    assert!(err.contains("record"), "{err}");
    // A union branch index out of range.
    let mut bad = block(&schema, &records[..1]);
    let name_branch = 8 + 4 + 1; // after the length prefix and the zigzag int of id=1
    bad[name_branch] = 9;
    let err = d.decode(&bad, 8, 1, "t").unwrap_err();
    assert!(err.contains("union branch"), "{err}");
}
