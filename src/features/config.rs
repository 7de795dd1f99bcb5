//! `FeatureConfig`: every setting the feature extractor needs, with units in the names.
//!
//! A copy is saved inside every model file, so the field names are a stable format: new
//! fields get a `#[serde(default)]` value that reproduces the old behaviour, and
//! `version` is bumped only if an old value would now mean something different.

use serde::{Deserialize, Serialize};

use super::FeatureError;
use super::denoise::NoiseSuppression;

/// The current version of the feature definition written into new configs.
pub const FEATURE_CONFIG_VERSION: u32 = 1;

/// Which feature families go into the model-input vector of each frame.
///
/// The log-mel spectrogram is always computed (it is shown in the GUI and plots); this
/// only chooses what the model sees. Column order in a frame follows the field order here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureFamilies {
    /// `n_mels` log-mel powers in dB (10·log10, floor -100 dB, no top-dB clipping).
    pub log_mel: bool,
    /// `n_mfcc` MFCCs (DCT-II, orthonormal, of the log-mel dB values), followed by
    /// `mfcc_delta_order` blocks of their deltas.
    pub mfcc: bool,
    /// `n_chroma` STFT chroma values, each frame scaled so its largest value is 1.
    pub chroma: bool,
    /// Spectral statistics: centroid (Hz), bandwidth (Hz), roll-off (Hz), flatness,
    /// `contrast_n_bands + 1` contrast values (dB), zero-crossing rate, RMS.
    pub spectral: bool,
    /// Pitch: F0 in octaves re 100 Hz (0 when unvoiced) and voicing strength 0-1, from the
    /// frame's normalised autocorrelation (see `features::pitch`; not a librosa feature).
    pub pitch: bool,
}

impl Default for FeatureFamilies {
    fn default() -> Self {
        Self { log_mel: false, mfcc: true, chroma: true, spectral: true, pitch: false }
    }
}

/// Settings of the feature extractor. Defaults suit 16 kHz speech: a 25 ms Hann window
/// every 10 ms, a 512-point FFT, 40 mel bands, 13 MFCCs with deltas and delta-deltas.
///
/// Frame `i` is centred on input sample `i * hop` (librosa's `center=True` with zero
/// padding), so a signal of `n` samples gives `1 + n / hop` frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    /// Version of the feature definition; [`FEATURE_CONFIG_VERSION`] for new configs.
    pub version: u32,
    /// Sample rate of the input samples, in Hz.
    pub sample_rate_hz: u32,
    /// Length of the Hann analysis window, in milliseconds (rounded to whole samples).
    pub win_ms: f32,
    /// Distance between frame centres, in milliseconds (rounded to whole samples).
    pub hop_ms: f32,
    /// FFT length in samples (even, at least the window length); the window is
    /// zero-padded to it on both sides, as librosa does.
    pub n_fft: usize,
    /// Number of mel bands (Slaney mel scale, Slaney area normalisation).
    pub n_mels: usize,
    /// Lowest mel band edge, in Hz.
    pub fmin_hz: f32,
    /// Highest mel band edge, in Hz (at most half the sample rate).
    pub fmax_hz: f32,
    /// Number of MFCCs kept (at most `n_mels`).
    pub n_mfcc: usize,
    /// 0: MFCCs only; 1: plus deltas; 2: plus deltas and delta-deltas.
    pub mfcc_delta_order: u8,
    /// Frames in the delta regression window (odd, >= 3). Deltas need
    /// `(delta_width - 1) / 2` frames of look-ahead; edges repeat the end frame.
    pub delta_width: usize,
    /// Number of chroma bins per octave.
    pub n_chroma: usize,
    /// Lower edge of the first spectral-contrast octave band, in Hz.
    pub contrast_fmin_hz: f32,
    /// Number of spectral-contrast octave bands above `contrast_fmin_hz` (contrast has
    /// `contrast_n_bands + 1` values, the first for 0..`contrast_fmin_hz`).
    pub contrast_n_bands: usize,
    /// Fraction of each band's bins averaged for its peak and valley.
    pub contrast_quantile: f32,
    /// Fraction of spectral magnitude below the roll-off frequency.
    pub rolloff_fraction: f32,
    /// Lowest F0 the pitch family looks for, in Hz.
    pub pitch_fmin_hz: f32,
    /// Highest F0 the pitch family looks for, in Hz.
    pub pitch_fmax_hz: f32,
    /// Which families make up the model-input vector.
    pub families: FeatureFamilies,
    /// Causal noise suppression of the power spectrum before every feature
    /// (`features::denoise`); `None` (older configs) leaves the spectrum as it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_suppression: Option<NoiseSuppression>,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            version: FEATURE_CONFIG_VERSION,
            sample_rate_hz: 16_000,
            win_ms: 25.0,
            hop_ms: 10.0,
            n_fft: 512,
            n_mels: 40,
            fmin_hz: 0.0,
            fmax_hz: 8_000.0,
            n_mfcc: 13,
            mfcc_delta_order: 2,
            delta_width: 9,
            n_chroma: 12,
            contrast_fmin_hz: 200.0,
            contrast_n_bands: 6,
            contrast_quantile: 0.02,
            rolloff_fraction: 0.85,
            pitch_fmin_hz: 65.0,
            pitch_fmax_hz: 500.0,
            families: FeatureFamilies::default(),
            noise_suppression: None,
        }
    }
}

/// Number of scalar spectral statistics besides contrast: centroid, bandwidth, roll-off,
/// flatness, zero-crossing rate, RMS.
const N_SPECTRAL_SCALARS: usize = 6;

impl FeatureConfig {
    /// Window length in samples.
    pub fn win_samples(&self) -> usize {
        ms_to_samples(self.win_ms, self.sample_rate_hz)
    }

    /// Hop between frames in samples.
    pub fn hop_samples(&self) -> usize {
        ms_to_samples(self.hop_ms, self.sample_rate_hz)
    }

    /// Hop between frames in seconds (from the rounded hop in samples).
    pub fn hop_s(&self) -> f64 {
        self.hop_samples() as f64 / f64::from(self.sample_rate_hz)
    }

    /// Number of frames for a signal of `n_samples` samples: `1 + n_samples / hop`,
    /// or 0 for an empty signal.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        if n_samples == 0 { 0 } else { 1 + n_samples / self.hop_samples() }
    }

    /// Frequency bins of the one-sided spectrum: `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Number of spectral-contrast values: `contrast_n_bands + 1`.
    pub fn n_contrast(&self) -> usize {
        self.contrast_n_bands + 1
    }

    /// Number of spectral statistics per frame (scalars plus contrast values).
    pub fn n_spectral(&self) -> usize {
        N_SPECTRAL_SCALARS + self.n_contrast()
    }

    /// Frames of look-ahead the deltas need: `(delta_width - 1) / 2` when deltas are on.
    pub fn delta_lookahead_frames(&self) -> usize {
        if self.families.mfcc && self.mfcc_delta_order > 0 { self.delta_width / 2 } else { 0 }
    }

    /// Length of one model-input frame vector.
    pub fn frame_dim(&self) -> usize {
        let f = &self.families;
        let mut dim = 0;
        if f.log_mel {
            dim += self.n_mels;
        }
        if f.mfcc {
            dim += self.n_mfcc * (1 + usize::from(self.mfcc_delta_order));
        }
        if f.chroma {
            dim += self.n_chroma;
        }
        if f.spectral {
            dim += self.n_spectral();
        }
        if f.pitch {
            dim += super::pitch::N_PITCH;
        }
        dim
    }

    /// A name for each column of the model-input vector, e.g. `mfcc3`, `mfcc3_d1`,
    /// `chroma_c#`, `centroid_hz`.
    pub fn column_names(&self) -> Vec<String> {
        let f = &self.families;
        let mut names = Vec::with_capacity(self.frame_dim());
        if f.log_mel {
            names.extend((0..self.n_mels).map(|i| format!("logmel{i}_db")));
        }
        if f.mfcc {
            names.extend((0..self.n_mfcc).map(|i| format!("mfcc{i}")));
            for order in 1..=self.mfcc_delta_order {
                names.extend((0..self.n_mfcc).map(|i| format!("mfcc{i}_d{order}")));
            }
        }
        if f.chroma {
            const PITCH: [&str; 12] = ["c", "c#", "d", "d#", "e", "f", "f#", "g", "g#", "a", "a#", "b"];
            if self.n_chroma == 12 {
                names.extend(PITCH.iter().map(|p| format!("chroma_{p}")));
            } else {
                names.extend((0..self.n_chroma).map(|i| format!("chroma{i}")));
            }
        }
        if f.spectral {
            names.extend(["centroid_hz", "bandwidth_hz", "rolloff_hz", "flatness"].map(String::from));
            names.extend((0..self.n_contrast()).map(|i| format!("contrast{i}_db")));
            names.extend(["zcr", "rms"].map(String::from));
        }
        if f.pitch {
            names.extend(["f0_octaves", "voicing"].map(String::from));
        }
        names
    }

    /// Checks every setting; the error names the first bad field and why.
    pub fn validate(&self) -> Result<(), FeatureError> {
        let bad = |field: &'static str, reason: String| Err(FeatureError::BadConfig { field, reason });
        if self.version == 0 || self.version > FEATURE_CONFIG_VERSION {
            return bad(
                "version",
                format!("{} is not supported (this build knows 1..={FEATURE_CONFIG_VERSION})", self.version),
            );
        }
        if !(1_000..=384_000).contains(&self.sample_rate_hz) {
            return bad("sample_rate_hz", format!("{} is outside 1000..=384000", self.sample_rate_hz));
        }
        let (win, hop) = (self.win_samples(), self.hop_samples());
        if !self.win_ms.is_finite() || win < 16 {
            return bad("win_ms", format!("{} ms is shorter than 16 samples", self.win_ms));
        }
        if !self.hop_ms.is_finite() || hop == 0 {
            return bad("hop_ms", format!("{} ms is less than one sample", self.hop_ms));
        }
        if !self.n_fft.is_multiple_of(2) || self.n_fft < win || self.n_fft > 65_536 {
            return bad(
                "n_fft",
                format!("{} must be even, >= the window ({win} samples), <= 65536", self.n_fft),
            );
        }
        if hop > self.n_fft {
            return bad("hop_ms", format!("hop of {hop} samples is longer than n_fft {}", self.n_fft));
        }
        let nyquist_hz = self.sample_rate_hz as f32 / 2.0;
        if !(self.fmin_hz >= 0.0 && self.fmin_hz < self.fmax_hz && self.fmax_hz <= nyquist_hz) {
            return bad(
                "fmax_hz",
                format!("need 0 <= fmin_hz ({}) < fmax_hz ({}) <= {nyquist_hz}", self.fmin_hz, self.fmax_hz),
            );
        }
        if self.n_mels == 0 || self.n_mels > self.n_bins() {
            return bad("n_mels", format!("{} must be in 1..={}", self.n_mels, self.n_bins()));
        }
        if self.n_mfcc == 0 || self.n_mfcc > self.n_mels {
            return bad("n_mfcc", format!("{} must be in 1..=n_mels ({})", self.n_mfcc, self.n_mels));
        }
        if self.mfcc_delta_order > 2 {
            return bad("mfcc_delta_order", format!("{} must be 0, 1 or 2", self.mfcc_delta_order));
        }
        if self.delta_width < 3 || self.delta_width.is_multiple_of(2) || self.delta_width > 101 {
            return bad("delta_width", format!("{} must be odd, in 3..=101", self.delta_width));
        }
        if self.n_chroma == 0 || self.n_chroma > 120 {
            return bad("n_chroma", format!("{} must be in 1..=120", self.n_chroma));
        }
        // NOTE: the band count is bounded before it reaches `powi`: a huge count used to
        // wrap to a negative exponent there and pass (found by tests/fuzz_features.rs).
        let n_bands = i32::try_from(self.contrast_n_bands).unwrap_or(i32::MAX).min(64);
        let top_band_hz = self.contrast_fmin_hz * 2f32.powi(n_bands - 1);
        if self.contrast_n_bands == 0
            || self.contrast_n_bands > 32
            || self.contrast_fmin_hz <= 0.0
            || top_band_hz >= nyquist_hz
        {
            return bad(
                "contrast_n_bands",
                format!(
                    "{} bands from {} Hz need 0 < fmin and fmin * 2^(bands-1) < {nyquist_hz} Hz",
                    self.contrast_n_bands, self.contrast_fmin_hz
                ),
            );
        }
        if !(self.contrast_quantile > 0.0 && self.contrast_quantile < 1.0) {
            return bad("contrast_quantile", format!("{} must be in (0, 1)", self.contrast_quantile));
        }
        if !(self.rolloff_fraction > 0.0 && self.rolloff_fraction < 1.0) {
            return bad("rolloff_fraction", format!("{} must be in (0, 1)", self.rolloff_fraction));
        }
        let longest_lag_hz = self.sample_rate_hz as f32 / (win - 1) as f32;
        if !(self.pitch_fmin_hz >= longest_lag_hz && self.pitch_fmin_hz < self.pitch_fmax_hz)
            || self.pitch_fmax_hz > nyquist_hz
        {
            return bad(
                "pitch_fmin_hz",
                format!(
                    "need {longest_lag_hz:.1} Hz (one period per window) <= pitch_fmin_hz ({}) < pitch_fmax_hz ({}) <= {nyquist_hz}",
                    self.pitch_fmin_hz, self.pitch_fmax_hz
                ),
            );
        }
        if let Some(problem) = self.noise_suppression.as_ref().and_then(NoiseSuppression::problem) {
            return bad("noise_suppression", problem);
        }
        if self.frame_dim() == 0 {
            return bad("families", "no feature family is switched on".to_owned());
        }
        Ok(())
    }
}

fn ms_to_samples(ms: f32, sample_rate_hz: u32) -> usize {
    let samples = (f64::from(ms) * f64::from(sample_rate_hz) / 1000.0).round();
    if samples.is_finite() && samples > 0.0 { samples as usize } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The speech defaults: 400-sample window, 160-sample hop, 64 model inputs.
    #[test]
    fn defaults_are_speech_sized() {
        let cfg = FeatureConfig::default();
        cfg.validate().unwrap();
        assert_eq!(cfg.win_samples(), 400);
        assert_eq!(cfg.hop_samples(), 160);
        assert_eq!(cfg.n_bins(), 257);
        assert_eq!(cfg.frame_dim(), 13 * 3 + 12 + 13);
        assert_eq!(cfg.column_names().len(), cfg.frame_dim());
        assert_eq!(cfg.n_frames(16_000), 101);
        assert_eq!(cfg.n_frames(0), 0);
        assert_eq!(cfg.delta_lookahead_frames(), 4);
    }

    /// Missing fields take their defaults, so old model files keep loading.
    #[test]
    fn missing_fields_default() {
        let cfg: FeatureConfig =
            serde_json::from_str(r#"{"n_mels": 64, "families": {"log_mel": true}}"#).unwrap();
        assert_eq!(cfg.n_mels, 64);
        assert!(cfg.families.log_mel && cfg.families.mfcc);
        assert_eq!(cfg.hop_ms, 10.0);
        let back: FeatureConfig = serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
    }

    /// Each impossible setting is rejected with the field's name.
    #[test]
    fn bad_settings_name_the_field() {
        type Spoil = fn(&mut FeatureConfig);
        let cases: [(&str, Spoil); 7] = [
            ("n_fft", |c| c.n_fft = 256),
            ("fmax_hz", |c| c.fmax_hz = 9_000.0),
            ("n_mfcc", |c| c.n_mfcc = 41),
            ("delta_width", |c| c.delta_width = 4),
            ("version", |c| c.version = 99),
            ("contrast_n_bands", |c| c.contrast_n_bands = 7),
            ("noise_suppression", |c| {
                c.noise_suppression = Some(NoiseSuppression { window_s: 0.0, ..Default::default() })
            }),
        ];
        for (field, spoil) in cases {
            let mut cfg = FeatureConfig::default();
            spoil(&mut cfg);
            match cfg.validate() {
                Err(FeatureError::BadConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: expected BadConfig, got {other:?}"),
            }
        }
    }
}
