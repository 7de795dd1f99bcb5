//! `emotrace monitor`: the live session. Without `--headless` it opens the monitor
//! window (see `emotrace::app`) with the same source and model flags. `--headless` prints one JSON line per hop (or
//! per `--every` hops) on stdout and one-line notices on stderr; `--record DIR` writes
//! the session; Ctrl-C (or `--duration-s`, or the end of a replayed file) ends it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::app::settings::{default_config_dir, default_sessions_dir};
use crate::app::{WindowOptions, display_available, run_window};
use crate::engine::load_model;
use crate::engine::recorder::json_line;
use crate::engine::{
    CaptureRequest, Engine, EngineConfig, EngineEvent, InputFormat, Pace, RecordOptions, Source, TraceFormat,
    VadConfig, start_engine,
};
use crate::features::FeatureConfig;
use crate::model::lookup::default_model;
use crate::model::{ComputeDevice, DeviceChoice};

/// Flags of `emotrace monitor`.
#[derive(Debug, clap::Args)]
pub struct MonitorArgs {
    /// Run without the window: one JSON line per hop on stdout, notices on stderr.
    #[arg(long)]
    pub headless: bool,
    /// Input device to listen to, as `emotrace devices` lists it (default: the default input).
    #[arg(long, value_name = "NAME", conflicts_with = "replay")]
    pub input: Option<String>,
    /// Replay an audio file (WAV, FLAC, MP3, OGG) through the same pipeline, at 1x.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// With `--replay`: as fast as possible instead of at 1x.
    #[arg(long, requires = "replay")]
    pub fast: bool,
    /// Model card to load (default: the default model).
    #[arg(long, value_name = "MODEL_JSON")]
    pub model: Option<PathBuf>,
    /// Run without a model: spectrogram, level and speech detection only.
    #[arg(long, conflicts_with = "model")]
    pub no_model: bool,
    /// Print every Nth hop only.
    #[arg(long, value_name = "HOPS", default_value_t = 1)]
    pub every: u32,
    /// Add the newest log-mel column (dB) to each JSON line.
    #[arg(long)]
    pub with_mel: bool,
    /// Record the session (trace, 16 kHz audio, summary) into this folder.
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Format of the recorded trace.
    #[arg(long, value_enum, default_value_t = TraceFormat::Csv)]
    pub trace_format: TraceFormat,
    /// End the session after this much audio, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration_s: Option<f64>,
    /// Silence that ends an utterance and resets the model state, in ms.
    #[arg(long, value_name = "MS", default_value_t = VadConfig::default().silence_reset_ms)]
    pub silence_reset_ms: f32,
    /// Longest utterance before the model state is reset anyway, in ms.
    #[arg(long, value_name = "MS", default_value_t = VadConfig::default().max_utterance_ms)]
    pub max_utterance_ms: f32,
    /// Frames quieter than this are never speech, in dBFS.
    #[arg(long, value_name = "DBFS", default_value_t = VadConfig::default().threshold_dbfs, allow_negative_numbers = true)]
    pub speech_threshold_dbfs: f32,
    /// Switch the speech gate off: the model's output for every hop, one utterance.
    #[arg(long)]
    pub no_gate: bool,
    /// Time constant of the probability smoothing, in ms (0: none).
    #[arg(long, value_name = "MS", default_value_t = EngineConfig::default().smoothing_ms)]
    pub smoothing_ms: f32,
    /// Open the input device at this sample rate instead of its own, in Hz.
    #[arg(long, value_name = "HZ")]
    pub input_rate: Option<u32>,
    /// Open the input device with this many channels (they are averaged).
    #[arg(long, value_name = "CHANNELS")]
    pub input_channels: Option<u16>,
    /// Open the input device with this sample format.
    #[arg(long, value_enum)]
    pub input_format: Option<InputFormat>,
    /// Audio the capture ring holds before it drops samples, in ms.
    #[arg(long, value_name = "MS", default_value_t = EngineConfig::default().ring_ms)]
    pub ring_ms: u32,
    /// Window: keep settings in this folder (default: $EMOTRACE_CONFIG_DIR, else the user's config folder).
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Window: print frame-time statistics (CPU per frame, painting included) every 10 s.
    #[arg(long, conflicts_with = "headless")]
    pub frame_stats: bool,
}

/// What a monitor session does, from the flags.
#[derive(Debug, Clone)]
pub struct MonitorPlan {
    /// Where the audio comes from.
    pub source: Source,
    /// The engine's settings.
    pub engine: EngineConfig,
    /// The model card, `None` for no model.
    pub model: Option<PathBuf>,
    /// Print every Nth hop.
    pub every: u64,
    /// Include mel columns.
    pub with_mel: bool,
    /// Where to record.
    pub record: Option<RecordOptions>,
    /// When to stop, in seconds of stream time.
    pub duration_s: Option<f64>,
}

impl MonitorArgs {
    /// Turns the flags into a plan; finds the default model unless told otherwise.
    pub fn plan(&self) -> anyhow::Result<MonitorPlan> {
        let source = match (&self.replay, &self.input) {
            (Some(path), _) => {
                Source::File { path: path.clone(), pace: if self.fast { Pace::Fast } else { Pace::Realtime } }
            }
            (None, Some(name)) => Source::Input(name.clone()),
            (None, None) => Source::DefaultInput,
        };
        let vad = VadConfig {
            enabled: !self.no_gate,
            threshold_dbfs: self.speech_threshold_dbfs,
            silence_reset_ms: self.silence_reset_ms,
            max_utterance_ms: self.max_utterance_ms,
            ..VadConfig::default()
        };
        let engine = EngineConfig {
            vad,
            smoothing_ms: self.smoothing_ms,
            ring_ms: self.ring_ms,
            capture: CaptureRequest {
                sample_rate_hz: self.input_rate,
                channels: self.input_channels,
                format: self.input_format,
            },
            // Paused until a recording (if any) is attached, so it starts with the session.
            start_paused: true,
            ..EngineConfig::default()
        };
        let model = if self.no_model { None } else { Some(self.model_path()?) };
        Ok(MonitorPlan {
            source,
            engine,
            model,
            every: u64::from(self.every.max(1)),
            with_mel: self.with_mel,
            record: self.record.clone().map(|dir| RecordOptions { dir, trace_format: self.trace_format }),
            duration_s: self.duration_s,
        })
    }

    fn model_path(&self) -> anyhow::Result<PathBuf> {
        match &self.model {
            Some(path) => Ok(path.clone()),
            None => default_model().context(
                "no default model found (see `emotrace doctor`); pass --model MODEL_JSON, or --no-model for level and speech only",
            ),
        }
    }
}

/// Runs the monitor.
pub fn run(out: &mut impl Write, args: &MonitorArgs, device: DeviceChoice) -> anyhow::Result<()> {
    if !args.headless {
        return window(args, device);
    }
    let plan = args.plan()?;
    let engine = start(&plan, device)?;
    headless(out, engine, &plan)
}

/// Opens the monitor window with the flags' source and model. A missing default model
/// is not an error here: the window opens without one and says so.
fn window(args: &MonitorArgs, device: DeviceChoice) -> anyhow::Result<()> {
    if !display_available() {
        bail!(
            "no display to open the monitor window on (DISPLAY and WAYLAND_DISPLAY are unset); run `emotrace monitor --headless` instead"
        );
    }
    let (model, model_note) = match (&args.model, args.no_model) {
        (_, true) => (None, None),
        (Some(path), false) => (Some(path.clone()), None),
        (None, false) => match default_model() {
            Some(path) => (Some(path), None),
            None => (
                None,
                Some(
                    "no default model found (see `emotrace doctor`): showing spectrogram and level only"
                        .to_owned(),
                ),
            ),
        },
    };
    let autostart = match (&args.replay, &args.input) {
        (Some(path), _) => {
            Source::File { path: path.clone(), pace: if args.fast { Pace::Fast } else { Pace::Realtime } }
        }
        (None, Some(name)) => Source::Input(name.clone()),
        (None, None) => Source::DefaultInput,
    };
    run_window(WindowOptions {
        autostart: Some(autostart),
        model,
        model_note,
        config_dir: args.config_dir.clone().unwrap_or_else(default_config_dir),
        sessions_dir: default_sessions_dir(),
        compute: device,
        probe_devices: true,
        frame_stats: args.frame_stats,
    })
}

/// Opens the source and the model and starts the engine.
fn start(plan: &MonitorPlan, device: DeviceChoice) -> anyhow::Result<Engine> {
    let (features, classifier, label) = match &plan.model {
        Some(path) => {
            let compute = ComputeDevice::resolve(device)?;
            let loaded =
                load_model(path, compute).with_context(|| format!("cannot load model {}", path.display()))?;
            (loaded.features, Some(loaded.classifier), loaded.label)
        }
        None => (FeatureConfig::default(), None, "none".to_owned()),
    };
    let what = match &plan.source {
        Source::DefaultInput => "the default input device".to_owned(),
        Source::Input(name) => format!("input device '{name}'"),
        Source::File { path, .. } => path.display().to_string(),
    };
    start_engine(&plan.source, &plan.engine, &features, classifier, &label)
        .with_context(|| format!("cannot start {what}"))
}

/// Prints snapshots until Ctrl-C, the end of the file or `--duration-s`.
fn headless(out: &mut impl Write, mut engine: Engine, plan: &MonitorPlan) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // NOTE: a second handler in one process (tests calling `run` twice) is refused; the
    // first one still stops whichever session runs, which is all it is for.
    let _ = ctrlc::try_set_handler(move || flag.store(true, Ordering::Relaxed));
    if let Some(options) = &plan.record {
        let dir = engine
            .start_recording(options.clone())
            .with_context(|| format!("cannot record into {}", options.dir.display()))?;
        eprintln!("emotrace: recording into {}", dir.display());
    }
    engine.resume();
    let mut line = Vec::with_capacity(4096);
    let mut finished = false;
    let mut failure = None;
    let mut lost = false;
    while !stop.load(Ordering::Relaxed) {
        for event in engine.events().try_iter() {
            match notice(&event, &mut lost) {
                Notice::Say(text) => eprintln!("emotrace: {text}"),
                Notice::Finished => finished = true,
                Notice::Failed(reason) => failure = Some(reason),
                Notice::Quiet => {}
            }
        }
        match engine.snapshots().recv_timeout(Duration::from_millis(50)) {
            Ok(s) => {
                if s.hop_index % plan.every == 0 {
                    line.clear();
                    json_line(&s, s.time_s, None, plan.with_mel, &mut line);
                    out.write_all(&line)?;
                }
                if plan.duration_s.is_some_and(|d| s.time_s >= d) {
                    break;
                }
            }
            Err(_) if (finished || failure.is_some()) && engine.snapshots().is_empty() => break,
            Err(_) => {}
        }
    }
    out.flush()?;
    let report = engine.stop();
    eprintln!(
        "emotrace: session ended after {:.1} s of audio, {} hops, {} input samples dropped, {} snapshots dropped",
        report.duration_s, report.hops, report.dropped_samples, report.dropped_snapshots
    );
    if let Some(summary) = &report.recording {
        let state = if summary.complete { "complete" } else { "INCOMPLETE (see the notices above)" };
        eprintln!(
            "emotrace: recording {state}: {:.1} s of audio, {:.1} s of speech, summary in {}",
            summary.duration_s,
            summary.speech_s,
            plan.record.as_ref().map_or_else(String::new, |r| r
                .dir
                .join("summary.json")
                .display()
                .to_string())
        );
    }
    match failure.or(report.error) {
        Some(reason) => bail!("{reason}"),
        None => Ok(()),
    }
}

enum Notice {
    Say(String),
    Finished,
    Failed(String),
    Quiet,
}

/// What the user is told about an event (one line each).
fn notice(event: &EngineEvent, lost: &mut bool) -> Notice {
    match event {
        EngineEvent::Started { source, sample_rate_hz, channels, format } => {
            let verb = if std::mem::take(lost) { "back on" } else { "listening to" };
            Notice::Say(format!("{verb} {source} ({sample_rate_hz} Hz, {channels} ch, {format})"))
        }
        EngineEvent::DeviceLost { device, reason, at_s } => {
            *lost = true;
            Notice::Say(format!(
                "input device '{device}' lost at {at_s:.1} s ({reason}); session kept, reconnecting"
            ))
        }
        EngineEvent::ReconnectFailed { attempt, reason } if *attempt == 1 || attempt % 10 == 0 => {
            Notice::Say(format!("reconnect attempt {attempt} failed: {reason}"))
        }
        EngineEvent::ReconnectFailed { .. } => Notice::Quiet,
        EngineEvent::Overrun { dropped_samples } => {
            Notice::Say(format!("{dropped_samples} input samples dropped so far (the engine fell behind)"))
        }
        EngineEvent::SourceFinished => Notice::Finished,
        EngineEvent::SourceFailed { reason } => Notice::Failed(reason.clone()),
        EngineEvent::RecordingStarted { .. } | EngineEvent::RecordingStopped { .. } => Notice::Quiet,
        EngineEvent::RecorderFailed { reason } => Notice::Say(reason.clone()),
    }
}
