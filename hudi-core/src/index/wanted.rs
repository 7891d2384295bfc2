//! The keys a lookup wants in one bucket (a partition, or the whole table for a global
//! index): distinct, numbered, with the first hashes of their Bloom chains computed once for
//! every file they are checked against.

use std::collections::HashMap;

use crate::io::bloom::{hash_chains, BloomFilter};

/// Hashes of each key's Bloom chain computed up front: a key that is not in a file is
/// ruled out by these alone most of the time (each bit is set with probability about 1/2),
/// without touching the key's bytes.
const PRE: usize = 4;

/// A fast hasher for keys (the map is internal to one lookup).
pub(super) type KeyMap<'a> = HashMap<&'a str, u32, ahash::RandomState>;

pub(super) struct Wanted<'a> {
    /// The distinct keys, numbered by position.
    keys: Vec<&'a str>,
    /// Each key's number.
    numbers: KeyMap<'a>,
    /// The first [`PRE`] hashes of each key, key after key.
    pre: Vec<i32>,
}

impl<'a> Wanted<'a> {
    pub fn new() -> Self {
        Wanted {
            keys: Vec::new(),
            numbers: KeyMap::default(),
            pre: Vec::new(),
        }
    }

    /// Numbers `key` (once per distinct key).
    pub fn add(&mut self, key: &'a str) -> u32 {
        let next = self.keys.len() as u32;
        *self.numbers.entry(key).or_insert_with(|| {
            self.keys.push(key);
            next
        })
    }

    /// Computes the keys' first hashes (after the last [`add`](Self::add)).
    pub fn seal(&mut self) {
        let bytes: Vec<&[u8]> = self.keys.iter().map(|k| k.as_bytes()).collect();
        hash_chains(&bytes, PRE, &mut self.pre);
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The numbers of every key.
    pub fn numbers(&self) -> &KeyMap<'a> {
        &self.numbers
    }

    /// The keys a file may hold: inside its key range `[lo, hi]` (when given) and passing its
    /// Bloom filter (when given), with their numbers.
    pub fn candidates(
        &self,
        bloom: Option<&BloomFilter>,
        range: Option<(&str, &str)>,
    ) -> KeyMap<'a> {
        let mut out = KeyMap::default();
        for (n, key) in self.keys.iter().enumerate() {
            let pre = &self.pre[n * PRE..(n + 1) * PRE];
            if bloom.is_some_and(|b| !b.might_contain_hashed(None, pre)) {
                continue;
            }
            if range.is_some_and(|(lo, hi)| *key < lo || *key > hi) {
                continue;
            }
            if bloom.is_some_and(|b| !b.might_contain_hashed(Some(key), pre)) {
                continue;
            }
            out.insert(*key, n as u32);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::bloom::BloomType;

    #[test]
    fn keys_are_numbered_once_and_candidates_pass_range_and_filter() {
        let mut w = Wanted::new();
        let keys: Vec<String> = (0..300).map(|i| format!("key{i:03}")).collect();
        for k in keys.iter().chain(keys.iter().take(10)) {
            w.add(k);
        }
        w.seal();
        assert_eq!(w.numbers().len(), 300);
        assert_eq!(w.numbers()["key007"], 7);
        let mut f = BloomFilter::new(BloomType::DynamicV0, 100, 1e-6, 1000);
        let held: Vec<&str> = keys.iter().step_by(3).map(String::as_str).collect();
        f.add_all(&held);
        let c = w.candidates(Some(&f), None);
        assert!(held.iter().all(|k| c.contains_key(k)));
        assert!(c.len() < 110, "{} candidates for 100 held keys", c.len());
        let c = w.candidates(Some(&f), Some(("key100", "key199")));
        let mut got: Vec<&str> = c.keys().copied().collect();
        got.sort();
        let want: Vec<&str> = held
            .iter()
            .copied()
            .filter(|k| ("key100"..="key199").contains(k))
            .collect();
        assert_eq!(got, want);
        assert_eq!(w.candidates(None, None).len(), 300);
    }
}
