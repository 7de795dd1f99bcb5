//! The worker thread and how a session starts: open the source (errors come back to the
//! caller at once), build the pipeline, spawn `emotrace-engine`, hand back the [`Engine`].
//!
//! The worker loops: apply commands, let the source do one tick, sleep `poll_ms` when
//! there was nothing to do. It never blocks on a listener.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::classifier::FrameClassifier;
use super::config::{EngineConfig, Source};
use super::error::EngineError;
use super::events::{EngineEvent, RunState, SharedStatus};
use super::handle::{Command, Engine};
use super::live::{LiveSource, Tick};
use super::outputs::Outputs;
use super::pipeline::Pipeline;
use super::replay::{FileSource, ReplayTick};
use super::snapshot::Snapshot;
use crate::audio::capture::{CaptureInfo, CaptureReader, open_capture};
use crate::audio::decode::AudioFileReader;
use crate::features::FeatureConfig;

/// Events the channel holds before the oldest unread ones are dropped.
const EVENT_CAPACITY: usize = 256;

enum SourceState {
    Live(LiveSource),
    File(FileSource),
}

struct Worker {
    source: SourceState,
    pipeline: Pipeline,
    outputs: Outputs,
    commands: Receiver<Command>,
    events: Sender<EngineEvent>,
    status: Arc<SharedStatus>,
    poll: Duration,
}

/// Opens `source`, builds the pipeline around `classifier` (features per `features`),
/// and starts the worker. `model_label` names the model in recordings' summaries.
pub fn start_engine(
    source: &Source,
    config: &EngineConfig,
    features: &FeatureConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
    model_label: &str,
) -> Result<Engine, EngineError> {
    let channels = Channels::new(config);
    match source {
        Source::DefaultInput | Source::Input(_) => {
            let device = match source {
                Source::Input(name) => Some(name.clone()),
                _ => None,
            };
            let (capture, reader) = open_capture(device.as_deref(), &config.capture, config.ring_ms)?;
            let info = capture.info.clone();
            let pipeline = Pipeline::new(features, config, info.sample_rate_hz, classifier)?;
            let epoch = reader.epoch;
            let live = LiveSource::new(
                device,
                config,
                Some(capture),
                reader,
                channels.events_tx.clone(),
                Arc::clone(&channels.status),
            );
            spawn(
                channels,
                SourceState::Live(live),
                pipeline,
                started(&info),
                info.device,
                epoch,
                config,
                model_label,
            )
        }
        Source::File { path, pace } => {
            let reader = AudioFileReader::open(path).map_err(|e| EngineError::File(e.to_string()))?;
            let rate = reader.sample_rate_hz();
            let pipeline = Pipeline::new(features, config, rate, classifier)?;
            let hop = (features.hop_s() * f64::from(rate)).round() as usize;
            let skip = (config.replay_start_s.max(0.0) * f64::from(rate)).round() as u64;
            if let Some(total) = reader.total_frames_hint()
                && skip > 0
                && skip >= total
            {
                return Err(EngineError::File(format!(
                    "cannot start {} at {:.1} s: the file is {:.1} s long",
                    path.display(),
                    config.replay_start_s,
                    total as f64 / f64::from(rate)
                )));
            }
            let file = FileSource::new(reader, *pace, hop, skip);
            let label = path.display().to_string();
            let info = CaptureInfo {
                device: label.clone(),
                sample_rate_hz: rate,
                channels: u16::try_from(file.channels()).unwrap_or(u16::MAX),
                format: "file".to_owned(),
            };
            spawn(
                channels,
                SourceState::File(file),
                pipeline,
                started(&info),
                label,
                Instant::now(),
                config,
                model_label,
            )
        }
    }
}

/// Starts a live session on a capture ring the caller feeds (a simulated sound card:
/// benchmarks and tests call [`CaptureWriter::write`](crate::audio::capture::CaptureWriter::write)
/// at the device's pace). `info` describes the simulated stream. Such a source cannot be
/// reopened: if it is lost, the session ends.
pub fn start_engine_on_ring(
    reader: CaptureReader,
    info: CaptureInfo,
    config: &EngineConfig,
    features: &FeatureConfig,
    classifier: Option<Box<dyn FrameClassifier>>,
    model_label: &str,
) -> Result<Engine, EngineError> {
    let channels = Channels::new(config);
    let pipeline = Pipeline::new(features, config, info.sample_rate_hz, classifier)?;
    let epoch = reader.epoch;
    let live =
        LiveSource::new(None, config, None, reader, channels.events_tx.clone(), Arc::clone(&channels.status));
    spawn(
        channels,
        SourceState::Live(live),
        pipeline,
        started(&info),
        info.device.clone(),
        epoch,
        config,
        model_label,
    )
}

fn started(info: &CaptureInfo) -> EngineEvent {
    EngineEvent::Started {
        source: info.device.clone(),
        sample_rate_hz: info.sample_rate_hz,
        channels: info.channels,
        format: info.format.clone(),
    }
}

/// The channels between the handle and the worker.
struct Channels {
    events_tx: Sender<EngineEvent>,
    events_rx: Receiver<EngineEvent>,
    snapshots_tx: Sender<Snapshot>,
    snapshots_rx: Receiver<Snapshot>,
    commands_tx: Sender<Command>,
    commands_rx: Receiver<Command>,
    status: Arc<SharedStatus>,
}

impl Channels {
    fn new(config: &EngineConfig) -> Self {
        let (events_tx, events_rx) = crossbeam_channel::bounded(EVENT_CAPACITY);
        let (snapshots_tx, snapshots_rx) = crossbeam_channel::bounded(config.snapshot_capacity.max(1));
        let (commands_tx, commands_rx) = crossbeam_channel::unbounded();
        let status = Arc::new(SharedStatus::default());
        Self { events_tx, events_rx, snapshots_tx, snapshots_rx, commands_tx, commands_rx, status }
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    channels: Channels,
    source: SourceState,
    pipeline: Pipeline,
    started: EngineEvent,
    source_label: String,
    epoch: Instant,
    config: &EngineConfig,
    model_label: &str,
) -> Result<Engine, EngineError> {
    let Channels { events_tx, events_rx, snapshots_tx, snapshots_rx, commands_tx, commands_rx, status } =
        channels;
    if config.start_paused {
        status.set_state(RunState::Paused);
    }
    let _ = events_tx.try_send(started);
    let worker = Worker {
        source,
        pipeline,
        outputs: Outputs::new(snapshots_tx, Arc::clone(&status), epoch),
        commands: commands_rx,
        events: events_tx.clone(),
        status: Arc::clone(&status),
        poll: Duration::from_millis(u64::from(config.poll_ms.max(1))),
    };
    let thread = std::thread::Builder::new()
        .name("emotrace-engine".to_owned())
        .spawn(move || worker.run())
        .map_err(EngineError::Thread)?;
    Ok(Engine {
        commands: commands_tx,
        snapshots: snapshots_rx,
        events: events_rx,
        events_tx,
        status,
        worker: Some(thread),
        recording: None,
        source_label,
        model_label: model_label.to_owned(),
        calibration_label: None,
    })
}

/// Sets up the calling thread to run the pipeline: libtorch with one intra-op thread.
///
/// A streaming step is about fifteen tiny tensor operations; splitting each across
/// threads only adds synchronisation. Measured with a 48/24-unit model on this 2-core
/// machine under load: 551 µs per step with libtorch's default two threads, 24 µs with
/// one. (With OpenMP this setting belongs to the calling thread's parallel regions.)
pub fn prepare_worker_thread() {
    tch::set_num_threads(1);
}

impl Worker {
    fn run(mut self) -> Result<(), String> {
        prepare_worker_thread();
        let result = self.main_loop();
        if let Err(reason) = &result {
            let _ = self.events.try_send(EngineEvent::SourceFailed { reason: reason.clone() });
            self.status.set_state(RunState::Finished);
            self.wait_for_stop();
        }
        result
    }

    fn main_loop(&mut self) -> Result<(), String> {
        loop {
            if self.apply_commands() {
                return Ok(());
            }
            let tick = match &mut self.source {
                SourceState::Live(live) => live.tick(&mut self.pipeline, &mut self.outputs),
                SourceState::File(file) => {
                    file.set_paused(self.status.state() == RunState::Paused, &mut self.pipeline);
                    match file.tick(&mut self.pipeline, &mut self.outputs).map_err(|e| e.to_string())? {
                        ReplayTick::Going(tick) => tick,
                        ReplayTick::Finished => {
                            self.status.set_state(RunState::Finished);
                            let _ = self.events.try_send(EngineEvent::SourceFinished);
                            self.wait_for_stop();
                            return Ok(());
                        }
                    }
                }
            };
            if tick == Tick::Idle {
                std::thread::sleep(self.poll);
            }
        }
    }

    /// Applies queued commands; true when told to stop.
    fn apply_commands(&mut self) -> bool {
        while let Ok(command) = self.commands.try_recv() {
            if self.apply(command) {
                return true;
            }
        }
        false
    }

    fn apply(&mut self, command: Command) -> bool {
        match command {
            Command::Attach(feed) => {
                self.outputs.attach_recorder(feed, self.pipeline.stream_time_s());
                self.status.recording.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            Command::Detach => {
                self.outputs.recorder = None;
                self.status.recording.store(false, std::sync::atomic::Ordering::Relaxed);
            }
            Command::SimulateDeviceLoss => {
                if let SourceState::Live(live) = &self.source {
                    live.simulate_loss();
                }
            }
            Command::SessionStatistics(reply) => {
                let _ = reply.send(self.pipeline.session_statistics());
            }
            Command::Stop => return true,
        }
        false
    }

    /// After the source ended: keep serving commands (a recording can still be stopped)
    /// until told to stop or the handle is gone.
    fn wait_for_stop(&mut self) {
        while let Ok(command) = self.commands.recv() {
            if self.apply(command) {
                return;
            }
        }
    }
}
