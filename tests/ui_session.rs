//! Recording from the window: Record then Replay writes a session folder; a marker added
//! with the M key lands in the recorded trace file; exports write PNG and CSV.

mod ui_common;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use emotrace::app::{Action, LinkState};
use emotrace::engine::RunState;
use ui_common::{harness, options, speech_clip, step_until};

/// Record armed, replay started, M pressed: the marker shows in the app and, after Stop,
/// is a row of the session's trace.csv. A calibration reading asked for meanwhile is
/// refused and leaves the recording as it was.
#[test]
fn marker_key_adds_a_marker_to_the_recorded_trace() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    h.state_mut().settings.replay_fast = true;
    h.run_steps(1);
    h.get_by_label("● Record").click();
    h.run_steps(1);
    assert!(h.state().record_armed);
    h.state_mut().apply(Action::StartReplay { path: speech_clip(), start_at_s: 0.0 });
    step_until(&mut h, "the recorded replay to finish", Duration::from_secs(120), |app| {
        app.link.state() == LinkState::Session(RunState::Finished)
            && app.link.engine().is_some_and(|e| e.snapshots().is_empty())
    });
    let session_dir = h.state().link.recording().expect("recording").to_owned();
    assert!(session_dir.starts_with(dir.path().join("sessions")));
    h.state_mut().session.note = "laughed".into();
    h.key_press(egui::Key::M);
    h.run_steps(2);
    assert_eq!(h.state().state.markers.len(), 1);
    assert_eq!(h.state().state.markers[0].note, "laughed");
    h.state_mut().apply(Action::ReadForCalibration);
    assert_eq!(h.state().model.reading_speech_s, None, "no calibration reading while recording");
    let notice = h.state().link.notices.last().cloned().unwrap_or_default();
    assert!(notice.ends_with("stop the recording first"), "{notice}");
    assert_eq!(h.state().link.recording(), Some(session_dir.as_path()), "the recording goes on");
    h.get_by_label("■ Stop").click();
    h.run_steps(2);
    let trace = std::fs::read_to_string(session_dir.join("trace.csv")).unwrap();
    let marker_rows: Vec<&str> = trace.lines().filter(|l| l.ends_with(",laughed")).collect();
    assert_eq!(marker_rows.len(), 1, "{trace:.300}");
    assert!(session_dir.join("summary.json").is_file());
    assert!(session_dir.join("audio.wav").is_file());
}

/// Export CSV and PNG write files with the trace under the sessions folder.
#[test]
fn exports_write_csv_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    for i in 0..500 {
        let t = f64::from(i) * 0.01;
        h.state_mut().state.trace.push(
            t,
            (i % 100 < 70).then_some([0.2, 0.1, 0.1, 0.3, 0.1, 0.1, 0.1]),
            true,
        );
    }
    h.state_mut().apply(Action::ExportCsv);
    step_until(&mut h, "the CSV export", Duration::from_secs(60), |app| !app.session.exported.is_empty());
    let csv = h.state().session.exported[0].clone();
    h.state_mut().apply(Action::ExportPng);
    step_until(&mut h, "the PNG export", Duration::from_secs(60), |app| {
        app.session.exported.first() != Some(&csv)
    });
    let png = h.state().session.exported[0].clone();
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 501);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(csv.starts_with(dir.path()) && png.starts_with(dir.path()));
}
