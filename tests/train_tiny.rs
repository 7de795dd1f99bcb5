//! CI training: a tiny model on a handful of shared RAVDESS files for a few epochs. The loss
//! falls; save -> load -> predict round-trips exactly; a run resumes where it stopped.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use emotrace::audio::decode::load_mono_16k;
use emotrace::data::{AugmentConfig, SpeakerNorm, SplitSpec};
use emotrace::model::timeline::predict_samples;
use emotrace::model::{ComputeDevice, EmotionModel};
use emotrace::train::config::{ModelShape, Schedule};
use emotrace::train::dataset::PreparedData;
use emotrace::train::ensemble::fit_members;
use emotrace::train::trainer::{FitOptions, fit};
use emotrace::train::{RunDir, TrainConfig};

/// libtorch's random generator is global: tests training in parallel threads would draw
/// from each other's stream (weights, dropout), so each training test holds this lock.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn torch_rng() -> std::sync::MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn shared_ravdess() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ravdess")
}

/// A RAVDESS-layout folder of symlinks to 16 shared files: actors 01 and 02 (train),
/// 15 (validation), 17 (test); sad and angry, both intensities, statement 1, take 1.
fn tiny_corpus(dir: &Path) -> PathBuf {
    let root = dir.join("ravdess-tiny");
    for actor in ["01", "02", "15", "17"] {
        let folder = root.join(format!("Actor_{actor}"));
        std::fs::create_dir_all(&folder).unwrap();
        for emotion in ["04", "05"] {
            for intensity in ["01", "02"] {
                let name = format!("03-01-{emotion}-{intensity}-01-01-{actor}.flac");
                std::os::unix::fs::symlink(
                    shared_ravdess().join(format!("Actor_{actor}")).join(&name),
                    folder.join(&name),
                )
                .unwrap();
            }
        }
    }
    root
}

/// A fit from scratch, quietly.
fn fresh(device: ComputeDevice) -> FitOptions {
    FitOptions { device, resume: false, show_progress: false }
}

/// A fit that continues its run folder.
fn resumed(device: ComputeDevice) -> FitOptions {
    FitOptions { resume: true, ..fresh(device) }
}

fn tiny_config(data: PathBuf, cache: &Path) -> TrainConfig {
    TrainConfig {
        name: "tiny".into(),
        data: vec![data],
        seed: 7,
        cache_dir: Some(cache.to_owned()),
        model: ModelShape {
            lstm1_units: 16,
            lstm2_units: 8,
            dense_units: vec![],
            dropout: 0.0,
            mean_pooling: true,
            members: 1,
        },
        running_mean_prior_frames: 30.0,
        speaker_norm: SpeakerNorm::MeanStd,
        training: Schedule {
            epochs: 3,
            batch_size: 4,
            learning_rate: 1e-2,
            lr_decay: 1.0,
            patience: 100,
            max_frames: 150,
            ..Schedule::default()
        },
        augment: AugmentConfig { copies: 1, ..AugmentConfig::default() },
        ..TrainConfig::default()
    }
}

/// A few epochs lower the training loss; the best model saved and loaded again gives
/// bit-identical frame outputs and the same file prediction; resuming continues the epoch
/// count and the metrics file.
#[test]
fn tiny_training_learns_round_trips_and_resumes() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(tiny_corpus(dir.path()), &dir.path().join("cache"));
    let split = SplitSpec::Fixed(config.split.clone());
    let copies = |u: &[emotrace::data::Utterance]| {
        split.assign(u).iter().map(|p| *p == emotrace::data::Part::Train).collect()
    };
    let data = PreparedData::load(&config, &copies, false).unwrap();
    assert_eq!(data.utterances.len(), 16);
    assert_eq!(
        data.features.iter().filter(|f| f.variants.len() == 2).count(),
        8,
        "copies for the 8 train files"
    );
    let cpu = ComputeDevice { device: tch::Device::Cpu };
    tch::set_num_threads(1);
    let run = RunDir::create(&dir.path().join("runs"), "tiny").unwrap();
    run.write("config.toml", &config.to_toml()).unwrap();

    let fitted = fit(&config, &data, &split, &run, fresh(cpu)).unwrap();
    let losses: Vec<f64> = fitted.history.iter().map(|r| r.train_loss).collect();
    assert_eq!(losses.len(), 3);
    assert!(losses[2] < losses[0] * 0.95, "training loss falls: {losses:?}");
    for file in ["best.json", "best.safetensors", "last.json", "metrics.jsonl", "state.json"] {
        assert!(run.file(file).is_file(), "{file} written");
    }

    // save -> load -> predict, exactly.
    let mut model = fitted.model;
    let card = model.save(&dir.path().join("saved")).unwrap();
    let loaded = EmotionModel::load(&card, cpu).unwrap();
    assert_eq!(loaded.card().normalisation.running_prior_frames, 30.0, "the config's running mean is saved");
    assert_eq!(loaded.card().normalisation.speaker_norm, SpeakerNorm::MeanStd);
    assert!(loaded.card().architecture.mean_pooling);
    let test_items: Vec<&[f32]> = data.features.iter().map(|f| f.variants[0].data.as_slice()).collect();
    assert_eq!(
        model.frame_probabilities(&test_items).unwrap(),
        loaded.frame_probabilities(&test_items).unwrap()
    );
    let samples = load_mono_16k(&data.utterances[0].path).unwrap();
    assert_eq!(predict_samples(&model, &samples).unwrap(), predict_samples(&loaded, &samples).unwrap());

    // Resume to 5 epochs: two more, numbered 4 and 5, appended to metrics.jsonl.
    config.training.epochs = 5;
    let resumed = fit(&config, &data, &split, &run, resumed(cpu)).unwrap();
    let epochs: Vec<usize> = resumed.history.iter().map(|r| r.epoch).collect();
    assert_eq!(epochs, [1, 2, 3, 4, 5]);
    assert_eq!(run.read_metrics().unwrap().len(), 5);
    assert_eq!(resumed.state.epoch, 5);
    assert!(resumed.state.finished);
}

/// The second preparation of the same files reads every matrix from the cache, and the
/// matrices are the same.
#[test]
fn second_preparation_hits_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config(tiny_corpus(dir.path()), &dir.path().join("cache"));
    let none = |u: &[emotrace::data::Utterance]| vec![false; u.len()];
    let first = PreparedData::load(&config, &none, false).unwrap();
    assert_eq!((first.cache_hits, first.computed), (0, 16));
    let second = PreparedData::load(&config, &none, false).unwrap();
    assert_eq!((second.cache_hits, second.computed), (16, 0));
    for (a, b) in first.features.iter().zip(&second.features) {
        assert_eq!(a.variants[0], b.variants[0]);
    }
    // Another feature config is another key: nothing is reused.
    let mut other = config.clone();
    other.features.n_mfcc = 20;
    let third = PreparedData::load(&other, &none, false).unwrap();
    assert_eq!(third.cache_hits, 0);
}

/// An unreadable audio file is skipped with its name and the reason; the rest load.
#[test]
fn unreadable_audio_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(dir.path());
    let bad = corpus.join("Actor_01/03-01-03-01-01-01-01.wav");
    std::fs::write(&bad, "this is not audio").unwrap();
    let mut config = tiny_config(corpus, &dir.path().join("cache"));
    config.use_cache = false;
    let none = |u: &[emotrace::data::Utterance]| vec![false; u.len()];
    let data = PreparedData::load(&config, &none, false).unwrap();
    assert_eq!(data.utterances.len(), 16);
    assert_eq!(data.skipped.len(), 1);
    assert_eq!(data.skipped[0].path, bad);
    assert!(data.skipped[0].reason.to_string().starts_with("unreadable audio"), "{}", data.skipped[0].reason);
    assert!(data.summary().contains("1 skipped (unreadable audio 1)"), "{}", data.summary());
}

/// The tiny corpus without augmentation, prepared, with `edit` applied to the config, and
/// a run folder.
fn unaugmented(
    dir: &Path,
    edit: impl FnOnce(&mut TrainConfig),
) -> (TrainConfig, SplitSpec, PreparedData, RunDir) {
    let mut config = tiny_config(tiny_corpus(dir), &dir.join("cache"));
    config.augment = AugmentConfig::none();
    edit(&mut config);
    let split = SplitSpec::Fixed(config.split.clone());
    let none = |u: &[emotrace::data::Utterance]| vec![false; u.len()];
    let data = PreparedData::load(&config, &none, false).unwrap();
    let run = RunDir::create(&dir.join("runs"), "tiny").unwrap();
    (config, split, data, run)
}

/// With no validation speakers nothing can stop training early or pick an epoch: every
/// epoch runs (patience 1 notwithstanding), and with weight averaging from epoch 2 the
/// model is the saved average of epochs 2 and 3, not the last epoch's weights; no
/// `best` checkpoint is written, and the run resumes without one.
#[test]
fn without_validation_every_epoch_runs_and_weights_are_averaged() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let (config, split, data, run) = unaugmented(dir.path(), |config| {
        config.split.ravdess_val_actors = vec![];
        config.training.patience = 1;
        config.training.average_from_epoch = 2;
    });
    let cpu = ComputeDevice { device: tch::Device::Cpu };
    let fitted = fit(&config, &data, &split, &run, fresh(cpu)).unwrap();
    assert_eq!(fitted.history.len(), 3);
    assert_eq!((fitted.state.best_epoch, fitted.state.averaged_epochs), (3, 2));
    let items: Vec<&[f32]> = data.features.iter().map(|f| f.variants[0].data.as_slice()).collect();
    let out = fitted.model.frame_probabilities(&items).unwrap();
    let average = EmotionModel::load(&run.checkpoint("average"), cpu).unwrap();
    let last = EmotionModel::load(&run.checkpoint("last"), cpu).unwrap();
    assert_eq!(out, average.frame_probabilities(&items).unwrap());
    assert_ne!(out, last.frame_probabilities(&items).unwrap());
    assert!(!run.path().join("best.json").exists(), "no validation: no separate best checkpoint");

    // Given one more epoch, a resumed run continues from `last` without a `best`.
    let mut longer = config.clone();
    longer.training.epochs = 4;
    let resumed = fit(&longer, &data, &split, &run, resumed(cpu)).unwrap();
    assert_eq!((resumed.state.epoch, resumed.state.averaged_epochs), (4, 3));
}

/// `members = 2` trains two networks with consecutive seeds in sub-runs and saves them as
/// one model whose outputs are the mean of the two members' best checkpoints.
#[test]
fn members_train_one_after_another_and_average() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let (config, split, data, run) = unaugmented(dir.path(), |config| {
        config.model.members = 2;
        config.training.epochs = 2;
    });
    let cpu = ComputeDevice { device: tch::Device::Cpu };
    let fitted = fit_members(&config, &data, &split, &run, fresh(cpu)).unwrap();
    assert_eq!(fitted.model.card().architecture.members, 2);
    let items: Vec<&[f32]> = data.features.iter().take(4).map(|f| f.variants[0].data.as_slice()).collect();
    let members: Vec<_> = ["member-1", "member-2"]
        .iter()
        .map(|m| EmotionModel::load(&run.path().join(m).join("best"), cpu).unwrap())
        .collect();
    assert_ne!(
        members[0].frame_probabilities(&items).unwrap(),
        members[1].frame_probabilities(&items).unwrap()
    );
    let each: Vec<_> = members.iter().map(|m| m.frame_probabilities(&items).unwrap()).collect();
    for (u, frames) in fitted.model.frame_probabilities(&items).unwrap().iter().enumerate() {
        for (t, p) in frames.iter().enumerate() {
            for k in 0..7 {
                let expected = (each[0][u][t][k] + each[1][u][t][k]) / 2.0;
                assert!((p[k] - expected).abs() < 1e-6, "utterance {u} frame {t} class {k}");
            }
        }
    }
}

/// On the CPU a seed fixes the whole run: augmentation, batch order, initial weights and
/// dropout. Two runs with seed 7 give the same losses and bit-identical outputs; seed 8
/// does not.
#[test]
fn a_seed_makes_training_repeatable() {
    let _rng = torch_rng();
    let dir = tempfile::tempdir().unwrap();
    let mut config = tiny_config(tiny_corpus(dir.path()), &dir.path().join("cache"));
    config.model.dropout = 0.2;
    config.training.epochs = 2;
    let split = SplitSpec::Fixed(config.split.clone());
    let copies = |u: &[emotrace::data::Utterance]| {
        split.assign(u).iter().map(|p| *p == emotrace::data::Part::Train).collect()
    };
    let cpu = ComputeDevice { device: tch::Device::Cpu };
    tch::set_num_threads(1);
    let train = |config: &TrainConfig, name: &str| {
        let data = PreparedData::load(config, &copies, false).unwrap();
        let run = RunDir::create(&dir.path().join(name), "tiny").unwrap();
        let fitted = fit(config, &data, &split, &run, fresh(cpu)).unwrap();
        let items: Vec<&[f32]> = data.features.iter().map(|f| f.variants[0].data.as_slice()).collect();
        let losses: Vec<f64> = fitted.history.iter().map(|r| r.train_loss).collect();
        (losses, fitted.model.frame_probabilities(&items).unwrap())
    };
    let first = train(&config, "first");
    assert_eq!(first, train(&config, "again"));
    config.seed += 1;
    let other = train(&config, "other");
    assert_ne!(first.0, other.0, "another seed trains differently");
}

/// Two neutral files of each training actor beside the tiny corpus's sad and angry ones,
/// so each has a calibration reading.
fn add_neutral_files(root: &Path) {
    for actor in ["01", "02"] {
        for take in ["01", "02"] {
            let name = format!("03-01-01-01-01-{take}-{actor}.flac");
            let actor = format!("Actor_{actor}");
            std::os::unix::fs::symlink(
                shared_ravdess().join(&actor).join(&name),
                root.join(&actor).join(&name),
            )
            .unwrap();
        }
    }
}

/// `reading_sessions = 1` normalises the training actors' files by their readings (one
/// neutral file each, moved by the calibration shift) instead of all their files: the
/// same seed and draws train to another loss.
#[test]
fn reading_sessions_train_with_the_calibrated_readings() {
    let _rng = torch_rng();
    let epoch_loss = |reading_sessions: f32| {
        let dir = tempfile::tempdir().unwrap();
        let (config, split, data, run) = unaugmented(dir.path(), |config| {
            add_neutral_files(&config.data[0]);
            config.training.epochs = 1;
            config.running_mean_prior_frames = 0.0;
            config.reading_sessions = reading_sessions;
        });
        let cpu = ComputeDevice { device: tch::Device::Cpu };
        let fitted = fit(&config, &data, &split, &run, fresh(cpu)).unwrap();
        assert!(fitted.history[0].train_loss.is_finite());
        fitted.history[0].train_loss
    };
    let (plain, with_readings) = (epoch_loss(0.0), epoch_loss(1.0));
    assert_ne!(plain, with_readings, "the readings change what the network hears");
}
