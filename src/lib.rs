//! emotrace: real-time speech emotion recognition.
//!
//! The data's journey, a module per stage: `audio` (devices, capture, decoding,
//! resampling) -> `features` (log-mel, MFCC, chroma, spectral statistics) -> `model`
//! (compute device, LSTM) -> `engine` (the real-time pipeline) -> `cli` (the commands).

pub mod audio;
pub mod cli;
pub mod engine;
pub mod features;
pub mod model;
