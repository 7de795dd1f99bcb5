//! `emotrace train`: train the dual-layer LSTM on corpus folders / manifests, on the fixed
//! speaker split or with `--folds K` speaker cross-validation.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::data::FeatureCacheChoice;
use crate::model::{ComputeDevice, DeviceChoice};
use crate::train::loco::loco_markdown;
use crate::train::report::headline;
use crate::train::run::cv_markdown;
use crate::train::{TrainConfig, TrainOptions, train_fixed, train_folds, train_loco};

/// Flags of `emotrace train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Corpus folders (RAVDESS, TESS, SAVEE, CREMA-D, EmoDB or one folder per emotion) or
    /// CSV manifests `path,label[,speaker]`; give several after one flag or repeat it.
    #[arg(long, value_name = "DIR|CSV", num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Training configuration (TOML, e.g. models/default.train.toml); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run name: the run folder is `<runs-dir>/<time>-<name>`.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Most epochs to run (early stopping may end sooner).
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Seed for weights, dropout, batch order and augmentation.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// libtorch CPU threads (default 1: one core per run; 2 trains faster alone on 2 cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Speaker cross-validation with K folds (K >= 3) instead of the fixed split.
    #[arg(long, value_name = "K")]
    pub folds: Option<usize>,
    /// With --folds, run only fold I (1-based), e.g. to run folds in parallel.
    #[arg(long, value_name = "I", requires = "folds")]
    pub fold: Option<usize>,
    /// Leave one corpus out: for each corpus named (`tess`, `nemo`, `ased`...; as in
    /// speaker ids), a model trained on the rest and scored on all of it.
    #[arg(long, value_name = "CORPUS", num_args = 1.., conflicts_with_all = ["folds", "resume", "export"])]
    pub loco: Vec<String>,
    /// Continue an interrupted run from its last checkpoint (its own config is used).
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Label map entry, e.g. `calm=skip` or `boredom=neutral` (repeatable).
    #[arg(long = "label", value_name = "FROM=TO")]
    pub labels: Vec<String>,
    /// Folder that run folders are made in.
    #[arg(long, value_name = "DIR", default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Feature cache folder (default: the user cache folder, ~/.cache/emotrace/features).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Neither read nor write the feature cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Also write the final model and its report to this stem, e.g. `models/default`.
    #[arg(long, value_name = "STEM")]
    pub export: Option<PathBuf>,
    /// No progress bars or per-epoch lines.
    #[arg(long)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The training config: the `--config` file (or the run's own when resuming), then flags.
    fn to_config(&self) -> anyhow::Result<TrainConfig> {
        let file = match (&self.resume, &self.config) {
            (Some(run), _) => Some(run.join("config.toml")),
            (None, path) => path.clone(),
        };
        let mut config = match &file {
            Some(path) => TrainConfig::load(path)?,
            None => TrainConfig::default(),
        };
        if self.resume.is_none() {
            if !self.data.is_empty() {
                config.data = self.data.clone();
            }
            if let Some(name) = &self.name {
                config.name = name.clone();
            }
            if let Some(seed) = self.seed {
                config.seed = seed;
            }
            config.labels.apply_overrides(&self.labels)?;
        }
        if let Some(epochs) = self.epochs {
            config.training.epochs = epochs;
        }
        if let Some(threads) = self.threads {
            config.threads = threads;
        }
        match FeatureCacheChoice::from_flags(self.cache.clone(), self.no_cache) {
            FeatureCacheChoice::Off => config.use_cache = false,
            FeatureCacheChoice::Dir(dir) => config.cache_dir = Some(dir),
            FeatureCacheChoice::Default => {}
        }
        if config.data.is_empty() {
            anyhow::bail!("no training data: give --data DIR... or `data = [...]` in the config");
        }
        config.validate(file.as_deref().unwrap_or(std::path::Path::new("--flags")))?;
        Ok(config)
    }
}

/// Runs `emotrace train`.
pub fn run(out: &mut impl Write, args: &TrainArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let config = args.to_config()?;
    let device = ComputeDevice::resolve(device)?;
    tch::set_num_threads(config.threads as i32);
    let opts = TrainOptions {
        runs_root: args.runs_dir.clone(),
        resume: args.resume.clone(),
        folds: args.folds,
        only_fold: args.fold,
        export: args.export.clone(),
        device,
        show_progress: !args.quiet,
    };
    if let Some(folds) = args.folds {
        if folds < 3 {
            anyhow::bail!("--folds {folds}: use at least 3 folds (test, validation and training speakers)");
        }
        if args.fold.is_some_and(|f| f == 0 || f > folds) {
            anyhow::bail!("--fold must be between 1 and --folds {folds}");
        }
        if args.resume.is_some() {
            anyhow::bail!("--resume continues one run; it cannot be combined with --folds");
        }
        let (run, summary) = train_folds(&config, folds, &opts).context("cross-validation")?;
        writeln!(out, "run: {}", run.display())?;
        write!(out, "{}", cv_markdown(&config.name, &summary))?;
        return Ok(());
    }
    if !args.loco.is_empty() {
        let (run, results) =
            train_loco(&config, &args.loco, &opts).context("leave-one-corpus-out training")?;
        writeln!(out, "run: {}", run.display())?;
        write!(out, "{}", loco_markdown(&config.name, &results))?;
        return Ok(());
    }
    let outcome = train_fixed(&config, &opts).context("training")?;
    writeln!(out, "run: {}", outcome.run.display())?;
    writeln!(out, "model: {}", outcome.model.display())?;
    writeln!(out, "validation: {}", headline(&outcome.report.val.overall))?;
    if let Some(test) = &outcome.report.test {
        writeln!(out, "test: {}", headline(&test.overall))?;
        for (corpus, m) in &test.per_corpus {
            writeln!(out, "test {corpus}: {}", headline(m))?;
        }
    }
    if let Some(stem) = &args.export {
        writeln!(out, "exported: {}.json, {}-report.md", stem.display(), stem.display())?;
    }
    Ok(())
}
