//! What a session is made of: where the audio comes from ([`Source`]) and how the engine
//! treats it ([`EngineConfig`]). Plain data, built from CLI flags or window settings
//! before any library code runs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where the audio comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The audio host's default input device (the microphone).
    DefaultInput,
    /// A named input device, as `emotrace devices` lists it (e.g. `hw:1,0`, `default`).
    Input(String),
    /// An audio file (WAV, FLAC, MP3, OGG), replayed through the same pipeline.
    File {
        /// The file to replay.
        path: PathBuf,
        /// How fast to feed it.
        pace: Pace,
    },
}

impl Source {
    /// Whether audio arrives in real time from a device.
    pub fn is_live(&self) -> bool {
        !matches!(self, Source::File { .. })
    }
}

/// How fast a file source is fed to the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    /// As if live: one second of audio per second of wall-clock time.
    #[default]
    Realtime,
    /// As fast as the worker can go; the worker waits for slow listeners instead of
    /// dropping their snapshots (nothing is lost when replaying a file).
    Fast,
}

/// A sample format to ask the input device for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    /// 32-bit float.
    F32,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
}

/// Overrides of the input device's own (default) stream configuration. `None` keeps the
/// device's choice; a value the device cannot do is an error when the stream opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CaptureRequest {
    /// Sample rate to open the device at, in Hz.
    pub sample_rate_hz: Option<u32>,
    /// Channel count to open the device with (they are averaged to mono).
    pub channels: Option<u16>,
    /// Sample format to open the device with.
    pub format: Option<InputFormat>,
}

/// The voice-activity gate and utterance segmentation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VadConfig {
    /// `false` switches the gate off: every frame is speech and one utterance runs from
    /// the first frame (cut only at `max_utterance_ms`), so the trace shows the model's
    /// output after every hop from a fresh state, as `predict --timeline` does.
    pub enabled: bool,
    /// A frame quieter than this is never speech, in dBFS.
    pub threshold_dbfs: f32,
    /// A frame must also be this far above the tracked noise floor to count as speech, in dB.
    pub margin_db: f32,
    /// Speech continues this long after the last loud frame (bridges short gaps), in ms.
    pub hangover_ms: f32,
    /// This much continuous silence ends the utterance and resets the model state, in ms.
    pub silence_reset_ms: f32,
    /// An utterance longer than this is cut and the model state reset, in ms.
    pub max_utterance_ms: f32,
    /// How fast the noise floor may rise towards louder input, in dB per second.
    pub floor_rise_db_per_s: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            threshold_dbfs: -50.0,
            margin_db: 12.0,
            hangover_ms: 150.0,
            silence_reset_ms: 400.0,
            max_utterance_ms: 10_000.0,
            floor_rise_db_per_s: 3.0,
        }
    }
}

/// How the engine runs, independent of the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Voice-activity gate and utterance resets.
    pub vad: VadConfig,
    /// Time constant of the exponential smoothing of probabilities, in ms (0 = none).
    pub smoothing_ms: f32,
    /// Capacity of the capture ring between the audio callback and the worker, in ms of
    /// audio at the device's rate. Samples arriving while it is full are dropped and counted.
    pub ring_ms: u32,
    /// Capacity of each snapshot channel, in snapshots (hops).
    pub snapshot_capacity: usize,
    /// How long the worker sleeps when the ring is empty, in ms.
    pub poll_ms: u32,
    /// Wait between attempts to reopen a vanished input device, in ms.
    pub reconnect_ms: u32,
    /// Overrides of the input device's stream configuration.
    pub capture: CaptureRequest,
    /// Start paused (call `Engine::resume`), e.g. to attach a recording before the first
    /// sample is analysed.
    pub start_paused: bool,
    /// For a file source: begin this far into the file, in seconds (a seek). Stream
    /// times still start at 0; the caller adds the offset back. Decoded and skipped in
    /// memory, so no copy of the audio is written anywhere.
    #[serde(skip)]
    pub replay_start_s: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            vad: VadConfig::default(),
            smoothing_ms: 250.0,
            ring_ms: 2_000,
            snapshot_capacity: 1_024,
            poll_ms: 4,
            reconnect_ms: 1_000,
            capture: CaptureRequest::default(),
            start_paused: false,
            replay_start_s: 0.0,
        }
    }
}
