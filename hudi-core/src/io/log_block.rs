//! HoodieLogFormat version 1: walking the blocks of a log file.
//!
//! A block is `#HUDI#`, a u64 length, then version, type, header map, content, footer map and a
//! trailing u64 that equals the length plus 6. Corrupt or truncated regions are skipped by
//! scanning forward to the next `#HUDI#`, as the Java reader does, and reported.

use std::collections::BTreeMap;

use bytes::Bytes;

pub const MAGIC: &[u8; 6] = b"#HUDI#";

/// Block types, by their on-disk ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockType {
    Command,
    Delete,
    Corrupt,
    AvroData,
    HFileData,
    ParquetData,
    CdcData,
}

impl BlockType {
    pub fn from_ordinal(n: u32) -> Option<BlockType> {
        Some(match n {
            0 => BlockType::Command,
            1 => BlockType::Delete,
            2 => BlockType::Corrupt,
            3 => BlockType::AvroData,
            4 => BlockType::HFileData,
            5 => BlockType::ParquetData,
            6 => BlockType::CdcData,
            _ => return None,
        })
    }

    /// Java's `HoodieLogBlockType` name.
    pub fn name(&self) -> &'static str {
        match self {
            BlockType::Command => "COMMAND_BLOCK",
            BlockType::Delete => "DELETE_BLOCK",
            BlockType::Corrupt => "CORRUPT_BLOCK",
            BlockType::AvroData => "AVRO_DATA_BLOCK",
            BlockType::HFileData => "HFILE_DATA_BLOCK",
            BlockType::ParquetData => "PARQUET_DATA_BLOCK",
            BlockType::CdcData => "CDC_DATA_BLOCK",
        }
    }

    pub fn ordinal(&self) -> u32 {
        match self {
            BlockType::Command => 0,
            BlockType::Delete => 1,
            BlockType::Corrupt => 2,
            BlockType::AvroData => 3,
            BlockType::HFileData => 4,
            BlockType::ParquetData => 5,
            BlockType::CdcData => 6,
        }
    }
}

/// Header keys, by their on-disk ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HeaderKey {
    InstantTime,
    TargetInstantTime,
    Schema,
    CommandBlockType,
    CompactedBlockTimes,
    RecordPositions,
    BlockIdentifier,
    IsPartial,
    BaseFileInstantTimeOfRecordPositions,
}

impl HeaderKey {
    pub fn from_ordinal(n: u32) -> Option<HeaderKey> {
        Some(match n {
            0 => HeaderKey::InstantTime,
            1 => HeaderKey::TargetInstantTime,
            2 => HeaderKey::Schema,
            3 => HeaderKey::CommandBlockType,
            4 => HeaderKey::CompactedBlockTimes,
            5 => HeaderKey::RecordPositions,
            6 => HeaderKey::BlockIdentifier,
            7 => HeaderKey::IsPartial,
            8 => HeaderKey::BaseFileInstantTimeOfRecordPositions,
            _ => return None,
        })
    }

    /// Java's `HeaderMetadataType` name.
    pub fn name(&self) -> &'static str {
        match self {
            HeaderKey::InstantTime => "INSTANT_TIME",
            HeaderKey::TargetInstantTime => "TARGET_INSTANT_TIME",
            HeaderKey::Schema => "SCHEMA",
            HeaderKey::CommandBlockType => "COMMAND_BLOCK_TYPE",
            HeaderKey::CompactedBlockTimes => "COMPACTED_BLOCK_TIMES",
            HeaderKey::RecordPositions => "RECORD_POSITIONS",
            HeaderKey::BlockIdentifier => "BLOCK_IDENTIFIER",
            HeaderKey::IsPartial => "IS_PARTIAL",
            HeaderKey::BaseFileInstantTimeOfRecordPositions => {
                "BASE_FILE_INSTANT_TIME_OF_RECORD_POSITIONS"
            }
        }
    }

    pub fn ordinal(&self) -> u32 {
        match self {
            HeaderKey::InstantTime => 0,
            HeaderKey::TargetInstantTime => 1,
            HeaderKey::Schema => 2,
            HeaderKey::CommandBlockType => 3,
            HeaderKey::CompactedBlockTimes => 4,
            HeaderKey::RecordPositions => 5,
            HeaderKey::BlockIdentifier => 6,
            HeaderKey::IsPartial => 7,
            HeaderKey::BaseFileInstantTimeOfRecordPositions => 8,
        }
    }
}

/// One intact block.
#[derive(Debug, Clone)]
pub struct LogBlock {
    pub block_type: BlockType,
    pub format_version: u32,
    pub header: BTreeMap<HeaderKey, String>,
    pub footer: BTreeMap<HeaderKey, String>,
    pub content: Bytes,
    /// Offset of the block's magic in the file.
    pub offset: u64,
    /// Total bytes of the block, magic included.
    pub size: u64,
}

impl LogBlock {
    pub fn instant_time(&self) -> Option<&str> {
        self.header.get(&HeaderKey::InstantTime).map(String::as_str)
    }
    pub fn target_instant_time(&self) -> Option<&str> {
        self.header
            .get(&HeaderKey::TargetInstantTime)
            .map(String::as_str)
    }
    pub fn schema(&self) -> Option<&str> {
        self.header.get(&HeaderKey::Schema).map(String::as_str)
    }
    /// Whether this is a command block asking to roll back `TARGET_INSTANT_TIME`.
    pub fn is_rollback_command(&self) -> bool {
        self.block_type == BlockType::Command
            && self
                .header
                .get(&HeaderKey::CommandBlockType)
                .map(String::as_str)
                == Some("0")
    }
}

/// A skipped region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRegion {
    pub offset: u64,
    pub len: u64,
    pub reason: String,
}

/// The walk of one log file.
#[derive(Debug, Clone, Default)]
pub struct LogWalk {
    pub blocks: Vec<LogBlock>,
    pub corrupt: Vec<CorruptRegion>,
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            u64::from_be_bytes(a)
        })
    }
    fn map(&mut self) -> Option<Result<BTreeMap<HeaderKey, String>, String>> {
        let count = self.u32()?;
        let mut out = BTreeMap::new();
        for _ in 0..count {
            let key = self.u32()?;
            let len = self.u32()? as usize;
            let val = self.take(len)?;
            let Some(k) = HeaderKey::from_ordinal(key) else {
                return Some(Err(format!("unknown header key ordinal {key}")));
            };
            out.insert(k, String::from_utf8_lossy(val).into_owned());
        }
        Some(Ok(out))
    }
}

fn find_magic(buf: &[u8], from: usize) -> Option<usize> {
    if from >= buf.len() {
        return None;
    }
    buf[from..]
        .windows(MAGIC.len())
        .position(|w| w == MAGIC)
        .map(|p| p + from)
}

/// Parses the block that starts at `start` (at its magic). `Err` means the block is corrupt.
fn parse_block(buf: &Bytes, start: usize) -> Result<LogBlock, String> {
    let mut c = Cursor {
        buf,
        pos: start + MAGIC.len(),
    };
    let block_len = c.u64().ok_or("truncated block length")?;
    let body_start = c.pos;
    let end = usize::try_from(block_len)
        .ok()
        .and_then(|l| body_start.checked_add(l))
        .filter(|e| *e <= buf.len())
        .ok_or_else(|| format!("block length {block_len} runs past the end of the file"))?;
    if block_len < 8 + 8 {
        return Err(format!("block length {block_len} too small"));
    }
    let trailer = u64::from_be_bytes(buf[end - 8..end].try_into().map_err(|_| "bad trailer")?);
    if trailer != block_len + 6 {
        return Err(format!(
            "trailing length {trailer} does not match block length {block_len}"
        ));
    }
    if end != buf.len() && !buf[end..].starts_with(MAGIC) {
        return Err("the block is not followed by a magic or the end of the file".into());
    }
    let format_version = c.u32().ok_or("truncated version")?;
    let type_ord = c.u32().ok_or("truncated block type")?;
    let block_type = BlockType::from_ordinal(type_ord)
        .ok_or_else(|| format!("unknown block type {type_ord}"))?;
    let header = if format_version >= 1 {
        c.map().ok_or("truncated header")??
    } else {
        BTreeMap::new()
    };
    let content_len = c.u64().ok_or("truncated content length")?;
    let content_len = usize::try_from(content_len).map_err(|_| "content length too large")?;
    let content_start = c.pos;
    c.take(content_len).ok_or("content runs past the block")?;
    let footer = if format_version >= 1 {
        c.map().ok_or("truncated footer")??
    } else {
        BTreeMap::new()
    };
    if c.pos + 8 != end {
        return Err(format!(
            "block parts end at byte {} but the block ends at {}",
            c.pos + 8,
            end
        ));
    }
    Ok(LogBlock {
        block_type,
        format_version,
        header,
        footer,
        content: buf.slice(content_start..content_start + content_len),
        offset: start as u64,
        size: (end - start) as u64,
    })
}

/// Walks every block of a log file, skipping corrupt regions.
pub fn walk(buf: &Bytes) -> LogWalk {
    let mut out = LogWalk::default();
    let mut pos = 0usize;
    while pos < buf.len() {
        if !buf[pos..].starts_with(MAGIC) {
            let next = find_magic(buf, pos).unwrap_or(buf.len());
            out.corrupt.push(CorruptRegion {
                offset: pos as u64,
                len: (next - pos) as u64,
                reason: "no block magic".into(),
            });
            pos = next;
            continue;
        }
        match parse_block(buf, pos) {
            Ok(b) => {
                pos += b.size as usize;
                out.blocks.push(b);
            }
            Err(reason) => {
                let next = find_magic(buf, pos + 1).unwrap_or(buf.len());
                out.corrupt.push(CorruptRegion {
                    offset: pos as u64,
                    len: (next - pos) as u64,
                    reason,
                });
                pos = next;
            }
        }
    }
    out
}

/// Encodes a header/footer map.
pub fn encode_map(map: &BTreeMap<HeaderKey, String>, out: &mut Vec<u8>) {
    out.extend_from_slice(&(map.len() as u32).to_be_bytes());
    for (k, v) in map {
        out.extend_from_slice(&k.ordinal().to_be_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
}

/// Encodes one complete block (format version 1).
pub fn encode_block(
    block_type: BlockType,
    header: &BTreeMap<HeaderKey, String>,
    content: &[u8],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(content.len() + 256);
    body.extend_from_slice(&1u32.to_be_bytes());
    body.extend_from_slice(&block_type.ordinal().to_be_bytes());
    encode_map(header, &mut body);
    body.extend_from_slice(&(content.len() as u64).to_be_bytes());
    body.extend_from_slice(content);
    encode_map(&BTreeMap::new(), &mut body);
    let block_len = (body.len() + 8) as u64;
    let mut out = Vec::with_capacity(body.len() + 22);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&block_len.to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&(block_len + 6).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollback_block() -> Vec<u8> {
        let mut h = BTreeMap::new();
        h.insert(HeaderKey::InstantTime, "20250126040936578".to_string());
        h.insert(
            HeaderKey::TargetInstantTime,
            "20250126040826878".to_string(),
        );
        h.insert(HeaderKey::CommandBlockType, "0".to_string());
        encode_block(BlockType::Command, &h, &[])
    }

    #[test]
    fn encodes_the_fixture_rollback_block_size() {
        let b = rollback_block();
        // The fixture's rollback log file is exactly one 105-byte block.
        assert_eq!(b.len(), 105);
        assert_eq!(&b[6..14], &91u64.to_be_bytes());
        let w = walk(&Bytes::from(b));
        assert_eq!(w.blocks.len(), 1);
        assert!(w.blocks[0].is_rollback_command());
        assert_eq!(w.blocks[0].target_instant_time(), Some("20250126040826878"));
        assert!(w.corrupt.is_empty());
    }

    #[test]
    fn skips_truncated_and_garbage_regions() {
        let one = rollback_block();
        let mut buf = one.clone();
        buf.extend_from_slice(b"garbage!");
        buf.extend_from_slice(&one);
        buf.extend_from_slice(&one[..50]); // half-written tail
        let w = walk(&Bytes::from(buf));
        // As in Java, a block not followed by a magic or the end of file is corrupt too.
        assert_eq!(w.blocks.len(), 1);
        assert_eq!(w.blocks[0].offset, 113);
        assert_eq!(w.corrupt.len(), 2);
        assert_eq!((w.corrupt[0].offset, w.corrupt[0].len), (0, 113));
        assert_eq!((w.corrupt[1].offset, w.corrupt[1].len), (218, 50));
    }
}
