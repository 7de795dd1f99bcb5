//! Loading and preparing the training data once: corpora -> utterances -> features in
//! memory, with every skipped file kept for the report.

use std::path::PathBuf;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::config::TrainConfig;
use crate::data::babble::BabbleSources;
use crate::data::cache::{FeatureCache, FeatureMatrix};
use crate::data::conditions::NoiseKind;
use crate::data::prepare::{PrepareConfig, PreparedUtterance, SeededCondition, prepare};
use crate::data::{DataError, Dataset, Part, Skipped, SplitSpec, Utterance, load_all};

/// Recordings of other speakers decoded for babble noise (one per speaker in turn: the
/// 16 RAVDESS training actors give 2-3 each).
const BABBLE_SOURCES: usize = 40;

/// Utterances with features, ready for any split.
#[derive(Debug, Clone)]
pub struct PreparedData {
    /// Usable utterances (files that failed to decode are gone).
    pub utterances: Vec<Utterance>,
    /// Their features: clean first, then augmented copies.
    pub features: Vec<PreparedUtterance>,
    /// Files not used, with reasons (loading and decoding).
    pub skipped: Vec<Skipped>,
    /// Warnings about the data.
    pub notes: Vec<String>,
    /// Cache hits and computed matrices.
    pub cache_hits: usize,
    /// Matrices computed during preparation.
    pub computed: usize,
}

impl PreparedData {
    /// Loads every `--data` path and prepares features. Augmented copies are made for the
    /// utterances `wants_copies` says yes to (given the utterance list, returns one bool each).
    pub fn load(
        config: &TrainConfig,
        wants_copies: &dyn Fn(&[Utterance]) -> Vec<bool>,
        show_progress: bool,
    ) -> Result<Self, DataError> {
        let dataset = load_all(&config.data, &config.labels)?;
        let copies = wants_copies(&dataset.utterances);
        Ok(Self::prepare(config, dataset, &copies, show_progress, None))
    }

    /// Prepares the features of `dataset`'s utterances (augmented copies where `copies`
    /// says so), every file first put through `condition` when one is given (for scoring
    /// how a model holds up under it).
    pub fn prepare(
        config: &TrainConfig,
        dataset: Dataset,
        copies: &[bool],
        show_progress: bool,
        condition: Option<SeededCondition>,
    ) -> Self {
        let babble = match &config.augment.conditions {
            Some(chain) if chain.noise_prob > 0.0 && chain.noise_kinds.contains(&NoiseKind::Babble) => {
                BabbleSources::build(
                    &dataset.utterances,
                    copies,
                    &config.augment.babble_from,
                    BABBLE_SOURCES,
                    config.seed,
                    &config.preprocess,
                )
            }
            _ => BabbleSources::default(),
        };
        let prepare_config = PrepareConfig {
            features: config.features.clone(),
            preprocess: config.preprocess.clone(),
            augment: config.augment.clone(),
            seed: config.seed,
            threads: config.feature_threads,
            babble: Arc::new(babble),
            condition,
        };
        let cache_dir: PathBuf = config.cache_dir.clone().unwrap_or_else(FeatureCache::default_dir);
        let cache = config.use_cache.then(|| FeatureCache::new(cache_dir));
        let bar = if show_progress {
            ProgressBar::new(dataset.utterances.len() as u64)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("features [{bar:30}] {pos}/{len} files {elapsed} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let tick = || bar.inc(1);
        let (features, report) = prepare(&dataset.utterances, copies, &prepare_config, cache.as_ref(), &tick);
        bar.finish_and_clear();
        let mut skipped = dataset.skipped;
        skipped.extend(report.skipped);
        let mut utterances = Vec::with_capacity(features.len());
        let mut kept = Vec::with_capacity(features.len());
        for (u, f) in dataset.utterances.into_iter().zip(features) {
            if let Some(f) = f {
                utterances.push(u);
                kept.push(f);
            }
        }
        Self {
            utterances,
            features: kept,
            skipped,
            notes: dataset.notes,
            cache_hits: report.cache_hits,
            computed: report.computed,
        }
    }

    /// Indices of the utterances in `part` under `split`.
    pub fn indices(&self, split: &SplitSpec, part: Part) -> Vec<usize> {
        split
            .assign(&self.utterances)
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == part)
            .map(|(i, _)| i)
            .collect()
    }

    /// (utterance, clean features) pairs for scoring.
    pub fn clean_items(&self, indices: &[usize]) -> Vec<(&Utterance, &FeatureMatrix)> {
        indices.iter().map(|&i| (&self.utterances[i], &self.features[i].variants[0])).collect()
    }

    /// One line: counts and skips.
    pub fn summary(&self) -> String {
        let mut by_category = std::collections::BTreeMap::new();
        for s in &self.skipped {
            *by_category.entry(s.reason.category()).or_insert(0usize) += 1;
        }
        let skipped: Vec<String> = by_category.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let frames: usize = self.features.iter().map(|f| f.variants[0].frames).sum();
        format!(
            "{} utterances ready ({:.1} min of speech after trimming), {} skipped{}; features: {} from cache, {} computed",
            self.utterances.len(),
            frames as f64 / 100.0 / 60.0,
            self.skipped.len(),
            if skipped.is_empty() { String::new() } else { format!(" ({})", skipped.join(", ")) },
            self.cache_hits,
            self.computed
        )
    }
}
