//! `hudi verify`: a table's integrity check.

use hudi_core::services::verify::{verify, VerifyOptions};
use hudi_core::Table;
use serde_json::json;

use crate::error::CliError;
use crate::output::print_json;
use crate::StorageArgs;

/// Check a table's integrity; change nothing.
///
/// Checks: the hoodie.properties checksum (and no leftover backup); every completed instant's
/// metadata parses (and every pending compaction plan); the latest slice of every live file
/// group, as the commits name it, is on storage; orphan data files (of instants the timeline
/// does not know, or not listed by their commit) are listed, never deleted; marker
/// directories of completed or unknown instants; partition metadata in every directory with
/// data files; each base file's min/max-key footers and Bloom filter agree with its keys; log
/// files walk without corrupt regions and their blocks decode; no record key twice in a
/// partition (--global-keys: in the table); keys an insert wrote twice (Hudi does not
/// deduplicate inserts against the table) are warnings.
///
/// Prints one line per finding and exits 1, or a summary and exits 0 when healthy. Data files
/// of pending instants (a running write, or a failed one the next write rolls back) are
/// counted, not findings.
///
/// Examples:
///   hudi verify /data/events
///   hudi verify s3://bucket/events --json
///   hudi verify /data/events --global-keys     # keys unique across partitions (global index)
///   hudi verify /data/events --skip-keys       # no key reads: quicker on big tables
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    /// Table path or URL.
    pub table: String,
    /// Record keys must be unique across partitions (tables written with a global index).
    #[arg(long)]
    pub global_keys: bool,
    /// Do not read record keys (footers, Bloom filters and duplicates are not checked).
    #[arg(long)]
    pub skip_keys: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: VerifyArgs) -> Result<(), CliError> {
    let table = match Table::open_with_options(&a.table, &a.storage.options()).await {
        Ok(t) => t,
        // A table that fails its own checksum cannot be opened: that is the finding.
        Err(e @ hudi_core::HudiError::ChecksumMismatch { .. }) => {
            let line = format!("properties: .hoodie/hoodie.properties: {e}");
            match a.json {
                true => print_json(&json!({
                    "table": a.table, "healthy": false, "warnings": [],
                    "findings": [{"check": "properties", "subject": ".hoodie/hoodie.properties",
                                  "message": e.to_string()}],
                }))?,
                false => println!("{line}"),
            }
            eprintln!(
                "no other check ran: the table cannot be opened without a valid hoodie.properties"
            );
            return Err(CliError::Unhealthy {
                table: a.table.clone(),
                findings: 1,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let (bar, progress) = crate::progress::Bar::new();
    let opts = VerifyOptions {
        global_keys: a.global_keys,
        skip_keys: a.skip_keys,
        progress: Some(progress),
    };
    let r = verify(&table, opts).await;
    bar.finish();
    let r = r?;
    let summary = format!(
        "{} instants, {} base files, {} log files, {} records checked; {} files of pending instants",
        r.instants,
        r.base_files,
        r.log_files,
        r.records,
        r.pending_files.len()
    );
    if a.json {
        let list = |fs: &[hudi_core::services::verify::Finding]| -> Vec<serde_json::Value> {
            fs.iter()
                .map(|f| json!({"check": f.check.name(), "subject": f.subject, "message": f.message}))
                .collect()
        };
        print_json(&json!({
            "table": table.location(), "healthy": r.is_healthy(), "findings": list(&r.findings),
            "warnings": list(&r.warnings),
            "instants": r.instants, "base_files": r.base_files, "log_files": r.log_files,
            "records": r.records, "pending_files": r.pending_files,
        }))?;
    } else if r.is_healthy() {
        for w in &r.warnings {
            println!("warning: {}: {}: {}", w.check.name(), w.subject, w.message);
        }
        println!("healthy: {summary}");
    } else {
        for w in &r.warnings {
            eprintln!("warning: {}: {}: {}", w.check.name(), w.subject, w.message);
        }
        for f in &r.findings {
            println!("{}: {}: {}", f.check.name(), f.subject, f.message);
        }
        eprintln!("{summary}");
    }
    match r.is_healthy() {
        true => Ok(()),
        false => Err(CliError::Unhealthy {
            table: table.location().to_string(),
            findings: r.findings.len(),
        }),
    }
}
