//! Hudi's Bloom filters, byte-compatible with Hudi's footer `org.apache.hudi.bloomfilter`:
//! a Hadoop `BloomFilter` (MurmurHash2 as Hadoop ports it) for `SIMPLE`, and Hudi's
//! `InternalDynamicBloomFilter` rows of them for `DYNAMIC_V0`. Written from the format
//! description; the `bloomfilter` crate's format is not Hudi's.

mod hash;

use crate::error::{HudiError, Result};

pub use hash::{hash_chains, hash_positions, murmur_hadoop, FastRem};

/// Footer key of the serialized filter.
pub const FOOTER_KEY: &str = "org.apache.hudi.bloomfilter";
/// Footer key of the filter type (written for dynamic filters only).
pub const TYPE_CODE_KEY: &str = "hoodie_bloom_filter_type_code";
pub const MIN_RECORD_KEY: &str = "hoodie_min_record_key";
pub const MAX_RECORD_KEY: &str = "hoodie_max_record_key";

const VERSION: i32 = -1;
const HASH_TYPE_MURMUR: u8 = 1;

/// `(vectorSize, nbHash)` for `num_entries` keys at false-positive rate `fpp`.
pub fn sizing(num_entries: u32, fpp: f64) -> (i32, i32) {
    let n = f64::from(num_entries);
    let ln2 = std::f64::consts::LN_2;
    let bits = (n * (-fpp.ln()) / (ln2 * ln2)).ceil();
    let k = (ln2 * bits / n).ceil();
    (bits as i32, k as i32)
}

/// One Hadoop Bloom filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HadoopBloom {
    nb_hash: i32,
    vector_size: i32,
    bits: Vec<u8>,
    /// `vector_size` as a fast divisor (each row of a read filter has its own header).
    rem: FastRem,
}

impl HadoopBloom {
    pub fn new(vector_size: i32, nb_hash: i32) -> Self {
        HadoopBloom {
            nb_hash,
            vector_size,
            bits: vec![0; (vector_size as usize).div_ceil(8)],
            rem: FastRem::new(vector_size.max(0) as u32),
        }
    }

    pub fn add(&mut self, key: &[u8]) {
        for p in hash_positions(key, self.nb_hash, self.vector_size) {
            self.bits[p >> 3] |= 1 << (p & 7);
        }
    }

    pub fn might_contain(&self, key: &[u8]) -> bool {
        hash_positions(key, self.nb_hash, self.vector_size)
            .all(|p| self.bits[p >> 3] & (1 << (p & 7)) != 0)
    }

    /// Whether the bits of a key's hashes are all set, the first of them given (`pre`, from
    /// [`hash_chains`]) and the rest hashed from `key` (`None`: only `pre` is checked).
    fn contains_chain(&self, key: Option<&[u8]>, pre: &[i32]) -> bool {
        let nb = self.nb_hash.max(0) as usize;
        let mut seed = 0;
        for j in 0..nb {
            seed = match (pre.get(j), key) {
                (Some(h), _) => *h,
                (None, Some(key)) => murmur_hadoop(key, seed),
                (None, None) => return true,
            };
            let p = self.rem.position(seed);
            if self.bits[p >> 3] & (1 << (p & 7)) == 0 {
                return false;
            }
        }
        true
    }

    /// Sets the bits of a key's chained hashes (see [`hash_chains`]).
    fn set_hashes(&mut self, hashes: &[i32]) {
        for h in hashes {
            let p = self.rem.position(*h);
            self.bits[p >> 3] |= 1 << (p & 7);
        }
    }

    fn write_header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&self.nb_hash.to_be_bytes());
        out.push(HASH_TYPE_MURMUR);
        out.extend_from_slice(&self.vector_size.to_be_bytes());
    }

    fn write(&self, out: &mut Vec<u8>) {
        self.write_header(out);
        out.extend_from_slice(&self.bits);
    }

    fn read(buf: &[u8], pos: &mut usize) -> std::result::Result<Self, String> {
        let (nb_hash, vector_size) = read_header(buf, pos)?;
        let n = usize::try_from(vector_size)
            .map_err(|_| "negative vector size")?
            .div_ceil(8);
        let bits = buf
            .get(*pos..*pos + n)
            .ok_or("truncated bit vector")?
            .to_vec();
        *pos += n;
        Ok(HadoopBloom {
            nb_hash,
            vector_size,
            bits,
            rem: FastRem::new(vector_size as u32),
        })
    }
}

fn read_i32(buf: &[u8], pos: &mut usize) -> std::result::Result<i32, String> {
    let b = buf.get(*pos..*pos + 4).ok_or("truncated filter")?;
    *pos += 4;
    Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The most hash functions a filter may declare (1e-300 false positives need under 1,000).
const MAX_HASHES: i32 = 1024;

fn read_header(buf: &[u8], pos: &mut usize) -> std::result::Result<(i32, i32), String> {
    let version = read_i32(buf, pos)?;
    let nb_hash = if version < 0 {
        let n = read_i32(buf, pos)?;
        let hash_type = *buf.get(*pos).ok_or("truncated filter")?;
        *pos += 1;
        if hash_type != HASH_TYPE_MURMUR {
            return Err(format!("hash type {hash_type} (only MURMUR is supported)"));
        }
        n
    } else {
        return Err("legacy (Jenkins-hash) filters are not supported".into());
    };
    let vector_size = read_i32(buf, pos)?;
    // Hudi's sizing gives a few dozen hashes even at absurd rates; a count beyond
    // MAX_HASHES is corrupt, and every lookup would run that many hashes.
    if vector_size <= 0 || nb_hash <= 0 || nb_hash > MAX_HASHES {
        return Err(format!(
            "bad filter header: nbHash {nb_hash}, vectorSize {vector_size}"
        ));
    }
    Ok((nb_hash, vector_size))
}

/// The filter types Hudi writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BloomType {
    Simple,
    DynamicV0,
}

impl BloomType {
    pub fn code(&self) -> &'static str {
        match self {
            BloomType::Simple => "SIMPLE",
            BloomType::DynamicV0 => "DYNAMIC_V0",
        }
    }

    pub fn from_code(s: &str) -> Option<BloomType> {
        match s.to_ascii_uppercase().as_str() {
            "SIMPLE" => Some(BloomType::Simple),
            "DYNAMIC_V0" => Some(BloomType::DynamicV0),
            _ => None,
        }
    }
}

/// A Hudi Bloom filter (`SIMPLE` or `DYNAMIC_V0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BloomFilter {
    kind: BloomType,
    nb_hash: i32,
    vector_size: i32,
    /// Rows (one for SIMPLE).
    rows: Vec<HadoopBloom>,
    /// DYNAMIC: keys per row before a new row, the cap on `rows * nr`, keys in the active row.
    nr: i32,
    max_entries: i32,
    current: i32,
    reached_max: bool,
    round_robin: usize,
}

impl BloomFilter {
    /// A new filter sized for `num_entries` keys at `fpp` (`hoodie.index.bloom.num_entries`,
    /// `hoodie.index.bloom.fpp`); `max_entries` caps a dynamic filter's growth.
    pub fn new(kind: BloomType, num_entries: u32, fpp: f64, max_entries: u32) -> Self {
        let (vector_size, nb_hash) = sizing(num_entries, fpp);
        BloomFilter {
            kind,
            nb_hash,
            vector_size,
            rows: vec![HadoopBloom::new(vector_size, nb_hash)],
            nr: num_entries as i32,
            max_entries: max_entries as i32,
            current: 0,
            reached_max: false,
            round_robin: 0,
        }
    }

    /// Hudi's defaults: DYNAMIC_V0, 60000 entries, fpp 1e-9, at most 100000 entries.
    pub fn hudi_default() -> Self {
        Self::new(BloomType::DynamicV0, 60_000, 1e-9, 100_000)
    }

    pub fn kind(&self) -> BloomType {
        self.kind
    }

    /// Bytes the filter's bit vectors hold.
    pub fn memory_size(&self) -> usize {
        self.rows.iter().map(|r| r.bits.len()).sum()
    }

    pub fn add(&mut self, key: &str) {
        let row = self.next_row();
        self.rows[row].add(key.as_bytes());
    }

    /// Adds keys in this order: the same filter as [`add`](Self::add) on each, with the keys
    /// hashed side by side.
    pub fn add_all(&mut self, keys: &[&str]) {
        let nb = self.nb_hash.max(0) as usize;
        let mut hashes = Vec::new();
        let mut bytes: Vec<&[u8]> = Vec::with_capacity(keys.len().min(4096));
        for block in keys.chunks(4096) {
            bytes.clear();
            bytes.extend(block.iter().map(|k| k.as_bytes()));
            hash_chains(&bytes, nb, &mut hashes);
            for i in 0..block.len() {
                let row = self.next_row();
                self.rows[row].set_hashes(&hashes[i * nb..(i + 1) * nb]);
            }
        }
    }

    /// The row the next key goes to (a dynamic filter grows a row every `nr` keys up to its
    /// cap, then goes round robin).
    fn next_row(&mut self) -> usize {
        if self.kind == BloomType::Simple {
            return 0;
        }
        let idx = if self.reached_max {
            let i = self.round_robin % self.rows.len();
            self.round_robin += 1;
            i
        } else if self.current >= self.nr {
            if (self.rows.len() as i64) * i64::from(self.nr) < i64::from(self.max_entries) {
                self.rows
                    .push(HadoopBloom::new(self.vector_size, self.nb_hash));
                self.current = 0;
                self.rows.len() - 1
            } else {
                self.reached_max = true;
                0
            }
        } else {
            self.rows.len() - 1
        };
        self.current += 1;
        idx
    }

    pub fn might_contain(&self, key: &str) -> bool {
        self.rows.iter().any(|r| r.might_contain(key.as_bytes()))
    }

    /// Whether the filter might hold a key whose first hashes are `pre` (see
    /// [`hash_chains`]): the rest of its hashes come from `key`, and with `key` `None` only
    /// `pre` is checked (a quick "no" that never touches the key).
    pub fn might_contain_hashed(&self, key: Option<&str>, pre: &[i32]) -> bool {
        let key = key.map(str::as_bytes);
        self.rows.iter().any(|r| r.contains_chain(key, pre))
    }

    /// The footer string: base64 of the Java `DataOutput` serialization.
    pub fn serialize(&self) -> String {
        let mut out =
            Vec::with_capacity(self.rows.len() * (self.vector_size as usize / 8 + 16) + 32);
        match self.kind {
            BloomType::Simple => self.rows[0].write(&mut out),
            BloomType::DynamicV0 => {
                HadoopBloom::new(self.vector_size, self.nb_hash).write_header(&mut out);
                out.extend_from_slice(&self.nr.to_be_bytes());
                out.extend_from_slice(&self.current.to_be_bytes());
                out.extend_from_slice(&(self.rows.len() as i32).to_be_bytes());
                for r in &self.rows {
                    r.write(&mut out);
                }
            }
        }
        base64_encode(&out)
    }

    /// Parses a footer string; `type_code` is `hoodie_bloom_filter_type_code` (absent: SIMPLE).
    pub fn deserialize(b64: &str, type_code: Option<&str>, file: &str) -> Result<Self> {
        let err = |reason: String| HudiError::Corrupt {
            what: format!("'{file}' (its Bloom filter)"),
            reason,
        };
        let kind = match type_code {
            None => BloomType::Simple,
            Some(c) => {
                BloomType::from_code(c).ok_or_else(|| err(format!("unknown filter type '{c}'")))?
            }
        };
        let buf = base64_decode(b64).ok_or_else(|| err("not base64".into()))?;
        let mut pos = 0;
        match kind {
            BloomType::Simple => {
                let row = HadoopBloom::read(&buf, &mut pos).map_err(err)?;
                Ok(BloomFilter {
                    kind,
                    nb_hash: row.nb_hash,
                    vector_size: row.vector_size,
                    rows: vec![row],
                    nr: 0,
                    max_entries: 0,
                    current: 0,
                    reached_max: false,
                    round_robin: 0,
                })
            }
            BloomType::DynamicV0 => {
                let (nb_hash, vector_size) = read_header(&buf, &mut pos).map_err(err)?;
                let nr = read_i32(&buf, &mut pos).map_err(err)?;
                let current = read_i32(&buf, &mut pos).map_err(err)?;
                let n_rows = read_i32(&buf, &mut pos).map_err(err)?;
                let mut rows = Vec::new();
                for _ in 0..n_rows.max(0) {
                    rows.push(HadoopBloom::read(&buf, &mut pos).map_err(err)?);
                }
                Ok(BloomFilter {
                    kind,
                    nb_hash,
                    vector_size,
                    rows,
                    nr,
                    max_entries: i32::MAX,
                    current,
                    reached_max: false,
                    round_robin: 0,
                })
            }
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard, padded base64 (as `java.util.Base64`).
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Decodes standard base64 (padding optional); `None` on a bad character.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    // Value of each byte in the alphabet; 0xFF for bytes outside it.
    const VALUES: [u8; 256] = {
        let mut t = [0xFFu8; 256];
        let mut i = 0;
        while i < 64 {
            t[B64[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut n = 0;
    for c in s.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()) {
        let v = match VALUES[c as usize] {
            0xFF => return None,
            v => u32::from(v),
        };
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `bloom` fuzz target: a footer declaring 2^31 hash functions made every
    /// lookup run for minutes.
    #[test]
    fn a_filter_declaring_absurdly_many_hashes_is_refused() {
        let header = |nb_hash: i32| {
            let mut b = (-1i32).to_be_bytes().to_vec();
            b.extend(nb_hash.to_be_bytes());
            b.push(HASH_TYPE_MURMUR);
            b.extend(64i32.to_be_bytes());
            b.extend([0u8; 8]);
            base64_encode(&b)
        };
        let e = BloomFilter::deserialize(&header(i32::MAX), None, "f.parquet")
            .expect_err("refused")
            .to_string();
        assert!(
            e.contains("nbHash 2147483647") && e.contains("f.parquet"),
            "{e}"
        );
        let ok = BloomFilter::deserialize(&header(30), None, "f.parquet").expect("30 hashes");
        assert!(!ok.might_contain("k"));
    }

    #[test]
    fn sizing_matches_the_spec() {
        assert_eq!(sizing(60_000, 1e-9), (2_587_966, 30));
    }

    #[test]
    fn dynamic_filter_header_and_size_match_the_fixture() {
        let mut f = BloomFilter::hudi_default();
        f.add("id:1,name:Alice");
        f.add("id:3,name:Carol");
        let s = f.serialize();
        assert_eq!(s.len(), 431_380);
        let raw = base64_decode(&s).unwrap();
        assert_eq!(raw.len(), 323_534);
        assert_eq!(
            &raw[..38],
            &[
                0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x1e, 1, 0, 0x27, 0x7d, 0x3e, 0, 0, 0xea, 0x60, 0,
                0, 0, 2, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x1e, 1, 0, 0x27, 0x7d, 0x3e
            ]
        );
        // Bit 1821084 of the spec's example: byte 227635, mask 0x10.
        assert_eq!(raw[38 + 227_635] & 0x10, 0x10);
        let back = BloomFilter::deserialize(&s, Some("DYNAMIC_V0"), "t").unwrap();
        assert!(back.might_contain("id:1,name:Alice") && back.might_contain("id:3,name:Carol"));
        assert!(!back.might_contain("id:2,name:Bob"));
    }

    #[test]
    fn dynamic_filter_grows_then_goes_round_robin() {
        let mut f = BloomFilter::new(BloomType::DynamicV0, 10, 0.01, 25);
        for i in 0..35 {
            f.add(&format!("k{i}"));
        }
        // Rows of 10 until 3 * 10 >= 25, then round robin from row 0.
        assert_eq!(f.rows.len(), 3);
        assert!((0..35).all(|i| f.might_contain(&format!("k{i}"))));
        let simple = {
            let mut s = BloomFilter::new(BloomType::Simple, 10, 0.01, 0);
            s.add("a");
            s
        };
        let back = BloomFilter::deserialize(&simple.serialize(), None, "t").unwrap();
        assert_eq!(
            back,
            BloomFilter {
                nr: 0,
                max_entries: 0,
                ..simple
            }
        );
    }

    #[test]
    fn checks_from_precomputed_hashes_agree_with_plain_checks() {
        let mut f = BloomFilter::new(BloomType::DynamicV0, 50, 1e-3, 200);
        let keys: Vec<String> = (0..2000).map(|i| format!("k{i}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        f.add_all(&refs[..150]);
        let bytes: Vec<&[u8]> = refs.iter().map(|k| k.as_bytes()).collect();
        let mut pre = Vec::new();
        hash_chains(&bytes, 4, &mut pre);
        let mut maybe = 0;
        for (i, k) in refs.iter().enumerate() {
            let p = &pre[i * 4..i * 4 + 4];
            let full = f.might_contain(k);
            assert_eq!(f.might_contain_hashed(Some(k), p), full, "{k}");
            // The quick check never says "no" to a key the filter holds.
            assert!(!full || f.might_contain_hashed(None, p), "{k}");
            maybe += usize::from(f.might_contain_hashed(None, p));
        }
        assert!(refs[..150].iter().all(|k| f.might_contain(k)));
        assert!(maybe < 2000, "the quick check rules keys out");
    }

    #[test]
    fn adding_keys_side_by_side_builds_the_same_filter() {
        let keys: Vec<String> = (0..1000)
            .map(|i| match i % 3 {
                0 => format!("{:08x}-8355-45cc-97c6-c31daf0df330", i * 7919),
                1 => format!("id:{i}"),
                _ => format!("key-é-{i}"),
            })
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        for (kind, nr, max) in [
            (BloomType::DynamicV0, 100, 250),
            (BloomType::Simple, 1000, 0),
        ] {
            let mut one = BloomFilter::new(kind, nr, 1e-6, max);
            let mut all = one.clone();
            refs.iter().for_each(|k| one.add(k));
            all.add_all(&refs[..10]);
            all.add_all(&refs[10..]);
            assert_eq!(one, all, "{kind:?}");
            assert_eq!(one.serialize(), all.serialize());
        }
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..10 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"binary data"), "YmluYXJ5IGRhdGE=");
    }
}
