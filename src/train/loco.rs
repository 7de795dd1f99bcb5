//! Leave-one-corpus-out training: for each named corpus, a model trained on everything
//! else (the other corpora's fixed-split training speakers) and scored on all of the left
//! out corpus: how the recipe does on a corpus, language and recording set-up it never met.
//!
//! One run folder `runs/<time>-<name>-loco/` holds a fixed-split run per corpus,
//! `loco-<corpus>/` (its `model.json` card names the corpus in its split, so the
//! scoreboard can find it), plus `loco.md` / `loco.json` with each model's score on its
//! left-out corpus.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use super::metrics::Metrics;
use super::report::headline;
use super::run::{TrainOptions, fit_and_report, load_data, run_err};
use super::runs::RunDir;
use super::trainer::TrainError;
use crate::data::{Part, SplitSpec, Utterance};

/// One left-out corpus and how its model did on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocoResult {
    /// The corpus left out.
    pub corpus: String,
    /// The run folder of the model trained without it.
    pub run: PathBuf,
    /// That model's scores on all of the corpus.
    pub metrics: Metrics,
    /// Training time, minutes.
    pub minutes: f64,
}

/// Trains one model per corpus in `corpora`, each without that corpus.
pub fn train_loco(
    config: &TrainConfig,
    corpora: &[String],
    opts: &TrainOptions,
) -> Result<(PathBuf, Vec<LocoResult>), TrainError> {
    let root = RunDir::create(&opts.runs_root, &format!("{}-loco", config.name)).map_err(run_err)?;
    root.write("config.toml", &config.to_toml()).map_err(run_err)?;
    let base = SplitSpec::Fixed(config.split.clone());
    // Augmented copies for every utterance some run trains on: the base split's training part.
    let wants_copies = |u: &[Utterance]| base.assign(u).iter().map(|p| *p == Part::Train).collect();
    let data = load_data(config, &wants_copies, opts)?;
    let present: BTreeMap<&str, usize> = data.utterances.iter().fold(BTreeMap::new(), |mut m, u| {
        *m.entry(u.corpus_name()).or_insert(0) += 1;
        m
    });
    if let Some(missing) = corpora.iter().find(|c| !present.contains_key(c.as_str())) {
        let names: Vec<&str> = present.keys().copied().collect();
        return Err(TrainError::Run(format!(
            "--loco {missing}: no such corpus among the data (corpora: {})",
            names.join(", ")
        )));
    }
    let mut results = Vec::new();
    for corpus in corpora {
        let split = SplitSpec::Loco { base: config.split.clone(), corpus: corpus.clone() };
        let run = root.child(&format!("loco-{corpus}")).map_err(run_err)?;
        run.write("config.toml", &config.to_toml()).map_err(run_err)?;
        if opts.show_progress {
            eprintln!("leaving out {corpus}: {}", split.describe(&data.utterances));
        }
        let outcome = fit_and_report(config, &data, &split, &run, opts, false)?;
        let metrics = outcome
            .report
            .test
            .as_ref()
            .and_then(|t| t.per_corpus.get(corpus).cloned())
            .ok_or_else(|| TrainError::Run(format!("no test scores for {corpus}")))?;
        if opts.show_progress {
            eprintln!("{corpus} (never seen): {}", headline(&metrics));
        }
        results.push(LocoResult {
            corpus: corpus.clone(),
            run: outcome.run,
            metrics,
            minutes: outcome.report.train_minutes,
        });
    }
    root.write("loco.json", &serde_json::to_string_pretty(&results).unwrap_or_default()).map_err(run_err)?;
    root.write("loco.md", &loco_markdown(&config.name, &results)).map_err(run_err)?;
    Ok((root.path().to_owned(), results))
}

/// The LOCO results as a Markdown table.
pub fn loco_markdown(name: &str, results: &[LocoResult]) -> String {
    let mut md = format!(
        "# {name}: leave one corpus out\n\n| corpus left out | files | UA | accuracy | macro-F1 | chance | minutes |\n|---|---:|---:|---:|---:|---:|---:|\n"
    );
    for r in results {
        let m = &r.metrics;
        md.push_str(&format!(
            "| {} | {} | {:.1} % | {:.1} % | {:.1} % | {:.1} % | {:.1} |\n",
            r.corpus,
            m.count,
            100.0 * m.ua,
            100.0 * m.accuracy,
            100.0 * m.macro_f1,
            100.0 / m.classes_present.max(1) as f64,
            r.minutes
        ));
    }
    if !results.is_empty() {
        let mean = results.iter().map(|r| r.metrics.ua).sum::<f64>() / results.len() as f64;
        md.push_str(&format!("| mean | | {:.1} % | | | | |\n", 100.0 * mean));
    }
    md
}
