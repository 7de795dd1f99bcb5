//! Speaker-adversarial training (domain-adversarial training, Ganin and Lempitsky 2015):
//! a speaker classifier reads LSTM 2's outputs through a gradient-reversal layer. The
//! classifier learns to tell the training speakers apart; the reversed gradient pushes
//! the LSTMs towards outputs it cannot use, i.e. towards what speakers share. The
//! classifier is for training only and is not saved with the model.

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// The speaker classifier and its optimiser.
pub struct SpeakerAdversary {
    vs: nn::VarStore,
    head: nn::Linear,
    opt: nn::Optimizer,
    weight: f64,
}

impl SpeakerAdversary {
    /// A linear classifier from `hidden` units to `speakers` classes; `weight` scales the
    /// reversed gradient the LSTMs receive.
    pub fn new(
        hidden: usize,
        speakers: usize,
        weight: f64,
        learning_rate: f64,
        device: Device,
    ) -> Result<Self, tch::TchError> {
        let vs = nn::VarStore::new(device);
        let head = nn::linear(vs.root() / "speaker_head", hidden as i64, speakers as i64, Default::default());
        let opt = nn::adam(0.9, 0.999, 0.0).build(&vs, learning_rate)?;
        Ok(Self { vs, head, opt, weight })
    }

    /// Speaker cross-entropy over the frames where `mask` is 1. `hidden` is
    /// `[batch, frames, units]`, `speakers` the speaker index per utterance `[batch]`.
    pub fn loss(&self, hidden: &Tensor, speakers: &Tensor, mask: &Tensor) -> Result<Tensor, tch::TchError> {
        let size = hidden.size();
        let (b, t) = (size[0], size[1]);
        let logits = self.head.forward(&reverse_gradient(hidden, self.weight));
        let log_probs = logits.f_log_softmax(-1, Kind::Float)?;
        let index = speakers.f_view([b, 1, 1])?.f_expand([b, t, 1], false)?;
        let picked = log_probs.f_gather(2, &index, false)?.f_squeeze_dim(2)?;
        let frames = mask.f_sum(Kind::Float)?.f_clamp_min(1.0)?;
        picked.f_mul(mask)?.f_sum(Kind::Float)?.f_neg()?.f_div(&frames)
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

    /// The classifier's variables (for tests).
    pub fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }
}

/// Identity forward; the gradient flowing back is multiplied by `-weight`.
pub fn reverse_gradient(x: &Tensor, weight: f64) -> Tensor {
    // -w x + (1 + w) x == x, but only the first term carries a gradient.
    x * (-weight) + (x * (1.0 + weight)).detach()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reversal layer passes values unchanged and returns `-weight` times the
    /// gradient.
    #[test]
    fn reversal_is_identity_forward_and_negated_backward() {
        let x = Tensor::from_slice(&[1.0f32, -2.0, 3.0]).set_requires_grad(true);
        let y = reverse_gradient(&x, 0.5);
        assert_eq!(Vec::<f32>::try_from(&y).unwrap(), [1.0, -2.0, 3.0]);
        (y * Tensor::from_slice(&[1.0f32, 2.0, 4.0])).sum(Kind::Float).backward();
        assert_eq!(Vec::<f32>::try_from(x.grad()).unwrap(), [-0.5, -1.0, -2.0]);
    }

    /// Training the classifier alone on separable speakers lowers its loss, while the
    /// inputs it reads receive gradients pointing the other way.
    #[test]
    fn classifier_learns_and_inputs_get_reversed_gradients() {
        tch::manual_seed(1);
        let mut adversary = SpeakerAdversary::new(2, 2, 1.0, 0.05, Device::Cpu).unwrap();
        let hidden = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 0.1, 0.0, 1.0, 0.1, 1.0]).view([2, 2, 2]);
        let speakers = Tensor::from_slice(&[0i64, 1]);
        let mask = Tensor::ones([2, 2], (Kind::Float, Device::Cpu));
        let first = adversary.loss(&hidden, &speakers, &mask).unwrap().double_value(&[]);
        for _ in 0..50 {
            adversary.zero_grad();
            adversary.loss(&hidden, &speakers, &mask).unwrap().backward();
            adversary.step();
        }
        let last = adversary.loss(&hidden, &speakers, &mask).unwrap().double_value(&[]);
        assert!(last < first * 0.5, "speaker loss {first} -> {last}");

        // Moving the inputs along their (reversed) gradient raises the speaker loss.
        let h = hidden.copy().set_requires_grad(true);
        adversary.loss(&h, &speakers, &mask).unwrap().backward();
        let moved = &hidden - h.grad() * 0.5;
        let after = adversary.loss(&moved, &speakers, &mask).unwrap().double_value(&[]);
        assert!(after > last, "speaker loss {last} -> {after} after a reversed step");
        assert_eq!(adversary.var_store().trainable_variables().len(), 2);
    }
}
