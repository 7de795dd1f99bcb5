//! A calibration reading: a speaker-normalised model takes its statistics from a calm
//! reading of the voice, recorded once, instead of from the session so far, so a session
//! that stays in one emotion is read against the voice's calm habit and not against
//! itself. In evaluation a speaker's reading is some of its neutral files (amendment 33 of
//! models/any-voice.md); the files of a reading are never scored.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::evaluate::{Evaluation, Sessions, evaluate, speaker_statistics};
use crate::data::cache::FeatureMatrix;
use crate::data::{CalibrationShift, NormStats, SpeakerStats, Utterance};
use crate::model::{Emotion, EmotionModel, ModelError};

/// Most files in a speaker's reading.
pub const READING_FILES: usize = 20;

/// Which utterances make up their speaker's reading: the speaker's neutral files in path
/// order, the 1st, 3rd, 5th... at most [`READING_FILES`]; none for a speaker with fewer
/// than two neutral files (one would leave nothing neutral to score).
pub fn reading_files(utterances: &[&Utterance]) -> Vec<bool> {
    let mut neutral: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, u) in utterances.iter().enumerate() {
        if u.label == Emotion::Neutral {
            neutral.entry(u.speaker.as_str()).or_default().push(i);
        }
    }
    let mut reading = vec![false; utterances.len()];
    for mut files in neutral.into_values().filter(|files| files.len() >= 2) {
        files.sort_by(|&a, &b| utterances[a].path.cmp(&utterances[b].path));
        files.iter().step_by(2).take(READING_FILES).for_each(|&i| reading[i] = true);
    }
    reading
}

/// The first `most` files of each speaker's reading, in path order (a shorter reading of
/// the same voice; the files beside the full reading stay the ones scored).
pub fn shorter_reading(utterances: &[&Utterance], reading: &[bool], most: usize) -> Vec<bool> {
    let mut by_speaker: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, u) in utterances.iter().enumerate().filter(|(i, _)| reading[*i]) {
        by_speaker.entry(u.speaker.as_str()).or_default().push(i);
    }
    let mut shorter = vec![false; utterances.len()];
    for mut files in by_speaker.into_values() {
        files.sort_by(|&a, &b| utterances[a].path.cmp(&utterances[b].path));
        files.iter().take(most).for_each(|&i| shorter[i] = true);
    }
    shorter
}

/// Each speaker's statistics from its reading, by speaker; speakers without one are absent.
pub fn reading_statistics(
    norm: &NormStats,
    items: &[(&Utterance, &FeatureMatrix)],
    reading: &[bool],
) -> HashMap<String, SpeakerStats> {
    let readings: Vec<_> = items.iter().zip(reading).filter(|(_, r)| **r).map(|(item, _)| *item).collect();
    speaker_statistics(norm, &readings)
}

/// Each speaker's statistics from its reading moved by `shift` (as a calibrated model
/// normalises by), by speaker; speakers without a reading are absent.
pub fn calibrated_statistics(
    norm: &NormStats,
    items: &[(&Utterance, &FeatureMatrix)],
    reading: &[bool],
    shift: Option<&CalibrationShift>,
) -> HashMap<String, SpeakerStats> {
    let plain = reading_statistics(norm, items, reading);
    match shift {
        Some(shift) => plain.into_iter().map(|(speaker, stats)| (speaker, shift.apply(&stats))).collect(),
        None => plain,
    }
}

/// Which items to score beside the readings: not part of a reading, and of a speaker who
/// has one (so every way of giving statistics scores the same files).
pub fn scored_beside_readings(utterances: &[&Utterance], reading: &[bool]) -> Vec<bool> {
    let with_reading: HashSet<&str> =
        utterances.iter().zip(reading).filter(|(_, r)| **r).map(|(u, _)| u.speaker.as_str()).collect();
    utterances.iter().zip(reading).map(|(u, r)| !r && with_reading.contains(u.speaker.as_str())).collect()
}

/// Scores `model` on the items beside the readings, each speaker normalised by its
/// reading moved by the card's calibration shift (if it has one). `None` when no speaker
/// has a reading.
pub fn evaluate_with_readings(
    model: &EmotionModel,
    items: &[(&Utterance, &FeatureMatrix)],
    warmup_frames: usize,
) -> Result<Option<Evaluation>, ModelError> {
    let utterances: Vec<&Utterance> = items.iter().map(|(u, _)| *u).collect();
    let reading = reading_files(&utterances);
    let norm = &model.card().normalisation;
    let stats = calibrated_statistics(norm, items, &reading, norm.calibration_shift.as_ref());
    let keep = scored_beside_readings(&utterances, &reading);
    let scored: Vec<_> = items.iter().zip(&keep).filter(|(_, k)| **k).map(|(item, _)| *item).collect();
    if scored.is_empty() {
        return Ok(None);
    }
    evaluate(model, &scored, warmup_frames, Sessions::Given(&stats)).map(Some)
}

/// The average difference between a speaker's statistics over all of its files and over
/// its reading: per corpus the mean over its speakers that have a reading, then the mean
/// over corpora (so a corpus of many speakers counts once). `None` if no speaker has one.
pub fn calibration_shift(
    norm: &NormStats,
    items: &[(&Utterance, &FeatureMatrix)],
) -> Option<CalibrationShift> {
    let (readings, sessions) = readings_and_sessions(norm, items);
    shift_between(norm.dims(), items, &readings, &sessions)
}

/// Each speaker's statistics from its reading (speakers with one) and from all its files.
fn readings_and_sessions(
    norm: &NormStats,
    items: &[(&Utterance, &FeatureMatrix)],
) -> (HashMap<String, SpeakerStats>, HashMap<String, SpeakerStats>) {
    let utterances: Vec<&Utterance> = items.iter().map(|(u, _)| *u).collect();
    (reading_statistics(norm, items, &reading_files(&utterances)), speaker_statistics(norm, items))
}

/// The calibration shift between speakers' readings and sessions (see [`calibration_shift`]).
fn shift_between(
    dims: usize,
    items: &[(&Utterance, &FeatureMatrix)],
    readings: &HashMap<String, SpeakerStats>,
    sessions: &HashMap<String, SpeakerStats>,
) -> Option<CalibrationShift> {
    let corpus_of: HashMap<&str, &str> =
        items.iter().map(|(u, _)| (u.speaker.as_str(), u.corpus_name())).collect();
    let mut by_corpus: BTreeMap<&str, CorpusSums> = BTreeMap::new();
    for (speaker, reading) in readings {
        let session = &sessions[speaker];
        let sums = by_corpus.entry(corpus_of[speaker.as_str()]).or_insert_with(|| CorpusSums::new(dims));
        for d in 0..dims {
            sums.mean[d] += f64::from(session.mean[d] - reading.mean[d]);
            sums.log_std_ratio[d] += f64::from(session.std[d] / reading.std[d]).ln();
        }
        sums.speakers += 1;
    }
    if by_corpus.is_empty() {
        return None;
    }
    let corpora = by_corpus.len() as f64;
    let average = |part: fn(&CorpusSums) -> &[f64]| -> Vec<f32> {
        (0..dims)
            .map(|d| {
                (by_corpus.values().map(|c| part(c)[d] / c.speakers as f64).sum::<f64>() / corpora) as f32
            })
            .collect()
    };
    Some(CalibrationShift { mean: average(|c| &c.mean), log_std_ratio: average(|c| &c.log_std_ratio) })
}

/// Each item's statistics as a calibrated session of its speaker would give them, in
/// `items` order: its speaker's reading moved by the calibration shift learnt from `items`,
/// or, for a speaker without a reading, all of its files (`reading_sessions` in training).
pub fn calibrated_or_session_statistics(
    norm: &NormStats,
    items: &[(&Utterance, &FeatureMatrix)],
) -> Vec<SpeakerStats> {
    let (readings, sessions) = readings_and_sessions(norm, items);
    let shift = shift_between(norm.dims(), items, &readings, &sessions);
    items
        .iter()
        .map(|(u, _)| match (readings.get(&u.speaker), &shift) {
            (Some(reading), Some(shift)) => shift.apply(reading),
            (Some(reading), None) => reading.clone(),
            (None, _) => sessions[&u.speaker].clone(),
        })
        .collect()
}

/// One corpus's summed differences between session and reading statistics.
struct CorpusSums {
    mean: Vec<f64>,
    log_std_ratio: Vec<f64>,
    speakers: usize,
}

impl CorpusSums {
    fn new(dims: usize) -> Self {
        Self { mean: vec![0.0; dims], log_std_ratio: vec![0.0; dims], speakers: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::CorpusKind;

    fn utterance(path: &str, speaker: &str, label: Emotion) -> Utterance {
        Utterance {
            path: path.into(),
            label,
            source_label: label.name().to_owned(),
            speaker: speaker.into(),
            corpus: CorpusKind::Manifest,
        }
    }

    /// Every other neutral file in path order; a speaker with one neutral file has no reading.
    #[test]
    fn a_reading_is_every_other_neutral_file() {
        let all = [
            utterance("a/3.wav", "a", Emotion::Neutral),
            utterance("a/1.wav", "a", Emotion::Neutral),
            utterance("a/2.wav", "a", Emotion::Sad),
            utterance("a/2n.wav", "a", Emotion::Neutral),
            utterance("b/1.wav", "b", Emotion::Neutral),
            utterance("b/2.wav", "b", Emotion::Angry),
        ];
        let refs: Vec<&Utterance> = all.iter().collect();
        let reading = reading_files(&refs);
        assert_eq!(reading, [true, true, false, false, false, false]);
        assert_eq!(
            shorter_reading(&refs, &reading, 1),
            [false, true, false, false, false, false],
            "a/1 first"
        );
    }

    /// One speaker, one dimension: reading frames at 0, other files at 2; the session's
    /// mean is 1.5 over all, so the shift is 1.5 - 0 on the mean.
    #[test]
    fn the_shift_is_the_session_minus_the_reading() {
        let norm = NormStats::identity(1);
        let all = [
            utterance("a/1.wav", "a", Emotion::Neutral),
            utterance("a/2.wav", "a", Emotion::Neutral),
            utterance("a/3.wav", "a", Emotion::Angry),
            utterance("a/4.wav", "a", Emotion::Angry),
        ];
        let reading = FeatureMatrix { frames: 2, dims: 1, data: vec![-1.0, 1.0] };
        let other = FeatureMatrix { frames: 2, dims: 1, data: vec![2.0, 2.0] };
        let items: Vec<_> = all.iter().zip([&reading, &other, &other, &other]).collect();
        let shift = calibration_shift(&norm, &items).expect("speaker a has a reading");
        assert!((shift.mean[0] - 1.5).abs() < 1e-6, "{shift:?}");
        // Reading std 1; session: values -1, 1, 2 x 6, mean 1.5, E[x^2] = 26/8.
        let session_std = (26.0f64 / 8.0 - 2.25).sqrt();
        assert!((f64::from(shift.log_std_ratio[0]) - session_std.ln()).abs() < 1e-5, "{shift:?}");
        let stats = reading_statistics(&norm, &items, &[true, false, false, false]);
        assert_eq!(stats["a"].mean, [0.0]);
    }

    /// A speaker with a reading gets its reading moved by the shift learnt from all
    /// readings (the mean of the speakers' session - reading); one without keeps its session.
    #[test]
    fn training_statistics_are_the_calibrated_reading_or_the_session() {
        let norm = NormStats::identity(1);
        let all = [
            utterance("a/1.wav", "a", Emotion::Neutral),
            utterance("a/2.wav", "a", Emotion::Neutral),
            utterance("a/3.wav", "a", Emotion::Angry),
            utterance("b/1.wav", "b", Emotion::Neutral),
            utterance("b/2.wav", "b", Emotion::Sad),
            utterance("c/1.wav", "c", Emotion::Neutral),
            utterance("c/2.wav", "c", Emotion::Neutral),
            utterance("c/3.wav", "c", Emotion::Sad),
        ];
        let calm = FeatureMatrix { frames: 2, dims: 1, data: vec![-1.0, 1.0] };
        let loud = FeatureMatrix { frames: 2, dims: 1, data: vec![4.0, 4.0] };
        let features = [&calm, &loud, &loud, &calm, &loud, &calm, &calm, &calm];
        let items: Vec<_> = all.iter().zip(features).collect();
        let stats = calibrated_or_session_statistics(&norm, &items);
        // Readings a/1 and c/1 (mean 0); sessions a 16/6, c 0: the shift is 4/3.
        let means: Vec<f32> = stats.iter().map(|s| s.mean[0]).collect();
        for (i, expected) in [4.0 / 3.0, 4.0 / 3.0, 4.0 / 3.0, 2.0, 2.0, 4.0 / 3.0, 4.0 / 3.0, 4.0 / 3.0]
            .into_iter()
            .enumerate()
        {
            assert!((means[i] - expected).abs() < 1e-5, "item {i}: {means:?}");
        }
    }
}
