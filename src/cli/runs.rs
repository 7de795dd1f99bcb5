//! `emotrace runs list` and `emotrace runs compare RUN...`: tables of run configs and scores.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::train::report::RunReport;
use crate::train::run::CvSummary;
use crate::train::trainer::TrainState;
use crate::train::{RunDir, TrainConfig};

/// `emotrace runs` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum RunsCommand {
    /// One line per run folder: status, epochs, validation and test UA, minutes.
    List {
        /// Folder holding the run folders.
        #[arg(long, value_name = "DIR", default_value = "runs")]
        runs_dir: PathBuf,
    },
    /// Settings and scores of several runs side by side.
    Compare {
        /// Run folders (paths, or names inside --runs-dir).
        #[arg(value_name = "RUN", required = true, num_args = 1..)]
        runs: Vec<PathBuf>,
        /// Folder holding the run folders.
        #[arg(long, value_name = "DIR", default_value = "runs")]
        runs_dir: PathBuf,
    },
}

/// What a run folder holds, as far as it got.
struct RunInfo {
    name: String,
    config: Option<TrainConfig>,
    state: Option<TrainState>,
    report: Option<RunReport>,
    cv: Option<CvSummary>,
}

fn read_run(path: &Path) -> Option<RunInfo> {
    let run = RunDir::open(path).ok()?;
    let read = |name: &str| std::fs::read_to_string(run.file(name)).ok();
    Some(RunInfo {
        name: path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        config: TrainConfig::load(&run.file("config.toml")).ok(),
        state: run.read_state().ok(),
        report: read("report.json").and_then(|t| serde_json::from_str(&t).ok()),
        cv: read("cv.json").and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// Validation UA: the report's once there is one (none for a run without validation
/// speakers), before that the best so far.
fn val_ua(info: &RunInfo) -> Option<f64> {
    match &info.report {
        Some(r) => (r.val.overall.count > 0).then_some(r.val.overall.ua),
        None => info.state.as_ref().map(|s| s.best_val_ua),
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{:.1} %", 100.0 * v))
}

/// Runs `emotrace runs ...`.
pub fn run(out: &mut impl Write, command: &RunsCommand) -> anyhow::Result<()> {
    match command {
        RunsCommand::List { runs_dir } => list(out, runs_dir),
        RunsCommand::Compare { runs, runs_dir } => compare(out, runs, runs_dir),
    }
}

fn list(out: &mut impl Write, runs_dir: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        writeln!(out, "no runs: {} does not exist", runs_dir.display())?;
        return Ok(());
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    paths.sort();
    writeln!(
        out,
        "{:<44} {:<10} {:>7} {:>5} {:>9} {:>16} {:>8}",
        "run", "status", "epochs", "best", "val UA", "test UA", "minutes"
    )?;
    let mut shown = 0;
    for info in paths.iter().filter_map(|p| read_run(p)) {
        shown += 1;
        if let Some(cv) = &info.cv {
            let ua = format!(
                "{:.1}±{:.1} %",
                100.0 * cv.mean.get("test_ua").copied().unwrap_or(0.0),
                100.0 * cv.std.get("test_ua").copied().unwrap_or(0.0)
            );
            let minutes: f64 = cv.per_fold.iter().filter_map(|r| r.get("minutes")).sum();
            writeln!(
                out,
                "{:<44} {:<10} {:>7} {:>5} {:>9} {:>16} {:>8.1}",
                info.name,
                format!("cv {}", cv.folds),
                "-",
                "-",
                pct(cv.mean.get("val_ua").copied()),
                ua,
                minutes
            )?;
            continue;
        }
        let status = match (&info.report, &info.state) {
            (Some(_), _) => "finished",
            (None, Some(s)) if s.finished => "evaluating",
            (None, Some(_)) => "stopped",
            (None, None) => "started",
        };
        let (epochs, best, minutes) =
            info.state.as_ref().map_or((0, 0, 0.0), |s| (s.epoch, s.best_epoch, s.seconds / 60.0));
        let val = val_ua(&info);
        let test = info.report.as_ref().and_then(|r| r.test.as_ref()).map(|t| t.overall.ua);
        writeln!(
            out,
            "{:<44} {:<10} {:>7} {:>5} {:>9} {:>16} {:>8.1}",
            info.name,
            status,
            epochs,
            best,
            pct(val),
            pct(test),
            minutes
        )?;
    }
    if shown == 0 {
        writeln!(out, "no run folders in {}", runs_dir.display())?;
    }
    Ok(())
}

fn compare(out: &mut impl Write, runs: &[PathBuf], runs_dir: &Path) -> anyhow::Result<()> {
    let mut infos = Vec::new();
    for r in runs {
        let path = if r.is_dir() { r.clone() } else { runs_dir.join(r) };
        let info = read_run(&path)
            .ok_or_else(|| anyhow::anyhow!("{}: not a run folder (no config.toml)", path.display()))?;
        infos.push(info);
    }
    type Row = (&'static str, fn(&RunInfo) -> String);
    let rows: &[Row] = &[
        ("features", |i| {
            i.config.as_ref().map_or("-".into(), |c| {
                let f = &c.features.families;
                format!(
                    "{} dims (mel {} mfcc {} chroma {} spectral {})",
                    c.features.frame_dim(),
                    f.log_mel as u8,
                    f.mfcc as u8,
                    f.chroma as u8,
                    f.spectral as u8
                )
            })
        }),
        ("lstm1 / lstm2 / dense", |i| {
            i.config.as_ref().map_or("-".into(), |c| {
                format!("{} / {} / {:?}", c.model.lstm1_units, c.model.lstm2_units, c.model.dense_units)
            })
        }),
        ("dropout", |i| i.config.as_ref().map_or("-".into(), |c| c.model.dropout.to_string())),
        ("lr / decay / batch", |i| {
            i.config.as_ref().map_or("-".into(), |c| {
                format!("{} / {} / {}", c.training.learning_rate, c.training.lr_decay, c.training.batch_size)
            })
        }),
        ("warm-up / max frames", |i| {
            i.config
                .as_ref()
                .map_or("-".into(), |c| format!("{} / {}", c.training.warmup_frames, c.training.max_frames))
        }),
        ("augment copies / spec masks", |i| {
            i.config.as_ref().map_or("-".into(), |c| {
                format!("{} / {}t {}f", c.augment.copies, c.augment.time_masks, c.augment.feature_masks)
            })
        }),
        ("decision", |i| i.config.as_ref().map_or("-".into(), |c| format!("{:?}", c.decision))),
        ("seed", |i| i.config.as_ref().map_or("-".into(), |c| c.seed.to_string())),
        ("epochs (best)", |i| {
            i.state.as_ref().map_or("-".into(), |s| format!("{} ({})", s.epoch, s.best_epoch))
        }),
        ("minutes", |i| i.state.as_ref().map_or("-".into(), |s| format!("{:.1}", s.seconds / 60.0))),
        ("val UA", |i| pct(val_ua(i))),
        ("test UA", |i| pct(i.report.as_ref().and_then(|r| r.test.as_ref()).map(|t| t.overall.ua))),
        ("test accuracy", |i| {
            pct(i.report.as_ref().and_then(|r| r.test.as_ref()).map(|t| t.overall.accuracy))
        }),
        ("test macro-F1", |i| {
            pct(i.report.as_ref().and_then(|r| r.test.as_ref()).map(|t| t.overall.macro_f1))
        }),
        ("test UA per corpus", |i| {
            i.report.as_ref().and_then(|r| r.test.as_ref()).map_or("-".into(), |t| {
                t.per_corpus
                    .iter()
                    .map(|(c, m)| format!("{c} {:.1} %", 100.0 * m.ua))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        }),
        ("CV test UA", |i| {
            i.cv.as_ref().map_or("-".into(), |cv| {
                format!(
                    "{:.1} ± {:.1} %",
                    100.0 * cv.mean.get("test_ua").copied().unwrap_or(0.0),
                    100.0 * cv.std.get("test_ua").copied().unwrap_or(0.0)
                )
            })
        }),
    ];
    let header: Vec<String> = infos.iter().map(|i| i.name.clone()).collect();
    writeln!(out, "| setting | {} |", header.join(" | "))?;
    writeln!(out, "|---|{}", "---|".repeat(infos.len()))?;
    for (label, f) in rows {
        let cells: Vec<String> = infos.iter().map(f).collect();
        writeln!(out, "| {label} | {} |", cells.join(" | "))?;
    }
    Ok(())
}
