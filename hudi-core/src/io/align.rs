//! Bringing record batches to one schema: columns matched by name (missing ones become
//! nulls), nested structs matched by name, lists and maps rebuilt under the target's field
//! names (2-level and 3-level parquet lists differ only there), leaf types cast.

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, ListArray, MapArray, RecordBatch, RecordBatchOptions,
    StructArray,
};
use arrow::compute::{cast, cast_with_options, CastOptions};
use arrow::datatypes::{DataType, SchemaRef};

use crate::error::{HudiError, Result};

/// Aligns `batch` to `target`; a no-op when the schemas are already equal.
pub fn align_batch(batch: &RecordBatch, target: &SchemaRef, ctx: &str) -> Result<RecordBatch> {
    if batch.schema().fields() == target.fields() {
        return RecordBatch::try_new_with_options(
            target.clone(),
            batch.columns().to_vec(),
            &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
        )
        .map_err(|e| HudiError::arrow(ctx.to_string(), e));
    }
    let schema = batch.schema();
    let columns = target
        .fields()
        .iter()
        .map(|f| match schema.index_of(f.name()) {
            Ok(i) => align_array(
                batch.column(i),
                f.data_type(),
                &format!("{ctx}, column '{}'", f.name()),
            ),
            Err(_) => Ok(new_null_array(f.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new_with_options(
        target.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(|e| HudiError::arrow(ctx.to_string(), e))
}

/// Aligns one array to a target type (a leaf value the type cannot hold becomes null, as a
/// read of older files after a type change does).
pub fn align_array(arr: &ArrayRef, target: &DataType, ctx: &str) -> Result<ArrayRef> {
    align_with(arr, target, ctx, false)
}

/// Aligns one array to a target type; a leaf value the type cannot hold is a schema error
/// naming `ctx` and both types (what a write does with its input: never a silent null).
pub fn align_array_strict(arr: &ArrayRef, target: &DataType, ctx: &str) -> Result<ArrayRef> {
    align_with(arr, target, ctx, true)
}

fn align_with(arr: &ArrayRef, target: &DataType, ctx: &str, strict: bool) -> Result<ArrayRef> {
    if arr.data_type() == target {
        return Ok(arr.clone());
    }
    let err = |e| HudiError::arrow(ctx.to_string(), e);
    match (arr.data_type(), target) {
        (DataType::Struct(_), DataType::Struct(tf)) => {
            let s = arr.as_struct();
            if tf.is_empty() {
                return Ok(Arc::new(StructArray::new_empty_fields(
                    s.len(),
                    s.nulls().cloned(),
                )));
            }
            let children = tf
                .iter()
                .map(|f| match s.column_by_name(f.name()) {
                    Some(c) => align_with(c, f.data_type(), ctx, strict),
                    None => Ok(new_null_array(f.data_type(), s.len())),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(
                StructArray::try_new(tf.clone(), children, s.nulls().cloned()).map_err(err)?,
            ))
        }
        (DataType::List(_), DataType::List(tfield)) => {
            let l = arr.as_list::<i32>();
            let child = align_with(l.values(), tfield.data_type(), ctx, strict)?;
            Ok(Arc::new(
                ListArray::try_new(
                    tfield.clone(),
                    l.offsets().clone(),
                    child,
                    l.nulls().cloned(),
                )
                .map_err(err)?,
            ))
        }
        (DataType::Map(_, _), DataType::Map(tentries, ordered)) => {
            let m = arr.as_map();
            let entries_type = tentries.data_type();
            let DataType::Struct(ef) = entries_type else {
                return Err(HudiError::Schema {
                    context: ctx.to_string(),
                    reason: "map entries must be a struct".into(),
                });
            };
            let keys = align_with(m.keys(), ef[0].data_type(), ctx, strict)?;
            let values = align_with(m.values(), ef[1].data_type(), ctx, strict)?;
            let st = StructArray::try_new(ef.clone(), vec![keys, values], None).map_err(err)?;
            Ok(Arc::new(
                MapArray::try_new(
                    tentries.clone(),
                    m.offsets().clone(),
                    st,
                    m.nulls().cloned(),
                    *ordered,
                )
                .map_err(err)?,
            ))
        }
        _ if strict => strict_cast(arr, target, ctx),
        _ => cast(arr, target).map_err(err),
    }
}

/// A cast that fails on a value the target type cannot hold.
pub fn strict_cast(arr: &ArrayRef, target: &DataType, ctx: &str) -> Result<ArrayRef> {
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    cast_with_options(arr, target, &options).map_err(|e| HudiError::Schema {
        context: ctx.to_string(),
        reason: format!(
            "the input's {} does not convert to the table's {target}: {e}",
            arr.data_type()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int32Array, Int64Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    #[test]
    fn aligns_by_name_fills_missing_and_casts() {
        let src = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("b", DataType::Int32, true),
                Field::new("a", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(Int32Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec!["x", "y"])),
            ],
        )
        .unwrap();
        let target = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
            Field::new("c", DataType::Utf8, true),
        ]));
        let out = align_batch(&src, &target, "t").unwrap();
        assert_eq!(out.schema(), target);
        assert_eq!(
            out.column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .value(1),
            2
        );
        assert_eq!(out.column(2).null_count(), 2);
    }
}
