//! The training configuration (`train.toml`): data, features, network, schedule,
//! augmentation, split and label map. Every field has a default; a run folder keeps the
//! full resolved config as `config.toml`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::sampler::SamplingConfig;
use crate::data::{AugmentConfig, LabelMap, SpeakerNorm, SplitConfig};
use crate::features::FeatureConfig;
use crate::model::{Architecture, Decision, Emotion, Preprocess};

/// Layer sizes (the input size comes from the feature config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelShape {
    /// Hidden units of LSTM 1 (paper: 128-256).
    pub lstm1_units: usize,
    /// Hidden units of LSTM 2 (paper: 64-128).
    pub lstm2_units: usize,
    /// Hidden dense layers (ReLU) before the output layer.
    pub dense_units: Vec<usize>,
    /// Dropout after each LSTM and dense layer, 0-1.
    pub dropout: f64,
    /// Dense layers also see the running mean of LSTM 2's outputs (causal mean pooling).
    pub mean_pooling: bool,
    /// Networks trained one after another (seeds `seed`, `seed + 1`, ...) and saved as
    /// one model whose probabilities are the mean of theirs (1 = a single network).
    pub members: usize,
}

impl Default for ModelShape {
    fn default() -> Self {
        let a = Architecture::default_for(1);
        Self {
            lstm1_units: a.lstm1_units,
            lstm2_units: a.lstm2_units,
            dense_units: a.dense_units,
            dropout: a.dropout,
            mean_pooling: a.mean_pooling,
            members: a.members,
        }
    }
}

impl ModelShape {
    /// The full architecture for `input_dims` features.
    pub fn architecture(&self, input_dims: usize) -> Architecture {
        Architecture {
            input_dims,
            lstm1_units: self.lstm1_units,
            lstm2_units: self.lstm2_units,
            dense_units: self.dense_units.clone(),
            dropout: self.dropout,
            classes: Emotion::COUNT,
            mean_pooling: self.mean_pooling,
            members: self.members,
        }
    }
}

/// The optimisation schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Schedule {
    /// Most epochs to run.
    pub epochs: usize,
    /// Utterances per batch.
    pub batch_size: usize,
    /// Adam(W) learning rate at epoch 1.
    pub learning_rate: f64,
    /// Learning rate multiplier applied after every epoch.
    pub lr_decay: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Gradient norm clip (0 = off).
    pub clip_grad_norm: f64,
    /// Stop after this many epochs without a better validation UA.
    pub patience: usize,
    /// Frames at the start of each utterance whose outputs are not trained (the LSTM has
    /// heard too little); later frames all carry the utterance's label.
    pub warmup_frames: usize,
    /// Frames over which a frame's loss weight rises linearly from 0 to 1 after the
    /// warm-up (0 = full weight at once), so early, uncertain frames count less.
    pub ramp_frames: usize,
    /// Training utterances are cut to their first `max_frames` frames (0 = no cut).
    pub max_frames: usize,
    /// Weight utterances by inverse class frequency, so every class counts the same (UA).
    pub class_balance: bool,
    /// From this epoch on, the weights after every epoch are averaged and the average is
    /// the trained model (stochastic weight averaging; 0 = off: the best epoch's weights).
    pub average_from_epoch: usize,
    /// Weight of the utterance loss (cross-entropy of the mean of the trained frames'
    /// probabilities, the file decision) added to the per-frame loss (0 = off).
    pub utterance_loss: f64,
    /// Share of each frame's target spread evenly over all classes (label smoothing, 0-1).
    pub label_smoothing: f64,
    /// Restrict each utterance's softmax (and so its loss) to the classes its corpus has,
    /// so that a corpus without disgust does not teach the model that disgust never happens.
    pub mask_absent_classes: bool,
    /// With `mask_absent_classes`, the prior a class the corpus lacks keeps in the softmax,
    /// relative to one it has: 0 restricts the softmax to the corpus's classes; 0.1 lets
    /// the others through at a tenth of the prior (the loss still says, a little, that they
    /// did not happen); 1 is no restriction.
    pub absent_class_prior: f64,
    /// Weight of the reversed gradient from a classifier that tells the training corpora
    /// apart by LSTM 2's outputs (`train::adversary`; ramped up over training; 0 = off).
    pub corpus_adversarial: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            epochs: 40,
            batch_size: 32,
            learning_rate: 2e-3,
            lr_decay: 0.95,
            weight_decay: 1e-4,
            clip_grad_norm: 1.0,
            patience: 8,
            warmup_frames: 30,
            ramp_frames: 0,
            max_frames: 300,
            class_balance: true,
            average_from_epoch: 0,
            utterance_loss: 0.0,
            label_smoothing: 0.0,
            mask_absent_classes: false,
            absent_class_prior: 0.0,
            corpus_adversarial: 0.0,
        }
    }
}

/// Everything `emotrace train` needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Run name (the run folder is `runs/<time>-<name>`).
    pub name: String,
    /// Corpus folders and CSV manifests.
    pub data: Vec<PathBuf>,
    /// Seed of weights, dropout, shuffling and augmentation.
    pub seed: u64,
    /// libtorch intra-op threads. 1 by default, so that two runs side by side (folds,
    /// seeds) each keep a core. Alone on an idle 2-core machine the shipped recipe's epochs
    /// take 13-14 s with 2 threads against 20-23 s with 1 (models/README.md).
    pub threads: usize,
    /// Feature-extraction worker threads.
    pub feature_threads: usize,
    /// Feature cache folder; `None` for the user cache folder.
    pub cache_dir: Option<PathBuf>,
    /// Use the feature cache at all.
    pub use_cache: bool,
    /// Feature settings (saved in the model card).
    pub features: FeatureConfig,
    /// Silence trimming before features.
    pub preprocess: Preprocess,
    /// Causal per-utterance mean normalisation after the z-score: weight of its prior in
    /// frames (0 = off). See `data::normalise`.
    pub running_mean_prior_frames: f32,
    /// Take the level-dependent features (log-mel, MFCC 0, RMS) relative to the utterance's
    /// running speech level, so the microphone's gain does not matter (`data::level`;
    /// needs the spectral family, which holds the RMS).
    pub level_relative: bool,
    /// Speaker normalisation after the z-score (`off`, `mean`, `mean_std`): training uses
    /// each speaker's statistics over all its files, the live monitor those of the
    /// session so far. See `data::speaker_norm`.
    pub speaker_norm: SpeakerNorm,
    /// Weight, in frames, of the training statistics in a session's speaker statistics
    /// (how fast a live session moves to the speaker's own).
    pub session_prior_frames: f32,
    /// With speaker normalisation, the network hears each frame both z-scored and
    /// speaker-normalised (twice the inputs), so a session that stays in one emotion
    /// still leaves it audible (models/any-voice.md, amendment 32).
    pub dual_input: bool,
    /// Share of the drawn training utterances normalised by the statistics of their
    /// speaker's files of their own emotion only, as a session that stays in one emotion
    /// would be (0: always all of the speaker's files).
    pub one_emotion_sessions: f32,
    /// Share of the drawn training utterances normalised by their speaker's calibration
    /// reading (some of its neutral files) moved by the calibration shift, as a calibrated
    /// session would be (0: always all of the speaker's files; speakers without a reading
    /// keep those). See `train::calibration`.
    pub reading_sessions: f32,
    /// Layer sizes.
    pub model: ModelShape,
    /// Optimisation schedule.
    pub training: Schedule,
    /// Which utterances each epoch draws (corpus and speaker balance).
    pub sampling: SamplingConfig,
    /// How per-file answers are made from frame outputs.
    pub decision: Decision,
    /// Augmentation of training utterances.
    pub augment: AugmentConfig,
    /// The fixed speaker split.
    pub split: SplitConfig,
    /// Corpus label -> class.
    pub labels: LabelMap,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            name: "model".into(),
            data: Vec::new(),
            seed: 42,
            threads: 1,
            feature_threads: 2,
            cache_dir: None,
            use_cache: true,
            features: FeatureConfig::default(),
            preprocess: Preprocess::default(),
            running_mean_prior_frames: 0.0,
            level_relative: false,
            speaker_norm: SpeakerNorm::Off,
            session_prior_frames: 300.0,
            dual_input: false,
            one_emotion_sessions: 0.0,
            reading_sessions: 0.0,
            model: ModelShape::default(),
            training: Schedule::default(),
            sampling: SamplingConfig::default(),
            decision: Decision::default(),
            augment: AugmentConfig::default(),
            split: SplitConfig::default(),
            labels: LabelMap::default(),
        }
    }
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read: check the `--config` path.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The TOML is malformed or a field has the wrong type: fix that field.
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// A setting is out of range.
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

impl TrainConfig {
    /// Reads a `train.toml`; missing fields take their defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.to_owned(), source })?;
        let config: TrainConfig = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.message().to_owned() })?;
        config.validate(path)?;
        Ok(config)
    }

    /// The config as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks ranges; the error names the field.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid { path: path.to_owned(), message });
        if let Err(e) = self.features.validate() {
            return invalid(format!("[features] {e}"));
        }
        if let Err(e) = self.model.architecture(self.features.frame_dim()).validate() {
            return invalid(format!("[model] {e}"));
        }
        let s = &self.training;
        if s.epochs == 0 || s.batch_size == 0 {
            return invalid("[training] epochs and batch_size must be positive".into());
        }
        if !(s.learning_rate > 0.0 && s.learning_rate < 1.0 && s.lr_decay > 0.0 && s.lr_decay <= 1.0) {
            return invalid("[training] learning_rate must be in (0, 1), lr_decay in (0, 1]".into());
        }
        if !(s.utterance_loss.is_finite() && s.utterance_loss >= 0.0) {
            return invalid("[training] utterance_loss must be a number >= 0".into());
        }
        if !(self.sampling.corpus_balance.is_finite() && (0.0..=1.0).contains(&self.sampling.corpus_balance))
        {
            return invalid("[sampling] corpus_balance must be in [0, 1]".into());
        }
        if !(0.0..=1.0).contains(&s.absent_class_prior) {
            return invalid("[training] absent_class_prior must be in [0, 1]".into());
        }
        if !(s.corpus_adversarial.is_finite() && s.corpus_adversarial >= 0.0) {
            return invalid("[training] corpus_adversarial must be a number >= 0".into());
        }
        if !(0.0..1.0).contains(&s.label_smoothing) {
            return invalid("[training] label_smoothing must be in [0, 1)".into());
        }
        let [vtlp_low, vtlp_high] = self.augment.vtlp;
        if !(vtlp_low >= 0.5 && vtlp_low <= vtlp_high && vtlp_high <= 2.0) {
            return invalid("[augment] vtlp must be [low, high] with 0.5 <= low <= high <= 2".into());
        }
        if !(self.session_prior_frames.is_finite() && self.session_prior_frames >= 0.0) {
            return invalid("session_prior_frames must be a number >= 0".into());
        }
        let other_sessions = self.one_emotion_sessions > 0.0 || self.reading_sessions > 0.0;
        if (self.dual_input || other_sessions) && self.speaker_norm == SpeakerNorm::Off {
            return invalid("dual_input, one_emotion_sessions and reading_sessions need speaker_norm".into());
        }
        if !(0.0..=1.0).contains(&self.one_emotion_sessions) || !(0.0..=1.0).contains(&self.reading_sessions)
        {
            return invalid("one_emotion_sessions and reading_sessions must be in [0, 1]".into());
        }
        if self.one_emotion_sessions > 0.0 && self.reading_sessions > 0.0 {
            return invalid("one_emotion_sessions and reading_sessions cannot both be above 0".into());
        }
        if self.level_relative && !self.features.families.spectral {
            return invalid("level_relative needs the spectral family (its RMS is the level)".into());
        }
        if self.threads == 0 || self.feature_threads == 0 {
            return invalid("threads and feature_threads must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped model's recipe loads and asks for what models/README.md says it does.
    #[test]
    fn shipped_recipe_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default.train.toml");
        let config = TrainConfig::load(&path).expect("models/default.train.toml loads");
        assert_eq!(config.decision, Decision::MeanAfterWarmup { warmup_frames: 175 });
        assert_eq!(config.augment.vtlp, [0.9, 1.1]);
        assert_eq!(config.features.n_mels, 80);
        assert_eq!(config.model.members, 3);
    }

    /// The half and confidence-weighted rules are written in a recipe as their kind and warm-up.
    #[test]
    fn decision_rules_parse() {
        let config: TrainConfig =
            toml::from_str("[decision]\nkind = \"mean_after_warmup_or_half\"\nwarmup_frames = 175").unwrap();
        assert_eq!(config.decision, Decision::MeanAfterWarmupOrHalf { warmup_frames: 175 });
        let config: TrainConfig =
            toml::from_str("[decision]\nkind = \"confidence_weighted_after_warmup\"\nwarmup_frames = 175")
                .unwrap();
        assert_eq!(config.decision, Decision::ConfidenceWeightedAfterWarmup { warmup_frames: 175 });
    }

    /// Dual input and one-emotion sessions parse, and without speaker normalisation are
    /// refused with an error naming them.
    #[test]
    fn dual_input_needs_speaker_norm() {
        let text = "dual_input = true\none_emotion_sessions = 0.3\n";
        let config: TrainConfig = toml::from_str(&format!("speaker_norm = \"mean_std\"\n{text}")).unwrap();
        assert!(config.dual_input && config.one_emotion_sessions == 0.3);
        config.validate(Path::new("t.toml")).unwrap();
        let config: TrainConfig = toml::from_str(text).unwrap();
        let message = config.validate(Path::new("t.toml")).unwrap_err().to_string();
        assert!(
            message.contains("dual_input, one_emotion_sessions and reading_sessions need speaker_norm"),
            "{message}"
        );
    }

    /// Reading sessions need speaker normalisation and exclude one-emotion sessions.
    #[test]
    fn reading_sessions_need_speaker_norm_and_stand_alone() {
        let config: TrainConfig = toml::from_str("reading_sessions = 0.5").unwrap();
        let message = config.validate(Path::new("t.toml")).unwrap_err().to_string();
        assert!(message.contains("reading_sessions need speaker_norm"), "{message}");
        let text = "speaker_norm = \"mean_std\"\nreading_sessions = 0.5\n";
        let config: TrainConfig = toml::from_str(text).unwrap();
        config.validate(Path::new("t.toml")).unwrap();
        let config: TrainConfig = toml::from_str(&format!("{text}one_emotion_sessions = 0.3\n")).unwrap();
        let message = config.validate(Path::new("t.toml")).unwrap_err().to_string();
        assert!(message.contains("cannot both be above 0"), "{message}");
    }

    /// A negative corpus-adversarial weight is refused with an error naming the field.
    #[test]
    fn negative_corpus_adversarial_is_named() {
        let config: TrainConfig = toml::from_str("[training]\ncorpus_adversarial = -0.5").unwrap();
        let message = config.validate(Path::new("t.toml")).unwrap_err().to_string();
        assert!(message.contains("[training] corpus_adversarial"), "{message}");
    }

    /// A reversed or extreme VTLP range is refused with an error naming the field.
    #[test]
    fn bad_vtlp_range_is_named() {
        for range in ["[1.1, 0.9]", "[0.1, 1.0]", "[1.0, 3.0]"] {
            let config: TrainConfig = toml::from_str(&format!("[augment]\nvtlp = {range}")).unwrap();
            let message = config.validate(Path::new("t.toml")).unwrap_err().to_string();
            assert!(message.contains("[augment] vtlp"), "{range}: {message}");
        }
    }
}
