//! Features: mono samples at `FeatureConfig::sample_rate_hz` in, one frame of model inputs
//! (plus log-mel dB for display) every hop out.
//!
//! - [`extract`] is the pure batch function `(config, samples) -> frames`;
//!   [`BatchExtractor`] is the same with its tables kept for many signals.
//! - [`StreamingExtractor`] produces the same frames from chunks of any size, bit for bit,
//!   without allocating after `new`.
//!
//! Timing: frame `i` is centred on sample `i * hop` (librosa `center=True`, zero padding);
//! a signal of `n` samples gives `1 + n / hop` frames.
//!
//! The numbers follow librosa 0.11 (`scripts/golden/` checks them) with causal settings
//! where librosa's defaults look at the whole file: log-mel dB without `top_db` clipping,
//! chroma with `tuning=0` instead of estimated tuning, deltas with `mode="nearest"`
//! instead of `"interp"`, spectral contrast without its built-in `top_db=80`.
//!
//! Optionally (`noise_suppression`) a causal noise floor is subtracted from each frame's
//! power spectrum first (`denoise`); every spectral feature and the log-mel shown then see
//! the suppressed spectrum.
//!
//! Frame layout: `[log-mel][mfcc][mfcc deltas][chroma][spectral][pitch]`, each block present
//! when its family is on (`FeatureConfig::column_names` names every column).

mod batch;
mod config;
mod delta;
mod denoise;
mod error;
pub mod filters;
mod frame;
pub mod npy;
pub mod pitch;
pub mod plot;
pub mod spectral;
mod stream;

pub use batch::{BatchExtractor, FeatureFrames, extract};
pub use config::{FEATURE_CONFIG_VERSION, FeatureConfig, FeatureFamilies};
pub use denoise::NoiseSuppression;
pub use error::FeatureError;
pub use frame::{FrameLayout, MAX_SAMPLE_ABS};
pub use stream::{FrameView, StreamingExtractor};

impl FeatureConfig {
    /// Where each family sits in the model-input frame.
    pub fn layout(&self) -> FrameLayout {
        FrameLayout::new(self)
    }
}
