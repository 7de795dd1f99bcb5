//! Stateful streaming: one frame in, seven probabilities out, for the live monitor.
//!
//! [`StreamWeights`] holds the model's weights arranged for one-frame steps two ways:
//! the fused step ([`super::fused`]: every member in a few matrix-vector products in
//! Rust, no allocation, what [`StreamState::new`] uses) and the former libtorch step
//! ([`super::stream_torch`]: each member after the other, one libtorch call per
//! operation), kept so `emotrace bench` can time both in one run
//! ([`StreamState::new_libtorch`]). Both give the same outputs: T calls of
//! [`StreamState::step_with`] equal the batched forward over the same T frames (see
//! `tests/model_stream.rs` for the tolerance).

use tch::Tensor;
use tch::nn;

use super::Emotion;
use super::fused::{
    DenseLayer, FusedState, FusedWeights, LstmLayer, MemberLayers, RowMajor, vector_from_tensor,
};
use super::network::{Architecture, EmotionNet, names};
use super::stream_torch::{CellWeights, MemberWeights, TorchStepState, TorchStepWeights};
use crate::data::FrameNormaliser;
use crate::data::{NormStats, SpeakerStats};

/// Why a streaming step failed.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The frame has the wrong number of values: build the feature extractor from the
    /// model's own `feature_config()`.
    #[error("frame has {got} values, the model expects {expected}")]
    FrameSize { got: usize, expected: usize },
    /// The state was made by a model of another shape: call `model.new_stream()`.
    #[error("stream state does not belong to this model (hidden sizes differ)")]
    WrongModel,
    /// A weight is missing from the variable store (a bug: the network was not built in it).
    #[error("network variable {0} not found")]
    MissingVariable(String),
    /// The network's layers do not fit together (a bug: the network and its architecture
    /// disagree).
    #[error("network layers: {0}")]
    Layers(String),
    /// libtorch refused an operation (should not happen with a validated model).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Weights of a built network (every member), arranged for one-frame steps, plus
/// normalisation.
#[derive(Debug)]
pub struct StreamWeights {
    fused: FusedWeights,
    torch: TorchStepWeights,
    norm: NormStats,
    /// Values per raw feature frame (the network may take twice as many, `dual_input`).
    frame_dims: usize,
    /// Digest of every layer size; a state fits these weights iff its key is equal.
    shape_key: u64,
}

/// FNV-1a over layer sizes.
fn shape_key(sizes: impl IntoIterator<Item = i64>) -> u64 {
    sizes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, x| (h ^ x as u64).wrapping_mul(0x0100_0000_01b3))
}

impl StreamWeights {
    /// Shares the variables of `vs` (built by [`EmotionNet::new`] under its root) for the
    /// libtorch step, and copies them for the fused step.
    pub fn new(
        vs: &nn::VarStore,
        net: &EmotionNet,
        arch: &Architecture,
        norm: NormStats,
    ) -> Result<Self, StreamError> {
        let _guard = tch::no_grad_guard();
        let vars = vs.variables();
        let var =
            |name: String| vars.get(&name).map(Tensor::detach).ok_or(StreamError::MissingVariable(name));
        let cell = |prefix: &str, hidden: usize| -> Result<CellWeights, StreamError> {
            Ok(CellWeights {
                w_ih: var(format!("{prefix}.weight_ih_l0"))?,
                w_hh: var(format!("{prefix}.weight_hh_l0"))?,
                bias: var(format!("{prefix}.bias_ih_l0"))?.f_add(&var(format!("{prefix}.bias_hh_l0"))?)?,
                hidden: hidden as i64,
            })
        };
        let linear = |l: &nn::Linear| -> Result<(Tensor, Tensor), StreamError> {
            let bias = l.bs.as_ref().ok_or_else(|| StreamError::MissingVariable("linear bias".into()))?;
            Ok((l.ws.detach(), bias.detach()))
        };
        let count = net.members().len();
        let mut members = Vec::with_capacity(count);
        let mut layers = Vec::with_capacity(count);
        for (i, member) in net.members().iter().enumerate() {
            let prefix = names::member(i, count);
            let cells = [
                cell(&format!("{prefix}{}", names::LSTM1), arch.lstm1_units)?,
                cell(&format!("{prefix}{}", names::LSTM2), arch.lstm2_units)?,
            ];
            let mut linears = member.dense_layers().iter().map(linear).collect::<Result<Vec<_>, _>>()?;
            linears.push(linear(member.head())?);
            layers.push(member_layers(&cells, &linears)?);
            members.push(MemberWeights { cells, linears });
        }
        if norm.input_dims() != arch.input_dims {
            return Err(StreamError::FrameSize { got: norm.input_dims(), expected: arch.input_dims });
        }
        let key = shape_key(
            [
                arch.input_dims as i64,
                arch.lstm1_units as i64,
                arch.lstm2_units as i64,
                i64::from(arch.mean_pooling),
                count as i64,
            ]
            .into_iter()
            .chain(members[0].linears.iter().map(|(w, _)| w.size()[0])),
        );
        let fused = FusedWeights::new(layers, arch.mean_pooling).map_err(StreamError::Layers)?;
        if fused.input_dims() != arch.input_dims {
            return Err(StreamError::Layers(format!(
                "LSTM 1 takes {} inputs, the architecture says {}",
                fused.input_dims(),
                arch.input_dims
            )));
        }
        Ok(Self {
            fused,
            torch: TorchStepWeights { members, mean_pooling: arch.mean_pooling, device: vs.device() },
            frame_dims: norm.dims(),
            norm,
            shape_key: key,
        })
    }

    /// Values per raw feature frame.
    pub fn frame_dims(&self) -> usize {
        self.frame_dims
    }

    /// The fused step's weights (for `emotrace bench`'s floor).
    pub fn fused(&self) -> &FusedWeights {
        &self.fused
    }
}

/// CPU copies of one member's layers for the fused step.
fn member_layers(
    cells: &[CellWeights; 2],
    linears: &[(Tensor, Tensor)],
) -> Result<MemberLayers, StreamError> {
    let lstm = |c: &CellWeights| -> Result<LstmLayer, StreamError> {
        Ok(LstmLayer {
            w_ih: RowMajor::from_tensor(&c.w_ih)?,
            w_hh: RowMajor::from_tensor(&c.w_hh)?,
            bias: vector_from_tensor(&c.bias)?,
        })
    };
    Ok(MemberLayers {
        lstm1: lstm(&cells[0])?,
        lstm2: lstm(&cells[1])?,
        linears: linears
            .iter()
            .map(|(w, b)| Ok(DenseLayer { weight: RowMajor::from_tensor(w)?, bias: vector_from_tensor(b)? }))
            .collect::<Result<_, StreamError>>()?,
    })
}

/// Which step a [`StreamState`] runs.
#[derive(Debug)]
enum Step {
    /// Every member at once in Rust (the live path).
    Fused(FusedState),
    /// Each member after the other in libtorch (the former path, for comparison).
    Libtorch(TorchStepState),
}

/// The recurrent state of one utterance being streamed, with every buffer a step needs.
#[derive(Debug)]
pub struct StreamState {
    step: Step,
    normalised: Vec<f32>,
    normaliser: FrameNormaliser,
    /// The weights' `shape_key`, to check the state fits the model without asking libtorch
    /// (`Tensor::size` allocates).
    shape_key: u64,
    frames: u64,
}

impl StreamState {
    /// A zero state sized for `weights`, stepped by the fused step.
    pub fn new(weights: &StreamWeights) -> Self {
        Self::with_step(
            weights,
            Step::Fused(FusedState::new(&weights.fused)),
            FrameNormaliser::new(&weights.norm),
        )
    }

    /// A zero state whose speaker statistics are fixed to `stats` (a calibration) instead
    /// of accumulated over the session.
    pub fn for_speaker(weights: &StreamWeights, stats: SpeakerStats) -> Self {
        let normaliser = FrameNormaliser::for_speaker(&weights.norm, stats);
        Self::with_step(weights, Step::Fused(FusedState::new(&weights.fused)), normaliser)
    }

    /// A zero state stepped the former way, one libtorch operation at a time per member
    /// (slower; same outputs). For benchmarks and cross-checks.
    pub fn new_libtorch(weights: &StreamWeights) -> Self {
        let _guard = tch::no_grad_guard();
        Self::with_step(
            weights,
            Step::Libtorch(TorchStepState::new(&weights.torch)),
            FrameNormaliser::new(&weights.norm),
        )
    }

    fn with_step(weights: &StreamWeights, step: Step, normaliser: FrameNormaliser) -> Self {
        Self {
            step,
            normalised: vec![0.0; weights.norm.input_dims()],
            normaliser,
            shape_key: weights.shape_key,
            frames: 0,
        }
    }

    /// Whether this state runs the former libtorch step.
    pub fn is_libtorch(&self) -> bool {
        matches!(self.step, Step::Libtorch(_))
    }

    /// Starts a new utterance of the same session: zero state (a session's speaker
    /// statistics, when the model uses them, carry on).
    pub fn reset(&mut self) -> Result<(), StreamError> {
        match &mut self.step {
            Step::Fused(state) => state.reset(),
            Step::Libtorch(state) => {
                let _guard = tch::no_grad_guard();
                state.reset()?;
            }
        }
        self.normaliser.reset_utterance();
        self.frames = 0;
        Ok(())
    }

    /// Starts a new session (a new speaker): [`StreamState::reset`] and forgets the
    /// session's speaker statistics.
    pub fn reset_session(&mut self) -> Result<(), StreamError> {
        self.normaliser.reset_session();
        self.reset()
    }

    /// The statistics of the session's frames so far and their count (see
    /// [`FrameNormaliser::session_statistics`]).
    pub fn session_statistics(&mut self, weights: &StreamWeights) -> Option<(SpeakerStats, u64)> {
        self.normaliser.session_statistics(&weights.norm)
    }

    /// Frames stepped since the last reset.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Advances one frame of raw features (normalised here, with the model's statistics)
    /// and returns the class probabilities after it, in [`Emotion`] order (the mean of
    /// the members' for an ensemble).
    pub fn step_with(
        &mut self,
        weights: &StreamWeights,
        frame: &[f32],
    ) -> Result<[f32; Emotion::COUNT], StreamError> {
        if frame.len() != weights.frame_dims {
            return Err(StreamError::FrameSize { got: frame.len(), expected: weights.frame_dims });
        }
        if self.shape_key != weights.shape_key {
            return Err(StreamError::WrongModel);
        }
        self.normaliser.apply(&weights.norm, frame, &mut self.normalised);
        let probabilities = match &mut self.step {
            Step::Fused(state) => state.step(&weights.fused, &self.normalised, self.frames),
            Step::Libtorch(state) => {
                let _guard = tch::no_grad_guard();
                state.step(&weights.torch, &self.normalised, self.frames)?
            }
        };
        self.frames += 1;
        Ok(probabilities)
    }
}

/// Softmax of seven logits, computed as libtorch does (max subtracted).
pub(super) fn softmax(logits: &[f32; Emotion::COUNT]) -> [f32; Emotion::COUNT] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out = [0.0; Emotion::COUNT];
    let mut sum = 0.0;
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = (l - max).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SpeakerNorm;

    use tch::{Device, Kind};

    fn built(seed: i64, mean_pooling: bool) -> (nn::VarStore, EmotionNet, Architecture) {
        built_members(seed, mean_pooling, 1, vec![3])
    }

    fn built_members(
        seed: i64,
        mean_pooling: bool,
        members: usize,
        dense_units: Vec<usize>,
    ) -> (nn::VarStore, EmotionNet, Architecture) {
        built_with_inputs(seed, mean_pooling, members, dense_units, 5)
    }

    fn built_with_inputs(
        seed: i64,
        mean_pooling: bool,
        members: usize,
        dense_units: Vec<usize>,
        input_dims: usize,
    ) -> (nn::VarStore, EmotionNet, Architecture) {
        tch::manual_seed(seed);
        let arch = Architecture {
            input_dims,
            lstm1_units: 6,
            lstm2_units: 4,
            dense_units,
            dropout: 0.2,
            classes: 7,
            mean_pooling,
            members,
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let net = EmotionNet::new(&vs.root(), &arch);
        (vs, net, arch)
    }

    /// Softmax matches libtorch's to float precision and sums to one.
    #[test]
    fn softmax_matches_libtorch() {
        let logits = [1.0, -2.0, 0.5, 3.0, 0.0, -0.5, 2.0];
        let ours = softmax(&logits);
        let theirs = Vec::<f32>::try_from(Tensor::from_slice(&logits).softmax(0, Kind::Float)).unwrap();
        for (a, b) in ours.iter().zip(&theirs) {
            assert!((a - b).abs() < 1e-7, "{a} vs {b}");
        }
    }

    /// A frame of the wrong length and a state of another model are errors, not panics.
    #[test]
    fn wrong_frame_or_state_is_an_error() {
        let (vs, net, arch) = built(1, false);
        let weights = StreamWeights::new(&vs, &net, &arch, NormStats::identity(5)).unwrap();
        let mut state = StreamState::new(&weights);
        assert!(matches!(
            StreamState::new_libtorch(&weights).step_with(&weights, &[0.0; 6]),
            Err(StreamError::FrameSize { got: 6, expected: 5 })
        ));
        assert!(matches!(
            state.step_with(&weights, &[0.0; 4]),
            Err(StreamError::FrameSize { got: 4, expected: 5 })
        ));
        let big = Architecture { lstm1_units: 8, ..arch.clone() };
        let vs2 = nn::VarStore::new(Device::Cpu);
        let net2 = EmotionNet::new(&vs2.root(), &big);
        let weights2 = StreamWeights::new(&vs2, &net2, &big, NormStats::identity(5)).unwrap();
        assert!(matches!(state.step_with(&weights2, &[0.0; 5]), Err(StreamError::WrongModel)));
    }

    /// T calls of `step` equal the batched forward over the same T frames, within 1e-5 per
    /// probability (float32 with a different summation order), and `reset_session`
    /// starts afresh; for the fused step and the former libtorch step, with and without
    /// causal mean pooling and speaker normalisation, for one network and for ensembles
    /// of other member counts and depths, and with dual input.
    #[test]
    fn steps_equal_batched_forward() {
        steps_equal_batched_forward_with(false, SpeakerNorm::Off, 1, vec![3], false);
        steps_equal_batched_forward_with(true, SpeakerNorm::Off, 1, vec![3], false);
        steps_equal_batched_forward_with(false, SpeakerNorm::MeanStd, 1, vec![3], false);
        steps_equal_batched_forward_with(true, SpeakerNorm::Off, 3, vec![3], false);
        steps_equal_batched_forward_with(false, SpeakerNorm::Off, 4, vec![9, 5], false);
        steps_equal_batched_forward_with(true, SpeakerNorm::Mean, 2, vec![], false);
        steps_equal_batched_forward_with(false, SpeakerNorm::MeanStd, 2, vec![3], true);
    }

    /// With speaker normalisation, `reset` keeps the session's statistics: the same
    /// utterance heard again is normalised by what the session has heard, so it differs
    /// from a fresh session's.
    #[test]
    fn utterance_reset_keeps_the_session() {
        let (vs, net, arch) = built(7, false);
        let norm = NormStats {
            speaker_norm: SpeakerNorm::Mean,
            session_prior_frames: 5.0,
            ..NormStats::identity(5)
        };
        let weights = StreamWeights::new(&vs, &net, &arch, norm).unwrap();
        let frames: Vec<f32> = (0..50).map(|i| 2.0 + (i % 7) as f32 * 0.3).collect();
        let mut state = StreamState::new(&weights);
        let run = |state: &mut StreamState| -> Vec<[f32; 7]> {
            frames.chunks(5).map(|f| state.step_with(&weights, f).unwrap()).collect()
        };
        let first = run(&mut state);
        state.reset().unwrap();
        assert_ne!(run(&mut state), first, "the session's statistics carried over");
        state.reset_session().unwrap();
        assert_eq!(run(&mut state), first, "a new session starts afresh");
    }

    fn steps_equal_batched_forward_with(
        mean_pooling: bool,
        speaker_norm: SpeakerNorm,
        members: usize,
        dense_units: Vec<usize>,
        dual_input: bool,
    ) {
        let inputs = if dual_input { 10 } else { 5 };
        let (vs, net, arch) = built_with_inputs(7, mean_pooling, members, dense_units, inputs);
        let norm = NormStats {
            mean: vec![0.5, -1.0, 2.0, 0.0, 3.0],
            std: vec![1.0, 2.0, 0.5, 1.5, 4.0],
            frames: 1,
            running_prior_frames: 20.0,
            speaker_norm,
            session_prior_frames: 10.0,
            level: None,
            dual_input,
            calibration_shift: None,
        };
        let weights = StreamWeights::new(&vs, &net, &arch, norm.clone()).unwrap();
        let frames = 40;
        let raw = Tensor::randn([frames, 5], (Kind::Float, Device::Cpu)) * 3.0;
        let raw_vec = Vec::<f32>::try_from(raw.flatten(0, -1)).unwrap();
        let mut normalised = vec![0.0; frames as usize * inputs];
        norm.normalise_sequence(&raw_vec, None, &mut normalised);
        let batched = tch::no_grad(|| {
            net.probabilities(&Tensor::from_slice(&normalised).view([1, frames, inputs as i64]))
        });
        let batched = Vec::<f32>::try_from(batched.flatten(0, -1)).unwrap();
        for mut state in [StreamState::new(&weights), StreamState::new_libtorch(&weights)] {
            let path = if state.is_libtorch() { "libtorch" } else { "fused" };
            for pass in 0..2 {
                for (t, frame) in raw_vec.chunks(5).enumerate() {
                    let probs = state.step_with(&weights, frame).unwrap();
                    for (k, p) in probs.iter().enumerate() {
                        let expected = batched[t * 7 + k];
                        assert!(
                            (p - expected).abs() < 1e-5,
                            "{path}, {members} members, pass {pass} frame {t} class {k}: {p} vs {expected}"
                        );
                    }
                }
                assert_eq!(state.frames(), frames as u64);
                state.reset_session().unwrap();
            }
        }
    }
}
