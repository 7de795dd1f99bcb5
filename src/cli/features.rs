//! `emotrace features FILE`: decode a file, compute its feature frames, print a summary,
//! and optionally write the matrix (`--out frames.csv|.npy`) and a PNG (`--plot`).
//!
//! Without `--plot` or `--repeat` the file streams through a packet at a time
//! ([`features_stream`](super::features_stream)), so its length does not matter; the plot
//! and repeated timing need the whole signal and its frames in memory.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::features_out::{FrameWriter, Output};
use super::features_stream::run_streaming;
use crate::audio::{StreamResampler, decode_file};
use crate::features::plot::plot_png;
use crate::features::{FeatureConfig, extract};

/// Arguments of `emotrace features`.
#[derive(Debug, clap::Args)]
pub struct FeaturesArgs {
    /// Audio file to analyse: WAV, FLAC, MP3 or OGG/Vorbis, any rate, any channel count.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Write the model-input matrix: `.csv` (header row, `time_s` then one column per
    /// feature, one row per frame) or `.npy` (float32, frames x features).
    #[arg(long, value_name = "FRAMES.csv|FRAMES.npy")]
    pub out: Option<PathBuf>,
    /// Draw the log-mel spectrogram and MFCCs into this PNG (holds the whole file).
    #[arg(long, value_name = "PLOT.png")]
    pub plot: Option<PathBuf>,
    /// Feature settings as TOML (any `FeatureConfig` field; the rest keep the speech
    /// defaults: 16 kHz, 25 ms window, 10 ms hop).
    #[arg(long, value_name = "CONFIG.toml")]
    pub config: Option<PathBuf>,
    /// Run the extraction this many times and report the fastest and median time (holds
    /// the whole file; without it the time reported is decoding, extraction and writing).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub repeat: u32,
}

/// The command's settings, checked before any work starts.
#[derive(Debug)]
pub(super) struct Job {
    pub(super) file: PathBuf,
    pub(super) out: Option<Output>,
    plot: Option<PathBuf>,
    pub(super) config: FeatureConfig,
    repeat: u32,
}

impl TryFrom<FeaturesArgs> for Job {
    type Error = anyhow::Error;

    fn try_from(args: FeaturesArgs) -> anyhow::Result<Self> {
        let out = args.out.map(Output::from_path).transpose()?;
        let config = match &args.config {
            None => FeatureConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("{}: not a valid feature config", path.display()))?
            }
        };
        config.validate().with_context(|| "feature config".to_owned())?;
        Ok(Self { file: args.file, out, plot: args.plot, config, repeat: args.repeat })
    }
}

/// Runs the command, printing its report to `out`.
pub fn run(out: &mut impl Write, args: FeaturesArgs) -> anyhow::Result<()> {
    let job = Job::try_from(args)?;
    if job.plot.is_none() && job.repeat == 1 { run_streaming(out, &job) } else { run_whole(out, &job) }
}

/// The features line of the report.
pub(super) fn print_frames(
    out: &mut impl Write,
    cfg: &FeatureConfig,
    n_frames: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "features: {n_frames} frames x {} values (a frame every {} ms, {} ms window, n_fft {}), log-mel {} bands",
        cfg.frame_dim(),
        cfg.hop_ms,
        cfg.win_ms,
        cfg.n_fft,
        cfg.n_mels
    )
}

/// `audio_s` of audio processed in `elapsed_s`, as a multiple of real time.
pub(super) fn real_time(audio_s: f64, elapsed_s: f64) -> String {
    if elapsed_s > 0.0 { format!("{:.0}x real time", audio_s / elapsed_s) } else { "instant".to_owned() }
}

/// The first line of the report: file, duration, rate and channels.
pub(super) fn print_source(
    out: &mut impl Write,
    file: &Path,
    duration_s: f64,
    rate_hz: u32,
    channels: usize,
) -> std::io::Result<()> {
    let channels = if channels == 1 { "1 channel".to_owned() } else { format!("{channels} channels") };
    writeln!(out, "{}: {duration_s:.3} s, {rate_hz} Hz, {channels}", file.display())
}

/// Decodes the whole file, extracts its frames (`--repeat` times, for timing), then writes
/// the matrix and the plot.
fn run_whole(out: &mut impl Write, job: &Job) -> anyhow::Result<()> {
    let cfg = &job.config;
    let audio = decode_file(&job.file)?;
    print_source(out, &job.file, audio.duration_s(), audio.sample_rate_hz, audio.channels)?;
    let samples = if audio.sample_rate_hz == cfg.sample_rate_hz {
        audio.samples
    } else {
        let mut r = StreamResampler::with_rates(audio.sample_rate_hz, cfg.sample_rate_hz)
            .with_context(|| format!("{}: cannot resample", job.file.display()))?;
        let mut y = Vec::new();
        r.process(&audio.samples, |s| y.extend_from_slice(s));
        r.finish(|s| y.extend_from_slice(s));
        writeln!(out, "resampled to {} Hz ({} samples)", cfg.sample_rate_hz, y.len())?;
        y
    };

    let mut times = Vec::with_capacity(job.repeat as usize);
    let mut cpu = Some(Duration::ZERO);
    let mut frames = None;
    for _ in 0..job.repeat {
        let cpu_before = thread_cpu_time();
        let start = Instant::now();
        let f =
            extract(cfg, &samples).with_context(|| format!("{}: feature extraction", job.file.display()))?;
        times.push(start.elapsed());
        cpu = match (cpu, cpu_before, thread_cpu_time()) {
            (Some(total), Some(before), Some(after)) => Some(total + after.saturating_sub(before)),
            _ => None,
        };
        frames = Some(f);
    }
    let frames = frames.context("no extraction ran")?;
    print_frames(out, cfg, frames.n_frames)?;
    let audio_s = samples.len() as f64 / f64::from(cfg.sample_rate_hz);
    report_timing(out, &mut times, audio_s)?;
    if let Some(cpu) = cpu {
        let per_run = cpu.as_secs_f64() / f64::from(job.repeat);
        writeln!(
            out,
            "extraction CPU time: {:.3} ms per run ({:.0}x real time)",
            per_run * 1e3,
            audio_s / per_run
        )?;
    }

    if let Some(output) = &job.out {
        let mut writer = FrameWriter::create(output, cfg)?;
        for i in 0..frames.n_frames {
            writer.write(i, frames.frame(i))?;
        }
        writeln!(out, "{}", writer.finish()?)?;
    }
    if let Some(path) = &job.plot {
        let title = job
            .file
            .file_name()
            .map_or_else(|| job.file.display().to_string(), |n| n.to_string_lossy().into_owned());
        let title = format!(
            "{title}  ({:.2} s at {} Hz)",
            samples.len() as f64 / f64::from(cfg.sample_rate_hz),
            cfg.sample_rate_hz
        );
        plot_png(path, &frames, cfg, &title)?;
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(())
}

/// Prints the extraction time (fastest and median when repeated) and the multiple of real
/// time it represents.
fn report_timing(out: &mut impl Write, times: &mut [Duration], audio_s: f64) -> std::io::Result<()> {
    times.sort();
    let fastest = times[0].as_secs_f64();
    let rt = |t: f64| real_time(audio_s, t);
    if times.len() == 1 {
        writeln!(out, "extraction: {:.3} ms ({})", fastest * 1e3, rt(fastest))
    } else {
        let median = times[times.len() / 2].as_secs_f64();
        writeln!(
            out,
            "extraction: fastest {:.3} ms ({}), median {:.3} ms ({}) over {} runs",
            fastest * 1e3,
            rt(fastest),
            median * 1e3,
            rt(median),
            times.len()
        )
    }
}

/// CPU time this thread has run so far (Linux `/proc/thread-self/schedstat`, nanoseconds):
/// unlike wall-clock time, it leaves out time spent waiting for a busy CPU.
pub(super) fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}
