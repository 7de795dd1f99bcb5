//! emotrace: real-time speech emotion recognition.
//!
//! The data's journey, a module per stage: `audio` (devices, capture, decoding,
//! resampling) -> `features` (log-mel, MFCC, chroma, spectral statistics) -> `data`
//! (corpora, splits, cache, augmentation) -> `model` (the dual-layer LSTM, streaming, model
//! files) -> `train` (training, evaluation, reports) -> `engine` (the real-time pipeline)
//! -> `app` (the monitor window) -> `cli` (the commands); `sessions` reads recorded
//! sessions back (privacy, encryption, library, review).

pub mod app;
pub mod audio;
pub mod batch;
pub mod cli;
pub mod data;
pub mod engine;
pub mod features;
pub mod model;
pub mod report;
pub mod sessions;
pub mod train;
