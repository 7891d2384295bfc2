//! Progress of long service runs on stderr (hidden when stderr is not a terminal).

use std::sync::Arc;

use hudi_core::services::{Progress, ProgressEvent};
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar and the callback that drives it; `finish` clears it.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> (Bar, Progress) {
        let bar = ProgressBar::hidden();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}") {
            bar.set_style(style.progress_chars("=> "));
        }
        let b = bar.clone();
        let progress: Progress = Arc::new(move |e: ProgressEvent| {
            b.set_message(format!("{}: {}", e.service, e.unit));
            b.set_length(e.total as u64);
            b.set_position(e.done as u64);
        });
        (Bar { bar }, progress)
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// A spinner counting rows (`{verb} N rows, R/s`), on stderr when it is a terminal.
pub fn rows_spinner(verb: &str) -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let template = format!("{{spinner}} {verb} {{human_pos}} rows ({{per_sec}}) {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
