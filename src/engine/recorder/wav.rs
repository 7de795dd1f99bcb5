//! The session's audio as a 16-bit mono WAV file whose header stays valid while it grows.
//!
//! Every [`SessionWav::flush`] writes the buffered samples and then rewrites the RIFF and
//! data chunk sizes (hound's `flush`), so a process killed at any moment leaves a file
//! that plays: its header names at most the samples of the last flush, and any bytes
//! written after that are ignored by readers until the next flush would have counted them.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// Appends mono samples to a WAV file, keeping its header valid at each flush.
pub struct SessionWav {
    writer: hound::WavWriter<BufWriter<File>>,
    /// A second handle on the same file, to sync it to disk at the end.
    sync_handle: File,
    path: PathBuf,
    sample_rate_hz: u32,
    samples: u64,
    /// Samples the header counted at the last successful flush: what a reader sees.
    flushed: u64,
}

impl SessionWav {
    /// Creates `path` (a new private file: `0600`) as 16-bit PCM mono at
    /// `sample_rate_hz`, and writes a valid empty header at once.
    pub fn create(path: &Path, sample_rate_hz: u32) -> io::Result<Self> {
        let file = crate::sessions::private::create_private_file(path)?;
        let sync_handle = file.try_clone()?;
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: sample_rate_hz,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer =
            hound::WavWriter::new(BufWriter::with_capacity(64 * 1024, file), spec).map_err(to_io)?;
        writer.flush().map_err(to_io)?;
        Ok(Self { writer, sync_handle, path: path.to_owned(), sample_rate_hz, samples: 0, flushed: 0 })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples written so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Seconds of audio written so far.
    pub fn duration_s(&self) -> f64 {
        self.samples as f64 / f64::from(self.sample_rate_hz)
    }

    /// Seconds of audio the file holds for a reader (as of the last successful flush).
    pub fn kept_s(&self) -> f64 {
        self.flushed as f64 / f64::from(self.sample_rate_hz)
    }

    /// A handle on the open file (for locking it while the session runs).
    pub fn file(&self) -> &File {
        &self.sync_handle
    }

    /// Appends samples in [-1, 1] (clipped outside), rounded to 16 bits.
    pub fn write(&mut self, samples: &[f32]) -> io::Result<()> {
        for &s in samples {
            self.writer.write_sample(to_i16(s)).map_err(to_io)?;
        }
        self.samples += samples.len() as u64;
        Ok(())
    }

    /// Writes buffered samples and updates the header so the file is complete up to here.
    pub fn flush(&mut self) -> io::Result<()> {
        self.writer.flush().map_err(to_io)?;
        self.flushed = self.samples;
        Ok(())
    }

    /// Completes the file (header and data) and syncs it to disk.
    pub fn finish(&mut self) -> io::Result<()> {
        self.flush()?;
        self.sync_handle.sync_all()
    }
}

/// One float sample as 16-bit PCM: scaled by 32768, rounded, clipped.
pub fn to_i16(sample: f32) -> i16 {
    let scaled = (sample * 32_768.0).round();
    if scaled.is_nan() {
        0
    } else {
        // NOTE: clamped to the i16 range first, so the cast is exact.
        scaled.clamp(-32_768.0, 32_767.0) as i16
    }
}

fn to_io(err: hound::Error) -> io::Error {
    match err {
        hound::Error::IoError(e) => e,
        other => io::Error::other(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_to_i16_rounds_and_clips() {
        assert_eq!(to_i16(0.0), 0);
        assert_eq!(to_i16(0.5), 16_384);
        assert_eq!(to_i16(-1.0), -32_768);
        assert_eq!(to_i16(1.0), 32_767);
        assert_eq!(to_i16(3.0), 32_767);
        assert_eq!(to_i16(f32::NAN), 0);
        assert_eq!(to_i16(100.0 / 32_768.0), 100);
    }

    /// After each flush, a reader sees exactly the samples written so far, even though
    /// the writer is still open (as after a SIGKILL).
    #[test]
    fn header_is_valid_after_every_flush() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("audio.wav");
        let mut wav = SessionWav::create(&path, 16_000).expect("create");
        assert_eq!(hound::WavReader::open(&path).expect("empty file is valid").len(), 0);
        wav.write(&[0.25; 1000]).expect("write");
        wav.flush().expect("flush");
        let reader = hound::WavReader::open(&path).expect("valid while open");
        assert_eq!(reader.len(), 1000);
        wav.write(&[-0.5; 600]).expect("write");
        wav.flush().expect("flush");
        let mut reader = hound::WavReader::open(&path).expect("valid while open");
        assert_eq!(reader.spec().sample_rate, 16_000);
        let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.expect("sample")).collect();
        assert_eq!(samples.len(), 1600);
        assert_eq!(samples[0], 8_192);
        assert_eq!(samples[1599], -16_384);
        wav.finish().expect("finish");
        assert!(SessionWav::create(&path, 16_000).is_err(), "never overwrites a recording");
    }
}
