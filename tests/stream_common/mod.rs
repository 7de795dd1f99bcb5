//! The live path against the batched one, shared by the model tests.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use emotrace::features::StreamingExtractor;
use emotrace::model::{EmotionModel, Probabilities};

/// Steps `model` frame by frame over `samples` (the streaming extractor's frames, one
/// fresh state) and checks every output equals `batched` within 1e-5 per probability.
pub fn assert_streams_as_batched(
    model: &EmotionModel,
    samples: &[f32],
    batched: &[Probabilities],
    what: &str,
) {
    let mut extractor = StreamingExtractor::new(model.feature_config()).unwrap();
    let mut state = model.new_stream();
    let mut streamed = Vec::new();
    let mut step = |frame: &[f32]| streamed.push(state.step(model, frame).unwrap());
    extractor.push(samples, |f| step(f.features));
    extractor.finish(|f| step(f.features));
    assert_eq!(streamed.len(), batched.len(), "{what}");
    for (t, (s, b)) in streamed.iter().zip(batched).enumerate() {
        for (p, q) in s.iter().zip(b) {
            assert!((p - q).abs() < 1e-5, "{what}, frame {t}: {p} vs {q}");
        }
    }
}
