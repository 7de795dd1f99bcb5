//! The real-time engine: audio in (microphone or file), one [`Snapshot`] per hop out.
//!
//! ```text
//! cpal callback -> mono f32 -> ring ──> worker thread: resample to 16 kHz -> features
//!   -> voice-activity gate -> LSTM step -> smoothing -> Snapshot ──> listeners
//!                                                              └──> recorder thread
//! ```
//!
//! - [`snapshot`]: what listeners receive, a fixed-size `Copy` value per hop.
//! - [`handle`]: the [`Engine`] a listener holds (snapshots, events, status, commands).
//! - [`config`]: sources and settings; [`vad`] and [`smoothing`]: the per-frame logic;
//!   [`recorder`]: trace, WAV and summary writers on their own thread.

pub mod classifier;
pub mod config;
pub mod error;
pub mod events;
pub mod handle;
pub mod level;
mod live;
pub mod lstm;
pub mod measure;
pub mod offline;
pub mod outputs;
pub mod pipeline;
pub mod recorder;
mod replay;
pub mod smoothing;
pub mod snapshot;
pub mod soak;
pub mod stop_signals;
pub mod vad;
mod worker;

pub use classifier::FrameClassifier;
pub use config::{CaptureRequest, EngineConfig, InputFormat, Pace, Source, VadConfig};
pub use error::EngineError;
pub use events::{EngineEvent, EngineStatus, RunState};
pub use handle::{Engine, EngineReport, EngineSetup};
pub use live::RingDrain;
pub use lstm::{LoadedModel, load_model};
pub use outputs::Outputs;
pub use pipeline::{CollectSink, Pipeline, PipelineSink, StageTimes};
pub use recorder::{Marker, RecordOptions, SessionSummary, TraceFormat, new_session_dir};
pub use snapshot::{MAX_MEL_BANDS, MelColumn, NO_SPEECH, Probabilities, SPEECH, Snapshot};
pub use worker::{prepare_worker_thread, start_engine, start_engine_on_ring};
