//! Frame cost of the monitor window with 10 minutes of trace loaded (60,000 hops of
//! synthetic snapshots): the app's whole frame (`MonitorApp::ui`: drain, panels, plots,
//! texture update) plus tessellation into triangles, at the window's default size.
//! Painting is the GPU's job and is not measured here. Target: 8 ms per frame.
//!
//! Each iteration also feeds two new snapshots, as a live session does at 60 frames/s
//! with 10 ms hops, so the spectrogram texture gets its partial column update.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use emotrace::app::{MonitorApp, WindowOptions};
use emotrace::engine::{MelColumn, Snapshot};
use emotrace::model::DeviceChoice;

/// A deterministic snapshot for hop `i`: speech in 3 s stretches with 1 s pauses, a
/// slowly rotating emotion mix, a moving spectral peak.
fn synthetic(i: u64) -> Snapshot {
    let t = i as f64 * 0.01;
    let speech = (i / 100) % 4 != 3;
    let mut mel = [0.0f32; 40];
    for (b, v) in mel.iter_mut().enumerate() {
        let peak = 20.0 + 10.0 * (t * 0.7).sin() as f32;
        *v = -70.0 + 50.0 * (-((b as f32 - peak) / 4.0).powi(2)).exp() + ((i * 7 + b as u64) % 5) as f32;
    }
    let probabilities = speech.then(|| {
        let mut p = [0.0f32; 7];
        for (k, v) in p.iter_mut().enumerate() {
            *v = (1.0 + (t * 0.05 + k as f64).sin()) as f32;
        }
        let sum: f32 = p.iter().sum();
        p.map(|v| v / sum)
    });
    Snapshot {
        hop_index: i,
        time_s: t,
        mel_db: MelColumn::from_slice(&mel),
        level_dbfs: if speech { -25.0 } else { -60.0 },
        speech,
        utterance_s: 0.0,
        utterance_index: i / 400,
        probabilities,
        raw_probabilities: probabilities,
        dropped_samples: 0,
        latency_ms: 12.0,
    }
}

fn raw_input(frame: u64) -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1560.0, 960.0))),
        time: Some(frame as f64 / 60.0),
        ..Default::default()
    }
}

/// One frame of the app, tessellated. The texture updates are dropped unapplied (there
/// is no painter; egui 0.37 asserts in debug builds that they are not dropped silently).
fn frame_primitives(ctx: &egui::Context, app: &mut MonitorApp, frame: u64) -> Vec<egui::ClippedPrimitive> {
    let mut output = ctx.run_ui(raw_input(frame), |ui| app.ui(ui));
    output.textures_delta.clear();
    ctx.tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point)
}

fn frame_benchmarks(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let options = WindowOptions {
        autostart: None,
        model: None,
        model_note: None,
        calibration: None,
        config_dir: dir.path().join("config"),
        sessions_dir: dir.path().join("sessions"),
        compute: DeviceChoice::Cpu,
        probe_devices: false,
        frame_stats: false,
        review: None,
    };
    let ctx = egui::Context::default();
    let mut app = MonitorApp::new(&ctx, options);
    // A model path so the panels draw the emotion views (nothing is loaded: no session runs).
    app.model.path = Some("bench-model.json".into());
    let mut hop = 0u64;
    while hop < 60_000 {
        app.state.ingest(&synthetic(hop));
        hop += 1;
    }
    let mut frame = 0u64;
    // One frame first, to say what a frame draws.
    let primitives = frame_primitives(&ctx, &mut app, frame);
    let vertices: usize = primitives
        .iter()
        .map(|p| match &p.primitive {
            egui::epaint::Primitive::Mesh(mesh) => mesh.vertices.len(),
            egui::epaint::Primitive::Callback(_) => 0,
        })
        .sum();
    println!(
        "one frame with {} hops loaded, {:.0} s window: {} trace points in {} segments, {} meshes, {} vertices",
        app.state.trace.len(),
        app.settings.trace_window_s,
        app.trace_stats.points,
        app.trace_stats.segments,
        primitives.len(),
        vertices
    );
    let mut group = c.benchmark_group("ui_frame_10min_trace");
    for window_s in [30.0, 120.0] {
        app.settings.trace_window_s = window_s;
        group.bench_function(format!("update+tessellate, {window_s:.0} s window"), |b| {
            b.iter(|| {
                for _ in 0..2 {
                    app.state.ingest(&synthetic(hop));
                    hop += 1;
                }
                frame += 1;
                let primitives = frame_primitives(&ctx, &mut app, frame);
                black_box(primitives.len())
            });
        });
    }
    group.finish();
    c.bench_function("decimate 600 s of trace to 1200 px", |b| {
        b.iter(|| black_box(app.state.trace.decimate(0.0, 600.0, 1200).point_count()));
    });
}

criterion_group!(benches, frame_benchmarks);
criterion_main!(benches);
