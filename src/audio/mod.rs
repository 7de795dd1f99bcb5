//! Sound in: input devices and, as later stages land, capture and decoding.

pub mod capture;
pub mod devices;

pub use devices::{AudioHostReport, InputDeviceInfo, StreamRange, probe_inputs};
