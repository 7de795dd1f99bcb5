//! `emotrace eval`: score a model on a corpus: accuracy, UA, macro-F1, per-class table,
//! confusion-matrix and curve PNGs, and the same as JSON.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::eval_sessions::{ReadingOptions, SessionChoice, ShiftData, scored};
use super::{OutputFormat, resolve_model};
use crate::data::{AugmentConfig, FeatureCacheChoice, Part, SplitSpec};
use crate::model::{ComputeDevice, DeviceChoice, EmotionModel, ModelCard};
use crate::train::dataset::PreparedData;
use crate::train::report::{class_table, corpus_table, evaluation_markdown, headline, time_table};
use crate::train::runs::utc_stamp;
use crate::train::trainer::EpochRecord;
use crate::train::{TrainConfig, evaluate, plots};

/// Which utterances to score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitChoice {
    /// Speakers the model's split held out for testing (RAVDESS 21-24 always count as test).
    Test,
    /// The model's validation speakers.
    Val,
    /// The model's training speakers.
    Train,
    /// Every utterance, whatever its speaker.
    All,
}

/// Flags of `emotrace eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Model card, weights or stem (default: the default model, see `emotrace doctor`).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Corpus folders or CSV manifests to score.
    #[arg(long, value_name = "DIR|CSV", num_args = 1.., required = true)]
    pub data: Vec<PathBuf>,
    /// Which speakers to score, by the model's own speaker split.
    #[arg(long, value_enum, default_value_t = SplitChoice::Test)]
    pub split: SplitChoice,
    /// For models with speaker normalisation: each speaker's statistics from all of its
    /// files, its files of one emotion, none, or its calibration reading (some of its
    /// neutral files, then not scored). Other models ignore it.
    #[arg(long, value_enum, default_value_t = SessionChoice::Speaker)]
    pub sessions: SessionChoice,
    #[command(flatten)]
    pub readings: ReadingOptions,
    /// For `--sessions reading-shifted`: corpora whose files of the model's training
    /// speakers give the calibration shift (default: the card's).
    #[arg(long, value_name = "DIR|CSV", num_args = 1..)]
    pub shift_data: Vec<PathBuf>,
    /// Output on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Folder for report.md, report.json and the PNGs (default: runs/eval-<time>-<model>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub reading: CorpusReading,
}

/// Runs `emotrace eval`.
pub fn run(out: &mut impl Write, args: &EvalArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let device = ComputeDevice::resolve(device)?;
    tch::set_num_threads(1);
    let model_path = resolve_model(args.model.as_deref())?;
    let model = EmotionModel::load(&model_path, device)
        .with_context(|| format!("loading model {}", model_path.display()))?;
    let card = model.card();
    let config = args.reading.config(card, &args.data)?;
    let show = args.format == OutputFormat::Table;
    let none = |u: &[crate::data::Utterance]| vec![false; u.len()];
    let data = PreparedData::load(&config, &none, show).context("loading data")?;
    for s in &data.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    let split = card.training.split.clone().unwrap_or(SplitSpec::Fixed(Default::default()));
    let indices: Vec<usize> = match args.split {
        SplitChoice::All => (0..data.utterances.len()).collect(),
        SplitChoice::Test => data.indices(&split, Part::Test),
        SplitChoice::Val => data.indices(&split, Part::Val),
        SplitChoice::Train => data.indices(&split, Part::Train),
    };
    if indices.is_empty() {
        anyhow::bail!(
            "no utterances in the {:?} part of the model's split among {} loaded; try --split all",
            args.split,
            data.utterances.len()
        );
    }
    let warmup = 30;
    let shift = ShiftData { data: &args.shift_data, reading: &args.reading };
    let shift = (!args.shift_data.is_empty()).then_some(&shift);
    let scored = scored(&model, &data, &indices, args.sessions, &args.readings, shift)?;
    if scored.utterances.is_empty() {
        anyhow::bail!(
            "no utterances left to score: no speaker among them has two neutral files for a reading"
        );
    }
    let eval = evaluate(&model, &scored.items(), warmup, scored.sessions(args.sessions))?;
    let dir =
        args.out.clone().unwrap_or_else(|| PathBuf::from(format!("runs/eval-{}-{}", utc_stamp(), card.name)));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let history = training_history(&model_path, &card.training.run);
    let figures = write_figures(&dir, &eval, &history, &card.name);
    let figure_refs: Vec<(&str, &str)> = figures.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let title = format!(
        "{} on {} ({:?} speakers, statistics: {:?})",
        card.name,
        describe_data(&args.data),
        args.split,
        args.sessions
    );
    let md = format!(
        "# Evaluation: {title}\n\n- model: `{}`\n- data: {}\n\n{}",
        model_path.display(),
        data.summary(),
        evaluation_markdown("Scores", &eval, &figure_refs)
    );
    std::fs::write(dir.join("report.md"), md)
        .with_context(|| format!("writing {}", dir.join("report.md").display()))?;
    let json = serde_json::json!({ "model": model_path, "data": args.data, "split": format!("{:?}", args.split).to_lowercase(), "sessions": format!("{:?}", args.sessions), "evaluation": eval });
    let json_text = serde_json::to_string_pretty(&json)?;
    std::fs::write(dir.join("report.json"), &json_text)
        .with_context(|| format!("writing {}", dir.join("report.json").display()))?;
    match args.format {
        OutputFormat::Json => writeln!(out, "{json_text}")?,
        OutputFormat::Csv => {
            writeln!(out, "class,support,precision,recall,f1")?;
            for c in &eval.overall.per_class {
                writeln!(out, "{},{},{:.4},{:.4},{:.4}", c.class, c.support, c.precision, c.recall, c.f1)?;
            }
        }
        OutputFormat::Table => {
            writeln!(out, "model: {}", model_path.display())?;
            writeln!(out, "{title}")?;
            writeln!(out, "{}\n", headline(&eval.overall))?;
            writeln!(out, "{}", corpus_table(&eval))?;
            writeln!(out, "{}", class_table(&eval.overall))?;
            writeln!(out, "{}", time_table(&eval.by_time))?;
            writeln!(out, "report and figures: {}", dir.display())?;
        }
    }
    Ok(())
}

/// How `eval` and `scoreboard` read corpora: label map overrides, the feature cache and
/// feature-extraction threads.
#[derive(Debug, clap::Args)]
pub struct CorpusReading {
    /// Label map entry, e.g. `boredom=neutral` (repeatable; default: the model's map).
    #[arg(long = "label", value_name = "FROM=TO")]
    pub labels: Vec<String>,
    /// Feature cache folder (default: the user cache folder).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Neither read nor write the feature cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Feature-extraction threads (libtorch itself runs on one).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub threads: usize,
}

impl CorpusReading {
    /// The data-loading config that scores `card`'s model on `data`: its features,
    /// preprocessing and label map (plus `--label` overrides), no augmentation.
    pub(super) fn config(&self, card: &ModelCard, data: &[PathBuf]) -> anyhow::Result<TrainConfig> {
        let mut config = TrainConfig {
            data: data.to_vec(),
            threads: 1,
            feature_threads: self.threads.max(1),
            features: card.feature_config.clone(),
            preprocess: card.preprocess.clone(),
            augment: AugmentConfig::none(),
            labels: card.training.label_map.clone().unwrap_or_default(),
            ..TrainConfig::default()
        };
        config.labels.apply_overrides(&self.labels)?;
        match FeatureCacheChoice::from_flags(self.cache.clone(), self.no_cache) {
            FeatureCacheChoice::Off => config.use_cache = false,
            FeatureCacheChoice::Dir(d) => config.cache_dir = Some(d),
            FeatureCacheChoice::Default => {}
        }
        Ok(config)
    }
}

fn describe_data(data: &[PathBuf]) -> String {
    data.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The model's training history: its run folder's `metrics.jsonl`, or the
/// `<stem>-report.json` shipped beside an exported model.
fn training_history(model_path: &Path, run: &str) -> Vec<EpochRecord> {
    let from_run =
        crate::train::RunDir::open(Path::new(run)).and_then(|r| r.read_metrics()).unwrap_or_default();
    if !from_run.is_empty() {
        return from_run;
    }
    let stem = model_path.with_extension("");
    let report = PathBuf::from(format!("{}-report.json", stem.display()));
    std::fs::read_to_string(report)
        .ok()
        .and_then(|t| serde_json::from_str::<crate::train::report::RunReport>(&t).ok())
        .map(|r| r.history)
        .unwrap_or_default()
}

fn write_figures(
    dir: &Path,
    eval: &crate::train::Evaluation,
    history: &[EpochRecord],
    name: &str,
) -> Vec<(&'static str, String)> {
    let mut figures = Vec::new();
    let title = format!(
        "{name}: UA {:.1} %, accuracy {:.1} %",
        100.0 * eval.overall.ua,
        100.0 * eval.overall.accuracy
    );
    let report = |r: Result<(), plots::PlotError>,
                  caption: &'static str,
                  file: &str,
                  figures: &mut Vec<(&'static str, String)>| match r {
        Ok(()) => figures.push((caption, file.to_owned())),
        Err(e) => eprintln!("figure not drawn: {e}"),
    };
    report(
        plots::confusion_png(&dir.join("confusion.png"), &eval.overall.confusion, &title),
        "confusion matrix",
        "confusion.png",
        &mut figures,
    );
    report(
        plots::by_time_png(&dir.join("by-time.png"), &eval.by_time, "accuracy by time since utterance start"),
        "accuracy by time",
        "by-time.png",
        &mut figures,
    );
    if history.is_empty() {
        eprintln!("no training history found for the curves (run folder or <model>-report.json)");
    } else {
        report(
            plots::curves_png(&dir.join("curves.png"), history),
            "training curves",
            "curves.png",
            &mut figures,
        );
    }
    figures
}
