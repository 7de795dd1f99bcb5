//! Stateful streaming: one frame in, seven probabilities out, for the live monitor.
//!
//! The LSTM cells are written out with libtorch `_out` / in-place ops on tensors sized
//! once in [`StreamState::new`] (state, gates and their views, layer outputs), so a step
//! allocates no tensor storage of its own and nothing on the Rust heap; libtorch still
//! creates a small handle per op and one 1-D input tensor per frame. Runs under
//! `no_grad`. T calls of [`StreamState::step`] equal the batched forward over the same T
//! frames (see `tests/model_stream.rs` for the tolerance).

use tch::nn;
use tch::{Device, Kind, Tensor};

use super::Emotion;
use super::network::{Architecture, EmotionNet, names};
use crate::data::FrameNormaliser;
use crate::data::NormStats;

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
    /// libtorch refused an operation (should not happen with a validated model).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// One LSTM layer's weights for stepping: `gates = bias + W_ih x + W_hh h`.
#[derive(Debug)]
struct CellWeights {
    w_ih: Tensor,
    w_hh: Tensor,
    /// `b_ih + b_hh`.
    bias: Tensor,
    hidden: i64,
}

/// One member's weights, arranged for one-frame steps.
#[derive(Debug)]
struct MemberWeights {
    cells: [CellWeights; 2],
    /// Hidden dense layers then the head: (weight `[out, in]`, bias `[out]`).
    linears: Vec<(Tensor, Tensor)>,
}

/// Weights of a built network (every member), arranged for one-frame steps, plus
/// normalisation.
#[derive(Debug)]
pub struct StreamWeights {
    members: Vec<MemberWeights>,
    norm: NormStats,
    input_dims: usize,
    /// Whether the dense layers see LSTM 2's output and its running mean.
    mean_pooling: bool,
    /// Digest of every layer size; a state fits these weights iff its key is equal.
    shape_key: u64,
    device: Device,
}

/// FNV-1a over layer sizes.
fn shape_key(sizes: impl IntoIterator<Item = i64>) -> u64 {
    sizes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, x| (h ^ x as u64).wrapping_mul(0x0100_0000_01b3))
}

impl StreamWeights {
    /// Shares the variables of `vs` (built by [`EmotionNet::new`] under its root).
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
        for (i, member) in net.members().iter().enumerate() {
            let prefix = names::member(i, count);
            let cells = [
                cell(&format!("{prefix}{}", names::LSTM1), arch.lstm1_units)?,
                cell(&format!("{prefix}{}", names::LSTM2), arch.lstm2_units)?,
            ];
            let mut linears = member.dense_layers().iter().map(linear).collect::<Result<Vec<_>, _>>()?;
            linears.push(linear(member.head())?);
            members.push(MemberWeights { cells, linears });
        }
        if norm.dims() != arch.input_dims {
            return Err(StreamError::FrameSize { got: norm.dims(), expected: arch.input_dims });
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
        Ok(Self {
            members,
            norm,
            input_dims: arch.input_dims,
            mean_pooling: arch.mean_pooling,
            shape_key: key,
            device: vs.device(),
        })
    }

    /// Values per input frame.
    pub fn input_dims(&self) -> usize {
        self.input_dims
    }
}

/// Preallocated buffers of one LSTM layer.
#[derive(Debug)]
struct CellState {
    h: Tensor,
    c: Tensor,
    gates: Tensor,
    /// Views into `gates` (PyTorch order i, f, g, o).
    input_forget: Tensor,
    input_gate: Tensor,
    forget_gate: Tensor,
    cell_gate: Tensor,
    output_gate: Tensor,
    tanh_c: Tensor,
}

impl CellState {
    fn new(hidden: i64, device: Device) -> Self {
        let opts = (Kind::Float, device);
        let gates = Tensor::zeros([4 * hidden], opts);
        Self {
            h: Tensor::zeros([hidden], opts),
            c: Tensor::zeros([hidden], opts),
            input_forget: gates.narrow(0, 0, 2 * hidden),
            input_gate: gates.narrow(0, 0, hidden),
            forget_gate: gates.narrow(0, hidden, hidden),
            cell_gate: gates.narrow(0, 2 * hidden, hidden),
            output_gate: gates.narrow(0, 3 * hidden, hidden),
            tanh_c: Tensor::zeros([hidden], opts),
            gates,
        }
    }

    /// Advances one frame: `x` is this layer's input; afterwards `h` is its output.
    fn step(&mut self, w: &CellWeights, x: &Tensor) -> Result<(), tch::TchError> {
        let _ = w.bias.f_addmv_out(&self.gates, &w.w_ih, x)?;
        let _ = self.gates.f_addmv_(&w.w_hh, &self.h)?;
        let _ = self.input_forget.f_sigmoid_()?;
        let _ = self.cell_gate.f_tanh_()?;
        let _ = self.output_gate.f_sigmoid_()?;
        let _ = self.c.f_mul_(&self.forget_gate)?;
        let _ = self.c.f_addcmul_(&self.input_gate, &self.cell_gate)?;
        let _ = self.c.f_tanh_out(&self.tanh_c)?;
        let _ = self.tanh_c.f_mul_out(&self.h, &self.output_gate)?;
        Ok(())
    }

    fn reset(&mut self) -> Result<(), tch::TchError> {
        let _ = self.h.f_zero_()?;
        let _ = self.c.f_zero_()?;
        Ok(())
    }
}

/// The recurrent state of one utterance being streamed, with every buffer a step needs.
#[derive(Debug)]
pub struct StreamState {
    members: Vec<MemberState>,
    normalised: Vec<f32>,
    normaliser: FrameNormaliser,
    /// The weights' `shape_key`, to check the state fits the model without asking libtorch
    /// (`Tensor::size` allocates).
    shape_key: u64,
    frames: u64,
}

/// One member's recurrent state and buffers.
#[derive(Debug)]
struct MemberState {
    cells: [CellState; 2],
    /// Mean pooling: the sum of LSTM 2's outputs this utterance, and the dense input
    /// `[h, sum / frames]` with its two halves as views.
    pooled_sum: Tensor,
    pooled: Tensor,
    pooled_h: Tensor,
    pooled_mean: Tensor,
    /// Output of each linear layer (hidden dense layers, then logits).
    linear_out: Vec<Tensor>,
    logits: [f32; Emotion::COUNT],
}

impl MemberState {
    fn new(weights: &StreamWeights, member: &MemberWeights) -> Self {
        let cells = [
            CellState::new(member.cells[0].hidden, weights.device),
            CellState::new(member.cells[1].hidden, weights.device),
        ];
        let hidden = member.cells[1].hidden;
        let pooled_width = if weights.mean_pooling { 2 * hidden } else { 0 };
        let pooled = Tensor::zeros([pooled_width], (Kind::Float, weights.device));
        let pooled_h = pooled.narrow(0, 0, pooled_width / 2);
        let pooled_mean = pooled.narrow(0, pooled_width / 2, pooled_width / 2);
        let linear_out = member
            .linears
            .iter()
            .map(|(_, b)| Tensor::zeros([b.size()[0]], (Kind::Float, weights.device)))
            .collect();
        Self {
            cells,
            pooled_sum: Tensor::zeros(
                [if weights.mean_pooling { hidden } else { 0 }],
                (Kind::Float, weights.device),
            ),
            pooled,
            pooled_h,
            pooled_mean,
            linear_out,
            logits: [0.0; Emotion::COUNT],
        }
    }

    fn reset(&mut self) -> Result<(), tch::TchError> {
        for cell in &mut self.cells {
            cell.reset()?;
        }
        let _ = self.pooled_sum.f_zero_()?;
        Ok(())
    }

    /// Advances one normalised frame (`frames` already stepped this utterance); the
    /// member's logits are left in `self.logits`.
    fn step(
        &mut self,
        weights: &StreamWeights,
        member: &MemberWeights,
        input: &Tensor,
        frames: u64,
    ) -> Result<(), tch::TchError> {
        self.cells[0].step(&member.cells[0], input)?;
        let [first, second] = &mut self.cells;
        second.step(&member.cells[1], &first.h)?;
        let mut previous = &self.cells[1].h;
        if weights.mean_pooling {
            let _ = self.pooled_sum.f_add_(previous)?;
            self.pooled_h.f_copy_(previous)?;
            let _ = self.pooled_sum.f_mul_scalar_out(&self.pooled_mean, 1.0 / (frames + 1) as f64)?;
            previous = &self.pooled;
        }
        let last = self.linear_out.len() - 1;
        for (i, ((w, b), out)) in member.linears.iter().zip(self.linear_out.iter_mut()).enumerate() {
            let _ = b.f_addmv_out(out, w, previous)?;
            if i < last {
                let _ = out.f_relu_()?;
            }
            previous = out;
        }
        previous.f_copy_data(&mut self.logits, Emotion::COUNT)
    }
}

impl StreamState {
    /// A zero state sized for `weights`.
    pub fn new(weights: &StreamWeights) -> Self {
        let _guard = tch::no_grad_guard();
        Self {
            members: weights.members.iter().map(|m| MemberState::new(weights, m)).collect(),
            normalised: vec![0.0; weights.input_dims],
            normaliser: FrameNormaliser::new(weights.input_dims),
            shape_key: weights.shape_key,
            frames: 0,
        }
    }

    /// Starts a new utterance of the same session: zero state (a session's speaker
    /// statistics, when the model uses them, carry on).
    pub fn reset(&mut self) -> Result<(), StreamError> {
        let _guard = tch::no_grad_guard();
        for member in &mut self.members {
            member.reset()?;
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
        if frame.len() != weights.input_dims {
            return Err(StreamError::FrameSize { got: frame.len(), expected: weights.input_dims });
        }
        if self.shape_key != weights.shape_key {
            return Err(StreamError::WrongModel);
        }
        let _guard = tch::no_grad_guard();
        self.normaliser.apply(&weights.norm, frame, &mut self.normalised);
        let mut input = Tensor::f_from_slice(&self.normalised)?;
        if weights.device != Device::Cpu {
            input = input.f_to_device(weights.device)?;
        }
        let mut mean = [0.0f32; Emotion::COUNT];
        let share = 1.0 / self.members.len() as f32;
        for (state, member) in self.members.iter_mut().zip(&weights.members) {
            state.step(weights, member, &input, self.frames)?;
            for (m, p) in mean.iter_mut().zip(softmax(&state.logits)) {
                *m += p * share;
            }
        }
        self.frames += 1;
        Ok(mean)
    }
}

/// Softmax of seven logits, computed as libtorch does (max subtracted).
fn softmax(logits: &[f32; Emotion::COUNT]) -> [f32; Emotion::COUNT] {
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

    fn built(seed: i64, mean_pooling: bool) -> (nn::VarStore, EmotionNet, Architecture) {
        built_members(seed, mean_pooling, 1)
    }

    fn built_members(
        seed: i64,
        mean_pooling: bool,
        members: usize,
    ) -> (nn::VarStore, EmotionNet, Architecture) {
        tch::manual_seed(seed);
        let arch = Architecture {
            input_dims: 5,
            lstm1_units: 6,
            lstm2_units: 4,
            dense_units: vec![3],
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
    /// starts afresh; with and without causal mean pooling and speaker normalisation.
    #[test]
    fn steps_equal_batched_forward() {
        steps_equal_batched_forward_with(false, SpeakerNorm::Off, 1);
        steps_equal_batched_forward_with(true, SpeakerNorm::Off, 1);
        steps_equal_batched_forward_with(false, SpeakerNorm::MeanStd, 1);
        steps_equal_batched_forward_with(true, SpeakerNorm::Off, 3);
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

    fn steps_equal_batched_forward_with(mean_pooling: bool, speaker_norm: SpeakerNorm, members: usize) {
        let (vs, net, arch) = built_members(7, mean_pooling, members);
        let norm = NormStats {
            mean: vec![0.5, -1.0, 2.0, 0.0, 3.0],
            std: vec![1.0, 2.0, 0.5, 1.5, 4.0],
            frames: 1,
            running_prior_frames: 20.0,
            speaker_norm,
            session_prior_frames: 10.0,
            level: None,
        };
        let weights = StreamWeights::new(&vs, &net, &arch, norm.clone()).unwrap();
        let frames = 40;
        let raw = Tensor::randn([frames, 5], (Kind::Float, Device::Cpu)) * 3.0;
        let raw_vec = Vec::<f32>::try_from(raw.flatten(0, -1)).unwrap();
        let mut normalised = raw_vec.clone();
        norm.apply_sequence_in_place(&mut normalised);
        let batched =
            tch::no_grad(|| net.probabilities(&Tensor::from_slice(&normalised).view([1, frames, 5])));
        let batched = Vec::<f32>::try_from(batched.flatten(0, -1)).unwrap();
        let mut state = StreamState::new(&weights);
        for pass in 0..2 {
            for (t, frame) in raw_vec.chunks(5).enumerate() {
                let probs = state.step_with(&weights, frame).unwrap();
                for (k, p) in probs.iter().enumerate() {
                    let expected = batched[t * 7 + k];
                    assert!(
                        (p - expected).abs() < 1e-5,
                        "pass {pass} frame {t} class {k}: {p} vs {expected}"
                    );
                }
            }
            assert_eq!(state.frames(), frames as u64);
            state.reset_session().unwrap();
        }
    }
}
