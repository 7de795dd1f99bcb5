//! The network: features -> LSTM 1 -> dropout -> LSTM 2 -> dropout -> [causal mean
//! pooling] -> dense (ReLU)... -> logits over the seven classes. One builder for training
//! and inference.
//!
//! A model may hold several members of that shape, trained independently (different
//! seeds): its probabilities are the mean of theirs (an ensemble).
//!
//! Inputs are normalised features `[batch, frames, input_dims]`; the output has a logit
//! vector for every frame (the LSTMs are causal, so frame `t` depends on frames `0..=t`
//! only, and padding after a sequence's end does not change its outputs).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, RNN};
use tch::{Kind, Tensor};

use super::Emotion;

/// Layer sizes and dropout; saved in the model card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Values per input frame (the feature config's `frame_dim`).
    pub input_dims: usize,
    /// Hidden units of the first LSTM (128-256 in the paper).
    pub lstm1_units: usize,
    /// Hidden units of the second LSTM (64-128 in the paper).
    pub lstm2_units: usize,
    /// Hidden dense layers (ReLU) between LSTM 2 and the output layer, units each.
    pub dense_units: Vec<usize>,
    /// Dropout probability after each LSTM and dense layer during training, 0-1.
    pub dropout: f64,
    /// Output classes; always 7 (the [`Emotion`] order).
    pub classes: usize,
    /// Causal mean pooling: the dense layers see LSTM 2's output at frame `t` next to the
    /// mean of its outputs over frames `0..=t` of the utterance (utterance-level context
    /// that stays streamable). Off in models from before it existed.
    #[serde(default)]
    pub mean_pooling: bool,
    /// Members of this shape whose probabilities are averaged (1: a single network, as
    /// in models from before ensembles existed).
    #[serde(default = "one_member")]
    pub members: usize,
}

fn one_member() -> usize {
    1
}

/// Most units (or input values) any one layer may have. A card stating more is corrupt:
/// building it would try to allocate gigabytes before the weights could be checked.
pub const MAX_LAYER_UNITS: usize = 8_192;
/// Most hidden dense layers.
pub const MAX_DENSE_LAYERS: usize = 16;
/// Most ensemble members.
pub const MAX_MEMBERS: usize = 16;
/// Most trainable parameters (400 MB of f32).
pub const MAX_PARAMETERS: usize = 100_000_000;

impl Architecture {
    /// The paper's shape at its smaller end, for `input_dims` features.
    pub fn default_for(input_dims: usize) -> Self {
        Self {
            input_dims,
            lstm1_units: 128,
            lstm2_units: 64,
            dense_units: vec![64],
            dropout: 0.3,
            classes: Emotion::COUNT,
            mean_pooling: false,
            members: 1,
        }
    }

    /// Checks sizes are usable; the error says which field is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.input_dims == 0 || self.lstm1_units == 0 || self.lstm2_units == 0 {
            return Err("input_dims, lstm1_units and lstm2_units must be positive".into());
        }
        if self.dense_units.contains(&0) {
            return Err("dense_units must be positive".into());
        }
        if !(1..=MAX_MEMBERS).contains(&self.members) {
            return Err(format!("members is {}, must be 1 to {MAX_MEMBERS}", self.members));
        }
        // NOTE: before any size arithmetic: a huge class count used to overflow
        // `parameter_count` (found by tests/fuzz_model_file.rs).
        if self.classes != Emotion::COUNT {
            return Err(format!("classes is {}, emotrace has {}", self.classes, Emotion::COUNT));
        }
        let widest = [self.input_dims, self.lstm1_units, self.lstm2_units]
            .into_iter()
            .chain(self.dense_units.iter().copied())
            .max()
            .unwrap_or(0);
        if widest > MAX_LAYER_UNITS || self.dense_units.len() > MAX_DENSE_LAYERS {
            return Err(format!(
                "a layer of {widest} units or {} dense layers is beyond this build's limits \
                 ({MAX_LAYER_UNITS} units, {MAX_DENSE_LAYERS} dense layers)",
                self.dense_units.len()
            ));
        }
        if self.parameter_count() > MAX_PARAMETERS {
            return Err(format!(
                "{} parameters is beyond this build's limit of {MAX_PARAMETERS}",
                self.parameter_count()
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout {} must be in [0, 1)", self.dropout));
        }
        Ok(())
    }

    /// Width of the first dense (or output) layer's input.
    pub fn dense_input_units(&self) -> usize {
        if self.mean_pooling { 2 * self.lstm2_units } else { self.lstm2_units }
    }

    /// Number of trainable parameters (saturating at `usize::MAX` for absurd sizes).
    pub fn parameter_count(&self) -> usize {
        let lstm = |input: usize, hidden: usize| {
            hidden
                .saturating_mul(input.saturating_add(hidden))
                .saturating_mul(4)
                .saturating_add(hidden.saturating_mul(8))
        };
        let mut total =
            lstm(self.input_dims, self.lstm1_units).saturating_add(lstm(self.lstm1_units, self.lstm2_units));
        let mut width = self.dense_input_units();
        for &units in self.dense_units.iter().chain(std::iter::once(&self.classes)) {
            total = total.saturating_add(width.saturating_mul(units).saturating_add(units));
            width = units;
        }
        total.saturating_mul(self.members.max(1))
    }
}

/// Variable names in the weights file (and the VarStore).
pub mod names {
    /// First LSTM's prefix.
    pub const LSTM1: &str = "lstm1";
    /// Second LSTM's prefix.
    pub const LSTM2: &str = "lstm2";
    /// Prefix of hidden dense layer `i`: `dense{i}`.
    pub fn dense(i: usize) -> String {
        format!("dense{i}")
    }
    /// Output layer's prefix.
    pub const HEAD: &str = "head";
    /// Prefix of every variable of member `i` of an ensemble (`member{i}.`); a single
    /// network's variables have none.
    pub fn member(i: usize, members: usize) -> String {
        if members > 1 { format!("member{i}.") } else { String::new() }
    }
}

/// The built network (one or more members); its variables live in the `VarStore` it was
/// built in.
#[derive(Debug)]
pub struct EmotionNet {
    members: Vec<MemberNet>,
}

/// One member: LSTM 1 -> dropout -> LSTM 2 -> dropout -> [mean pooling] -> dense -> head.
#[derive(Debug)]
pub struct MemberNet {
    lstm1: nn::LSTM,
    lstm2: nn::LSTM,
    dense: Vec<nn::Linear>,
    head: nn::Linear,
    dropout: f64,
    mean_pooling: bool,
}

impl EmotionNet {
    /// Creates the variables under `root` (fresh, seeded by `tch::manual_seed`); member
    /// `i` of an ensemble under `member{i}`.
    pub fn new(root: &nn::Path<'_>, arch: &Architecture) -> Self {
        let members = if arch.members > 1 {
            (0..arch.members).map(|i| MemberNet::new(&(root / format!("member{i}")), arch)).collect()
        } else {
            vec![MemberNet::new(root, arch)]
        };
        Self { members }
    }

    /// Per-frame logits `[batch, frames, classes]` of normalised inputs `[batch, frames, dims]`.
    /// `train` turns dropout on. For an ensemble, the log of the mean of the members'
    /// probabilities (so its softmax is the ensemble's probabilities).
    pub fn forward_t(&self, input: &Tensor, train: bool) -> Tensor {
        match self.members.as_slice() {
            [single] => single.forward_t(input, train),
            _ => self.probabilities_t(input, train).log(),
        }
    }

    /// Per-frame probabilities `[batch, frames, classes]` (inference: no dropout).
    pub fn probabilities(&self, input: &Tensor) -> Tensor {
        self.probabilities_t(input, false)
    }

    fn probabilities_t(&self, input: &Tensor, train: bool) -> Tensor {
        let mut sum = self.members[0].forward_t(input, train).softmax(-1, Kind::Float);
        for member in &self.members[1..] {
            sum += member.forward_t(input, train).softmax(-1, Kind::Float);
        }
        sum / self.members.len() as f64
    }

    /// The members, in order.
    pub fn members(&self) -> &[MemberNet] {
        &self.members
    }
}

impl MemberNet {
    fn new(root: &nn::Path<'_>, arch: &Architecture) -> Self {
        let cfg = nn::RNNConfig { batch_first: true, ..Default::default() };
        let lstm1 = nn::lstm(root / names::LSTM1, arch.input_dims as i64, arch.lstm1_units as i64, cfg);
        let lstm2 = nn::lstm(root / names::LSTM2, arch.lstm1_units as i64, arch.lstm2_units as i64, cfg);
        let mut dense = Vec::with_capacity(arch.dense_units.len());
        let mut width = arch.dense_input_units() as i64;
        for (i, &units) in arch.dense_units.iter().enumerate() {
            dense.push(nn::linear(root / names::dense(i), width, units as i64, Default::default()));
            width = units as i64;
        }
        let head = nn::linear(root / names::HEAD, width, arch.classes as i64, Default::default());
        Self { lstm1, lstm2, dense, head, dropout: arch.dropout, mean_pooling: arch.mean_pooling }
    }

    fn forward_t(&self, input: &Tensor, train: bool) -> Tensor {
        self.classify_t(&self.encode_t(input, train), train)
    }

    /// LSTM 2's outputs `[batch, frames, lstm2_units]` for normalised inputs.
    pub fn encode_t(&self, input: &Tensor, train: bool) -> Tensor {
        let (h1, _) = self.lstm1.seq(input);
        let h1 = h1.dropout(self.dropout, train);
        let (h2, _) = self.lstm2.seq(&h1);
        h2
    }

    /// Per-frame logits from LSTM 2's outputs (what [`Self::encode_t`] returns).
    pub fn classify_t(&self, h2: &Tensor, train: bool) -> Tensor {
        let mut x = h2.dropout(self.dropout, train);
        if self.mean_pooling {
            x = with_running_mean(&x);
        }
        for layer in &self.dense {
            x = layer.forward(&x).relu().dropout(self.dropout, train);
        }
        self.head.forward(&x)
    }

    /// The hidden dense layers, in order.
    pub fn dense_layers(&self) -> &[nn::Linear] {
        &self.dense
    }

    /// The output layer.
    pub fn head(&self) -> &nn::Linear {
        &self.head
    }
}

/// `[batch, frames, h]` -> `[batch, frames, 2h]`: each frame followed by the mean of the
/// frames up to and including it (padding comes after a sequence, so it never leaks in).
fn with_running_mean(x: &Tensor) -> Tensor {
    let frames = x.size()[1];
    let counts = Tensor::arange_start(1, frames + 1, (Kind::Float, x.device())).view([1, frames, 1]);
    let mean = x.cumsum(1, Kind::Float) / counts;
    Tensor::cat(&[x, &mean], 2)
}
