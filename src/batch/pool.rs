//! A worker per core scoring files, results handed back in the order of the file list.
//!
//! Each worker loads its own copy of the model and runs libtorch on one thread (a single
//! recording's matrices are too small to gain from more, and the cores are the
//! workers'). Workers take the next file from a shared counter; the calling thread
//! receives results as they finish and hands each on (to be written) as soon as it and
//! every earlier one are in, so the output's order never depends on timing. A file that
//! fails is a report like any other; a worker that panics on a file reports that file
//! and goes on.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::{FileReport, ScoreError, ScoreOptions, score_file};
use crate::model::{EmotionModel, ModelError};

/// How many workers and how to score.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// What to compute for each file.
    pub score: ScoreOptions,
}

/// Scores `files` on `options.jobs` workers, each with the model `load` gives, and calls
/// `on_report` with each file's report in list order (`index` = position in `files`) as
/// soon as it and all earlier ones are done. If `on_report` fails (e.g. the output disk
/// is full) workers take no new files and its error is returned.
pub fn score_in_order<E>(
    files: &[PathBuf],
    options: &PoolOptions,
    load: &(dyn Fn() -> Result<EmotionModel, ModelError> + Sync),
    mut on_report: impl FnMut(FileReport) -> Result<(), E>,
) -> Result<(), E> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = crossbeam_channel::bounded::<FileReport>(256);
    std::thread::scope(|scope| {
        for worker in 0..options.jobs.clamp(1, files.len().max(1)) {
            let tx = tx.clone();
            let (next, stop) = (&next, &stop);
            let spawned = std::thread::Builder::new()
                .name(format!("emotrace-score-{worker}"))
                .spawn_scoped(scope, move || work(files, &options.score, load, next, stop, &tx));
            if let Err(e) = spawned {
                // NOTE: with no worker at all the files are reported failed below.
                eprintln!("emotrace: cannot start scoring worker {worker}: {e}");
            }
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut expected = 0;
        let mut failure = None;
        for report in &rx {
            pending.insert(report.index, report);
            while let Some(report) = pending.remove(&expected) {
                expected += 1;
                if failure.is_none()
                    && let Err(e) = on_report(report)
                {
                    stop.store(true, Ordering::Relaxed);
                    failure = Some(e);
                }
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        // Files no worker finished (none could start, or one died) are reported, never
        // dropped.
        for (index, path) in files.iter().enumerate().skip(expected) {
            let report = pending.remove(&index).unwrap_or_else(|| FileReport {
                index,
                path: path.clone(),
                outcome: Err(ScoreError::Worker("no scoring worker took this file".into())),
            });
            on_report(report)?;
        }
        Ok(())
    })
}

/// One worker: loads the model, then scores files until none are left.
fn work(
    files: &[PathBuf],
    options: &ScoreOptions,
    load: &(dyn Fn() -> Result<EmotionModel, ModelError> + Sync),
    next: &AtomicUsize,
    stop: &AtomicBool,
    tx: &crossbeam_channel::Sender<FileReport>,
) {
    crate::engine::prepare_worker_thread();
    let model = load();
    while !stop.load(Ordering::Relaxed) {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(path) = files.get(index) else { return };
        let outcome = match &model {
            Ok(model) => std::panic::catch_unwind(AssertUnwindSafe(|| score_file(model, path, options)))
                .unwrap_or_else(|panic| Err(ScoreError::Worker(panic_message(&*panic)))),
            Err(e) => Err(ScoreError::Worker(format!("cannot load the model: {e}"))),
        };
        if tx.send(FileReport { index, path: path.clone(), outcome }).is_err() {
            return;
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned());
    format!("panicked: {}", text.unwrap_or_else(|| "no message".into()))
}
