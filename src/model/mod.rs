//! The emotion model and where it runs.

pub mod device;
pub mod emotion;
pub mod network;
pub mod stream;

pub use device::{ComputeDevice, DeviceChoice, DeviceError};
pub use emotion::Emotion;
pub use network::{Architecture, EmotionNet};
pub use stream::{StreamError, StreamState, StreamWeights};
