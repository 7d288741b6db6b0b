//! Progress bars on a terminal: an indicatif implementation of [`Progress`].
//!
//! Only built when stderr is a terminal; off a terminal the CLI passes no progress at
//! all, so pipes and CI logs stay quiet. Bars draw on stderr, never on stdout.

use indicatif::{ProgressBar, ProgressStyle};
use schemasync_core::Progress;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Draws one bar (or a spinner when the total is unknown) per unit of work.
#[derive(Default)]
pub(crate) struct TerminalProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl TerminalProgress {
    /// A progress sink when stderr is a terminal, `None` otherwise.
    pub(crate) fn for_stderr() -> Option<Arc<dyn Progress>> {
        if std::io::stderr().is_terminal() {
            Some(Arc::new(TerminalProgress::default()))
        } else {
            None
        }
    }

    fn replace(&self, bar: Option<ProgressBar>) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = std::mem::replace(&mut *slot, bar) {
                old.finish_and_clear();
            }
        }
    }
}

impl Progress for TerminalProgress {
    fn begin(&self, label: &str, total: Option<u64>) {
        let bar = match total {
            Some(total) => {
                let bar = ProgressBar::new(total);
                if let Ok(style) =
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }
            None => {
                // Ticks from indicatif's own thread, so it moves during one long statement.
                let spinner = ProgressBar::new_spinner();
                if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                    spinner.set_style(style);
                }
                spinner.enable_steady_tick(Duration::from_millis(120));
                spinner
            }
        };
        bar.set_message(label.to_string());
        self.replace(Some(bar));
    }

    fn advance(&self, done: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.set_position(done);
            }
        }
    }

    fn finish(&self) {
        self.replace(None);
    }
}
