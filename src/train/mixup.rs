//! Mixup between the utterances of a batch (Zhang et al. 2018): each input becomes
//! `lambda * own + (1 - lambda) * partner`, frame by frame, and the loss is the same mix
//! of the two labels' losses. The model sees voices and emotions blended, which
//! penalises decisions that hang on one speaker's traits.
//!
//! `lambda ~ Beta(alpha, alpha)`, folded to `>= 0.5` so every input stays mostly its own
//! utterance: its frame weights (warm-up, padding, class balance) apply to both terms.

use tch::Tensor;

use super::batch::{Batch, frame_loss};
use crate::data::Rng;
use crate::model::EmotionNet;

/// Training loss and frame accuracy (against the inputs' own labels) of `net` on `batch`
/// mixed with a shuffled copy of itself.
pub fn mixed_frame_loss(
    net: &EmotionNet,
    batch: &Batch,
    alpha: f64,
    rng: &mut Rng,
) -> Result<(Tensor, Tensor), tch::TchError> {
    let lambda = mix_weight(alpha, rng);
    let b = batch.targets.size()[0];
    let mut order: Vec<i64> = (0..b).collect();
    rng.shuffle(&mut order);
    let partner = Tensor::f_from_slice(&order)?.f_to_device(batch.inputs.device())?;
    let inputs = batch
        .inputs
        .f_mul_scalar(lambda)?
        .f_add(&batch.inputs.f_index_select(0, &partner)?.f_mul_scalar(1.0 - lambda)?)?;
    let logits = net.forward_t(&inputs, true);
    let (own_loss, accuracy) = frame_loss(&logits, batch)?;
    let partner_labels = Batch {
        inputs: inputs.shallow_clone(),
        targets: batch.targets.f_index_select(0, &partner)?,
        weights: batch.weights.shallow_clone(),
        mask: batch.mask.shallow_clone(),
    };
    let (partner_loss, _) = frame_loss(&logits, &partner_labels)?;
    let loss = own_loss.f_mul_scalar(lambda)?.f_add(&partner_loss.f_mul_scalar(1.0 - lambda)?)?;
    Ok((loss, accuracy))
}

/// A draw of `Beta(alpha, alpha)` folded into [0.5, 1].
fn mix_weight(alpha: f64, rng: &mut Rng) -> f64 {
    let lambda = rng.beta(alpha, alpha);
    lambda.max(1.0 - lambda)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Architecture;
    use tch::{Device, Kind, nn};

    fn batch(inputs: &[f32], targets: &[i64]) -> Batch {
        let b = targets.len() as i64;
        let t = inputs.len() as i64 / (b * 2);
        Batch {
            inputs: Tensor::from_slice(inputs).view([b, t, 2]),
            targets: Tensor::from_slice(targets),
            weights: Tensor::ones([b, t], (Kind::Float, Device::Cpu)),
            mask: Tensor::ones([b, t], (Kind::Float, Device::Cpu)),
        }
    }

    /// With two copies of one utterance in a batch, mixing changes nothing: the loss is
    /// the plain frame loss (dropout off via a zero-dropout network).
    #[test]
    fn mixing_identical_utterances_is_the_plain_loss() {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let arch = Architecture { dropout: 0.0, ..Architecture::default_for(2) };
        let net = EmotionNet::new(&vs.root(), &arch);
        let b = batch(&[0.5, -1.0, 0.25, 2.0, 0.5, -1.0, 0.25, 2.0], &[3, 3]);
        let (plain, _) = frame_loss(&net.forward_t(&b.inputs, true), &b).unwrap();
        let (mixed, _) = mixed_frame_loss(&net, &b, 0.4, &mut Rng::new(1)).unwrap();
        assert!((plain.double_value(&[]) - mixed.double_value(&[])).abs() < 1e-6);
    }

    /// Mixing two different utterances changes the loss from the plain one; the mixed
    /// loss is finite and its gradients reach the weights.
    #[test]
    fn mixed_loss_differs_and_has_gradients() {
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let arch = Architecture { dropout: 0.0, ..Architecture::default_for(2) };
        let net = EmotionNet::new(&vs.root(), &arch);
        let b = batch(&[3.0, -1.0, 2.0, 2.0, -2.0, 1.0, -0.5, -3.0], &[1, 5]);
        let (plain, _) = frame_loss(&net.forward_t(&b.inputs, true), &b).unwrap();
        let mut rng = Rng::new(7);
        let (mixed, _) = (0..8)
            .map(|_| mixed_frame_loss(&net, &b, 1.0, &mut rng).unwrap())
            .find(|(l, _)| (l.double_value(&[]) - plain.double_value(&[])).abs() > 1e-4)
            .expect("some draw pairs the two different utterances");
        assert!(mixed.double_value(&[]).is_finite());
        mixed.backward();
        let grads: f64 =
            vs.trainable_variables().iter().map(|v| v.grad().abs().sum(Kind::Float).double_value(&[])).sum();
        assert!(grads > 0.0);
    }

    /// The mix weight is a folded Beta draw: always in [0.5, 1].
    #[test]
    fn mix_weight_is_folded() {
        let mut rng = Rng::new(2);
        assert!((0..1000).map(|_| mix_weight(0.4, &mut rng)).all(|l| (0.5..=1.0).contains(&l)));
    }
}
