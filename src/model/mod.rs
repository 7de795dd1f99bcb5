//! The emotion model and where it runs.

pub mod device;

pub use device::{ComputeDevice, DeviceChoice, DeviceError};
