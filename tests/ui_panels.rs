//! Panels fed directly: the spectrogram texture receives only the new columns each frame
//! (never rebuilt), the trace view freezes and follows, and the model panel loads a card.

#[path = "engine_common/mod.rs"]
mod engine_common;
mod ui_common;

use egui_kittest::kittest::Queryable;
use emotrace::app::Action;
use emotrace::app::WindowOptions;
use emotrace::engine::{MelColumn, Snapshot};
use emotrace::model::{Calibration, ComputeDevice, EmotionModel};
use ui_common::{harness, options};

fn snapshot(i: u64) -> Snapshot {
    Snapshot {
        hop_index: i,
        time_s: i as f64 * 0.01,
        mel_db: MelColumn::from_slice(&[-40.0 + (i % 7) as f32; 40]),
        level_dbfs: -30.0,
        speech: true,
        utterance_s: 0.0,
        utterance_index: 0,
        probabilities: Some([0.1, 0.4, 0.1, 0.1, 0.1, 0.1, 0.1]),
        raw_probabilities: None,
        dropped_samples: 0,
        latency_ms: 5.0,
    }
}

/// The app driven frame by frame on a bare egui context (as the benchmark does), so the
/// texture updates each frame asks for can be read before anything applies them (the
/// kittest harness hands them to its renderer first).
struct BareApp {
    ctx: egui::Context,
    app: emotrace::app::MonitorApp,
    frame: u64,
}

impl BareApp {
    fn new(dir: &std::path::Path) -> Self {
        let ctx = egui::Context::default();
        let app = emotrace::app::MonitorApp::new(&ctx, options(dir));
        Self { ctx, app, frame: 0 }
    }

    /// One frame; the image updates it asked for (partial ones have a position).
    fn step(&mut self) -> Vec<egui::epaint::ImageDelta> {
        self.frame += 1;
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1500.0, 950.0))),
            time: Some(self.frame as f64 / 60.0),
            ..Default::default()
        };
        let mut output = self.ctx.run_ui(input, |ui| self.app.ui(ui));
        let deltas = output.textures_delta.set.values().flatten().cloned().collect();
        output.textures_delta.clear();
        deltas
    }
}

/// After the first full upload, a frame with three new hops writes exactly three columns
/// as one partial texture update at the ring slot they occupy.
#[test]
fn spectrogram_texture_gets_only_new_columns() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = BareApp::new(dir.path());
    for i in 0..1_500 {
        h.app.state.ingest(&snapshot(i));
    }
    h.step();
    h.step();
    let width = h.app.state.spectrogram.width() as u64;
    let before = h.app.spectrogram.columns_uploaded;
    assert_eq!(before, width, "the first upload writes the whole ring once");
    for i in 1_500..1_503 {
        h.app.state.ingest(&snapshot(i));
    }
    let deltas = h.step();
    assert_eq!(h.app.spectrogram.columns_uploaded, before + 3);
    let partial: Vec<_> = deltas.iter().filter(|delta| delta.pos.is_some()).collect();
    assert_eq!(partial.len(), 1, "one partial update");
    assert_eq!(partial[0].pos, Some([(1_500 % width) as usize, 0]));
    assert_eq!(partial[0].image.size(), [3, 40]);
    h.step();
    assert_eq!(h.app.spectrogram.columns_uploaded, before + 3, "nothing new, nothing written");
}

/// A new session (a new ring of the same shape) is uploaded whole, even when it already
/// holds more columns than the old one had: it is not a continuation.
#[test]
fn a_new_session_replaces_the_whole_texture() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = BareApp::new(dir.path());
    for i in 0..10 {
        h.app.state.ingest(&snapshot(i));
    }
    h.step();
    h.step();
    let width = h.app.state.spectrogram.width();
    h.app.state.reset(&emotrace::features::FeatureConfig::default(), 0.0);
    for i in 0..20 {
        h.app.state.ingest(&snapshot(i));
    }
    let whole: Vec<_> = h.step().into_iter().filter(|delta| delta.pos.is_none()).collect();
    assert_eq!(whole.len(), 1, "one whole-texture upload");
    assert_eq!(whole[0].image.size(), [width, 40]);
}

/// Freeze view stops following; Follow (or a new session) goes back to live.
#[test]
fn trace_view_freezes_and_follows() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    for i in 0..3_000 {
        h.state_mut().state.ingest(&snapshot(i));
    }
    h.run_steps(2);
    assert!(h.state().trace_stats.points > 0);
    h.get_by_label("Freeze view").click();
    h.run_steps(1);
    assert!(h.state().traces.frozen);
    h.get_by_label("Follow").click();
    h.run_steps(1);
    assert!(!h.state().traces.frozen);
}

/// Loading a model card from a typed path shows its name, labels, scores and corpora in
/// words, shape (with the member count for an ensemble) and, for a speaker-normalised
/// model, that it reads the voice against the session; No model goes back.
#[test]
fn model_panel_loads_a_card_and_unloads() {
    let dir = tempfile::tempdir().unwrap();
    let card = engine_common::tiny_model(dir.path());
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&card).unwrap()).unwrap();
    json["metrics"] =
        serde_json::json!({"test_ua": 0.515, "test_first_utterance_ua": 0.41, "test_ua_nemo": 0.3});
    json["training"]["data"] = serde_json::json!(["/data/ravdess", "/corpora/nemo/nemo.csv"]);
    json["normalisation"]["speaker_norm"] = serde_json::json!("mean_std");
    std::fs::write(&card, serde_json::to_vec(&json).unwrap()).unwrap();
    let mut h = harness(options(dir.path()));
    h.run_steps(1);
    h.get_by_label("no model: spectrogram, level and speech only");
    h.state_mut().model.path_text = card.display().to_string();
    h.run_steps(1);
    h.get_by_label("Load").click();
    h.run_steps(2);
    assert_eq!(h.state().model.path.as_deref(), Some(card.as_path()));
    assert_eq!(h.query_all_by_label("model: tiny-test").count(), 2, "status bar and model panel");
    h.get_by_label("labels: neutral, happy, sad, angry, fearful, disgust, surprised");
    h.get_by_label("unweighted accuracy: held-out speakers 51.5% · as a first utterance 41.0%");
    h.get_by_label_contains("LSTM 48/24 units");
    h.get_by_label_contains("epochs on ravdess, nemo");
    h.get_by_label_contains("reads the voice against this session's so far");
    assert!(h.query_by_label_contains("× LSTM").is_none(), "a single network names no member count");

    // An ensemble says how many networks answer together.
    let cpu = ComputeDevice { device: tch::Device::Cpu };
    let single = EmotionModel::load(&card, cpu).unwrap();
    let mut pair = EmotionModel::ensemble(&[&single, &single], cpu).unwrap();
    let pair_card = pair.save(&dir.path().join("pair")).unwrap();
    h.state_mut().apply(Action::LoadModel(Some(pair_card)));
    h.run_steps(2);
    h.get_by_label_contains("2 × LSTM 48/24 units");

    h.state_mut().apply(Action::LoadModel(None));
    h.run_steps(1);
    assert!(h.state().model.path.is_none());
}

/// Given a calibration (by flag or typed into the panel), a speaker-normalised model's
/// panel says it reads the voice against the calm reading (with its length); an
/// unreadable calibration file says why; "No calibration" goes back to the session.
#[test]
fn model_panel_names_the_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let card = engine_common::tiny_model(dir.path());
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&card).unwrap()).unwrap();
    json["normalisation"]["speaker_norm"] = serde_json::json!("mean_std");
    std::fs::write(&card, serde_json::to_vec(&json).unwrap()).unwrap();
    let dims = json["normalisation"]["mean"].as_array().unwrap().len();
    let calibration = Calibration {
        format: "emotrace-calibration".into(),
        model_name: "tiny-test".into(),
        model_weights_sha256: json["weights_sha256"].as_str().unwrap().into(),
        speech_s: 24.0,
        mean: vec![0.0; dims],
        std: vec![1.0; dims],
    };
    let file = dir.path().join("client.json");
    calibration.save(&file).unwrap();
    let mut h =
        harness(WindowOptions { model: Some(card.clone()), calibration: Some(file), ..options(dir.path()) });
    h.run_steps(2);
    h.get_by_label_contains("calibrated: reads the voice against its calm reading (24 s)");
    assert!(h.query_by_label_contains("against this session's so far").is_none(), "not the session's");

    std::fs::write(dir.path().join("broken.json"), "{").unwrap();
    h.state_mut().model.calibration_text = dir.path().join("broken.json").display().to_string();
    h.run_steps(1);
    h.get_by_label("Use").click();
    h.run_steps(2);
    h.get_by_label_contains("calibration not usable");
    h.get_by_label("No calibration").click();
    h.run_steps(2);
    assert!(h.state().model.calibration.is_none());
    h.get_by_label_contains("reads the voice against this session's so far");
}

/// A file dropped on the window, as the native integration hands it over (egui 0.36 made a
/// dropped file a trait object; egui-winit's own type is private).
#[derive(Debug)]
struct DroppedPath(std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// A file dropped on the window is replayed.
#[test]
fn dropped_file_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    h.state_mut().settings.replay_fast = true;
    h.input_mut().dropped_files.push(std::sync::Arc::new(DroppedPath(ui_common::speech_clip())));
    ui_common::step_until(&mut h, "the dropped file's replay", std::time::Duration::from_secs(120), |app| {
        app.state.trace.len() > 50
    });
    assert_eq!(h.state().replaying.as_deref(), Some("speech_16k.flac"));
    assert_eq!(h.state().replay.path_text, ui_common::speech_clip().display().to_string());
}

/// Start on an input device that does not exist: one notice, back to idle, no panic.
#[test]
fn missing_input_device_is_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    h.state_mut().settings.device = Some("hw:77,7".into());
    h.run_steps(1);
    h.get_by_label("▶ Start").click();
    ui_common::step_until(&mut h, "the start to fail", std::time::Duration::from_secs(60), |app| {
        app.link.state() == emotrace::app::LinkState::Idle && !app.link.notices.is_empty()
    });
    let notice = h.state().link.notices.last().unwrap().clone();
    assert!(notice.contains("hw:77,7"), "{notice}");
    h.run_steps(1);
    h.get_by_label(&notice);
}
