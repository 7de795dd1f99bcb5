//! Padded training batches and the per-frame loss.
//!
//! Every frame from `warmup_frames` to the end of an utterance is trained towards the
//! utterance's label, so the live output is useful during the utterance, not only at its
//! end. Padding after an utterance's end gets weight 0 (the LSTMs are causal, so it does
//! not change the real frames' outputs).
//!
//! Each utterance can carry the set of classes its corpus has: the other classes' logits
//! get a log-prior added before the softmax (-1e4 takes the softmax over its corpus's
//! classes only, so the losses neither reward nor punish classes its corpus cannot show;
//! a milder one, e.g. ln 0.1, still says a little that they did not happen).

use tch::{Device, Kind, Tensor};

use crate::data::augment::{AugmentConfig, spec_augment};
use crate::data::cache::FeatureMatrix;
use crate::data::{ClassSet, NormStats, Rng, SpeakerStats};
use crate::model::Emotion;

/// One batch on the compute device.
#[derive(Debug)]
pub struct Batch {
    /// Normalised features `[batch, frames, dims]`.
    pub inputs: Tensor,
    /// Class index per utterance `[batch]` (int64).
    pub targets: Tensor,
    /// Loss weight per frame `[batch, frames]`: 0 on warm-up and padding, else the
    /// utterance's class weight.
    pub weights: Tensor,
    /// 1 on trained frames, 0 elsewhere `[batch, frames]` (for frame accuracy).
    pub mask: Tensor,
    /// Loss weight per utterance `[batch]`: its class weight.
    pub utterance_weights: Tensor,
    /// 1 for the classes of each utterance's corpus, 0 for the others `[batch, classes]`.
    pub class_mask: Tensor,
    /// Added to each utterance's logits before the softmax: 0 for its corpus's classes,
    /// the absent-class log-prior for the others `[batch, classes]`.
    pub class_log_prior: Tensor,
}

/// One utterance's part in a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// Raw features.
    pub features: &'a FeatureMatrix,
    /// Its label.
    pub label: Emotion,
    /// Its loss weight (class balance).
    pub weight: f32,
    /// Its speaker's statistics, for speaker normalisation (`None`: a fresh session).
    pub speaker: Option<&'a SpeakerStats>,
    /// The classes its softmax covers (its corpus's, or all seven).
    pub classes: ClassSet,
}

/// Frame settings of a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchShape {
    /// Frames not trained at the start (at most all but the last frame).
    pub warmup_frames: usize,
    /// Frames over which the weight ramps up after the warm-up (0 = none).
    pub ramp_frames: usize,
    /// Frames kept per utterance (0 = all).
    pub max_frames: usize,
    /// Log-prior added to the logits of classes an utterance's corpus lacks (0: none;
    /// -1e4: the softmax covers the corpus's classes only).
    pub absent_class_log_prior: f32,
}

/// Builds a batch: cut to `max_frames`, normalise, SpecAugment when `augment` is given.
pub fn make_batch(
    items: &[BatchItem<'_>],
    norm: &NormStats,
    shape: BatchShape,
    mut augment: Option<(&AugmentConfig, &mut Rng)>,
    device: Device,
) -> Result<Batch, tch::TchError> {
    let (raw_dims, dims) = (norm.dims(), norm.input_dims());
    let len =
        |m: &FeatureMatrix| if shape.max_frames > 0 { m.frames.min(shape.max_frames) } else { m.frames };
    let max_len = items.iter().map(|i| len(i.features)).max().unwrap_or(0).max(1);
    let b = items.len();
    let mut inputs = vec![0.0f32; b * max_len * dims];
    let mut weights = vec![0.0f32; b * max_len];
    let mut mask = vec![0.0f32; b * max_len];
    let mut targets = Vec::with_capacity(b);
    let mut utterance_weights = Vec::with_capacity(b);
    let mut class_mask = Vec::with_capacity(b * Emotion::COUNT);
    for (i, item) in items.iter().enumerate() {
        let n = len(item.features);
        let block = &mut inputs[i * max_len * dims..(i * max_len + n) * dims];
        norm.normalise_sequence(&item.features.data[..n * raw_dims], item.speaker, block);
        if let Some((config, rng)) = augment.as_mut() {
            spec_augment(block, dims, config, rng);
        }
        let first = shape.warmup_frames.min(n.saturating_sub(1));
        for t in first..n {
            let ramp = if shape.ramp_frames > 0 {
                ((t - first + 1) as f32 / shape.ramp_frames as f32).min(1.0)
            } else {
                1.0
            };
            weights[i * max_len + t] = item.weight * ramp;
            mask[i * max_len + t] = 1.0;
        }
        targets.push(item.label.index() as i64);
        utterance_weights.push(item.weight);
        class_mask.extend(item.classes.mask());
    }
    let (b, t, d) = (b as i64, max_len as i64, dims as i64);
    let class_mask =
        Tensor::f_from_slice(&class_mask)?.f_view([b, Emotion::COUNT as i64])?.f_to_device(device)?;
    Ok(Batch {
        inputs: Tensor::f_from_slice(&inputs)?.f_view([b, t, d])?.f_to_device(device)?,
        targets: Tensor::f_from_slice(&targets)?.f_to_device(device)?,
        weights: Tensor::f_from_slice(&weights)?.f_view([b, t])?.f_to_device(device)?,
        mask: Tensor::f_from_slice(&mask)?.f_view([b, t])?.f_to_device(device)?,
        utterance_weights: Tensor::f_from_slice(&utterance_weights)?.f_to_device(device)?,
        class_log_prior: class_mask
            .f_neg()?
            .f_add_scalar(1.0)?
            .f_mul_scalar(f64::from(shape.absent_class_log_prior))?,
        class_mask,
    })
}

/// `logits` `[batch, frames, classes]` with each utterance's class log-prior added
/// (unchanged for an utterance whose corpus has all seven classes).
fn masked(logits: &Tensor, batch: &Batch) -> Result<Tensor, tch::TchError> {
    logits.f_add(&batch.class_log_prior.f_unsqueeze(1)?)
}

/// Weighted mean cross-entropy over frames, and the share of trained frames whose
/// argmax is right. `logits` is `[batch, frames, classes]`.
pub fn frame_loss(logits: &Tensor, batch: &Batch) -> Result<(Tensor, Tensor), tch::TchError> {
    target_loss(&masked(logits, batch)?, &batch.targets, &batch.weights, &batch.mask)
}

/// Cross-entropy of every frame against its utterance's target, weighted by `weights`
/// `[batch, frames]`, and the share of the frames where `mask` is 1 whose argmax is the
/// target. `logits` is `[batch, frames, classes]`, `targets` one index per utterance.
pub fn target_loss(
    logits: &Tensor,
    targets: &Tensor,
    weights: &Tensor,
    mask: &Tensor,
) -> Result<(Tensor, Tensor), tch::TchError> {
    let size = logits.size();
    let (b, t) = (size[0], size[1]);
    let log_probs = logits.f_log_softmax(-1, Kind::Float)?;
    let index = targets.f_view([b, 1, 1])?.f_expand([b, t, 1], false)?;
    let picked = log_probs.f_gather(2, &index, false)?.f_squeeze_dim(2)?;
    let loss = weighted_nll(&picked, weights)?;
    let correct =
        logits.f_argmax(-1, false)?.f_eq_tensor(&targets.f_view([b, 1])?)?.f_to_kind(Kind::Float)?;
    let accuracy =
        correct.f_mul(mask)?.f_sum(Kind::Float)?.f_div(&mask.f_sum(Kind::Float)?.f_clamp_min(1.0)?)?;
    Ok((loss, accuracy))
}

/// Weighted mean cross-entropy of each utterance's decision: the mean of its trained
/// frames' probabilities (`eval` and `predict` decide a file the same way, from the
/// decision's first frame on rather than the warm-up's end).
pub fn utterance_loss(logits: &Tensor, batch: &Batch) -> Result<Tensor, tch::TchError> {
    let b = logits.size()[0];
    let mask = batch.mask.f_unsqueeze(-1)?;
    let frames = mask.f_sum_dim_intlist(1, false, Kind::Float)?.f_clamp_min(1.0)?;
    let mean = masked(logits, batch)?.f_softmax(-1, Kind::Float)?.f_mul(&mask)?.f_sum_dim_intlist(
        1,
        false,
        Kind::Float,
    )?;
    let mean = mean.f_div(&frames)?;
    let picked = mean.f_gather(1, &batch.targets.f_view([b, 1])?, false)?.f_squeeze_dim(1)?;
    weighted_nll(&picked.f_clamp_min(1e-8)?.f_log()?, &batch.utterance_weights)
}

/// Weighted mean cross-entropy of the frames against the uniform distribution over each
/// utterance's classes (the mean of their log-probabilities): mixed into the frame loss,
/// label smoothing.
pub fn uniform_loss(logits: &Tensor, batch: &Batch) -> Result<Tensor, tch::TchError> {
    let class_mask = batch.class_mask.f_unsqueeze(1)?;
    let classes = batch.class_mask.f_sum_dim_intlist(-1, true, Kind::Float)?.f_clamp_min(1.0)?;
    let mean_log_prob = masked(logits, batch)?
        .f_log_softmax(-1, Kind::Float)?
        .f_mul(&class_mask)?
        .f_sum_dim_intlist(-1, false, Kind::Float)?
        .f_div(&classes)?;
    weighted_nll(&mean_log_prob, &batch.weights)
}

/// `-sum(weights * log_probs) / sum(weights)`, for log-probabilities of the targets.
fn weighted_nll(log_probs: &Tensor, weights: &Tensor) -> Result<Tensor, tch::TchError> {
    let total_weight = weights.f_sum(Kind::Float)?.f_clamp_min(1e-6)?;
    log_probs.f_mul(weights)?.f_sum(Kind::Float)?.f_neg()?.f_div(&total_weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Padding and warm-up frames carry no weight; a short utterance keeps its last frame.
    #[test]
    fn weights_cover_trained_frames_only() {
        let long = FeatureMatrix { frames: 6, dims: 2, data: vec![1.0; 12] };
        let short = FeatureMatrix { frames: 2, dims: 2, data: vec![2.0; 4] };
        let items = [
            BatchItem {
                features: &long,
                label: Emotion::Sad,
                weight: 0.5,
                speaker: None,
                classes: ClassSet::ALL,
            },
            BatchItem {
                features: &short,
                label: Emotion::Angry,
                weight: 2.0,
                speaker: None,
                classes: ClassSet::ALL,
            },
        ];
        let shape =
            BatchShape { warmup_frames: 3, ramp_frames: 0, max_frames: 5, absent_class_log_prior: -1e4 };
        let batch = make_batch(&items, &NormStats::identity(2), shape, None, Device::Cpu).unwrap();
        assert_eq!(batch.inputs.size(), [2, 5, 2]);
        let w = Vec::<f32>::try_from(batch.weights.flatten(0, -1)).unwrap();
        assert_eq!(w, [0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 2.0, 0.0, 0.0, 0.0]);
        assert_eq!(Vec::<i64>::try_from(batch.targets.shallow_clone()).unwrap(), [2, 3]);

        // Logits that favour each target on every frame: loss below ln 7, accuracy 1.
        let mut logits = Tensor::zeros([2, 5, 7], (Kind::Float, Device::Cpu));
        let _ = logits.get(0).narrow(1, 2, 1).fill_(4.0);
        let _ = logits.get(1).narrow(1, 3, 1).fill_(4.0);
        let (loss, acc) = frame_loss(&logits, &batch).unwrap();
        assert!(loss.double_value(&[]) < (7f64).ln() / 10.0);
        assert_eq!(acc.double_value(&[]), 1.0);
        logits = logits.zero();
        let (loss, _) = frame_loss(&logits, &batch).unwrap();
        assert!((loss.double_value(&[]) - (7f64).ln()).abs() < 1e-5, "uniform logits give ln 7");
    }

    /// The uniform loss is ln 7 for uniform logits and grows as frames grow sure of one
    /// class (whichever): what label smoothing mixes in against overconfidence.
    #[test]
    fn uniform_loss_penalises_confidence() {
        let features = FeatureMatrix { frames: 3, dims: 1, data: vec![0.0; 3] };
        let items = [BatchItem {
            features: &features,
            label: Emotion::Sad,
            weight: 1.0,
            speaker: None,
            classes: ClassSet::ALL,
        }];
        let shape =
            BatchShape { warmup_frames: 0, ramp_frames: 0, max_frames: 0, absent_class_log_prior: -1e4 };
        let batch = make_batch(&items, &NormStats::identity(1), shape, None, Device::Cpu).unwrap();
        let uniform = Tensor::zeros([1, 3, 7], (Kind::Float, Device::Cpu));
        let loss = uniform_loss(&uniform, &batch).unwrap().double_value(&[]);
        assert!((loss - (7f64).ln()).abs() < 1e-5);
        let sure = uniform.copy();
        let _ = sure.narrow(2, 2, 1).fill_(6.0);
        assert!(uniform_loss(&sure, &batch).unwrap().double_value(&[]) > loss + 1.0);
    }

    /// With a class set, the softmax covers its classes only: logits that put everything on
    /// a class outside the set cost nothing, and the loss equals a two-class softmax's.
    #[test]
    fn class_mask_restricts_the_softmax() {
        let features = FeatureMatrix { frames: 2, dims: 1, data: vec![0.0; 2] };
        let mut classes = ClassSet::default();
        classes.insert(Emotion::Sad);
        classes.insert(Emotion::Angry);
        let items =
            [BatchItem { features: &features, label: Emotion::Sad, weight: 1.0, speaker: None, classes }];
        let shape =
            BatchShape { warmup_frames: 0, ramp_frames: 0, max_frames: 0, absent_class_log_prior: -1e4 };
        let batch = make_batch(&items, &NormStats::identity(1), shape, None, Device::Cpu).unwrap();
        let logits = Tensor::zeros([1, 2, 7], (Kind::Float, Device::Cpu));
        let _ = logits.narrow(2, 5, 1).fill_(50.0); // disgust, not in the set
        let _ = logits.narrow(2, 2, 1).fill_(1.0); // sad
        let (loss, accuracy) = frame_loss(&logits, &batch).unwrap();
        let two_class = (1.0f64 + (-1.0f64).exp()).ln();
        assert!((loss.double_value(&[]) - two_class).abs() < 1e-5, "{}", loss.double_value(&[]));
        assert_eq!(accuracy.double_value(&[]), 1.0, "the argmax is taken inside the set");
        let uniform = uniform_loss(&logits, &batch).unwrap().double_value(&[]);
        let expected = -0.5 * ((1.0 / (1.0 + (-1.0f64).exp())).ln() + (1.0 / (1.0 + 1f64.exp())).ln());
        assert!((uniform - expected).abs() < 1e-5, "uniform over the set: {uniform} vs {expected}");
    }

    /// A soft absent-class prior adds its log to the absent classes' logits: with prior p and
    /// all logits equal, a present class's probability is 1 / (present + p * absent).
    #[test]
    fn soft_prior_weighs_absent_classes_down() {
        let features = FeatureMatrix { frames: 1, dims: 1, data: vec![0.0] };
        let mut classes = ClassSet::default();
        classes.insert(Emotion::Sad);
        classes.insert(Emotion::Angry);
        let items =
            [BatchItem { features: &features, label: Emotion::Sad, weight: 1.0, speaker: None, classes }];
        let prior = 0.1f32;
        let shape = BatchShape {
            warmup_frames: 0,
            ramp_frames: 0,
            max_frames: 0,
            absent_class_log_prior: prior.ln(),
        };
        let batch = make_batch(&items, &NormStats::identity(1), shape, None, Device::Cpu).unwrap();
        let logits = Tensor::zeros([1, 1, 7], (Kind::Float, Device::Cpu));
        let (loss, _) = frame_loss(&logits, &batch).unwrap();
        let expected = (2.0 + 5.0 * f64::from(prior)).ln();
        assert!((loss.double_value(&[]) - expected).abs() < 1e-5, "{}", loss.double_value(&[]));
    }

    /// The utterance loss scores the mean of the trained frames' probabilities: right
    /// on average with one frame wrong still gives a small loss; padding is ignored.
    #[test]
    fn utterance_loss_scores_mean_probabilities() {
        let features = FeatureMatrix { frames: 4, dims: 1, data: vec![0.0; 4] };
        let short = FeatureMatrix { frames: 2, dims: 1, data: vec![0.0; 2] };
        let items = [
            BatchItem {
                features: &features,
                label: Emotion::Happy,
                weight: 1.0,
                speaker: None,
                classes: ClassSet::ALL,
            },
            BatchItem {
                features: &short,
                label: Emotion::Happy,
                weight: 1.0,
                speaker: None,
                classes: ClassSet::ALL,
            },
        ];
        let shape =
            BatchShape { warmup_frames: 0, ramp_frames: 0, max_frames: 0, absent_class_log_prior: -1e4 };
        let batch = make_batch(&items, &NormStats::identity(1), shape, None, Device::Cpu).unwrap();
        let logits = Tensor::zeros([2, 4, 7], (Kind::Float, Device::Cpu));
        // Utterance 0: frames 0-2 sure of happy, frame 3 sure of sad; utterance 1: both
        // frames sure of happy and its padding sure of sad.
        for (u, t, class) in
            [(0, 0, 1), (0, 1, 1), (0, 2, 1), (0, 3, 2), (1, 0, 1), (1, 1, 1), (1, 2, 2), (1, 3, 2)]
        {
            let _ = logits.get(u).get(t).get(class).fill_(30.0);
        }
        let loss = utterance_loss(&logits, &batch).unwrap().double_value(&[]);
        let expected = -(0.75f64.ln() + 1f64.ln()) / 2.0;
        assert!((loss - expected).abs() < 1e-4, "loss {loss}, expected {expected}");
    }
}
