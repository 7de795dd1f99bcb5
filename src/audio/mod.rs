//! Sound in: input devices, microphone capture, file decoding and resampling to 16 kHz.

pub mod capture;
pub mod decode;
pub mod devices;
mod guard;
pub mod reader;
pub mod resample;

pub use decode::{AudioFileReader, DecodeError, DecodedAudio, decode_file, load_mono_16k};
pub use devices::{AudioHostReport, InputDeviceInfo, StreamRange, probe_inputs};
pub use resample::{ResampleError, StreamResampler, TARGET_RATE_HZ, resample_to_16k};
