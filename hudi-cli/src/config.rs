//! `hudi config`: read and safely change `hoodie.properties`.

use std::collections::BTreeMap;

use hudi_core::table::properties::PropertyChange;
use hudi_core::timeline::transition::SystemClock;
use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// The table's properties (`.hoodie/hoodie.properties`).
///
/// `set` and `unset` refuse keys that describe the committed files (table type and version,
/// record key and partition fields, key generator, partition naming, base file format, ...),
/// write through Hudi's update protocol (the current file is kept as
/// `hoodie.properties.backup` until the new one is written and read back) and recompute the
/// checksum.
///
/// Examples:
///   hudi config get /data/events
///   hudi config get /data/events hoodie.table.precombine.field
///   hudi config set /data/events hoodie.cleaner.commits.retained=20 --dry-run
///   hudi config unset /data/events hoodie.cleaner.commits.retained --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print every property, or one (exit 1 when it is not set).
    Get {
        /// Table path or URL.
        table: String,
        /// Only this key.
        key: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Set properties (KEY=VALUE ...).
    Set {
        /// Table path or URL.
        table: String,
        /// The properties to set.
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = crate::parse_kv)]
        pairs: Vec<(String, String)>,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Remove properties.
    Unset {
        /// Table path or URL.
        table: String,
        /// The keys to remove.
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
        #[command(flatten)]
        change: ChangeArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct ChangeArgs {
    /// Show what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the changes as JSON lines.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: ConfigArgs) -> Result<(), CliError> {
    match a.command {
        ConfigCommand::Get {
            table,
            key,
            json,
            storage,
        } => get(&table, key.as_deref(), json, &storage).await,
        ConfigCommand::Set {
            table,
            pairs,
            change,
        } => update(&table, pairs.into_iter().collect(), &[], &change).await,
        ConfigCommand::Unset {
            table,
            keys,
            change,
        } => update(&table, BTreeMap::new(), &keys, &change).await,
    }
}

async fn get(
    table: &str,
    key: Option<&str>,
    as_json: bool,
    storage: &StorageArgs,
) -> Result<(), CliError> {
    let t = Table::open_with_options(table, &storage.options()).await?;
    let props = &t.config().raw;
    let Some(key) = key else {
        if as_json {
            return print_json(&json!(props));
        }
        for (k, v) in props {
            println!("{k}={v}");
        }
        return Ok(());
    };
    let value = props.get(key).ok_or_else(|| CliError::Usage {
        arg: "KEY",
        reason: format!("'{key}' is not set in the properties of '{}'", t.location()),
    })?;
    match as_json {
        true => print_json(&json!({ key: value })),
        false => {
            println!("{value}");
            Ok(())
        }
    }
}

async fn update(
    table: &str,
    set: BTreeMap<String, String>,
    unset: &[String],
    a: &ChangeArgs,
) -> Result<(), CliError> {
    let t = Table::open_with_options(table, &a.storage.options()).await?;
    let changes = t
        .update_properties(&set, unset, a.dry_run, &SystemClock)
        .await?;
    for PropertyChange { key, old, new } in &changes {
        if a.json {
            print_json(&json!({"key": key, "old": old, "new": new, "dry_run": a.dry_run}))?;
        } else {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".into());
            println!("{key}: {} -> {}", show(old), show(new));
        }
    }
    if !a.json {
        match a.dry_run {
            true => println!("dry run: nothing written"),
            false => println!("updated {}", t.location()),
        }
    }
    Ok(())
}
