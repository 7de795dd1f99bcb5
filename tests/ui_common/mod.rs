//! Helpers shared by the window tests: building the real app in an egui_kittest harness
//! with its folders in a temporary directory, and stepping it until a condition holds.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use egui_kittest::Harness;
use emotrace::app::{MonitorApp, WindowOptions};
use emotrace::model::DeviceChoice;

/// Window options for a test: no autostart, no model, folders under `dir`.
pub fn options(dir: &Path) -> WindowOptions {
    WindowOptions {
        autostart: None,
        model: None,
        model_note: None,
        calibration: None,
        config_dir: dir.join("config"),
        sessions_dir: dir.join("sessions"),
        compute: DeviceChoice::Cpu,
        probe_devices: false,
        frame_stats: false,
        review: None,
    }
}

/// The real app in a headless harness of a realistic window size.
pub fn harness(options: WindowOptions) -> Harness<'static, MonitorApp> {
    Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_eframe(move |cc| MonitorApp::new(&cc.egui_ctx, options))
}

/// Steps the harness until `done` holds, up to `limit` (the engine works on its own
/// threads, so the frames wait a little between them). Panics naming `what` on timeout.
pub fn step_until(
    harness: &mut Harness<'static, MonitorApp>,
    what: &str,
    limit: Duration,
    mut done: impl FnMut(&MonitorApp) -> bool,
) {
    let start = std::time::Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The speech test clip (16 kHz FLAC, a few seconds).
pub fn speech_clip() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac")
}
