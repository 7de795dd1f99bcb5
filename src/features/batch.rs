//! `extract`: the whole signal in, every frame out. The reference the streaming extractor
//! must match exactly.

use super::delta::DeltaFilter;
use super::frame::{FrameAnalyzer, FrameLayout, clip_sample};
use super::{FeatureConfig, FeatureError};

/// Feature frames of one signal.
///
/// Frame `i` is centred on input sample `i * hop_samples`, i.e. at time
/// `i * hop_samples / sample_rate_hz` seconds; it sees samples
/// `i*hop - n_fft/2 .. i*hop + n_fft/2` (zeros outside the signal).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureFrames {
    /// Number of frames.
    pub n_frames: usize,
    /// Values per model-input frame (`FeatureConfig::frame_dim()`).
    pub frame_dim: usize,
    /// Log-mel values per frame (`FeatureConfig::n_mels`).
    pub n_mels: usize,
    /// Distance between frame centres, in samples.
    pub hop_samples: usize,
    /// Sample rate of the analysed signal, in Hz.
    pub sample_rate_hz: u32,
    /// Model inputs, `n_frames x frame_dim`, row-major.
    pub features: Vec<f32>,
    /// Log-mel powers in dB for display, `n_frames x n_mels`, row-major.
    pub log_mel_db: Vec<f32>,
}

impl FeatureFrames {
    /// Model inputs of frame `i`. Panics if `i >= n_frames`.
    pub fn frame(&self, i: usize) -> &[f32] {
        &self.features[i * self.frame_dim..(i + 1) * self.frame_dim]
    }

    /// Log-mel dB values of frame `i`. Panics if `i >= n_frames`.
    pub fn log_mel(&self, i: usize) -> &[f32] {
        &self.log_mel_db[i * self.n_mels..(i + 1) * self.n_mels]
    }

    /// Centre of frame `i` in seconds.
    pub fn frame_time_s(&self, i: usize) -> f64 {
        (i * self.hop_samples) as f64 / f64::from(self.sample_rate_hz)
    }
}

/// Computes the features of `samples` (mono, at `cfg.sample_rate_hz`): a pure function.
///
/// Gives `1 + samples.len() / hop` frames; a signal shorter than one window still gives
/// frames (it is zero-padded). Errors: a bad config, no samples, a NaN or infinite sample.
/// Samples beyond +-[`MAX_SAMPLE_ABS`](super::MAX_SAMPLE_ABS) are clipped to it, so the
/// frames of any finite input are finite.
/// To analyse many signals with one config, build a [`BatchExtractor`] once instead.
pub fn extract(cfg: &FeatureConfig, samples: &[f32]) -> Result<FeatureFrames, FeatureError> {
    BatchExtractor::new(cfg)?.extract(samples)
}

/// [`extract`] with its tables (FFT plan, window, filter banks) built once and reused:
/// for extracting many files with the same config.
pub struct BatchExtractor {
    cfg: FeatureConfig,
    analyzer: FrameAnalyzer,
    layout: FrameLayout,
    delta: Option<DeltaFilter>,
    frame: Vec<f32>,
}

impl BatchExtractor {
    /// Checks the config and builds the tables.
    pub fn new(cfg: &FeatureConfig) -> Result<Self, FeatureError> {
        Self::with_frequency_warp(cfg, 1.0)
    }

    /// An extractor whose mel bank reads the spectrum through a VTLP warp of `alpha`
    /// (training augmentation; see [`FrameAnalyzer::with_frequency_warp`]).
    pub fn with_frequency_warp(cfg: &FeatureConfig, alpha: f64) -> Result<Self, FeatureError> {
        let analyzer = FrameAnalyzer::with_frequency_warp(cfg, alpha)?;
        let layout = analyzer.layout().clone();
        let delta = layout.deltas.is_some().then(|| DeltaFilter::new(cfg.delta_width, cfg.mfcc_delta_order));
        Ok(Self { cfg: cfg.clone(), analyzer, layout, delta, frame: vec![0.0; cfg.n_fft] })
    }

    /// The config this extractor was built for.
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// The features of `samples`, exactly as [`extract`] computes them.
    pub fn extract(&mut self, samples: &[f32]) -> Result<FeatureFrames, FeatureError> {
        if samples.is_empty() {
            return Err(FeatureError::Empty);
        }
        if let Some(index) = samples.iter().position(|s| !s.is_finite()) {
            return Err(FeatureError::NonFinite { index, value: samples[index] });
        }
        let cfg = &self.cfg;
        let (n_fft, hop, dim, n_mels) = (cfg.n_fft, cfg.hop_samples(), self.layout.dim, cfg.n_mels);
        let pad = n_fft / 2;
        let n_frames = cfg.n_frames(samples.len());
        let mut features = vec![0.0f32; n_frames * dim];
        let mut log_mel_db = vec![0.0f32; n_frames * n_mels];
        self.analyzer.reset();
        let frame = &mut self.frame;
        for (i, (row, log_mel)) in
            features.chunks_exact_mut(dim).zip(log_mel_db.chunks_exact_mut(n_mels)).enumerate()
        {
            // Frame i covers signal samples [i*hop - pad, i*hop - pad + n_fft).
            let first = (i * hop) as isize - pad as isize;
            let lo = first.max(0) as usize;
            let hi = ((first + n_fft as isize).max(0) as usize).min(samples.len());
            let at = (lo as isize - first) as usize;
            if at > 0 || hi - lo < n_fft {
                frame.fill(0.0);
            }
            for (dst, &src) in frame[at..at + hi - lo].iter_mut().zip(&samples[lo..hi]) {
                *dst = clip_sample(src);
            }
            self.analyzer.analyze(frame, at..at + hi - lo, row, log_mel);
        }
        if let (Some(filter), Some(mfcc), Some(deltas)) =
            (&self.delta, &self.layout.mfcc, &self.layout.deltas)
        {
            let mut out = vec![0.0f32; deltas.len()];
            for t in 0..n_frames {
                let rows = &features;
                filter.apply(t, n_frames, |j| &rows[j * dim + mfcc.start..j * dim + mfcc.end], &mut out);
                features[t * dim + deltas.start..t * dim + deltas.end].copy_from_slice(&out);
            }
        }
        Ok(FeatureFrames {
            n_frames,
            frame_dim: dim,
            n_mels,
            hop_samples: hop,
            sample_rate_hz: cfg.sample_rate_hz,
            features,
            log_mel_db,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq_hz: f32, n: usize) -> Vec<f32> {
        (0..n).map(|i| (2.0 * std::f32::consts::PI * freq_hz * i as f32 / 16_000.0).sin() * 0.5).collect()
    }

    /// Frame count is 1 + n / hop, times are i * hop / sr, and shapes match the config.
    #[test]
    fn shapes_and_timing() {
        let cfg = FeatureConfig::default();
        let f = extract(&cfg, &sine(440.0, 16_000)).unwrap();
        assert_eq!(f.n_frames, 101);
        assert_eq!(f.features.len(), 101 * cfg.frame_dim());
        assert_eq!(f.log_mel_db.len(), 101 * 40);
        assert!((f.frame_time_s(100) - 1.0).abs() < 1e-12);
        // A clip shorter than one window still gives one frame.
        assert_eq!(extract(&cfg, &sine(440.0, 100)).unwrap().n_frames, 1);
    }

    /// A 1 kHz tone puts its log-mel peak in the band around 1 kHz, its centroid near
    /// 1 kHz, and its chroma peak on B (1 kHz is 0.2 semitones below B5).
    #[test]
    fn tone_lands_where_expected() {
        let cfg = FeatureConfig {
            families: super::super::FeatureFamilies { log_mel: true, ..Default::default() },
            ..Default::default()
        };
        let f = extract(&cfg, &sine(1000.0, 8_000)).unwrap();
        let mid = f.n_frames / 2;
        let mel = f.log_mel(mid);
        let peak_band = (0..40).max_by(|&a, &b| mel[a].total_cmp(&mel[b])).unwrap();
        let centres: Vec<f64> = {
            use super::super::filters::{hz_to_mel, mel_to_hz};
            let top = hz_to_mel(8000.0);
            (1..=40).map(|i| mel_to_hz(top * i as f64 / 41.0)).collect()
        };
        assert!((centres[peak_band] - 1000.0).abs() < 120.0, "band {peak_band} at {} Hz", centres[peak_band]);
        let row = f.frame(mid);
        let names = cfg.column_names();
        let col = |name: &str| row[names.iter().position(|n| n == name).unwrap()];
        assert!((col("centroid_hz") - 1000.0).abs() < 60.0, "{}", col("centroid_hz"));
        assert_eq!(col("chroma_b"), 1.0);
        assert!(col("flatness") < 0.01);
        // RMS of a 0.5-amplitude sine is 0.5 / sqrt(2).
        assert!((col("rms") - 0.3536).abs() < 0.01, "{}", col("rms"));
        // 1 kHz crosses zero 2000 times a second: 64 crossings in 512 samples.
        assert!((col("zcr") - 0.125).abs() < 0.005, "{}", col("zcr"));
    }

    /// Silence gives the -100 dB floor, zero MFCCs beyond c0, and zero deltas.
    #[test]
    fn silence_is_the_floor() {
        let cfg = FeatureConfig::default();
        let f = extract(&cfg, &[0.0; 4_000]).unwrap();
        assert!(f.log_mel_db.iter().all(|&v| v == -100.0));
        let mfcc_c1 = f.frame(5)[1];
        assert!(mfcc_c1.abs() < 1e-3);
        assert!(f.frame(5)[13..39].iter().all(|&d| d.abs() < 1e-3));
    }

    /// One extractor reused for several signals gives what fresh ones give.
    #[test]
    fn reused_extractor_matches_fresh() {
        let cfg = FeatureConfig::default();
        let mut ex = BatchExtractor::new(&cfg).unwrap();
        for n in [16_000, 100, 5_000] {
            assert_eq!(ex.extract(&sine(300.0, n)).unwrap(), extract(&cfg, &sine(300.0, n)).unwrap());
        }
    }

    /// Empty input and NaN samples are errors, not panics or NaN features.
    #[test]
    fn bad_samples_are_errors() {
        let cfg = FeatureConfig::default();
        assert_eq!(extract(&cfg, &[]), Err(FeatureError::Empty));
        let mut x = sine(440.0, 1000);
        x[700] = f32::INFINITY;
        assert!(matches!(extract(&cfg, &x), Err(FeatureError::NonFinite { index: 700, .. })));
    }
}
