//! `emotrace bench --predict DIR`: how fast `predict DIR` scores a folder of recordings
//! with one worker and with a worker per core, run after each other in one run (the
//! order alternating between rounds), as files per second and multiples of real time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;

use crate::batch::{DEFAULT_STREAM_OVER_S, PoolOptions, ScoreOptions, score_in_order};
use crate::data::corpus::audio_files;
use crate::model::{ComputeDevice, EmotionModel};

/// One timed pass over the folder.
#[derive(Debug, Clone, Copy)]
struct Pass {
    jobs: usize,
    files: usize,
    failed: usize,
    audio_s: f64,
    wall_s: f64,
}

/// Scores every file of `dir` with 1 worker and with `jobs` workers, `rounds` times each,
/// and prints the table.
pub fn predict_throughput(
    out: &mut impl Write,
    dir: &Path,
    model_path: &Path,
    compute: ComputeDevice,
    jobs: usize,
    rounds: usize,
) -> anyhow::Result<()> {
    let files = audio_files(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    if files.is_empty() {
        anyhow::bail!("{}: no audio files", dir.display());
    }
    EmotionModel::load(model_path, compute)
        .with_context(|| format!("cannot load model {}", model_path.display()))?;
    writeln!(
        out,
        "emotrace bench --predict: {} files in {}, model {}; load average at start {}",
        files.len(),
        dir.display(),
        model_path.display(),
        load_average()
    )?;
    writeln!(
        out,
        "{:>7} {:>6} {:>7} {:>8} {:>9} {:>8} {:>10} {:>8}",
        "round", "jobs", "files", "failed", "audio, h", "wall, s", "files/s", "x real"
    )?;
    let mut passes = Vec::new();
    for round in 0..rounds.max(1) {
        let order = if round % 2 == 0 { [1, jobs] } else { [jobs, 1] };
        for j in order {
            let pass = timed_pass(&files, model_path, compute, j)?;
            writeln!(
                out,
                "{:>7} {:>6} {:>7} {:>8} {:>9.3} {:>8.2} {:>10.1} {:>8.0}",
                round + 1,
                pass.jobs,
                pass.files,
                pass.failed,
                pass.audio_s / 3_600.0,
                pass.wall_s,
                pass.files as f64 / pass.wall_s,
                pass.audio_s / pass.wall_s
            )?;
            out.flush()?;
            passes.push(pass);
        }
    }
    let total = |j: usize| passes.iter().filter(|p| p.jobs == j).map(|p| p.wall_s).sum::<f64>();
    writeln!(
        out,
        "{jobs} workers vs 1: {:.2}x the files per second (total wall time over {} rounds); load average at end {}",
        total(1) / total(jobs),
        rounds.max(1),
        load_average()
    )?;
    Ok(())
}

fn timed_pass(
    files: &[PathBuf],
    model_path: &Path,
    compute: ComputeDevice,
    jobs: usize,
) -> anyhow::Result<Pass> {
    let options = PoolOptions {
        jobs,
        score: ScoreOptions { timeline_interval_s: None, stream_over_s: DEFAULT_STREAM_OVER_S },
    };
    let load = || EmotionModel::load(model_path, compute);
    let mut pass = Pass { jobs, files: 0, failed: 0, audio_s: 0.0, wall_s: 0.0 };
    let start = Instant::now();
    score_in_order(files, &options, &load, |report| -> anyhow::Result<()> {
        pass.files += 1;
        pass.failed += usize::from(report.outcome.is_err());
        pass.audio_s += report.audio_s();
        Ok(())
    })?;
    pass.wall_s = start.elapsed().as_secs_f64();
    Ok(pass)
}

/// The 1-minute load average, or "n/a".
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "n/a".into())
}
