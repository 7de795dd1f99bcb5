//! Ensembles: `[model] members = K` trains K networks one after another on the same data,
//! with seeds `seed`, `seed + 1`, ..., each in its own sub-run (`member-1/`, ...), and saves
//! them as one model whose probabilities are the mean of theirs. Independent seeds make
//! the members' errors differ, so their mean is right more often than a typical member.

use super::config::{ModelShape, TrainConfig};
use super::dataset::PreparedData;
use super::runs::RunDir;
use super::trainer::{FitOptions, Fitted, TrainError, TrainState, fit};
use crate::data::SplitSpec;
use crate::model::EmotionModel;

/// Trains the config's members (a single network when `members` is 1) and returns the
/// model made of them. The state and history are the first member's, with the wall time
/// of all.
pub fn fit_members(
    config: &TrainConfig,
    data: &PreparedData,
    split: &SplitSpec,
    run: &RunDir,
    options: FitOptions,
) -> Result<Fitted, TrainError> {
    let count = config.model.members;
    if count <= 1 {
        return fit(config, data, split, run, options);
    }
    let mut members = Vec::with_capacity(count);
    for i in 0..count {
        let member_config = TrainConfig {
            seed: config.seed + i as u64,
            model: ModelShape { members: 1, ..config.model.clone() },
            ..config.clone()
        };
        let dir = run.child(&format!("member-{}", i + 1)).map_err(TrainError::Run)?;
        if options.show_progress {
            eprintln!("member {}/{count} (seed {})", i + 1, member_config.seed);
        }
        let resume = options.resume && dir.file("state.json").is_file();
        members.push(fit(&member_config, data, split, &dir, FitOptions { resume, ..options })?);
    }
    let seconds = members.iter().map(|m| m.state.seconds).sum();
    let models: Vec<&EmotionModel> = members.iter().map(|m| &m.model).collect();
    let model = EmotionModel::ensemble(&models, options.device)?;
    let first = members.swap_remove(0);
    let state = TrainState { seconds, ..first.state };
    Ok(Fitted { model, state, history: first.history })
}
