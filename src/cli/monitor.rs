//! `emotrace monitor`: the live session. Without `--headless` it opens the monitor
//! window (see `emotrace::app`) with the same source and model flags. `--headless` prints one JSON line per hop (or
//! per `--every` hops) on stdout and one-line notices on stderr; `--record DIR` writes
//! the session (`--encrypt`: encrypted at rest); Ctrl-C, SIGTERM or SIGHUP (or
//! `--duration-s`, or the end of a replayed file) ends it cleanly.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::app::settings::{default_config_dir, default_sessions_dir};
use crate::app::{WindowOptions, display_available, run_window};
use crate::engine::load_model;
use crate::engine::recorder::{SEALED_SUMMARY_FILE, SUMMARY_FILE, json_line};
use crate::engine::{
    CaptureRequest, Engine, EngineConfig, EngineEvent, InputFormat, Pace, RecordOptions, Source, TraceFormat,
    VadConfig, start_engine,
};
use crate::features::FeatureConfig;
use crate::model::lookup::default_model;
use crate::model::{ComputeDevice, DeviceChoice};
use crate::sessions::client::check_client_code;
use crate::sessions::keys::SessionKeys;
use crate::sessions::passphrase::read_passphrase;

/// One line on stderr; a stderr that is gone (the terminal closed: SIGHUP) is ignored, so
/// the session still ends cleanly.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

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
    /// A calibration file (`emotrace calibrate`) of the voice: a speaker-normalised model
    /// reads it against that calm reading instead of against the session so far.
    #[arg(long, value_name = "FILE", conflicts_with = "no_model")]
    pub calibration: Option<PathBuf>,
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
    /// With `--record`: the client's pseudonymous code (letters, digits, `-`, `_`, `.`),
    /// kept in the summary.
    #[arg(long, value_name = "CODE", requires = "record")]
    pub client: Option<String>,
    /// With `--record`: free-text notes kept in the summary.
    #[arg(long, value_name = "TEXT", requires = "record")]
    pub notes: Option<String>,
    /// With `--record`: encrypt the recording at rest (age, passphrase asked on the
    /// terminal or read from `--passphrase-file`); nothing is written in plaintext.
    #[arg(long, requires = "record")]
    pub encrypt: bool,
    /// The passphrase for `--encrypt`: the first line of this file.
    #[arg(long, value_name = "FILE", requires = "encrypt")]
    pub passphrase_file: Option<PathBuf>,
    /// End the session after this much audio, in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration_s: Option<f64>,
    /// Headless: add a marker when the stream reaches this time (`SECONDS:NOTE`,
    /// repeatable), as the window's M key does: for sessions that follow a protocol.
    #[arg(long = "marker", value_name = "SECONDS:NOTE", value_parser = parse_marker)]
    pub markers: Vec<(f64, String)>,
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
    /// Window: open this recorded session in Review (a plain one; encrypted ones open
    /// from the Sessions tab with their passphrase).
    #[arg(long, value_name = "SESSION_DIR", conflicts_with_all = ["headless", "replay", "input"])]
    pub review: Option<PathBuf>,
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
    /// The voice's calibration file, if any.
    pub calibration: Option<PathBuf>,
    /// Print every Nth hop.
    pub every: u64,
    /// Include mel columns.
    pub with_mel: bool,
    /// Where to record.
    pub record: Option<RecordOptions>,
    /// When to stop, in seconds of stream time.
    pub duration_s: Option<f64>,
    /// Markers to add at these stream times, in time order.
    pub markers: Vec<(f64, String)>,
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
        let client_code = self.client.clone().unwrap_or_default();
        check_client_code(&client_code).map_err(anyhow::Error::msg)?;
        let record = self.record.clone().map(|dir| RecordOptions {
            client_code: client_code.clone(),
            notes: self.notes.clone().unwrap_or_default(),
            ..RecordOptions::new(dir, self.trace_format)
        });
        Ok(MonitorPlan {
            source,
            engine,
            model,
            calibration: self.calibration.clone(),
            every: u64::from(self.every.max(1)),
            with_mel: self.with_mel,
            record,
            duration_s: self.duration_s,
            markers: {
                let mut m = self.markers.clone();
                m.sort_by(|a, b| a.0.total_cmp(&b.0));
                m
            },
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

/// `SECONDS:NOTE` as a marker.
fn parse_marker(text: &str) -> Result<(f64, String), String> {
    let (at, note) = text.split_once(':').ok_or("a marker is SECONDS:NOTE, e.g. 90:second task")?;
    let at_s: f64 = at.trim().parse().map_err(|_| format!("'{at}' is not a number of seconds"))?;
    if !at_s.is_finite() || at_s < 0.0 {
        return Err(format!("marker time {at} must be 0 or more seconds"));
    }
    Ok((at_s, note.trim().to_owned()))
}

/// Runs the monitor.
pub fn run(out: &mut impl Write, args: &MonitorArgs, device: DeviceChoice) -> anyhow::Result<()> {
    if !args.headless {
        return window(args, device);
    }
    let mut plan = args.plan()?;
    if let Some(record) = plan.record.as_mut().filter(|_| args.encrypt) {
        let passphrase =
            read_passphrase(args.passphrase_file.as_deref(), true).map_err(anyhow::Error::msg)?;
        let keys = SessionKeys::create(&passphrase).context("cannot encrypt the recording")?;
        record.keys = Some(Arc::new(keys));
    }
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
        _ if args.review.is_some() => None,
        (Some(path), _) => Some(Source::File {
            path: path.clone(),
            pace: if args.fast { Pace::Fast } else { Pace::Realtime },
        }),
        (None, Some(name)) => Some(Source::Input(name.clone())),
        (None, None) => Some(Source::DefaultInput),
    };
    run_window(WindowOptions {
        autostart,
        model,
        model_note,
        calibration: args.calibration.clone(),
        config_dir: args.config_dir.clone().unwrap_or_else(default_config_dir),
        sessions_dir: default_sessions_dir(),
        compute: device,
        probe_devices: true,
        frame_stats: args.frame_stats,
        review: args.review.clone(),
    })
}

/// Opens the source and the model and starts the engine.
fn start(plan: &MonitorPlan, device: DeviceChoice) -> anyhow::Result<Engine> {
    let (features, classifier, label, calibration_label) = match &plan.model {
        Some(path) => {
            let compute = ComputeDevice::resolve(device)?;
            let loaded = load_model(path, plan.calibration.as_deref(), compute)
                .with_context(|| format!("cannot load model {}", path.display()))?;
            (loaded.features, Some(loaded.classifier), loaded.label, loaded.calibration_label)
        }
        None => (FeatureConfig::default(), None, "none".to_owned(), None),
    };
    let what = match &plan.source {
        Source::DefaultInput => "the default input device".to_owned(),
        Source::Input(name) => format!("input device '{name}'"),
        Source::File { path, .. } => path.display().to_string(),
    };
    let mut engine = start_engine(&plan.source, &plan.engine, &features, classifier, &label)
        .with_context(|| format!("cannot start {what}"))?;
    engine.set_calibration_label(calibration_label);
    Ok(engine)
}

/// Prints snapshots until Ctrl-C, the end of the file or `--duration-s`.
fn headless(out: &mut impl Write, mut engine: Engine, plan: &MonitorPlan) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // SIGINT, SIGTERM and SIGHUP end the session as Ctrl-C does. A second `run` in one
    // process (tests) adds a handler of its own; the first one's flag is simply unused.
    crate::engine::stop_signals::on_stop_signal(move || flag.store(true, Ordering::Relaxed))
        .context("cannot watch for stop signals")?;
    if let Some(options) = &plan.record {
        let dir = engine
            .start_recording(options.clone())
            .with_context(|| format!("cannot record into {}", options.dir.display()))?;
        say!("emotrace: recording into {}", dir.display());
    }
    engine.resume();
    let mut line = Vec::with_capacity(4096);
    let mut finished = false;
    let mut failure = None;
    let mut lost = false;
    let mut write_error = None;
    let mut next_marker = 0;
    while !stop.load(Ordering::Relaxed) {
        for event in engine.events().try_iter() {
            match notice(&event, &mut lost) {
                Notice::Say(text) => say!("emotrace: {text}"),
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
                    if let Err(e) = out.write_all(&line) {
                        // stdout gone (a closed terminal, a reader that quit): end the
                        // session cleanly first, then report it.
                        write_error = Some(e);
                        break;
                    }
                }
                while next_marker < plan.markers.len() && s.time_s >= plan.markers[next_marker].0 {
                    let (at_s, note) = &plan.markers[next_marker];
                    engine.add_marker_at(*at_s, note);
                    next_marker += 1;
                }
                if plan.duration_s.is_some_and(|d| s.time_s >= d) {
                    break;
                }
            }
            Err(_) if (finished || failure.is_some()) && engine.snapshots().is_empty() => break,
            Err(_) => {}
        }
    }
    let flushed = out.flush();
    let report = engine.stop();
    say!(
        "emotrace: session ended after {:.1} s of audio, {} hops, {} input samples dropped, {} snapshots dropped",
        report.duration_s,
        report.hops,
        report.dropped_samples,
        report.dropped_snapshots
    );
    if let Some(summary) = &report.recording {
        let state = if summary.complete { "complete" } else { "INCOMPLETE (see the notices above)" };
        say!(
            "emotrace: recording {state}: {:.1} s of audio, {:.1} s of speech, summary in {}",
            summary.duration_s,
            summary.speech_s,
            plan.record.as_ref().map_or_else(String::new, |r| {
                let name = if r.keys.is_some() { SEALED_SUMMARY_FILE } else { SUMMARY_FILE };
                r.dir.join(name).display().to_string()
            })
        );
    }
    if let Some(reason) = failure.or(report.error) {
        bail!("{reason}");
    }
    match write_error {
        Some(e) => Err(e.into()),
        None => Ok(flushed?),
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
