//! The Arrow columns a direct decoder fills.

use std::sync::Arc;

use arrow::array::{
    make_array, ArrayData, ArrayRef, BinaryBuilder, BooleanBufferBuilder, FixedSizeBinaryBuilder,
    NullBufferBuilder, StringBuilder,
};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, TimeUnit};

use super::cursor::Cursor;
use super::{Conv, Read};
use crate::io::avro_arrow::decimal_from_be;

fn decimal(bytes: &[u8]) -> Result<i128, String> {
    decimal_from_be(bytes).ok_or_else(|| "decimal wider than 16 bytes".to_string())
}

/// One target column being filled.
pub(super) enum Column {
    Null(usize),
    Bool(BooleanBufferBuilder, NullBufferBuilder),
    I32(Vec<i32>, NullBufferBuilder),
    I64(Vec<i64>, NullBufferBuilder),
    F32(Vec<f32>, NullBufferBuilder),
    F64(Vec<f64>, NullBufferBuilder),
    I128(Vec<i128>, NullBufferBuilder),
    Utf8(StringBuilder),
    Bin(BinaryBuilder),
    Fixed(FixedSizeBinaryBuilder, usize),
}

impl Column {
    pub(super) fn new(dt: &DataType, n: usize) -> Result<Column, String> {
        let nulls = || NullBufferBuilder::new(n);
        Ok(match dt {
            DataType::Null => Column::Null(0),
            DataType::Boolean => Column::Bool(BooleanBufferBuilder::new(n), nulls()),
            DataType::Int32 | DataType::Date32 | DataType::Time32(TimeUnit::Millisecond) => {
                Column::I32(Vec::with_capacity(n), nulls())
            }
            DataType::Int64 | DataType::Time64(TimeUnit::Microsecond) | DataType::Timestamp(..) => {
                Column::I64(Vec::with_capacity(n), nulls())
            }
            DataType::Float32 => Column::F32(Vec::with_capacity(n), nulls()),
            DataType::Float64 => Column::F64(Vec::with_capacity(n), nulls()),
            DataType::Decimal128(..) => Column::I128(Vec::with_capacity(n), nulls()),
            DataType::Utf8 => Column::Utf8(StringBuilder::with_capacity(n, n * 16)),
            DataType::Binary => Column::Bin(BinaryBuilder::with_capacity(n, n * 16)),
            DataType::FixedSizeBinary(w) => Column::Fixed(
                FixedSizeBinaryBuilder::with_capacity(n, *w),
                usize::try_from(*w).map_err(|_| format!("fixed width {w}"))?,
            ),
            other => return Err(format!("no direct decoding into Arrow type {other}")),
        })
    }

    pub(super) fn push_null(&mut self) {
        match self {
            Column::Null(n) => *n += 1,
            Column::Bool(v, nb) => {
                v.append(false);
                nb.append_null();
            }
            Column::I32(v, nb) => {
                v.push(0);
                nb.append_null();
            }
            Column::I64(v, nb) => {
                v.push(0);
                nb.append_null();
            }
            Column::F32(v, nb) => {
                v.push(0.0);
                nb.append_null();
            }
            Column::F64(v, nb) => {
                v.push(0.0);
                nb.append_null();
            }
            Column::I128(v, nb) => {
                v.push(0);
                nb.append_null();
            }
            Column::Utf8(b) => b.append_null(),
            Column::Bin(b) => b.append_null(),
            Column::Fixed(b, _) => b.append_null(),
        }
    }

    pub(super) fn push(&mut self, read: &Read, cur: &mut Cursor) -> Result<(), String> {
        let conv = match read {
            Read::Plain(c) => c,
            Read::AlwaysNull => {
                self.push_null();
                return Ok(());
            }
            Read::Union(branches) => {
                let b = cur.long()?;
                match usize::try_from(b).ok().and_then(|b| branches.get(b)) {
                    Some(Some(c)) => c,
                    Some(None) => {
                        self.push_null();
                        return Ok(());
                    }
                    None => return Err(format!("union branch {b} out of range")),
                }
            }
        };
        self.push_value(conv, cur)
    }

    fn push_value(&mut self, conv: &Conv, cur: &mut Cursor) -> Result<(), String> {
        macro_rules! put {
            ($v:expr, $nb:expr, $x:expr) => {{
                $v.push($x);
                $nb.append_non_null();
            }};
        }
        match (self, conv) {
            (Column::Bool(v, nb), Conv::Bool) => {
                let b = cur.take(1)?[0];
                v.append(b != 0);
                nb.append_non_null();
            }
            (Column::I32(v, nb), Conv::IntToI32) => put!(v, nb, cur.int()?),
            (Column::I64(v, nb), Conv::IntToI64) => put!(v, nb, i64::from(cur.int()?)),
            (Column::I64(v, nb), Conv::LongToI64) => put!(v, nb, cur.long()?),
            (Column::I64(v, nb), Conv::LongRescaled { mul, div }) => {
                let raw = cur.long()?;
                put!(v, nb, raw.saturating_mul(*mul).div_euclid(*div))
            }
            (Column::F32(v, nb), Conv::IntToF32) => put!(v, nb, cur.int()? as f32),
            (Column::F32(v, nb), Conv::LongToF32) => put!(v, nb, cur.long()? as f32),
            (Column::F32(v, nb), Conv::FloatToF32) => put!(v, nb, cur.f32()?),
            (Column::F32(v, nb), Conv::DoubleToF32) => put!(v, nb, cur.f64()? as f32),
            (Column::F64(v, nb), Conv::IntToF64) => put!(v, nb, f64::from(cur.int()?)),
            (Column::F64(v, nb), Conv::LongToF64) => put!(v, nb, cur.long()? as f64),
            (Column::F64(v, nb), Conv::FloatToF64) => put!(v, nb, f64::from(cur.f32()?)),
            (Column::F64(v, nb), Conv::DoubleToF64) => put!(v, nb, cur.f64()?),
            (Column::Utf8(b), Conv::StrToUtf8) => {
                let s = std::str::from_utf8(cur.bytes()?).map_err(|e| format!("string: {e}"))?;
                b.append_value(s);
            }
            (Column::Utf8(b), Conv::BytesToUtf8Lossy) => {
                b.append_value(String::from_utf8_lossy(cur.bytes()?))
            }
            (Column::Utf8(b), Conv::EnumToUtf8(symbols)) => {
                let i = cur.long()?;
                let s = usize::try_from(i)
                    .ok()
                    .and_then(|i| symbols.get(i))
                    .ok_or_else(|| format!("enum index {i} out of range"))?;
                b.append_value(s);
            }
            (Column::Bin(b), Conv::BytesToBin) => b.append_value(cur.bytes()?),
            (Column::Bin(b), Conv::FixedToBin(n)) => b.append_value(cur.take(*n)?),
            (Column::Fixed(b, w), c @ (Conv::BytesToFixed | Conv::FixedToFixed(_))) => {
                let v = match c {
                    Conv::FixedToFixed(n) => cur.take(*n)?,
                    _ => cur.bytes()?,
                };
                if v.len() != *w {
                    return Err(format!("{} bytes for a fixed({w}) column", v.len()));
                }
                b.append_value(v).map_err(|e| e.to_string())?;
            }
            (Column::I128(v, nb), Conv::BytesToDecimal) => {
                put!(v, nb, decimal(cur.bytes()?)?)
            }
            (Column::I128(v, nb), Conv::FixedToDecimal(n)) => {
                put!(v, nb, decimal(cur.take(*n)?)?)
            }
            (Column::I128(v, nb), Conv::IntToDecimal) => put!(v, nb, i128::from(cur.int()?)),
            (Column::I128(v, nb), Conv::LongToDecimal) => put!(v, nb, i128::from(cur.long()?)),
            (_, c) => return Err(format!("internal: conversion {c:?} into the wrong column")),
        }
        Ok(())
    }

    pub(super) fn finish(self, dt: &DataType) -> Result<ArrayRef, String> {
        fn prim<T: arrow::datatypes::ArrowNativeType>(
            dt: &DataType,
            vals: Vec<T>,
            mut nulls: NullBufferBuilder,
        ) -> Result<ArrayRef, String> {
            let data = ArrayData::builder(dt.clone())
                .len(vals.len())
                .add_buffer(Buffer::from_vec(vals))
                .nulls(nulls.finish())
                .build()
                .map_err(|e| e.to_string())?;
            Ok(make_array(data))
        }
        Ok(match self {
            Column::Null(n) => arrow::array::new_null_array(dt, n),
            Column::Bool(mut v, mut nb) => {
                let data = ArrayData::builder(dt.clone())
                    .len(v.len())
                    .add_buffer(v.finish().into_inner())
                    .nulls(nb.finish())
                    .build()
                    .map_err(|e| e.to_string())?;
                make_array(data)
            }
            Column::I32(v, nb) => prim(dt, v, nb)?,
            Column::I64(v, nb) => prim(dt, v, nb)?,
            Column::F32(v, nb) => prim(dt, v, nb)?,
            Column::F64(v, nb) => prim(dt, v, nb)?,
            Column::I128(v, nb) => prim(dt, v, nb)?,
            Column::Utf8(mut b) => Arc::new(b.finish()),
            Column::Bin(mut b) => Arc::new(b.finish()),
            Column::Fixed(mut b, _) => Arc::new(b.finish()),
        })
    }
}
