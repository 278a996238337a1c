//! A progress line on the terminal while a run goes: ranks finished, collectives completed,
//! elapsed time. Drawn on stderr, only when stdout is a terminal and the report is text, so
//! piped output and `--json` stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kernbench_host::model::RunProgress;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running progress line; [`finish`](Self::finish) clears it.
#[derive(Debug)]
pub struct ProgressLine {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Whether a progress line belongs on this terminal for this output format.
pub fn wanted(json: bool) -> bool {
    !json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// The spinner every progress line draws on stderr: spinner, elapsed time, message.
pub fn spinner() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} {elapsed} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar
}

impl ProgressLine {
    /// Start drawing `progress` of bench `name`.
    pub fn start(name: &str, progress: Arc<RunProgress>) -> ProgressLine {
        let bar = spinner();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let name = name.to_owned();
        let thread = std::thread::Builder::new()
            .name("kernbench-progress".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    let s = progress.snapshot();
                    bar.set_message(format!(
                        "{name}: {}/{} ranks done, {} collectives",
                        s.finished, s.instances, s.collectives
                    ));
                    bar.tick();
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
            })
            .ok();
        ProgressLine { stop, thread }
    }

    /// Stop and clear the line (before the report is printed).
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
