//! Where `emotrace eval` takes a speaker-normalised model's statistics from: each
//! speaker's files, one emotion's, none, or a calibration reading (plain or shifted), and
//! which files it then scores.

use std::path::PathBuf;

use anyhow::Context;

use super::eval::CorpusReading;
use crate::data::{FeatureMatrix, Part, SpeakerStats, Utterance};
use crate::model::EmotionModel;
use crate::train::calibration::{
    READING_FILES, calibrated_statistics, calibration_shift, reading_files, scored_beside_readings,
    shorter_reading,
};
use crate::train::dataset::PreparedData;
use crate::train::evaluate::{Sessions, one_emotion_sessions};

/// Where a speaker-normalising model's speaker statistics come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SessionChoice {
    /// All of each speaker's files: as a live session that has heard the speaker a while.
    Speaker,
    /// Each speaker's files of one emotion: a session that stays in one emotion.
    OneEmotion,
    /// Each file alone, from a fresh session: as a session's first utterance.
    File,
    /// Each speaker's calibration reading (some of its neutral files, not scored).
    Reading,
    /// The reading's statistics moved by the calibration shift of the model's training
    /// speakers among `--shift-data` (without it, the card's shift).
    ReadingShifted,
}

impl SessionChoice {
    fn uses_reading(self) -> bool {
        matches!(self, Self::Reading | Self::ReadingShifted)
    }
}

/// What `eval` scores: the utterances (regrouped for one-emotion sessions), their features
/// and the statistics given for a reading.
pub struct Scored<'a> {
    /// The utterances as scored (one-emotion sessions rename speakers).
    pub utterances: Vec<Utterance>,
    /// Their features.
    pub features: Vec<&'a FeatureMatrix>,
    /// Statistics from readings, by speaker.
    pub readings: Option<std::collections::HashMap<String, SpeakerStats>>,
}

impl Scored<'_> {
    /// (utterance, features) pairs for `evaluate`.
    pub fn items(&self) -> Vec<(&Utterance, &FeatureMatrix)> {
        self.utterances.iter().zip(self.features.iter().copied()).collect()
    }

    /// The `Sessions` that goes with `choice`.
    pub fn sessions(&self, choice: SessionChoice) -> Sessions<'_> {
        match (choice, &self.readings) {
            (_, Some(stats)) => Sessions::Given(stats),
            (SessionChoice::File, _) => Sessions::PerFile,
            _ => Sessions::PerSpeaker,
        }
    }
}

/// The files to score at `indices` of `data`: without the readings (and only speakers with
/// one) when a reading is used or `without_readings` is set.
pub fn scored<'a>(
    model: &EmotionModel,
    data: &'a PreparedData,
    indices: &[usize],
    choice: SessionChoice,
    reading_options: &ReadingOptions,
    shift: Option<&ShiftData<'_>>,
) -> anyhow::Result<Scored<'a>> {
    let items = data.clean_items(indices);
    let utterances: Vec<&Utterance> = items.iter().map(|(u, _)| *u).collect();
    let full = reading_files(&utterances);
    let reading = shorter_reading(&utterances, &full, reading_options.files);
    let norm = &model.card().normalisation;
    let readings = match choice {
        SessionChoice::Reading => Some(calibrated_statistics(norm, &items, &reading, None)),
        SessionChoice::ReadingShifted => {
            let shift = match shift {
                Some(data) => data.shift(model)?,
                None => norm.calibration_shift.clone().context(
                    "--sessions reading-shifted: the model's card has no calibration shift; give --shift-data",
                )?,
            };
            Some(calibrated_statistics(norm, &items, &reading, Some(&shift)))
        }
        _ => None,
    };
    let keep: Vec<bool> = if choice.uses_reading() || reading_options.without {
        scored_beside_readings(&utterances, &full)
    } else {
        vec![true; utterances.len()]
    };
    let kept = utterances.iter().zip(&keep).filter(|(_, k)| **k).map(|(u, _)| *u);
    let utterances: Vec<Utterance> = match choice {
        SessionChoice::OneEmotion => one_emotion_sessions(kept),
        _ => kept.cloned().collect(),
    };
    let features = items.iter().zip(&keep).filter(|(_, k)| **k).map(|((_, m), _)| *m).collect();
    Ok(Scored { utterances, features, readings })
}

/// Which files are readings and which are scored.
#[derive(Debug, clap::Args)]
pub struct ReadingOptions {
    /// Score only files outside the readings of speakers who have one (as the reading
    /// choices do), so every choice can be compared on the same files.
    #[arg(long = "without-readings")]
    pub without: bool,
    /// Statistics from only the first N files of each reading (the files scored stay
    /// those beside the full reading): how long a reading needs to be.
    #[arg(long = "reading-files", value_name = "N", default_value_t = READING_FILES)]
    pub files: usize,
}

/// The corpora a calibration shift is learnt from: the model's training speakers among them.
pub struct ShiftData<'a> {
    /// Corpus folders or manifests.
    pub data: &'a [PathBuf],
    /// How to read them.
    pub reading: &'a CorpusReading,
}

impl ShiftData<'_> {
    /// The shift learnt from the model's training speakers among the corpora.
    pub fn shift(&self, model: &EmotionModel) -> anyhow::Result<crate::data::CalibrationShift> {
        let card = model.card();
        // A card without its split cannot say who it trained on; a default split could
        // count speakers of a corpus the model never heard as its training speakers.
        let split = card.training.split.clone().with_context(|| {
            format!(
                "{}: the card does not record its training split, so no shift can be learnt",
                model.path().display()
            )
        })?;
        let config = self.reading.config(card, self.data)?;
        let none = |u: &[Utterance]| vec![false; u.len()];
        let data = PreparedData::load(&config, &none, false).context("loading --shift-data")?;
        let train = data.clean_items(&data.indices(&split, Part::Train));
        calibration_shift(&card.normalisation, &train)
            .context("no training speaker in --shift-data has two neutral files to learn a shift from")
    }
}
