//! Speaker-independent splits: every speaker's utterances go to exactly one of
//! train / validation / test.
//!
//! The fixed split (the default, documented in `models/README` and the model card):
//! - RAVDESS: actors 15-16 validation, 17-20 test (2 male, 2 female), 01-14 train; actors
//!   21-24, if present, always test (they are kept back for independent evaluation).
//! - TESS: OAF train, YAF test (two speakers only: its test figure is cross-speaker).
//! - Any other corpus: speakers ordered by a stable hash of their id; the first 20 % test,
//!   the next 15 % validation, the rest train (at least one train speaker).
//!
//! Cross-validation (`--folds K`): speakers sorted by (corpus, id) are dealt round-robin into
//! K folds (K >= 3); fold `i` is the test part, fold `i+1 (mod K)` validation, the rest
//! train.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::corpus::Utterance;
use super::layouts::CorpusKind;

/// Which part of a split an utterance belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// Weights are fitted (and normalisation statistics computed) on it.
    Train,
    /// Early stopping and model selection.
    Val,
    /// Reported only.
    Test,
}

impl Part {
    /// Lower-case name (`train`, `val`, `test`).
    pub fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Val => "val",
            Part::Test => "test",
        }
    }
}

/// The fixed split's settings (`[split]` in train.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SplitConfig {
    /// RAVDESS actor numbers in validation.
    pub ravdess_val_actors: Vec<u32>,
    /// RAVDESS actor numbers in test (actors 21-24 are test whatever this says).
    pub ravdess_test_actors: Vec<u32>,
    /// TESS speakers (OAF, YAF) in validation.
    pub tess_val_speakers: Vec<String>,
    /// TESS speakers in test.
    pub tess_test_speakers: Vec<String>,
    /// Share of each other corpus's speakers in validation, 0-1.
    pub other_val_share: f64,
    /// Share of each other corpus's speakers in test, 0-1.
    pub other_test_share: f64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            ravdess_val_actors: vec![15, 16],
            ravdess_test_actors: vec![17, 18, 19, 20],
            tess_val_speakers: vec![],
            tess_test_speakers: vec!["YAF".into()],
            other_val_share: 0.15,
            other_test_share: 0.20,
        }
    }
}

/// How parts were assigned, as recorded in run configs and model cards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SplitSpec {
    /// The fixed split.
    Fixed(SplitConfig),
    /// Fold `fold` (0-based) of `folds`-fold speaker cross-validation.
    Fold { folds: usize, fold: usize },
}

/// Speaker ids of RAVDESS actors held back from `../shared/data` for independent evaluation.
const RAVDESS_HELD_BACK: [u32; 4] = [21, 22, 23, 24];

impl SplitSpec {
    /// The part of every utterance, in order.
    pub fn assign(&self, utterances: &[Utterance]) -> Vec<Part> {
        let by_speaker = match self {
            SplitSpec::Fixed(config) => fixed_parts(config, utterances),
            SplitSpec::Fold { folds, fold } => fold_parts(*folds, *fold, utterances),
        };
        utterances.iter().map(|u| by_speaker[&u.speaker]).collect()
    }

    /// One line for reports: which speakers went where.
    pub fn describe(&self, utterances: &[Utterance]) -> String {
        let parts = self.assign(utterances);
        let mut speakers: BTreeMap<Part, BTreeSet<&str>> = BTreeMap::new();
        for (u, p) in utterances.iter().zip(&parts) {
            speakers.entry(*p).or_default().insert(&u.speaker);
        }
        let kind = match self {
            SplitSpec::Fixed(_) => "fixed speaker split".to_owned(),
            SplitSpec::Fold { folds, fold } => format!("speaker fold {} of {folds}", fold + 1),
        };
        let lists: Vec<String> = speakers
            .iter()
            .map(|(p, s)| format!("{}: {}", p.name(), s.iter().copied().collect::<Vec<_>>().join(" ")))
            .collect();
        format!("{kind}; {}", lists.join("; "))
    }
}

fn speakers_by_corpus(utterances: &[Utterance]) -> BTreeMap<CorpusKind, BTreeSet<String>> {
    let mut map: BTreeMap<CorpusKind, BTreeSet<String>> = BTreeMap::new();
    for u in utterances {
        map.entry(u.corpus).or_default().insert(u.speaker.clone());
    }
    map
}

/// The id after `corpus:`.
fn local_id(speaker: &str) -> &str {
    speaker.split_once(':').map_or(speaker, |(_, id)| id)
}

fn fixed_parts(config: &SplitConfig, utterances: &[Utterance]) -> BTreeMap<String, Part> {
    let mut parts = BTreeMap::new();
    for (corpus, speakers) in speakers_by_corpus(utterances) {
        match corpus {
            CorpusKind::Ravdess => {
                for s in speakers {
                    let actor: u32 = local_id(&s).parse().unwrap_or(0);
                    let part = if config.ravdess_test_actors.contains(&actor)
                        || RAVDESS_HELD_BACK.contains(&actor)
                    {
                        Part::Test
                    } else if config.ravdess_val_actors.contains(&actor) {
                        Part::Val
                    } else {
                        Part::Train
                    };
                    parts.insert(s, part);
                }
            }
            CorpusKind::Tess => {
                for s in speakers {
                    let id = local_id(&s).to_owned();
                    let part = if config.tess_test_speakers.contains(&id) {
                        Part::Test
                    } else if config.tess_val_speakers.contains(&id) {
                        Part::Val
                    } else {
                        Part::Train
                    };
                    parts.insert(s, part);
                }
            }
            _ => parts.extend(share_parts(&speakers, config.other_val_share, config.other_test_share)),
        }
    }
    parts
}

/// Speakers in stable-hash order: first `test_share` test, next `val_share` val, rest train.
fn share_parts(speakers: &BTreeSet<String>, val_share: f64, test_share: f64) -> Vec<(String, Part)> {
    let mut ordered: Vec<&String> = speakers.iter().collect();
    ordered.sort_by_key(|s| Sha256::digest(s.as_bytes()));
    let n = ordered.len();
    let share = |x: f64| (x.clamp(0.0, 1.0) * n as f64).round() as usize;
    let n_test = share(test_share).min(n.saturating_sub(1));
    let n_val = share(val_share).min(n.saturating_sub(1 + n_test));
    ordered
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let part = if i < n_test {
                Part::Test
            } else if i < n_test + n_val {
                Part::Val
            } else {
                Part::Train
            };
            (s.clone(), part)
        })
        .collect()
}

/// The fold (0-based) of every speaker: sorted by (corpus, id), dealt round-robin.
pub fn speaker_folds(utterances: &[Utterance], folds: usize) -> BTreeMap<String, usize> {
    let folds = folds.max(1);
    let mut out = BTreeMap::new();
    let mut next = 0;
    for speakers in speakers_by_corpus(utterances).into_values() {
        for s in speakers {
            out.insert(s, next % folds);
            next += 1;
        }
    }
    out
}

fn fold_parts(folds: usize, fold: usize, utterances: &[Utterance]) -> BTreeMap<String, Part> {
    let folds = folds.max(3);
    let val_fold = (fold + 1) % folds;
    speaker_folds(utterances, folds)
        .into_iter()
        .map(|(s, f)| {
            let part = if f == fold % folds {
                Part::Test
            } else if f == val_fold {
                Part::Val
            } else {
                Part::Train
            };
            (s, part)
        })
        .collect()
}
