//! Typed configuration: `hoodie.*` keys with defaults and aliases, parsed once into structs.

pub mod capability;
pub mod properties;
pub mod table;
pub mod version;

use std::collections::BTreeMap;

/// One `hoodie.*` configuration key: its name, older names it is also read under, and the
/// default used when it is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    pub key: &'static str,
    pub aliases: &'static [&'static str],
    pub default: Option<&'static str>,
}

impl ConfigKey {
    pub const fn new(key: &'static str) -> Self {
        ConfigKey {
            key,
            aliases: &[],
            default: None,
        }
    }

    pub const fn with_aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub const fn with_default(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }

    /// The value under the key or its first present alias, without the default.
    pub fn lookup<'a>(&self, props: &'a BTreeMap<String, String>) -> Option<&'a str> {
        std::iter::once(self.key)
            .chain(self.aliases.iter().copied())
            .find_map(|k| props.get(k).map(String::as_str))
    }

    /// The value under the key or an alias, else the default.
    pub fn get<'a>(&self, props: &'a BTreeMap<String, String>) -> Option<&'a str> {
        self.lookup(props).or(self.default)
    }
}
