//! Turning Arrow cells into the strings Hudi's key generators produce (Java `toString` forms).

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::*;

/// Java `Double.toString`: plain for 1e-3 ≤ |d| < 1e7 (always with a fraction digit),
/// otherwise `d.dddE±n`; shortest digits that round-trip.
pub fn java_double(d: f64) -> String {
    java_float_text(d, format!("{d:e}"), format!("{d}"))
}

/// Java `Float.toString`.
pub fn java_float(f: f32) -> String {
    java_float_text(f64::from(f), format!("{f:e}"), format!("{f}"))
}

fn java_float_text(d: f64, sci: String, plain: String) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = d.abs();
    if (1e-3..1e7).contains(&a) {
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        // Rust: "1.234e-5" / "1e10" → Java: "1.234E-5" / "1.0E10".
        let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let mant = if mant.contains('.') {
            mant.to_string()
        } else {
            format!("{mant}.0")
        };
        format!("{mant}E{exp}")
    }
}

/// A decimal's unscaled value as Java `BigDecimal.toString` prints it (plain for the scales
/// Spark uses).
pub fn decimal_string(unscaled: i128, scale: i8) -> String {
    if scale <= 0 {
        let mut s = unscaled.to_string();
        s.extend(std::iter::repeat_n('0', (-scale) as usize));
        return s;
    }
    let neg = unscaled < 0;
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{}", "0".repeat(scale - digits.len() + 1), digits)
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

/// The string of one cell, or `None` for null. Dates print as `yyyy-MM-dd`, timestamps as
/// their epoch value in the column's unit (as Hudi's Avro path does), decimals plainly.
pub fn cell_string(arr: &ArrayRef, row: usize) -> Option<String> {
    if arr.is_null(row) {
        return None;
    }
    Some(match arr.data_type() {
        DataType::Utf8 => arr.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => arr.as_string::<i64>().value(row).to_string(),
        DataType::Utf8View => arr.as_string_view().value(row).to_string(),
        DataType::Boolean => arr.as_boolean().value(row).to_string(),
        DataType::Int8 => arr.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::Int16 => arr.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => arr.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => arr.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt8 => arr.as_primitive::<UInt8Type>().value(row).to_string(),
        DataType::UInt16 => arr.as_primitive::<UInt16Type>().value(row).to_string(),
        DataType::UInt32 => arr.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::UInt64 => arr.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::Float32 => java_float(arr.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => java_double(arr.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, s) => {
            decimal_string(arr.as_primitive::<Decimal128Type>().value(row), *s)
        }
        DataType::Date32 => {
            let days = arr.as_primitive::<Date32Type>().value(row);
            chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| days.to_string())
        }
        DataType::Timestamp(TimeUnit::Second, _) => arr
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .to_string(),
        DataType::Timestamp(TimeUnit::Millisecond, _) => arr
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .to_string(),
        DataType::Timestamp(TimeUnit::Microsecond, _) => arr
            .as_primitive::<TimestampMicrosecondType>()
            .value(row)
            .to_string(),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => arr
            .as_primitive::<TimestampNanosecondType>()
            .value(row)
            .to_string(),
        DataType::Binary => String::from_utf8_lossy(arr.as_binary::<i32>().value(row)).into_owned(),
        _ => arrow::util::display::array_value_to_string(arr, row).unwrap_or_default(),
    })
}

/// The cell as epoch milliseconds for timestamp-based partitioning, given the configured unit
/// of plain numbers (`per_sec`: 1 for seconds, 1000 for millis, ...). Timestamp columns use
/// their own unit.
pub fn cell_epoch_millis(arr: &ArrayRef, row: usize, per_sec: i64) -> Option<i64> {
    if arr.is_null(row) {
        return None;
    }
    let scale = |v: i64, per: i64| -> i64 {
        if per >= 1000 {
            v.div_euclid(per / 1000)
        } else {
            v.saturating_mul(1000 / per)
        }
    };
    Some(match arr.data_type() {
        DataType::Int32 => scale(
            i64::from(arr.as_primitive::<Int32Type>().value(row)),
            per_sec,
        ),
        DataType::Int64 => scale(arr.as_primitive::<Int64Type>().value(row), per_sec),
        DataType::Float64 => scale(arr.as_primitive::<Float64Type>().value(row) as i64, per_sec),
        DataType::Timestamp(TimeUnit::Second, _) => {
            arr.as_primitive::<TimestampSecondType>().value(row) * 1000
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            arr.as_primitive::<TimestampMillisecondType>().value(row)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => arr
            .as_primitive::<TimestampMicrosecondType>()
            .value(row)
            .div_euclid(1000),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => arr
            .as_primitive::<TimestampNanosecondType>()
            .value(row)
            .div_euclid(1_000_000),
        DataType::Date32 => i64::from(arr.as_primitive::<Date32Type>().value(row)) * 86_400_000,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_number_forms() {
        assert_eq!(java_double(2.5), "2.5");
        assert_eq!(java_double(100.0), "100.0");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(1.5e-5), "1.5E-5");
        assert_eq!(java_double(1234567.0), "1234567.0");
        assert_eq!(java_double(12345678.9), "1.23456789E7");
        assert_eq!(java_float(1.1), "1.1");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(decimal_string(1234567890, 5), "12345.67890");
        assert_eq!(decimal_string(-5, 2), "-0.05");
        assert_eq!(decimal_string(42, 0), "42");
    }
}
