//! `hudi fsview`: the file-system view: file groups, their slices, base and log files.

use hudi_core::fs_view::{FileGroupId, FileSlice, FileSystemView};
use hudi_core::Table;
use serde_json::{json, Value};

use crate::commits::emit;
use crate::error::CliError;
use crate::StorageArgs;

/// File groups and their slices: base and log files, sizes, pending compactions.
///
/// The file groups a query would read, slice by slice: base file and size, log files and
/// their sizes (split by whether a pending compaction covers them), pending compactions.
///
/// Examples:
///   hudi fsview /data/events                       # every slice of every file group
///   hudi fsview /data/events --latest              # the latest slice of each group
///   hudi fsview /data/events --partition country=de --json
///   hudi fsview /data/events --as-of 20261201153000123
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct FsviewArgs {
    /// Table path or URL.
    pub table: String,
    /// Only this partition (relative path, as in the table: `country=de`, `2026/12/01`).
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Only the latest slice of each file group.
    #[arg(long)]
    pub latest: bool,
    /// The view as of this instant (or ISO-8601 time).
    #[arg(long, value_name = "T")]
    pub as_of: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

const COLUMNS: &[&str] = &[
    "partition",
    "file_id",
    "base_instant",
    "base_size",
    "log_files",
    "log_size",
    "log_size_scheduled",
    "log_size_unscheduled",
    "pending_compaction",
    "base_file",
];

pub async fn run(a: FsviewArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let as_of = a
        .as_of
        .as_deref()
        .map(|t| crate::parse_time("--as-of", t))
        .transpose()?;
    let view = match &a.partition {
        Some(p) => {
            let parts = [p.trim_matches('/').to_string()];
            let v = FileSystemView::load_partitions(
                table.storage(),
                table.timeline(),
                as_of.as_ref(),
                &parts,
            )
            .await?;
            if !v.partitions.contains(&parts[0]) {
                return Err(CliError::Usage {
                    arg: "--partition",
                    reason: format!("'{p}' is not a partition of '{}'", table.location()),
                });
            }
            v
        }
        None => table.file_system_view(as_of.as_ref()).await?,
    };
    let mut rows = Vec::new();
    for (id, g) in &view.groups {
        let slices: Vec<&FileSlice> = match a.latest {
            true => g.slices.values().next_back().into_iter().collect(),
            false => g.slices.values().collect(),
        };
        for s in slices {
            rows.push(slice_row(&view, id, s));
        }
    }
    if rows.is_empty() && !a.json {
        println!("no file groups");
        return Ok(());
    }
    emit(COLUMNS, &rows, a.json)?;
    if !a.json && !view.replaced.is_empty() {
        println!(
            "({} file groups replaced by replace commits are not shown)",
            view.replaced.len()
        );
    }
    Ok(())
}

fn slice_row(view: &FileSystemView, id: &FileGroupId, s: &FileSlice) -> Value {
    // A pending compaction covers the log files its plan names, for the slice it was planned on.
    let pending = view
        .pending_compactions
        .get(id)
        .filter(|p| p.operation.base_instant_time.as_deref() == Some(s.base_instant.as_str()));
    let scheduled = |name: &str| {
        pending.is_some_and(|p| {
            p.operation
                .delta_file_paths
                .iter()
                .any(|d| d.rsplit('/').next() == Some(name))
        })
    };
    let (mut on, mut off) = (0u64, 0u64);
    for l in &s.log_files {
        match scheduled(&l.name.to_string()) {
            true => on += l.size,
            false => off += l.size,
        }
    }
    json!({
        "partition": s.partition,
        "file_id": s.file_id,
        "base_instant": s.base_instant.as_str(),
        "base_file": s.base_file.as_ref().map(|b| b.name.to_string()),
        "base_size": s.base_file.as_ref().map(|b| b.size),
        "log_files": s.log_files.len(),
        "log_size": on + off,
        "log_size_scheduled": on,
        "log_size_unscheduled": off,
        "log_file_names": s.log_files.iter().map(|l| l.name.to_string()).collect::<Vec<_>>(),
        "pending_compaction": view
            .pending_compactions
            .get(id)
            .map(|p| p.instant.as_str().to_string()),
    })
}
