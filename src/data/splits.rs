//! Speaker-independent splits: every speaker's utterances go to exactly one of
//! train / validation / test.
//!
//! The fixed split (the default, documented in `models/README` and the model card):
//! - RAVDESS: actors 15-16 validation, 17-20 test (2 male, 2 female), 01-14 train; actors
//!   21-24, if present, always test (they are kept back for independent evaluation).
//! - TESS: OAF train, YAF test (two speakers only: its test figure is cross-speaker).
//! - A corpus named in `held_out` (by default ASED, nEMO, URDU and emotiontts-ko, see
//!   [`default_held_out`]): those speakers test, the rest train.
//! - Any other corpus: speakers ordered by a stable hash of their id; the first 20 % test,
//!   the next 15 % validation, the rest train (at least one train speaker).
//!
//! Corpora are told apart by name (`Utterance::corpus_name`), so two manifests are two
//! corpora.
//!
//! Cross-validation (`--folds K`): each corpus's speakers, sorted by id, are dealt
//! round-robin into K folds (K >= 3) starting again at fold 1 for every corpus, so a
//! corpus's folds do not depend on which other corpora are loaded; fold `i` is the test
//! part, fold `i+1 (mod K)` validation, the rest train.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::corpus::Utterance;

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
    /// Test speakers of other corpora, by corpus name (`ased`, `nemo`...): local ids, the
    /// part of the speaker id after `corpus:`. Such a corpus has no validation speakers.
    pub held_out: BTreeMap<String, Vec<String>>,
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
            held_out: default_held_out(),
            other_val_share: 0.15,
            other_test_share: 0.20,
        }
    }
}

/// The documented test speakers of the corpora beside RAVDESS and TESS (`../shared`):
/// - ASED (65 speakers): 8 speakers with all five classes, from both recording groups
///   (70-file speakers 04, 13, 41; 66-file 26, 30; 50-file 51, 57, 63): 472 files;
/// - nEMO (9 speakers): KS0 and TP0, both with all six classes: 1079 files;
/// - URDU (29 ids, most carrying one emotion): SM1 (angry), SF6 (happy), SM20 (neutral),
///   SM24 (sad), one id per class: 84 files;
/// - emotiontts-ko (15 speakers): nea, nek (emotional-to-emotional) and emf
///   (plain-to-emotional): 60 files.
pub fn default_held_out() -> BTreeMap<String, Vec<String>> {
    let list = |ids: &[&str]| ids.iter().map(|&id| id.to_owned()).collect::<Vec<_>>();
    BTreeMap::from([
        ("ased".to_owned(), list(&["04", "13", "26", "30", "41", "51", "57", "63"])),
        ("nemo".to_owned(), list(&["KS0", "TP0"])),
        ("urdu".to_owned(), list(&["SM1", "SF6", "SM20", "SM24"])),
        (
            "emotiontts-ko".to_owned(),
            list(&["emotional-to-emotional-nea", "emotional-to-emotional-nek", "plain-to-emotional-emf"]),
        ),
    ])
}

/// How parts were assigned, as recorded in run configs and model cards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SplitSpec {
    /// The fixed split.
    Fixed(SplitConfig),
    /// Fold `fold` (0-based) of `folds`-fold speaker cross-validation.
    Fold { folds: usize, fold: usize },
    /// Leave one corpus out: every speaker of `corpus` is test, the other corpora are
    /// split as `base` says (so their held-out speakers stay unseen too).
    Loco { base: SplitConfig, corpus: String },
}

/// Speaker ids of RAVDESS actors held back from `../shared/data` for independent evaluation.
const RAVDESS_HELD_BACK: [u32; 4] = [21, 22, 23, 24];

impl SplitSpec {
    /// The part of every utterance, in order.
    pub fn assign(&self, utterances: &[Utterance]) -> Vec<Part> {
        let by_speaker = match self {
            SplitSpec::Fixed(config) => fixed_parts(config, utterances),
            SplitSpec::Fold { folds, fold } => fold_parts(*folds, *fold, utterances),
            SplitSpec::Loco { base, corpus } => {
                let mut parts = fixed_parts(base, utterances);
                for u in utterances.iter().filter(|u| u.corpus_name() == corpus) {
                    parts.insert(u.speaker.clone(), Part::Test);
                }
                parts
            }
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
            SplitSpec::Loco { corpus, .. } => format!("fixed speaker split, all of {corpus} left out"),
        };
        let lists: Vec<String> = speakers
            .iter()
            .map(|(p, s)| format!("{}: {}", p.name(), s.iter().copied().collect::<Vec<_>>().join(" ")))
            .collect();
        format!("{kind}; {}", lists.join("; "))
    }
}

/// Speakers of each corpus, by corpus name.
fn speakers_by_corpus(utterances: &[Utterance]) -> BTreeMap<&str, BTreeSet<String>> {
    let mut map: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for u in utterances {
        map.entry(u.corpus_name()).or_default().insert(u.speaker.clone());
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
            "ravdess" => {
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
            "tess" => {
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
            _ => match config.held_out.get(corpus) {
                Some(test) => parts.extend(speakers.into_iter().map(|s| {
                    let part =
                        if test.iter().any(|id| id == local_id(&s)) { Part::Test } else { Part::Train };
                    (s, part)
                })),
                None => parts.extend(share_parts(&speakers, config.other_val_share, config.other_test_share)),
            },
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

/// The fold (0-based) of every speaker: each corpus's speakers, sorted by id, dealt
/// round-robin from fold 0.
pub fn speaker_folds(utterances: &[Utterance], folds: usize) -> BTreeMap<String, usize> {
    let folds = folds.max(1);
    let mut out = BTreeMap::new();
    for speakers in speakers_by_corpus(utterances).into_values() {
        for (i, s) in speakers.into_iter().enumerate() {
            out.insert(s, i % folds);
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
