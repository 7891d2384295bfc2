//! Ordering (precombine) values: what record merging compares. Each variant is the Java class
//! the value has in Apache Hudi (0.14/0.15), because Java compares ordering values only within
//! one class: a delete block's `LongWrapper` is compared with a record's `Long`, never with an
//! `Integer`.

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::*;

/// One ordering value, from a data column or a delete record.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderingValue {
    /// No value: a null column value, or a table without an ordering field. Written as the
    /// "natural order" `0` that Java uses for records without one.
    Null,
    Bool(bool),
    /// `Integer` (an Avro `int`).
    Int(i32),
    /// `Long` (an Avro `long`, timestamps included: Java keeps their raw value).
    Long(i64),
    Float(f32),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// `LocalDate`: days since the epoch (an Avro `date`, a delete block's `DateWrapper`).
    Date(i32),
    /// `BigDecimal`: unscaled value and scale.
    Decimal(i128, i8),
    /// `Instant`, from a delete block's `TimestampMicrosWrapper`: microseconds since the epoch.
    Instant(i64),
    /// A decimal as an Avro record holds it (`GenericData.Fixed`), unscaled value and scale:
    /// Java compares such values by their bytes, unsigned.
    Fixed(i128, i8),
    /// A string as an Avro record holds it (`Utf8`): Java compares its UTF-8 bytes.
    Utf8(String),
}

impl OrderingValue {
    /// The ordering value of one cell, as Java's writer converts a record's field
    /// (`HoodieAvroUtils.getNestedFieldVal`): dates become `LocalDate`, decimals `BigDecimal`,
    /// timestamps stay `Long`. Types Hudi does not order by give `Null`.
    pub fn from_array(arr: &ArrayRef, row: usize) -> OrderingValue {
        use OrderingValue as O;
        if arr.is_null(row) {
            return O::Null;
        }
        match arr.data_type() {
            DataType::Boolean => O::Bool(arr.as_boolean().value(row)),
            DataType::Int8 => O::Int(i32::from(arr.as_primitive::<Int8Type>().value(row))),
            DataType::Int16 => O::Int(i32::from(arr.as_primitive::<Int16Type>().value(row))),
            DataType::UInt8 => O::Int(i32::from(arr.as_primitive::<UInt8Type>().value(row))),
            DataType::UInt16 => O::Int(i32::from(arr.as_primitive::<UInt16Type>().value(row))),
            DataType::Int32 => O::Int(arr.as_primitive::<Int32Type>().value(row)),
            DataType::Int64 => O::Long(arr.as_primitive::<Int64Type>().value(row)),
            DataType::UInt32 => O::Long(i64::from(arr.as_primitive::<UInt32Type>().value(row))),
            DataType::Date32 => O::Date(arr.as_primitive::<Date32Type>().value(row)),
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                O::Long(arr.as_primitive::<TimestampMicrosecondType>().value(row))
            }
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                O::Long(arr.as_primitive::<TimestampMillisecondType>().value(row))
            }
            DataType::Float32 => O::Float(arr.as_primitive::<Float32Type>().value(row)),
            DataType::Float64 => O::Double(arr.as_primitive::<Float64Type>().value(row)),
            DataType::Utf8 => O::Str(arr.as_string::<i32>().value(row).to_string()),
            DataType::LargeUtf8 => O::Str(arr.as_string::<i64>().value(row).to_string()),
            DataType::Utf8View => O::Str(arr.as_string_view().value(row).to_string()),
            DataType::Binary => O::Bytes(arr.as_binary::<i32>().value(row).to_vec()),
            DataType::LargeBinary => O::Bytes(arr.as_binary::<i64>().value(row).to_vec()),
            DataType::Decimal128(_, s) => {
                O::Decimal(arr.as_primitive::<Decimal128Type>().value(row), *s)
            }
            _ => O::Null,
        }
    }

    /// The class a record's raw Avro value has where Java's log scanner reads ordering values
    /// (`SpillableMapUtils.getPreCombineVal`, no logical-type conversion): a date stays an
    /// `Integer`, a decimal a `GenericData.Fixed`, a string a `Utf8`.
    pub fn as_avro_record_value(&self) -> OrderingValue {
        match self {
            OrderingValue::Date(d) => OrderingValue::Int(*d),
            OrderingValue::Decimal(v, s) => OrderingValue::Fixed(*v, *s),
            OrderingValue::Str(s) => OrderingValue::Utf8(s.clone()),
            other => other.clone(),
        }
    }

    /// Compares numbers across classes (ints, longs, dates and instants as integers, floats as
    /// doubles, decimals by value), other kinds as [`compare`](Self::compare): the rule of
    /// Hudi 1.x merge modes, which order by value, not by class.
    pub fn compare_by_value(&self, other: &OrderingValue) -> Option<Ordering> {
        use OrderingValue::*;
        let int = |v: &OrderingValue| match v {
            Int(i) | Date(i) => Some(i64::from(*i)),
            Long(i) | Instant(i) => Some(*i),
            _ => None,
        };
        let float = |v: &OrderingValue| match v {
            Float(f) => Some(f64::from(*f)),
            Double(f) => Some(*f),
            Int(_) | Date(_) | Long(_) | Instant(_) => int(v).map(|i| i as f64),
            Decimal(u, s) | Fixed(u, s) => Some(*u as f64 / 10f64.powi(i32::from(*s))),
            _ => None,
        };
        match (self, other) {
            (Decimal(a, sa) | Fixed(a, sa), Decimal(b, sb) | Fixed(b, sb)) => {
                Some(decimal_cmp(*a, *sa, *b, *sb))
            }
            (Str(a) | Utf8(a), Str(b) | Utf8(b)) => Some(a.cmp(b)),
            _ => match (int(self), int(other)) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => match (float(self), float(other)) {
                    (Some(a), Some(b)) => Some(a.total_cmp(&b)),
                    _ => self.compare(other),
                },
            },
        }
    }

    /// Whether this is the "natural order" default (Java's `Integer` 0, or no value): such a
    /// delete is ordered by commit time, not by value.
    pub fn is_natural_default(&self) -> bool {
        matches!(self, OrderingValue::Int(0) | OrderingValue::Null)
    }

    /// Whether two values are of one Java class (Java's `ReflectionUtils.isSameClass`).
    pub fn same_class(&self, other: &OrderingValue) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// Compares two values as Java's `compareTo` does; `None` when their classes differ.
    /// A missing value orders before any other.
    pub fn compare(&self, other: &OrderingValue) -> Option<Ordering> {
        use OrderingValue::*;
        match (self, other) {
            (Null, Null) => Some(Ordering::Equal),
            (Null, _) => Some(Ordering::Less),
            (_, Null) => Some(Ordering::Greater),
            (Bool(a), Bool(b)) => Some(a.cmp(b)),
            (Int(a), Int(b)) | (Date(a), Date(b)) => Some(a.cmp(b)),
            (Long(a), Long(b)) | (Instant(a), Instant(b)) => Some(a.cmp(b)),
            // Float.compareTo / Double.compareTo: a total order (NaN greatest).
            (Float(a), Float(b)) => Some(a.total_cmp(b)),
            (Double(a), Double(b)) => Some(a.total_cmp(b)),
            (Str(a), Str(b)) => Some(java_string_cmp(a, b)),
            (Utf8(a), Utf8(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            // ByteBuffer.compareTo compares signed bytes.
            (Bytes(a), Bytes(b)) => {
                Some(a.iter().map(|x| *x as i8).cmp(b.iter().map(|x| *x as i8)))
            }
            (Decimal(a, sa), Decimal(b, sb)) => Some(decimal_cmp(*a, *sa, *b, *sb)),
            // One column's fixed bytes: two's complement of one size, compared unsigned.
            (Fixed(a, _), Fixed(b, _)) => Some((*a as u128).cmp(&(*b as u128))),
            _ => None,
        }
    }
}

/// `String.compareTo`: by UTF-16 code units.
fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `BigDecimal.compareTo`: by value, whatever the scales.
fn decimal_cmp(a: i128, sa: i8, b: i128, sb: i8) -> Ordering {
    let rescale = |v: i128, by: i8| -> Option<i128> {
        10i128
            .checked_pow(u32::from(by.unsigned_abs()))
            .and_then(|p| v.checked_mul(p))
    };
    let exact = match sa.cmp(&sb) {
        Ordering::Equal => Some((a, b)),
        Ordering::Less => rescale(a, sb - sa).map(|a| (a, b)),
        Ordering::Greater => rescale(b, sa - sb).map(|b| (a, b)),
    };
    match exact {
        Some((x, y)) => x.cmp(&y),
        None => {
            let f = |v: i128, s: i8| v as f64 / 10f64.powi(i32::from(s));
            f(a, sa).total_cmp(&f(b, sb))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn compares_within_a_java_class_only() {
        use OrderingValue::*;
        assert_eq!(Int(2).compare(&Int(3)), Some(Ordering::Less));
        assert_eq!(Long(2).compare(&Long(1)), Some(Ordering::Greater));
        assert_eq!(Int(2).compare(&Long(2)), None, "Integer vs Long");
        assert_eq!(Date(2).compare(&Int(2)), None, "LocalDate vs Integer");
        assert_eq!(Float(1.5).compare(&Double(1.5)), None);
        assert_eq!(Str("a".into()).compare(&Int(1)), None);
        assert_eq!(
            Decimal(150, 2).compare(&Decimal(15, 1)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            Decimal(1250, 2).compare(&Decimal(12_500_000_000_000_000, 15)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            Decimal(-1, 0).compare(&Decimal(1, 30)),
            Some(Ordering::Less)
        );
        // UTF-16 order: U+FF21 sorts before U+1F600 (a surrogate pair), unlike UTF-8.
        assert_eq!(
            Str("\u{FF21}".into()).compare(&Str("\u{1F600}".into())),
            Some(Ordering::Greater)
        );
        assert_eq!(
            Fixed(-1, 2).compare(&Fixed(1, 2)),
            Some(Ordering::Greater),
            "unsigned bytes"
        );
        assert_eq!(Decimal(-1, 2).compare(&Fixed(-1, 2)), None);
        assert_eq!(
            Bytes(vec![0x80]).compare(&Bytes(vec![0x01])),
            Some(Ordering::Less),
            "signed"
        );
        assert_eq!(Date(3).as_avro_record_value(), Int(3));
        assert_eq!(Str("a".into()).as_avro_record_value(), Utf8("a".into()));
        assert_eq!(Int(2).compare_by_value(&Long(3)), Some(Ordering::Less));
        assert_eq!(
            Decimal(150, 2).compare_by_value(&Double(1.4)),
            Some(Ordering::Greater)
        );
        assert!(Int(0).is_natural_default() && Null.is_natural_default());
        assert!(!Long(0).is_natural_default(), "only Integer 0 is natural");
        assert!(Long(1).same_class(&Long(9)) && !Long(1).same_class(&Int(1)));
    }

    #[test]
    fn takes_the_class_java_gives_a_column() {
        let cell = |a: ArrayRef| OrderingValue::from_array(&a, 0);
        assert_eq!(
            cell(Arc::new(arrow::array::Int64Array::from(vec![5]))),
            OrderingValue::Long(5)
        );
        assert_eq!(
            cell(Arc::new(arrow::array::Int32Array::from(vec![5]))),
            OrderingValue::Int(5)
        );
        assert_eq!(
            cell(Arc::new(arrow::array::Date32Array::from(vec![5]))),
            OrderingValue::Date(5)
        );
        assert_eq!(
            cell(Arc::new(
                arrow::array::TimestampMicrosecondArray::from(vec![5]).with_timezone("UTC")
            )),
            OrderingValue::Long(5)
        );
        assert_eq!(
            cell(Arc::new(arrow::array::Float32Array::from(vec![1.5]))),
            OrderingValue::Float(1.5)
        );
        assert_eq!(
            cell(Arc::new(arrow::array::Int64Array::from(vec![None::<i64>]))),
            OrderingValue::Null
        );
    }
}
