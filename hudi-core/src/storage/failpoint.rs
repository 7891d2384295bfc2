//! Crash points for the crash-injection tests: every change a table sees goes through
//! [`super::Storage`], which names each one `<when>:<op>:<path>` (`before:put:.hoodie/T.commit`,
//! `after:delete:p/f.parquet`, ...). `HUDI_FAILPOINT=<when>:<op>:<pattern>[#<n>]` stops the
//! process at the `n`-th (default first) change whose path contains `pattern` (a leading `^`
//! anchors it to the start of the path, a trailing `$` to its end): it prints `hudi failpoint: <point>` on stderr and
//! stalls until the test kills it (`HUDI_FAILPOINT_ACTION=stall`, the default), or aborts at
//! once (`abort`), or sleeps that many milliseconds and goes on (`pause:<ms>`, to make two
//! writers overlap). `*` stands for any `when` or `op`, and an empty pattern for any path:
//! `*:*:#12` stops at the twelfth change of any kind. `HUDI_FAILPOINT_TRACE=1` prints every
//! point passed (`hudi failpoint trace: <point>`), so a test can count an operation's points
//! and then stop it at each. `HUDI_TEST_SKIP_CONFLICT_CHECK=1` makes writers commit without
//! the optimistic-concurrency conflict check: the concurrency tests run with it once to show
//! that they see the updates it lets writers lose.
//!
//! Compiled into debug builds and with the `failpoints` feature only; release builds hold
//! an empty function.

#[cfg(any(debug_assertions, feature = "failpoints"))]
mod active {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    /// A parsed `HUDI_FAILPOINT`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct Spec {
        when: String,
        op: String,
        pattern: String,
        at_start: bool,
        at_end: bool,
        nth: usize,
    }

    impl Spec {
        pub(crate) fn parse(s: &str) -> Option<Spec> {
            let (point, nth) = match s.rsplit_once('#') {
                Some((p, n)) => (p, n.parse().ok().filter(|n| *n > 0)?),
                None => (s, 1),
            };
            let mut parts = point.splitn(3, ':');
            let when = parts.next()?.to_string();
            let op = parts.next()?.to_string();
            let pattern = parts.next()?;
            if !matches!(when.as_str(), "before" | "after" | "*") || op.is_empty() {
                return None;
            }
            let (pattern, at_start) = match pattern.strip_prefix('^') {
                Some(p) => (p, true),
                None => (pattern, false),
            };
            let (pattern, at_end) = match pattern.strip_suffix('$') {
                Some(p) => (p, true),
                None => (pattern, false),
            };
            Some(Spec {
                when,
                op,
                pattern: pattern.to_string(),
                at_start,
                at_end,
                nth,
            })
        }

        pub(crate) fn matches(&self, when: &str, op: &str, rel: &str) -> bool {
            (self.when == "*" || self.when == when)
                && (self.op == "*" || self.op == op)
                && match (self.at_start, self.at_end) {
                    (true, true) => rel == self.pattern,
                    (true, false) => rel.starts_with(&self.pattern),
                    (false, true) => rel.ends_with(&self.pattern),
                    (false, false) => rel.contains(&self.pattern),
                }
        }
    }

    fn spec() -> Option<&'static Spec> {
        static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
        SPEC.get_or_init(|| {
            let s = std::env::var("HUDI_FAILPOINT").ok()?;
            let spec = Spec::parse(&s);
            if spec.is_none() {
                eprintln!("hudi failpoint: ignoring unparsable HUDI_FAILPOINT={s}");
            }
            spec
        })
        .as_ref()
    }

    pub(crate) fn hit(when: &str, op: &str, rel: &str) {
        static HITS: AtomicUsize = AtomicUsize::new(0);
        static TRACE: OnceLock<bool> = OnceLock::new();
        if *TRACE.get_or_init(|| std::env::var_os("HUDI_FAILPOINT_TRACE").is_some()) {
            eprintln!("hudi failpoint trace: {when}:{op}:{rel}");
        }
        let Some(spec) = spec() else { return };
        if !spec.matches(when, op, rel) || HITS.fetch_add(1, Ordering::SeqCst) + 1 != spec.nth {
            return;
        }
        eprintln!("hudi failpoint: {when}:{op}:{rel}");
        let action = std::env::var("HUDI_FAILPOINT_ACTION").unwrap_or_default();
        if action == "abort" {
            std::process::abort();
        }
        if let Some(ms) = action.strip_prefix("pause:").and_then(|ms| ms.parse().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            return;
        }
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

#[cfg(any(debug_assertions, feature = "failpoints"))]
pub(crate) use active::hit;

/// Whether writers skip the conflict check (`HUDI_TEST_SKIP_CONFLICT_CHECK=1`, test builds
/// only): a broken policy the concurrency tests must catch.
#[cfg(any(debug_assertions, feature = "failpoints"))]
pub(crate) fn conflict_check_skipped() -> bool {
    std::env::var("HUDI_TEST_SKIP_CONFLICT_CHECK").is_ok_and(|v| v == "1")
}

/// Release builds always check.
#[cfg(not(any(debug_assertions, feature = "failpoints")))]
#[inline(always)]
pub(crate) fn conflict_check_skipped() -> bool {
    false
}

/// Release builds: no crash points.
#[cfg(not(any(debug_assertions, feature = "failpoints")))]
#[inline(always)]
pub(crate) fn hit(_when: &str, _op: &str, _rel: &str) {}

#[cfg(all(test, any(debug_assertions, feature = "failpoints")))]
mod tests {
    use super::active::Spec;

    #[test]
    fn specs_parse_and_match_by_substring_or_suffix() {
        let s = Spec::parse("after:put:.parquet#2").unwrap();
        assert!(s.matches("after", "put", "p/f_1-0-1_20250101.parquet"));
        assert!(!s.matches("before", "put", "p/f.parquet"));
        assert!(!s.matches("after", "delete", "p/f.parquet"));
        let c = Spec::parse("before:put:.commit$").unwrap();
        assert!(c.matches("before", "put", ".hoodie/20250101000000000.commit"));
        assert!(!c.matches(
            "before",
            "put",
            ".hoodie/20250101000000000.commit.requested"
        ));
        let d = Spec::parse("after:put:^ams/").unwrap();
        assert!(d.matches("after", "put", "ams/f.log.1_0-1-0"));
        assert!(!d.matches(
            "after",
            "put",
            ".hoodie/.temp/1/ams/f.log.1_0-1-0.marker.APPEND"
        ));
        assert!(Spec::parse("after:delete:^.hoodie/x$").unwrap().matches(
            "after",
            "delete",
            ".hoodie/x"
        ));
        let any = Spec::parse("*:*:#3").unwrap();
        assert!(any.matches("before", "delete_tree", ".hoodie/.temp/1"));
        assert!(any.matches("after", "put", "p/f.parquet"));
        for bad in [
            "",
            "put:.commit",
            "during:put:x",
            "after::x",
            "after:put:x#0",
            "a:b:c#x",
        ] {
            assert_eq!(Spec::parse(bad), None, "{bad}");
        }
    }
}
