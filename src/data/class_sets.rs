//! Which of the seven classes each corpus has.
//!
//! Corpora differ: only RAVDESS and TESS have disgust, only RAVDESS, TESS and nEMO have
//! surprised. Training can restrict each utterance's softmax to its corpus's classes (a
//! corpus without a class then says nothing about that class), and scoring reports UA
//! over a corpus's own classes with chance at one over their number.

use std::collections::BTreeMap;

use super::corpus::Utterance;
use crate::model::Emotion;

/// A set of classes, as one flag per class in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClassSet([bool; Emotion::COUNT]);

impl ClassSet {
    /// All seven classes.
    pub const ALL: ClassSet = ClassSet([true; Emotion::COUNT]);

    /// Adds a class.
    pub fn insert(&mut self, class: Emotion) {
        self.0[class.index()] = true;
    }

    /// True when `class` is in the set.
    pub fn contains(&self, class: Emotion) -> bool {
        self.0[class.index()]
    }

    /// Number of classes in the set.
    pub fn len(&self) -> usize {
        self.0.iter().filter(|&&present| present).count()
    }

    /// True when the set has no class.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The classes, in output order.
    pub fn classes(&self) -> Vec<Emotion> {
        Emotion::ALL.into_iter().filter(|&c| self.contains(c)).collect()
    }

    /// 1.0 for classes in the set, 0.0 for the others, in output order (a softmax mask).
    pub fn mask(&self) -> [f32; Emotion::COUNT] {
        self.0.map(f32::from)
    }

    /// `probabilities` restricted to the set and renormalised (unchanged when the set is
    /// empty or holds no probability).
    pub fn restrict(&self, probabilities: &[f32; Emotion::COUNT]) -> [f32; Emotion::COUNT] {
        let mut out = *probabilities;
        for (p, &present) in out.iter_mut().zip(&self.0) {
            if !present {
                *p = 0.0;
            }
        }
        let total: f32 = out.iter().sum();
        if total > 0.0 { out.map(|p| p / total) } else { *probabilities }
    }
}

/// The classes of every corpus, by corpus name, as the utterances show them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpusClasses(BTreeMap<String, ClassSet>);

impl CorpusClasses {
    /// Collects each corpus's classes from its utterances (all of them, whatever part of a
    /// split they are in: a corpus's label set is metadata, not a result).
    pub fn of<'a>(utterances: impl IntoIterator<Item = &'a Utterance>) -> Self {
        let mut map: BTreeMap<String, ClassSet> = BTreeMap::new();
        for u in utterances {
            map.entry(u.corpus_name().to_owned()).or_default().insert(u.label);
        }
        Self(map)
    }

    /// The classes of `corpus`; all seven for a corpus never seen.
    pub fn get(&self, corpus: &str) -> ClassSet {
        self.0.get(corpus).copied().unwrap_or(ClassSet::ALL)
    }

    /// `(corpus, classes)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, ClassSet)> {
        self.0.iter().map(|(name, set)| (name.as_str(), *set))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::data::CorpusKind;

    fn utterance(speaker: &str, label: Emotion) -> Utterance {
        Utterance {
            path: PathBuf::from("x.wav"),
            label,
            source_label: label.name().to_owned(),
            speaker: speaker.to_owned(),
            corpus: CorpusKind::Manifest,
        }
    }

    /// Each corpus gets exactly the classes its utterances carry; an unknown corpus all seven.
    #[test]
    fn classes_are_collected_per_corpus() {
        let all = [
            utterance("ased:01", Emotion::Sad),
            utterance("ased:02", Emotion::Angry),
            utterance("nemo:KS0", Emotion::Surprised),
        ];
        let classes = CorpusClasses::of(&all);
        assert_eq!(classes.get("ased").classes(), [Emotion::Sad, Emotion::Angry]);
        assert_eq!(classes.get("nemo").classes(), [Emotion::Surprised]);
        assert_eq!(classes.get("other"), ClassSet::ALL);
        assert_eq!(classes.get("ased").mask(), [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
    }

    /// Restricting renormalises over the set and leaves the argmax inside it.
    #[test]
    fn restrict_renormalises_over_the_set() {
        let mut set = ClassSet::default();
        set.insert(Emotion::Happy);
        set.insert(Emotion::Sad);
        let p = [0.1, 0.2, 0.2, 0.5, 0.0, 0.0, 0.0];
        let r = set.restrict(&p);
        assert!((r[1] - 0.5).abs() < 1e-6 && (r[2] - 0.5).abs() < 1e-6 && r[3] == 0.0);
        assert_eq!(ClassSet::default().restrict(&p), p);
    }
}
