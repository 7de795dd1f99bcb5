//! The scoreboard: one table of how a model holds up beyond the speakers it trained on.
//!
//! Three sections:
//! - in-corpus: each corpus's held-out speakers (the model's own split);
//! - leave one corpus out: for each corpus, a model of the same recipe trained without
//!   it (`train --loco`), scored on all of it;
//! - recording conditions: RAVDESS held-out speakers through a gain, a telephone band, a
//!   low cut, a room, noise, and each file normalised to one peak level
//!   (`cli::scoreboard_conditions`), beside the clean score.
//!
//! Every row is scored as the monitor answers: the top class of all seven. UA is the mean
//! recall over the classes the corpus has, and chance is one over their number. "UA, own
//! classes" answers among the corpus's classes only (cross-corpus papers usually report
//! this): the gap between the two is what the classes a corpus lacks cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::evaluate::UtteranceResult;
use super::metrics::{Confusion, argmax};
use crate::data::ClassSet;
use crate::model::Emotion;

/// Which section a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Held-out speakers of a corpus the model trained on.
    InCorpus,
    /// A corpus the scoring model never saw.
    LeaveOneCorpusOut,
    /// RAVDESS held-out speakers under a recording condition.
    Conditions,
    /// A corpus the scoring model never saw, each speaker normalised by a calibration
    /// reading (half of its neutral files, not scored) instead of its session.
    LeaveOneCorpusOutCalibrated,
    /// RAVDESS held-out speakers with session statistics of another kind (speaker
    /// normalisation: all of a speaker's files, those of one emotion, none).
    Sessions,
}

/// One scored set of files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreRow {
    /// The section.
    pub section: Section,
    /// What was scored: the corpus, or the condition's name.
    pub name: String,
    /// The model that answered (its card's name).
    pub model: String,
    /// Files scored.
    pub files: u64,
    /// Speakers scored.
    pub speakers: usize,
    /// The classes the scored files carry.
    pub classes: Vec<Emotion>,
    /// UA with answers among all seven classes, 0-1.
    pub ua: f64,
    /// UA with answers among the corpus's own classes, 0-1.
    pub ua_own_classes: f64,
    /// Accuracy (answers among all seven), 0-1.
    pub accuracy: f64,
    /// Macro-F1 over the classes present (answers among all seven), 0-1.
    pub macro_f1: f64,
    /// One over the number of classes, 0-1.
    pub chance: f64,
}

impl ScoreRow {
    /// Scores `results` (one model's answers on one set of files).
    pub fn score(section: Section, name: &str, model: &str, results: &[UtteranceResult]) -> Self {
        let utterance_classes = {
            let mut set = ClassSet::default();
            results.iter().for_each(|r| set.insert(r.truth));
            set
        };
        let (mut open, mut own) = (Confusion::default(), Confusion::default());
        for r in results {
            open.add(r.truth, r.predicted);
            let restricted = utterance_classes.restrict(&r.probabilities);
            own.add(r.truth, Emotion::from_index(argmax(&restricted)).unwrap_or(Emotion::Neutral));
        }
        let (open, own) = (open.metrics(), own.metrics());
        let speakers = results.iter().map(|r| r.speaker.as_str()).collect::<std::collections::BTreeSet<_>>();
        Self {
            section,
            name: name.to_owned(),
            model: model.to_owned(),
            files: open.count,
            speakers: speakers.len(),
            classes: utterance_classes.classes(),
            ua: open.ua,
            ua_own_classes: own.ua,
            accuracy: open.accuracy,
            macro_f1: open.macro_f1,
            chance: 1.0 / utterance_classes.len().max(1) as f64,
        }
    }

    /// One row per corpus of `results`, in corpus-name order.
    pub fn per_corpus(section: Section, model: &str, results: &[UtteranceResult]) -> Vec<Self> {
        let mut by_corpus: BTreeMap<&str, Vec<UtteranceResult>> = BTreeMap::new();
        for r in results {
            by_corpus.entry(r.corpus.as_str()).or_default().push(r.clone());
        }
        by_corpus.iter().map(|(corpus, rs)| Self::score(section, corpus, model, rs)).collect()
    }
}

/// Every row, plus notes on what could not be scored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scoreboard {
    /// The model scored (in-corpus and conditions rows).
    pub model: String,
    /// Rows in section order.
    pub rows: Vec<ScoreRow>,
    /// What was left out and why (e.g. a corpus not on this machine).
    pub notes: Vec<String>,
}

impl Scoreboard {
    /// The rows of one section.
    pub fn section(&self, section: Section) -> impl Iterator<Item = &ScoreRow> {
        self.rows.iter().filter(move |r| r.section == section)
    }

    /// Mean UA over the leave-one-corpus-out rows (`None` without any).
    pub fn loco_mean_ua(&self) -> Option<f64> {
        self.mean_ua(Section::LeaveOneCorpusOut)
    }

    /// Mean UA over one section's rows (`None` without any).
    pub fn mean_ua(&self, section: Section) -> Option<f64> {
        let uas: Vec<f64> = self.section(section).map(|r| r.ua).collect();
        (!uas.is_empty()).then(|| uas.iter().sum::<f64>() / uas.len() as f64)
    }

    /// The whole scoreboard as Markdown.
    pub fn markdown(&self) -> String {
        let pct = |x: f64| format!("{:.1} %", 100.0 * x);
        let mut md = format!("# Scoreboard: {}\n\n", self.model);
        md.push_str(
            "Answers are the top class of all seven, as the monitor shows them. UA is the mean recall \
             over the classes the files carry, chance one over their number; *UA, own classes* \
             answers among those classes only.\n",
        );
        let header = "| {name} | files | speakers | classes | UA | UA, own classes | accuracy | macro-F1 | chance |\n|---|---:|---:|---|---:|---:|---:|---:|---:|\n";
        let row = |r: &ScoreRow| {
            let classes: Vec<&str> = r.classes.iter().map(|c| c.name()).collect();
            format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.name,
                r.files,
                r.speakers,
                classes.join(" "),
                pct(r.ua),
                pct(r.ua_own_classes),
                pct(r.accuracy),
                pct(r.macro_f1),
                pct(r.chance)
            )
        };
        let sections = [
            (Section::InCorpus, "In-corpus: held-out speakers", "corpus"),
            (
                Section::LeaveOneCorpusOut,
                "Leave one corpus out: a model trained without it, on all of it",
                "corpus left out",
            ),
            (
                Section::LeaveOneCorpusOutCalibrated,
                "Leave one corpus out, calibrated: each speaker read against a calm reading (half of its neutral files, not scored)",
                "corpus left out",
            ),
            (Section::Conditions, "Recording conditions: RAVDESS held-out speakers", "condition"),
            (Section::Sessions, "Sessions: RAVDESS held-out speakers", "session statistics from"),
        ];
        for (section, title, name) in sections {
            let rows: Vec<&ScoreRow> = self.section(section).collect();
            if rows.is_empty() {
                continue;
            }
            md.push_str(&format!("\n## {title}\n\n{}", header.replace("{name}", name)));
            rows.iter().for_each(|r| md.push_str(&row(r)));
            if matches!(section, Section::LeaveOneCorpusOut | Section::LeaveOneCorpusOutCalibrated)
                && let Some(mean) = self.mean_ua(section)
            {
                md.push_str(&format!("| mean of {} | | | | {} | | | | |\n", rows.len(), pct(mean)));
            }
            if section == Section::Conditions
                && let Some(clean) = rows.iter().find(|r| r.name == "clean")
            {
                let worst = rows.iter().map(|r| clean.ua - r.ua).fold(0.0, f64::max);
                md.push_str(&format!("\nLargest drop from clean: {:.1} points.\n", 100.0 * worst));
            }
        }
        if !self.notes.is_empty() {
            md.push_str("\n## Not scored\n\n");
            self.notes.iter().for_each(|n| md.push_str(&format!("- {n}\n")));
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(corpus: &str, truth: Emotion, probabilities: [f32; 7]) -> UtteranceResult {
        UtteranceResult {
            path: "x".into(),
            corpus: corpus.into(),
            speaker: format!("{corpus}:1"),
            truth,
            predicted: Emotion::from_index(argmax(&probabilities)).unwrap(),
            probabilities,
        }
    }

    /// An answer outside the corpus's classes counts wrong among all seven but can be
    /// right among its own; chance is one over the corpus's classes.
    #[test]
    fn open_and_own_class_scores_differ_by_the_missing_classes() {
        let results = [
            // Truth sad, top answer disgust (not in the corpus), sad second.
            result("c", Emotion::Sad, [0.0, 0.0, 0.3, 0.1, 0.0, 0.6, 0.0]),
            result("c", Emotion::Angry, [0.0, 0.0, 0.1, 0.9, 0.0, 0.0, 0.0]),
        ];
        let row = ScoreRow::score(Section::InCorpus, "c", "m", &results);
        assert_eq!(row.classes, [Emotion::Sad, Emotion::Angry]);
        assert!((row.ua - 0.5).abs() < 1e-9 && (row.ua_own_classes - 1.0).abs() < 1e-9);
        assert!((row.chance - 0.5).abs() < 1e-9);
    }

    /// Rows split by corpus, and the LOCO mean is the mean of its rows' UA.
    #[test]
    fn per_corpus_rows_and_loco_mean() {
        let results = [
            result("a", Emotion::Sad, [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
            result("b", Emotion::Sad, [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        ];
        let rows = ScoreRow::per_corpus(Section::LeaveOneCorpusOut, "m", &results);
        assert_eq!(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let board = Scoreboard { model: "m".into(), rows, ..Default::default() };
        assert_eq!(board.loco_mean_ua(), Some(0.5));
        assert!(board.markdown().contains("| mean of 2 | | | | 50.0 %"));
    }
}
