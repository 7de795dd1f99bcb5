//! The model card: the JSON file beside the weights that says what the weights are, how
//! the inputs are made, how they were trained and how well they do.
//!
//! Format rules: `format_version` is bumped when a field changes meaning or a required
//! field is added; an older emotrace refuses a newer card with one clear line. New
//! optional fields get `#[serde(default)]`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::network::Architecture;
use super::{Emotion, ModelError};
pub use crate::data::trim::Preprocess;
use crate::data::{LabelMap, LevelColumns, NormStats, SplitSpec};
use crate::features::FeatureConfig;

/// The `format` field of every emotrace model card.
pub const CARD_FORMAT: &str = "emotrace-model";

/// The newest card format this build reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;

/// The git commit emotrace was built from (`unknown` outside a git checkout).
pub const GIT_COMMIT: &str = match option_env!("EMOTRACE_GIT_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// How one answer per utterance is made from the per-frame probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Decision {
    /// Mean of the frame probabilities from frame `warmup_frames` on (all frames when the
    /// utterance is shorter).
    MeanAfterWarmup {
        /// Frames ignored at the start.
        warmup_frames: usize,
    },
    /// As `MeanAfterWarmup` for an utterance at least twice the warm-up; a shorter one is
    /// answered by its second half, not by all of it (models/any-voice.md, amendment 28).
    MeanAfterWarmupOrHalf {
        /// Frames ignored at the start of a long utterance.
        warmup_frames: usize,
    },
    /// The frames `MeanAfterWarmup` takes, each weighted by its confidence (see
    /// `confidence`): clear frames count more than hesitant ones (models/any-voice.md,
    /// amendment 31).
    ConfidenceWeightedAfterWarmup {
        /// Frames ignored at the start.
        warmup_frames: usize,
    },
    /// The probabilities after the last frame.
    LastFrame,
}

impl Default for Decision {
    /// The output improves as the network hears more of an utterance, so the first 1.75 s
    /// are left out: in 5-fold speaker cross-validation this beat 0-1 s and 2-3 s of
    /// warm-up and the last frame alone (models/README.md).
    fn default() -> Self {
        Decision::MeanAfterWarmup { warmup_frames: 175 }
    }
}

/// How many utterances and speakers of one corpus were used, per part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorpusUse {
    /// Corpus name (`ravdess`, `tess`...).
    pub corpus: String,
    /// Utterances per part (`train`, `val`, `test`).
    pub utterances: BTreeMap<String, usize>,
    /// Speakers per part.
    pub speakers: BTreeMap<String, usize>,
}

impl TrainingInfo {
    /// Each of `members` networks' seed: as recorded, or as `train` gives them.
    pub fn seeds(&self, members: usize) -> Vec<u64> {
        if self.member_seeds.len() == members {
            self.member_seeds.clone()
        } else {
            (0..members as u64).map(|k| self.seed + k).collect()
        }
    }
}

/// Where the weights came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingInfo {
    /// The `--data` arguments, as given.
    pub data: Vec<String>,
    /// Per-corpus counts.
    pub corpora: Vec<CorpusUse>,
    /// The speaker split.
    pub split: Option<SplitSpec>,
    /// Which speakers went where, in words.
    pub split_description: String,
    /// Label map used.
    pub label_map: Option<LabelMap>,
    /// Random seed.
    pub seed: u64,
    /// Each network's seed, in member order (empty in cards written before it, whose
    /// members were seeded `seed`, `seed` + 1, ...).
    pub member_seeds: Vec<u64>,
    /// Epochs run, and the epoch (1-based) whose weights these are.
    pub epochs_run: usize,
    /// The epoch the weights are from (best validation UA).
    pub best_epoch: usize,
    /// Epochs whose weights were averaged into these (0: one epoch's weights).
    #[serde(default)]
    pub averaged_epochs: usize,
    /// Wall time of training, minutes.
    pub train_minutes: f64,
    /// Compute device and CPU threads used.
    pub device: String,
    /// libtorch intra-op threads.
    pub threads: usize,
    /// The run folder, relative to where `train` ran.
    pub run: String,
}

/// Everything a model file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Always [`CARD_FORMAT`].
    pub format: String,
    /// Card format version ([`FORMAT_VERSION`] when written by this build).
    pub format_version: u32,
    /// emotrace version that wrote the card.
    pub emotrace_version: String,
    /// git commit of that emotrace.
    pub git_commit: String,
    /// Seconds since the Unix epoch when the card was written.
    pub created_unix_s: u64,
    /// A short name (`default`, or the run name).
    pub name: String,
    /// Output classes in order; must equal emotrace's seven.
    pub labels: Vec<String>,
    /// How features are computed from 16 kHz audio.
    pub feature_config: FeatureConfig,
    /// Audio preparation before features (file-level prediction and training).
    #[serde(default)]
    pub preprocess: Preprocess,
    /// Normalisation statistics from the training part, applied inside the model.
    pub normalisation: NormStats,
    /// Layer sizes.
    pub architecture: Architecture,
    /// How per-file answers are made from frame outputs.
    #[serde(default)]
    pub decision: Decision,
    /// Training data and procedure.
    #[serde(default)]
    pub training: TrainingInfo,
    /// Headline scores (`val_ua`, `test_ua`, `test_ua_ravdess`...), 0-1.
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// The weights file's name, in the card's folder.
    pub weights_file: String,
    /// sha256 of the weights file, lower-case hex.
    pub weights_sha256: String,
}

impl ModelCard {
    /// A card for new weights (file name and hash are filled in when saved).
    pub fn new(
        name: &str,
        feature_config: FeatureConfig,
        preprocess: Preprocess,
        normalisation: NormStats,
        architecture: Architecture,
    ) -> Self {
        Self {
            format: CARD_FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            emotrace_version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit: GIT_COMMIT.to_owned(),
            created_unix_s: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            name: name.to_owned(),
            labels: Emotion::ALL.iter().map(|e| e.name().to_owned()).collect(),
            feature_config,
            preprocess,
            normalisation,
            architecture,
            decision: Decision::default(),
            training: TrainingInfo::default(),
            metrics: BTreeMap::new(),
            weights_file: String::new(),
            weights_sha256: String::new(),
        }
    }

    /// The first field in which `other` is another recipe than this card (labels,
    /// features, preparation, normalisation, shape, decision, speaker split), or `None`
    /// when only weights, seed and history differ: networks that can be joined into one
    /// model.
    pub fn recipe_difference(&self, other: &Self) -> Option<&'static str> {
        [
            ("labels", self.labels == other.labels),
            ("feature_config", self.feature_config == other.feature_config),
            ("preprocess", self.preprocess == other.preprocess),
            ("normalisation", self.normalisation == other.normalisation),
            ("architecture", self.architecture == other.architecture),
            ("decision", self.decision == other.decision),
            ("speaker split", self.training.split == other.training.split),
        ]
        .into_iter()
        .find_map(|(field, same)| (!same).then_some(field))
    }

    /// Parses card text: format and version first (so a newer card says so rather
    /// than failing on a field), then the whole card, then consistency checks.
    pub fn parse(text: &str, path: &std::path::Path) -> Result<Self, ModelError> {
        let not_card = |reason: String| ModelError::NotACard { path: path.to_owned(), reason };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| not_card(format!("not JSON: {e}")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(CARD_FORMAT) {
            return Err(not_card(format!("no \"format\": \"{CARD_FORMAT}\" field")));
        }
        let version = value.get("format_version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        if version > u64::from(FORMAT_VERSION) {
            return Err(ModelError::NewerFormat {
                path: path.to_owned(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let card: ModelCard = serde_json::from_value(value).map_err(|e| not_card(e.to_string()))?;
        card.check(path)?;
        Ok(card)
    }

    /// Labels, feature size, normalisation size and architecture agree with each other
    /// and with this build.
    pub fn check(&self, path: &std::path::Path) -> Result<(), ModelError> {
        let ours: Vec<&str> = Emotion::ALL.iter().map(|e| e.name()).collect();
        if self.labels != ours {
            return Err(ModelError::Labels { path: path.to_owned(), found: self.labels.join(",") });
        }
        self.feature_config.validate().map_err(|e| ModelError::NotACard {
            path: path.to_owned(),
            reason: format!("feature config: {e}"),
        })?;
        self.architecture.validate().map_err(|reason| ModelError::NotACard {
            path: path.to_owned(),
            reason: format!("architecture: {reason}"),
        })?;
        self.check_normalisation(path)?;
        self.check_weights_file(path)?;
        let frame_dim = self.feature_config.frame_dim();
        if self.normalisation.input_dims() != self.architecture.input_dims
            || self.normalisation.dims() != frame_dim
            || self.normalisation.std.len() != frame_dim
        {
            return Err(ModelError::FeatureSize {
                path: path.to_owned(),
                features: frame_dim,
                network: self.architecture.input_dims,
                normalisation: self.normalisation.dims(),
            });
        }
        let level = &self.normalisation.level;
        if level.is_some() && *level != LevelColumns::of(&self.feature_config) {
            return Err(ModelError::NotACard {
                path: path.to_owned(),
                reason: "normalisation: level columns do not match the feature configuration".into(),
            });
        }
        Ok(())
    }

    /// The weights file is named as a plain file in the card's folder (or not yet named,
    /// for a model still being built): a corrupt name must not point elsewhere.
    fn check_weights_file(&self, path: &std::path::Path) -> Result<(), ModelError> {
        let name = &self.weights_file;
        let plain =
            !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0', '\n', '\r']);
        if plain || (name.is_empty() && self.weights_sha256.is_empty()) {
            return Ok(());
        }
        Err(ModelError::NotACard {
            path: path.to_owned(),
            reason: format!("weights_file {name:?} is not a file name in the card's folder"),
        })
    }

    /// Normalisation statistics are usable numbers: finite means, positive finite standard
    /// deviations, finite non-negative running-mean and session priors. (A hand-edited or corrupt card
    /// could otherwise turn every input into NaN or infinity.)
    fn check_normalisation(&self, path: &std::path::Path) -> Result<(), ModelError> {
        let norm = &self.normalisation;
        let bad = |reason: String| ModelError::NotACard {
            path: path.to_owned(),
            reason: format!("normalisation: {reason}"),
        };
        if let Some(i) = norm.mean.iter().position(|m| !m.is_finite()) {
            return Err(bad(format!("mean[{i}] is {}", norm.mean[i])));
        }
        if let Some(i) = norm.std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(bad(format!("std[{i}] is {}, must be positive", norm.std[i])));
        }
        for (name, prior) in [
            ("running_prior_frames", norm.running_prior_frames),
            ("session_prior_frames", norm.session_prior_frames),
        ] {
            if !(prior.is_finite() && prior >= 0.0) {
                return Err(bad(format!("{name} is {prior}, must be >= 0")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built in a git checkout, a new card names the commit checked out now (build.rs
    /// rebuilds when HEAD moves).
    #[test]
    fn cards_name_the_checked_out_commit() {
        let head = std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        match head {
            Some(head) => assert_eq!(GIT_COMMIT, head),
            None => assert_eq!(GIT_COMMIT, "unknown"),
        }
    }
}
