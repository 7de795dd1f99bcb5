//! Why a model file cannot be loaded, saved or run. Each message is one line naming the
//! file at fault.

use std::path::PathBuf;

use super::stream::StreamError;

/// Model loading, saving and inference errors.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file cannot be read or written: check the path and permissions.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// No model at the path, nor a card beside it: pass a `.json` card or its `.safetensors`.
    #[error("{}: no model card found (looked for {})", path.display(), looked.display())]
    NoCard { path: PathBuf, looked: PathBuf },
    /// The card is not an emotrace model card, or a field is malformed: use a card written
    /// by `emotrace train`.
    #[error("{}: not a usable emotrace model card: {reason}", path.display())]
    NotACard { path: PathBuf, reason: String },
    /// The card was written by a newer emotrace: upgrade emotrace to load it.
    #[error(
        "{}: model format version {found} is newer than this emotrace supports ({supported}); upgrade emotrace",
        path.display()
    )]
    NewerFormat { path: PathBuf, found: u64, supported: u32 },
    /// The card's classes differ from emotrace's seven: the model is for another label set.
    #[error("{}: model labels [{found}] are not emotrace's seven classes in order", path.display())]
    Labels { path: PathBuf, found: String },
    /// Feature size, network input size and normalisation size disagree: the card and
    /// weights belong to different feature settings; retrain or fix the card.
    #[error(
        "{}: wrong feature size: feature config gives {features} values per frame, network takes {network}, normalisation has {normalisation}",
        path.display()
    )]
    FeatureSize { path: PathBuf, features: usize, network: usize, normalisation: usize },
    /// The weights file is not the one the card describes (edited, truncated or swapped):
    /// keep card and weights together as `train` wrote them.
    #[error("{}: weights do not match the model card (sha256 {actual}, card says {expected})", path.display())]
    WeightsHash { path: PathBuf, expected: String, actual: String },
    /// The weights file's tensors do not fit the card's architecture.
    #[error("{}: weights do not fit the card's architecture: {reason}", path.display())]
    WeightsMismatch { path: PathBuf, reason: String },
    /// Networks to be joined into one model are of different recipes: join only networks
    /// trained with the same config and split (other seeds).
    #[error("{}: cannot be joined to {}: its {field} differs", path.display(), first.display())]
    Unjoinable { path: PathBuf, first: PathBuf, field: &'static str },
    /// libtorch failed while loading or running the model.
    #[error("{}: libtorch: {source}", path.display())]
    Torch { path: PathBuf, source: tch::TchError },
    /// A speaker-normalised model was to be given a speaker's statistics and has none
    /// for this file's speaker (e.g. no calibration reading).
    #[error("{}: no statistics given for speaker {speaker}", path.display())]
    NoSpeakerStatistics { path: PathBuf, speaker: String },
    /// The calibration file cannot be used with this model.
    #[error(transparent)]
    Calibration(#[from] super::calibration::CalibrationError),
    /// Streaming set-up or a step failed.
    #[error(transparent)]
    Stream(#[from] StreamError),
}
