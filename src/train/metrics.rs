//! Classification metrics over the seven classes: accuracy, unweighted accuracy (UA, the
//! mean of per-class recalls), macro-F1, per-class precision / recall / F1, and the
//! confusion matrix.
//!
//! Classes with no true examples are left out of UA and macro-F1 (their recall is
//! undefined); `classes_present` says how many were averaged.

use serde::{Deserialize, Serialize};

use crate::model::Emotion;

const N: usize = Emotion::COUNT;

/// Counts of (true class, predicted class) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// `counts[true][predicted]`.
    pub counts: [[u64; N]; N],
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// The class.
    pub class: Emotion,
    /// Utterances truly of this class.
    pub support: u64,
    /// Utterances answered as this class, whatever their truth: where a model's answers
    /// go, a class the scored corpus lacks included (absent from reports before it).
    #[serde(default)]
    pub answered: u64,
    /// Of those predicted as this class, the share that were, 0-1.
    pub precision: f64,
    /// Of those of this class, the share predicted as it, 0-1.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0-1.
    pub f1: f64,
}

/// Everything reported about one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Utterances scored.
    pub count: u64,
    /// Share predicted correctly, 0-1.
    pub accuracy: f64,
    /// Unweighted accuracy: mean recall over classes present, 0-1.
    pub ua: f64,
    /// Mean F1 over classes present, 0-1.
    pub macro_f1: f64,
    /// Classes with at least one true example.
    pub classes_present: usize,
    /// Per-class scores, in [`Emotion`] order.
    pub per_class: Vec<ClassScores>,
    /// The raw counts.
    pub confusion: Confusion,
}

impl Confusion {
    /// Adds one scored utterance.
    pub fn add(&mut self, truth: Emotion, predicted: Emotion) {
        self.counts[truth.index()][predicted.index()] += 1;
    }

    /// Adds all counts of another matrix.
    pub fn merge(&mut self, other: &Confusion) {
        for (row, other_row) in self.counts.iter_mut().zip(&other.counts) {
            for (c, o) in row.iter_mut().zip(other_row) {
                *c += o;
            }
        }
    }

    /// Total utterances counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Rows divided by their sums (recall per cell); empty rows stay 0.
    pub fn normalised(&self) -> [[f64; N]; N] {
        let mut out = [[0.0; N]; N];
        for (row, counts) in out.iter_mut().zip(&self.counts) {
            let sum: u64 = counts.iter().sum();
            if sum > 0 {
                for (o, &c) in row.iter_mut().zip(counts) {
                    *o = c as f64 / sum as f64;
                }
            }
        }
        out
    }

    /// All the scores.
    pub fn metrics(&self) -> Metrics {
        let total = self.total();
        let correct: u64 = (0..N).map(|i| self.counts[i][i]).sum();
        let mut per_class = Vec::with_capacity(N);
        let (mut recall_sum, mut f1_sum, mut present) = (0.0, 0.0, 0);
        for class in Emotion::ALL {
            let i = class.index();
            let support: u64 = self.counts[i].iter().sum();
            let answered: u64 = (0..N).map(|t| self.counts[t][i]).sum();
            let tp = self.counts[i][i] as f64;
            let precision = if answered > 0 { tp / answered as f64 } else { 0.0 };
            let recall = if support > 0 { tp / support as f64 } else { 0.0 };
            let f1 =
                if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            if support > 0 {
                present += 1;
                recall_sum += recall;
                f1_sum += f1;
            }
            per_class.push(ClassScores { class, support, answered, precision, recall, f1 });
        }
        let mean = |sum: f64| if present > 0 { sum / present as f64 } else { 0.0 };
        Metrics {
            count: total,
            accuracy: if total > 0 { correct as f64 / total as f64 } else { 0.0 },
            ua: mean(recall_sum),
            macro_f1: mean(f1_sum),
            classes_present: present,
            per_class,
            confusion: self.clone(),
        }
    }
}

/// Index of the largest probability (the first on ties).
pub fn argmax(probabilities: &[f32]) -> usize {
    let mut best = 0;
    for (i, &p) in probabilities.iter().enumerate() {
        if p > probabilities[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-checked example: UA weights classes equally, accuracy weights utterances.
    #[test]
    fn scores_match_hand_computation() {
        let mut c = Confusion::default();
        for _ in 0..8 {
            c.add(Emotion::Neutral, Emotion::Neutral);
        }
        c.add(Emotion::Neutral, Emotion::Sad);
        c.add(Emotion::Neutral, Emotion::Sad);
        c.add(Emotion::Sad, Emotion::Sad);
        c.add(Emotion::Sad, Emotion::Neutral);
        let m = c.metrics();
        assert_eq!(m.count, 12);
        assert!((m.accuracy - 9.0 / 12.0).abs() < 1e-12);
        assert_eq!(m.classes_present, 2);
        assert!((m.ua - (0.8 + 0.5) / 2.0).abs() < 1e-12, "ua {}", m.ua);
        let sad = &m.per_class[Emotion::Sad.index()];
        assert!((sad.precision - 1.0 / 3.0).abs() < 1e-12 && (sad.recall - 0.5).abs() < 1e-12);
        let f1_sad = 2.0 * (1.0 / 3.0) * 0.5 / (1.0 / 3.0 + 0.5);
        let f1_neutral = 2.0 * (8.0 / 9.0) * 0.8 / (8.0 / 9.0 + 0.8);
        assert!((m.macro_f1 - (f1_sad + f1_neutral) / 2.0).abs() < 1e-12);
        assert!((c.normalised()[0][2] - 0.2).abs() < 1e-12);
        let answered: Vec<u64> = m.per_class.iter().map(|c| c.answered).collect();
        assert_eq!(answered, [9, 0, 3, 0, 0, 0, 0]);
        assert_eq!(argmax(&[0.1, 0.5, 0.5, 0.2]), 1);
    }

    /// A class no file carries still counts the files answered as it, and stays out of UA.
    #[test]
    fn answers_to_an_absent_class_are_counted() {
        let mut c = Confusion::default();
        c.add(Emotion::Neutral, Emotion::Disgust);
        c.add(Emotion::Neutral, Emotion::Neutral);
        c.add(Emotion::Sad, Emotion::Disgust);
        let m = c.metrics();
        let disgust = &m.per_class[Emotion::Disgust.index()];
        assert_eq!((disgust.support, disgust.answered), (0, 2));
        assert_eq!(m.classes_present, 2);
        assert!((m.ua - 0.5 / 2.0).abs() < 1e-12, "ua {}", m.ua);
    }

    /// Reports written before `answered` existed still read.
    #[test]
    fn old_class_scores_read_with_no_answers() {
        let old = r#"{"class":"sad","support":3,"precision":0.5,"recall":1.0,"f1":0.6}"#;
        let scores: ClassScores = serde_json::from_str(old).unwrap();
        assert_eq!((scores.support, scores.answered), (3, 0));
    }
}
