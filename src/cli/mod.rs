//! The command line: global flags, subcommands, and the one-line error report.

mod devices;
mod doctor;

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
}

/// Parses the process arguments, runs the command, and turns any error into one line on
/// stderr and a non-zero exit code.
pub fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("emotrace: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Doctor => doctor::run(args.device),
        Command::Devices => devices::run(),
    }
}

/// The error and its causes on one line: `outer: inner: root`.
fn one_line(err: &anyhow::Error) -> String {
    err.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
