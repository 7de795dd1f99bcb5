//! A whole training run: load and prepare data, fit, score validation and test with the
//! best weights, write the model, report and figures; or K such runs for speaker
//! cross-validation with a mean ± std summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::calibration::calibration_shift;
use super::config::TrainConfig;
use super::dataset::PreparedData;
use super::ensemble::fit_members;
use super::evaluate::{Evaluation, Sessions, evaluate};
use super::plots;
use super::report::{RunReport, headline, run_markdown};
use super::runs::RunDir;
use super::trainer::{FitOptions, Fitted, TrainError};
use crate::data::{Part, SpeakerNorm, SplitSpec};
use crate::model::card::{CorpusUse, TrainingInfo};
use crate::model::{ComputeDevice, EmotionModel};

/// How to run training (beyond the config).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Where run folders are made.
    pub runs_root: PathBuf,
    /// Continue this run folder instead of starting one.
    pub resume: Option<PathBuf>,
    /// Speaker cross-validation with this many folds instead of the fixed split.
    pub folds: Option<usize>,
    /// With `folds`, run only this fold (1-based), e.g. to spread folds over machines.
    pub only_fold: Option<usize>,
    /// Also write the final model and report to this stem (e.g. `models/default`).
    pub export: Option<PathBuf>,
    /// Compute device.
    pub device: ComputeDevice,
    /// Progress bars and per-epoch lines on stderr.
    pub show_progress: bool,
}

/// What a finished fixed-split run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The run folder.
    pub run: PathBuf,
    /// The final model's card.
    pub model: PathBuf,
    /// The report.
    pub report: RunReport,
}

/// Cross-validation summary (`cv.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CvSummary {
    /// Folds.
    pub folds: usize,
    /// The fold (1-based) of each row of `per_fold`; empty in summaries written before it
    /// existed, whose rows are folds 1, 2, ...
    #[serde(default)]
    pub fold_numbers: Vec<usize>,
    /// Per fold: test UA, accuracy, macro-F1, best epoch, minutes.
    pub per_fold: Vec<BTreeMap<String, f64>>,
    /// Mean and (population) standard deviation of each score over folds.
    pub mean: BTreeMap<String, f64>,
    /// Standard deviations.
    pub std: BTreeMap<String, f64>,
}

pub(super) fn run_err(e: String) -> TrainError {
    TrainError::Run(e)
}

/// Trains on the fixed speaker split (or resumes a run).
pub fn train_fixed(config: &TrainConfig, opts: &TrainOptions) -> Result<RunOutcome, TrainError> {
    let (run, resume) = match &opts.resume {
        Some(path) => (RunDir::open(path).map_err(run_err)?, true),
        None => (RunDir::create(&opts.runs_root, &config.name).map_err(run_err)?, false),
    };
    if !resume {
        run.write("config.toml", &config.to_toml()).map_err(run_err)?;
    }
    let split = SplitSpec::Fixed(config.split.clone());
    let wants_copies =
        |u: &[crate::data::Utterance]| split.assign(u).iter().map(|p| *p == Part::Train).collect();
    let data = load_data(config, &wants_copies, opts)?;
    let outcome = fit_and_report(config, &data, &split, &run, opts, resume)?;
    if let Some(stem) = &opts.export {
        export(&outcome, stem)?;
    }
    Ok(outcome)
}

pub(super) fn load_data(
    config: &TrainConfig,
    wants_copies: &dyn Fn(&[crate::data::Utterance]) -> Vec<bool>,
    opts: &TrainOptions,
) -> Result<PreparedData, TrainError> {
    let data =
        PreparedData::load(config, wants_copies, opts.show_progress).map_err(|e| run_err(e.to_string()))?;
    if opts.show_progress {
        for s in &data.skipped {
            eprintln!("skipped {}: {}", s.path.display(), s.reason);
        }
        for note in &data.notes {
            eprintln!("note: {note}");
        }
        eprintln!("{}", data.summary());
    }
    Ok(data)
}

pub(super) fn fit_and_report(
    config: &TrainConfig,
    data: &PreparedData,
    split: &SplitSpec,
    run: &RunDir,
    opts: &TrainOptions,
    resume: bool,
) -> Result<RunOutcome, TrainError> {
    let started = Instant::now();
    let Fitted { mut model, state, history } = fit_members(
        config,
        data,
        split,
        run,
        FitOptions { device: opts.device, resume, show_progress: opts.show_progress },
    )?;
    let warmup = config.training.warmup_frames;
    let val =
        evaluate(&model, &data.clean_items(&data.indices(split, Part::Val)), warmup, Sessions::PerSpeaker)?;
    let test_idx = data.indices(split, Part::Test);
    let test_items = data.clean_items(&test_idx);
    let test = if test_idx.is_empty() {
        None
    } else {
        Some(evaluate(&model, &test_items, warmup, Sessions::PerSpeaker)?)
    };
    let test_first_utterance =
        if test_idx.is_empty() || model.card().normalisation.speaker_norm == SpeakerNorm::Off {
            None
        } else {
            Some(evaluate(&model, &test_items, warmup, Sessions::PerFile)?)
        };
    let minutes = state.seconds.max(started.elapsed().as_secs_f64()) / 60.0;
    let mut scores = Vec::new();
    if val.overall.count > 0 {
        scores.push(("val", &val));
    }
    scores.extend(test.as_ref().map(|t| ("test", t)));
    scores.extend(test_first_utterance.as_ref().map(|t| ("test_first_utterance", t)));
    fill_card(&mut model, config, data, split, run, &state, minutes, opts, &scores);
    if model.card().normalisation.speaker_norm != SpeakerNorm::Off {
        let train = data.clean_items(&data.indices(split, Part::Train));
        let shift = calibration_shift(&model.card().normalisation, &train);
        model.card_mut().normalisation.calibration_shift = shift;
    }
    let model_path = model.save(&run.checkpoint("model"))?;
    let parts = split.assign(&data.utterances);
    let mut counts = BTreeMap::new();
    for p in &parts {
        *counts.entry(p.name().to_owned()).or_insert(0) += 1;
    }
    let a = &model.card().architecture;
    let report = RunReport {
        name: config.name.clone(),
        run: run.path().display().to_string(),
        data: data.summary(),
        split: split.describe(&data.utterances),
        counts,
        epochs_run: state.epoch,
        best_epoch: state.best_epoch,
        averaged_epochs: state.averaged_epochs,
        train_minutes: minutes,
        threads: config.threads,
        architecture: format!(
            "{} features -> LSTM {} -> dropout {} -> LSTM {} -> dense {:?} -> 7{} ({} parameters)",
            a.input_dims,
            a.lstm1_units,
            a.dropout,
            a.lstm2_units,
            a.dense_units,
            if a.members > 1 {
                format!(
                    "; mean of {} such networks (seeds {}-{})",
                    a.members,
                    config.seed,
                    config.seed + a.members as u64 - 1
                )
            } else {
                String::new()
            },
            a.parameter_count()
        ),
        val,
        test,
        test_first_utterance,
        history,
        skipped: data.skipped.iter().map(|s| (s.path.display().to_string(), s.reason.to_string())).collect(),
    };
    write_report(run.path(), "", &report)?;
    if opts.show_progress {
        eprintln!("validation: {}", headline(&report.val.overall));
        if let Some(t) = &report.test {
            eprintln!("test:       {}", headline(&t.overall));
        }
        if let Some(t) = &report.test_first_utterance {
            eprintln!("test, first utterance of a session: {}", headline(&t.overall));
        }
    }
    Ok(RunOutcome { run: run.path().to_owned(), model: model_path, report })
}

/// Writes `<prefix>report.md`, `<prefix>report.json` and the figures into `dir`.
pub fn write_report(dir: &Path, prefix: &str, report: &RunReport) -> Result<(), TrainError> {
    let confusion = format!("{prefix}confusion.png");
    let curves = format!("{prefix}curves.png");
    let by_time = format!("{prefix}by-time.png");
    let mut figures: Vec<(&str, &str)> = Vec::new();
    let mut plot_notes = Vec::new();
    let shown = report.test.as_ref().unwrap_or(&report.val);
    let which = if report.test.is_some() { "test" } else { "validation" };
    let title = format!("{}: {which} confusion, UA {:.1} %", report.name, 100.0 * shown.overall.ua);
    match plots::confusion_png(&dir.join(&confusion), &shown.overall.confusion, &title) {
        Ok(()) => figures.push(("confusion matrix (normalised by row)", &confusion)),
        Err(e) => plot_notes.push(e.to_string()),
    }
    match plots::curves_png(&dir.join(&curves), &report.history) {
        Ok(()) => figures.push(("training curves", &curves)),
        Err(e) => plot_notes.push(e.to_string()),
    }
    let time_title = format!("{which}: accuracy by time since utterance start");
    match plots::by_time_png(&dir.join(&by_time), &shown.by_time, &time_title) {
        Ok(()) => figures.push(("accuracy by time since utterance start", &by_time)),
        Err(e) => plot_notes.push(e.to_string()),
    }
    let mut md = run_markdown(report, &figures);
    for note in plot_notes {
        md.push_str(&format!("\n(figure not drawn: {note})\n"));
    }
    let write = |name: String, text: &str| {
        std::fs::write(dir.join(&name), text)
            .map_err(|e| run_err(format!("{}: {e}", dir.join(&name).display())))
    };
    write(format!("{prefix}report.md"), &md)?;
    write(format!("{prefix}report.json"), &serde_json::to_string_pretty(report).unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
fn fill_card(
    model: &mut EmotionModel,
    config: &TrainConfig,
    data: &PreparedData,
    split: &SplitSpec,
    run: &RunDir,
    state: &super::trainer::TrainState,
    minutes: f64,
    opts: &TrainOptions,
    scores: &[(&str, &Evaluation)],
) {
    let parts = split.assign(&data.utterances);
    let mut corpora: BTreeMap<String, CorpusUse> = BTreeMap::new();
    let mut speakers: BTreeMap<(String, String), std::collections::BTreeSet<&str>> = BTreeMap::new();
    for (u, p) in data.utterances.iter().zip(&parts) {
        let entry = corpora
            .entry(u.corpus_name().to_owned())
            .or_insert_with(|| CorpusUse { corpus: u.corpus_name().to_owned(), ..Default::default() });
        *entry.utterances.entry(p.name().to_owned()).or_insert(0) += 1;
        speakers.entry((u.corpus_name().to_owned(), p.name().to_owned())).or_default().insert(&u.speaker);
    }
    for ((corpus, part), set) in speakers {
        if let Some(c) = corpora.get_mut(&corpus) {
            c.speakers.insert(part, set.len());
        }
    }
    let card = model.card_mut();
    card.name = config.name.clone();
    card.training = TrainingInfo {
        data: config.data.iter().map(|p| p.display().to_string()).collect(),
        corpora: corpora.into_values().collect(),
        split: Some(split.clone()),
        split_description: split.describe(&data.utterances),
        label_map: Some(config.labels.clone()),
        seed: config.seed,
        member_seeds: (0..config.model.members as u64).map(|k| config.seed + k).collect(),
        epochs_run: state.epoch,
        best_epoch: state.best_epoch,
        averaged_epochs: state.averaged_epochs,
        train_minutes: minutes,
        device: opts.device.to_string(),
        threads: config.threads,
        run: run.path().display().to_string(),
    };
    for (prefix, e) in scores {
        card.metrics.insert(format!("{prefix}_ua"), e.overall.ua);
        card.metrics.insert(format!("{prefix}_accuracy"), e.overall.accuracy);
        card.metrics.insert(format!("{prefix}_macro_f1"), e.overall.macro_f1);
        for (corpus, m) in &e.per_corpus {
            card.metrics.insert(format!("{prefix}_ua_{corpus}"), m.ua);
        }
    }
}

/// Copies the final model to `<stem>.{json,safetensors}` and the report and figures to
/// `<stem>-report.md`, `<stem>-confusion.png`...
fn export(outcome: &RunOutcome, stem: &Path) -> Result<(), TrainError> {
    let mut model = EmotionModel::load(&outcome.model, ComputeDevice { device: tch::Device::Cpu })?;
    let name = stem.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "model".into());
    model.card_mut().name = name.clone();
    model.save(stem)?;
    let dir = stem.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    write_report(dir, &format!("{name}-"), &outcome.report)
}

/// Speaker cross-validation: one fit per fold on `runs/<time>-<name>-cv<K>/fold-<i>/`,
/// test scores per fold, and their mean ± std in `cv.json` / `cv.md`.
pub fn train_folds(
    config: &TrainConfig,
    folds: usize,
    opts: &TrainOptions,
) -> Result<(PathBuf, CvSummary), TrainError> {
    let suffix = opts.only_fold.map_or(String::new(), |f| format!("-fold{f}"));
    let root =
        RunDir::create(&opts.runs_root, &format!("{}-cv{folds}{suffix}", config.name)).map_err(run_err)?;
    root.write("config.toml", &config.to_toml()).map_err(run_err)?;
    let all = |u: &[crate::data::Utterance]| vec![true; u.len()];
    let data = load_data(config, &all, opts)?;
    let mut per_fold = Vec::new();
    let mut fold_numbers = Vec::new();
    for fold in (0..folds).filter(|f| opts.only_fold.is_none_or(|only| only == f + 1)) {
        let split = SplitSpec::Fold { folds, fold };
        let run = root.child(&format!("fold-{}", fold + 1)).map_err(run_err)?;
        run.write("config.toml", &config.to_toml()).map_err(run_err)?;
        if opts.show_progress {
            eprintln!("fold {}/{folds}: {}", fold + 1, split.describe(&data.utterances));
        }
        let outcome = fit_and_report(config, &data, &split, &run, opts, false)?;
        let test = outcome.report.test.as_ref().map(|t| t.overall.clone());
        let mut row = BTreeMap::new();
        if let Some(t) = test {
            row.insert("test_ua".to_owned(), t.ua);
            row.insert("test_accuracy".to_owned(), t.accuracy);
            row.insert("test_macro_f1".to_owned(), t.macro_f1);
        }
        row.insert("val_ua".to_owned(), outcome.report.val.overall.ua);
        row.insert("best_epoch".to_owned(), outcome.report.best_epoch as f64);
        row.insert("minutes".to_owned(), outcome.report.train_minutes);
        per_fold.push(row);
        fold_numbers.push(fold + 1);
    }
    let summary = summarise(folds, fold_numbers, per_fold);
    // NOTE: with --fold, the summary covers that fold only (std 0).
    root.write("cv.json", &serde_json::to_string_pretty(&summary).unwrap_or_default()).map_err(run_err)?;
    root.write("cv.md", &cv_markdown(&config.name, &summary)).map_err(run_err)?;
    Ok((root.path().to_owned(), summary))
}

fn summarise(folds: usize, fold_numbers: Vec<usize>, per_fold: Vec<BTreeMap<String, f64>>) -> CvSummary {
    let mut mean = BTreeMap::new();
    let mut std = BTreeMap::new();
    let keys: Vec<String> = per_fold.first().map(|r| r.keys().cloned().collect()).unwrap_or_default();
    for k in keys {
        let xs: Vec<f64> = per_fold.iter().filter_map(|r| r.get(&k).copied()).collect();
        let m = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len().max(1) as f64;
        mean.insert(k.clone(), m);
        std.insert(k, v.sqrt());
    }
    CvSummary { folds, fold_numbers, per_fold, mean, std }
}

/// The CV summary as Markdown.
pub fn cv_markdown(name: &str, s: &CvSummary) -> String {
    let mut md = format!(
        "# {name}: {}-fold speaker cross-validation\n\n| fold | test UA | test acc. | test macro-F1 | val UA | best epoch | minutes |\n|---:|---:|---:|---:|---:|---:|---:|\n",
        s.folds
    );
    let pct = |r: &BTreeMap<String, f64>, k: &str| {
        r.get(k).map_or("-".to_owned(), |v| format!("{:.1} %", 100.0 * v))
    };
    for (i, r) in s.per_fold.iter().enumerate() {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.1} |\n",
            s.fold_numbers.get(i).copied().unwrap_or(i + 1),
            pct(r, "test_ua"),
            pct(r, "test_accuracy"),
            pct(r, "test_macro_f1"),
            pct(r, "val_ua"),
            r.get("best_epoch").copied().unwrap_or(0.0),
            r.get("minutes").copied().unwrap_or(0.0)
        ));
    }
    let ms = |k: &str| {
        format!(
            "{:.1} ± {:.1} %",
            100.0 * s.mean.get(k).copied().unwrap_or(0.0),
            100.0 * s.std.get(k).copied().unwrap_or(0.0)
        )
    };
    md.push_str(&format!(
        "| mean ± std | {} | {} | {} | {} | | |\n",
        ms("test_ua"),
        ms("test_accuracy"),
        ms("test_macro_f1"),
        ms("val_ua")
    ));
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ua: f64) -> BTreeMap<String, f64> {
        BTreeMap::from([("test_ua".to_owned(), ua)])
    }

    /// A `--fold 4` run's table names fold 4; a summary from before fold numbers were kept
    /// reads as folds 1, 2, ...
    #[test]
    fn cv_table_names_the_folds_that_ran() {
        let one = summarise(5, vec![4], vec![row(0.561)]);
        assert!(cv_markdown("x", &one).contains("| 4 | 56.1 % |"), "{}", cv_markdown("x", &one));
        let old: CvSummary = serde_json::from_str(
            r#"{"folds": 5, "per_fold": [{"test_ua": 0.5}, {"test_ua": 0.6}], "mean": {}, "std": {}}"#,
        )
        .unwrap();
        let md = cv_markdown("x", &old);
        assert!(md.contains("| 1 | 50.0 % |") && md.contains("| 2 | 60.0 % |"), "{md}");
    }
}
