//! A recorded session's audio, read from any sample on: the plain `audio.wav` (16-bit
//! mono, through hound with seeking) or the sealed `audio.pcm.sealed` (only the segments
//! a read touches are decrypted). Nothing is ever copied out of the session folder.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::sealed::{SealedError, SealedReader};

/// Why the audio could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AudioReadError {
    /// The WAV is unreadable: see the reason (repair it by recording into its folder).
    #[error("cannot read {}: {reason}", path.display())]
    Wav {
        /// The file.
        path: std::path::PathBuf,
        /// hound's reason.
        reason: String,
    },
    /// The sealed audio is unreadable.
    #[error(transparent)]
    Sealed(#[from] SealedError),
}

/// A session's audio, 16 kHz mono.
pub enum SessionAudio {
    /// `audio.wav`.
    Wav {
        /// The reader (seeks by sample).
        reader: hound::WavReader<BufReader<File>>,
        /// The file, for errors.
        path: std::path::PathBuf,
        /// Where the reader stands, in samples.
        at: u64,
    },
    /// `audio.pcm.sealed`.
    Sealed(SealedReader),
}

impl SessionAudio {
    /// Opens a plain WAV.
    pub fn open_wav(path: &Path) -> Result<Self, AudioReadError> {
        let fail = |e: hound::Error| AudioReadError::Wav { path: path.to_owned(), reason: e.to_string() };
        let reader = hound::WavReader::open(path).map_err(fail)?;
        let spec = reader.spec();
        if spec.channels != 1 || spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int
        {
            return Err(AudioReadError::Wav {
                path: path.to_owned(),
                reason: "not the 16-bit mono WAV a session records".into(),
            });
        }
        Ok(SessionAudio::Wav { reader, path: path.to_owned(), at: 0 })
    }

    /// Sample rate, in Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        match self {
            SessionAudio::Wav { reader, .. } => reader.spec().sample_rate,
            SessionAudio::Sealed(_) => crate::engine::recorder::RECORD_RATE_HZ,
        }
    }

    /// Samples in the file.
    pub fn len_samples(&self) -> u64 {
        match self {
            SessionAudio::Wav { reader, .. } => u64::from(reader.len()),
            SessionAudio::Sealed(sealed) => sealed.len() / 2,
        }
    }

    /// Seconds of audio.
    pub fn duration_s(&self) -> f64 {
        self.len_samples() as f64 / f64::from(self.sample_rate_hz())
    }

    /// Fills `out` with samples in [-1, 1) from sample `start` on; returns how many (fewer
    /// at the end).
    pub fn read(&mut self, start: u64, out: &mut [f32]) -> Result<usize, AudioReadError> {
        let total = self.len_samples();
        if start >= total {
            return Ok(0);
        }
        let n = usize::try_from((total - start).min(out.len() as u64)).unwrap_or(out.len());
        match self {
            SessionAudio::Wav { reader, path, at } => {
                let fail =
                    |e: hound::Error| AudioReadError::Wav { path: path.clone(), reason: e.to_string() };
                if *at != start {
                    let to = u32::try_from(start).unwrap_or(u32::MAX);
                    reader.seek(to).map_err(|e| fail(hound::Error::IoError(e)))?;
                }
                let mut got = 0;
                for (slot, sample) in out[..n].iter_mut().zip(reader.samples::<i16>()) {
                    *slot = f32::from(sample.map_err(fail)?) / 32_768.0;
                    got += 1;
                }
                *at = start + got as u64;
                Ok(got)
            }
            SessionAudio::Sealed(sealed) => {
                let mut bytes = vec![0u8; n * 2];
                let got = sealed.read_at(start * 2, &mut bytes)? / 2;
                for (slot, pair) in out[..got].iter_mut().zip(bytes.chunks_exact(2)) {
                    *slot = f32::from(i16::from_le_bytes([pair[0], pair[1]])) / 32_768.0;
                }
                bytes.fill(0);
                Ok(got)
            }
        }
    }
}
