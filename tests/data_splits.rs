//! Speaker-independent splits: no speaker in two parts, ever.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use emotrace::data::{CorpusKind, LabelMap, Part, SplitConfig, SplitSpec, Utterance, load_all};
use emotrace::model::Emotion;

fn shared_corpora() -> Vec<Utterance> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    load_all(&[root.join("ravdess"), root.join("tess")], &LabelMap::default())
        .expect("shared corpora load")
        .utterances
}

fn synthetic(corpus: CorpusKind, speakers: usize, per_speaker: usize) -> Vec<Utterance> {
    (0..speakers * per_speaker)
        .map(|i| Utterance {
            path: PathBuf::from(format!("{i}.wav")),
            label: Emotion::ALL[i % 7],
            source_label: String::new(),
            speaker: format!("{}:{:03}", corpus.name(), i / per_speaker),
            corpus,
        })
        .collect()
}

fn parts_of_speakers(utterances: &[Utterance], parts: &[Part]) -> BTreeMap<String, BTreeSet<Part>> {
    let mut map: BTreeMap<String, BTreeSet<Part>> = BTreeMap::new();
    for (u, p) in utterances.iter().zip(parts) {
        map.entry(u.speaker.clone()).or_default().insert(*p);
    }
    map
}

fn assert_no_leak(utterances: &[Utterance], spec: &SplitSpec) -> BTreeMap<Part, BTreeSet<String>> {
    let parts = spec.assign(utterances);
    assert_eq!(parts.len(), utterances.len());
    let mut by_part: BTreeMap<Part, BTreeSet<String>> = BTreeMap::new();
    for (speaker, set) in parts_of_speakers(utterances, &parts) {
        assert_eq!(set.len(), 1, "speaker {speaker} is in {set:?} under {spec:?}");
        by_part.entry(*set.iter().next().expect("one part")).or_default().insert(speaker);
    }
    by_part
}

/// The documented fixed split of the shared corpora: RAVDESS 01-14 train, 15-16 val,
/// 17-20 test; TESS OAF train, YAF test; no speaker in two parts.
#[test]
fn fixed_split_of_shared_corpora_is_as_documented_and_leak_free() {
    let utterances = shared_corpora();
    let by_part = assert_no_leak(&utterances, &SplitSpec::Fixed(SplitConfig::default()));
    let ids = |p: Part| by_part[&p].iter().cloned().collect::<Vec<_>>().join(" ");
    assert_eq!(ids(Part::Val), "ravdess:15 ravdess:16");
    assert_eq!(ids(Part::Test), "ravdess:17 ravdess:18 ravdess:19 ravdess:20 tess:YAF");
    assert_eq!(by_part[&Part::Train].len(), 15);
    assert!(by_part[&Part::Train].contains("tess:OAF"));
}

/// Every fold of K-fold CV is leak-free, and each speaker is tested in exactly one fold.
#[test]
fn every_fold_is_leak_free_and_tests_each_speaker_once() {
    let mut utterances = shared_corpora();
    utterances.extend(synthetic(CorpusKind::CremaD, 13, 3));
    for folds in [3, 4, 5] {
        let mut tested: BTreeMap<String, usize> = BTreeMap::new();
        for fold in 0..folds {
            let by_part = assert_no_leak(&utterances, &SplitSpec::Fold { folds, fold });
            for s in &by_part[&Part::Test] {
                *tested.entry(s.clone()).or_insert(0) += 1;
            }
            assert!(!by_part[&Part::Train].is_empty() && !by_part[&Part::Val].is_empty());
        }
        assert_eq!(tested.len(), 20 + 2 + 13, "every speaker tested ({folds} folds)");
        assert!(tested.values().all(|&n| n == 1), "each speaker tested once ({folds} folds)");
    }
}

/// RAVDESS 5-fold CV puts 4 actors, 2 male (odd) and 2 female (even), in each test fold.
#[test]
fn ravdess_folds_are_gender_balanced() {
    let utterances: Vec<Utterance> =
        shared_corpora().into_iter().filter(|u| u.corpus == CorpusKind::Ravdess).collect();
    for fold in 0..5 {
        let by_part = assert_no_leak(&utterances, &SplitSpec::Fold { folds: 5, fold });
        let actors: Vec<u32> =
            by_part[&Part::Test].iter().map(|s| s.trim_start_matches("ravdess:").parse().unwrap()).collect();
        assert_eq!(actors.len(), 4);
        assert_eq!(actors.iter().filter(|a| *a % 2 == 1).count(), 2, "fold {fold}: {actors:?}");
    }
}

/// Other corpora are split by speaker share, with at least one train speaker, leak-free.
#[test]
fn share_split_of_other_corpora() {
    for speakers in [1, 2, 3, 10, 91] {
        let utterances = synthetic(CorpusKind::CremaD, speakers, 4);
        let by_part = assert_no_leak(&utterances, &SplitSpec::Fixed(SplitConfig::default()));
        assert!(!by_part[&Part::Train].is_empty(), "{speakers} speakers");
        if speakers == 91 {
            assert_eq!(by_part[&Part::Test].len(), 18);
            assert_eq!(by_part[&Part::Val].len(), 14);
        }
    }
}
