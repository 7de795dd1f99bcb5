//! Scoring a model on prepared utterances: per-file decisions and metrics (overall and per
//! corpus), frame-level loss, and accuracy as a function of time since the utterance began.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::metrics::{Confusion, Metrics, argmax};
use crate::data::cache::FeatureMatrix;
use crate::data::{NormStats, SpeakerNorm, SpeakerStats, Utterance};
use crate::model::{Emotion, EmotionModel, ModelError, Probabilities};

/// Seconds since utterance start at which accuracy is reported.
pub const TIME_POINTS_S: [f64; 10] = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0];

/// Utterances per forward pass when scoring.
const EVAL_BATCH: usize = 32;

/// Where speaker-normalisation statistics come from, when the model uses them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sessions<'a> {
    /// All of each speaker's files in the set: a live session that has heard the
    /// speaker for a while.
    PerSpeaker,
    /// Each file alone, from a fresh session: a session's first utterance.
    PerFile,
    /// Given for every speaker in the set (e.g. from a calibration reading).
    Given(&'a HashMap<String, SpeakerStats>),
}

/// One scored file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UtteranceResult {
    /// The audio file.
    pub path: String,
    /// Its corpus.
    pub corpus: String,
    /// Its speaker.
    pub speaker: String,
    /// Its label.
    pub truth: Emotion,
    /// The model's answer.
    pub predicted: Emotion,
    /// The model's probabilities, in class order.
    pub probabilities: Probabilities,
}

/// Accuracy at one moment of the utterance, over the utterances still running then.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimePoint {
    /// Seconds since the (trimmed) utterance start.
    pub seconds: f64,
    /// Utterances at least this long.
    pub utterances: usize,
    /// Accuracy of the frame output at that moment (what the live trace shows), 0-1.
    pub frame_accuracy: f64,
    /// UA of the frame output at that moment, 0-1.
    pub frame_ua: f64,
    /// Accuracy of the decision from the frames so far (the card's rule), 0-1.
    pub so_far_accuracy: f64,
    /// UA of the decision from the frames so far, 0-1.
    pub so_far_ua: f64,
}

/// Everything measured on one set of utterances.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    /// Scores over all utterances.
    pub overall: Metrics,
    /// Scores per corpus.
    pub per_corpus: BTreeMap<String, Metrics>,
    /// Mean cross-entropy of trained frames (from frame `warmup_frames` on).
    pub frame_loss: f64,
    /// Accuracy against time since utterance start.
    pub by_time: Vec<TimePoint>,
    /// Every utterance's result.
    pub results: Vec<UtteranceResult>,
}

/// Scores `model` on utterances with their (raw) features.
pub fn evaluate(
    model: &EmotionModel,
    items: &[(&Utterance, &FeatureMatrix)],
    warmup_frames: usize,
    sessions: Sessions<'_>,
) -> Result<Evaluation, ModelError> {
    let norm = &model.card().normalisation;
    let per_speaker;
    let speakers = match sessions {
        _ if norm.speaker_norm == SpeakerNorm::Off => None,
        Sessions::PerFile => None,
        Sessions::PerSpeaker => {
            per_speaker = speaker_statistics(norm, items);
            Some(&per_speaker)
        }
        Sessions::Given(stats) => Some(stats),
    };
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| items[i].1.frames);
    let mut frame_probs: Vec<Vec<Probabilities>> = vec![Vec::new(); items.len()];
    for chunk in order.chunks(EVAL_BATCH) {
        let inputs: Vec<&[f32]> = chunk.iter().map(|&i| items[i].1.data.as_slice()).collect();
        let probs = match speakers {
            Some(stats) => {
                let of = chunk
                    .iter()
                    .map(|&i| stats.get(&items[i].0.speaker).ok_or_else(|| no_statistics(items[i].0)))
                    .collect::<Result<Vec<&SpeakerStats>, _>>()?;
                model.frame_probabilities_for_speakers(&inputs, &of)?
            }
            None => model.frame_probabilities(&inputs)?,
        };
        for (&i, probs) in chunk.iter().zip(probs) {
            frame_probs[i] = probs;
        }
    }
    let mut overall = Confusion::default();
    let mut per_corpus: BTreeMap<String, Confusion> = BTreeMap::new();
    let mut results = Vec::with_capacity(items.len());
    let (mut loss_sum, mut loss_frames) = (0.0, 0usize);
    for ((utterance, _), frames) in items.iter().zip(&frame_probs) {
        let probabilities = model.decide(frames);
        let predicted = Emotion::from_index(argmax(&probabilities)).unwrap_or(Emotion::Neutral);
        overall.add(utterance.label, predicted);
        per_corpus.entry(utterance.corpus_name().to_owned()).or_default().add(utterance.label, predicted);
        let first = warmup_frames.min(frames.len().saturating_sub(1));
        for p in frames.iter().skip(first) {
            loss_sum -= f64::from(p[utterance.label.index()].max(1e-12)).ln();
            loss_frames += 1;
        }
        results.push(UtteranceResult {
            path: utterance.path.display().to_string(),
            corpus: utterance.corpus_name().to_owned(),
            speaker: utterance.speaker.clone(),
            truth: utterance.label,
            predicted,
            probabilities,
        });
    }
    let hop_s = model.feature_config().hop_s();
    let labels: Vec<Emotion> = items.iter().map(|(u, _)| u.label).collect();
    let by_time = TIME_POINTS_S
        .iter()
        .map(|&seconds| time_point(model, seconds, hop_s, &labels, &frame_probs))
        .filter(|p| p.utterances > 0)
        .collect();
    Ok(Evaluation {
        overall: overall.metrics(),
        per_corpus: per_corpus.iter().map(|(k, c)| (k.clone(), c.metrics())).collect(),
        frame_loss: if loss_frames > 0 { loss_sum / loss_frames as f64 } else { 0.0 },
        by_time,
        results,
    })
}

fn no_statistics(utterance: &Utterance) -> ModelError {
    ModelError::NoSpeakerStatistics { path: utterance.path.clone(), speaker: utterance.speaker.clone() }
}

/// Each speaker's statistics from all of its utterances in `items`, by speaker (`corpus:id`).
pub fn speaker_statistics(
    norm: &NormStats,
    items: &[(&Utterance, &FeatureMatrix)],
) -> HashMap<String, SpeakerStats> {
    session_statistics(norm, items, |u| u.speaker.clone())
}

/// Each session's statistics from all of its utterances in `items`, by the session
/// `session` puts each utterance in.
pub fn session_statistics(
    norm: &NormStats,
    items: &[(&Utterance, &FeatureMatrix)],
    session: impl Fn(&Utterance) -> String,
) -> HashMap<String, SpeakerStats> {
    let mut by_session: HashMap<String, Vec<&[f32]>> = HashMap::new();
    for (u, m) in items {
        by_session.entry(session(u)).or_default().push(&m.data);
    }
    by_session.into_iter().map(|(k, data)| (k, norm.speaker_stats(data))).collect()
}

/// The session of a speaker that stays in one emotion: its speaker's files of its emotion
/// (`corpus:id/emotion`).
pub fn one_emotion_session(utterance: &Utterance) -> String {
    format!("{}/{}", utterance.speaker, utterance.label.name())
}

/// The utterances with each speaker split into one session per emotion.
pub fn one_emotion_sessions<'a>(utterances: impl Iterator<Item = &'a Utterance>) -> Vec<Utterance> {
    utterances.map(|u| Utterance { speaker: one_emotion_session(u), ..u.clone() }).collect()
}

fn time_point(
    model: &EmotionModel,
    seconds: f64,
    hop_s: f64,
    labels: &[Emotion],
    frame_probs: &[Vec<Probabilities>],
) -> TimePoint {
    let frame = (seconds / hop_s).round() as usize;
    let mut at_frame = Confusion::default();
    let mut so_far = Confusion::default();
    for (label, frames) in labels.iter().zip(frame_probs) {
        if frames.len() > frame {
            let class = |p: &Probabilities| Emotion::from_index(argmax(p)).unwrap_or(Emotion::Neutral);
            at_frame.add(*label, class(&frames[frame]));
            so_far.add(*label, class(&model.decide(&frames[..=frame])));
        }
    }
    let (a, s) = (at_frame.metrics(), so_far.metrics());
    TimePoint {
        seconds,
        utterances: a.count as usize,
        frame_accuracy: a.accuracy,
        frame_ua: a.ua,
        so_far_accuracy: s.accuracy,
        so_far_ua: s.ua,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::CorpusKind;

    /// One speaker's files of two emotions become two sessions; the speaker is kept in the name.
    #[test]
    fn a_speaker_splits_into_one_session_per_emotion() {
        let utterance = |label: Emotion| Utterance {
            path: "x.wav".into(),
            label,
            source_label: label.name().to_owned(),
            speaker: "ravdess:17".into(),
            corpus: CorpusKind::Manifest,
        };
        let sessions = one_emotion_sessions(
            [utterance(Emotion::Sad), utterance(Emotion::Angry), utterance(Emotion::Sad)].iter(),
        );
        let names: Vec<&str> = sessions.iter().map(|u| u.speaker.as_str()).collect();
        assert_eq!(names, ["ravdess:17/sad", "ravdess:17/angry", "ravdess:17/sad"]);
    }
}
