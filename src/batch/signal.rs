//! A recording read as a stream of 16 kHz mono samples, a packet at a time, and the
//! trimming of its silent ends computed on that stream: what scoring a long recording
//! needs without ever holding it.

use std::ops::Range;
use std::path::Path;

use crate::audio::decode::DecodeError;
use crate::audio::reader::AudioFileReader;
use crate::audio::resample::{StreamResampler, TARGET_RATE_HZ};
use crate::data::trim::Preprocess;

/// Calls `on_chunk` with the file's samples, mono at 16 kHz, in order, a packet at a time;
/// returns how many there were. A file with no samples is an error.
pub fn for_each_chunk_16k(path: &Path, mut on_chunk: impl FnMut(&[f32])) -> Result<u64, DecodeError> {
    let mut reader = AudioFileReader::open(path)?;
    let mut resampler = if reader.sample_rate_hz() == TARGET_RATE_HZ {
        None
    } else {
        Some(
            StreamResampler::new(reader.sample_rate_hz())
                .map_err(|source| DecodeError::Resample { path: path.to_owned(), source })?,
        )
    };
    let mut total = 0u64;
    let mut counted = |samples: &[f32]| {
        total += samples.len() as u64;
        on_chunk(samples);
    };
    let mut packet = Vec::new();
    while reader.read_chunk(&mut packet)? > 0 {
        match &mut resampler {
            Some(r) => r.process(&packet, &mut counted),
            None => counted(&packet),
        }
    }
    if let Some(r) = &mut resampler {
        r.finish(&mut counted);
    }
    if total == 0 {
        return Err(DecodeError::NoSamples { path: path.to_owned() });
    }
    Ok(total)
}

/// Energy (mean square) of consecutive frames of `frame` samples, the last one possibly
/// shorter, fed sample runs of any length.
#[derive(Debug)]
struct FrameEnergies {
    frame: usize,
    sum: f64,
    filled: usize,
    index: usize,
}

impl FrameEnergies {
    fn new(frame: usize) -> Self {
        Self { frame: frame.max(1), sum: 0.0, filled: 0, index: 0 }
    }

    /// Calls `on_energy(frame index, energy)` for every frame completed by `samples`.
    fn push(&mut self, samples: &[f32], mut on_energy: impl FnMut(usize, f64)) {
        for &x in samples {
            self.sum += f64::from(x) * f64::from(x);
            self.filled += 1;
            if self.filled == self.frame {
                on_energy(self.index, self.sum / self.frame as f64);
                (self.sum, self.filled) = (0.0, 0);
                self.index += 1;
            }
        }
    }

    /// The last, shorter frame, if any.
    fn finish(&mut self, mut on_energy: impl FnMut(usize, f64)) {
        if self.filled > 0 {
            on_energy(self.index, self.sum / self.filled as f64);
        }
    }
}

/// The range of the file's 16 kHz samples to keep: the same range
/// [`trim_range`](crate::data::trim::trim_range) gives on the whole signal, found in two
/// streamed passes over the file (the loudest frame, then the first and last loud ones)
/// so that memory does not grow with the recording.
pub fn streamed_trim_range(path: &Path, config: &Preprocess) -> Result<Range<u64>, DecodeError> {
    // NOTE: the rules (25 ms frames, threshold below the loudest, padding) mirror
    // `trim_range`; `tests` below check both agree on the same signals.
    let rate = u64::from(TARGET_RATE_HZ);
    let frame = (rate * 25 / 1000).max(1) as usize;
    let mut energies = FrameEnergies::new(frame);
    let mut peak = 0.0f64;
    let mut keep_peak = |_: usize, e: f64| peak = peak.max(e);
    let total = for_each_chunk_16k(path, |s| energies.push(s, &mut keep_peak))?;
    energies.finish(&mut keep_peak);
    let whole = 0..total;
    if config.trim_below_peak_db <= 0.0 || total < 2 * frame as u64 || peak <= 0.0 || !peak.is_finite() {
        return Ok(whole);
    }
    let threshold = peak * 10f64.powf(-f64::from(config.trim_below_peak_db) / 10.0);
    let mut loud: Option<(usize, usize)> = None;
    let mut note = |i: usize, e: f64| {
        if e >= threshold {
            loud = Some(loud.map_or((i, i), |(first, _)| (first, i)));
        }
    };
    let mut energies = FrameEnergies::new(frame);
    for_each_chunk_16k(path, |s| energies.push(s, &mut note))?;
    energies.finish(&mut note);
    let Some((first, last)) = loud else { return Ok(whole) };
    let pad = (config.trim_pad_ms.max(0.0) as u64) * rate / 1000;
    let start = (first as u64 * frame as u64).saturating_sub(pad);
    let end = ((last as u64 + 1) * frame as u64 + pad).min(total);
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::trim::trim_range;

    fn write_wav(path: &Path, samples: &[f32]) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("wav");
        samples.iter().for_each(|&s| w.write_sample(s).expect("sample"));
        w.finalize().expect("finalize");
    }

    /// The streamed trim equals `trim_range` on the whole signal: a tone inside silence,
    /// a signal whose length is not a whole number of frames, silence, and trimming off.
    #[test]
    fn streamed_trim_equals_trim_range() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("x.wav");
        let tone = |n: usize, amp: f32| (0..n).map(move |i| (i as f32 * 0.21).sin() * amp);
        let mut speech: Vec<f32> = vec![0.0; 12_345];
        speech.extend(tone(9_000, 0.4));
        speech.extend(vec![1e-4; 3_000]);
        speech.extend(tone(4_321, 0.05));
        speech.extend(vec![0.0; 20_017]);
        let signals = [speech, vec![0.0; 5_000], tone(70, 0.3).collect()];
        let configs = [
            Preprocess::default(),
            Preprocess { trim_below_peak_db: 20.0, trim_pad_ms: 35.0 },
            Preprocess { trim_below_peak_db: 0.0, trim_pad_ms: 200.0 },
        ];
        for signal in &signals {
            write_wav(&path, signal);
            for config in &configs {
                let expected = trim_range(signal, 16_000, config);
                let got = streamed_trim_range(&path, config).expect("trim");
                assert_eq!(
                    (got.start as usize, got.end as usize),
                    (expected.start, expected.end),
                    "{config:?}"
                );
            }
        }
    }
}
