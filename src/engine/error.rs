//! Why the engine could not start or do what was asked.

use crate::audio::capture::CaptureError;

use super::recorder::RecorderError;
use super::snapshot::MAX_MEL_BANDS;

/// Engine errors. Each variant's doc says what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input device could not be found or opened: see the message, then pick a
    /// device from `emotrace devices`.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The file could not be opened or decoded: check the path and that it is audio.
    #[error("{0}")]
    File(String),
    /// The model could not be loaded: check the path, or retrain/redownload it.
    #[error("{0}")]
    Model(String),
    /// The model's features need more mel bands than a snapshot carries: use a model
    /// with at most this many.
    #[error("the model uses {n_mels} mel bands; the engine shows at most {MAX_MEL_BANDS}")]
    TooManyMelBands {
        /// Bands the model's feature config asks for.
        n_mels: usize,
    },
    /// The pipeline could not be built for this input (e.g. an impossible sample rate).
    #[error("{0}")]
    Pipeline(String),
    /// A recording could not start: see the message (folder, permissions, disk).
    #[error(transparent)]
    Recorder(#[from] RecorderError),
    /// A thread could not be started: the system is out of resources.
    #[error("cannot start the engine's worker thread: {0}")]
    Thread(std::io::Error),
    /// The session has already ended: start a new one.
    #[error("the session has already ended")]
    Stopped,
}
