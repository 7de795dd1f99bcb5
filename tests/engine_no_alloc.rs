//! The live path's steady state does not allocate on the Rust heap (debug builds, with
//! `assert_no_alloc`'s allocator: an allocation inside the checked closure aborts).
//!
//! Covered, on the checked thread: the audio callback's work (`CaptureWriter::write` on
//! i16 stereo blocks at 48 kHz), the worker draining the ring (`RingDrain::process`):
//! resampling to 16 kHz, streaming features, level meter, voice-activity gate with
//! utterance resets, the LSTM model's step and reset (second test: a tiny network; third:
//! the shipped ensemble at full size), smoothing, handing snapshots to
//! a bounded channel and the recorder's feed (trace rows and audio), and the listener
//! receiving them. Not covered: the recorder's own thread (it writes files), and memory
//! libtorch allocates in C++ inside tensor operations, which does not pass through
//! Rust's allocator (measured separately, see `emotrace bench`).

mod engine_common;

#[cfg(debug_assertions)]
use assert_no_alloc::AllocDisabler;
use assert_no_alloc::assert_no_alloc;
use emotrace::audio::capture::capture_ring;
use emotrace::audio::decode::decode_file;
use emotrace::audio::resample::StreamResampler;
use emotrace::engine::recorder::{RecordOptions, TraceFormat, start_recording};
use emotrace::engine::{EngineConfig, Outputs, Pipeline, RingDrain};
use emotrace::features::FeatureConfig;
use engine_common::{speech_clip, speech_clip_2};

#[cfg(debug_assertions)]
#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

/// Two clips with a second of silence between, at 48 kHz stereo i16, as a sound card
/// would deliver them.
fn device_audio() -> Vec<i16> {
    let mut mono = Vec::new();
    for clip in [speech_clip(), speech_clip_2()] {
        mono.extend(decode_file(&clip).expect("decode").samples);
        mono.extend(std::iter::repeat_n(0.0, 16_000));
    }
    let mut up = StreamResampler::with_rates(16_000, 48_000).expect("resampler");
    let mut wide = Vec::new();
    up.process(&mono, |s| wide.extend_from_slice(s));
    up.finish(|s| wide.extend_from_slice(s));
    wide.iter()
        .flat_map(|&s| {
            let v = (s * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16;
            [v, v]
        })
        .collect()
}

/// Capture callback + worker + listener, in steady state, allocate nothing: 2 passes
/// over ~9 s of speech and silence (utterances start and end inside the checked region),
/// in 10 ms device blocks, with a recording attached.
#[test]
fn live_steady_state_does_not_allocate() {
    run_live(FeatureConfig::default(), None);
}

/// The same with the LSTM model stepping on every hop of each utterance (and reset at
/// each new one): nothing on the Rust heap. (libtorch's own C++ allocations inside its
/// operations are not seen here; `scripts/bench-allocs` counts those.)
#[test]
fn live_steady_state_with_model_does_not_allocate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let card = engine_common::tiny_model(dir.path());
    run_live(FeatureConfig::default(), Some(engine_common::tiny_classifier(&card)));
}

/// The same with the shipped model (`models/default.json`: an ensemble, at full size), so
/// the fused step's matrix products at the sizes that ship allocate nothing either.
#[test]
fn live_steady_state_with_shipped_model_does_not_allocate() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default.json");
    emotrace::engine::prepare_worker_thread();
    let cpu = emotrace::model::ComputeDevice::resolve(emotrace::model::DeviceChoice::Cpu).expect("cpu");
    let loaded = emotrace::engine::load_model(&shipped, None, cpu).expect("shipped model loads");
    run_live(loaded.features, Some(loaded.classifier));
}

fn run_live(features: FeatureConfig, classifier: Option<Box<dyn emotrace::engine::FrameClassifier>>) {
    let with_model = classifier.is_some();
    let audio = device_audio();
    let config = EngineConfig::default();
    emotrace::engine::prepare_worker_thread();
    let mut pipeline = Pipeline::new(&features, &config, 48_000, classifier).expect("pipeline");
    let (mut writer, mut reader) = capture_ring(48_000, 2);
    let (tx, rx) = crossbeam_channel::bounded(256);
    let mut outputs = Outputs::standalone(tx, reader.epoch);
    let dir = tempfile::tempdir().expect("temp dir");
    let options = RecordOptions::new(dir.path().join("session"), TraceFormat::Jsonl);
    let (events_tx, _events_rx) = crossbeam_channel::bounded(16);
    let (recording, feed) = start_recording(&options, "test", "none", events_tx).expect("recording");
    outputs.attach_recorder(feed, 0.0);
    let mut drain = RingDrain::new();
    let block = 480 * 2; // 10 ms of 48 kHz stereo

    let mut run = |hops: &mut u64, speech: &mut u64, utterances: &mut u64, scored: &mut u64| {
        for chunk in audio.chunks(block) {
            writer.write(chunk);
            let available = reader.available();
            drain.process(&mut reader, available, &mut pipeline, &mut outputs);
            while let Ok(s) = rx.try_recv() {
                *hops += 1;
                *speech += u64::from(s.speech);
                *utterances = s.utterance_index;
                *scored += u64::from(s.probabilities.is_some());
            }
        }
    };
    let (mut hops, mut speech, mut utterances, mut scored) = (0, 0, 0, 0);
    run(&mut hops, &mut speech, &mut utterances, &mut scored); // warm-up: first calls may set things up
    let warm = (hops, utterances);
    assert_no_alloc(|| {
        run(&mut hops, &mut speech, &mut utterances, &mut scored);
        run(&mut hops, &mut speech, &mut utterances, &mut scored);
    });
    let seconds = audio.len() as f64 / 96_000.0;
    assert!(hops - warm.0 >= (2.0 * seconds * 99.0) as u64, "{hops} hops");
    assert!(utterances >= warm.1 + 4, "utterances began inside the checked region: {utterances}");
    assert!(speech > 0);
    assert_eq!(scored > 0, with_model, "the model scored speech hops");
    assert_eq!(outputs.dropped_snapshots(), 0);
    let summary = recording.finish();
    assert!(summary.hops > 0 && summary.duration_s > 2.0 * seconds, "{summary:?}");
}
