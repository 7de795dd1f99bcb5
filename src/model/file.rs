//! `EmotionModel`: card + weights, loaded with every check, saved atomically, and run
//! batched (files) or frame by frame (live).
//!
//! On disk a model is two files side by side: `<name>.safetensors` (weights) and
//! `<name>.json` (the card, naming the weights file and its sha256).

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tch::{Kind, Tensor, nn};

use super::card::{Decision, ModelCard};
use super::network::{EmotionNet, names};
use super::stream::{StreamError, StreamState, StreamWeights};
use super::{ComputeDevice, Emotion, ModelError};
use crate::data::SpeakerStats;
use crate::features::FeatureConfig;

/// Per-frame class probabilities, in [`Emotion`] order.
pub type Probabilities = [f32; Emotion::COUNT];

/// A loaded (or freshly built) model.
#[derive(Debug)]
pub struct EmotionModel {
    card: ModelCard,
    /// The card file it came from (empty for a model still in training).
    path: PathBuf,
    vs: nn::VarStore,
    net: EmotionNet,
    stream: StreamWeights,
    device: ComputeDevice,
    /// A calibration reading's statistics, used in place of a fresh session's.
    calibration: Option<SpeakerStats>,
}

impl EmotionModel {
    /// A model with fresh weights for `card` (seed them with `tch::manual_seed` first).
    pub fn build(card: ModelCard, device: ComputeDevice) -> Result<Self, ModelError> {
        let path = PathBuf::from(format!("<{}>", card.name));
        card.check(&path)?;
        let vs = nn::VarStore::new(device.device);
        let net = EmotionNet::new(&vs.root(), &card.architecture);
        Self::assemble(card, path, vs, net, device)
    }

    fn assemble(
        card: ModelCard,
        path: PathBuf,
        vs: nn::VarStore,
        net: EmotionNet,
        device: ComputeDevice,
    ) -> Result<Self, ModelError> {
        let stream = StreamWeights::new(&vs, &net, &card.architecture, card.normalisation.clone())?;
        Ok(Self { card, path, vs, net, stream, device, calibration: None })
    }

    /// Loads a model from its card (`x.json`), its weights (`x.safetensors`, card beside
    /// it) or the stem `x`. Checks the card's format version, labels, feature size and
    /// architecture, the weights' sha256, and that every tensor is there with its shape.
    pub fn load(path: &Path, device: ComputeDevice) -> Result<Self, ModelError> {
        let card_path = card_path_for(path)?;
        let text = std::fs::read_to_string(&card_path)
            .map_err(|source| ModelError::Io { path: card_path.clone(), source })?;
        let card = ModelCard::parse(&text, &card_path)?;
        if card.weights_file.is_empty() {
            let reason = "the card names no weights_file".to_owned();
            return Err(ModelError::NotACard { path: card_path, reason });
        }
        let weights_path = card_path.with_file_name(&card.weights_file);
        let bytes = std::fs::read(&weights_path)
            .map_err(|source| ModelError::Io { path: weights_path.clone(), source })?;
        let actual = hex_sha256(&bytes);
        if actual != card.weights_sha256 {
            return Err(ModelError::WeightsHash {
                path: weights_path,
                expected: card.weights_sha256,
                actual,
            });
        }
        let mut vs = nn::VarStore::new(device.device);
        let net = EmotionNet::new(&vs.root(), &card.architecture);
        copy_weights_strictly(&vs, &weights_path)?;
        vs.freeze();
        Self::assemble(card, card_path, vs, net, device)
    }

    /// One model of several single-network models of the same recipe (their weights copied
    /// under `member{i}.`); its card is the first's with `architecture.members` set.
    /// Networks whose cards differ in more than weights, seed and history are refused.
    pub fn ensemble(members: &[&EmotionModel], device: ComputeDevice) -> Result<Self, ModelError> {
        let Some(first) = members.first() else {
            return Err(ModelError::NotACard {
                path: PathBuf::from("<ensemble>"),
                reason: "no members".into(),
            });
        };
        if let Some((member, field)) =
            members.iter().find_map(|m| first.card.recipe_difference(&m.card).map(|field| (m, field)))
        {
            return Err(ModelError::Unjoinable {
                path: member.path.clone(),
                first: first.path.clone(),
                field,
            });
        }
        let mut card = first.card.clone();
        card.architecture.members = members.len();
        let mut model = Self::build(card, device)?;
        let torch = |source| ModelError::Torch { path: model.path.clone(), source };
        let target = model.vs.variables();
        tch::no_grad(|| -> Result<(), tch::TchError> {
            for (i, member) in members.iter().enumerate() {
                // Their architectures are equal (checked above); each must be one network.
                if member.card.architecture.members != 1 {
                    return Err(tch::TchError::Shape(format!("member {i} has another architecture")));
                }
                for (name, value) in member.vs.variables() {
                    let key = format!("{}{name}", names::member(i, members.len()));
                    let Some(mut slot) = target.get(&key).map(Tensor::shallow_clone) else {
                        return Err(tch::TchError::Shape(format!("no variable {key} in the ensemble")));
                    };
                    slot.f_copy_(&value)?;
                }
            }
            Ok(())
        })
        .map_err(torch)?;
        model.refresh_stream()?;
        Ok(model)
    }

    /// Writes `<stem>.safetensors` then `<stem>.json` (each via a temporary file and a
    /// rename), recording the weights' name and sha256 in the card. Returns the card path.
    pub fn save(&mut self, stem: &Path) -> Result<PathBuf, ModelError> {
        let weights_path = stem.with_extension("safetensors");
        let card_path = stem.with_extension("json");
        if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| ModelError::Io { path: dir.to_owned(), source })?;
        }
        // NOTE: tch picks the format from the extension, so the temporary name keeps it.
        let tmp = weights_path.with_extension("tmp.safetensors");
        self.vs.save(&tmp).map_err(|source| ModelError::Torch { path: tmp.clone(), source })?;
        let bytes = std::fs::read(&tmp).map_err(|source| ModelError::Io { path: tmp.clone(), source })?;
        std::fs::rename(&tmp, &weights_path)
            .map_err(|source| ModelError::Io { path: weights_path.clone(), source })?;
        self.card.weights_sha256 = hex_sha256(&bytes);
        self.card.weights_file =
            weights_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        write_atomically(
            &card_path,
            serde_json::to_string_pretty(&self.card).unwrap_or_default().as_bytes(),
        )?;
        self.path = card_path.clone();
        Ok(card_path)
    }

    /// The card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// The card, to fill in metrics and training details before saving.
    pub fn card_mut(&mut self) -> &mut ModelCard {
        &mut self.card
    }

    /// The card file this model was loaded from or last saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How to compute this model's input features.
    pub fn feature_config(&self) -> &FeatureConfig {
        &self.card.feature_config
    }

    /// Where the model runs.
    pub fn device(&self) -> ComputeDevice {
        self.device
    }

    /// The variables (for the optimiser while training).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    /// The network (for training).
    pub fn net(&self) -> &EmotionNet {
        &self.net
    }

    /// Rebuilds the streaming weights after the variables changed (training, restore).
    pub fn refresh_stream(&mut self) -> Result<(), ModelError> {
        self.stream = StreamWeights::new(
            &self.vs,
            &self.net,
            &self.card.architecture,
            self.card.normalisation.clone(),
        )?;
        Ok(())
    }

    /// Copies all variables from another model of the same architecture (best-epoch restore).
    pub fn copy_weights_from(&mut self, other: &EmotionModel) -> Result<(), ModelError> {
        self.vs.copy(&other.vs).map_err(|source| ModelError::Torch { path: self.path.clone(), source })?;
        self.refresh_stream()
    }

    /// A zero streaming state for this model: call [`StreamState::step`] per frame. A
    /// calibrated model's states normalise by the calibration, not by the session.
    pub fn new_stream(&self) -> StreamState {
        match &self.calibration {
            Some(stats) => StreamState::for_speaker(&self.stream, stats.clone()),
            None => StreamState::new(&self.stream),
        }
    }

    /// Normalises every fresh session (stream or batch) by `stats` from now on (a
    /// calibration reading's, see [`super::calibration`]); `None` goes back to the
    /// session's own running statistics.
    pub fn set_calibration(&mut self, stats: Option<SpeakerStats>) {
        self.calibration = stats;
    }

    /// Whether a calibration is in use.
    pub fn is_calibrated(&self) -> bool {
        self.calibration.is_some()
    }

    /// Per-frame probabilities of several utterances at once. Each item is raw features,
    /// row-major `[frames, frame_dim]`; normalised here exactly as in training and in
    /// `StreamState::step` from a fresh session (or by the calibration). Empty items give
    /// empty outputs.
    pub fn frame_probabilities(&self, utterances: &[&[f32]]) -> Result<Vec<Vec<Probabilities>>, ModelError> {
        match &self.calibration {
            Some(stats) => self.frame_probabilities_with(utterances, Some(&vec![stats; utterances.len()])),
            None => self.frame_probabilities_with(utterances, None),
        }
    }

    /// [`EmotionModel::frame_probabilities`] of utterances whose speakers' statistics are
    /// known (one per utterance; used when the card has speaker normalisation).
    pub fn frame_probabilities_for_speakers(
        &self,
        utterances: &[&[f32]],
        speakers: &[&SpeakerStats],
    ) -> Result<Vec<Vec<Probabilities>>, ModelError> {
        self.frame_probabilities_with(utterances, Some(speakers))
    }

    fn frame_probabilities_with(
        &self,
        utterances: &[&[f32]],
        speakers: Option<&[&SpeakerStats]>,
    ) -> Result<Vec<Vec<Probabilities>>, ModelError> {
        let norm = &self.card.normalisation;
        let (dims, input_dims) = (norm.dims(), norm.input_dims());
        let torch = |source| ModelError::Torch { path: self.path.clone(), source };
        let mut out: Vec<Vec<Probabilities>> = utterances.iter().map(|_| Vec::new()).collect();
        let lengths: Vec<usize> = utterances.iter().map(|u| u.len() / dims).collect();
        let max_len = lengths.iter().copied().max().unwrap_or(0);
        if max_len == 0 {
            return Ok(out);
        }
        for u in utterances {
            if u.len() % dims != 0 {
                return Err(StreamError::FrameSize { got: u.len() % dims, expected: dims }.into());
            }
        }
        let mut padded = vec![0.0f32; utterances.len() * max_len * input_dims];
        for (i, u) in utterances.iter().enumerate() {
            let start = i * max_len * input_dims;
            let block = &mut padded[start..start + u.len() / dims * input_dims];
            norm.normalise_sequence(u, speakers.and_then(|s| s.get(i)).copied(), block);
        }
        let probs = tch::no_grad(|| -> Result<Vec<f32>, tch::TchError> {
            let x = Tensor::f_from_slice(&padded)?
                .f_view([utterances.len() as i64, max_len as i64, input_dims as i64])?
                .f_to_device(self.device.device)?;
            let p = self.net.probabilities(&x).f_to_device(tch::Device::Cpu)?.f_to_kind(Kind::Float)?;
            Vec::<f32>::try_from(p.f_flatten(0, -1)?)
        })
        .map_err(torch)?;
        for (i, len) in lengths.iter().enumerate() {
            let start = i * max_len * Emotion::COUNT;
            out[i] = probs[start..start + len * Emotion::COUNT]
                .chunks_exact(Emotion::COUNT)
                .map(|c| {
                    let mut p = [0.0; Emotion::COUNT];
                    p.copy_from_slice(c);
                    p
                })
                .collect();
        }
        Ok(out)
    }

    /// One answer per utterance from its frame probabilities, by the card's decision rule.
    pub fn decide(&self, frames: &[Probabilities]) -> Probabilities {
        decide(self.card.decision, frames)
    }
}

/// Applies a decision rule to frame probabilities (all zeros for no frames).
pub fn decide(decision: Decision, frames: &[Probabilities]) -> Probabilities {
    let chosen = match decision {
        Decision::LastFrame => frames.len().saturating_sub(1)..frames.len(),
        Decision::MeanAfterWarmup { warmup_frames }
        | Decision::ConfidenceWeightedAfterWarmup { warmup_frames } => {
            if frames.len() > warmup_frames {
                warmup_frames..frames.len()
            } else {
                0..frames.len()
            }
        }
        Decision::MeanAfterWarmupOrHalf { warmup_frames } => {
            warmup_frames.min(frames.len() / 2)..frames.len()
        }
    };
    let mut sum = [0.0f64; Emotion::COUNT];
    let mut total_weight = 0.0f64;
    for frame in &frames[chosen] {
        let weight = frame_weight(decision, frame);
        for (s, p) in sum.iter_mut().zip(frame) {
            *s += weight * f64::from(*p);
        }
        total_weight += weight;
    }
    sum.map(|s| if total_weight > 0.0 { (s / total_weight) as f32 } else { 0.0 })
}

/// How much one frame counts in a decision rule's mean.
pub fn frame_weight(decision: Decision, frame: &Probabilities) -> f64 {
    match decision {
        Decision::ConfidenceWeightedAfterWarmup { .. } => confidence(frame),
        _ => 1.0,
    }
}

/// One minus a frame's entropy over ln 7: 0 for a flat output, 1 for a certain one; at
/// least 0.001, so that a file of flat frames still has an answer.
pub fn confidence(frame: &Probabilities) -> f64 {
    let entropy: f64 = frame.iter().map(|&p| f64::from(p)).filter(|&p| p > 0.0).map(|p| -p * p.ln()).sum();
    (1.0 - entropy / (Emotion::COUNT as f64).ln()).max(1e-3)
}

impl StreamState {
    /// Advances one frame of raw features (the model's `feature_config()` frames; the
    /// card's normalisation is applied here) and returns the probabilities after it.
    /// Allocates nothing on the Rust heap.
    pub fn step(&mut self, model: &EmotionModel, frame: &[f32]) -> Result<Probabilities, StreamError> {
        self.step_with(&model.stream, frame)
    }
}

/// The card path for a `--model` argument: `x.json`, `x.safetensors` -> `x.json`, `x` -> `x.json`.
fn card_path_for(path: &Path) -> Result<PathBuf, ModelError> {
    let looked = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => path.to_owned(),
        Some("safetensors") => path.with_extension("json"),
        _ if path.is_dir() => path.join("default.json"),
        _ => PathBuf::from(format!("{}.json", path.display())),
    };
    if looked.is_file() {
        Ok(looked)
    } else if !path.exists() && path.extension().is_some() {
        Err(ModelError::Io { path: path.to_owned(), source: std::io::ErrorKind::NotFound.into() })
    } else {
        Err(ModelError::NoCard { path: path.to_owned(), looked })
    }
}

/// Copies each tensor of the file into the variable of the same name; every variable
/// must be present with its exact shape and finite values, and the file must hold
/// nothing else.
fn copy_weights_strictly(vs: &nn::VarStore, path: &Path) -> Result<(), ModelError> {
    let mismatch = |reason: String| ModelError::WeightsMismatch { path: path.to_owned(), reason };
    let tensors = Tensor::read_safetensors(path).map_err(|e| mismatch(e.to_string()))?;
    let mut vars = vs.variables();
    let mut seen = std::collections::BTreeSet::new();
    for (name, tensor) in tensors {
        let var = vars.get_mut(&name).ok_or_else(|| mismatch(format!("unexpected tensor '{name}'")))?;
        if var.size() != tensor.size() || tensor.kind() != Kind::Float {
            return Err(mismatch(format!(
                "'{name}' is {:?} {:?}, the card's architecture needs {:?} Float",
                tensor.kind(),
                tensor.size(),
                var.size()
            )));
        }
        // NOTE: a NaN or infinite weight makes every output NaN; such a file is corrupt
        // even when its hash matches (found by tests/fuzz_model_file.rs).
        let finite = tensor
            .f_isfinite()
            .and_then(|t| t.f_all())
            .and_then(|t| bool::try_from(&t))
            .map_err(|source| ModelError::Torch { path: path.to_owned(), source })?;
        if !finite {
            return Err(mismatch(format!("'{name}' holds NaN or infinite values")));
        }
        tch::no_grad(|| var.f_copy_(&tensor))
            .map_err(|source| ModelError::Torch { path: path.to_owned(), source })?;
        seen.insert(name);
    }
    let mut missing: Vec<&String> = vars.keys().filter(|k| !seen.contains(*k)).collect();
    missing.sort();
    if let Some(first) = missing.first() {
        return Err(mismatch(format!("{} of {} tensors missing, e.g. '{first}'", missing.len(), vars.len())));
    }
    Ok(())
}

/// Lower-case hex sha256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let io = |source| ModelError::Io { path: path.to_owned(), source };
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// A model together with one streaming state: what a live pipeline's worker owns.
/// `Send`, so it can move to the worker thread.
#[derive(Debug)]
pub struct LiveClassifier {
    model: EmotionModel,
    state: StreamState,
    errors: u64,
}

impl LiveClassifier {
    /// Wraps a loaded model with a fresh state.
    pub fn new(model: EmotionModel) -> Self {
        let state = model.new_stream();
        Self { model, state, errors: 0 }
    }

    /// The model.
    pub fn model(&self) -> &EmotionModel {
        &self.model
    }

    /// Values per input frame (the feature config's `frame_dim`).
    pub fn input_dim(&self) -> usize {
        self.model.card.normalisation.dims()
    }

    /// Starts a new utterance.
    pub fn reset(&mut self) {
        if self.state.reset().is_err() {
            self.errors += 1;
        }
    }

    /// One frame in, probabilities out; see [`StreamState::step`].
    pub fn try_step(&mut self, frame: &[f32]) -> Result<Probabilities, StreamError> {
        self.state.step(&self.model, frame)
    }

    /// One frame in, probabilities out; a frame that cannot be used (wrong length) gives
    /// the uniform distribution and is counted in [`LiveClassifier::errors`].
    pub fn step(&mut self, frame: &[f32]) -> Probabilities {
        match self.state.step(&self.model, frame) {
            Ok(p) => p,
            Err(_) => {
                self.errors += 1;
                [1.0 / Emotion::COUNT as f32; Emotion::COUNT]
            }
        }
    }

    /// The statistics of the session's speech so far and their frame count (a
    /// speaker-normalised, uncalibrated model with speech heard; `None` otherwise).
    pub fn session_statistics(&mut self) -> Option<(SpeakerStats, u64)> {
        self.state.session_statistics(&self.model.stream)
    }

    /// Steps that failed since creation.
    pub fn errors(&self) -> u64 {
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    /// The live classifier can move to a worker thread.
    #[test]
    fn live_classifier_is_send() {
        assert_send::<LiveClassifier>();
        assert_send::<EmotionModel>();
    }

    #[test]
    fn decision_rules() {
        let a = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let b = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let frames = [a, a, b, b, b];
        assert_eq!(decide(Decision::LastFrame, &frames), b);
        let mean = decide(Decision::MeanAfterWarmup { warmup_frames: 1 }, &frames);
        assert_eq!(mean[0..2], [0.25, 0.75]);
        let short = decide(Decision::MeanAfterWarmup { warmup_frames: 10 }, &frames);
        assert_eq!(short[0..2], [0.4, 0.6]);
        // Five frames, warm-up 10: from frame 5 / 2 = 2 on, the three b frames.
        assert_eq!(decide(Decision::MeanAfterWarmupOrHalf { warmup_frames: 10 }, &frames), b);
        // Warm-up 1 is under half of five frames: as `MeanAfterWarmup`.
        assert_eq!(decide(Decision::MeanAfterWarmupOrHalf { warmup_frames: 1 }, &frames), mean);
        assert_eq!(decide(Decision::MeanAfterWarmupOrHalf { warmup_frames: 10 }, &[a]), a);
        assert_eq!(decide(Decision::LastFrame, &[]), [0.0; 7]);
    }

    /// The confidence-weighted rule: a certain frame counts 1, a two-way tie 1 - ln 2 / ln 7,
    /// a flat frame the floor; the warm-up is `MeanAfterWarmup`'s.
    #[test]
    fn confidence_weighted_rule() {
        let a = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let b = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let tie = [0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0];
        let flat = [1.0 / 7.0; 7];
        assert!((confidence(&a) - 1.0).abs() < 1e-9);
        assert!((confidence(&flat) - 1e-3).abs() < 1e-9);
        let w = 1.0 - 2f64.ln() / 7f64.ln();
        assert!((confidence(&tie) - w).abs() < 1e-6);
        let rule = Decision::ConfidenceWeightedAfterWarmup { warmup_frames: 1 };
        // Frame a is the warm-up; b (weight 1) and the tie (weight w) remain.
        let answer = decide(rule, &[a, b, tie]);
        assert!((f64::from(answer[0]) - 0.5 * w / (1.0 + w)).abs() < 1e-6, "{answer:?}");
        assert!((f64::from(answer[1]) - (1.0 + 0.5 * w) / (1.0 + w)).abs() < 1e-6, "{answer:?}");
        // Flat frames barely move a certain one.
        let answer = decide(Decision::ConfidenceWeightedAfterWarmup { warmup_frames: 0 }, &[a, flat, flat]);
        assert!((answer[0] - (1.0 + 0.002 / 7.0) / 1.002).abs() < 1e-6, "{answer:?}");
        // Shorter than the warm-up: all frames, as `MeanAfterWarmup`.
        let short = decide(Decision::ConfidenceWeightedAfterWarmup { warmup_frames: 10 }, &[a, b]);
        assert_eq!(short[0..2], [0.5, 0.5]);
    }
}
