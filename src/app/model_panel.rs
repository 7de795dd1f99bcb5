//! The model panel: which model is loaded (or "no model"), its labels, headline metrics
//! and card, and loading another (typed path or file dialog) or none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crossbeam_channel::Receiver;
use egui::{RichText, Ui};

use super::Action;
use super::reading::show_reading;
use crate::data::SpeakerNorm;
use crate::model::Calibration;
use crate::model::card::{ModelCard, TrainingInfo};

/// The model in use and its card.
#[derive(Default)]
pub struct ModelPanel {
    /// The model file in use; `None` runs without a model.
    pub path: Option<PathBuf>,
    /// Its card, or why it could not be read.
    pub card: Option<Result<ModelCard, String>>,
    /// The voice's calibration file, if any (`emotrace calibrate`).
    pub calibration: Option<PathBuf>,
    /// What the calibration file says (seconds of speech), or why it cannot be read.
    calibration_note: Option<Result<Calibration, String>>,
    /// The client whose kept calibration `calibration` is (it is used for that client
    /// only); `None` for one the user chose by path.
    pub calibration_client: Option<String>,
    /// The client for whom the user chose no calibration: their kept one is not picked.
    pub declined_for: Option<String>,
    /// Seconds of speech of a guided calibration reading in progress.
    pub reading_speech_s: Option<f64>,
    /// A calibration path typed for "Use".
    pub calibration_text: String,
    /// A path typed for "Load".
    pub path_text: String,
    dialog: Option<Receiver<Option<PathBuf>>>,
}

/// The card file of a model given as a card, its weights, or its stem.
pub fn card_path(path: &Path) -> PathBuf {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => path.to_owned(),
        _ => path.with_extension("json"),
    }
}

impl ModelPanel {
    /// Uses `path` (or no model) from now on and reads its card.
    // NOTE: the card is a few kB of JSON read once when the user picks a model; the
    // weights are loaded on the session thread.
    pub fn set_model(&mut self, path: Option<PathBuf>) {
        self.card = path.as_deref().map(|p| {
            let card = card_path(p);
            std::fs::read_to_string(&card)
                .map_err(|e| format!("cannot read {}: {e}", card.display()))
                .and_then(|text| ModelCard::parse(&text, &card).map_err(|e| e.to_string()))
        });
        self.path = path;
    }

    /// Uses the calibration file `path` (or none) with the model from the next session on.
    pub fn set_calibration(&mut self, path: Option<PathBuf>) {
        self.calibration_note = path.as_deref().map(|p| Calibration::load(p).map_err(|e| e.to_string()));
        self.calibration = path;
        self.calibration_client = None;
    }

    /// Uses `client`'s kept calibration `path` from the next session on, while the
    /// client code stays `client`.
    pub fn set_client_calibration(&mut self, path: PathBuf, client: &str) {
        self.set_calibration(Some(path));
        self.calibration_client = Some(client.to_owned());
    }

    /// A short name for the status bar.
    pub fn label(&self) -> String {
        match (&self.path, &self.card) {
            (None, _) => "no model".to_owned(),
            (Some(_), Some(Ok(card))) => card.name.clone(),
            (Some(p), _) => {
                p.file_stem().map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into())
            }
        }
    }

    /// Takes the dialog's answer. Returns the picked file, if one was.
    pub fn poll(&mut self) -> Option<PathBuf> {
        let picked = self.dialog.as_ref()?.try_recv().ok()?;
        self.dialog = None;
        picked
    }

    /// Load (path or dialog) and No model.
    pub fn show_controls(&mut self, ui: &mut Ui, actions: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.path_text)
                    .hint_text("model card (.json)")
                    .desired_width(150.0),
            );
            let typed = PathBuf::from(self.path_text.trim());
            if ui.add_enabled(!self.path_text.trim().is_empty(), egui::Button::new("Load")).clicked() {
                actions.push(Action::LoadModel(Some(typed)));
            }
            if ui.add_enabled(self.dialog.is_none(), egui::Button::new("Browse…")).clicked() {
                let (tx, rx) = crossbeam_channel::bounded(1);
                let spawned =
                    std::thread::Builder::new().name("emotrace-ui-dialog".into()).spawn(move || {
                        let _ =
                            tx.send(rfd::FileDialog::new().add_filter("Model card", &["json"]).pick_file());
                    });
                if spawned.is_ok() {
                    self.dialog = Some(rx);
                }
            }
            if ui.add_enabled(self.path.is_some(), egui::Button::new("No model")).clicked() {
                actions.push(Action::LoadModel(None));
            }
        });
        // A speaker-normalised model can read the voice against a calm reading instead.
        let speaker_normalised =
            matches!(&self.card, Some(Ok(card)) if card.normalisation.speaker_norm != SpeakerNorm::Off);
        if speaker_normalised {
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut self.calibration_text)
                        .hint_text("calibration (.json)")
                        .desired_width(150.0),
                );
                let typed = PathBuf::from(self.calibration_text.trim());
                if ui
                    .add_enabled(!self.calibration_text.trim().is_empty(), egui::Button::new("Use"))
                    .clicked()
                {
                    actions.push(Action::UseCalibration(Some(typed)));
                }
                if ui.add_enabled(self.calibration.is_some(), egui::Button::new("No calibration")).clicked() {
                    actions.push(Action::UseCalibration(None));
                }
            });
            ui.horizontal(|ui| {
                let button = egui::Button::new("Keep voice as calibration");
                let hint = "after the client has read for 30 s or more in an everyday tone: keeps this session's statistics of the voice (no audio) for the next sessions";
                if ui.add_enabled(self.calibration.is_none(), button).on_hover_text(hint).clicked() {
                    actions.push(Action::KeepCalibration);
                }
            });
            show_reading(ui, self.reading_speech_s, actions);
        }
    }

    /// Name, path, labels, metrics and the card.
    pub fn show_plot(&self, ui: &mut Ui) {
        let Some(path) = &self.path else {
            ui.label(RichText::new("no model: spectrogram, level and speech only").strong());
            ui.label(RichText::new("train one with `emotrace train`, then load its card here").small());
            return;
        };
        match &self.card {
            Some(Ok(card)) => {
                ui.label(RichText::new(format!("model: {}", card.name)).strong());
                ui.label(RichText::new(path.display().to_string()).small());
                ui.label(format!("labels: {}", card.labels.join(", ")));
                // Unweighted accuracy (UA) is the headline; the full list is in the card.
                let metrics = ua_headline(&card.metrics);
                if !metrics.is_empty() {
                    ui.label(format!("unweighted accuracy: {}", metrics.join(" · ")));
                }
                let a = &card.architecture;
                // An ensemble shows how many networks answer together ("3 × LSTM ...").
                let networks = if a.members > 1 { format!("{} × ", a.members) } else { String::new() };
                ui.label(
                    RichText::new(format!(
                        "{networks}LSTM {}/{} units · {} inputs · trained {} epochs on {}",
                        a.lstm1_units,
                        a.lstm2_units,
                        a.input_dims,
                        card.training.epochs_run,
                        corpus_names(&card.training)
                    ))
                    .small(),
                );
                // A speaker-normalised model hears the voice against the session so far
                // (models/any-voice.md, amendment 32).
                if let Some(note) = &self.calibration_note {
                    let text = match note {
                        Ok(c) => format!(
                            "calibrated: reads the voice{} against its calm reading ({:.0} s), not against the session",
                            self.calibration_client.as_ref().map_or_else(String::new, |c| format!(" of {c}")),
                            c.speech_s
                        ),
                        Err(e) => format!("calibration not usable: {e}"),
                    };
                    ui.label(RichText::new(text).small());
                } else if card.normalisation.speaker_norm != SpeakerNorm::Off {
                    ui.label(
                        RichText::new(
                            "reads the voice against this session's so far: weaker in its first seconds, \
                             and an emotion that lasts the whole session fades towards the middle",
                        )
                        .small(),
                    );
                }
                ui.collapsing("Model card", |ui| {
                    let text = serde_json::to_string_pretty(card).unwrap_or_default();
                    egui::ScrollArea::vertical().max_height(200.0).show(ui, |ui| {
                        ui.label(RichText::new(text).monospace().small());
                    });
                });
            }
            Some(Err(reason)) => {
                ui.label(RichText::new(format!("model: {}", path.display())).strong());
                ui.colored_label(ui.visuals().warn_fg_color, reason);
            }
            None => {}
        }
    }
}

/// A card's UA scores in words, held-out speakers first: "held-out speakers 51.5% · as a
/// first utterance 41.0%" (the card's keys are `test_ua`, `test_first_utterance_ua`, ...).
fn ua_headline(metrics: &BTreeMap<String, f64>) -> Vec<String> {
    const WORDS: [(&str, &str); 3] = [
        ("test", "held-out speakers"),
        ("test_first_utterance", "as a first utterance"),
        ("val", "validation speakers"),
    ];
    let mut scores: Vec<(usize, String, f64)> = metrics
        .iter()
        .filter_map(|(key, &ua)| Some((key.strip_suffix("_ua")?, ua)))
        .map(|(split, ua)| match WORDS.iter().position(|(key, _)| *key == split) {
            Some(rank) => (rank, WORDS[rank].1.to_owned(), ua),
            None => (WORDS.len(), split.replace('_', " "), ua),
        })
        .collect();
    scores.sort_by_key(|(rank, _, _)| *rank);
    scores.into_iter().map(|(_, words, ua)| format!("{words} {:.1}%", ua * 100.0)).collect()
}

/// The corpora a model was trained on, by name ("ased, nemo, ravdess"); for a card without
/// per-corpus counts, its `--data` folders and manifests without their paths.
fn corpus_names(training: &TrainingInfo) -> String {
    let names: Vec<String> = if training.corpora.is_empty() {
        let stem = |d: &String| Path::new(d).file_stem().map(|s| s.to_string_lossy().into_owned());
        training.data.iter().map(|d| stem(d).unwrap_or_else(|| d.clone())).collect()
    } else {
        training.corpora.iter().map(|c| c.corpus.clone()).collect()
    };
    if names.is_empty() { "?".to_owned() } else { names.join(", ") }
}
