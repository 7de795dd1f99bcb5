//! Corpus-adversarial training (domain-adversarial training, Ganin and Lempitsky 2015):
//! a small classifier reads LSTM 2's outputs through a gradient-reversal layer and learns
//! which training corpus each frame comes from; the reversed gradient pushes the LSTMs
//! towards outputs it cannot use, i.e. towards what the corpora (their languages, rooms
//! and microphones) share. The classifier is for training only: it is not saved with the
//! model, and a resumed run starts it afresh.

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Tensor};

use super::batch::target_loss;

/// Units of the classifier's hidden layer.
const HIDDEN_UNITS: i64 = 64;

/// The corpus classifier and its optimiser.
pub struct CorpusAdversary {
    /// Owns the classifier's variables (the layers below hold references into it).
    _store: nn::VarStore,
    hidden: nn::Linear,
    head: nn::Linear,
    opt: nn::Optimizer,
}

impl CorpusAdversary {
    /// A classifier from `units` (LSTM 2's) through one hidden layer to `corpora` classes.
    pub fn new(
        units: usize,
        corpora: usize,
        learning_rate: f64,
        device: Device,
    ) -> Result<Self, tch::TchError> {
        let vs = nn::VarStore::new(device);
        let root = vs.root() / "corpus_adversary";
        let hidden = nn::linear(&root / "hidden", units as i64, HIDDEN_UNITS, Default::default());
        let head = nn::linear(&root / "head", HIDDEN_UNITS, corpora as i64, Default::default());
        let opt = nn::adam(0.9, 0.999, 0.0).build(&vs, learning_rate)?;
        Ok(Self { _store: vs, hidden, head, opt })
    }

    /// Corpus cross-entropy over the frames where `mask` is 1, with the gradient into
    /// `encoded` (`[batch, frames, units]`) reversed and scaled by `weight`, and the share
    /// of those frames whose corpus it tells right. `corpora` holds each utterance's
    /// corpus index `[batch]`.
    pub fn loss(
        &self,
        encoded: &Tensor,
        corpora: &Tensor,
        mask: &Tensor,
        weight: f64,
    ) -> Result<(Tensor, Tensor), tch::TchError> {
        let x = self.hidden.forward(&reverse_gradient(encoded, weight)).f_relu()?;
        target_loss(&self.head.forward(&x), corpora, mask, mask)
    }

    /// Clears the classifier's gradients (before a backward pass).
    pub fn zero_grad(&mut self) {
        self.opt.zero_grad();
    }

    /// Sets the classifier's learning rate (the network's, every epoch).
    pub fn set_lr(&mut self, learning_rate: f64) {
        self.opt.set_lr(learning_rate);
    }

    /// Updates the classifier (after a backward pass).
    pub fn step(&mut self) {
        self.opt.step();
    }
}

/// Ganin and Lempitsky's schedule: the reversed gradient's scale rises from 0 at the
/// start of training to `weight` at the end (`2 / (1 + e^(-10 p)) - 1` of it, `p` the
/// share of training done), so the classifier learns before the LSTMs are pushed.
pub fn ramped_weight(weight: f64, epoch: usize, epochs: usize) -> f64 {
    let progress = epoch as f64 / epochs.max(1) as f64;
    weight * (2.0 / (1.0 + (-10.0 * progress).exp()) - 1.0)
}

/// Identity forward; the gradient flowing back is multiplied by `-weight`.
fn reverse_gradient(x: &Tensor, weight: f64) -> Tensor {
    // -w x + (1 + w) x == x, but only the first term carries a gradient.
    x * (-weight) + (x * (1.0 + weight)).detach()
}

#[cfg(test)]
mod tests {
    use tch::Kind;

    use super::*;

    /// The reversal layer passes values unchanged and returns `-weight` times the gradient.
    #[test]
    fn reversal_is_identity_forward_and_negated_backward() {
        let x = Tensor::from_slice(&[1.0f32, -2.0, 3.0]).set_requires_grad(true);
        let y = reverse_gradient(&x, 0.5);
        assert_eq!(Vec::<f32>::try_from(&y).unwrap(), [1.0, -2.0, 3.0]);
        (y * Tensor::from_slice(&[1.0f32, 2.0, 4.0])).sum(Kind::Float).backward();
        assert_eq!(Vec::<f32>::try_from(x.grad()).unwrap(), [-0.5, -1.0, -2.0]);
    }

    /// The schedule starts at 0, ends near the full weight and never passes it.
    #[test]
    fn ramp_rises_from_zero_to_the_weight() {
        assert_eq!(ramped_weight(0.5, 0, 20), 0.0);
        assert!((ramped_weight(0.5, 20, 20) - 0.5).abs() < 1e-4);
        let steps: Vec<f64> = (0..=20).map(|e| ramped_weight(0.5, e, 20)).collect();
        assert!(steps.windows(2).all(|w| w[0] < w[1] && w[1] <= 0.5), "{steps:?}");
    }

    /// Training the classifier on separable corpora lowers its loss, while the inputs it
    /// reads receive gradients that, followed, make the corpora harder to tell apart.
    #[test]
    fn classifier_learns_and_inputs_get_reversed_gradients() {
        tch::manual_seed(1);
        let mut adversary = CorpusAdversary::new(2, 2, 0.02, Device::Cpu).unwrap();
        let encoded = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 0.1, 0.0, 1.0, 0.1, 1.0]).view([2, 2, 2]);
        let corpora = Tensor::from_slice(&[0i64, 1]);
        let mask = Tensor::ones([2, 2], (Kind::Float, Device::Cpu));
        let loss = |a: &CorpusAdversary, x: &Tensor| a.loss(x, &corpora, &mask, 1.0).unwrap().0;
        let first = loss(&adversary, &encoded).double_value(&[]);
        for _ in 0..30 {
            adversary.zero_grad();
            loss(&adversary, &encoded).backward();
            adversary.step();
        }
        let last = loss(&adversary, &encoded).double_value(&[]);
        assert!(last < first * 0.5, "corpus loss {first} -> {last}");
        let (_, accuracy) = adversary.loss(&encoded, &corpora, &mask, 1.0).unwrap();
        assert_eq!(accuracy.double_value(&[]), 1.0, "separable corpora told apart");

        // A step along the (reversed) gradient the inputs receive raises the corpus loss.
        let x = encoded.copy().set_requires_grad(true);
        loss(&adversary, &x).backward();
        let step = x.grad() / x.grad().norm().double_value(&[]);
        let moved = &encoded - step * 0.5;
        let after = loss(&adversary, &moved).double_value(&[]);
        assert!(after > last, "corpus loss {last} -> {after} after a reversed step");
    }
}
