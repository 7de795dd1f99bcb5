//! `emotrace bench`'s model-step comparison: the fused step (every member in a few
//! matrix-vector products in Rust, what the engine runs) against the former step (each
//! member after the other, one libtorch call per operation), on the same frames, in
//! alternating blocks in one run so that the machine's load hits both alike, beside the
//! time it takes only to read the weights once per frame: the floor under any exact f32
//! step on one core, since a frame's products read every weight once.

use std::io::Write;
use std::time::Instant;

use crate::engine::{FrameClassifier, prepare_worker_thread};
use crate::features::extract;
use crate::model::{EmotionModel, Probabilities, StreamError, StreamState, StreamWeights};

/// The former libtorch step as an engine classifier (for `bench --step libtorch`).
pub struct LibtorchClassifier {
    model: EmotionModel,
    weights: StreamWeights,
    state: StreamState,
}

impl LibtorchClassifier {
    /// Arranges `model`'s weights for the libtorch step.
    pub fn new(model: EmotionModel) -> Result<Self, StreamError> {
        let weights = libtorch_weights(&model)?;
        let state = StreamState::new_libtorch(&weights);
        Ok(Self { model, weights, state })
    }
}

fn libtorch_weights(model: &EmotionModel) -> Result<StreamWeights, StreamError> {
    let card = model.card();
    StreamWeights::new(model.var_store(), model.net(), &card.architecture, card.normalisation.clone())
}

impl FrameClassifier for LibtorchClassifier {
    fn input_dim(&self) -> usize {
        self.model.card().normalisation.dims()
    }

    fn reset(&mut self) {
        // NOTE: a reset of tensors already sized cannot fail in practice; a failure would
        // show as a step error below.
        let _ = self.state.reset();
    }

    fn step(&mut self, frame: &[f32]) -> Probabilities {
        self.state.step_with(&self.weights, frame).unwrap_or([0.0; 7])
    }
}

/// µs per frame of each path, one value per block.
#[derive(Debug, Default)]
pub struct StepComparison {
    /// The fused step, per block.
    pub fused_us: Vec<f64>,
    /// The former libtorch step, per block.
    pub libtorch_us: Vec<f64>,
    /// Reading every weight once without arithmetic, per block: the floor under any
    /// exact f32 step on one core.
    pub read_us: Vec<f64>,
    /// Bytes of weights a step reads.
    pub weight_bytes: usize,
    /// Largest difference between the two paths' probabilities.
    pub max_difference: f32,
    /// Frames per block.
    pub block_frames: usize,
}

/// Steps the frames of `speech` (16 kHz) through both paths in `rounds` alternating
/// blocks (a fresh utterance each block), on this thread set up as the engine's worker.
pub fn compare_steps(model: &EmotionModel, speech: &[f32], rounds: usize) -> anyhow::Result<StepComparison> {
    prepare_worker_thread();
    let frames = extract(model.feature_config(), speech)?;
    let dim = frames.frame_dim;
    let weights = libtorch_weights(model)?;
    let mut fused = model.new_stream();
    let mut libtorch = StreamState::new_libtorch(&weights);
    let block = frames.features.chunks_exact(dim).take(500).collect::<Vec<_>>();
    let mut result = StepComparison {
        block_frames: block.len(),
        weight_bytes: weights.fused().weight_bytes(),
        ..Default::default()
    };
    let mut read_sink = 0.0f32;
    let mut outputs = (vec![[0.0f32; 7]; block.len()], vec![[0.0f32; 7]; block.len()]);
    for round in 0..=rounds {
        for which in [round % 2, 1 - round % 2, 2] {
            let start = Instant::now();
            if which == 0 {
                fused.reset()?;
                for (frame, out) in block.iter().zip(&mut outputs.0) {
                    *out = fused.step(model, frame)?;
                }
            } else if which == 1 {
                libtorch.reset()?;
                for (frame, out) in block.iter().zip(&mut outputs.1) {
                    *out = libtorch.step_with(&weights, frame)?;
                }
            } else {
                for _ in &block {
                    read_sink += weights.fused().read_all();
                }
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / block.len().max(1) as f64;
            // Round 0 warms the paths up and is not counted.
            if round > 0 {
                [&mut result.fused_us, &mut result.libtorch_us, &mut result.read_us][which].push(us);
            }
        }
        let diff = outputs.0.iter().flatten().zip(outputs.1.iter().flatten()).map(|(a, b)| (a - b).abs());
        result.max_difference = diff.fold(result.max_difference, f32::max);
    }
    // The sums are used, so the reads are not optimised away.
    std::hint::black_box(read_sink);
    Ok(result)
}

/// Prints the comparison as a table.
pub fn print_comparison(out: &mut impl Write, c: &StepComparison) -> std::io::Result<()> {
    let median = |v: &[f64]| crate::engine::measure::quantile(v, 0.5);
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    writeln!(
        out,
        "\n0. model step, µs per frame ({} blocks of {} frames each, alternating, one thread)",
        c.fused_us.len(),
        c.block_frames
    )?;
    writeln!(out, "   {:<40} {:>10} {:>10}", "path", "median", "fastest")?;
    for (name, v) in [
        ("libtorch, member after member (before)", &c.libtorch_us),
        ("fused, all members in Rust (now)", &c.fused_us),
    ] {
        writeln!(out, "   {name:<40} {:>10.1} {:>10.1}", median(v), min(v))?;
    }
    let floor = format!("reading the {:.1} MB of weights alone", c.weight_bytes as f64 / 1e6);
    writeln!(out, "   {floor:<40} {:>10.1} {:>10.1}", median(&c.read_us), min(&c.read_us))?;
    writeln!(
        out,
        "   ratio before/now: {:.2}x by median ({:.2}x fastest); largest probability difference {:.1e}",
        median(&c.libtorch_us) / median(&c.fused_us),
        min(&c.libtorch_us) / min(&c.fused_us),
        c.max_difference
    )
}
