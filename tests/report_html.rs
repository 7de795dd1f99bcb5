//! `emotrace report`: two recorded sessions of one client (replayed RAVDESS speech, the
//! shipped model, a marker each) give one HTML file that parses and holds every section:
//! client, date, length, trace plot, shares, markers with their dominant emotion, the
//! model with its accuracy sentence, and the trend across the two sessions.

mod engine_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use emotrace::engine::recorder::{RecordOptions, TraceFormat};
use emotrace::engine::{EngineConfig, Pace, Source, load_model, start_engine};
use emotrace::model::{ComputeDevice, DeviceChoice};
use engine_common::{speech_clip, speech_clip_2};
use scraper::{Html, Selector};

/// Records `clip` with the shipped model into `dir`, a marker after 1.5 s, noting the
/// calibration file if one is given.
fn record(clip: &Path, dir: &Path, client: &str, note: &str, calibration: Option<&str>) {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default.json");
    let compute = ComputeDevice::resolve(DeviceChoice::Cpu).expect("cpu");
    let loaded = load_model(&model, None, compute).expect("shipped model");
    let config = EngineConfig { snapshot_capacity: 8, start_paused: true, ..EngineConfig::default() };
    let source = Source::File { path: clip.to_owned(), pace: Pace::Fast };
    let mut engine = start_engine(&source, &config, &loaded.features, Some(loaded.classifier), &loaded.label)
        .expect("start");
    engine.set_calibration_label(calibration.map(str::to_owned));
    let options = RecordOptions {
        client_code: client.to_owned(),
        notes: "replayed RAVDESS speech <test & notes>".to_owned(),
        ..RecordOptions::new(dir.to_owned(), TraceFormat::Csv)
    };
    engine.start_recording(options).expect("record");
    engine.resume();
    let mut marked = false;
    while let Ok(s) = engine.snapshots().recv_timeout(Duration::from_secs(60)) {
        if !marked && s.time_s >= 1.5 {
            engine.add_marker(note);
            marked = true;
        }
        if engine.is_finished() && engine.snapshots().is_empty() {
            break;
        }
    }
    engine.stop_recording().expect("recording");
    assert_eq!(engine.stop().error, None);
}

fn texts(doc: &Html, selector: &str) -> Vec<String> {
    let sel = Selector::parse(selector).expect("selector");
    doc.select(&sel).map(|e| e.text().collect::<String>()).collect()
}

/// The report of two sessions of one client holds every section, twice where per
/// session, and the trend once.
#[test]
fn report_holds_every_section() {
    let root = tempfile::tempdir().expect("temp dir");
    let dirs: Vec<PathBuf> = vec![root.path().join("s1"), root.path().join("s2")];
    record(&speech_clip(), &dirs[0], "C-7", "said \"door\"", None);
    record(&speech_clip_2(), &dirs[1], "C-7", "second", Some("/home/t/calibrations/C-7.json"));
    let out = root.path().join("report.html");
    let result = Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .arg("report")
        .args(&dirs)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let html = std::fs::read_to_string(&out).expect("report");
    let doc = Html::parse_document(&html);
    assert!(doc.errors.is_empty(), "HTML parse errors: {:?}", doc.errors);
    assert_eq!(texts(&doc, "title"), ["Session report: C-7"]);
    assert_eq!(texts(&doc, "section.trend h2"), ["Trend across sessions: C-7"]);
    assert_eq!(texts(&doc, "section.trend figure.plot svg").len(), 1);
    assert_eq!(texts(&doc, "section.session").len(), 2);
    for h3 in ["Emotion trace", "Share of speech time", "Markers", "Model"] {
        assert_eq!(texts(&doc, "section.session h3").iter().filter(|t| *t == h3).count(), 2, "{h3}");
    }
    let facts = texts(&doc, "section.session table.facts th");
    for key in ["client", "date", "length", "speech", "notes"] {
        assert_eq!(facts.iter().filter(|t| *t == key).count(), 2, "{key}");
    }
    let cells = texts(&doc, "section.session table.facts td");
    assert!(cells.iter().any(|c| c == "replayed RAVDESS speech <test & notes>"), "{cells:?}");
    assert!(cells.iter().any(|c| c.starts_with("0:0")), "a length like 0:04: {cells:?}");
    assert_eq!(texts(&doc, "section.session figure.plot svg").len(), 4, "trace and shares per session");
    let marker_rows = texts(&doc, "table.markers tbody tr");
    assert_eq!(marker_rows.len(), 2);
    assert!(marker_rows[0].contains("said \"door\""), "{marker_rows:?}");
    let emotions = ["neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"];
    assert!(
        marker_rows.iter().all(|r| emotions.iter().any(|e| r.contains(e))),
        "a dominant emotion per marker: {marker_rows:?}"
    );
    let calibration = texts(&doc, "p.calibration");
    assert_eq!(calibration.len(), 1, "only the calibrated session says so: {calibration:?}");
    assert!(calibration[0].contains("(C-7.json)") && !calibration[0].contains("/home"), "{calibration:?}");
    let meaning = texts(&doc, "p.meaning");
    assert_eq!(meaning.len(), 2);
    assert!(meaning[0].contains("of the time") && meaning[0].contains("by guessing"), "{meaning:?}");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&out).expect("meta").permissions());
    assert_eq!(mode & 0o777, 0o600);
}
