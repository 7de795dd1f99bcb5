//! The command line: global flags, subcommands, and the one-line error report.

mod bench;
mod devices;
mod doctor;
mod features;
mod monitor;

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
