//! The engine handle: what a listener (the window, `monitor --headless`) holds.
//!
//! The listener *receives* [`Snapshot`]s (bounded channel; when it falls behind, the
//! worker drops and counts rather than wait), [`EngineEvent`]s (rare), and reads an
//! [`EngineStatus`] from atomics. It *sends* commands: pause, resume, record on/off,
//! markers, stop. No state is shared mutably; the worker owns the pipeline.
//!
//! ```no_run
//! # use emotrace::engine::*;
//! # use emotrace::model::{ComputeDevice, DeviceChoice};
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let setup = EngineSetup {
//!     source: Source::DefaultInput,
//!     model_path: "models/default.json".into(),
//!     compute: ComputeDevice::resolve(DeviceChoice::Cpu)?,
//!     config: EngineConfig::default(),
//! };
//! let mut engine = Engine::start(setup)?;
//! engine.start_recording(RecordOptions::new("session".into(), TraceFormat::Csv))?;
//! for snapshot in engine.snapshots().iter().take(500) {
//!     println!("{:.2} s {}", snapshot.time_s, snapshot.label());
//! }
//! engine.add_marker("client laughed");
//! let report = engine.stop();
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::config::{EngineConfig, Source};
use super::error::EngineError;
use super::events::{EngineEvent, EngineStatus, RunState, SharedStatus};
use super::recorder::{Marker, RecordOptions, RecorderFeed, Recording, SessionSummary, start_recording};
use super::snapshot::Snapshot;
use crate::data::SpeakerStats;
use crate::model::ComputeDevice;

/// Everything needed to start a session.
#[derive(Debug, Clone)]
pub struct EngineSetup {
    /// Where the audio comes from.
    pub source: Source,
    /// The model file to load (see `emotrace::model` for the default model's path).
    pub model_path: PathBuf,
    /// Where the model runs.
    pub compute: ComputeDevice,
    /// How the engine runs.
    pub config: EngineConfig,
}

/// Commands from the handle to the worker, applied between hops.
pub(crate) enum Command {
    /// Start feeding a recording.
    Attach(RecorderFeed),
    /// Stop feeding the recording.
    Detach,
    /// Pretend the device was lost (fault injection).
    SimulateDeviceLoss,
    /// Send the model's statistics of the session's speech so far.
    SessionStatistics(Sender<Option<(SpeakerStats, u64)>>),
    /// End the session.
    Stop,
}

/// What a session did, returned by [`Engine::stop`].
#[derive(Debug, Clone, PartialEq)]
pub struct EngineReport {
    /// Hops analysed.
    pub hops: u64,
    /// Stream time analysed, in seconds.
    pub duration_s: f64,
    /// Input samples dropped because the capture ring was full.
    pub dropped_samples: u64,
    /// Snapshots dropped because the listener's channel was full.
    pub dropped_snapshots: u64,
    /// The summary of a recording that was still running at stop, if any.
    pub recording: Option<SessionSummary>,
    /// Why the worker ended early, if it failed (e.g. a file could not be decoded).
    pub error: Option<String>,
}

/// A running session. Dropping it stops the session (as [`Engine::stop`] does).
pub struct Engine {
    pub(crate) commands: Sender<Command>,
    pub(crate) snapshots: Receiver<Snapshot>,
    pub(crate) events: Receiver<EngineEvent>,
    pub(crate) events_tx: Sender<EngineEvent>,
    pub(crate) status: Arc<SharedStatus>,
    pub(crate) worker: Option<JoinHandle<Result<(), String>>>,
    pub(crate) recording: Option<Recording>,
    /// Device name or file path, for recordings' summaries.
    pub(crate) source_label: String,
    /// Model path, for recordings' summaries.
    pub(crate) model_label: String,
    /// The model's calibration file, for recordings' summaries.
    pub(crate) calibration_label: Option<String>,
}

impl Engine {
    /// The model's statistics of this session's speech so far and their frame count (a
    /// speaker-normalised model that has heard speech; `None` otherwise, or if the worker
    /// does not answer within a second). The worker answers after the source ended too.
    pub fn session_statistics(&self) -> Option<(SpeakerStats, u64)> {
        self.request_session_statistics()?.recv_timeout(std::time::Duration::from_secs(1)).ok().flatten()
    }

    /// Asks for [`Engine::session_statistics`] without waiting: the worker answers on the
    /// returned channel at its next hop (`None` if the worker has ended).
    pub fn request_session_statistics(&self) -> Option<Receiver<Option<(SpeakerStats, u64)>>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.commands.send(Command::SessionStatistics(tx)).ok()?;
        Some(rx)
    }

    /// Notes in every recording's summary that the model reads the voice against this
    /// calibration file (set it right after starting, as the model was loaded with it).
    pub fn set_calibration_label(&mut self, calibration: Option<String>) {
        self.calibration_label = calibration;
    }

    /// The snapshot stream: one per hop, in order. Read it from one place (the window's
    /// frame loop, or the headless printer).
    pub fn snapshots(&self) -> &Receiver<Snapshot> {
        &self.snapshots
    }

    /// The event stream (device lost/back, file finished, recording started/stopped...).
    pub fn events(&self) -> &Receiver<EngineEvent> {
        &self.events
    }

    /// Counters and state, read from atomics (cheap; call it every frame).
    pub fn status(&self) -> EngineStatus {
        self.status.snapshot()
    }

    /// Stops analysing until [`resume`](Self::resume): live audio is discarded, a file is
    /// not read further. Stream time does not advance while paused.
    pub fn pause(&self) {
        if self.status.state() == RunState::Running {
            self.status.set_state(RunState::Paused);
        }
    }

    /// Resumes after [`pause`](Self::pause); the next speech starts a new utterance.
    pub fn resume(&self) {
        if self.status.state() == RunState::Paused {
            self.status.set_state(RunState::Running);
        }
    }

    /// Whether the worker has ended (a file source finished, or stop was called).
    pub fn is_finished(&self) -> bool {
        matches!(self.status.state(), RunState::Finished | RunState::Stopped)
    }

    /// Starts recording into `options.dir`: the trace, the 16 kHz audio and, at the end,
    /// the summary. Errors (folder not writable, already a recording there) come back here.
    pub fn start_recording(&mut self, options: RecordOptions) -> Result<PathBuf, EngineError> {
        if let Some(recording) = &self.recording {
            return Ok(recording.dir().to_owned());
        }
        let options = RecordOptions { calibration: self.calibration_label.clone(), ..options };
        let (recording, feed) =
            start_recording(&options, &self.source_label, &self.model_label, self.events_tx.clone())?;
        self.commands.send(Command::Attach(feed)).map_err(|_| EngineError::Stopped)?;
        let dir = recording.dir().to_owned();
        self.recording = Some(recording);
        let _ = self.events_tx.try_send(EngineEvent::RecordingStarted { dir: dir.clone() });
        Ok(dir)
    }

    /// Ends the recording (if one runs) and returns its summary.
    pub fn stop_recording(&mut self) -> Option<SessionSummary> {
        let recording = self.recording.take()?;
        let _ = self.commands.send(Command::Detach);
        Some(recording.finish())
    }

    /// Whether a recording is running.
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Adds a marker at stream time `time_s` rather than now (a scripted marker, placed
    /// when the listener sees that time: a fast replay's worker runs ahead of it).
    pub fn add_marker_at(&self, time_s: f64, note: &str) -> Marker {
        let marker = Marker { time_s, note: note.to_owned() };
        if let Some(recording) = &self.recording {
            recording.marker(marker.clone());
        }
        marker
    }

    /// Adds a timestamped note at the current stream time. It goes into the recorded
    /// trace and summary when recording; the returned marker is for the caller's display.
    pub fn add_marker(&self, note: &str) -> Marker {
        let marker = Marker { time_s: self.status.time_s(), note: note.to_owned() };
        if let Some(recording) = &self.recording {
            recording.marker(marker.clone());
        }
        marker
    }

    /// Makes the worker behave as if the input device had vanished (fault injection for
    /// tests): it reports the loss and reconnects.
    #[doc(hidden)]
    pub fn simulate_device_loss(&self) {
        let _ = self.commands.send(Command::SimulateDeviceLoss);
    }

    /// Ends the session: stops the worker, finishes any recording, and reports.
    pub fn stop(mut self) -> EngineReport {
        self.shutdown()
    }

    fn shutdown(&mut self) -> EngineReport {
        let recording = self.stop_recording();
        let _ = self.commands.send(Command::Stop);
        let error = match self.worker.take().map(JoinHandle::join) {
            Some(Ok(Ok(()))) | None => None,
            Some(Ok(Err(reason))) => Some(reason),
            Some(Err(_)) => Some("the engine's worker thread panicked".to_owned()),
        };
        self.status.set_state(RunState::Stopped);
        let status = self.status.snapshot();
        EngineReport {
            hops: status.hops,
            duration_s: status.time_s,
            dropped_samples: status.dropped_samples,
            dropped_snapshots: status.dropped_snapshots,
            recording,
            error,
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.worker.is_some() {
            self.shutdown();
        }
    }
}
