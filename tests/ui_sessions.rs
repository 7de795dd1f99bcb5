//! The Sessions and Review views through egui_kittest: the library lists the recorded
//! sessions, review opens one, a click on the trace plot moves the playback cursor there,
//! a marker's button jumps to it, and a deletion asks first.

mod ui_common;

use std::path::Path;
use std::time::Duration;

use egui::{Event, PointerButton, pos2};
use egui_kittest::kittest::Queryable;
use emotrace::app::View;
use emotrace::engine::recorder::{RecordOptions, TraceFormat};
use emotrace::engine::{EngineConfig, Pace, Source, start_engine};
use emotrace::features::FeatureConfig;
use ui_common::{harness, options, speech_clip, step_until};

/// Records the speech clip (no model) into `dir` with a marker at 1 s.
fn record(dir: &Path, client: &str) {
    let config = EngineConfig { snapshot_capacity: 8, start_paused: true, ..EngineConfig::default() };
    let source = Source::File { path: speech_clip(), pace: Pace::Fast };
    let mut engine = start_engine(&source, &config, &FeatureConfig::default(), None, "none").expect("start");
    let options = RecordOptions {
        client_code: client.to_owned(),
        ..RecordOptions::new(dir.to_owned(), TraceFormat::Csv)
    };
    engine.start_recording(options).expect("record");
    engine.resume();
    let mut marked = false;
    while let Ok(s) = engine.snapshots().recv_timeout(Duration::from_secs(30)) {
        if !marked && s.time_s >= 1.0 {
            engine.add_marker("the door");
            marked = true;
        }
        if engine.is_finished() && engine.snapshots().is_empty() {
            break;
        }
    }
    engine.stop_recording().expect("recording");
    let _ = engine.stop();
}

/// The library lists both sessions with their client codes; the filter narrows it.
#[test]
fn library_lists_recorded_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    record(&dir.path().join("sessions/session-a"), "C-101");
    record(&dir.path().join("sessions/session-b"), "C-202");
    let mut h = harness(options(dir.path()));
    h.run_steps(2);
    h.get_by_label("Sessions").click();
    h.run_steps(3);
    assert_eq!(h.state().view, View::Sessions);
    assert_eq!(h.state().library.entries.len(), 2);
    h.get_by_label("C-101");
    h.get_by_label("C-202");
    h.state_mut().library.client_filter = "202".into();
    h.run_steps(2);
    assert_eq!(h.state().library.visible().len(), 1);
    assert!(h.query_by_label("C-101").is_none());
}

/// Review opens a session; a click on the trace plot seeks there; the marker's button
/// jumps to the marker; Delete asks before it deletes.
#[test]
fn review_seeks_on_click_and_jumps_to_markers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let session = dir.path().join("sessions/session-a");
    record(&session, "C-7");
    let mut h = harness(options(dir.path()));
    h.run_steps(2);
    h.get_by_label("Sessions").click();
    h.run_steps(3);
    h.get_by_label("Review").click();
    step_until(&mut h, "the session to open", Duration::from_secs(30), |app| app.review.loaded.is_some());
    h.run_steps(3);
    assert_eq!(h.state().view, View::Review);
    let duration = h.state().review.loaded.as_ref().expect("loaded").overview.duration_s;
    assert!(duration > 1.5, "{duration}");
    let rect = h.state().review.trace_rect.expect("trace plot drawn");
    let at = pos2(rect.left() + rect.width() * 0.7, rect.center().y);
    h.hover_at(at);
    for pressed in [true, false] {
        h.event(Event::PointerButton {
            pos: at,
            button: PointerButton::Primary,
            pressed,
            modifiers: Default::default(),
        });
    }
    h.run_steps(2);
    let cursor = h.state().review.cursor_s;
    assert!(cursor > duration * 0.5 && cursor < duration * 0.9, "cursor {cursor:.2} s of {duration:.2} s");
    let marker_s = h.state().review.loaded.as_ref().expect("loaded").overview.markers[0].time_s;
    assert!((marker_s - 1.0).abs() < 0.1, "{marker_s}");
    h.get_by_label_contains("1 · 0:01").click();
    h.run_steps(2);
    assert!((h.state().review.cursor_s - marker_s).abs() < 1e-9);

    h.get_by_label("Back to Sessions").click();
    h.run_steps(2);
    h.get_by_label("Delete…").click();
    h.run_steps(2);
    assert!(session.exists(), "deleted without asking");
    h.get_by_label("Delete").click();
    h.run_steps(2);
    assert!(!session.exists());
    assert!(h.state().library.entries.is_empty());
}
