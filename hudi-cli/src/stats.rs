//! `hudi stats`: write amplification per commit, and base-file size percentiles.

use std::collections::BTreeMap;

use hudi_core::fs_view::FileSystemView;
use hudi_core::Table;
use serde_json::{json, Value};

use crate::commits::emit;
use crate::error::CliError;
use crate::StorageArgs;

/// Statistics over the timeline and the files, as Hudi CLI's `stats` commands compute them.
///
/// Examples:
///   hudi stats wa /data/events                   # records written per record updated
///   hudi stats filesizes /data/events            # base-file size percentiles per commit
///   hudi stats filesizes /data/events --partition country=de --latest --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct StatsArgs {
    #[command(subcommand)]
    pub command: StatsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum StatsCommand {
    /// Write amplification of each completed write: records written / records updated, and
    /// the total (Hudi CLI's `stats wa`).
    Wa(WaArgs),
    /// Base-file sizes per commit that wrote them and over all: min, 10th, 50th, 95th
    /// percentile, max, average, standard deviation (Hudi CLI's `stats filesizes`).
    Filesizes(FilesizesArgs),
}

#[derive(Debug, clap::Args)]
pub struct WaArgs {
    /// Table path or URL.
    pub table: String,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, clap::Args)]
pub struct FilesizesArgs {
    /// Table path or URL.
    pub table: String,
    /// Only this partition.
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Only the latest slice of each file group (default: every committed slice).
    #[arg(long)]
    pub latest: bool,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(a: StatsArgs) -> Result<(), CliError> {
    match a.command {
        StatsCommand::Wa(w) => wa(w).await,
        StatsCommand::Filesizes(f) => filesizes(f).await,
    }
}

fn amplification(written: i64, updated: i64) -> Value {
    match updated {
        0 => Value::Null,
        u => json!(((written as f64 / u as f64) * 100.0).round() / 100.0),
    }
}

async fn wa(a: WaArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let tl = table.timeline();
    let mut rows = Vec::new();
    let (mut all_written, mut all_updated) = (0i64, 0i64);
    for i in tl.completed_writes() {
        let m = tl.commit_metadata(&i.instant).await?;
        let (written, updated) = m.write_stats().fold((0, 0), |(w, u), (_, s)| {
            (w + s.num_writes, u + s.num_update_writes)
        });
        all_written += written;
        all_updated += updated;
        rows.push(json!({
            "instant": i.requested().as_str(), "records_updated": updated,
            "records_written": written, "write_amplification": amplification(written, updated),
        }));
    }
    rows.push(json!({
        "instant": "total", "records_updated": all_updated, "records_written": all_written,
        "write_amplification": amplification(all_written, all_updated),
    }));
    let columns = [
        "instant",
        "records_updated",
        "records_written",
        "write_amplification",
    ];
    emit(&columns, &rows, a.json)
}

/// Sizes summarised as Hudi's CLI does (Dropwizard's uniform snapshot: interpolated quantiles,
/// sample standard deviation).
fn summary(label: &str, sizes: &mut [u64]) -> Value {
    sizes.sort_unstable();
    let n = sizes.len();
    let q = |quantile: f64| -> f64 {
        let pos = quantile * (n as f64 + 1.0);
        if pos < 1.0 {
            return sizes[0] as f64;
        }
        if pos >= n as f64 {
            return sizes[n - 1] as f64;
        }
        let lower = sizes[pos as usize - 1] as f64;
        let upper = sizes[pos as usize] as f64;
        lower + (pos - pos.floor()) * (upper - lower)
    };
    let mean = sizes.iter().sum::<u64>() as f64 / n as f64;
    let std_dev = if n > 1 {
        let var = sizes
            .iter()
            .map(|s| (*s as f64 - mean).powi(2))
            .sum::<f64>()
            / (n as f64 - 1.0);
        var.sqrt()
    } else {
        0.0
    };
    json!({
        "commit": label, "files": n, "min": sizes[0], "p10": q(0.1).round(),
        "p50": q(0.5).round(), "avg": mean.round(), "p95": q(0.95).round(),
        "max": sizes[n - 1], "std_dev": std_dev.round(),
    })
}

async fn filesizes(a: FilesizesArgs) -> Result<(), CliError> {
    let table = Table::open_with_options(&a.table, &a.storage.options()).await?;
    let view = match &a.partition {
        Some(p) => {
            let parts = [p.trim_matches('/').to_string()];
            let v =
                FileSystemView::load_partitions(table.storage(), table.timeline(), None, &parts)
                    .await?;
            if !v.partitions.contains(&parts[0]) {
                return Err(CliError::Usage {
                    arg: "--partition",
                    reason: format!("'{p}' is not a partition of '{}'", table.location()),
                });
            }
            v
        }
        None => table.file_system_view(None).await?,
    };
    let mut by_commit: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for g in view.groups.values() {
        let slices: Vec<_> = match a.latest {
            true => g.slices.values().next_back().into_iter().collect(),
            false => g.slices.values().collect(),
        };
        for b in slices.into_iter().filter_map(|s| s.base_file.as_ref()) {
            by_commit
                .entry(b.name.instant.as_str().to_string())
                .or_default()
                .push(b.size);
        }
    }
    if by_commit.is_empty() {
        if !a.json {
            println!("no base files");
        }
        return Ok(());
    }
    let mut all: Vec<u64> = by_commit.values().flatten().copied().collect();
    let mut rows: Vec<Value> = by_commit
        .iter_mut()
        .map(|(c, sizes)| summary(c, sizes))
        .collect();
    rows.push(summary("ALL", &mut all));
    let columns = [
        "commit", "files", "min", "p10", "p50", "avg", "p95", "max", "std_dev",
    ];
    emit(&columns, &rows, a.json)
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn percentiles_interpolate_as_dropwizard_does() {
        let mut sizes = vec![40, 10, 30, 20];
        let s = summary("c", &mut sizes);
        assert_eq!(s["min"], 10);
        assert_eq!(s["max"], 40);
        // pos = 0.5 * 5 = 2.5: between the 2nd and 3rd value.
        assert_eq!(s["p50"], 25.0);
        // pos = 0.1 * 5 = 0.5 < 1: the smallest; 0.95 * 5 = 4.75 >= 4: the largest.
        assert_eq!(s["p10"], 10.0);
        assert_eq!(s["p95"], 40.0);
        assert_eq!(s["avg"], 25.0);
        // Sample standard deviation: sqrt(500 / 3) = 12.9.
        assert_eq!(s["std_dev"], 13.0);
        let mut one = vec![7];
        assert_eq!(summary("c", &mut one)["std_dev"], 0.0);
    }
}
