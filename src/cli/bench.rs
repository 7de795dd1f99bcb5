//! `emotrace bench`: how fast the engine is, as a table. Not a test: numbers depend on
//! the machine and its load; run it on a quiet machine.
//!
//! 1. Worker cost per hop, split into resampling / features / model / the rest, on one
//!    thread, with the audio at a typical device rate (48 kHz) in 10 ms periods.
//! 2. Fast replay of a file through the threaded engine, in multiples of real time.
//! 3. A live session fed by a simulated sound card at real-time pace: end-to-end latency
//!    from a sample entering the ring to its snapshot leaving the channel (median, p95),
//!    and the worker thread's CPU share.
//!
//! `--soak SECONDS` runs a soak instead: that much audio through the live engine as fast
//! as it goes, with the process's resident memory printed every few minutes of audio.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::audio::decode::load_mono_16k;
use crate::audio::resample::StreamResampler;
use crate::engine::load_model;
use crate::engine::measure::{cost_split, fast_replay, quantile, realtime_run};
use crate::engine::recorder::{RecordOptions, SessionWav, TraceFormat};
use crate::engine::soak::{SoakPlan, soak};
use crate::engine::{EngineConfig, FrameClassifier};
use crate::features::FeatureConfig;
use crate::model::lookup::default_model;
use crate::model::{ComputeDevice, DeviceChoice, EmotionModel};

use super::bench_model::{LibtorchClassifier, compare_steps, print_comparison};
use super::bench_predict::predict_throughput;

/// Flags of `emotrace bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Model card to time (default: the default model).
    #[arg(long, value_name = "MODEL_JSON")]
    pub model: Option<PathBuf>,
    /// Time everything but the model.
    #[arg(long, conflicts_with = "model")]
    pub no_model: bool,
    /// Speech to feed, looped with pauses (default: tests/data/speech_16k.flac).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Sample rate of the simulated input device, in Hz.
    #[arg(long, value_name = "HZ", default_value_t = 48_000)]
    pub device_rate: u32,
    /// Period (callback block) of the simulated device, in ms.
    #[arg(long, value_name = "MS", default_value_t = 10)]
    pub period_ms: u32,
    /// Audio for the cost split and the fast replay, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0)]
    pub audio_s: f64,
    /// Length of the real-time session, in seconds (0 skips it).
    #[arg(long, value_name = "SECONDS", default_value_t = 20.0)]
    pub realtime_s: f64,
    /// Only the cost split (for allocation counting under valgrind).
    #[arg(long)]
    pub cost_only: bool,
    /// Which model step the engine runs in sections 1-3: the fused step (what the
    /// monitor runs) or the former libtorch step, member after member.
    #[arg(long, value_enum, default_value_t = StepPath::Fused)]
    pub step: StepPath,
    /// Instead of the engine: score every file of this folder with `predict`'s workers,
    /// once with 1 worker and once with `--jobs` (default: every core), and print files
    /// per second and multiples of real time.
    #[arg(long, value_name = "DIR")]
    pub predict: Option<PathBuf>,
    /// With `--predict`: workers of the parallel pass.
    #[arg(long, value_name = "N", requires = "predict")]
    pub jobs: Option<usize>,
    /// With `--predict`: how many times to run the pair of passes (their order alternates).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "predict")]
    pub rounds: usize,
    /// Blocks of 500 frames each step path is timed on in section 0 (0 skips it).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub step_rounds: usize,
    /// Soak instead: this much audio (the speech looped) through the live engine as fast
    /// as it goes, printing resident memory along the way, in seconds (e.g. 3600).
    #[arg(long, value_name = "SECONDS")]
    pub soak: Option<f64>,
    /// With `--soak`: print a memory sample every this many minutes of audio.
    #[arg(long, value_name = "MINUTES", default_value_t = 5.0, requires = "soak")]
    pub soak_every_min: f64,
    /// With `--soak`: also record the session into this folder (it must not exist yet).
    #[arg(long, value_name = "DIR", requires = "soak")]
    pub soak_record: Option<PathBuf>,
}

/// The model step to time in the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StepPath {
    /// Every member at once in Rust (the live path).
    Fused,
    /// Each member after the other in libtorch (the former path).
    Libtorch,
}

/// A loaded model for timing: its features, a classifier maker, a label.
pub type ModelForBench =
    (FeatureConfig, Box<dyn Fn() -> anyhow::Result<Option<Box<dyn FrameClassifier>>>>, String);

/// Runs the benchmark and prints its table.
pub fn run(out: &mut impl Write, args: &BenchArgs, device: DeviceChoice) -> anyhow::Result<()> {
    if let Some(dir) = &args.predict {
        let path = model_path(args)?.context("--predict needs a model")?;
        let jobs = super::predict::default_jobs(args.jobs);
        return predict_throughput(out, dir, &path, ComputeDevice::resolve(device)?, jobs, args.rounds);
    }
    let (features, classifier, label) = model_for_bench(args, device)?;
    let config = EngineConfig { snapshot_capacity: 4_096, ..EngineConfig::default() };
    let clip_path = args
        .file
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac"));
    let clip = load_mono_16k(&clip_path).with_context(|| format!("cannot read {}", clip_path.display()))?;
    if let Some(soak_s) = args.soak {
        return soak_table(
            out,
            args,
            soak_s,
            &looped(&clip, 60.0),
            &features,
            &config,
            classifier()?,
            &label,
        );
    }
    let speech = looped(&clip, args.audio_s);
    let wide = resample(&speech, args.device_rate)?;
    let period = (args.device_rate * args.period_ms / 1_000) as usize;
    writeln!(out, "emotrace bench: model {label}; speech from {}", clip_path.display())?;
    writeln!(out, "libtorch threads: {}", tch::get_num_threads())?;
    if let Some(path) = model_path(args)?.filter(|_| args.step_rounds > 0) {
        let model = EmotionModel::load(&path, ComputeDevice::resolve(device)?)
            .with_context(|| format!("cannot load model {}", path.display()))?;
        let comparison = compare_steps(&model, &speech, args.step_rounds)?;
        print_comparison(out, &comparison)?;
    }

    let cost = cost_split(&wide, args.device_rate, period, &features, &config, classifier()?)?;
    let hops = cost.stages.hops.max(1) as f64;
    let us = |ns: u64| ns as f64 / hops / 1_000.0;
    let total_ns =
        cost.stages.resample_ns + cost.stages.features_ns + cost.stages.model_ns + cost.stages.other_ns;
    let hop_ms = features.hop_s() * 1_000.0;
    writeln!(
        out,
        "\n1. worker cost per {hop_ms:.0} ms hop ({} Hz input in {} ms periods, one thread)",
        args.device_rate, args.period_ms
    )?;
    writeln!(out, "   {:<22} {:>10}", "stage", "us/hop")?;
    for (name, ns) in [
        ("resample to 16 kHz", cost.stages.resample_ns),
        ("features", cost.stages.features_ns),
        ("model step", cost.stages.model_ns),
        ("gate, smoothing, send", cost.stages.other_ns),
        ("total", total_ns),
    ] {
        writeln!(out, "   {name:<22} {:>10.1}", us(ns))?;
    }
    writeln!(
        out,
        "   = {:.2} % of one core in real time; {:.0}x real time on one thread ({:.1} s of audio in {:.2} s)",
        us(total_ns) / 10.0 / hop_ms,
        cost.audio_s / cost.wall_s,
        cost.audio_s,
        cost.wall_s
    )?;
    if args.cost_only {
        return Ok(());
    }

    let wav_path = std::env::temp_dir().join(format!("emotrace-bench-{}.wav", std::process::id()));
    let replay = write_wav(&wav_path, &speech).and_then(|()| {
        fast_replay(&wav_path, &features, &config, classifier()?).map_err(anyhow::Error::from)
    });
    let _ = std::fs::remove_file(&wav_path);
    let (audio_s, wall_s, replay_hops) = replay?;
    writeln!(out, "\n2. fast replay of a 16 kHz WAV through the threaded engine")?;
    writeln!(
        out,
        "   {audio_s:.1} s of audio, {replay_hops} hops in {wall_s:.2} s = {:.0}x real time",
        audio_s / wall_s
    )?;

    if args.realtime_s > 0.0 {
        let live = &wide[..wide.len().min((args.realtime_s * f64::from(args.device_rate)) as usize)];
        let run = realtime_run(live, args.device_rate, period, &features, &config, classifier()?)?;
        writeln!(
            out,
            "\n3. live session, simulated {} Hz device, {} ms periods, {:.0} s",
            args.device_rate, args.period_ms, run.audio_s
        )?;
        writeln!(out, "   {:<44} {:>8} {:>8} {:>8}", "latency, ms", "median", "p95", "max")?;
        for (name, v) in [
            ("ring -> snapshot received (measured outside)", &run.latency_ms),
            ("ring -> snapshot sent (carried in snapshot)", &run.reported_ms),
        ] {
            writeln!(
                out,
                "   {name:<44} {:>8.2} {:>8.2} {:>8.2}",
                quantile(v, 0.5),
                quantile(v, 0.95),
                quantile(v, 1.0)
            )?;
        }
        writeln!(
            out,
            "   hops measured: {}; dropped samples: {}",
            run.latency_ms.len(),
            run.dropped_samples
        )?;
        writeln!(
            out,
            "   plus analysis look-ahead (frame centre -> its last sample): {:.1} ms",
            run.lookahead_ms
        )?;
        match run.worker_cpu_s {
            Some(cpu) => writeln!(
                out,
                "   worker thread CPU: {cpu:.2} s over {:.0} s = {:.1} % of one core",
                run.audio_s,
                100.0 * cpu / run.audio_s
            )?,
            None => writeln!(out, "   worker thread CPU: not available (no /proc)")?,
        }
    }
    Ok(())
}

/// `--soak`: the memory table.
#[allow(clippy::too_many_arguments)]
fn soak_table(
    out: &mut impl Write,
    args: &BenchArgs,
    soak_s: f64,
    minute: &[f32],
    features: &FeatureConfig,
    config: &EngineConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
    label: &str,
) -> anyhow::Result<()> {
    let clip = resample(minute, args.device_rate)?;
    let plan = SoakPlan {
        audio_s: soak_s,
        rate_hz: args.device_rate,
        every_s: args.soak_every_min.max(0.1) * 60.0,
        record: args.soak_record.clone().map(|dir| RecordOptions::new(dir, TraceFormat::Csv)),
    };
    writeln!(
        out,
        "emotrace bench --soak: {:.0} min of audio at {} Hz through the live engine, model {label}{}",
        soak_s / 60.0,
        args.device_rate,
        plan.record.as_ref().map_or(String::new(), |r| format!(", recording into {}", r.dir.display()))
    )?;
    writeln!(out, "{:>12} {:>10} {:>10} {:>12}", "audio, min", "RSS, MiB", "wall, s", "x real time")?;
    let mut failed = None;
    let points = soak(&clip, &plan, features, config, classifier, |p| {
        let rss = p.rss_mib.map_or_else(|| "n/a".to_owned(), |m| format!("{m:.1}"));
        let speed = if p.wall_s > 0.0 { p.audio_min * 60.0 / p.wall_s } else { 0.0 };
        if let Err(e) = writeln!(out, "{:>12.1} {:>10} {:>10.1} {:>12.0}", p.audio_min, rss, p.wall_s, speed)
            .and_then(|()| out.flush())
        {
            failed = Some(e);
        }
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    // Warm-up: the first sample after the start (buffers, allocator arenas, libtorch).
    let rss: Vec<f64> = points.iter().filter_map(|p| p.rss_mib).collect();
    if let (Some(&warm), Some(&last), Some(&peak)) =
        (rss.get(1), rss.last(), rss.iter().skip(1).max_by(|a, b| a.total_cmp(b)))
    {
        writeln!(
            out,
            "RSS after warm-up {warm:.1} MiB, at the end {last:.1} MiB ({:+.1} MiB), peak {peak:.1} MiB",
            last - warm
        )?;
    }
    Ok(())
}

/// The model to time, `None` with `--no-model`.
fn model_path(args: &BenchArgs) -> anyhow::Result<Option<PathBuf>> {
    if args.no_model {
        return Ok(None);
    }
    Ok(Some(match &args.model {
        Some(path) => path.clone(),
        None => default_model().context("no default model found; pass --model MODEL_JSON, or --no-model")?,
    }))
}

fn model_for_bench(args: &BenchArgs, device: DeviceChoice) -> anyhow::Result<ModelForBench> {
    let Some(path) = model_path(args)? else {
        return Ok((FeatureConfig::default(), Box::new(|| Ok(None)), "none".to_owned()));
    };
    let compute = ComputeDevice::resolve(device)?;
    let loaded =
        load_model(&path, None, compute).with_context(|| format!("cannot load model {}", path.display()))?;
    let features = loaded.features.clone();
    let label = loaded.label.clone();
    // Each measurement needs its own classifier (a fresh stream state): load once more
    // per call; loading is checked and cheap next to the runs.
    let step = args.step;
    let make = move || -> anyhow::Result<Option<Box<dyn FrameClassifier>>> {
        Ok(Some(match step {
            StepPath::Fused => load_model(&path, None, compute)?.classifier,
            StepPath::Libtorch => Box::new(LibtorchClassifier::new(EmotionModel::load(&path, compute)?)?),
        }))
    };
    let label = match step {
        StepPath::Fused => label,
        StepPath::Libtorch => format!("{label} (former libtorch step)"),
    };
    Ok((features, Box::new(make), label))
}

/// The clip repeated, each copy followed by a second of silence, to at least `seconds`.
fn looped(clip: &[f32], seconds: f64) -> Vec<f32> {
    let want = (seconds * 16_000.0) as usize;
    let mut out = Vec::with_capacity(want + clip.len() + 16_000);
    while out.len() < want {
        out.extend_from_slice(clip);
        out.extend(std::iter::repeat_n(0.0, 16_000));
    }
    out.truncate(want.max(1));
    out
}

fn resample(samples: &[f32], rate_hz: u32) -> anyhow::Result<Vec<f32>> {
    let mut r = StreamResampler::with_rates(16_000, rate_hz)?;
    let mut out = Vec::with_capacity(samples.len() * rate_hz as usize / 16_000 + 4_096);
    r.process(samples, |s| out.extend_from_slice(s));
    r.finish(|s| out.extend_from_slice(s));
    Ok(out)
}

fn write_wav(path: &Path, samples: &[f32]) -> anyhow::Result<()> {
    let mut wav =
        SessionWav::create(path, 16_000).with_context(|| format!("cannot write {}", path.display()))?;
    wav.write(samples)?;
    wav.finish()?;
    Ok(())
}
