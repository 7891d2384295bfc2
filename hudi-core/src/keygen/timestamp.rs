//! Timestamp-based partition values (`hoodie.keygen.timebased.*`).

use std::collections::BTreeMap;

use arrow::array::{Array, ArrayRef, AsArray};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};

use super::values::cell_epoch_millis;
use crate::config::ConfigKey;
use crate::error::{HudiError, Result};

pub const TIMESTAMP_TYPE: ConfigKey = ConfigKey::new("hoodie.keygen.timebased.timestamp.type")
    .with_aliases(&["hoodie.deltastreamer.keygen.timebased.timestamp.type"]);
pub const INPUT_FORMAT: ConfigKey = ConfigKey::new("hoodie.keygen.timebased.input.dateformat")
    .with_aliases(&["hoodie.deltastreamer.keygen.timebased.input.dateformat"]);
pub const INPUT_FORMAT_DELIMITER: ConfigKey =
    ConfigKey::new("hoodie.keygen.timebased.input.dateformat.list.delimiter.regex")
        .with_aliases(&[
            "hoodie.deltastreamer.keygen.timebased.input.dateformat.list.delimiter.regex",
        ])
        .with_default(",");
pub const OUTPUT_FORMAT: ConfigKey = ConfigKey::new("hoodie.keygen.timebased.output.dateformat")
    .with_aliases(&["hoodie.deltastreamer.keygen.timebased.output.dateformat"]);
pub const TIMEZONE: ConfigKey = ConfigKey::new("hoodie.keygen.timebased.timezone")
    .with_aliases(&["hoodie.deltastreamer.keygen.timebased.timezone"]);
pub const OUTPUT_TIMEZONE: ConfigKey = ConfigKey::new("hoodie.keygen.timebased.output.timezone")
    .with_aliases(&["hoodie.deltastreamer.keygen.timebased.output.timezone"]);
pub const SCALAR_UNIT: ConfigKey =
    ConfigKey::new("hoodie.keygen.timebased.timestamp.scalar.time.unit")
        .with_aliases(&["hoodie.deltastreamer.keygen.timebased.timestamp.scalar.time.unit"])
        .with_default("SECONDS");

/// How the partition column's value is read as a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    UnixTimestamp,
    EpochMilliseconds,
    EpochMicroseconds,
    DateString,
    Mixed,
    Scalar,
}

/// Parsed `hoodie.keygen.timebased.*` options.
#[derive(Debug, Clone)]
pub struct TimestampConfig {
    kind: TimestampType,
    /// Units per second of plain numbers.
    per_sec: i64,
    input_formats: Vec<String>,
    output_format: String,
    output_tz: Option<FixedOffset>,
}

fn utc() -> FixedOffset {
    Utc.fix()
}

fn invalid(key: &ConfigKey, value: &str, reason: impl Into<String>) -> HudiError {
    HudiError::InvalidConfig {
        key: key.key.to_string(),
        value: value.to_string(),
        source_name: "key generator options".into(),
        reason: reason.into(),
    }
}

/// Converts a Java/Joda date pattern to a chrono format string.
pub fn java_pattern_to_chrono(p: &str) -> std::result::Result<String, String> {
    let mut out = String::new();
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|x| *x == '\'')
                .ok_or("unterminated quote")?;
            if end == 0 {
                out.push('\'');
            }
            for ch in &chars[i + 1..i + 1 + end] {
                if *ch == '%' {
                    out.push_str("%%");
                } else {
                    out.push(*ch);
                }
            }
            i += end + 2;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c == '%' {
                out.push_str("%%");
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        let n = chars[i..].iter().take_while(|x| **x == c).count();
        let spec = match (c, n) {
            ('y', 2) => "%y",
            ('y', _) | ('Y', _) | ('u', _) => "%Y",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('H', 1) => "%-H",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('a', _) => "%p",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', 9) => "%9f",
            ('Z', _) => "%z",
            ('X', 1) | ('x', 1) => "%#z",
            ('X', _) | ('x', _) => "%:z",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            _ => return Err(format!("pattern letter '{}' (x{n}) is not supported", c)),
        };
        out.push_str(spec);
        i += n;
    }
    Ok(out)
}

fn parse_tz(key: &ConfigKey, v: &str) -> Result<FixedOffset> {
    let up = v.trim().to_ascii_uppercase();
    if matches!(up.as_str(), "UTC" | "GMT" | "Z" | "ETC/UTC") {
        return FixedOffset::east_opt(0).ok_or_else(|| invalid(key, v, "bad offset"));
    }
    let s = up.trim_start_matches("UTC").trim_start_matches("GMT");
    let (sign, rest) = match s.chars().next() {
        Some('+') => (1, &s[1..]),
        Some('-') => (-1, &s[1..]),
        _ => {
            return Err(invalid(
                key,
                v,
                "expected UTC, GMT or an offset like +05:30",
            ))
        }
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (
        h.parse().map_err(|_| invalid(key, v, "bad hour"))?,
        m.parse().map_err(|_| invalid(key, v, "bad minute"))?,
    );
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
        .ok_or_else(|| invalid(key, v, "offset out of range"))
}

impl TimestampConfig {
    pub fn from_options(opts: &BTreeMap<String, String>) -> Result<Self> {
        let kind_s = TIMESTAMP_TYPE.get(opts).ok_or_else(|| {
            invalid(
                &TIMESTAMP_TYPE,
                "",
                "required by the timestamp-based key generator",
            )
        })?;
        let kind = match kind_s.to_ascii_uppercase().as_str() {
            "UNIX_TIMESTAMP" => TimestampType::UnixTimestamp,
            "EPOCHMILLISECONDS" => TimestampType::EpochMilliseconds,
            "EPOCHMICROSECONDS" => TimestampType::EpochMicroseconds,
            "DATE_STRING" => TimestampType::DateString,
            "MIXED" => TimestampType::Mixed,
            "SCALAR" => TimestampType::Scalar,
            _ => return Err(invalid(&TIMESTAMP_TYPE, kind_s, "unknown timestamp type")),
        };
        let per_sec = match kind {
            TimestampType::UnixTimestamp => 1,
            TimestampType::EpochMilliseconds | TimestampType::Mixed | TimestampType::DateString => {
                1000
            }
            TimestampType::EpochMicroseconds => 1_000_000,
            TimestampType::Scalar => {
                let u = SCALAR_UNIT.get(opts).unwrap_or("SECONDS");
                match u.to_ascii_uppercase().as_str() {
                    "NANOSECONDS" => 1_000_000_000,
                    "MICROSECONDS" => 1_000_000,
                    "MILLISECONDS" => 1_000,
                    "SECONDS" => 1,
                    _ => return Err(invalid(&SCALAR_UNIT, u, "expected NANOSECONDS..SECONDS")),
                }
            }
        };
        let delim = INPUT_FORMAT_DELIMITER.get(opts).unwrap_or(",");
        let input_formats = match INPUT_FORMAT.get(opts) {
            Some(f) => f
                .split(delim)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|f| java_pattern_to_chrono(f).map_err(|e| invalid(&INPUT_FORMAT, f, e)))
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        if kind == TimestampType::DateString && input_formats.is_empty() {
            return Err(invalid(
                &INPUT_FORMAT,
                "",
                "DATE_STRING needs an input date format",
            ));
        }
        let out = OUTPUT_FORMAT.get(opts).ok_or_else(|| {
            invalid(
                &OUTPUT_FORMAT,
                "",
                "required by the timestamp-based key generator",
            )
        })?;
        let output_format =
            java_pattern_to_chrono(out).map_err(|e| invalid(&OUTPUT_FORMAT, out, e))?;
        let output_tz = match (OUTPUT_TIMEZONE.get(opts), TIMEZONE.get(opts)) {
            (Some(v), _) => Some(parse_tz(&OUTPUT_TIMEZONE, v)?),
            (None, Some(v)) => Some(parse_tz(&TIMEZONE, v)?),
            (None, None) => None,
        };
        Ok(TimestampConfig {
            kind,
            per_sec,
            input_formats,
            output_format,
            output_tz,
        })
    }

    fn parse_date_string(&self, s: &str) -> Option<DateTime<FixedOffset>> {
        for f in &self.input_formats {
            if let Ok(t) = DateTime::parse_from_str(s, f) {
                return Some(t);
            }
            // Java's `Z` pattern also accepts a literal `Z` for UTC.
            if let Some(stripped) = s.strip_suffix('Z') {
                if let Ok(t) = DateTime::parse_from_str(&format!("{stripped}+0000"), f) {
                    return Some(t);
                }
            }
            if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
                let tz = self.output_tz.unwrap_or_else(utc);
                return tz.from_local_datetime(&n).single();
            }
            if let Ok(d) = chrono::NaiveDate::parse_from_str(s, f) {
                let tz = self.output_tz.unwrap_or_else(utc);
                return tz.from_local_datetime(&d.and_hms_opt(0, 0, 0)?).single();
            }
        }
        None
    }

    /// The partition value of one cell (`field` names it in errors).
    pub fn format_cell(&self, arr: &ArrayRef, row: usize, field: &str) -> Result<String> {
        let bad = |reason: String| HudiError::Schema {
            context: format!("timestamp-based partition field '{field}', row {row}"),
            reason,
        };
        let t: DateTime<FixedOffset> = if arr.is_null(row) {
            // Hudi substitutes epoch value 1 for nulls.
            let millis = if self.kind == TimestampType::DateString {
                1
            } else {
                1000 / self.per_sec.min(1000)
            };
            Utc.timestamp_millis_opt(millis)
                .single()
                .ok_or_else(|| bad("bad epoch".into()))?
                .fixed_offset()
        } else if let Some(s) = arr.as_string_opt::<i32>() {
            let s = s.value(row);
            match self.kind {
                TimestampType::DateString | TimestampType::Mixed => self
                    .parse_date_string(s)
                    .ok_or_else(|| bad(format!("'{s}' matches none of the input date formats")))?,
                _ => {
                    let n: i64 = s
                        .trim()
                        .parse()
                        .map_err(|_| bad(format!("'{s}' is not a number")))?;
                    let millis = if self.per_sec >= 1000 {
                        n / (self.per_sec / 1000)
                    } else {
                        n * (1000 / self.per_sec)
                    };
                    Utc.timestamp_millis_opt(millis)
                        .single()
                        .ok_or_else(|| bad("out of range".into()))?
                        .fixed_offset()
                }
            }
        } else {
            let millis = cell_epoch_millis(arr, row, self.per_sec)
                .ok_or_else(|| bad(format!("unsupported type {}", arr.data_type())))?;
            Utc.timestamp_millis_opt(millis)
                .single()
                .ok_or_else(|| bad("out of range".into()))?
                .fixed_offset()
        };
        let t = match self.output_tz {
            Some(tz) => t.with_timezone(&tz),
            None if self.kind == TimestampType::DateString => t,
            None => t.with_timezone(&utc()),
        };
        Ok(t.format(&self.output_format).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use std::sync::Arc;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn date_string_with_zone_as_in_the_fixture() {
        let c = TimestampConfig::from_options(&opts(&[
            ("hoodie.keygen.timebased.timestamp.type", "DATE_STRING"),
            (
                "hoodie.keygen.timebased.input.dateformat",
                "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            ),
            ("hoodie.keygen.timebased.output.dateformat", "yyyy/MM/dd/HH"),
        ]))
        .unwrap();
        let a: ArrayRef = Arc::new(StringArray::from(vec!["2023-04-01T12:01:00.123Z"]));
        assert_eq!(c.format_cell(&a, 0, "ts").unwrap(), "2023/04/01/12");
    }

    #[test]
    fn epoch_millis_and_seconds() {
        let c = TimestampConfig::from_options(&opts(&[
            (
                "hoodie.keygen.timebased.timestamp.type",
                "EPOCHMILLISECONDS",
            ),
            ("hoodie.keygen.timebased.output.dateformat", "yyyy-MM-dd HH"),
        ]))
        .unwrap();
        let a: ArrayRef = Arc::new(Int64Array::from(vec![Some(1_700_000_000_001), None]));
        assert_eq!(c.format_cell(&a, 0, "t").unwrap(), "2023-11-14 22");
        assert_eq!(c.format_cell(&a, 1, "t").unwrap(), "1970-01-01 00");
        let c = TimestampConfig::from_options(&opts(&[
            ("hoodie.keygen.timebased.timestamp.type", "UNIX_TIMESTAMP"),
            ("hoodie.keygen.timebased.output.dateformat", "yyyyMMdd"),
            ("hoodie.keygen.timebased.timezone", "GMT+05:30"),
        ]))
        .unwrap();
        let a: ArrayRef = Arc::new(Int64Array::from(vec![1_700_000_000]));
        assert_eq!(c.format_cell(&a, 0, "t").unwrap(), "20231115");
        assert!(
            java_pattern_to_chrono("yyyy-MM-dd'T'HH:mm:ss.SSSZ").unwrap()
                == "%Y-%m-%dT%H:%M:%S.%3f%z"
        );
        assert!(java_pattern_to_chrono("qqq").is_err());
    }
}
