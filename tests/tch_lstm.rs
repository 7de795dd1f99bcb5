//! libtorch really loads and runs: a small two-layer LSTM on the CPU.

use tch::nn::{self, Module, RNN};
use tch::{Device, Kind, Tensor};

const FEATURES: i64 = 12;
const HIDDEN: i64 = 16;
const FRAMES: i64 = 25;
const BATCH: i64 = 3;

fn run_once(seed: i64) -> Tensor {
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let config = nn::RNNConfig { num_layers: 2, batch_first: true, ..Default::default() };
    let lstm = nn::lstm(vs.root() / "lstm", FEATURES, HIDDEN, config);
    let head = nn::linear(vs.root() / "head", HIDDEN, 7, Default::default());
    let input = Tensor::randn([BATCH, FRAMES, FEATURES], (Kind::Float, Device::Cpu));
    let (output, _) = lstm.seq(&input);
    head.forward(&output).softmax(-1, Kind::Float)
}

/// A seeded two-layer LSTM gives [batch, frames, classes] probabilities that sum to one,
/// and the same seed gives bit-identical output on a second run.
#[test]
fn seeded_two_layer_lstm_is_shaped_and_repeatable() {
    let first = run_once(42);
    assert_eq!(first.size(), vec![BATCH, FRAMES, 7]);
    let sums = first.sum_dim_intlist(-1, false, Kind::Float);
    let max_err = (sums - 1.0).abs().max().double_value(&[]);
    assert!(max_err < 1e-5, "probabilities sum to 1 within 1e-5, error {max_err}");

    let second = run_once(42);
    assert!(first.equal(&second), "same seed, same output");

    let other = run_once(7);
    assert!(!first.equal(&other), "a different seed changes the weights");
}
