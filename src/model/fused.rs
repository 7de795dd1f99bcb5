//! The live step of a whole model (every ensemble member) written over its weights in
//! Rust, with faer's matrix-vector products, instead of one libtorch call per operation
//! per member.
//!
//! Why: one frame of the shipped three-network model is ~1.8 M multiply-adds over 7 MB
//! of weights, which is a few tens of µs of arithmetic; stepped member after member in
//! libtorch it cost ~400 µs, nearly all of it libtorch's fixed cost per operation
//! (66 operations a frame). Here a frame is one product for LSTM 1's input projection of
//! all members at once (they share their input: their `W_ih` are stacked into one
//! matrix), then per member one product for LSTM 1's recurrence, one for LSTM 2 (its
//! `W_ih` and `W_hh` side by side, applied to `[h1, h2]`) and one per dense layer, with
//! the gate nonlinearities in one vectorised loop per layer (`emotrace_matvec::lstm_cell`).
//! No tensors, no allocation: every buffer is sized in [`FusedState::new`].
//!
//! Exact: the same float32 arithmetic as libtorch's LSTM in another summation order (and
//! polynomial `exp` / `tanh` within 2e-7 of the exact values), so T steps equal the
//! batched forward within 1e-5 per probability (tested in `stream.rs` and
//! `tests/model_stream.rs`, `tests/shipped_model.rs`). Generic over the
//! member count and every layer size. The weights are copied out of the variable store
//! to the CPU, so the step runs on the CPU whatever device the model's tensors live on
//! (a single frame is far too small to gain from a GPU).

use tch::Tensor;

use super::Emotion;

/// A weight matrix, row-major `[rows, cols]`, as libtorch stores `weight` of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct RowMajor {
    /// `rows * cols` values, row after row.
    pub values: Vec<f32>,
    /// Output units.
    pub rows: usize,
    /// Input units.
    pub cols: usize,
}

impl RowMajor {
    /// Copies a 2-D float tensor (any device) into a row-major matrix.
    pub fn from_tensor(tensor: &Tensor) -> Result<Self, tch::TchError> {
        let size = tensor.size();
        let [rows, cols] = size[..] else {
            return Err(tch::TchError::Shape(format!("expected a matrix, got shape {size:?}")));
        };
        let values = vector_from_tensor(tensor)?;
        Ok(Self { values, rows: rows as usize, cols: cols as usize })
    }

    /// Stacks matrices of the same width one under the other.
    fn stacked(parts: &[Self]) -> Self {
        let cols = parts.first().map_or(0, |p| p.cols);
        debug_assert!(parts.iter().all(|p| p.cols == cols));
        Self {
            values: parts.iter().flat_map(|p| p.values.iter().copied()).collect(),
            rows: parts.iter().map(|p| p.rows).sum(),
            cols,
        }
    }

    /// `[left | right]`: matrices of the same height side by side.
    fn side_by_side(left: &Self, right: &Self) -> Self {
        debug_assert_eq!(left.rows, right.rows);
        let values = left
            .values
            .chunks_exact(left.cols.max(1))
            .zip(right.values.chunks_exact(right.cols.max(1)))
            .flat_map(|(l, r)| l.iter().chain(r).copied())
            .collect();
        Self { values, rows: left.rows, cols: left.cols + right.cols }
    }

    /// `out += self · x` (`x` has `cols` values, `out` has `rows`).
    fn multiply_add(&self, x: &[f32], out: &mut [f32]) {
        debug_assert_eq!((x.len(), out.len()), (self.cols, self.rows));
        emotrace_matvec::multiply_add(&self.values, x, out);
    }
}

/// A 1-D or 2-D float tensor's values, row-major, on the CPU.
pub fn vector_from_tensor(tensor: &Tensor) -> Result<Vec<f32>, tch::TchError> {
    let flat = tensor.f_detach()?.f_to_device(tch::Device::Cpu)?.f_contiguous()?.f_flatten(0, -1)?;
    Vec::<f32>::try_from(&flat)
}

/// One LSTM layer as libtorch holds it: `gates = W_ih x + b_ih + W_hh h + b_hh`, gates in
/// the order input, forget, cell, output.
#[derive(Debug, Clone)]
pub struct LstmLayer {
    /// `weight_ih_l0`, `[4 hidden, inputs]`.
    pub w_ih: RowMajor,
    /// `weight_hh_l0`, `[4 hidden, hidden]`.
    pub w_hh: RowMajor,
    /// `bias_ih_l0 + bias_hh_l0`, `4 hidden` values.
    pub bias: Vec<f32>,
}

/// A dense layer: `y = W x + b`.
#[derive(Debug, Clone)]
pub struct DenseLayer {
    /// `weight`, `[outputs, inputs]`.
    pub weight: RowMajor,
    /// `bias`, `outputs` values.
    pub bias: Vec<f32>,
}

/// One network of the model, as read from the variable store.
#[derive(Debug, Clone)]
pub struct MemberLayers {
    /// LSTM 1 (input -> `lstm1_units`).
    pub lstm1: LstmLayer,
    /// LSTM 2 (`lstm1_units` -> `lstm2_units`).
    pub lstm2: LstmLayer,
    /// Hidden dense layers (ReLU) and then the output layer (logits).
    pub linears: Vec<DenseLayer>,
}

/// One member's weights, arranged for [`FusedState::step`].
#[derive(Debug)]
struct FusedMember {
    /// LSTM 1's `W_hh`.
    lstm1_hh: RowMajor,
    /// LSTM 2's `[W_ih | W_hh]`, applied to `[h1, h2]`.
    lstm2: RowMajor,
    lstm2_bias: Vec<f32>,
    linears: Vec<DenseLayer>,
}

/// Every member's weights arranged for the fused step (CPU copies).
#[derive(Debug)]
pub struct FusedWeights {
    /// Every member's LSTM 1 `W_ih`, stacked: `[members * 4 lstm1_units, input_dims]`.
    lstm1_ih: RowMajor,
    /// Every member's LSTM 1 bias, stacked like `lstm1_ih`'s rows.
    lstm1_bias: Vec<f32>,
    members: Vec<FusedMember>,
    lstm1_units: usize,
    lstm2_units: usize,
    mean_pooling: bool,
}

impl FusedWeights {
    /// Arranges the members' layers. Every member must have the same shape (an ensemble
    /// is K networks of one architecture) and at least one member must be given.
    pub fn new(members: Vec<MemberLayers>, mean_pooling: bool) -> Result<Self, String> {
        let first = members.first().ok_or("a model has at least one member")?;
        let (lstm1_units, lstm2_units) = (first.lstm1.w_hh.cols, first.lstm2.w_hh.cols);
        let shape = |m: &MemberLayers| {
            let linears: Vec<(usize, usize)> =
                m.linears.iter().map(|l| (l.weight.rows, l.weight.cols)).collect();
            (
                m.lstm1.w_ih.rows,
                m.lstm1.w_ih.cols,
                m.lstm1.w_hh.cols,
                m.lstm2.w_ih.cols,
                m.lstm2.w_hh.cols,
                linears,
            )
        };
        if members.iter().any(|m| shape(m) != shape(first)) {
            return Err("ensemble members differ in shape".into());
        }
        let pooled = if mean_pooling { 2 * lstm2_units } else { lstm2_units };
        let consistent = first.lstm1.w_ih.rows == 4 * lstm1_units
            && first.lstm1.w_hh.rows == 4 * lstm1_units
            && first.lstm1.bias.len() == 4 * lstm1_units
            && first.lstm2.w_ih.cols == lstm1_units
            && first.lstm2.w_ih.rows == 4 * lstm2_units
            && first.lstm2.w_hh.rows == 4 * lstm2_units
            && first.lstm2.bias.len() == 4 * lstm2_units
            && first.linears.last().is_some_and(|l| l.weight.rows == Emotion::COUNT)
            && first.linears.first().is_some_and(|l| l.weight.cols == pooled)
            && first.linears.windows(2).all(|w| w[0].weight.rows == w[1].weight.cols)
            && first.linears.iter().all(|l| l.bias.len() == l.weight.rows);
        if !consistent {
            return Err(format!("layer sizes do not chain (LSTM {lstm1_units}/{lstm2_units})"));
        }
        let lstm1_ih = RowMajor::stacked(&members.iter().map(|m| m.lstm1.w_ih.clone()).collect::<Vec<_>>());
        let lstm1_bias = members.iter().flat_map(|m| m.lstm1.bias.iter().copied()).collect();
        let members = members
            .into_iter()
            .map(|m| FusedMember {
                lstm1_hh: m.lstm1.w_hh,
                lstm2: RowMajor::side_by_side(&m.lstm2.w_ih, &m.lstm2.w_hh),
                lstm2_bias: m.lstm2.bias,
                linears: m.linears,
            })
            .collect();
        Ok(Self { lstm1_ih, lstm1_bias, members, lstm1_units, lstm2_units, mean_pooling })
    }

    /// Number of members.
    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// Values per input frame.
    pub fn input_dims(&self) -> usize {
        self.lstm1_ih.cols
    }

    /// Every weight matrix the step reads.
    fn matrices(&self) -> impl Iterator<Item = &RowMajor> {
        let per_member = self
            .members
            .iter()
            .flat_map(|m| [&m.lstm1_hh, &m.lstm2].into_iter().chain(m.linears.iter().map(|l| &l.weight)));
        std::iter::once(&self.lstm1_ih).chain(per_member)
    }

    /// Bytes of weights one step reads.
    pub fn weight_bytes(&self) -> usize {
        self.matrices().map(|m| m.values.len() * size_of::<f32>()).sum()
    }

    /// Reads every weight once (their sum): a step's memory traffic without its
    /// arithmetic, the floor `emotrace bench` sets beside the step.
    pub fn read_all(&self) -> f32 {
        self.matrices().map(|m| emotrace_matvec::sum(&m.values)).sum()
    }
}

/// The recurrent state of every member and every buffer a step writes.
#[derive(Debug, Clone)]
pub struct FusedState {
    /// LSTM 1's gates of every member (the shared input projection's output).
    gates1: Vec<f32>,
    members: Vec<MemberState>,
}

/// One member's state and buffers.
#[derive(Debug, Clone)]
struct MemberState {
    /// `[h1, h2]`: LSTM 1's output (the first `lstm1_units`) then LSTM 2's, as LSTM 2's
    /// product wants its input.
    h12: Vec<f32>,
    c1: Vec<f32>,
    c2: Vec<f32>,
    gates2: Vec<f32>,
    /// Sum of LSTM 2's outputs this utterance (mean pooling).
    pooled_sum: Vec<f32>,
    /// The first dense layer's input: `h2`, or `[h2, mean of h2]` with mean pooling.
    dense_in: Vec<f32>,
    /// Each linear layer's output.
    linear_out: Vec<Vec<f32>>,
}

impl FusedState {
    /// A zero state sized for `weights`.
    pub fn new(weights: &FusedWeights) -> Self {
        let (h1, h2) = (weights.lstm1_units, weights.lstm2_units);
        let member = |m: &FusedMember| MemberState {
            h12: vec![0.0; h1 + h2],
            c1: vec![0.0; h1],
            c2: vec![0.0; h2],
            gates2: vec![0.0; 4 * h2],
            pooled_sum: vec![0.0; if weights.mean_pooling { h2 } else { 0 }],
            dense_in: vec![0.0; if weights.mean_pooling { 2 * h2 } else { h2 }],
            linear_out: m.linears.iter().map(|l| vec![0.0; l.weight.rows]).collect(),
        };
        Self {
            gates1: vec![0.0; weights.lstm1_ih.rows],
            members: weights.members.iter().map(member).collect(),
        }
    }

    /// Zero state (a new utterance).
    pub fn reset(&mut self) {
        for m in &mut self.members {
            for buffer in [&mut m.h12, &mut m.c1, &mut m.c2, &mut m.pooled_sum] {
                buffer.fill(0.0);
            }
        }
    }

    /// Advances one normalised frame (`frames_before`: frames stepped this utterance) and
    /// returns the mean of the members' probabilities.
    ///
    /// # Panics
    /// If the state or the frame was not sized for `weights` (the caller checks both).
    pub fn step(
        &mut self,
        weights: &FusedWeights,
        input: &[f32],
        frames_before: u64,
    ) -> [f32; Emotion::COUNT] {
        let (h1, h2) = (weights.lstm1_units, weights.lstm2_units);
        self.gates1.copy_from_slice(&weights.lstm1_bias);
        weights.lstm1_ih.multiply_add(input, &mut self.gates1);
        let mut mean = [0.0f32; Emotion::COUNT];
        let share = 1.0 / weights.members.len() as f32;
        for ((w, state), gates1) in
            weights.members.iter().zip(&mut self.members).zip(self.gates1.chunks_exact_mut(4 * h1))
        {
            let (h1_out, _) = state.h12.split_at_mut(h1);
            w.lstm1_hh.multiply_add(h1_out, gates1);
            emotrace_matvec::lstm_cell(gates1, &mut state.c1, h1_out);
            state.gates2.copy_from_slice(&w.lstm2_bias);
            w.lstm2.multiply_add(&state.h12, &mut state.gates2);
            emotrace_matvec::lstm_cell(&state.gates2, &mut state.c2, &mut state.h12[h1..]);
            let h2_out = &state.h12[h1..];
            state.dense_in[..h2].copy_from_slice(h2_out);
            if weights.mean_pooling {
                let scale = 1.0 / (frames_before + 1) as f32;
                for ((sum, &h), mean) in
                    state.pooled_sum.iter_mut().zip(h2_out).zip(&mut state.dense_in[h2..])
                {
                    *sum += h;
                    *mean = *sum * scale;
                }
            }
            let mut previous: &[f32] = &state.dense_in;
            let last = w.linears.len() - 1;
            for (i, (layer, out)) in w.linears.iter().zip(&mut state.linear_out).enumerate() {
                out.copy_from_slice(&layer.bias);
                layer.weight.multiply_add(previous, out);
                if i < last {
                    out.iter_mut().for_each(|v| *v = v.max(0.0));
                }
                previous = out;
            }
            let mut logits = [0.0f32; Emotion::COUNT];
            logits.copy_from_slice(previous);
            for (m, p) in mean.iter_mut().zip(super::stream::softmax(&logits)) {
                *m += p * share;
            }
        }
        mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[a | b]` and stacking keep each row's values in place.
    #[test]
    fn matrices_are_joined_row_by_row() {
        let a = RowMajor { values: vec![1.0, 2.0, 3.0, 4.0], rows: 2, cols: 2 };
        let b = RowMajor { values: vec![5.0, 6.0], rows: 2, cols: 1 };
        let joined = RowMajor::side_by_side(&a, &b);
        assert_eq!((joined.rows, joined.cols), (2, 3));
        assert_eq!(joined.values, [1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
        let stacked = RowMajor::stacked(&[a.clone(), a]);
        assert_eq!((stacked.rows, stacked.cols), (4, 2));
        let mut out = vec![1.0; 2];
        joined.multiply_add(&[1.0, 1.0, 2.0], &mut out);
        assert_eq!(out, [14.0, 20.0]);
    }
}
