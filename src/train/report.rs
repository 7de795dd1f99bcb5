//! Text reports: metric tables for the terminal and Markdown, and the run report
//! (`report.md` + `report.json`).

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::evaluate::{Evaluation, TimePoint};
use super::metrics::Metrics;
use super::trainer::EpochRecord;

/// Everything a finished run reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// Run name.
    pub name: String,
    /// Run folder.
    pub run: String,
    /// Data summary line.
    pub data: String,
    /// Which speakers went where.
    pub split: String,
    /// Utterances per part.
    pub counts: std::collections::BTreeMap<String, usize>,
    /// Epochs run.
    pub epochs_run: usize,
    /// Epoch of the kept weights.
    pub best_epoch: usize,
    /// Epochs whose weights were averaged into the kept ones (0: one epoch's weights).
    #[serde(default)]
    pub averaged_epochs: usize,
    /// Training wall time, minutes.
    pub train_minutes: f64,
    /// libtorch threads.
    pub threads: usize,
    /// Architecture in words.
    pub architecture: String,
    /// Validation scores of the kept weights.
    pub val: Evaluation,
    /// Test scores (absent when the split has no test part).
    pub test: Option<Evaluation>,
    /// Test scores with every file heard from a fresh session (its speaker's statistics
    /// unknown); only for models with speaker normalisation.
    #[serde(default)]
    pub test_first_utterance: Option<Evaluation>,
    /// Per-epoch history.
    pub history: Vec<EpochRecord>,
    /// Files not used: (path, reason).
    pub skipped: Vec<(String, String)>,
}

/// `accuracy 61.2 % | UA 60.1 % | macro-F1 59.8 % (n = 240)`, or a note that none was scored.
pub fn headline(m: &Metrics) -> String {
    if m.count == 0 {
        return "no utterances (no speakers in this part)".to_owned();
    }
    format!(
        "accuracy {:.1} % | UA {:.1} % | macro-F1 {:.1} % (n = {})",
        100.0 * m.accuracy,
        100.0 * m.ua,
        100.0 * m.macro_f1,
        m.count
    )
}

/// Per-class support, share of all answers, precision / recall / F1 as a Markdown table
/// (also readable in a terminal).
pub fn class_table(m: &Metrics) -> String {
    let mut s = String::from(
        "| class | support | answered | precision | recall | F1 |\n|---|---:|---:|---:|---:|---:|\n",
    );
    let total = m.count.max(1) as f64;
    for c in &m.per_class {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
            c.class,
            c.support,
            100.0 * c.answered as f64 / total,
            100.0 * c.precision,
            100.0 * c.recall,
            100.0 * c.f1
        );
    }
    s
}

/// Confusion counts as a Markdown table (rows true, columns predicted).
pub fn confusion_table(m: &Metrics) -> String {
    let names: Vec<&str> = crate::model::Emotion::ALL.iter().map(|e| e.name()).collect();
    let mut s =
        format!("| true \\ predicted | {} |\n|---|{}\n", names.join(" | "), "---:|".repeat(names.len()));
    for (row, name) in m.confusion.counts.iter().zip(&names) {
        let cells: Vec<String> = row.iter().map(u64::to_string).collect();
        let _ = writeln!(s, "| {name} | {} |", cells.join(" | "));
    }
    s
}

/// Per-corpus headline table.
pub fn corpus_table(eval: &Evaluation) -> String {
    let mut s = String::from("| corpus | n | accuracy | UA | macro-F1 |\n|---|---:|---:|---:|---:|\n");
    for (corpus, m) in eval.per_corpus.iter().map(|(k, v)| (k.as_str(), v)).chain([("all", &eval.overall)]) {
        let _ = writeln!(
            s,
            "| {corpus} | {} | {:.1} % | {:.1} % | {:.1} % |",
            m.count,
            100.0 * m.accuracy,
            100.0 * m.ua,
            100.0 * m.macro_f1
        );
    }
    s
}

/// Accuracy against time since utterance start.
pub fn time_table(points: &[TimePoint]) -> String {
    let mut s = String::from(
        "| seconds | utterances | frame output acc. | frame output UA | decision so far acc. | decision so far UA |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    for p in points {
        let _ = writeln!(
            s,
            "| {:.2} | {} | {:.1} % | {:.1} % | {:.1} % | {:.1} % |",
            p.seconds,
            p.utterances,
            100.0 * p.frame_accuracy,
            100.0 * p.frame_ua,
            100.0 * p.so_far_accuracy,
            100.0 * p.so_far_ua
        );
    }
    s
}

/// A full evaluation section: headline, per corpus, per class, confusion, by time.
pub fn evaluation_markdown(title: &str, eval: &Evaluation, figures: &[(&str, &str)]) -> String {
    let mut s =
        format!("## {title}\n\n{}\n\n### Per corpus\n\n{}\n", headline(&eval.overall), corpus_table(eval));
    let _ = write!(
        s,
        "### Per class\n\n{}\n### Confusion (counts)\n\n{}\n",
        class_table(&eval.overall),
        confusion_table(&eval.overall)
    );
    let _ = write!(
        s,
        "### Accuracy by time since utterance start\n\nFrame output: the model's output at that moment (what the live trace shows). \
         Decision so far: the per-file rule applied to the frames up to that moment. Time 0 is the start of the \
         trimmed recording (about 0.2 s before speech).\n\n{}\n",
        time_table(&eval.by_time)
    );
    for (caption, file) in figures {
        let _ = writeln!(s, "![{caption}]({file})\n");
    }
    s
}

/// The run's `report.md`.
pub fn run_markdown(r: &RunReport, figures: &[(&str, &str)]) -> String {
    let mut s = format!("# Training report: {}\n\n", r.name);
    let _ = writeln!(s, "- run folder: `{}`", r.run);
    let _ = writeln!(s, "- data: {}", r.data);
    let _ = writeln!(s, "- split: {}", r.split);
    let counts: Vec<String> = r.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(s, "- utterances: {}", counts.join(", "));
    let _ = writeln!(s, "- network: {}", r.architecture);
    let weights = if r.averaged_epochs > 0 {
        format!("the mean of the weights after each of the last {} epochs", r.averaged_epochs)
    } else if r.val.overall.count == 0 {
        format!("weights from epoch {} (the last: no validation speakers)", r.best_epoch)
    } else {
        format!("weights from epoch {} (best validation UA)", r.best_epoch)
    };
    let _ = writeln!(
        s,
        "- training: {} epochs, {weights}, {:.1} min on {} CPU thread(s)\n",
        r.epochs_run, r.train_minutes, r.threads
    );
    let curves: Vec<&(&str, &str)> = figures.iter().filter(|(c, _)| c.contains("curves")).collect();
    let others: Vec<(&str, &str)> = figures.iter().filter(|(c, _)| !c.contains("curves")).copied().collect();
    if let Some(test) = &r.test {
        s.push_str(&evaluation_markdown("Test (held-out speakers)", test, &others));
    }
    if let Some(cold) = &r.test_first_utterance {
        let title = "Test, each file as a session's first utterance (speaker statistics not yet known)";
        s.push_str(&evaluation_markdown(title, cold, &[]));
    }
    if r.val.overall.count > 0 {
        s.push_str(&evaluation_markdown("Validation", &r.val, &[]));
    }
    s.push_str("## Training curves\n\n");
    for (caption, file) in curves {
        let _ = writeln!(s, "![{caption}]({file})\n");
    }
    s.push_str("| epoch | train loss | train frame acc. | val loss | val UA | val acc. | val macro-F1 | lr | s |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let validated = r.val.overall.count > 0;
    for e in &r.history {
        let val = if validated {
            format!(
                "{:.3} | {:.1} % | {:.1} % | {:.1} %",
                e.val_loss,
                100.0 * e.val_ua,
                100.0 * e.val_accuracy,
                100.0 * e.val_macro_f1
            )
        } else {
            "- | - | - | -".to_owned()
        };
        let _ = writeln!(
            s,
            "| {} | {:.3} | {:.1} % | {val} | {:.2e} | {:.0} |",
            e.epoch,
            e.train_loss,
            100.0 * e.train_frame_accuracy,
            e.learning_rate,
            e.seconds
        );
    }
    let _ = writeln!(s, "\n## Skipped files ({})\n", r.skipped.len());
    for (path, reason) in r.skipped.iter().take(200) {
        let _ = writeln!(s, "- `{path}`: {reason}");
    }
    if r.skipped.len() > 200 {
        let _ = writeln!(s, "- ... and {} more (see report.json)", r.skipped.len() - 200);
    }
    s
}
