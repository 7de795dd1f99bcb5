//! Ensembles: `[model] members = K` trains K networks on the same data, `threads` of them
//! at a time (each on one libtorch thread: small LSTM batches gain little from intra-op
//! threads, so a member per core uses the cores best), with seeds `seed`, `seed + 1`,
//! ..., each in its own sub-run (`member-1/`, ...), and saves them as one model whose
//! probabilities are the mean of theirs. Independent seeds make the members' errors
//! differ, so their mean is right more often than a typical member.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::config::{ModelShape, TrainConfig};
use super::dataset::PreparedData;
use super::runs::RunDir;
use super::trainer::{FitOptions, Fitted, TrainError, TrainState, fit};
use crate::data::SplitSpec;
use crate::model::EmotionModel;

/// Trains the config's members (a single network when `members` is 1) and returns the
/// model made of them. The state and history are the first member's, with the wall time
/// of this call (members trained side by side count once).
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
    let started = std::time::Instant::now();
    let mut members = fit_in_parallel(config, data, split, run, options)?;
    let seconds = started.elapsed().as_secs_f64();
    let models: Vec<&EmotionModel> = members.iter().map(|m| &m.model).collect();
    let model = EmotionModel::ensemble(&models, options.device)?;
    let first = members.swap_remove(0);
    let state = TrainState { seconds, ..first.state };
    Ok(Fitted { model, state, history: first.history })
}

/// Fits each member, up to `config.threads` at once, and returns them in seed order.
fn fit_in_parallel(
    config: &TrainConfig,
    data: &PreparedData,
    split: &SplitSpec,
    run: &RunDir,
    options: FitOptions,
) -> Result<Vec<Fitted>, TrainError> {
    let count = config.model.members;
    let workers = config.threads.clamp(1, count);
    let member = |i: usize| -> Result<Fitted, TrainError> {
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
        fit(&member_config, data, split, &dir, FitOptions { resume, ..options })
    };
    if workers == 1 {
        return (0..count).map(member).collect();
    }
    // NOTE: libtorch's intra-op pool is process-wide: one thread each while members share the cores.
    tch::set_num_threads(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Fitted, TrainError>>>> =
        Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let fitted = member(i);
                    let failed = fitted.is_err();
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(fitted);
                    if failed {
                        // The others finish the member they are on; no new ones start.
                        next.store(count, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    tch::set_num_threads(config.threads as i32);
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.into_iter().flatten().collect()
}
