//! Helpers shared by the engine tests: test audio, and comparing traces.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use emotrace::engine::Snapshot;

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
