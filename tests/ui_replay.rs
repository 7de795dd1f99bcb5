//! The window replays a file through the real engine: the trace plot receives points, and
//! the trace the window holds is the engine's offline trace of the same file, hop by hop.

#[path = "engine_common/mod.rs"]
mod engine_common;
mod ui_common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use emotrace::app::keep_calibration::keep;
use emotrace::app::{Action, LinkState, MonitorApp, Settings};
use emotrace::data::SpeakerStats;
use emotrace::engine::recorder::SessionWav;
use emotrace::engine::{Pace, RunState, Source, load_model, offline, start_engine};
use emotrace::model::card::ModelCard;
use emotrace::model::{Calibration, ComputeDevice, DeviceChoice};
use ui_common::{harness, options, speech_clip, step_until};

/// Fast replay of the speech clip with a (tiny, seeded) model, started by clicking
/// Replay: the window ends with every hop of the file, equal to the offline trace, and
/// the trace plot draws points.
#[test]
fn replay_fills_the_trace_plot_with_the_offline_trace() {
    let dir = tempfile::tempdir().unwrap();
    let card = engine_common::tiny_model(dir.path());
    let mut opts = options(dir.path());
    opts.model = Some(card.clone());
    let mut h = harness(opts);
    h.state_mut().settings.replay_fast = true;
    h.state_mut().replay.path_text = speech_clip().display().to_string();
    h.run_steps(2);
    h.get_by_label("▶ Replay").click();

    let cpu = ComputeDevice::resolve(DeviceChoice::Cpu).unwrap();
    let loaded = load_model(&card, None, cpu).unwrap();
    let config = Settings::default().engine_config();
    let expected =
        offline::trace_file(&speech_clip(), &loaded.features, &config, Some(loaded.classifier)).unwrap();
    assert!(expected.iter().any(|s| s.probabilities.is_some()), "the clip has speech");

    step_until(&mut h, "every hop of the replay", Duration::from_secs(120), |app| {
        app.state.trace.len() == expected.len() && app.link.state() == LinkState::Session(RunState::Finished)
    });
    h.run_steps(2);
    let app = h.state();
    let rows: Vec<_> = app.state.trace.rows().collect();
    for (i, (want, (t, p, speech))) in expected.iter().zip(&rows).enumerate() {
        assert!((want.time_s - t).abs() < 1e-9, "hop {i} time");
        assert_eq!(want.speech, *speech, "hop {i} speech");
        assert_eq!(want.probabilities.as_ref(), *p, "hop {i} probabilities");
    }
    assert!(app.trace_stats.points > 0, "the trace plot drew no points");
    assert!(app.trace_stats.segments > 0);
    assert!(app.spectrogram.columns_uploaded > 0, "the spectrogram texture got no columns");
    // The current emotion panel names one of the seven classes.
    let top = expected.iter().rev().find_map(|s| s.top()).unwrap().0;
    assert!(h.query_all_by_label(top.name()).count() >= 1);
}

/// Without a model the window still replays: spectrogram and speech, no emotion points,
/// and it says "no model".
#[test]
fn replay_without_a_model_shows_spectrogram_and_says_no_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    h.state_mut().settings.replay_fast = true;
    let clip = speech_clip();
    h.state_mut().apply(Action::StartReplay { path: clip, start_at_s: 0.0 });
    step_until(&mut h, "the replay to finish", Duration::from_secs(120), |app| {
        app.link.state() == LinkState::Session(RunState::Finished)
            && app.link.engine().is_some_and(|e| e.snapshots().is_empty())
    });
    h.run_steps(2);
    let app = h.state();
    assert!(app.state.trace.len() > 100);
    assert_eq!(app.state.trace.scored_hops(), 0);
    assert_eq!(app.trace_stats.points, 0);
    assert!(app.spectrogram.columns_uploaded > 0);
    h.get_by_label("no model");
}

/// Seeking restarts the replay part-way in: times continue from the offset.
#[test]
fn seek_restarts_the_replay_at_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    h.state_mut().settings.replay_fast = true;
    h.state_mut().apply(Action::StartReplay { path: speech_clip(), start_at_s: 1.0 });
    step_until(&mut h, "the seeked replay to finish", Duration::from_secs(120), |app| {
        app.link.state() == LinkState::Session(RunState::Finished)
            && app.link.engine().is_some_and(|e| e.snapshots().is_empty())
    });
    h.run_steps(1);
    let trace = &h.state().state.trace;
    assert!(trace.first_time_s() >= 1.0, "first hop at {}", trace.first_time_s());
    let full =
        offline::trace_file(&speech_clip(), &Default::default(), &Settings::default().engine_config(), None)
            .unwrap();
    let full_end = full.last().unwrap().time_s;
    assert!((trace.last_time_s() - full_end).abs() < 0.05, "{} vs {full_end}", trace.last_time_s());
}

/// After a replay with a speaker-normalised model, "Keep voice as calibration" saves the
/// session's statistics of the voice (no audio) as a private file named by the client
/// code beside the sessions folder, and uses it from then on. The file holds exactly the
/// statistics a headless engine keeps over the same replay; a model without speaker
/// normalisation keeps none.
#[test]
fn keeping_the_voice_saves_the_sessions_statistics_as_a_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let card = engine_common::tiny_model(dir.path());
    let plain = load_model(&card, None, ComputeDevice::resolve(DeviceChoice::Cpu).unwrap()).unwrap();
    speaker_normalise(&card);

    let mut opts = options(dir.path());
    opts.model = Some(card.clone());
    let mut h = harness(opts);
    h.state_mut().settings.replay_fast = true;
    h.state_mut().session.client_code = "C-9".into();
    h.state_mut().apply(Action::StartReplay { path: speech_clip(), start_at_s: 0.0 });
    step_until(&mut h, "the replay to finish", Duration::from_secs(120), |app| {
        app.link.state() == LinkState::Session(RunState::Finished)
            && app.link.engine().is_some_and(|e| e.snapshots().is_empty())
    });
    h.run_steps(2);
    h.get_by_label("Keep voice as calibration").click();
    h.run_steps(1);
    assert!(h.state().keeping.is_some(), "the window asks the engine and goes on drawing");
    step_until(&mut h, "the engine's answer", Duration::from_secs(10), |app| app.keeping.is_none());
    h.run_steps(1);
    let kept = h.state().model.calibration.clone().expect("a calibration was kept");
    assert_eq!(kept.parent(), Some(dir.path().join("calibrations").as_path()), "{}", kept.display());
    assert!(kept.file_name().unwrap().to_string_lossy().starts_with("C-9-"), "{}", kept.display());
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&kept).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "private like a recording");
    h.get_by_label_contains("calibrated: reads the voice of C-9 against its calm reading");
    let calibration = Calibration::load(&kept).unwrap();

    // The same replay through a headless engine keeps the same statistics.
    let cpu = ComputeDevice::resolve(DeviceChoice::Cpu).unwrap();
    let loaded = load_model(&card, None, cpu).unwrap();
    let config = Settings::default().engine_config();
    let source = Source::File { path: speech_clip(), pace: Pace::Fast };
    let engine = start_engine(&source, &config, &loaded.features, Some(loaded.classifier), "tiny").unwrap();
    engine.resume();
    engine_common::drain_to_end(&engine);
    let (stats, frames) = engine.session_statistics().expect("statistics of the replay");
    assert_eq!((calibration.mean.clone(), calibration.std.clone()), (stats.mean, stats.std));
    let hop_s = loaded.features.hop_s();
    assert!((calibration.speech_s - frames as f64 * hop_s).abs() < 1e-9 && frames > 100, "{frames} frames");

    // Without speaker normalisation there is nothing to keep.
    let engine = start_engine(&source, &config, &plain.features, Some(plain.classifier), "plain").unwrap();
    engine.resume();
    engine_common::drain_to_end(&engine);
    assert!(engine.session_statistics().is_none());
}

/// A client's kept calibration is picked when a session starts for that client (the
/// newest made for this model), set aside when the session is for someone else, and not
/// picked again once the user chose none for that client.
#[test]
fn a_clients_kept_calibration_is_used_for_that_client_only() {
    let dir = tempfile::tempdir().unwrap();
    let card_path = engine_common::tiny_model(dir.path());
    speaker_normalise(&card_path);
    let card = ModelCard::parse(&std::fs::read_to_string(&card_path).unwrap(), &card_path).unwrap();
    let mut opts = options(dir.path());
    opts.model = Some(card_path);
    let dims = card.normalisation.dims();
    let stats = SpeakerStats { mean: vec![0.5; dims], std: vec![2.0; dims] };
    let (kept, _) = keep(&card, stats, 500, "C-9", &opts.sessions_dir).unwrap();
    // A newer one of C-9's, made for other weights, is never picked.
    let text = std::fs::read_to_string(&kept).unwrap().replace(&card.weights_sha256, &"0".repeat(64));
    std::fs::write(kept.with_file_name("C-9-20991231-235959.json"), text).unwrap();

    let mut h = harness(opts);
    h.state_mut().settings.replay_fast = true;
    assert_eq!(start_for(&mut h, "C-10").0, None, "nothing kept for C-10");
    let (used, notice) = start_for(&mut h, "C-9");
    assert_eq!(used.as_ref(), Some(&kept), "C-9's kept calibration for this model");
    assert!(notice.contains("using C-9's kept calibration C-9-"), "{notice}");
    let (used, notice) = start_for(&mut h, "C-10");
    assert_eq!(used, None, "C-9's calibration is not C-10's");
    assert_eq!(notice, "C-9's calibration set aside: the session is for C-10");
    assert_eq!(start_for(&mut h, "C-9").0.as_ref(), Some(&kept));
    h.state_mut().apply(Action::UseCalibration(None));
    assert_eq!(start_for(&mut h, "C-9").0, None, "the user chose no calibration for C-9");
}

/// A guided reading restarts the session and keeps the voice as the client's calibration
/// once 30 s of speech were heard; a session that ends sooner keeps nothing and says so;
/// none begins while a recording is armed (it would be recorded as a session).
#[test]
fn a_guided_reading_keeps_the_voice_after_thirty_seconds_of_speech() {
    let dir = tempfile::tempdir().unwrap();
    let card = engine_common::tiny_model(dir.path());
    speaker_normalise(&card);
    let long_reading = dir.path().join("reading.wav");
    write_actor_01(&long_reading, 30);
    let mut opts = options(dir.path());
    opts.model = Some(card);
    let mut h = harness(opts);
    h.state_mut().settings.replay_fast = true;

    h.state_mut().session.client_code = "C-7".into();
    h.state_mut().apply(Action::StartReplay { path: speech_clip(), start_at_s: 0.0 });
    h.run_steps(2);
    h.state_mut().record_armed = true;
    h.get_by_label("Read for calibration…").click();
    h.run_steps(1);
    assert!(h.state().model.reading_speech_s.is_none(), "no reading while a recording is armed");
    let notice = h.state().link.notices.last().cloned().unwrap_or_default();
    assert!(notice.ends_with("stop the recording first"), "{notice}");
    h.state_mut().record_armed = false;
    h.get_by_label("Read for calibration…").click();
    h.run_steps(1);
    assert!(h.state().model.reading_speech_s.is_some(), "reading");
    step_until(&mut h, "the short reading to end", Duration::from_secs(120), |app| {
        app.model.reading_speech_s.is_none()
    });
    let notice = h.state().link.notices.last().cloned().unwrap_or_default();
    assert!(
        notice.starts_with("the reading ended after ") && notice.ends_with("(30 s needed): nothing kept"),
        "{notice}"
    );
    assert_eq!(h.state().model.calibration, None);

    h.state_mut().apply(Action::StartReplay { path: long_reading, start_at_s: 0.0 });
    h.state_mut().apply(Action::ReadForCalibration);
    step_until(&mut h, "the reading to be kept", Duration::from_secs(120), |app| {
        app.model.reading_speech_s.is_none() && app.keeping.is_none()
    });
    let notice = h.state().link.notices.last().cloned().unwrap_or_default();
    assert!(notice.starts_with("calibration kept: "), "{notice}");
    let kept = h.state().model.calibration.clone().expect("kept");
    assert!(kept.file_name().unwrap().to_string_lossy().starts_with("C-7-"), "{}", kept.display());
    assert_eq!(h.state().model.calibration_client.as_deref(), Some("C-7"));
    let speech_s = Calibration::load(&kept).unwrap().speech_s;
    assert!(
        (30.0..60.0).contains(&speech_s),
        "kept at about 30 s of speech, not at the file's end: {speech_s}"
    );
}

/// Writes `clips` of RAVDESS actor 1's files, one after the other, as one WAV file.
fn write_actor_01(path: &Path, clips: usize) {
    let folder = engine_common::shared_data().join("ravdess/Actor_01");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&folder).expect("RAVDESS actor 1").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let mut wav = SessionWav::create(path, 16_000).expect("a WAV file");
    for file in files.iter().take(clips) {
        wav.write(&emotrace::audio::decode::load_mono_16k(file).expect("a RAVDESS clip")).expect("written");
    }
    wav.finish().expect("finished");
}

/// Starts a replay of the speech clip for `client`; the calibration it uses and the
/// last notice.
fn start_for(h: &mut Harness<'static, MonitorApp>, client: &str) -> (Option<PathBuf>, String) {
    h.state_mut().session.client_code = client.into();
    h.state_mut().apply(Action::StartReplay { path: speech_clip(), start_at_s: 0.0 });
    (h.state().model.calibration.clone(), h.state().link.notices.last().cloned().unwrap_or_default())
}

/// Makes the card at `path` normalise by the speaker (the session's statistics).
fn speaker_normalise(path: &Path) {
    let text = std::fs::read(path).expect("the tiny card");
    let mut json: serde_json::Value = serde_json::from_slice(&text).expect("a JSON card");
    json["normalisation"]["speaker_norm"] = serde_json::json!("mean_std");
    json["normalisation"]["session_prior_frames"] = serde_json::json!(50.0);
    std::fs::write(path, serde_json::to_vec(&json).expect("JSON")).expect("the card written");
}
