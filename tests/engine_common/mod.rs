//! Helpers shared by the engine tests: test audio, and comparing traces.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use emotrace::engine::{Engine, Snapshot};

/// The shared corpora, read in place.
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// A RAVDESS clip (16 kHz mono FLAC, ~3.3 s: silence, a sentence, silence).
pub fn speech_clip() -> PathBuf {
    shared_data().join("ravdess/Actor_01/03-01-05-02-01-01-01.flac")
}

/// A second, different speaker and emotion.
pub fn speech_clip_2() -> PathBuf {
    shared_data().join("ravdess/Actor_02/03-01-03-02-02-01-02.flac")
}

/// Everything a snapshot says about the audio: the snapshot without the transport's
/// latency and drop counts.
pub fn content(s: &Snapshot) -> Snapshot {
    Snapshot { dropped_samples: 0, latency_ms: 0.0, ..*s }
}

/// Asserts two traces are identical in content, hop by hop, over their common length.
pub fn assert_same_trace(a: &[Snapshot], b: &[Snapshot]) {
    let n = a.len().min(b.len());
    assert!(n > 0, "empty trace");
    for i in 0..n {
        assert_eq!(content(&a[i]), content(&b[i]), "hop {i} differs");
    }
}

/// Largest absolute difference between two traces' probabilities (both must agree on
/// speech/silence hop by hop, else this panics naming the hop).
pub fn max_probability_diff(a: &[Snapshot], b: &[Snapshot]) -> f32 {
    let n = a.len().min(b.len());
    let mut worst = 0.0f32;
    for i in 0..n {
        match (a[i].probabilities, b[i].probabilities) {
            (Some(p), Some(q)) => {
                for k in 0..7 {
                    worst = worst.max((p[k] - q[k]).abs());
                }
            }
            (None, None) => {}
            _ => panic!("hop {i}: speech in one trace, silence in the other"),
        }
    }
    worst
}

/// A small randomly initialised model (seeded), saved in `dir`, with normalisation
/// statistics from the two test clips' features so its inputs are in range and its
/// outputs move. Returns the card's path. Not a trained model: for checking that the
/// engine runs a model exactly as the model's own code does.
pub fn tiny_model(dir: &Path) -> PathBuf {
    use emotrace::data::NormAccumulator;
    use emotrace::features::{FeatureConfig, extract};
    use emotrace::model::{Architecture, ComputeDevice, DeviceChoice, EmotionModel, ModelCard, Preprocess};

    // NOTE: tests run in parallel threads; libtorch's intra-op threads on each of them
    // oversubscribe the 2-core machine badly, so every test thread uses one, as the
    // engine's worker does.
    emotrace::engine::prepare_worker_thread();
    let features = FeatureConfig::default();
    let dims = features.frame_dim();
    let mut acc = NormAccumulator::new(dims);
    for clip in [speech_clip(), speech_clip_2()] {
        let samples = emotrace::audio::decode::decode_file(&clip).expect("clip").samples;
        acc.add(&extract(&features, &samples).expect("features").features);
    }
    let arch = Architecture {
        input_dims: dims,
        lstm1_units: 48,
        lstm2_units: 24,
        dense_units: vec![16],
        dropout: 0.0,
        classes: 7,
        mean_pooling: false,
        members: 1,
    };
    let card = ModelCard::new("tiny-test", features, Preprocess::default(), acc.finish(), arch);
    tch::manual_seed(11);
    let cpu = ComputeDevice::resolve(DeviceChoice::Cpu).expect("cpu");
    let mut model = EmotionModel::build(card, cpu).expect("model builds");
    model.save(&dir.join("tiny")).expect("model saves")
}

/// Loads a model saved by [`tiny_model`] as the engine's classifier.
pub fn tiny_classifier(card: &Path) -> Box<dyn emotrace::engine::FrameClassifier> {
    emotrace::engine::prepare_worker_thread();
    let cpu = emotrace::model::ComputeDevice::resolve(emotrace::model::DeviceChoice::Cpu).expect("cpu");
    emotrace::engine::load_model(card, None, cpu).expect("model loads").classifier
}

/// Reads (and drops) `engine`'s snapshots until its source has ended and none is left;
/// fails if no snapshot comes for 30 s before that.
pub fn drain_to_end(engine: &Engine) {
    let mut last = Instant::now();
    while !(engine.is_finished() && engine.snapshots().is_empty()) {
        if engine.snapshots().recv_timeout(Duration::from_millis(50)).is_ok() {
            last = Instant::now();
        }
        assert!(
            last.elapsed() < Duration::from_secs(30),
            "no snapshot for 30 s and the source has not ended"
        );
    }
}
