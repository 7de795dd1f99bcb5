//! Scoring many recordings: `emotrace predict DIR` on every core.
//!
//! - [`score`]: one file, held whole and run batched, or streamed when long.
//! - [`streamed`] and [`signal`]: the streamed path (bounded memory).
//! - [`pool`]: a worker per core, each with its own model and one libtorch thread,
//!   results handed back in the order of the file list as soon as they are ready.
//! - [`output`]: CSV / JSON lines written a file at a time; [`resume`] reads what an
//!   interrupted run wrote so the next one skips it.

pub mod output;
pub mod pool;
pub mod resume;
pub mod score;
pub mod signal;
pub mod streamed;

pub use output::{OutputFormat, ResultWriter};
pub use pool::{PoolOptions, score_in_order};
pub use score::{DEFAULT_STREAM_OVER_S, FileReport, ScoreOptions, Scored, score_file};

use crate::audio::decode::DecodeError;
use crate::features::FeatureError;
use crate::model::timeline::PredictError;
use crate::model::{ModelError, StreamError};

/// Why a recording could not be scored; the message names the file where the cause does.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// The file cannot be read or decoded: fix or convert the file.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Its samples cannot be turned into features (e.g. non-finite values).
    #[error("features: {0}")]
    Features(#[from] FeatureError),
    /// The batched model failed (should not happen with a validated model).
    #[error(transparent)]
    Predict(#[from] PredictError),
    /// The model could not be loaded by a worker.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A streaming step failed (should not happen with a validated model).
    #[error("model step: {0}")]
    Stream(#[from] StreamError),
    /// The worker scoring it stopped unexpectedly (a bug); the other files go on.
    #[error("worker stopped: {0}")]
    Worker(String),
}
