//! Partition values from partition paths, as Hudi's partition value extractors compute them.

use crate::error::{Result, SyncError};

/// Hudi's `PartitionValueExtractor` implementations, by the class names users configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extractor {
    /// No partitions (`NonPartitionedExtractor`).
    NonPartitioned,
    /// One field, `field=value` (`HiveStylePartitionValueExtractor`).
    HiveStyle,
    /// One value per path segment, `field=` prefixes dropped (`MultiPartKeysValueExtractor`).
    MultiPartKeys,
    /// The whole path is the one value, `/` made `-` (`SinglePartPartitionValueExtractor`).
    SinglePart,
    /// `yyyy/mm/dd` becomes `yyyy-mm-dd` (`SlashEncodedDayPartitionValueExtractor`).
    SlashEncodedDay,
    /// `yyyy/mm/dd/hh` becomes `yyyy-mm-dd-hh` (`SlashEncodedHourPartitionValueExtractor`).
    SlashEncodedHour,
}

const PACKAGE: &str = "org.apache.hudi.hive.";
const CLASSES: [(Extractor, &str); 6] = [
    (Extractor::NonPartitioned, "NonPartitionedExtractor"),
    (Extractor::HiveStyle, "HiveStylePartitionValueExtractor"),
    (Extractor::MultiPartKeys, "MultiPartKeysValueExtractor"),
    (Extractor::SinglePart, "SinglePartPartitionValueExtractor"),
    (
        Extractor::SlashEncodedDay,
        "SlashEncodedDayPartitionValueExtractor",
    ),
    (
        Extractor::SlashEncodedHour,
        "SlashEncodedHourPartitionValueExtractor",
    ),
];

impl Extractor {
    /// The extractor of a class name (with or without its package).
    pub fn from_class(class: &str) -> Result<Extractor> {
        let short = class.rsplit('.').next().unwrap_or(class);
        CLASSES
            .iter()
            .find(|(_, c)| *c == short)
            .map(|(e, _)| *e)
            .ok_or_else(|| SyncError::InvalidOption {
                key: "hoodie.datasource.hive_sync.partition_extractor_class".into(),
                value: class.into(),
                reason: format!(
                    "not one of {}",
                    CLASSES
                        .iter()
                        .map(|(_, c)| *c)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    /// Its fully qualified Java class name.
    pub fn class_name(self) -> String {
        let short = CLASSES
            .iter()
            .find(|(e, _)| *e == self)
            .map(|(_, c)| *c)
            .unwrap_or("MultiPartKeysValueExtractor");
        format!("{PACKAGE}{short}")
    }

    /// What Hudi 0.15 infers without configuration: none without partition fields; for one
    /// field hive-style or the whole path; else one value per path segment.
    pub fn infer(partition_fields: usize, hive_style: bool) -> Extractor {
        match (partition_fields, hive_style) {
            (0, _) => Extractor::NonPartitioned,
            (1, true) => Extractor::HiveStyle,
            (1, false) => Extractor::SinglePart,
            _ => Extractor::MultiPartKeys,
        }
    }

    /// The partition values of a relative partition path.
    pub fn values(self, path: &str) -> Result<Vec<String>> {
        let bad = |why: &str| SyncError::InvalidOption {
            key: "partition path".into(),
            value: path.into(),
            reason: format!("{why} ({})", self.class_name()),
        };
        Ok(match self {
            Extractor::NonPartitioned => Vec::new(),
            Extractor::HiveStyle => match path.split('=').collect::<Vec<_>>().as_slice() {
                [_, v] => vec![v.to_string()],
                _ => return Err(bad("not of the form field=value")),
            },
            Extractor::MultiPartKeys if path.is_empty() => Vec::new(),
            Extractor::MultiPartKeys => path
                .split('/')
                .map(|seg| match seg.split('=').collect::<Vec<_>>().as_slice() {
                    [v] => Ok(v.to_string()),
                    [_, v] => Ok(v.to_string()),
                    _ => Err(bad(&format!("segment '{seg}' is not field=value"))),
                })
                .collect::<Result<_>>()?,
            Extractor::SinglePart => vec![path.replace('/', "-")],
            Extractor::SlashEncodedDay | Extractor::SlashEncodedHour => {
                let want = if self == Extractor::SlashEncodedDay {
                    3
                } else {
                    4
                };
                let nums: Vec<u32> = path
                    .split('/')
                    .map(|seg| seg.rsplit('=').next().unwrap_or(seg).parse::<u32>())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| bad("a segment is not a number"))?;
                match nums.as_slice() {
                    [y, m, d] if want == 3 => vec![format!("{y:04}-{m:02}-{d:02}")],
                    [y, m, d, h] if want == 4 => vec![format!("{y:04}-{m:02}-{d:02}-{h:02}")],
                    _ => return Err(bad(&format!("expected {want} path segments"))),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_per_extractor() {
        assert_eq!(
            Extractor::HiveStyle.values("country=de").unwrap(),
            vec!["de"]
        );
        assert!(Extractor::HiveStyle.values("de").is_err());
        assert_eq!(
            Extractor::MultiPartKeys
                .values("year=2024/month=01")
                .unwrap(),
            vec!["2024", "01"]
        );
        assert_eq!(
            Extractor::MultiPartKeys.values("2024/01/02").unwrap(),
            vec!["2024", "01", "02"]
        );
        assert_eq!(
            Extractor::SlashEncodedDay.values("2024/01/02").unwrap(),
            vec!["2024-01-02"]
        );
        assert!(Extractor::SlashEncodedDay.values("2024/01").is_err());
        assert_eq!(
            Extractor::SlashEncodedDay.values("y=2024/m=1/d=2").unwrap(),
            vec!["2024-01-02"]
        );
        assert!(Extractor::MultiPartKeys.values("a=b=c").is_err());
        assert!(Extractor::MultiPartKeys.values("").unwrap().is_empty());
        assert!(Extractor::NonPartitioned.values("").unwrap().is_empty());
        assert_eq!(Extractor::SinglePart.values("a/b").unwrap(), vec!["a-b"]);
    }

    #[test]
    fn class_names_round_trip_and_inference_follows_hudi() {
        for (e, _) in CLASSES {
            assert_eq!(Extractor::from_class(&e.class_name()).unwrap(), e);
        }
        assert_eq!(
            Extractor::from_class("MultiPartKeysValueExtractor").unwrap(),
            Extractor::MultiPartKeys
        );
        assert!(Extractor::from_class("com.example.Mine").is_err());
        assert_eq!(Extractor::infer(0, true), Extractor::NonPartitioned);
        assert_eq!(Extractor::infer(1, true), Extractor::HiveStyle);
        assert_eq!(Extractor::infer(1, false), Extractor::SinglePart);
        assert_eq!(Extractor::infer(2, true), Extractor::MultiPartKeys);
    }
}
