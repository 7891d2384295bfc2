//! The bucket index (SIMPLE engine): a record's bucket is Java's `List.hashCode` of its hash
//! field values, masked positive, modulo the bucket count; a bucket's file group id starts
//! with the bucket number as eight digits.

/// Java `String.hashCode` (UTF-16 code units, wrapping).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// Java `List<String>.hashCode` (`null` elements hash to 0).
pub fn java_list_hash(items: &[Option<String>]) -> i32 {
    items.iter().fold(1i32, |h, e| {
        h.wrapping_mul(31)
            .wrapping_add(e.as_deref().map_or(0, java_string_hash))
    })
}

/// Java's `String.split(",")`: trailing empty strings are dropped.
fn java_split_commas(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(',').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// The hash keys of a record key, as Hudi 0.14/0.15's `BucketIdentifier.getHashKeys` takes
/// them (`KeyGenUtils.extractRecordKeysByFields`): a key without `:` hashes whole; otherwise
/// its `,`-separated parts in the key's order, a `field:value` part (split at its first `:`)
/// only if the field is a hash field, a part without `:` always; `__null__` becomes null and
/// `__empty__` the empty string.
pub fn hash_values(record_key: &str, hash_fields: &[String]) -> Vec<Option<String>> {
    if !record_key.contains(':') {
        return vec![Some(record_key.to_string())];
    }
    let mut out = Vec::new();
    for part in java_split_commas(record_key) {
        match part.split_once(':') {
            None => out.push(Some(part.to_string())),
            Some((f, v)) => {
                if !hash_fields.is_empty() && !hash_fields.iter().any(|h| h == f) {
                    continue;
                }
                out.push(match v {
                    "__null__" => None,
                    "__empty__" => Some(String::new()),
                    v => Some(v.to_string()),
                });
            }
        }
    }
    out
}

/// The bucket of a record key.
pub fn bucket_id(record_key: &str, hash_fields: &[String], num_buckets: u32) -> u32 {
    ((key_hash(record_key, hash_fields) & i32::MAX) as u32) % num_buckets.max(1)
}

/// `java_list_hash(&hash_values(record_key, hash_fields))` without building the list.
fn key_hash(record_key: &str, hash_fields: &[String]) -> i32 {
    let string_hash = |s: &str| {
        if s.is_ascii() {
            s.bytes()
                .fold(0i32, |h, b| h.wrapping_mul(31).wrapping_add(i32::from(b)))
        } else {
            java_string_hash(s)
        }
    };
    if !record_key.contains(':') {
        return 31i32.wrapping_add(string_hash(record_key));
    }
    let mut h = 1i32;
    for part in java_split_commas(record_key) {
        let e = match part.split_once(':') {
            // A part without a field name hashes as it is, placeholders included.
            None => string_hash(part),
            Some((f, _)) if !hash_fields.is_empty() && !hash_fields.iter().any(|h| h == f) => {
                continue;
            }
            // `__null__` hashes as a null element, `__empty__` as "": both 0.
            Some((_, "__null__" | "__empty__")) => 0,
            Some((_, v)) => string_hash(v),
        };
        h = h.wrapping_mul(31).wrapping_add(e);
    }
    h
}

/// The bucket a file group id belongs to (its first eight characters as a number).
pub fn bucket_of_file_id(file_id: &str) -> Option<u32> {
    file_id
        .get(..8)
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse().ok())
}

/// A new file group id for a bucket: `%08d` of the bucket, the rest of a random UUID, `-0`.
pub fn new_bucket_file_id(bucket: u32) -> String {
    let uuid = uuid::Uuid::new_v4().to_string();
    format!("{bucket:08}{}-0", &uuid[8..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_java_hashes_and_the_spec_examples() {
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(java_list_hash(&hash_values("1", &f(&["id"]))), 80);
        assert_eq!(bucket_id("1", &f(&["id"]), 4), 0);
        assert_eq!(bucket_id("id:1,name:Alice", &f(&["name"]), 16), 15);
        assert_eq!(
            java_list_hash(&hash_values("id:1,name:Alice", &f(&["name"]))),
            63_350_399
        );
        assert_eq!(
            bucket_id("334e26e9-8355-45cc-97c6-c31daf0df330", &f(&["uuid"]), 256),
            227
        );
        assert_eq!(
            bucket_id("e96c4396-3fad-413a-a942-4cb36106d721", &f(&["uuid"]), 10),
            2
        );
        assert_eq!(
            java_list_hash(&hash_values("id:__null__,name:Bob", &f(&["id", "name"]))),
            67_926
        );
        assert_eq!(bucket_id("id:__null__,name:Bob", &f(&["id", "name"]), 7), 5);
        let id = new_bucket_file_id(227);
        assert!(id.starts_with("00000227-") && id.ends_with("-0"), "{id}");
        assert_eq!(bucket_of_file_id(&id), Some(227));
        assert_eq!(bucket_of_file_id("a22e8257-e249"), None);
    }

    /// Buckets Apache Hudi 0.15 on Spark gave these keys (8 buckets, hash fields `name,id`;
    /// spark_tables.rs checks the routing end to end).
    #[test]
    fn the_direct_hash_equals_the_list_hash() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for fields in [f(&[]), f(&["id"]), f(&["name", "id"])] {
            for key in [
                "",
                "1",
                "abc",
                "\u{fc}n\u{ef}",
                "\u{1f600}x",
                "id:1",
                "id:1,name:Alice",
                "id:8,name:__null__",
                "id:1,name:__empty__",
                "id:0,name:a:b",
                "a,b,,",
                "x,id:2",
                "id:,name:",
                "other:5,id:5",
                "id:1,__null__",
                "x,__empty__,id:2",
                "__null__",
                "id:__null__,__empty__",
            ] {
                assert_eq!(
                    key_hash(key, &fields),
                    java_list_hash(&hash_values(key, &fields)),
                    "{key:?} {fields:?}"
                );
            }
        }
    }

    #[test]
    fn hash_keys_follow_hudi_015() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let hf = f(&["name", "id"]);
        for (key, bucket) in [
            ("id:8,name:__null__", 1),
            ("id:10,name:__x", 2),
            ("id:0,name:a:b", 2),
            ("id:6,name:a:b", 4),
            ("id:2,name:__null__", 7),
            ("id:1,name:__empty__", 0),
            ("id:7,name:__empty__", 2),
            ("id:3,name:\u{fc}n\u{ef}", 3),
            ("id:5,name:n5", 3),
            ("id:11,name:n11", 7),
        ] {
            assert_eq!(bucket_id(key, &hf, 8), bucket, "{key}");
        }
        let some = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        // The key's order, not the hash fields'; a value keeps its later ':'.
        assert_eq!(hash_values("id:1,name:a:b", &hf), some(&["1", "a:b"]));
        // A key without ':' hashes whole, commas and all.
        assert_eq!(hash_values("a,b", &f(&["id"])), some(&["a,b"]));
        // A part without ':' is kept whatever the hash fields.
        assert_eq!(hash_values("id:1,x", &f(&["name"])), some(&["x"]));
    }
}
