//! The emotion model: the dual-layer LSTM network, its streaming state, the model card and
//! files, where models are found, and where they run.

pub mod calibration;
pub mod card;
pub mod device;
pub mod emotion;
mod error;
pub mod file;
pub mod fused;
pub mod lookup;
pub mod network;
pub mod stream;
pub mod stream_torch;
pub mod timeline;

pub use calibration::{Calibration, CalibrationError};
pub use card::{Decision, ModelCard, Preprocess};
pub use device::{ComputeDevice, DeviceChoice, DeviceError};
pub use emotion::Emotion;
pub use error::ModelError;
pub use file::{EmotionModel, LiveClassifier, Probabilities};
pub use network::{Architecture, EmotionNet};
pub use stream::{StreamError, StreamState, StreamWeights};
