//! Hudi's Bloom filters, byte-compatible with Hudi's footer `org.apache.hudi.bloomfilter`:
//! a Hadoop `BloomFilter` (MurmurHash2 as Hadoop ports it) for `SIMPLE`, and Hudi's
//! `InternalDynamicBloomFilter` rows of them for `DYNAMIC_V0`. Written from the format
//! description; the `bloomfilter` crate's format is not Hudi's.

use crate::error::{HudiError, Result};

/// Footer key of the serialized filter.
pub const FOOTER_KEY: &str = "org.apache.hudi.bloomfilter";
/// Footer key of the filter type (written for dynamic filters only).
pub const TYPE_CODE_KEY: &str = "hoodie_bloom_filter_type_code";
pub const MIN_RECORD_KEY: &str = "hoodie_min_record_key";
pub const MAX_RECORD_KEY: &str = "hoodie_max_record_key";

const VERSION: i32 = -1;
const HASH_TYPE_MURMUR: u8 = 1;

/// Hadoop's MurmurHash2 (32-bit) as Hudi uses it: little-endian words, and a tail whose bytes
/// are sign-extended Java bytes.
pub fn murmur_hadoop(data: &[u8], seed: i32) -> i32 {
    let m: i32 = 0x5bd1_e995;
    let r = 24;
    let len = data.len() as i32;
    let mut h: i32 = seed ^ len;
    let words = data.len() / 4;
    for i in 0..words {
        let b = &data[i * 4..i * 4 + 4];
        let mut k = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        k = k.wrapping_mul(m);
        k ^= ((k as u32) >> r) as i32;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    // The tail counts back from the end: with 3 bytes left, the first is shifted by 16.
    let left = data.len() - words * 4;
    let n = data.len();
    if left > 0 {
        let sx = |b: u8| i32::from(b as i8);
        if left >= 3 {
            h ^= sx(data[n - 3]) << 16;
        }
        if left >= 2 {
            h ^= sx(data[n - 2]) << 8;
        }
        h ^= sx(data[n - 1]);
        h = h.wrapping_mul(m);
    }
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(m);
    h ^= ((h as u32) >> 15) as i32;
    h
}

/// `a % d` for a fixed `d > 0` by two multiplications instead of a division (Lemire, Kaser
/// and Kurz, "Faster remainder by direct computation", 2019): exact for every `u32`.
#[derive(Debug, Clone, Copy)]
struct FastRem {
    d: u32,
    m: u64,
}

impl FastRem {
    fn new(d: u32) -> Self {
        FastRem {
            d,
            m: (u64::MAX / u64::from(d.max(1))).wrapping_add(1),
        }
    }

    fn rem(&self, a: u32) -> u32 {
        if self.d <= 1 {
            return 0;
        }
        let low = self.m.wrapping_mul(u64::from(a));
        ((u128::from(low) * u128::from(self.d)) >> 64) as u32
    }
}

/// Bit positions of a key: each hash seeds the next; `abs(h % vectorSize)` with Java's `%`,
/// which is `|h| mod vectorSize` for a positive size.
pub fn hash_positions(
    key: &[u8],
    nb_hash: i32,
    vector_size: i32,
) -> impl Iterator<Item = usize> + '_ {
    let mut seed = 0i32;
    let fast = (vector_size > 0).then(|| FastRem::new(vector_size as u32));
    (0..nb_hash).map(move |_| {
        seed = murmur_hadoop(key, seed);
        match fast {
            Some(f) => f.rem(seed.unsigned_abs()) as usize,
            None => (seed.wrapping_rem(vector_size)).unsigned_abs() as usize,
        }
    })
}

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
}

impl HadoopBloom {
    pub fn new(vector_size: i32, nb_hash: i32) -> Self {
        HadoopBloom {
            nb_hash,
            vector_size,
            bits: vec![0; (vector_size as usize).div_ceil(8)],
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

    pub fn add(&mut self, key: &str) {
        if self.kind == BloomType::Simple {
            self.rows[0].add(key.as_bytes());
            return;
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
        self.rows[idx].add(key.as_bytes());
        self.current += 1;
    }

    pub fn might_contain(&self, key: &str) -> bool {
        self.rows.iter().any(|r| r.might_contain(key.as_bytes()))
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
        let err = |reason: String| HudiError::Schema {
            context: format!("Bloom filter of '{file}'"),
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
    fn fast_remainder_equals_javas_abs_of_remainder() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for d in [1i32, 2, 3, 7, 1000, 2_587_966, 431_328, i32::MAX] {
            let f = FastRem::new(d as u32);
            let check = |h: i32| {
                let java = (h.wrapping_rem(d)).unsigned_abs();
                assert_eq!(f.rem(h.unsigned_abs()), java, "{h} % {d}");
            };
            for h in [0, 1, -1, i32::MIN, i32::MAX, i32::MIN + 1, d, -d] {
                check(h);
            }
            for _ in 0..100_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                check(x as i32);
            }
        }
    }

    #[test]
    fn murmur_matches_the_spec_vectors() {
        let h1 = murmur_hadoop(b"id:1,name:Alice", 0);
        assert_eq!(h1, 71_696_166);
        assert_eq!(murmur_hadoop(b"id:1,name:Alice", h1), -668_954_923);
        assert_eq!(murmur_hadoop(b"id:3,name:Carol", 0), 1_916_687_947);
        assert_eq!(
            murmur_hadoop(b"334e26e9-8355-45cc-97c6-c31daf0df330", 0),
            821_709_926
        );
        assert_eq!(
            murmur_hadoop(b"1dced545-862b-4ceb-8b43-d2a568f6616b", 0),
            -1_298_702_422
        );
        assert_eq!(murmur_hadoop("é".as_bytes(), 0), -384_040_333);
        assert_eq!(murmur_hadoop("ü1".as_bytes(), 0), -253_663_141);
    }

    #[test]
    fn positions_and_sizing_match_the_spec() {
        assert_eq!(sizing(60_000, 1e-9), (2_587_966, 30));
        let p: Vec<usize> = hash_positions(b"id:1,name:Alice", 30, 2_587_966)
            .take(5)
            .collect();
        assert_eq!(p, vec![1_821_084, 1_259_695, 2_258_328, 240_278, 789_559]);
        let p: Vec<usize> = hash_positions(b"334e26e9-8355-45cc-97c6-c31daf0df330", 30, 2_587_966)
            .take(5)
            .collect();
        assert_eq!(p, vec![1_324_704, 2_335_622, 95_309, 2_232_886, 599_387]);
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
    fn base64_round_trips() {
        for n in 0..10 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }
        assert_eq!(base64_encode(b"binary data"), "YmluYXJ5IGRhdGE=");
    }
}
