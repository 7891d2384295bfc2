//! Avro's binary encoding read from a slice, and the skipping of values nobody asked for.

use apache_avro::schema::{InnerDecimalSchema, Schema as AvroSchema};

/// Writer types a skipped field may have.
#[derive(Debug, Clone)]
pub(super) enum Skip {
    Nothing,
    Bool,
    Varint,
    Four,
    Eight,
    LenPrefixed,
    Fixed(usize),
    Union(Vec<Skip>),
    Record(Vec<Skip>),
    Array(Box<Skip>),
    Map(Box<Skip>),
}

pub(super) fn skip_plan(writer: &AvroSchema) -> Option<Skip> {
    use AvroSchema as S;
    Some(match writer {
        S::Null => Skip::Nothing,
        S::Boolean => Skip::Bool,
        S::Int
        | S::Long
        | S::Date
        | S::TimeMillis
        | S::TimeMicros
        | S::TimestampMillis
        | S::TimestampMicros
        | S::TimestampNanos
        | S::LocalTimestampMillis
        | S::LocalTimestampMicros
        | S::LocalTimestampNanos
        | S::Enum(_) => Skip::Varint,
        S::Float => Skip::Four,
        S::Double => Skip::Eight,
        S::Bytes | S::String | S::BigDecimal => Skip::LenPrefixed,
        S::Fixed(f) | S::Duration(f) => Skip::Fixed(f.size),
        S::Decimal(d) => match &d.inner {
            InnerDecimalSchema::Bytes => Skip::LenPrefixed,
            InnerDecimalSchema::Fixed(f) => Skip::Fixed(f.size),
        },
        S::Union(u) => Skip::Union(u.variants().iter().map(skip_plan).collect::<Option<_>>()?),
        S::Record(r) => Skip::Record(
            r.fields
                .iter()
                .map(|f| skip_plan(&f.schema))
                .collect::<Option<_>>()?,
        ),
        S::Array(a) => Skip::Array(Box::new(skip_plan(&a.items)?)),
        S::Map(m) => Skip::Map(Box::new(skip_plan(&m.types)?)),
        S::Uuid(_) | S::Ref { .. } => return None,
    })
}

/// Reads Avro's binary encoding from a slice, refusing to run past it.
pub(super) struct Cursor<'a> {
    pub(super) buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(super) fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        if n > self.buf.len() {
            return Err(format!(
                "value of {n} bytes runs past the record ({} left)",
                self.buf.len()
            ));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(super) fn long(&mut self) -> std::result::Result<i64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self
                .buf
                .split_first()
                .ok_or("varint runs past the record")?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok((v >> 1) as i64 ^ -((v & 1) as i64));
            }
        }
        Err("varint longer than 10 bytes".into())
    }

    pub(super) fn int(&mut self) -> std::result::Result<i32, String> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| format!("int value {v} out of range"))
    }

    pub(super) fn len(&mut self) -> std::result::Result<usize, String> {
        let v = self.long()?;
        usize::try_from(v).map_err(|_| format!("negative length {v}"))
    }

    pub(super) fn bytes(&mut self) -> std::result::Result<&'a [u8], String> {
        let n = self.len()?;
        self.take(n)
    }

    pub(super) fn f32(&mut self) -> std::result::Result<f32, String> {
        let b = self.take(4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn f64(&mut self) -> std::result::Result<f64, String> {
        let b = self.take(8)?;
        Ok(f64::from_le_bytes(b.try_into().expect("eight bytes")))
    }

    pub(super) fn skip(&mut self, s: &Skip) -> std::result::Result<(), String> {
        match s {
            Skip::Nothing => {}
            Skip::Bool => {
                self.take(1)?;
            }
            Skip::Varint => {
                self.long()?;
            }
            Skip::Four => {
                self.take(4)?;
            }
            Skip::Eight => {
                self.take(8)?;
            }
            Skip::LenPrefixed => {
                self.bytes()?;
            }
            Skip::Fixed(n) => {
                self.take(*n)?;
            }
            Skip::Union(branches) => {
                let b = self.long()?;
                let branch = usize::try_from(b)
                    .ok()
                    .and_then(|b| branches.get(b))
                    .ok_or_else(|| format!("union branch {b} out of range"))?;
                self.skip(branch)?;
            }
            Skip::Record(fields) => {
                for f in fields {
                    self.skip(f)?;
                }
            }
            Skip::Array(item) => self.skip_blocks(|c| c.skip(item))?,
            Skip::Map(value) => self.skip_blocks(|c| {
                c.bytes()?;
                c.skip(value)
            })?,
        }
        Ok(())
    }

    /// Skips the blocks of an array or map (a negative count is followed by a byte size).
    fn skip_blocks(
        &mut self,
        mut item: impl FnMut(&mut Self) -> std::result::Result<(), String>,
    ) -> std::result::Result<(), String> {
        loop {
            let n = self.long()?;
            if n == 0 {
                return Ok(());
            }
            if n < 0 {
                let size = self.len()?;
                self.take(size)?;
                continue;
            }
            for _ in 0..n {
                item(self)?;
            }
        }
    }
}
