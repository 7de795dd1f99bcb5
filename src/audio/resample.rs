//! Sample-rate conversion to 16 kHz (or any rate) with rubato's band-limited sinc
//! resampler (256 taps, Blackman-Harris² window, cubic interpolation between 128x
//! oversampled sinc points).
//!
//! [`StreamResampler`] takes chunks of any size and hands out output as it becomes ready,
//! already aligned (the filter's start-up delay is dropped), allocating only in `new`.
//! [`resample_to_16k`] is the whole-signal helper built on it, so a file resampled at once
//! and the same file streamed give the same samples.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, WindowFunction};

/// The rate the feature extractor and model work at, in Hz.
pub const TARGET_RATE_HZ: u32 = 16_000;

/// Input samples per resampler call.
const CHUNK: usize = 1024;

/// Taps of the sinc filter.
const SINC_LEN: usize = 256;

/// Why a resampler could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResampleError {
    /// A rate is zero or the ratio is out of range. Use rates between 1 Hz and 1 MHz.
    #[error("cannot resample {input_rate_hz} Hz to {output_rate_hz} Hz: {reason}")]
    BadRate {
        /// Input rate in Hz.
        input_rate_hz: u32,
        /// Output rate in Hz.
        output_rate_hz: u32,
        /// Why.
        reason: String,
    },
}

/// Chunk-by-chunk resampler from one fixed rate to another (mono).
pub struct StreamResampler {
    /// `None` when the rates are equal: samples pass through.
    inner: Option<Async<f32>>,
    input_rate_hz: u32,
    output_rate_hz: u32,
    in_buf: Vec<f32>,
    in_len: usize,
    out_buf: Vec<f32>,
    /// Output samples of start-up delay still to drop.
    delay_left: usize,
    n_in: u64,
    n_out: u64,
}

impl StreamResampler {
    /// A resampler from `input_rate_hz` to 16 kHz.
    pub fn new(input_rate_hz: u32) -> Result<Self, ResampleError> {
        Self::with_rates(input_rate_hz, TARGET_RATE_HZ)
    }

    /// A resampler between any two rates.
    pub fn with_rates(input_rate_hz: u32, output_rate_hz: u32) -> Result<Self, ResampleError> {
        let bad = |reason: String| ResampleError::BadRate { input_rate_hz, output_rate_hz, reason };
        let range = 1..=1_000_000;
        if !range.contains(&input_rate_hz) || !range.contains(&output_rate_hz) {
            return Err(bad("rates must be 1 Hz ..= 1 MHz".to_owned()));
        }
        let inner = if input_rate_hz == output_rate_hz {
            None
        } else {
            let ratio = f64::from(output_rate_hz) / f64::from(input_rate_hz);
            let params = SincInterpolationParameters::new(SINC_LEN, WindowFunction::BlackmanHarris2);
            Some(
                Async::new_sinc(ratio, 1.0, &params, CHUNK, 1, FixedAsync::Input)
                    .map_err(|e| bad(e.to_string()))?,
            )
        };
        let out_len = inner.as_ref().map_or(0, |r| r.output_frames_max());
        let mut s = Self {
            inner,
            input_rate_hz,
            output_rate_hz,
            in_buf: vec![0.0; CHUNK],
            in_len: 0,
            out_buf: vec![0.0; out_len],
            delay_left: 0,
            n_in: 0,
            n_out: 0,
        };
        s.reset();
        Ok(s)
    }

    /// Input rate in Hz.
    pub fn input_rate_hz(&self) -> u32 {
        self.input_rate_hz
    }

    /// Output rate in Hz.
    pub fn output_rate_hz(&self) -> u32 {
        self.output_rate_hz
    }

    /// Forgets the stream (and drops any buffered input).
    pub fn reset(&mut self) {
        self.in_len = 0;
        self.n_in = 0;
        self.n_out = 0;
        let Some(r) = &mut self.inner else { return };
        r.reset();
        // NOTE: rubato's sinc resampler delays the signal by `sinc_len / 2` input samples
        // less one output sample, a fraction of a sample for most ratios. Leading zeros
        // make the delay a whole number of output samples, which are then dropped, so
        // output sample k is the input at exactly k / output_rate seconds.
        let (q, p) = reduced_ratio(self.input_rate_hz, self.output_rate_hz);
        let half = SINC_LEN as u64 / 2;
        let lead = (q - half % q) % q;
        self.delay_left = ((half + lead) / q * p - 1) as usize;
        self.in_buf.fill(0.0);
        for _ in 0..lead / CHUNK as u64 {
            self.in_len = CHUNK;
            self.run_chunk(None, u64::MAX, &mut |_| {
                debug_assert!(false, "lead-in output is never handed out")
            });
        }
        self.in_len = (lead % CHUNK as u64) as usize;
    }

    /// Feeds input samples; calls `on_output` with each run of resampled samples that is
    /// ready (possibly none, possibly several runs).
    pub fn process(&mut self, mut input: &[f32], mut on_output: impl FnMut(&[f32])) {
        self.n_in += input.len() as u64;
        if self.inner.is_none() {
            self.n_out += input.len() as u64;
            if !input.is_empty() {
                on_output(input);
            }
            return;
        }
        while !input.is_empty() {
            let take = (CHUNK - self.in_len).min(input.len());
            self.in_buf[self.in_len..self.in_len + take].copy_from_slice(&input[..take]);
            self.in_len += take;
            input = &input[take..];
            if self.in_len == CHUNK {
                self.run_chunk(None, u64::MAX, &mut on_output);
            }
        }
    }

    /// Ends the stream: resamples what is buffered, flushes the filter, hands out the
    /// remaining output (in total `ceil(n_in * out_rate / in_rate)` samples since the
    /// start), then resets.
    pub fn finish(&mut self, mut on_output: impl FnMut(&[f32])) {
        if self.inner.is_some() {
            let total = (self.n_in as f64 * f64::from(self.output_rate_hz) / f64::from(self.input_rate_hz))
                .ceil() as u64;
            let mut partial = Some(self.in_len);
            while self.n_out < total {
                self.in_buf[self.in_len..].fill(0.0);
                self.run_chunk(Some(partial.take().unwrap_or(0)), total, &mut on_output);
            }
        }
        self.reset();
    }

    fn run_chunk(&mut self, partial_len: Option<usize>, limit: u64, on_output: &mut impl FnMut(&[f32])) {
        let Some(r) = &mut self.inner else { return };
        let indexing = partial_len.map(|n| rubato::Indexing { partial_len: Some(n), ..Default::default() });
        let out_len = self.out_buf.len();
        // NOTE: both adapters are sized from the resampler's own maxima, so neither the
        // adapters nor `process_into_buffer` can fail; a failure would drop this chunk.
        let (Ok(input), Ok(mut output)) = (
            InterleavedSlice::new(&self.in_buf, 1, CHUNK),
            InterleavedSlice::new_mut(&mut self.out_buf, 1, out_len),
        ) else {
            return;
        };
        let produced = match r.process_into_buffer(&input, &mut output, indexing.as_ref()) {
            Ok((_, produced)) => produced,
            Err(_) => 0,
        };
        self.in_len = 0;
        let skip = self.delay_left.min(produced);
        self.delay_left -= skip;
        let room = usize::try_from(limit - self.n_out).unwrap_or(usize::MAX);
        let ready = &self.out_buf[skip..produced.min(skip.saturating_add(room))];
        self.n_out += ready.len() as u64;
        if !ready.is_empty() {
            on_output(ready);
        }
    }
}

/// `(input, output)` rates divided by their greatest common divisor.
fn reduced_ratio(input_rate_hz: u32, output_rate_hz: u32) -> (u64, u64) {
    let (mut a, mut b) = (u64::from(input_rate_hz), u64::from(output_rate_hz));
    while b != 0 {
        (a, b) = (b, a % b);
    }
    (u64::from(input_rate_hz) / a, u64::from(output_rate_hz) / a)
}

/// Resamples a whole signal from `input_rate_hz` to 16 kHz; the output has
/// `ceil(len * 16000 / input_rate_hz)` samples, aligned with the input.
pub fn resample_to_16k(samples: &[f32], input_rate_hz: u32) -> Result<Vec<f32>, ResampleError> {
    let mut r = StreamResampler::new(input_rate_hz)?;
    let mut out =
        Vec::with_capacity((samples.len() as f64 * 16_000.0 / f64::from(input_rate_hz)) as usize + 16);
    r.process(samples, |s| out.extend_from_slice(s));
    r.finish(|s| out.extend_from_slice(s));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f64, rate_hz: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * freq_hz * i as f64 / f64::from(rate_hz)).sin() as f32)
            .collect()
    }

    /// A tone at 8, 22.05, 24.414, 44.1 and 48 kHz becomes the same tone at 16 kHz, in
    /// phase (the delay is removed exactly), with the right number of samples.
    #[test]
    fn tone_survives_in_phase() {
        for rate in [8_000, 22_050, 24_414, 44_100, 48_000] {
            let out = resample_to_16k(&sine(1000.0, rate, rate as usize), rate).unwrap();
            assert_eq!(out.len(), 16_000, "{rate}");
            let want = sine(1000.0, 16_000, 16_000);
            let err = out[500..15_500]
                .iter()
                .zip(&want[500..15_500])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            // Tolerance: a misalignment of 1/40 output sample would already exceed it;
            // what remains is rubato's sinc table being centred to within 1/128 of an
            // input sample (0.006 at 8 kHz, under 0.002 for the downsampling rates).
            assert!(err < 1e-2, "{rate} Hz: max error {err}");
        }
    }

    /// A 10 kHz tone at 44.1 kHz is above the new 8 kHz Nyquist: it must be filtered out,
    /// not aliased to 6 kHz.
    #[test]
    fn removes_content_above_nyquist() {
        let out = resample_to_16k(&sine(10_000.0, 44_100, 44_100), 44_100).unwrap();
        let rms = (out[1000..15_000].iter().map(|x| x * x).sum::<f32>() / 14_000.0).sqrt();
        assert!(rms < 1e-3, "aliased energy rms {rms}");
    }

    /// Chunk sizes do not change the output: streaming equals the batch helper.
    #[test]
    fn chunking_does_not_matter() {
        let input = sine(440.0, 22_050, 10_000);
        let whole = resample_to_16k(&input, 22_050).unwrap();
        let mut r = StreamResampler::new(22_050).unwrap();
        let mut out = Vec::new();
        for chunk in input.chunks(37) {
            r.process(chunk, |s| out.extend_from_slice(s));
        }
        r.finish(|s| out.extend_from_slice(s));
        assert_eq!(out, whole);
    }

    /// Equal rates pass samples through unchanged; zero rates are errors.
    #[test]
    fn passthrough_and_bad_rates() {
        let x = [0.1, 0.2, 0.3];
        assert_eq!(resample_to_16k(&x, 16_000).unwrap(), x);
        assert!(StreamResampler::new(0).is_err());
    }
}
