//! The former live step, kept as a reference: each member stepped after the other with
//! libtorch operations (nine per LSTM layer, two or three per dense layer).
//!
//! `emotrace bench` times it beside the fused step ([`super::fused`]) in the same run;
//! tests check the two agree. The LSTM cells are written out with libtorch `_out` /
//! in-place ops on tensors sized once in [`TorchStepState::new`] (state, gates and their
//! views, layer outputs), so a step allocates no tensor storage of its own and nothing on
//! the Rust heap; libtorch still creates a small handle per op and one 1-D input tensor
//! per frame. Runs under `no_grad` (the caller's guard).

use tch::{Device, Kind, Tensor};

use super::Emotion;

/// One LSTM layer's weights for stepping: `gates = bias + W_ih x + W_hh h`.
#[derive(Debug)]
pub(super) struct CellWeights {
    pub(super) w_ih: Tensor,
    pub(super) w_hh: Tensor,
    /// `b_ih + b_hh`.
    pub(super) bias: Tensor,
    pub(super) hidden: i64,
}

/// One member's weights, arranged for one-frame steps.
#[derive(Debug)]
pub(super) struct MemberWeights {
    pub(super) cells: [CellWeights; 2],
    /// Hidden dense layers then the head: (weight `[out, in]`, bias `[out]`).
    pub(super) linears: Vec<(Tensor, Tensor)>,
}

/// Every member's weights as libtorch tensors (sharing the variable store's storage).
#[derive(Debug)]
pub struct TorchStepWeights {
    pub(super) members: Vec<MemberWeights>,
    pub(super) mean_pooling: bool,
    pub(super) device: Device,
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

/// Every member's recurrent state as libtorch tensors.
#[derive(Debug)]
pub struct TorchStepState {
    members: Vec<MemberState>,
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
    fn new(weights: &TorchStepWeights, member: &MemberWeights) -> Self {
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
        weights: &TorchStepWeights,
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

impl TorchStepState {
    /// A zero state sized for `weights` (call under `no_grad`).
    pub fn new(weights: &TorchStepWeights) -> Self {
        Self { members: weights.members.iter().map(|m| MemberState::new(weights, m)).collect() }
    }

    /// Zero state (a new utterance).
    pub fn reset(&mut self) -> Result<(), tch::TchError> {
        self.members.iter_mut().try_for_each(MemberState::reset)
    }

    /// Advances one normalised frame (`frames_before`: frames stepped this utterance) and
    /// returns the mean of the members' probabilities.
    pub fn step(
        &mut self,
        weights: &TorchStepWeights,
        normalised: &[f32],
        frames_before: u64,
    ) -> Result<[f32; Emotion::COUNT], tch::TchError> {
        let mut input = Tensor::f_from_slice(normalised)?;
        if weights.device != Device::Cpu {
            input = input.f_to_device(weights.device)?;
        }
        let mut mean = [0.0f32; Emotion::COUNT];
        let share = 1.0 / self.members.len() as f32;
        for (state, member) in self.members.iter_mut().zip(&weights.members) {
            state.step(weights, member, &input, frames_before)?;
            for (m, p) in mean.iter_mut().zip(super::stream::softmax(&state.logits)) {
                *m += p * share;
            }
        }
        Ok(mean)
    }
}
