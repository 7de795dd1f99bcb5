//! The emotion model and where it runs.

pub mod device;
pub mod emotion;

pub use device::{ComputeDevice, DeviceChoice, DeviceError};
pub use emotion::Emotion;
