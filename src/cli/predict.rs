//! `emotrace predict FILE|DIR`: the emotion of each recording with all probabilities, and
//! with `--timeline` the probabilities every 0.5 s through it.
//!
//! A folder is scored on every core (`--jobs`), results written a file at a time in the
//! folder's sorted order, with a progress bar when stderr is a terminal. `--out FILE
//! --resume` continues an interrupted run. A file that cannot be scored is a line in the
//! output and on stderr, and the run goes on. Recordings longer than `--stream-over`
//! minutes are streamed (bounded memory) instead of held whole.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use super::resolve_model;
use crate::batch::output::csv_header;
use crate::batch::resume::read_output;
use crate::batch::{
    DEFAULT_STREAM_OVER_S, FileReport, OutputFormat, PoolOptions, ResultWriter, ScoreOptions, score_in_order,
};
use crate::data::corpus::audio_files;
use crate::model::calibration::load_calibrated;
use crate::model::{ComputeDevice, DeviceChoice, EmotionModel};

/// Flags of `emotrace predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// An audio file (wav, flac, mp3, ogg) or a folder searched recursively for them.
    #[arg(value_name = "FILE|DIR")]
    pub input: PathBuf,
    /// Model card, weights or stem (default: the default model).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Output format (`--resume` reads csv and jsonl).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Also give the probabilities every `--interval` seconds through each file.
    #[arg(long)]
    pub timeline: bool,
    /// Spacing of timeline points.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5)]
    pub interval: f64,
    /// Write the results to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Continue an interrupted run: skip the files already in `--out`, append the rest.
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Files scored at once, each on its own core (default: every core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// A calibration file (`emotrace calibrate`) of the voice in these files: a
    /// speaker-normalised model reads them against that calm reading.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Stream recordings longer than this instead of holding them whole, in minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = DEFAULT_STREAM_OVER_S / 60.0)]
    pub stream_over: f64,
}

/// Workers to use: `--jobs`, else one per core.
pub fn default_jobs(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)).max(1)
}

/// Runs `emotrace predict`.
pub fn run(out: &mut impl Write, args: &PredictArgs, device: DeviceChoice) -> anyhow::Result<()> {
    if !(args.interval > 0.0 && args.interval.is_finite()) {
        bail!("--interval {}: must be a positive number of seconds", args.interval);
    }
    if !(args.stream_over >= 0.0 && args.stream_over.is_finite()) {
        bail!("--stream-over {}: must be a number of minutes, 0 or more", args.stream_over);
    }
    if args.resume && !args.format.resumable() {
        bail!("--resume needs --format csv or jsonl (a {:?} output cannot be read back)", args.format);
    }
    let single = !args.input.is_dir();
    let files = if !single {
        audio_files(&args.input)?
    } else if args.input.exists() {
        vec![args.input.clone()]
    } else {
        bail!("{}: no such file or folder", args.input.display());
    };
    if files.is_empty() {
        bail!("{}: no audio files (wav, flac, mp3, ogg) found", args.input.display());
    }
    let compute = ComputeDevice::resolve(device)?;
    let model_path = resolve_model(args.model.as_deref())?;
    // Loaded here once so a bad model is one error line before any work starts; each
    // worker loads its own copy.
    let calibration = args.calibration.as_deref();
    load_calibrated(&model_path, calibration, compute)
        .with_context(|| format!("loading model {}", model_path.display()))?;
    let load = || load_calibrated(&model_path, calibration, compute);
    let options = PoolOptions {
        jobs: default_jobs(args.jobs),
        score: ScoreOptions {
            timeline_interval_s: args.timeline.then_some(args.interval),
            stream_over_s: args.stream_over * 60.0,
        },
    };
    let Some(out_path) = &args.out else {
        let writer = ResultWriter::new(out, args.format, args.timeline, true)?;
        return score_and_write(&files, &options, &load, writer, single).map(drop);
    };
    let (todo, writer) = open_output(out_path, args, &files)?;
    score_and_write(&todo, &options, &load, writer, single)
        .with_context(|| format!("writing {}", out_path.display()))
        .map(drop)
}

/// Opens `--out` (fresh, or resumed: what it holds is kept and skipped) and says which
/// files are left to score.
fn open_output(
    path: &Path,
    args: &PredictArgs,
    files: &[PathBuf],
) -> anyhow::Result<(Vec<PathBuf>, ResultWriter<std::fs::File>)> {
    let cannot = |what: &str| format!("cannot {what} {}", path.display());
    if !args.resume && std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        bail!("{} exists: pass --resume to continue it, or remove it", path.display());
    }
    let resumed = if args.resume {
        read_output(path, args.format, args.timeline, &csv_header(args.timeline))?
    } else {
        Default::default()
    };
    let file =
        std::fs::OpenOptions::new().create(true).append(true).open(path).with_context(|| cannot("open"))?;
    // Drops a cut-off last line (or a possibly incomplete last file) left by the
    // interrupted run; its file is scored again.
    file.set_len(resumed.keep_bytes).with_context(|| cannot("truncate"))?;
    let todo: Vec<PathBuf> =
        files.iter().filter(|f| !resumed.done.contains(&f.display().to_string())).cloned().collect();
    if args.resume {
        eprintln!(
            "emotrace: resuming {}: {} of {} files already there, {} to score",
            path.display(),
            files.len() - todo.len(),
            files.len(),
            todo.len()
        );
    }
    let header = resumed.keep_bytes == 0 || (args.format == OutputFormat::Csv && !resumed.has_header);
    Ok((todo, ResultWriter::new(file, args.format, args.timeline, header)?))
}

/// Scores `files` and writes each result as it comes; reports failures on stderr as they
/// happen (a single file's error is the command's error instead).
fn score_and_write<W: Write>(
    files: &[PathBuf],
    options: &PoolOptions,
    load: &(dyn Fn() -> Result<EmotionModel, crate::model::ModelError> + Sync),
    mut writer: ResultWriter<W>,
    single: bool,
) -> anyhow::Result<W> {
    let bar = progress_bar(files.len());
    let (mut failed, mut first_error, mut audio_s) = (0usize, None, 0.0);
    score_in_order(files, options, load, |report: FileReport| -> anyhow::Result<()> {
        audio_s += report.audio_s();
        if let Err(e) = &report.outcome {
            failed += 1;
            let line = error_line(&report.path, e);
            if single {
                first_error.get_or_insert(line);
            } else {
                bar.suspend(|| eprintln!("emotrace: {line}"));
            }
        }
        writer.write(&report)?;
        bar.set_message(format!("{:.2} h audio", audio_s / 3_600.0));
        bar.inc(1);
        Ok(())
    })?;
    bar.finish_and_clear();
    let sink = writer.finish()?;
    if let Some(line) = first_error {
        bail!("{line}");
    }
    if failed > 0 {
        bail!("{failed} of {} files could not be scored (reasons above and in the output)", files.len());
    }
    Ok(sink)
}

/// `file: reason`, without naming the file twice when the reason already does.
fn error_line(path: &Path, error: &crate::batch::ScoreError) -> String {
    let reason = error.to_string();
    let name = path.display().to_string();
    if reason.contains(&name) { reason } else { format!("{name}: {reason}") }
}

/// Files, audio hours and time left, on stderr when it is a terminal.
fn progress_bar(files: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() || files < 2 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(files as u64);
    bar.set_style(
        ProgressStyle::with_template("[{bar:30}] {pos}/{len} files, {msg}, {elapsed} (ETA {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("0.00 h audio");
    bar
}
