//! One frame in, its static features out: the shared core of the batch and streaming
//! extractors. Everything is allocated in `new`; `analyze` only writes into owned buffers.

use std::ops::Range;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::denoise::NoiseTracker;
use super::filters::{SparseBank, chroma_bank, dct_ortho, fft_frequencies_hz, padded_hann, warped_mel_bank};
use super::pitch::{N_PITCH, PitchTracker};
use super::spectral::{self, AMIN, ContrastBand};
use super::{FeatureConfig, FeatureError};

/// Largest sample magnitude analysed; larger (finite) samples are clipped to it.
///
/// Audio is nominally in -1..1 (float files may overshoot a little). Without a bound, a
/// sample near `f32::MAX` overflows the power spectrum to infinity and the features to
/// NaN; at this bound every intermediate value stays far inside `f32`'s range.
pub const MAX_SAMPLE_ABS: f32 = 1_000.0;

/// A finite sample clipped to +-[`MAX_SAMPLE_ABS`].
pub(crate) fn clip_sample(sample: f32) -> f32 {
    sample.clamp(-MAX_SAMPLE_ABS, MAX_SAMPLE_ABS)
}

/// Where each family sits in a model-input frame:
/// `[log-mel][mfcc][deltas][chroma][spectral][pitch]`,
/// each present only if its family is switched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameLayout {
    /// Columns of the log-mel copy (dB), if the model sees it.
    pub log_mel: Option<Range<usize>>,
    /// Columns of the static MFCCs.
    pub mfcc: Option<Range<usize>>,
    /// Columns of the deltas (order 1, then order 2), filled after look-ahead.
    pub deltas: Option<Range<usize>>,
    /// Columns of the chroma values.
    pub chroma: Option<Range<usize>>,
    /// Columns of the spectral statistics.
    pub spectral: Option<Range<usize>>,
    /// Columns of the pitch family (F0 octaves, voicing).
    pub pitch: Option<Range<usize>>,
    /// Total columns: `FeatureConfig::frame_dim()`.
    pub dim: usize,
}

impl FrameLayout {
    /// The layout for a config.
    pub fn new(cfg: &FeatureConfig) -> Self {
        let mut at = 0;
        let mut take = |on: bool, n: usize| {
            on.then(|| {
                at += n;
                at - n..at
            })
        };
        let f = &cfg.families;
        let log_mel = take(f.log_mel, cfg.n_mels);
        let mfcc = take(f.mfcc, cfg.n_mfcc);
        let deltas = take(f.mfcc && cfg.mfcc_delta_order > 0, cfg.n_mfcc * usize::from(cfg.mfcc_delta_order));
        let chroma = take(f.chroma, cfg.n_chroma);
        let spectral = take(f.spectral, cfg.n_spectral());
        let pitch = take(f.pitch, N_PITCH);
        Self { log_mel, mfcc, deltas, chroma, spectral, pitch, dim: at }
    }
}

/// Computes the static (delta-free) features of one frame.
pub struct FrameAnalyzer {
    layout: FrameLayout,
    n_fft: usize,
    rolloff_fraction: f32,
    window: Vec<f64>,
    fft: Arc<dyn RealToComplex<f64>>,
    fft_in: Vec<f64>,
    fft_out: Vec<Complex<f64>>,
    fft_scratch: Vec<Complex<f64>>,
    power: Vec<f32>,
    mag: Vec<f32>,
    freqs_hz: Vec<f32>,
    mel: SparseBank,
    dct: Vec<f32>,
    n_mfcc: usize,
    chroma: Vec<f32>,
    n_chroma: usize,
    contrast: Vec<ContrastBand>,
    contrast_scratch: Vec<f32>,
    cumsum: Vec<f32>,
    pitch: Option<PitchTracker>,
    noise: Option<NoiseTracker>,
}

impl FrameAnalyzer {
    /// Builds every table for `cfg`.
    pub fn new(cfg: &FeatureConfig) -> Result<Self, FeatureError> {
        Self::with_frequency_warp(cfg, 1.0)
    }

    /// [`FrameAnalyzer::new`] with the mel bank read through a VTLP frequency warp of
    /// `alpha` ([`warped_mel_bank`]; training augmentation, 1.0 = none).
    pub fn with_frequency_warp(cfg: &FeatureConfig, alpha: f64) -> Result<Self, FeatureError> {
        cfg.validate()?;
        let n_fft = cfg.n_fft;
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        let freqs64 = fft_frequencies_hz(cfg.sample_rate_hz, n_fft);
        let contrast = spectral::contrast_bands(
            &freqs64,
            f64::from(cfg.contrast_fmin_hz),
            cfg.contrast_n_bands,
            f64::from(cfg.contrast_quantile),
        );
        let window = padded_hann(cfg.win_samples(), n_fft);
        let pitch = cfg
            .families
            .pitch
            .then(|| PitchTracker::new(&window, cfg.sample_rate_hz, cfg.pitch_fmin_hz, cfg.pitch_fmax_hz));
        Ok(Self {
            layout: FrameLayout::new(cfg),
            n_fft,
            rolloff_fraction: cfg.rolloff_fraction,
            window,
            fft_in: fft.make_input_vec(),
            fft_out: fft.make_output_vec(),
            fft_scratch: fft.make_scratch_vec(),
            fft,
            power: vec![0.0; cfg.n_bins()],
            mag: vec![0.0; cfg.n_bins()],
            freqs_hz: freqs64.iter().map(|&f| f as f32).collect(),
            mel: warped_mel_bank(
                cfg.sample_rate_hz,
                n_fft,
                cfg.n_mels,
                f64::from(cfg.fmin_hz),
                f64::from(cfg.fmax_hz),
                alpha,
            ),
            dct: dct_ortho(cfg.n_mels, cfg.n_mfcc),
            n_mfcc: cfg.n_mfcc,
            chroma: chroma_bank(cfg.sample_rate_hz, n_fft, cfg.n_chroma),
            n_chroma: cfg.n_chroma,
            contrast,
            contrast_scratch: vec![0.0; cfg.n_bins()],
            cumsum: vec![0.0; cfg.n_bins()],
            pitch,
            noise: cfg
                .noise_suppression
                .map(|settings| NoiseTracker::new(&settings, cfg.n_bins(), cfg.hop_s())),
        })
    }

    /// Starts a new signal: forgets the noise floor (the only state kept between frames).
    pub fn reset(&mut self) {
        if let Some(noise) = &mut self.noise {
            noise.reset();
        }
    }

    /// The frame layout this analyzer writes.
    pub fn layout(&self) -> &FrameLayout {
        &self.layout
    }

    /// Analyses the next frame of `n_fft` raw samples (zero where the frame overhangs the
    /// signal). `real` is the part of the frame that holds signal samples (for the
    /// zero-crossing rate). Writes the log-mel dB values to `log_mel` and every static
    /// column of `row` (the delta columns are left alone).
    pub fn analyze(&mut self, frame: &[f32], real: Range<usize>, row: &mut [f32], log_mel: &mut [f32]) {
        debug_assert_eq!(frame.len(), self.n_fft);
        // NOTE: like librosa, the windowed frame and its FFT are float64 and the spectrum is
        // then rounded to float32. A float32 FFT would put its rounding noise ~140 dB below
        // the frame's peak, which shows up in deep spectral valleys (spectral contrast).
        for ((x, &s), w) in self.fft_in.iter_mut().zip(frame).zip(&self.window) {
            *x = f64::from(s) * w;
        }
        // NOTE: the buffers are sized by the planner itself, so this cannot fail.
        let _ = self.fft.process_with_scratch(&mut self.fft_in, &mut self.fft_out, &mut self.fft_scratch);
        for ((p, m), c) in self.power.iter_mut().zip(self.mag.iter_mut()).zip(&self.fft_out) {
            let (re, im) = (f64::from(c.re as f32), f64::from(c.im as f32));
            *m = (re * re + im * im).sqrt() as f32;
            *p = *m * *m;
        }
        let mut power_kept = 1.0;
        if let Some(noise) = &mut self.noise {
            power_kept = noise.suppress(&mut self.power);
            for (m, &p) in self.mag.iter_mut().zip(&self.power) {
                *m = p.sqrt();
            }
        }
        for ((out, &start), w) in log_mel.iter_mut().zip(&self.mel.start).zip(&self.mel.weights) {
            let e = spectral::dot8(w, &self.power[start..start + w.len()]);
            *out = 10.0 * e.max(AMIN).log10();
        }
        let layout = &self.layout;
        if let Some(cols) = &layout.log_mel {
            row[cols.clone()].copy_from_slice(log_mel);
        }
        if let Some(cols) = &layout.mfcc {
            let n_mels = log_mel.len();
            for (k, out) in row[cols.clone()].iter_mut().enumerate().take(self.n_mfcc) {
                *out = spectral::dot8(&self.dct[k * n_mels..(k + 1) * n_mels], log_mel);
            }
        }
        if let Some(cols) = &layout.chroma {
            let out = &mut row[cols.clone()];
            let n_bins = self.power.len();
            for (c, o) in out.iter_mut().enumerate().take(self.n_chroma) {
                *o = spectral::dot8(&self.chroma[c * n_bins..(c + 1) * n_bins], &self.power);
            }
            let peak = out.iter().fold(0.0f32, |a, &b| a.max(b.abs()));
            if peak >= f32::MIN_POSITIVE {
                out.iter_mut().for_each(|v| *v = (f64::from(*v) / f64::from(peak)) as f32);
            }
        }
        if let Some(cols) = &layout.spectral {
            let out = &mut row[cols.clone()];
            let (centroid, bandwidth) = spectral::centroid_bandwidth(&self.mag, &self.freqs_hz);
            out[0] = centroid;
            out[1] = bandwidth;
            out[2] = spectral::rolloff_hz(&self.mag, &self.freqs_hz, self.rolloff_fraction, &mut self.cumsum);
            out[3] = spectral::flatness(&self.power);
            let n_contrast = self.contrast.len();
            spectral::contrast_db(
                &self.mag,
                &self.contrast,
                &mut self.contrast_scratch,
                &mut out[4..4 + n_contrast],
            );
            out[4 + n_contrast] = spectral::zero_crossing_rate(&frame[real], self.n_fft);
            // The RMS is the frame's own; with noise suppression, of the power it kept.
            out[5 + n_contrast] = spectral::rms(frame) * power_kept.sqrt();
        }
        if let (Some(cols), Some(tracker)) = (&layout.pitch, &mut self.pitch) {
            row[cols.clone()].copy_from_slice(&tracker.analyze(frame, &self.window).columns());
        }
    }
}
