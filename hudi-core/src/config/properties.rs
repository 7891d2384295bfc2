//! Java `java.util.Properties` text format: the format of `hoodie.properties` and
//! `.hoodie_partition_metadata`.
//!
//! Parsing follows `Properties.load`: `#`/`!` comment lines, `=`, `:` or white space as the
//! separator, backslash escapes (`\t \n \r \f \uXXXX` and any escaped character), and line
//! continuations. Writing follows `Properties.store`: `:`, `=`, `#`, `!` and leading spaces are
//! escaped and characters outside printable ASCII become `\uXXXX`.

use std::collections::BTreeMap;

/// Parses Java properties text into an ordered map. Later duplicates win, as in Java.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut logical = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start_matches([' ', '\t', '\u{c}']);
        if logical.is_empty() && (trimmed.is_empty() || trimmed.starts_with(['#', '!'])) {
            continue;
        }
        // A line ending in an odd number of backslashes continues on the next line.
        let trailing = trimmed.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&trimmed[..trimmed.len() - 1]);
            if lines.clone().next().is_some() {
                continue;
            }
        } else {
            logical.push_str(trimmed);
        }
        let (k, v) = split_key_value(&logical);
        out.insert(unescape(k), unescape(v));
        logical.clear();
    }
    out
}

fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let i = i.min(bytes.len());
    let key = &line[..i];
    let mut rest = &line[i..];
    rest = rest.trim_start_matches([' ', '\t', '\u{c}']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t', '\u{c}']);
    }
    (key, rest)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                {
                    Some(code) => {
                        for _ in 0..4 {
                            chars.next();
                        }
                        push_utf16_unit(&mut out, code, &mut chars);
                    }
                    None => out.push('u'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Appends one UTF-16 code unit, pairing a high surrogate with a following `\uXXXX` low one.
fn push_utf16_unit(out: &mut String, code: u32, chars: &mut std::str::Chars<'_>) {
    if (0xD800..0xDC00).contains(&code) {
        let ahead: String = chars.clone().take(6).collect();
        if let Some(low) = ahead
            .strip_prefix("\\u")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .filter(|l| (0xDC00..0xE000).contains(l))
        {
            for _ in 0..6 {
                chars.next();
            }
            let c = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
            return;
        }
    }
    out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
}

fn escape(s: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.chars().enumerate() {
        match c {
            ' ' if i == 0 || is_key => out.push_str("\\ "),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '=' | ':' | '#' | '!' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (' '..='~').contains(&c) => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04X}", unit));
                }
            }
        }
    }
    out
}

/// Formats properties as `Properties.store` does: the given comment lines (each prefixed by
/// `#`), then one `key=value` line per entry in map order.
pub fn format(props: &BTreeMap<String, String>, comments: &[String]) -> String {
    let mut out = String::new();
    for c in comments {
        out.push('#');
        out.push_str(c);
        out.push('\n');
    }
    for (k, v) in props {
        out.push_str(&escape(k, true));
        out.push('=');
        out.push_str(&escape(v, false));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_java_escapes_and_comments() {
        let text = "#Properties saved on 2024\n! bang comment\nhoodie.table.create.schema={\"type\"\\:\"record\"}\n\
                    a = b c\nkey\\ with\\ space:value\nuni=\\u00e9\\uD83D\\uDE00\ncont=one\\\n   two\nempty=\n";
        let p = parse(text);
        assert_eq!(p["hoodie.table.create.schema"], "{\"type\":\"record\"}");
        assert_eq!(p["a"], "b c");
        assert_eq!(p["key with space"], "value");
        assert_eq!(p["uni"], "é😀");
        assert_eq!(p["cont"], "onetwo");
        assert_eq!(p["empty"], "");
        assert_eq!(p.len(), 6);
    }

    #[test]
    fn format_then_parse_is_identity() {
        let mut m = BTreeMap::new();
        m.insert("k:1".to_string(), " lead=#!\\ é 😀\ttab".to_string());
        m.insert("hoodie.table.name".to_string(), "t".to_string());
        m.insert("schema".to_string(), "{\"a\":[1,2]}".to_string());
        let text = format(&m, &["comment".to_string()]);
        assert!(text.starts_with("#comment\n"));
        assert!(text.contains("schema={\"a\"\\:[1,2]}"));
        assert_eq!(parse(&text), m);
    }
}
