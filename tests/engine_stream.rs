//! The engine's trace is a function of the audio alone: the same through the threaded
//! engine as offline, whatever the chunk size, and at the file's own rate or resampled.

mod engine_common;

use std::time::Duration;

use emotrace::audio::decode::decode_file;
use emotrace::audio::resample::StreamResampler;
use emotrace::engine::offline::{trace_file, trace_samples};
use emotrace::engine::{EngineConfig, EngineEvent, Pace, Source, start_engine};
use emotrace::features::FeatureConfig;
use engine_common::{assert_same_trace, speech_clip};

fn mono_16k(path: &std::path::Path) -> Vec<f32> {
    let audio = decode_file(path).expect("decode test clip");
    assert_eq!(audio.sample_rate_hz, 16_000);
    audio.samples
}

/// Chunk sizes from 1 sample to 4096 give bit-identical traces (levels, speech decisions,
/// mel columns, utterance boundaries).
#[test]
fn chunk_size_does_not_change_the_trace() {
    let samples = mono_16k(&speech_clip());
    let features = FeatureConfig::default();
    let config = EngineConfig::default();
    let reference = trace_samples(&samples, 16_000, &features, &config, None, samples.len()).expect("trace");
    assert_eq!(reference.len(), features.n_frames(samples.len()));
    assert!(reference.iter().any(|s| s.speech), "the clip has speech");
    assert!(reference.iter().any(|s| !s.speech), "the clip has silence");
    for chunk in [1, 7, 160, 161, 1000, 4096] {
        let trace = trace_samples(&samples, 16_000, &features, &config, None, chunk).expect("trace");
        assert_eq!(trace.len(), reference.len(), "chunk {chunk}");
        assert_same_trace(&trace, &reference);
    }
}

/// The threaded engine replaying a file as fast as possible sends exactly the offline
/// trace of that file, every hop, none dropped.
#[test]
fn fast_replay_equals_offline_trace() {
    let path = speech_clip();
    let features = FeatureConfig::default();
    let config = EngineConfig { snapshot_capacity: 16, ..EngineConfig::default() };
    let offline = trace_file(&path, &features, &config, None).expect("offline trace");
    let source = Source::File { path: path.clone(), pace: Pace::Fast };
    let engine = start_engine(&source, &config, &features, None, "none").expect("engine starts");
    let mut streamed = Vec::new();
    // NOTE: the channel holds only 16 snapshots, so the replay must wait for this reader.
    while let Ok(s) = engine.snapshots().recv_timeout(Duration::from_secs(20)) {
        streamed.push(s);
        if streamed.len() == offline.len() {
            break;
        }
    }
    assert_eq!(streamed.len(), offline.len());
    assert_same_trace(&streamed, &offline);
    let events: Vec<EngineEvent> = engine.events().try_iter().collect();
    assert!(
        matches!(events.first(), Some(EngineEvent::Started { sample_rate_hz: 16_000, .. })),
        "{events:?}"
    );
    let report = engine.stop();
    assert_eq!(report.dropped_snapshots, 0);
    assert_eq!(report.error, None);
}

/// A 48 kHz stereo file is mixed and resampled inside the pipeline; its trace matches the
/// offline trace of the same file exactly, and the 16 kHz original closely (the
/// resampler's round trip is not exact: speech decisions may differ on a few hops at
/// threshold crossings, levels agree within 0.5 dB on speech hops).
#[test]
fn resampled_stereo_file_matches_its_16k_original() {
    let samples = mono_16k(&speech_clip());
    let mut up = StreamResampler::with_rates(16_000, 48_000).expect("resampler");
    let mut wide = Vec::new();
    up.process(&samples, |s| wide.extend_from_slice(s));
    up.finish(|s| wide.extend_from_slice(s));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stereo48k.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&path, spec).expect("wav");
    for &s in &wide {
        writer.write_sample(s).expect("sample");
        writer.write_sample(s).expect("sample");
    }
    writer.finalize().expect("finalize");

    let features = FeatureConfig::default();
    let config = EngineConfig::default();
    let from_file = trace_file(&path, &features, &config, None).expect("trace of 48k file");
    let chunked = trace_samples(&wide, 48_000, &features, &config, None, 480).expect("chunked 48k trace");
    assert_same_trace(&from_file, &chunked);

    let original = trace_samples(&samples, 16_000, &features, &config, None, 4096).expect("16k trace");
    assert!((from_file.len() as i64 - original.len() as i64).abs() <= 1);
    let n = from_file.len().min(original.len());
    let disagree = (0..n).filter(|&i| from_file[i].speech != original[i].speech).count();
    assert!(disagree <= n / 100, "{disagree} of {n} hops disagree on speech");
    for i in (0..n).filter(|&i| original[i].speech && original[i].level_dbfs > -60.0) {
        let d = (from_file[i].level_dbfs - original[i].level_dbfs).abs();
        assert!(d < 0.5, "hop {i}: level differs by {d} dB");
    }
}
