//! The hashing of Hudi's Bloom filters: Hadoop's MurmurHash2 (32-bit), chained (each of a
//! key's `nbHash` hashes seeds the next), and the bit position of each hash
//! (`abs(h % vectorSize)` with Java's `%`).
//!
//! A key's hashes are a chain of `nbHash` dependent multiplications per 4-byte word, so one
//! key at a time waits on the multiplier's latency. [`hash_chains`] runs [`LANES`] keys of
//! equal length side by side instead (their chains are independent), with each word's mixing
//! (which does not depend on the seed) done once per key rather than once per hash.

const M: i32 = 0x5bd1_e995;
const R: u32 = 24;

/// Keys hashed side by side.
pub const LANES: usize = 8;

/// Words of a key hashed side by side at most (longer keys go one at a time).
const MAX_WORDS: usize = 64;

/// Hadoop's MurmurHash2 (32-bit) as Hudi uses it: little-endian words, and a tail whose bytes
/// are sign-extended Java bytes.
pub fn murmur_hadoop(data: &[u8], seed: i32) -> i32 {
    let mut h: i32 = seed ^ data.len() as i32;
    let words = data.len() / 4;
    for i in 0..words {
        h = h.wrapping_mul(M) ^ mix_word(&data[i * 4..i * 4 + 4]);
    }
    finish(h, tail(data))
}

/// A word's contribution (independent of the seed).
#[inline]
fn mix_word(b: &[u8]) -> i32 {
    let mut k = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    k = k.wrapping_mul(M);
    k ^= ((k as u32) >> R) as i32;
    k.wrapping_mul(M)
}

/// The tail's bytes, xor-ed together as they enter the hash (`None` without a tail). The
/// tail counts back from the end: with 3 bytes left, the first is shifted by 16.
#[inline]
fn tail(data: &[u8]) -> Option<i32> {
    let n = data.len();
    let left = n % 4;
    if left == 0 {
        return None;
    }
    let sx = |b: u8| i32::from(b as i8);
    let mut t = sx(data[n - 1]);
    if left >= 2 {
        t ^= sx(data[n - 2]) << 8;
    }
    if left >= 3 {
        t ^= sx(data[n - 3]) << 16;
    }
    Some(t)
}

#[inline]
fn finish(mut h: i32, tail: Option<i32>) -> i32 {
    if let Some(t) = tail {
        h = (h ^ t).wrapping_mul(M);
    }
    h ^= ((h as u32) >> 13) as i32;
    h = h.wrapping_mul(M);
    h ^ ((h as u32) >> 15) as i32
}

/// `a % d` for a fixed `d > 0` by two multiplications instead of a division (Lemire, Kaser
/// and Kurz, "Faster remainder by direct computation", 2019): exact for every `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastRem {
    d: u32,
    m: u64,
}

impl FastRem {
    pub fn new(d: u32) -> Self {
        FastRem {
            d,
            m: (u64::MAX / u64::from(d.max(1))).wrapping_add(1),
        }
    }

    #[inline]
    pub fn rem(&self, a: u32) -> u32 {
        if self.d <= 1 {
            return 0;
        }
        let low = self.m.wrapping_mul(u64::from(a));
        ((u128::from(low) * u128::from(self.d)) >> 64) as u32
    }

    /// The bit of hash `h`: Java's `abs(h % d)`, which is `|h| mod d` for `d > 0`.
    #[inline]
    pub fn position(&self, h: i32) -> usize {
        self.rem(h.unsigned_abs()) as usize
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
            Some(f) => f.position(seed),
            None => (seed.wrapping_rem(vector_size)).unsigned_abs() as usize,
        }
    })
}

/// The `nb_hash` chained hashes of each key, key after key: `out[k * nb_hash + j]` is the
/// `j`-th hash of `keys[k]` (`out` is cleared first). Equal to calling [`murmur_hadoop`]
/// down each chain.
pub fn hash_chains(keys: &[&[u8]], nb_hash: usize, out: &mut Vec<i32>) {
    out.clear();
    out.resize(keys.len() * nb_hash, 0);
    let mut words = [[0i32; LANES]; MAX_WORDS];
    for (c, chunk) in keys.chunks(LANES).enumerate() {
        let out = &mut out[c * LANES * nb_hash..][..chunk.len() * nb_hash];
        let len = chunk[0].len();
        let side_by_side =
            chunk.len() == LANES && len / 4 <= MAX_WORDS && chunk.iter().all(|k| k.len() == len);
        if !side_by_side {
            for (key, hashes) in chunk.iter().zip(out.chunks_mut(nb_hash)) {
                let mut seed = 0;
                for h in hashes {
                    seed = murmur_hadoop(key, seed);
                    *h = seed;
                }
            }
            continue;
        }
        let n_words = len / 4;
        let mut tails = [None; LANES];
        for (l, key) in chunk.iter().enumerate() {
            for (w, word) in words.iter_mut().enumerate().take(n_words) {
                word[l] = mix_word(&key[w * 4..w * 4 + 4]);
            }
            tails[l] = tail(key);
        }
        let mut seeds = [0i32; LANES];
        for j in 0..nb_hash {
            let mut h = seeds.map(|s| s ^ len as i32);
            for word in &words[..n_words] {
                for l in 0..LANES {
                    h[l] = h[l].wrapping_mul(M) ^ word[l];
                }
            }
            for l in 0..LANES {
                seeds[l] = finish(h[l], tails[l]);
                out[l * nb_hash + j] = seeds[l];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn positions_match_the_spec() {
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
    fn chains_side_by_side_equal_one_key_at_a_time() {
        // Every tail length, keys of equal and of mixed lengths, whole and partial chunks,
        // bytes with the high bit set (sign-extended in the tail), and a key too long to go
        // side by side.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for len in [0usize, 1, 2, 3, 4, 5, 7, 36, 37, 38, 39] {
            for i in 0..(LANES + 3) {
                keys.push((0..len).map(|b| (b * 31 + i * 7 + 0x80) as u8).collect());
            }
        }
        keys.push(vec![0xE9; MAX_WORDS * 4 + 3]);
        keys.extend((0..20).map(|i| format!("key-{}", "x".repeat(i)).into_bytes()));
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        for nb_hash in [1usize, 5, 30] {
            let mut out = Vec::new();
            hash_chains(&refs, nb_hash, &mut out);
            for (k, key) in refs.iter().enumerate() {
                let mut seed = 0;
                for j in 0..nb_hash {
                    seed = murmur_hadoop(key, seed);
                    assert_eq!(out[k * nb_hash + j], seed, "key {k}, hash {j}");
                }
            }
        }
    }
}
