//! `hudi`: inspect, read, write and maintain Apache Hudi tables.

mod archive;
mod clean;
mod compaction;
mod error;
mod metadata;
mod output;
mod progress;
mod read;
mod rollback;
mod savepoint;
mod show;
mod timeline;
mod write;

use std::collections::HashMap;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use error::CliError;

/// Inspect and read Apache Hudi tables (table versions 6, 8 and 9) on local disks and object
/// stores (s3://, gs://, az://).
#[derive(Debug, Parser)]
#[command(name = "hudi", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a table (table version 6).
    Create(write::CreateArgs),
    /// Write rows from Parquet, Arrow IPC, CSV or JSON-lines files (upsert, insert, ...).
    Write(write::WriteArgs),
    /// Read a table's rows (snapshot, read-optimized, incremental or time travel).
    Read(read::ReadArgs),
    /// Show a table's configuration and size.
    Show(show::ShowArgs),
    /// List the instants of a table's active timeline (--archived: the archived one).
    Timeline(timeline::TimelineArgs),
    /// The metadata table: `delete` turns it off.
    Metadata(metadata::MetadataArgs),
    /// Compaction of merge-on-read tables: schedule, run, show.
    Compaction(compaction::CompactionArgs),
    /// Delete file slices no retained commit, savepoint or pending compaction needs.
    Clean(clean::CleanArgs),
    /// Roll back failed writes, or (--instant) the latest completed instant.
    Rollback(rollback::RollbackArgs),
    /// Savepoints: create, list, delete, and restore the table to one.
    Savepoint(savepoint::SavepointArgs),
    /// Move the oldest instants to the archived timeline.
    Archive(archive::ArchiveArgs),
}

/// Storage options shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct StorageArgs {
    /// Storage option `key=value` (e.g. `aws_region=eu-west-1`); overrides the environment.
    #[arg(long = "storage-option", value_name = "KEY=VALUE", value_parser = parse_kv)]
    pub storage_options: Vec<(String, String)>,
}

impl StorageArgs {
    pub fn options(&self) -> HashMap<String, String> {
        self.storage_options.iter().cloned().collect()
    }
}

pub(crate) fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got '{s}'"))
}

/// An instant time given on the command line.
pub(crate) fn parse_instant(
    arg: &'static str,
    s: &str,
) -> Result<hudi_core::InstantTime, CliError> {
    s.parse()
        .map_err(|e: hudi_core::HudiError| CliError::Usage {
            arg,
            reason: e.to_string(),
        })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Warnings (skipped corrupt log blocks, unparsable file names) go to stderr; RUST_LOG
    // raises or lowers the level.
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Warn)
        .parse_default_env()
        .format_timestamp(None)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), CliError> = rt.block_on(async {
        match cli.command {
            Command::Create(a) => write::create(a).await,
            Command::Write(a) => write::write(a).await,
            Command::Read(a) => read::run(a).await,
            Command::Show(a) => show::run(a).await,
            Command::Timeline(a) => timeline::run(a).await,
            Command::Metadata(a) => metadata::run(a).await,
            Command::Compaction(a) => compaction::run(a).await,
            Command::Clean(a) => clean::run(a).await,
            Command::Rollback(a) => rollback::run(a).await,
            Command::Savepoint(a) => savepoint::run(a).await,
            Command::Archive(a) => archive::run(a).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
