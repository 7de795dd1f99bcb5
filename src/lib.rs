//! emotrace: real-time speech emotion recognition.
//!
//! The data's journey, a module per stage: `audio` (devices, capture) -> `model`
//! (compute device, LSTM) -> `cli` (the commands).

pub mod audio;
pub mod cli;
pub mod data;
pub mod model;
