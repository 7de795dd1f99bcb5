//! A calibration: the statistics of a calm reading of one voice, recorded once (e.g. per
//! client) and given to a speaker-normalised model in place of the session's running
//! statistics, so a session that stays in one emotion is read against the voice's calm
//! habit instead of against itself (amendment 33 of models/any-voice.md). The model adds
//! its card's calibration shift, the average difference between a mixed session and a
//! reading among its training speakers.
//!
//! The file keeps only per-dimension means and deviations of the reading's features,
//! never audio, and names the model it was made for (its weights' sha256): the values are
//! in that model's normalised units.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::card::ModelCard;
use super::file::EmotionModel;
use super::{ComputeDevice, ModelError};
use crate::data::{SpeakerNorm, SpeakerStats};
use crate::sessions::private::write_private_atomic;

/// The calibration file format's name.
const FORMAT: &str = "emotrace-calibration";

/// A voice's calm reading, as statistics in one model's normalised units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Always [`FORMAT`].
    pub format: String,
    /// The model's name, for messages.
    pub model_name: String,
    /// The model's weights' sha256: the units the statistics are in.
    pub model_weights_sha256: String,
    /// Seconds of (trimmed) speech read.
    pub speech_s: f64,
    /// The reading's mean per dimension.
    pub mean: Vec<f32>,
    /// The reading's standard deviation per dimension.
    pub std: Vec<f32>,
}

/// Why a calibration cannot be made, read or used. One line naming the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// The file cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// Not a calibration file.
    #[error("{}: not an emotrace calibration file: {reason}", path.display())]
    NotACalibration { path: PathBuf, reason: String },
    /// Made for another model: record the reading again with this one.
    #[error("{}: made for model {made_for}, not {model}; record the reading again with this model", path.display())]
    OtherModel { path: PathBuf, made_for: String, model: String },
    /// The model reads each voice as it is: a calibration would change nothing.
    #[error(
        "model {model} does not normalise by speaker, so a calibration changes nothing; use a speaker-normalised model (e.g. models/multicorpus.json)"
    )]
    NotSpeakerNormalised { model: String },
    /// Nothing to compute statistics from.
    #[error("the reading has no speech: record at least a few seconds of calm speech")]
    NoSpeech,
}

impl Calibration {
    /// The calibration of `model` from a reading's raw feature frames (row-major, one
    /// matrix per recording), `speech_s` seconds of speech in all.
    pub fn from_features(
        model: &EmotionModel,
        recordings: &[&[f32]],
        speech_s: f64,
    ) -> Result<Self, CalibrationError> {
        if recordings.iter().all(|r| r.is_empty()) {
            return Err(CalibrationError::NoSpeech);
        }
        let stats = model.card().normalisation.speaker_stats(recordings.iter().copied());
        Self::from_statistics(model.card(), stats, speech_s)
    }

    /// The calibration of the model of `card` from statistics already in its units (a
    /// session's, see `Engine::session_statistics`).
    pub fn from_statistics(
        card: &ModelCard,
        stats: SpeakerStats,
        speech_s: f64,
    ) -> Result<Self, CalibrationError> {
        if card.normalisation.speaker_norm == SpeakerNorm::Off {
            return Err(CalibrationError::NotSpeakerNormalised { model: card.name.clone() });
        }
        Ok(Self {
            format: FORMAT.to_owned(),
            model_name: card.name.clone(),
            model_weights_sha256: card.weights_sha256.clone(),
            speech_s,
            mean: stats.mean,
            std: stats.std,
        })
    }

    /// Reads a calibration file.
    pub fn load(path: &Path) -> Result<Self, CalibrationError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| CalibrationError::Io { path: path.to_owned(), source })?;
        let not = |reason: String| CalibrationError::NotACalibration { path: path.to_owned(), reason };
        let calibration: Self = serde_json::from_str(&text).map_err(|e| not(e.to_string()))?;
        if calibration.format != FORMAT {
            return Err(not(format!("format is '{}'", calibration.format)));
        }
        if calibration.mean.len() != calibration.std.len() {
            return Err(not("mean and std differ in length".to_owned()));
        }
        Ok(calibration)
    }

    /// The file's text (pretty JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a calibration serialises")
    }

    /// Writes the file, readable by its owner only (it describes a client's voice), whole
    /// or not at all.
    pub fn save(&self, path: &Path) -> Result<(), CalibrationError> {
        write_private_atomic(path, self.to_json().as_bytes())
            .map_err(|source| CalibrationError::Io { path: path.to_owned(), source })
    }

    /// The speaker statistics `model` normalises by: the reading's, moved by the card's
    /// calibration shift when it has one. `path` names the file in errors.
    pub fn statistics_for(
        &self,
        model: &EmotionModel,
        path: &Path,
    ) -> Result<SpeakerStats, CalibrationError> {
        let card = model.card();
        check_speaker_normalised(model)?;
        if self.model_weights_sha256 != card.weights_sha256 || self.mean.len() != card.normalisation.dims() {
            return Err(CalibrationError::OtherModel {
                path: path.to_owned(),
                made_for: self.model_name.clone(),
                model: card.name.clone(),
            });
        }
        let reading = SpeakerStats { mean: self.mean.clone(), std: self.std.clone() };
        Ok(match &card.normalisation.calibration_shift {
            Some(shift) => shift.apply(&reading),
            None => reading,
        })
    }
}

fn check_speaker_normalised(model: &EmotionModel) -> Result<(), CalibrationError> {
    match model.card().normalisation.speaker_norm {
        SpeakerNorm::Off => Err(CalibrationError::NotSpeakerNormalised { model: model.card().name.clone() }),
        _ => Ok(()),
    }
}

/// Loads the model at `path` on `device`, calibrated by the file `calibration` if given.
pub fn load_calibrated(
    path: &Path,
    calibration: Option<&Path>,
    device: ComputeDevice,
) -> Result<EmotionModel, ModelError> {
    let mut model = EmotionModel::load(path, device)?;
    if let Some(file) = calibration {
        apply(&mut model, file)?;
    }
    Ok(model)
}

/// Loads the calibration at `path` into `model`: its fresh sessions, streamed or batched,
/// are normalised by it from now on.
pub fn apply(model: &mut EmotionModel, path: &Path) -> Result<(), CalibrationError> {
    let stats = Calibration::load(path)?.statistics_for(model, path)?;
    model.set_calibration(Some(stats));
    Ok(())
}
