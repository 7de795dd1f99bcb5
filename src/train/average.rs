//! Weight averaging over the last epochs (stochastic weight averaging, Izmailov et al.
//! 2018): the mean of the weights after each of the last epochs usually generalises
//! better than any one of them, and it spares choosing one epoch on a small, noisy
//! validation set. The network has no batch statistics, so the average is used as is.

use crate::model::{EmotionModel, ModelError};

/// Folds `model`'s weights into `average`, which holds the mean of `count` earlier
/// weight sets: `average += (model - average) / (count + 1)`.
pub fn add_to_average(
    average: &mut EmotionModel,
    model: &EmotionModel,
    count: usize,
) -> Result<(), ModelError> {
    let torch = |source| ModelError::Torch { path: average.path().to_owned(), source };
    let weight = 1.0 / (count as f64 + 1.0);
    let current = model.var_store().variables();
    tch::no_grad(|| -> Result<(), tch::TchError> {
        for (name, mut mean) in average.var_store().variables() {
            let Some(value) = current.get(&name) else {
                return Err(tch::TchError::Torch(format!("variable {name} missing from the model")));
            };
            let step = value.f_sub(&mean)?.f_mul_scalar(weight)?;
            let _ = mean.f_add_(&step)?;
        }
        Ok(())
    })
    .map_err(torch)?;
    average.refresh_stream()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::NormStats;
    use crate::features::FeatureConfig;
    use crate::model::{Architecture, ComputeDevice, ModelCard, Preprocess};

    fn tiny(seed: i64) -> EmotionModel {
        tch::manual_seed(seed);
        let features = FeatureConfig::default();
        let dims = features.frame_dim();
        let arch = Architecture {
            lstm1_units: 4,
            lstm2_units: 3,
            dense_units: vec![],
            ..Architecture::default_for(dims)
        };
        let card = ModelCard::new("t", features, Preprocess::default(), NormStats::identity(dims), arch);
        EmotionModel::build(card, ComputeDevice { device: tch::Device::Cpu }).unwrap()
    }

    /// After adding three models the average holds their elementwise mean.
    #[test]
    fn average_is_the_elementwise_mean() {
        let models = [tiny(1), tiny(2), tiny(3)];
        let mut average = tiny(4);
        for (count, m) in models.iter().enumerate() {
            add_to_average(&mut average, m, count).unwrap();
        }
        let vars: Vec<_> = models.iter().map(|m| m.var_store().variables()).collect();
        for (name, mean) in average.var_store().variables() {
            let expected = (&vars[0][&name] + &vars[1][&name] + &vars[2][&name]) / 3.0;
            let gap = (mean - expected).abs().max().double_value(&[]);
            assert!(gap < 1e-6, "{name}: {gap}");
        }
    }
}
