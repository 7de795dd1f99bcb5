//! The command line: global flags, subcommands, and the one-line error report.

mod bench;
mod bench_model;
mod bench_predict;
mod calibrate;
mod devices;
mod doctor;
mod ensemble;
mod eval;
mod eval_sessions;
mod features;
mod features_out;
mod features_stream;
mod monitor;
mod predict;
mod report;
mod runs;
mod scoreboard;
mod scoreboard_conditions;
mod scoreboard_sessions;
mod sessions;
mod train;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::model::DeviceChoice;

/// Real-time speech emotion recognition: listen to a voice, show which emotion it carries.
#[derive(Debug, Parser)]
#[command(name = "emotrace", version, about)]
pub struct Args {
    /// Where the model runs: `auto` picks CUDA when available, else the CPU.
    #[arg(long, global = true, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the installation: libtorch, compute device, audio hosts and devices, models.
    Doctor,
    /// List the input devices the audio layer sees, with their rates and channel counts.
    Devices,
    /// Compute the feature frames of an audio file; optionally write them and plot them.
    Features(features::FeaturesArgs),
    /// Listen (or replay a file) and trace emotions live; `--headless` prints JSON lines.
    Monitor(monitor::MonitorArgs),
    /// Time the real-time engine: cost per hop by stage, replay speed, live latency.
    Bench(bench::BenchArgs),
    /// Train the emotion model on corpus folders (fixed speaker split or --folds K).
    Train(train::TrainArgs),
    /// A calibration file from recordings of a calm reading of one voice, for
    /// `--calibration` (speaker-normalised models).
    Calibrate(calibrate::CalibrateArgs),
    /// Join single networks of one recipe trained apart (other seeds) into one model.
    Ensemble(ensemble::EnsembleArgs),
    /// Score a model on a corpus: accuracy, UA, macro-F1, per-class table, confusion PNG.
    Eval(eval::EvalArgs),
    /// How a model holds up beyond its training speakers: held-out speakers of each
    /// corpus, leave-one-corpus-out models, recording conditions, in one table.
    Scoreboard(scoreboard::ScoreboardArgs),
    /// The emotion of audio files, with all probabilities (and --timeline every 0.5 s).
    Predict(predict::PredictArgs),
    /// List and compare training runs.
    #[command(subcommand)]
    Runs(runs::RunsCommand),
    /// Write an HTML report (A4, self-contained) of recorded sessions.
    Report(report::ReportArgs),
    /// Recorded sessions: list them, or time opening them for review.
    #[command(subcommand)]
    Sessions(sessions::SessionsCommand),
}

/// Output format of `eval` and `predict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for people.
    Table,
    /// JSON for programs.
    Json,
    /// Comma-separated values.
    Csv,
}

/// Parses the process arguments, runs the command, and turns any error into one line on
/// stderr and a non-zero exit code.
pub fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that went away (`emotrace doctor | head`) is not an error.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("emotrace: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command, writing its report to stdout.
pub fn run(args: Args) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match args.command {
        Command::Doctor => doctor::run(&mut out, args.device)?,
        Command::Devices => devices::run(&mut out)?,
        Command::Features(features_args) => features::run(&mut out, features_args)?,
        Command::Monitor(monitor_args) => monitor::run(&mut out, &monitor_args, args.device)?,
        Command::Bench(bench_args) => bench::run(&mut out, &bench_args, args.device)?,
        Command::Train(a) => train::run(&mut out, &a, args.device)?,
        Command::Calibrate(a) => calibrate::run(&mut out, &a, args.device)?,
        Command::Ensemble(a) => ensemble::run(&mut out, &a, args.device)?,
        Command::Eval(a) => eval::run(&mut out, &a, args.device)?,
        Command::Scoreboard(a) => scoreboard::run(&mut out, &a, args.device)?,
        Command::Predict(a) => predict::run(&mut out, &a, args.device)?,
        Command::Runs(c) => runs::run(&mut out, &c)?,
        Command::Report(a) => report::run(&mut out, &a)?,
        Command::Sessions(c) => sessions::run(&mut out, &c)?,
    }
    out.flush()?;
    Ok(())
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().filter_map(|e| e.downcast_ref::<io::Error>()).any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// The error and its causes on one line: `outer: inner: root`.
fn one_line(err: &anyhow::Error) -> String {
    err.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

/// The `--model` argument, or the default model; an error line when there is none.
fn resolve_model(model: Option<&std::path::Path>) -> anyhow::Result<std::path::PathBuf> {
    match model {
        Some(path) => Ok(path.to_owned()),
        None => crate::model::lookup::default_model().ok_or_else(|| {
            let dirs: Vec<String> =
                crate::model::lookup::model_dirs().iter().map(|d| d.display().to_string()).collect();
            anyhow::anyhow!("no --model given and no default model (default.json) in {}", dirs.join(", "))
        }),
    }
}
