//! Errors of the feature extractor.

/// Why features could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    /// A `FeatureConfig` field has an impossible value. Fix the config (or the model file
    /// it came from); nothing can be computed with it.
    #[error("bad feature config: {field}: {reason}")]
    BadConfig {
        /// The offending field of `FeatureConfig`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The signal has no samples. Give it at least one sample.
    #[error("no samples to analyse")]
    Empty,
    /// The signal holds a NaN or infinite sample. Clean or reject the source audio.
    #[error("sample {index} is {value} (NaN or infinite)")]
    NonFinite {
        /// Index of the first bad sample.
        index: usize,
        /// Its value.
        value: f32,
    },
}
