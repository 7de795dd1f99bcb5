//! Where the recorded audio goes: a WAV file whose header stays valid as it grows
//! ([`SessionWav`]), or, for an encrypted session, a sealed file of 16-bit little-endian
//! mono PCM, one encrypted segment per flush (nothing reaches the disk in plaintext).

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use super::wav::{SessionWav, to_i16};
use crate::sessions::keys::SessionKeys;
use crate::sessions::sealed::{SealedWriter, StreamTag};

/// The audio file's name in a plain session folder.
pub const WAV_FILE: &str = "audio.wav";
/// The audio file's name in an encrypted session folder.
pub const SEALED_AUDIO_FILE: &str = "audio.pcm.sealed";

/// The recorder's audio file.
pub enum AudioSink {
    /// A plain WAV file.
    Wav(SessionWav),
    /// Encrypted PCM.
    Sealed(SealedAudio),
}

impl AudioSink {
    /// Appends samples in [-1, 1] (clipped outside), rounded to 16 bits.
    pub fn write(&mut self, samples: &[f32]) -> io::Result<()> {
        match self {
            AudioSink::Wav(wav) => wav.write(samples),
            AudioSink::Sealed(sealed) => {
                sealed.write(samples);
                Ok(())
            }
        }
    }

    /// Makes everything written so far readable in the file.
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            AudioSink::Wav(wav) => wav.flush(),
            AudioSink::Sealed(sealed) => sealed.flush(),
        }
    }

    /// Completes the file and syncs it to disk.
    pub fn finish(&mut self) -> io::Result<()> {
        match self {
            AudioSink::Wav(wav) => wav.finish(),
            AudioSink::Sealed(sealed) => sealed.finish(),
        }
    }

    /// Seconds of audio a reader finds in the file (as of the last successful flush).
    pub fn kept_s(&self) -> f64 {
        match self {
            AudioSink::Wav(wav) => wav.kept_s(),
            AudioSink::Sealed(sealed) => sealed.flushed as f64 / f64::from(sealed.sample_rate_hz),
        }
    }

    /// A handle on the open file (for locking it while the session runs).
    pub fn file(&self) -> &File {
        match self {
            AudioSink::Wav(wav) => wav.file(),
            AudioSink::Sealed(sealed) => sealed.writer.file(),
        }
    }
}

/// 16-bit PCM sealed a flush at a time.
pub struct SealedAudio {
    writer: SealedWriter,
    pending: Vec<u8>,
    sample_rate_hz: u32,
    samples: u64,
    flushed: u64,
}

impl SealedAudio {
    /// Creates `path` (a new private file) for audio at `sample_rate_hz`.
    pub fn create(path: &Path, sample_rate_hz: u32, keys: Arc<SessionKeys>) -> io::Result<Self> {
        let writer = SealedWriter::create(path, keys, StreamTag::Audio)?;
        // Two flush intervals of audio, so the buffer rarely grows.
        let pending = Vec::with_capacity(sample_rate_hz as usize * 2);
        Ok(Self { writer, pending, sample_rate_hz, samples: 0, flushed: 0 })
    }

    fn write(&mut self, samples: &[f32]) {
        for &s in samples {
            self.pending.extend_from_slice(&to_i16(s).to_le_bytes());
        }
        self.samples += samples.len() as u64;
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.append(&self.pending)?;
        self.pending.fill(0);
        self.pending.clear();
        self.flushed = self.samples;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.writer.finish(&self.pending)?;
        self.pending.fill(0);
        self.pending.clear();
        self.flushed = self.samples;
        Ok(())
    }
}
