//! `hudi`: inspect, read, write and maintain Apache Hudi tables.

mod archive;
mod bad_records;
mod checkpoint;
mod clean;
mod commits;
mod compaction;
mod config;
mod demo;
mod error;
mod fsview;
mod logfile;
mod metadata;
mod output;
mod progress;
mod read;
mod repair;
mod rollback;
mod savepoint;
mod schema;
mod show;
mod stats;
mod sync;
mod timeline;
mod verify;
mod write;

use std::collections::HashMap;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Demo(demo::DemoArgs),
    Create(write::CreateArgs),
    Write(write::WriteArgs),
    Read(read::ReadArgs),
    Show(show::ShowArgs),
    Timeline(timeline::TimelineArgs),
    Commits(commits::CommitsArgs),
    Fsview(fsview::FsviewArgs),
    Log(logfile::LogArgs),
    Schema(schema::SchemaArgs),
    Stats(stats::StatsArgs),
    Config(config::ConfigArgs),
    Verify(verify::VerifyArgs),
    Repair(repair::RepairArgs),
    Checkpoint(checkpoint::CheckpointArgs),
    Sync(sync::SyncArgs),
    Metadata(metadata::MetadataArgs),
    Compaction(compaction::CompactionArgs),
    Clean(clean::CleanArgs),
    Rollback(rollback::RollbackArgs),
    Savepoint(savepoint::SavepointArgs),
    Archive(archive::ArchiveArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// Examples:
    ///   hudi completions bash > ~/.local/share/bash-completion/completions/hudi
    ///   hudi completions zsh > "${fpath[1]}/_hudi"
    ///   hudi completions fish > ~/.config/fish/completions/hudi.fish
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
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

/// A point in a table's history given on the command line (see
/// [`hudi_core::InstantTime::parse_point`]).
pub(crate) fn parse_time(arg: &'static str, s: &str) -> Result<hudi_core::InstantTime, CliError> {
    hudi_core::InstantTime::parse_point(s).map_err(|e| CliError::Usage {
        arg,
        reason: match e {
            hudi_core::HudiError::InvalidInstantTime { value, reason } => {
                format!("'{value}': {reason}")
            }
            e => e.to_string(),
        },
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
            Command::Demo(a) => demo::run(a).await,
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
            Command::Commits(a) => commits::run(a).await,
            Command::Fsview(a) => fsview::run(a).await,
            Command::Log(a) => logfile::run(a).await,
            Command::Schema(a) => schema::run(a).await,
            Command::Stats(a) => stats::run(a).await,
            Command::Config(a) => config::run(a).await,
            Command::Verify(a) => verify::run(a).await,
            Command::Repair(a) => repair::run(a).await,
            Command::Checkpoint(a) => checkpoint::run(a).await,
            Command::Sync(a) => sync::run(a).await,
            Command::Completions { shell } => {
                use clap::CommandFactory;
                let mut out = std::io::stdout().lock();
                clap_complete::generate(shell, &mut Cli::command(), "hudi", &mut out);
                Ok(())
            }
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

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_instants_zeros_or_iso_dates() {
        let p = |s: &str| parse_time("--as-of", s).map(|t| t.as_str().to_string());
        assert_eq!(p("20261201153000123").unwrap(), "20261201153000123");
        assert_eq!(p("20261201153000").unwrap(), "20261201153000");
        for zero in ["0", "000", "00000000000000"] {
            assert_eq!(p(zero).unwrap(), "00000000000000000");
        }
        assert_eq!(p("2026-12-01").unwrap(), "20261201000000000");
        assert_eq!(p("2026-12-01 15:30:00").unwrap(), "20261201153000000");
        assert_eq!(p("2026-12-01T15:30:00.25").unwrap(), "20261201153000250");
        assert_eq!(p("2026-12-01T15:30:00+01:00").unwrap(), "20261201143000000");
        assert_eq!(p("2026-12-01T15:30:00.5Z").unwrap(), "20261201153000500");
        for bad in ["yesterday", "2026-13-01", "12345", ""] {
            let e = p(bad).unwrap_err().to_string();
            assert!(e.contains("--as-of"), "{bad}: {e}");
        }
    }
}
