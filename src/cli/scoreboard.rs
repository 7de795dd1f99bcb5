//! `emotrace scoreboard`: how a model holds up beyond its training speakers, in one table
//! (in-corpus held-out speakers, leave-one-corpus-out models, recording conditions), as
//! Markdown (e.g. `models/SCOREBOARD.md`) and JSON beside it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::eval::CorpusReading;
use super::resolve_model;
use crate::data::{Part, SpeakerNorm, SplitSpec};
use crate::features::FeatureConfig;
use crate::model::{ComputeDevice, DeviceChoice, EmotionModel};
use crate::train::TrainConfig;
use crate::train::calibration::evaluate_with_readings;
use crate::train::dataset::PreparedData;
use crate::train::evaluate::{Sessions, UtteranceResult, evaluate};
use crate::train::scoreboard::{ScoreRow, Scoreboard, Section};

/// Frames at the start of each file left out of the frame loss (as `eval`).
pub(super) const WARMUP_FRAMES: usize = 30;

/// Flags of `emotrace scoreboard`.
#[derive(Debug, clap::Args)]
pub struct ScoreboardArgs {
    /// Model card, weights or stem (default: the default model, see `emotrace doctor`).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Corpus folders or CSV manifests: every corpus to score (held-out speakers, and all
    /// of a corpus a `--loco` model left out).
    #[arg(long, value_name = "DIR|CSV", num_args = 1.., required = true)]
    pub data: Vec<PathBuf>,
    /// Leave-one-corpus-out models: model cards, or folders (a `train --loco` run)
    /// searched for `model.json` cards whose split leaves a corpus out.
    #[arg(long, value_name = "CARD|DIR", num_args = 1..)]
    pub loco: Vec<PathBuf>,
    /// Leave out the recording-conditions rows.
    #[arg(long)]
    pub no_conditions: bool,
    /// Seed of the recording conditions (noise, rooms, equalisers).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Write the Markdown here (e.g. models/SCOREBOARD.md) and the JSON beside it.
    #[arg(long, value_name = "FILE.md")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub reading: CorpusReading,
}

/// Runs `emotrace scoreboard`.
pub fn run(out: &mut impl Write, args: &ScoreboardArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let device = ComputeDevice::resolve(device)?;
    tch::set_num_threads(1);
    let model_path = resolve_model(args.model.as_deref())?;
    let model = EmotionModel::load(&model_path, device)
        .with_context(|| format!("loading model {}", model_path.display()))?;
    let config = args.reading.config(model.card(), &args.data)?;
    let data = read_corpora(&config)?;
    for s in &data.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    let name = model.card().name.clone();
    let mut board = Scoreboard { model: format!("{name} ({})", model_path.display()), ..Default::default() };

    let split = model.card().training.split.clone().unwrap_or(SplitSpec::Fixed(Default::default()));
    let held_out = data.clean_items(&data.indices(&split, Part::Test));
    let eval = evaluate(&model, &held_out, WARMUP_FRAMES, Sessions::PerSpeaker)?;
    board.rows.extend(ScoreRow::per_corpus(Section::InCorpus, &name, &eval.results));

    for card in loco_cards(&args.loco)? {
        score_loco(&mut board, &card, (&data, &config.features), args, device)?;
    }
    let ravdess: Vec<usize> = data
        .indices(&split, Part::Test)
        .into_iter()
        .filter(|&i| data.utterances[i].corpus_name() == "ravdess")
        .collect();
    if ravdess.is_empty() {
        board
            .notes
            .push("recording conditions and sessions: no RAVDESS held-out speakers among --data".into());
    } else {
        if !args.no_conditions {
            super::scoreboard_conditions::score(&mut board, &model, &config, &data, &ravdess, args.seed)?;
        }
        super::scoreboard_sessions::score(&mut board, &model, &data, &ravdess)?;
    }

    let md = board.markdown();
    match &args.out {
        Some(path) => {
            std::fs::write(path, &md).with_context(|| format!("writing {}", path.display()))?;
            let json = path.with_extension("json");
            std::fs::write(&json, serde_json::to_string_pretty(&board)?)
                .with_context(|| format!("writing {}", json.display()))?;
            writeln!(out, "{md}\nwritten: {} and {}", path.display(), json.display())?;
        }
        None => write!(out, "{md}")?,
    }
    Ok(())
}

/// Scores one leave-one-corpus-out model on all of the corpus it left out; `data` was
/// prepared with the given features (re-prepared when the model needs others).
fn score_loco(
    board: &mut Scoreboard,
    card: &Path,
    (data, features): (&PreparedData, &FeatureConfig),
    args: &ScoreboardArgs,
    device: ComputeDevice,
) -> anyhow::Result<()> {
    let model =
        EmotionModel::load(card, device).with_context(|| format!("loading model {}", card.display()))?;
    let Some(SplitSpec::Loco { corpus, .. }) = model.card().training.split.clone() else {
        anyhow::bail!("{}: not a leave-one-corpus-out model (train it with --loco)", card.display());
    };
    let own_features = model.card().feature_config == *features;
    // All of the corpus with each speaker's statistics, and (speaker-normalised models)
    // beside each speaker's calibration reading.
    let scored =
        |data: &PreparedData| -> anyhow::Result<(Vec<UtteranceResult>, Option<Vec<UtteranceResult>>)> {
            let all: Vec<usize> =
                (0..data.utterances.len()).filter(|&i| data.utterances[i].corpus_name() == corpus).collect();
            let items = data.clean_items(&all);
            let plain = evaluate(&model, &items, WARMUP_FRAMES, Sessions::PerSpeaker)?.results;
            let calibrated = match model.card().normalisation.speaker_norm {
                SpeakerNorm::Off => None,
                _ => evaluate_with_readings(&model, &items, WARMUP_FRAMES)?.map(|e| e.results),
            };
            Ok((plain, calibrated))
        };
    let (results, calibrated) = if own_features {
        scored(data)?
    } else {
        scored(&read_corpora(&args.reading.config(model.card(), &args.data)?)?)?
    };
    if results.is_empty() {
        board.notes.push(format!("{}: leaves out {corpus}, which is not among --data", card.display()));
        return Ok(());
    }
    let label = format!("{corpus} ({})", model.card().name);
    board.rows.push(ScoreRow::score(Section::LeaveOneCorpusOut, &label, &model.card().name, &results));
    if let Some(calibrated) = calibrated {
        let section = Section::LeaveOneCorpusOutCalibrated;
        board.rows.push(ScoreRow::score(section, &label, &model.card().name, &calibrated));
        if model.card().normalisation.calibration_shift.is_none() {
            board.notes.push(format!(
                "{}: no calibration shift in the card, so its calibrated row uses the plain reading (emotrace calibrate --learn-shift)",
                card.display()
            ));
        }
    }
    Ok(())
}

/// The cards named by `--loco`: files as given, folders searched (sorted) for `model.json`.
fn loco_cards(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut cards = Vec::new();
    for path in paths {
        if path.is_file() {
            cards.push(path.clone());
            continue;
        }
        let mut stack = vec![path.clone()];
        let mut found = Vec::new();
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
            for entry in entries {
                let p = entry?.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.file_name().is_some_and(|n| n == "model.json") {
                    found.push(p);
                }
            }
        }
        if found.is_empty() {
            anyhow::bail!("--loco {}: no model.json below it", path.display());
        }
        found.sort();
        cards.extend(found);
    }
    Ok(cards)
}

/// Every file of `config`'s data, none held for training.
fn read_corpora(config: &TrainConfig) -> anyhow::Result<PreparedData> {
    let none = |u: &[crate::data::Utterance]| vec![false; u.len()];
    PreparedData::load(config, &none, true).context("loading data")
}
