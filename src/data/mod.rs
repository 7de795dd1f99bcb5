//! Labelled speech for training and evaluation: corpus loaders and their file-name
//! conventions, the label map, speaker-independent splits, normalisation statistics,
//! augmentation, and the on-disk feature cache.

pub mod augment;
pub mod babble;
pub mod cache;
pub mod class_sets;
pub mod conditions;
pub mod corpus;
pub mod labels;
pub mod layouts;
pub mod level;
mod manifest;
pub mod normalise;
pub mod prepare;
pub mod rng;
pub mod speaker_norm;
pub mod splits;
pub mod trim;

pub use augment::AugmentConfig;
pub use cache::{FeatureCache, FeatureCacheChoice, FeatureMatrix};
pub use class_sets::{ClassSet, CorpusClasses};
pub use corpus::{DataError, Dataset, SkipReason, Skipped, Utterance, load_all, load_corpus};
pub use labels::{LabelMap, LabelTarget};
pub use layouts::CorpusKind;
pub use level::{LevelColumns, LevelTracker};
pub use normalise::{FrameNormaliser, NormAccumulator, NormStats};
pub use rng::Rng;
pub use speaker_norm::{CalibrationShift, SpeakerNorm, SpeakerStats};
pub use splits::{Part, SplitConfig, SplitSpec};
