//! The training loop: per-frame loss on padded batches, validation UA every epoch, early
//! stopping, best and last checkpoints, resumable. Without validation speakers (every
//! non-test speaker trains) nothing can choose an epoch: all `epochs` run and the last
//! one is kept.
//!
//! Determinism: weights and dropout from `tch::manual_seed(seed)`, batch order,
//! augmentation choices and SpecAugment from `Rng::derive(seed, epoch)`, so an epoch's
//! data does not depend on how the run got there (a resumed run sees the same batches).
//! Ensemble members trained side by side (`train::ensemble`) each start from their seed's
//! weights, but share libtorch's process-wide generator for dropout, so only members
//! trained one after another (`--threads 1`) are reproducible to the bit.

use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use tch::Tensor;
use tch::nn::{self, OptimizerConfig};

use super::adversary::{CorpusAdversary, ramped_weight};
use super::average::add_to_average;
use super::batch::{BatchItem, BatchShape, frame_loss, make_batch, uniform_loss, utterance_loss};
use super::calibration::calibrated_or_session_statistics;
use super::config::TrainConfig;
use super::dataset::PreparedData;
use super::evaluate::{Evaluation, Sessions, evaluate, one_emotion_session, session_statistics};
use super::runs::RunDir;
use super::sampler::EpochSampler;
use crate::data::{
    ClassSet, CorpusClasses, LevelColumns, LevelTracker, NormAccumulator, NormStats, Part, Rng, SpeakerNorm,
    SpeakerStats, SplitSpec, Utterance,
};
use crate::model::{ComputeDevice, EmotionModel, ModelCard};

/// Seeding libtorch's generator and drawing a network's first weights happen under this
/// lock, so members trained side by side each start from their own seed.
static WEIGHT_INIT: Mutex<()> = Mutex::new(());

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss (weighted frame cross-entropy).
    pub train_loss: f64,
    /// Share of trained frames right during training (with dropout and augmentation), 0-1.
    pub train_frame_accuracy: f64,
    /// With `corpus_adversarial`: share of trained frames whose corpus the adversary
    /// told right, 0-1 (near chance when LSTM 2's outputs no longer show the corpus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_corpus_accuracy: Option<f64>,
    /// Frame cross-entropy on validation.
    pub val_loss: f64,
    /// Validation unweighted accuracy (per-file decisions), 0-1.
    pub val_ua: f64,
    /// Validation accuracy, 0-1.
    pub val_accuracy: f64,
    /// Validation macro-F1, 0-1.
    pub val_macro_f1: f64,
    /// Learning rate used in this epoch.
    pub learning_rate: f64,
    /// Wall time of the epoch, s.
    pub seconds: f64,
}

/// Where training stands, saved after every epoch as `state.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainState {
    /// Epochs completed.
    pub epoch: usize,
    /// Epoch of the best validation UA so far.
    pub best_epoch: usize,
    /// That UA.
    pub best_val_ua: f64,
    /// Epochs since it last improved.
    pub epochs_without_improvement: usize,
    /// True once training stopped (early or at the last epoch).
    pub finished: bool,
    /// Training wall time so far, s.
    pub seconds: f64,
    /// Epochs folded into the weight average so far (0: no averaging).
    #[serde(default)]
    pub averaged_epochs: usize,
}

/// The best model and how training went.
#[derive(Debug)]
pub struct Fitted {
    /// The model with the best validation UA, or the weight average when averaging (its
    /// card has normalisation etc.).
    pub model: EmotionModel,
    /// Final state.
    pub state: TrainState,
    /// Every epoch's record.
    pub history: Vec<EpochRecord>,
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A part of the split is empty: add data or change the split.
    #[error("the {0} part of the split has no utterances ({1})")]
    EmptyPart(&'static str, String),
    /// Model building, saving or running failed.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// libtorch failed.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// Writing the run folder failed.
    #[error("{0}")]
    Run(String),
}

/// How a fit runs.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    /// Where the network trains.
    pub device: ComputeDevice,
    /// Continue from the run's `last` checkpoint and `state.json` (optimizer moments
    /// restart from zero).
    pub resume: bool,
    /// Progress bars and a line per epoch on stderr.
    pub show_progress: bool,
}

/// Trains on `split` of `data`, checkpointing into `run`.
pub fn fit(
    config: &TrainConfig,
    data: &PreparedData,
    split: &SplitSpec,
    run: &RunDir,
    options: FitOptions,
) -> Result<Fitted, TrainError> {
    let FitOptions { device, resume, show_progress } = options;
    let describe = || split.describe(&data.utterances);
    let train = data.indices(split, Part::Train);
    let val = data.indices(split, Part::Val);
    if train.is_empty() {
        return Err(TrainError::EmptyPart("train", describe()));
    }
    let dims = config.features.frame_dim();
    let level = if config.level_relative { LevelColumns::of(&config.features) } else { None };
    let mut acc = NormAccumulator::new(dims);
    let mut relative = Vec::new();
    for &i in &train {
        relative.clear();
        relative.extend_from_slice(&data.features[i].variants[0].data);
        if let Some(columns) = &level {
            LevelTracker::apply_sequence(columns, &mut relative, dims);
        }
        acc.add(&relative);
    }
    let norm = NormStats {
        running_prior_frames: config.running_mean_prior_frames,
        speaker_norm: config.speaker_norm,
        session_prior_frames: config.session_prior_frames,
        level,
        dual_input: config.dual_input,
        ..acc.finish()
    };
    let arch = config.model.architecture(norm.input_dims());
    let speakers = training_speakers(data, &train, &norm);
    let other_sessions = other_training_sessions(config, data, &train, &norm);
    let mut card =
        ModelCard::new(&config.name, config.features.clone(), config.preprocess.clone(), norm, arch);
    card.decision = config.decision;
    let seeding = WEIGHT_INIT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    tch::manual_seed(config.seed as i64);
    let mut model = EmotionModel::build(card.clone(), device)?;
    drop(seeding);
    let mut average = if config.training.average_from_epoch > 0 {
        Some(EmotionModel::build(card.clone(), device)?)
    } else {
        None
    };
    // Without validation speakers the last epoch is kept and there is no `best`.
    let keep_last = val.is_empty();
    let mut best = if keep_last { None } else { Some(EmotionModel::build(card, device)?) };
    let mut state = TrainState::default();
    let mut history = Vec::new();
    if resume {
        state = run.read_state().map_err(TrainError::Run)?;
        history = run.read_metrics().map_err(TrainError::Run)?;
        model.copy_weights_from(&EmotionModel::load(&run.checkpoint("last"), device)?)?;
        if let Some(best) = best.as_mut() {
            best.copy_weights_from(&EmotionModel::load(&run.checkpoint("best"), device)?)?;
        }
        if let Some(average) = average.as_mut().filter(|_| state.averaged_epochs > 0) {
            average.copy_weights_from(&EmotionModel::load(&run.checkpoint("average"), device)?)?;
        }
    }
    let schedule = &config.training;
    // A resumed run may have been given more epochs (or patience) than it stopped with.
    state.finished = state.epochs_without_improvement >= schedule.patience || state.epoch >= schedule.epochs;
    let mut lr = schedule.learning_rate * schedule.lr_decay.powi(state.epoch as i32);
    let mut opt = nn::adamw(0.9, 0.999, schedule.weight_decay).build(model.var_store(), lr)?;
    let train_utterances: Vec<&Utterance> = train.iter().map(|&i| &data.utterances[i]).collect();
    let sampler = EpochSampler::new(&config.sampling, &train_utterances, schedule.class_balance);
    let classes = training_classes(config, data, &train);
    let val_items = data.clean_items(&val);
    let corpora = corpus_indices(data, &train);
    let mut adversary = if schedule.corpus_adversarial > 0.0 {
        let count = corpora.iter().max().map_or(1, |&m| m as usize + 1);
        Some(CorpusAdversary::new(config.model.lstm2_units, count, lr, device.device)?)
    } else {
        None
    };
    let context = EpochData {
        data,
        train: &train,
        speakers: speakers.as_deref(),
        other_sessions: other_sessions.as_ref().map(|(stats, share)| (stats.as_slice(), *share)),
        sampler: &sampler,
        classes: &classes,
        corpora: &corpora,
    };
    let started = Instant::now() - std::time::Duration::from_secs_f64(state.seconds);
    while state.epoch < schedule.epochs && !state.finished {
        let epoch = state.epoch + 1;
        let epoch_start = Instant::now();
        opt.set_lr(lr);
        if let Some(adversary) = adversary.as_mut() {
            adversary.set_lr(lr);
        }
        let EpochTraining { loss: train_loss, frame_accuracy: train_acc, corpus_accuracy } =
            run_epoch(config, &context, &model, &mut opt, adversary.as_mut(), epoch, options)?;
        let eval = if keep_last {
            None
        } else {
            Some(evaluate(&model, &val_items, schedule.warmup_frames, Sessions::PerSpeaker)?)
        };
        let val_score = |f: fn(&Evaluation) -> f64| eval.as_ref().map_or(0.0, f);
        let record = EpochRecord {
            epoch,
            train_loss,
            train_frame_accuracy: train_acc,
            train_corpus_accuracy: corpus_accuracy,
            val_loss: val_score(|e| e.frame_loss),
            val_ua: val_score(|e| e.overall.ua),
            val_accuracy: val_score(|e| e.overall.accuracy),
            val_macro_f1: val_score(|e| e.overall.macro_f1),
            learning_rate: lr,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        if show_progress {
            let val = if keep_last {
                "no validation speakers".to_owned()
            } else {
                format!(
                    "val loss {:.3} UA {:.1}% acc {:.1}% F1 {:.1}%",
                    record.val_loss,
                    100.0 * record.val_ua,
                    100.0 * record.val_accuracy,
                    100.0 * record.val_macro_f1
                )
            };
            let corpus = record
                .train_corpus_accuracy
                .map_or(String::new(), |a| format!(" corpus acc {:.1}%", 100.0 * a));
            eprintln!(
                "epoch {epoch:>3}: train loss {:.3} frame acc {:.1}%{corpus} | {val} | {:.0} s",
                record.train_loss,
                100.0 * record.train_frame_accuracy,
                record.seconds
            );
        }
        run.append_metrics(&record).map_err(TrainError::Run)?;
        state.epoch = epoch;
        if keep_last || record.val_ua > state.best_val_ua || state.best_epoch == 0 {
            state.best_val_ua = record.val_ua;
            state.best_epoch = epoch;
            state.epochs_without_improvement = 0;
            if let Some(best) = best.as_mut() {
                model.refresh_stream()?;
                best.copy_weights_from(&model)?;
                best.save(&run.checkpoint("best"))?;
            }
        } else {
            state.epochs_without_improvement += 1;
        }
        history.push(record);
        model.save(&run.checkpoint("last"))?;
        if let Some(average) = average.as_mut().filter(|_| epoch >= schedule.average_from_epoch) {
            add_to_average(average, &model, state.averaged_epochs)?;
            state.averaged_epochs += 1;
            average.save(&run.checkpoint("average"))?;
        }
        lr *= schedule.lr_decay;
        state.finished = state.epochs_without_improvement >= schedule.patience || epoch >= schedule.epochs;
        state.seconds = started.elapsed().as_secs_f64();
        run.write_state(&state).map_err(TrainError::Run)?;
    }
    let mut chosen = match (average, best) {
        (Some(average), _) if state.averaged_epochs > 0 => average,
        (_, Some(best)) => best,
        _ => model,
    };
    chosen.refresh_stream()?;
    Ok(Fitted { model: chosen, state, history })
}

/// The classes each training utterance's softmax covers, in `train` order: its corpus's
/// with `mask_absent_classes`, else all seven.
fn training_classes(config: &TrainConfig, data: &PreparedData, train: &[usize]) -> Vec<ClassSet> {
    let corpora = CorpusClasses::of(&data.utterances);
    train
        .iter()
        .map(|&i| {
            if config.training.mask_absent_classes {
                corpora.get(data.utterances[i].corpus_name())
            } else {
                ClassSet::ALL
            }
        })
        .collect()
}

/// Each training utterance's speaker statistics (from all of that speaker's training
/// files), in `train` order; `None` without speaker normalisation.
fn training_speakers(data: &PreparedData, train: &[usize], norm: &NormStats) -> Option<Vec<SpeakerStats>> {
    (norm.speaker_norm != SpeakerNorm::Off)
        .then(|| training_sessions(data, train, norm, |u| u.speaker.clone()))
}

/// The statistics a share of the drawn utterances is normalised by instead of their
/// speaker's, in `train` order, and that share: one-emotion sessions or calibrated
/// readings (`None` for neither).
fn other_training_sessions(
    config: &TrainConfig,
    data: &PreparedData,
    train: &[usize],
    norm: &NormStats,
) -> Option<(Vec<SpeakerStats>, f32)> {
    if config.one_emotion_sessions > 0.0 {
        let stats = training_sessions(data, train, norm, one_emotion_session);
        Some((stats, config.one_emotion_sessions))
    } else if config.reading_sessions > 0.0 {
        let stats = calibrated_or_session_statistics(norm, &data.clean_items(train));
        Some((stats, config.reading_sessions))
    } else {
        None
    }
}

/// Each training utterance's statistics from the training files of the session `session`
/// puts it in, in `train` order.
fn training_sessions(
    data: &PreparedData,
    train: &[usize],
    norm: &NormStats,
    session: fn(&Utterance) -> String,
) -> Vec<SpeakerStats> {
    let items = data.clean_items(train);
    let stats = session_statistics(norm, &items, session);
    items.iter().map(|(u, _)| stats[&session(u)].clone()).collect()
}

/// Each training utterance's corpus as an index from 0, in `train` order.
fn corpus_indices(data: &PreparedData, train: &[usize]) -> Vec<i64> {
    let mut ids = std::collections::BTreeMap::new();
    train
        .iter()
        .map(|&i| {
            let next = ids.len() as i64;
            *ids.entry(data.utterances[i].corpus_name()).or_insert(next)
        })
        .collect()
}

/// Seed stream of the other sessions' draws (one-emotion sessions or readings).
const OTHER_SESSIONS_STREAM: u64 = 0x0e5e_5510;

/// What an epoch trains on.
struct EpochData<'a> {
    data: &'a PreparedData,
    /// Training utterance indices.
    train: &'a [usize],
    /// Their speakers' statistics, in `train` order (speaker normalisation only).
    speakers: Option<&'a [SpeakerStats]>,
    /// Other sessions' statistics (one-emotion sessions or calibrated readings), in
    /// `train` order, and the share of drawn utterances normalised by them.
    other_sessions: Option<(&'a [SpeakerStats], f32)>,
    /// Draws the epoch's utterances and holds their loss weights.
    sampler: &'a EpochSampler,
    /// The classes each one's softmax covers, in `train` order.
    classes: &'a [ClassSet],
    /// Their corpora as indices from 0, in `train` order (for the corpus adversary).
    corpora: &'a [i64],
}

/// What an epoch of training measured (means over its batches).
struct EpochTraining {
    loss: f64,
    frame_accuracy: f64,
    /// The corpus adversary's frame accuracy, when there is one.
    corpus_accuracy: Option<f64>,
}

/// One pass over the training utterances.
fn run_epoch(
    config: &TrainConfig,
    context: &EpochData<'_>,
    model: &EmotionModel,
    opt: &mut nn::Optimizer,
    mut adversary: Option<&mut CorpusAdversary>,
    epoch: usize,
    FitOptions { device, show_progress, .. }: FitOptions,
) -> Result<EpochTraining, TrainError> {
    let schedule = &config.training;
    let EpochData { data, train, speakers, other_sessions, sampler, classes, corpora } = *context;
    let adversary_weight = ramped_weight(schedule.corpus_adversarial, epoch - 1, schedule.epochs);
    let mut rng = Rng::derive(config.seed, epoch as u64);
    // Its own stream, so that recipes without other sessions draw as before.
    let mut sessions_rng = Rng::derive(config.seed ^ OTHER_SESSIONS_STREAM, epoch as u64);
    let order = sampler.epoch(&mut rng);
    let batches = bucketed_batches(data, train, order, schedule.batch_size, &mut rng);
    let bar = if show_progress { ProgressBar::new(batches.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template(
            "epoch {prefix:>3} [{bar:30}] {pos}/{len} batches {elapsed} (eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(epoch.to_string());
    let absent_class_log_prior =
        if schedule.absent_class_prior > 0.0 { schedule.absent_class_prior.ln() as f32 } else { -1e4 };
    let shape = BatchShape {
        warmup_frames: schedule.warmup_frames,
        ramp_frames: schedule.ramp_frames,
        max_frames: schedule.max_frames,
        absent_class_log_prior,
    };
    let norm = &model.card().normalisation;
    let (mut loss_sum, mut acc_sum, mut corpus_acc_sum) = (0.0, 0.0, 0.0);
    for (n, batch_indices) in batches.iter().enumerate() {
        let items: Vec<BatchItem<'_>> = batch_indices
            .iter()
            .map(|&k| {
                let i = train[k];
                let variants = &data.features[i].variants;
                let label = data.utterances[i].label;
                let speaker = match (speakers, other_sessions) {
                    (Some(_), Some((sessions, share))) if sessions_rng.unit() < f64::from(share) => {
                        Some(&sessions[k])
                    }
                    (speakers, _) => speakers.map(|s| &s[k]),
                };
                let features = &variants[rng.below(variants.len())];
                BatchItem { features, label, weight: sampler.weight(k), speaker, classes: classes[k] }
            })
            .collect();
        let batch = make_batch(&items, norm, shape, Some((&config.augment, &mut rng)), device.device)?;
        // With the corpus adversary, LSTM 2's outputs feed both heads.
        let (logits, encoded) = match (adversary.is_some(), model.net().members()) {
            (true, [member]) => {
                let encoded = member.encode_t(&batch.inputs, true);
                (member.classify_t(&encoded, true), Some(encoded))
            }
            (true, _) => {
                return Err(TrainError::Run("corpus_adversarial trains one network at a time".into()));
            }
            (false, _) => (model.net().forward_t(&batch.inputs, true), None),
        };
        let (mut loss, accuracy) = frame_loss(&logits, &batch)?;
        if schedule.label_smoothing > 0.0 {
            let smoothing = schedule.label_smoothing;
            loss = loss * (1.0 - smoothing) + uniform_loss(&logits, &batch)? * smoothing;
        }
        if schedule.utterance_loss > 0.0 {
            loss += utterance_loss(&logits, &batch)? * schedule.utterance_loss;
        }
        // The corpus adversary's loss joins the emotion loss in one backward pass; the
        // loss reported stays the emotion loss.
        let objective = match (adversary.as_deref_mut(), &encoded) {
            (Some(adversary), Some(encoded)) => {
                let ids: Vec<i64> = batch_indices.iter().map(|&k| corpora[k]).collect();
                let ids = Tensor::f_from_slice(&ids)?.f_to_device(device.device)?;
                let (corpus_loss, corpus_accuracy) =
                    adversary.loss(encoded, &ids, &batch.mask, adversary_weight)?;
                corpus_acc_sum += corpus_accuracy.double_value(&[]);
                adversary.zero_grad();
                &loss + corpus_loss
            }
            _ => loss.shallow_clone(),
        };
        if schedule.clip_grad_norm > 0.0 {
            opt.backward_step_clip_norm(&objective, schedule.clip_grad_norm);
        } else {
            opt.backward_step(&objective);
        }
        if let Some(adversary) = adversary.as_deref_mut() {
            adversary.step();
        }
        loss_sum += loss.double_value(&[]);
        acc_sum += accuracy.double_value(&[]);
        bar.inc(1);
        bar.set_message(format!(
            "loss {:.3} frame acc {:.1}%",
            loss_sum / (n + 1) as f64,
            100.0 * acc_sum / (n + 1) as f64
        ));
    }
    bar.finish_and_clear();
    let n = batches.len().max(1) as f64;
    Ok(EpochTraining {
        loss: loss_sum / n,
        frame_accuracy: acc_sum / n,
        corpus_accuracy: adversary.is_some().then_some(corpus_acc_sum / n),
    })
}

/// Batches of similar-length utterances from an epoch's positions in `train` (in random
/// order): sort within pools of 16 batches by length, cut into batches, shuffle the batch
/// order.
fn bucketed_batches(
    data: &PreparedData,
    train: &[usize],
    mut order: Vec<usize>,
    batch_size: usize,
    rng: &mut Rng,
) -> Vec<Vec<usize>> {
    let mut batches = Vec::new();
    for pool in order.chunks_mut(batch_size * 16) {
        pool.sort_by_key(|&k| data.features[train[k]].variants[0].frames);
        batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut batches);
    batches
}
