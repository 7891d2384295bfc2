//! Names of base files (`<fileId>_<writeToken>_<instant>.<ext>`) and log files
//! (`.<fileId>_<baseInstant>.log.<version>_<writeToken>`).

use std::cmp::Ordering;
use std::fmt;

use super::instant::InstantTime;
use crate::error::{HudiError, Result};

/// A parsed base file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseFileName {
    pub file_id: String,
    pub write_token: String,
    pub instant: InstantTime,
    pub extension: String,
}

impl BaseFileName {
    pub fn parse(name: &str) -> Result<Self> {
        let err = |reason: &str| HudiError::InvalidFileName {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        let (stem, ext) = name.rsplit_once('.').ok_or_else(|| err("no extension"))?;
        let (file_id, rest) = stem
            .split_once('_')
            .ok_or_else(|| err("no '_' after the file id"))?;
        let (token, instant) = rest
            .rsplit_once('_')
            .ok_or_else(|| err("expected <fileId>_<writeToken>_<instant>"))?;
        let ok_chars =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok_chars(file_id) || !ok_chars(token) || ext.is_empty() {
            return Err(err(
                "file id, write token and extension must be [A-Za-z0-9-]+",
            ));
        }
        let instant = InstantTime::parse(instant).map_err(|e| err(&e.to_string()))?;
        Ok(BaseFileName {
            file_id: file_id.to_string(),
            write_token: token.to_string(),
            instant,
            extension: ext.to_string(),
        })
    }
}

impl fmt::Display for BaseFileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}_{}_{}.{}",
            self.file_id, self.write_token, self.instant, self.extension
        )
    }
}

/// A parsed log file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogFileName {
    pub file_id: String,
    /// v6: the instant of the slice's base file; v8+: the delta commit that wrote the file.
    pub instant: InstantTime,
    /// `log` (data) or `archive` (v6 archived timeline).
    pub extension: String,
    pub version: u32,
    pub write_token: Option<String>,
    /// The CDC suffix (`.cdc` or `-cdc`), if any.
    pub cdc_suffix: Option<String>,
}

impl LogFileName {
    pub fn parse(name: &str) -> Result<Self> {
        let err = |reason: &str| HudiError::InvalidFileName {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        let body = name
            .strip_prefix('.')
            .ok_or_else(|| err("a log file name starts with '.'"))?;
        let (head, extension, tail) = [".log.", ".archive."]
            .iter()
            .find_map(|sep| {
                body.rfind(sep)
                    .map(|i| (&body[..i], &sep[1..sep.len() - 1], &body[i + sep.len()..]))
            })
            .ok_or_else(|| err("no '.log.' or '.archive.'"))?;
        let (file_id, instant) = head
            .rsplit_once('_')
            .ok_or_else(|| err("no '_' before the instant"))?;
        if file_id.is_empty() {
            return Err(err("empty file id"));
        }
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err("no log version"));
        }
        let version: u32 = tail[..digits]
            .parse()
            .map_err(|_| err("log version too large"))?;
        let mut rest = &tail[digits..];
        let mut write_token = None;
        if let Some(r) = rest.strip_prefix('_') {
            let end = r.find(['.']).unwrap_or(r.len());
            let (tok, after) = r.split_at(end);
            let (tok, after) = match tok.strip_suffix("-cdc") {
                Some(t) => (t, &r[t.len()..]),
                None => (tok, after),
            };
            let parts: Vec<&str> = tok.split('-').collect();
            if parts.len() != 3
                || parts
                    .iter()
                    .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(err("write token must be <digits>-<digits>-<digits>"));
            }
            write_token = Some(tok.to_string());
            rest = after;
        }
        let cdc_suffix = match rest {
            "" => None,
            ".cdc" | "-cdc" => Some(rest.to_string()),
            _ => return Err(err("unexpected text after the write token")),
        };
        // Archived-timeline files (`.commits_.archive.N`) have no instant: they are not data files.
        let instant = InstantTime::parse(instant).map_err(|e| err(&e.to_string()))?;
        Ok(LogFileName {
            file_id: file_id.to_string(),
            instant,
            extension: extension.to_string(),
            version,
            write_token,
            cdc_suffix,
        })
    }

    /// Order of log files within a slice: instant, version, then write token.
    pub fn slice_order(&self, other: &Self) -> Ordering {
        self.instant
            .cmp(&other.instant)
            .then(self.version.cmp(&other.version))
            .then_with(|| self.write_token.cmp(&other.write_token))
    }
}

impl fmt::Display for LogFileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            ".{}_{}.{}.{}",
            self.file_id, self.instant, self.extension, self.version
        )?;
        if let Some(t) = &self.write_token {
            write!(f, "_{t}")?;
        }
        if let Some(c) = &self.cdc_suffix {
            f.write_str(c)?;
        }
        Ok(())
    }
}

/// A file of the v6 archived timeline: `.commits_.archive.<version>[_<write token>]` under
/// `.hoodie/archived/` (a log file of Avro data blocks, one `HoodieArchivedMetaEntry` per
/// archived instant state).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArchiveFileName {
    pub version: u32,
    pub write_token: Option<String>,
}

impl ArchiveFileName {
    pub const PREFIX: &'static str = ".commits_.archive.";

    pub fn parse(name: &str) -> Result<Self> {
        let err = |reason: &str| HudiError::InvalidFileName {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        let tail = name
            .strip_prefix(Self::PREFIX)
            .ok_or_else(|| err("an archive file name starts with '.commits_.archive.'"))?;
        let (version, token) = match tail.split_once('_') {
            Some((v, t)) => (v, Some(t)),
            None => (tail, None),
        };
        let version = version
            .parse()
            .map_err(|_| err("the archive version is not a number"))?;
        if let Some(t) = token {
            let parts: Vec<&str> = t.split('-').collect();
            if parts.len() != 3 || parts.iter().any(|p| p.parse::<u64>().is_err()) {
                return Err(err("write token must be <digits>-<digits>-<digits>"));
            }
        }
        Ok(ArchiveFileName {
            version,
            write_token: token.map(String::from),
        })
    }
}

impl fmt::Display for ArchiveFileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.version)?;
        if let Some(t) = &self.write_token {
            write!(f, "_{t}")?;
        }
        Ok(())
    }
}

/// What a file in a partition directory is, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataFileName {
    Base(BaseFileName),
    Log(LogFileName),
}

impl DataFileName {
    /// The file group the file belongs to.
    pub fn file_id(&self) -> &str {
        match self {
            DataFileName::Base(b) => &b.file_id,
            DataFileName::Log(l) => &l.file_id,
        }
    }

    /// Classifies a file name; `None` for files that are neither (partition metadata, debris).
    pub fn classify(name: &str) -> Option<Result<DataFileName>> {
        if name.starts_with(".hoodie_partition_metadata") || is_debris(name) {
            return None;
        }
        if name.starts_with('.') {
            if name.contains(".log.") {
                return Some(LogFileName::parse(name).map(DataFileName::Log));
            }
            return None;
        }
        if name.ends_with(".parquet")
            || name.ends_with(".orc")
            || name.ends_with(".hfile")
            || name.ends_with(".lance")
        {
            return Some(BaseFileName::parse(name).map(DataFileName::Base));
        }
        None
    }
}

/// Files that are never part of a table: macOS and editor debris, Hadoop checksum files.
pub fn is_debris(name: &str) -> bool {
    name == ".DS_Store"
        || name == "__MACOSX"
        || name.starts_with("._")
        || name.ends_with(".crc")
        || name == "_SUCCESS"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names_round_trip() {
        let n = "a22e8257-e249-45e9-ba46-115bc85adcba-0_0-161-223_20240418173235694.parquet";
        let b = BaseFileName::parse(n).unwrap();
        assert_eq!(b.file_id, "a22e8257-e249-45e9-ba46-115bc85adcba-0");
        assert_eq!(b.write_token, "0-161-223");
        assert_eq!(b.instant.as_str(), "20240418173235694");
        assert_eq!(b.to_string(), n);
        assert!(BaseFileName::parse("nounderscore.parquet").is_err());
        assert!(BaseFileName::parse("a_b_notaninstant.parquet").is_err());
    }

    #[test]
    fn log_names_round_trip() {
        for n in [
            ".d0304c53-6fd2-4b7a-a9d6-5ff632f79224-0_20250331030642808.log.1_0-26-85",
            ".0712b9f9-d2d5-4cae-bcf4-8fd7146af503-0_20250126040823628.log.2_1-0-1",
            ".files-0000-0_00000000000000000.log.1_0-0-0",
            ".f1_20250331030642808.log.3_0-26-85.cdc",
            ".f1_20250331030642808.log.12",
        ] {
            let l = LogFileName::parse(n).unwrap();
            assert_eq!(l.to_string(), n);
        }
        let l = LogFileName::parse(".abc-0_20250331030642808.log.12_3-4-5").unwrap();
        assert_eq!((l.file_id.as_str(), l.version), ("abc-0", 12));
        assert_eq!(l.write_token.as_deref(), Some("3-4-5"));
        for bad in [
            ".commits_.archive.1_1-0-1",
            ".abc-0_2025.log.1",
            "abc-0_20250331030642808.log.1",
            ".abc_20250331030642808.log.x",
        ] {
            assert!(LogFileName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn archive_names_round_trip() {
        for n in [".commits_.archive.1_1-0-1", ".commits_.archive.12"] {
            assert_eq!(ArchiveFileName::parse(n).unwrap().to_string(), n);
        }
        assert_eq!(
            ArchiveFileName::parse(".commits_.archive.3_1-0-1")
                .unwrap()
                .version,
            3
        );
        for bad in [
            ".commits_.archive.x_1-0-1",
            ".commits_.archive.1_1-0",
            "commits",
        ] {
            assert!(ArchiveFileName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn classifies_and_skips_debris() {
        assert!(DataFileName::classify(".hoodie_partition_metadata").is_none());
        assert!(DataFileName::classify(".DS_Store").is_none());
        assert!(DataFileName::classify("._a_1-1-1_20240418173235694.parquet").is_none());
        assert!(matches!(
            DataFileName::classify("f-0_1-2-3_20240418173235694.parquet"),
            Some(Ok(DataFileName::Base(_)))
        ));
    }
}
