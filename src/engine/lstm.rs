//! The engine's model: a model file loaded with every check, wrapped as the
//! [`FrameClassifier`] the worker steps once per hop, and [`Engine::start`], which loads
//! it and starts a session with the model's own feature configuration.

use std::path::Path;

use super::classifier::FrameClassifier;
use super::error::EngineError;
use super::handle::{Engine, EngineSetup};
use super::snapshot::Probabilities;
use super::worker::start_engine;
use crate::data::SpeakerStats;
use crate::features::FeatureConfig;
use crate::model::calibration::load_calibrated;
use crate::model::{ComputeDevice, LiveClassifier};

impl FrameClassifier for LiveClassifier {
    fn input_dim(&self) -> usize {
        LiveClassifier::input_dim(self)
    }

    fn reset(&mut self) {
        LiveClassifier::reset(self);
    }

    fn step(&mut self, frame: &[f32]) -> Probabilities {
        LiveClassifier::step(self, frame)
    }

    fn session_statistics(&mut self) -> Option<(SpeakerStats, u64)> {
        LiveClassifier::session_statistics(self)
    }
}

/// A model ready for the engine: its feature configuration, its classifier and a label
/// for summaries (the model file's path).
pub struct LoadedModel {
    /// How the model's input frames are computed.
    pub features: FeatureConfig,
    /// The streaming classifier.
    pub classifier: Box<dyn FrameClassifier>,
    /// The model file, for summaries.
    pub label: String,
    /// The calibration file the model reads the voice against, for summaries.
    pub calibration_label: Option<String>,
}

/// Loads the model at `path` (a card, its weights, or the stem) on `compute`, calibrated
/// by the calibration file `calibration` if given (see `model::calibration`).
pub fn load_model(
    path: &Path,
    calibration: Option<&Path>,
    compute: ComputeDevice,
) -> Result<LoadedModel, EngineError> {
    let model = load_calibrated(path, calibration, compute).map_err(|e| EngineError::Model(e.to_string()))?;
    let features = model.feature_config().clone();
    let label = model.path().display().to_string();
    let calibration_label = calibration.map(|p| p.display().to_string());
    Ok(LoadedModel { features, classifier: Box::new(LiveClassifier::new(model)), label, calibration_label })
}

impl Engine {
    /// Loads the model file and starts a session on `setup.source` with the model's own
    /// feature configuration. Errors (no device, unreadable file, bad model) come back
    /// here, each as one line.
    pub fn start(setup: EngineSetup) -> Result<Engine, EngineError> {
        let loaded = load_model(&setup.model_path, None, setup.compute)?;
        start_engine(&setup.source, &setup.config, &loaded.features, Some(loaded.classifier), &loaded.label)
    }
}
