//! Ordering (precombine) values: what record merging compares.

use std::cmp::Ordering;

/// One ordering value, from a data column or a delete record.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderingValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// A decimal's unscaled value and scale.
    Decimal(i128, i8),
}

impl OrderingValue {
    /// Whether this is the "natural order" default that SQL deletes write (int 0): such a
    /// delete is ordered by commit time, not by value.
    pub fn is_natural_default(&self) -> bool {
        matches!(self, OrderingValue::Int(0) | OrderingValue::Null)
    }

    /// Compares two values of comparable kinds; `None` when the kinds differ.
    pub fn compare(&self, other: &OrderingValue) -> Option<Ordering> {
        use OrderingValue::*;
        match (self, other) {
            (Null, Null) => Some(Ordering::Equal),
            (Null, _) => Some(Ordering::Less),
            (_, Null) => Some(Ordering::Greater),
            (Bool(a), Bool(b)) => Some(a.cmp(b)),
            (Int(a), Int(b)) => Some(a.cmp(b)),
            (Float(a), Float(b)) => a.partial_cmp(b),
            (Int(a), Float(b)) => (*a as f64).partial_cmp(b),
            (Float(a), Int(b)) => a.partial_cmp(&(*b as f64)),
            (Str(a), Str(b)) => Some(a.cmp(b)),
            (Bytes(a), Bytes(b)) => Some(a.cmp(b)),
            (Decimal(a, sa), Decimal(b, sb)) if sa == sb => Some(a.cmp(b)),
            (Decimal(a, sa), Decimal(b, sb)) => {
                let (fa, fb) = (
                    *a as f64 / 10f64.powi(i32::from(*sa)),
                    *b as f64 / 10f64.powi(i32::from(*sb)),
                );
                fa.partial_cmp(&fb)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_like_kinds_and_refuses_others() {
        assert_eq!(
            OrderingValue::Int(2).compare(&OrderingValue::Int(3)),
            Some(Ordering::Less)
        );
        assert_eq!(
            OrderingValue::Int(2).compare(&OrderingValue::Float(1.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(
            OrderingValue::Str("a".into()).compare(&OrderingValue::Int(1)),
            None
        );
        assert_eq!(
            OrderingValue::Decimal(150, 2).compare(&OrderingValue::Decimal(15, 1)),
            Some(Ordering::Equal)
        );
        assert!(OrderingValue::Int(0).is_natural_default());
    }
}
