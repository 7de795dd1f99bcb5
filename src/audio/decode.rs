//! Audio files in, mono f32 samples out (symphonia): WAV (8/16/24/32-bit integer, 32-bit
//! float), FLAC, MP3, OGG/Vorbis.
//!
//! - [`decode_file`]: a whole file at its own rate; [`load_mono_16k`]: the same, resampled
//!   to 16 kHz with a band-limited sinc resampler.
//! - [`AudioFileReader`]: the same decoding a packet at a time, for files too long to hold.
//!
//! Channels are averaged to mono. A file cut short inside its audio data keeps the samples
//! before the cut; corrupt packets are skipped and counted. NaN or infinite samples (float
//! WAV) are an error naming the file and the sample: such a file is corrupt, and features
//! of it would be meaningless.

use std::io;
use std::path::{Path, PathBuf};

pub use super::reader::AudioFileReader;
use super::resample::{ResampleError, TARGET_RATE_HZ, resample_to_16k};

/// Lowest sample rate a file may state, in Hz.
pub const MIN_RATE_HZ: u32 = 1_000;
/// Highest sample rate a file may state, in Hz.
pub const MAX_RATE_HZ: u32 = 768_000;

/// Why a file could not be decoded. Every variant names the file; the message is one line
/// (`Io` and `Resample` carry their cause as `source()`).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be opened or read. Check the path and permissions.
    #[error("{}: cannot read", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The file has zero bytes. Record or export it again.
    #[error("{}: file is empty (0 bytes)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file starts like an audio file but its header is cut short or corrupt.
    /// Re-export or re-download it.
    #[error("{}: truncated or corrupt {format} header ({reason})", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The container its first bytes announce.
        format: &'static str,
        /// What the demuxer reported.
        reason: String,
    },
    /// The file is not in a format this build reads (WAV, FLAC, MP3, OGG). Convert it.
    #[error("{}: not an audio file this program reads (WAV, FLAC, MP3, OGG/Vorbis)", path.display())]
    NotAudio {
        /// The file.
        path: PathBuf,
    },
    /// The container is readable but holds no audio track. Pick another file.
    #[error("{}: no audio track", path.display())]
    NoAudioTrack {
        /// The file.
        path: PathBuf,
    },
    /// The audio track uses a codec or feature this build cannot decode. Convert the file
    /// to WAV or FLAC.
    #[error("{}: unsupported audio codec or format feature ({reason})", path.display())]
    UnsupportedCodec {
        /// The file.
        path: PathBuf,
        /// What symphonia reported.
        reason: String,
    },
    /// The audio track has no (valid) sample rate. The file is corrupt.
    #[error("{}: no valid sample rate in the audio track", path.display())]
    NoSampleRate {
        /// The file.
        path: PathBuf,
    },
    /// The header states a sample rate outside [`MIN_RATE_HZ`]..=[`MAX_RATE_HZ`] (0 Hz or
    /// an absurd rate): the file is corrupt, or not meant as audio.
    #[error("{}: sample rate {rate_hz} Hz is outside {MIN_RATE_HZ}..={MAX_RATE_HZ} Hz (corrupt header?)", path.display())]
    BadSampleRate {
        /// The file.
        path: PathBuf,
        /// The rate the header states, in Hz.
        rate_hz: u32,
    },
    /// Decoding found no samples at all. The recording is empty.
    #[error("{}: contains no audio samples", path.display())]
    NoSamples {
        /// The file.
        path: PathBuf,
    },
    /// A sample is NaN or infinite (float WAV). The file is corrupt.
    #[error("{}: sample {index} is NaN or infinite (corrupt float audio)", path.display())]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// Index of the first bad mono sample.
        index: u64,
    },
    /// Decoding failed partway in a way that cannot be skipped. The file is corrupt.
    #[error("{}: cannot decode: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What symphonia reported.
        reason: String,
    },
    /// Resampling to 16 kHz failed (a rate the resampler cannot handle).
    #[error("{}: cannot resample to 16 kHz", path.display())]
    Resample {
        /// The file.
        path: PathBuf,
        /// The resampler's reason.
        source: ResampleError,
    },
}

/// A decoded file: mono samples at the file's own rate.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedAudio {
    /// Mono samples (channels averaged), nominally in -1..1.
    pub samples: Vec<f32>,
    /// The file's sample rate, in Hz.
    pub sample_rate_hz: u32,
    /// Channels in the file before mixing to mono.
    pub channels: usize,
    /// Corrupt packets skipped while decoding.
    pub skipped_packets: u64,
}

impl DecodedAudio {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate_hz)
    }
}

/// Decodes a whole file to mono at its own sample rate.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, DecodeError> {
    let mut reader = AudioFileReader::open(path)?;
    // NOTE: the stated length is only a hint (a corrupt header can claim billions of
    // frames); reserve at most what the file's bytes could plausibly hold as PCM.
    let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    let hint = reader.total_frames_hint().unwrap_or(0).min(file_bytes).min(1 << 26);
    let mut samples = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    let mut chunk = Vec::new();
    while reader.read_chunk(&mut chunk)? > 0 {
        samples.extend_from_slice(&chunk);
    }
    if samples.is_empty() {
        return Err(DecodeError::NoSamples { path: path.to_owned() });
    }
    Ok(DecodedAudio {
        samples,
        sample_rate_hz: reader.sample_rate_hz(),
        channels: reader.channels(),
        skipped_packets: reader.skipped_packets(),
    })
}

/// Decodes a file to mono and resamples it to 16 kHz (band-limited sinc; a 16 kHz file is
/// passed through untouched).
pub fn load_mono_16k(path: &Path) -> Result<Vec<f32>, DecodeError> {
    let audio = decode_file(path)?;
    if audio.sample_rate_hz == TARGET_RATE_HZ {
        return Ok(audio.samples);
    }
    resample_to_16k(&audio.samples, audio.sample_rate_hz)
        .map_err(|source| DecodeError::Resample { path: path.to_owned(), source })
}
