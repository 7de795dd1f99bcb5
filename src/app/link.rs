//! The window's link to the engine: starts sessions on a background thread (opening a
//! device and loading a model take time), then each
//! frame drains the snapshot channel into the [`AppState`] and turns events into
//! one-line notices. Commands (pause, record, marker, stop) go straight to the engine.

use std::path::{Path, PathBuf};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use super::playback::Playback;
use super::state::AppState;
use crate::engine::{
    Engine, EngineConfig, EngineEvent, Marker, Pace, RecordOptions, RunState, Source, load_model,
    new_session_dir, start_engine,
};
use crate::features::FeatureConfig;
use crate::model::{ComputeDevice, DeviceChoice};
use crate::sessions::private::create_private_dir_all;

/// Snapshots taken in per frame at most, so a fast replay cannot stall a frame.
const MAX_SNAPSHOTS_PER_FRAME: usize = 20_000;

/// What to start.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    /// The audio source.
    pub source: Source,
    /// Model card to load; `None` runs without a model.
    pub model: Option<PathBuf>,
    /// The voice's calibration file for that model, if any.
    pub calibration: Option<PathBuf>,
    /// Engine settings.
    pub config: EngineConfig,
    /// Record into a new session folder under this one.
    pub record_into: Option<PathBuf>,
    /// Client code, notes and encryption of that recording (its `dir` is ignored).
    pub record_options: RecordOptions,
    /// For a file: start this far into it, in seconds.
    pub start_at_s: f64,
    /// Where the model runs.
    pub compute: DeviceChoice,
    /// For a file at 1x: also play it on the audio output.
    pub play_audio: bool,
}

/// A session that came up.
struct Started {
    engine: Engine,
    features: FeatureConfig,
    recording: Option<PathBuf>,
}

/// Where the link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// No session.
    Idle,
    /// A session is being started.
    Starting,
    /// A session exists; the engine reports its own state.
    Session(RunState),
}

/// The engine as the window sees it.
#[derive(Default)]
pub struct EngineLink {
    engine: Option<Engine>,
    pending: Option<Receiver<Result<Started, String>>>,
    recording: Option<PathBuf>,
    start_at_s: f64,
    /// The source and start offset of the last session started (to restart it).
    pub last_source: Option<(Source, f64)>,
    /// The file to play once the session is up (1x replays with audio on).
    play_next: Option<(PathBuf, f64)>,
    playback: Option<Playback>,
    playback_notices: Option<(Sender<String>, Receiver<String>)>,
    /// One-line notices for the status bar, oldest first (the last few are kept).
    pub notices: Vec<String>,
    /// Folders of recordings finished this run, newest last.
    pub finished_recordings: Vec<PathBuf>,
}

impl EngineLink {
    /// Starts `request` on a background thread, ending any current session first.
    pub fn start(&mut self, request: SessionRequest) {
        self.stop();
        self.start_at_s = request.start_at_s;
        self.last_source = Some((request.source.clone(), request.start_at_s));
        self.play_next = match &request.source {
            Source::File { path, pace: Pace::Realtime } if request.play_audio => {
                Some((path.clone(), request.start_at_s))
            }
            _ => None,
        };
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new().name("emotrace-ui-start".into()).spawn(move || {
            let _ = tx.send(start_session(request));
        });
        match spawned {
            Ok(_) => self.pending = Some(rx),
            Err(e) => self.notice(format!("cannot start a session thread: {e}")),
        }
    }

    /// Where the session stands.
    pub fn state(&self) -> LinkState {
        match (&self.engine, &self.pending) {
            (Some(engine), _) => LinkState::Session(engine.status().state),
            (None, Some(_)) => LinkState::Starting,
            (None, None) => LinkState::Idle,
        }
    }

    /// The running engine, if any.
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// The folder being recorded into, if recording.
    pub fn recording(&self) -> Option<&Path> {
        self.recording.as_deref()
    }

    /// Takes in what arrived since the last frame. Returns `true` if anything did.
    pub fn poll(&mut self, state: &mut AppState) -> bool {
        let mut changed = self.poll_start(state);
        let said: Vec<String> =
            self.playback_notices.as_ref().map(|(_, rx)| rx.try_iter().collect()).unwrap_or_default();
        for text in said {
            self.notice(text);
            changed = true;
        }
        let Some(engine) = &self.engine else { return changed };
        for snapshot in engine.snapshots().try_iter().take(MAX_SNAPSHOTS_PER_FRAME) {
            state.ingest(&snapshot);
            changed = true;
        }
        let events: Vec<EngineEvent> = engine.events().try_iter().collect();
        for event in events {
            self.on_event(&event);
            changed = true;
        }
        changed
    }

    fn poll_start(&mut self, state: &mut AppState) -> bool {
        let Some(rx) = &self.pending else { return false };
        let result = match rx.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return false,
            Err(TryRecvError::Disconnected) => Err("the session thread ended without an answer".into()),
        };
        self.pending = None;
        match result {
            Ok(started) => {
                state.reset(&started.features, self.start_at_s);
                if let Some(dir) = &started.recording {
                    self.notice(format!("recording into {}", dir.display()));
                }
                self.recording = started.recording;
                started.engine.resume();
                self.engine = Some(started.engine);
                if let Some((path, at)) = self.play_next.take() {
                    let (tx, _) = self.playback_notices.get_or_insert_with(|| crossbeam_channel::bounded(8));
                    self.playback = Playback::start(path, at, tx.clone());
                }
            }
            Err(reason) => self.notice(reason),
        }
        true
    }

    fn on_event(&mut self, event: &EngineEvent) {
        let text = match event {
            EngineEvent::Started { source, sample_rate_hz, channels, format } => {
                format!("listening to {source} ({sample_rate_hz} Hz, {channels} ch, {format})")
            }
            EngineEvent::DeviceLost { device, reason, at_s } => {
                format!("input '{device}' lost at {at_s:.1} s ({reason}); reconnecting")
            }
            EngineEvent::ReconnectFailed { attempt, reason } if *attempt == 1 => {
                format!("reconnect failed: {reason}")
            }
            EngineEvent::Overrun { dropped_samples } => format!("{dropped_samples} input samples dropped"),
            EngineEvent::SourceFinished => "replay finished".to_owned(),
            EngineEvent::SourceFailed { reason } | EngineEvent::RecorderFailed { reason } => reason.clone(),
            _ => return,
        };
        self.notice(text);
    }

    /// Adds a notice line.
    pub fn notice(&mut self, text: String) {
        self.notices.push(text);
        if self.notices.len() > 50 {
            self.notices.remove(0);
        }
    }

    /// Pauses or resumes the session.
    pub fn toggle_pause(&self) {
        if let Some(engine) = &self.engine {
            let pause = match engine.status().state {
                RunState::Running => {
                    engine.pause();
                    true
                }
                RunState::Paused => {
                    engine.resume();
                    false
                }
                _ => return,
            };
            if let Some(playback) = &self.playback {
                playback.set_paused(pause);
            }
        }
    }

    /// Asks the running session for the model's statistics of its speech so far and their
    /// frame count (see `Engine::request_session_statistics`); `None` without a session.
    pub fn request_session_statistics(&self) -> Option<Receiver<Option<(crate::data::SpeakerStats, u64)>>> {
        self.engine.as_ref()?.request_session_statistics()
    }

    /// Starts recording the running session into a new folder under `base`, with the
    /// client code, notes and encryption of `template`.
    pub fn start_recording(&mut self, base: &Path, template: &RecordOptions) {
        let Some(engine) = &mut self.engine else { return };
        // The sessions folder itself is private too (an older one is tightened).
        let _ = create_private_dir_all(base);
        let options = RecordOptions { dir: new_session_dir(base), ..template.clone() };
        match engine.start_recording(options) {
            Ok(dir) => {
                self.notice(format!("recording into {}", dir.display()));
                self.recording = Some(dir);
            }
            Err(e) => self.notice(format!("cannot record: {e}")),
        }
    }

    /// Ends the recording, if one runs.
    pub fn stop_recording(&mut self) {
        let Some(engine) = &mut self.engine else { return };
        if let Some(summary) = engine.stop_recording() {
            let state = if summary.complete { "saved" } else { "saved INCOMPLETE" };
            if let Some(dir) = self.recording.take() {
                self.notice(format!("recording {state}: {}", dir.display()));
                self.finished_recordings.push(dir);
            }
        }
    }

    /// Adds a marker at the current stream time; `None` without a session.
    pub fn add_marker(&self, note: &str) -> Option<Marker> {
        self.engine.as_ref().map(|e| e.add_marker(note))
    }

    /// Ends the session (and its recording).
    pub fn stop(&mut self) {
        self.pending = None;
        self.playback = None;
        self.play_next = None;
        self.stop_recording();
        if let Some(engine) = self.engine.take() {
            let report = engine.stop();
            if let Some(error) = report.error {
                self.notice(error);
            }
        }
    }
}

impl Drop for EngineLink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs on the start thread: loads the model, opens the source (a file from
/// `start_at_s`, decoded and skipped in memory: no copy of it is written), attaches the
/// recording. The engine comes back paused.
fn start_session(request: SessionRequest) -> Result<Started, String> {
    let source = request.source;
    let (features, classifier, label, calibration_label) = match &request.model {
        Some(path) => {
            let compute = ComputeDevice::resolve(request.compute).map_err(|e| e.to_string())?;
            let loaded = load_model(path, request.calibration.as_deref(), compute)
                .map_err(|e| format!("cannot load model {}: {e}", path.display()))?;
            (loaded.features, Some(loaded.classifier), loaded.label, loaded.calibration_label)
        }
        None => (FeatureConfig::default(), None, "none".to_owned(), None),
    };
    let mut config = request.config;
    config.start_paused = true;
    if matches!(source, Source::File { .. }) {
        config.replay_start_s = request.start_at_s.max(0.0);
    }
    let mut engine = start_engine(&source, &config, &features, classifier, &label)
        .map_err(|e| format!("cannot start: {e}"))?;
    engine.set_calibration_label(calibration_label);
    let recording = match &request.record_into {
        Some(base) => {
            let _ = create_private_dir_all(base);
            let options = RecordOptions { dir: new_session_dir(base), ..request.record_options.clone() };
            Some(engine.start_recording(options).map_err(|e| format!("cannot record: {e}"))?)
        }
        None => None,
    };
    Ok(Started { engine, features, recording })
}
