//! `emotrace report SESSION_DIR... --out report.html`: the HTML report of recorded
//! sessions (see `emotrace::report`). Encrypted sessions are opened with a passphrase
//! asked once (or read from `--passphrase-file`); the report file is private (`0600`).

use std::path::PathBuf;

use age::secrecy::SecretString;
use anyhow::Context;

use crate::report::{ReportSession, build_report};
use crate::sessions::keys::is_encrypted;
use crate::sessions::overview::SessionOverview;
use crate::sessions::passphrase::read_passphrase;
use crate::sessions::private::write_private_atomic;
use crate::sessions::recorded::RecordedSession;

/// Flags of `emotrace report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Session folders; several sessions of one client add a trend plot.
    #[arg(required = true, value_name = "SESSION_DIR")]
    pub sessions: Vec<PathBuf>,
    /// The HTML file to write (self-contained: plots inline, no audio).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Passphrase for encrypted sessions: the first line of this file (default: asked on
    /// the terminal).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// Runs the command.
pub fn run(out: &mut impl std::io::Write, args: &ReportArgs) -> anyhow::Result<()> {
    let mut passphrase: Option<SecretString> = None;
    let mut sessions = Vec::new();
    for dir in &args.sessions {
        if is_encrypted(dir) && passphrase.is_none() {
            passphrase =
                Some(read_passphrase(args.passphrase_file.as_deref(), false).map_err(anyhow::Error::msg)?);
        }
        let session = RecordedSession::open(dir, passphrase.as_ref())?;
        let overview =
            SessionOverview::load(&session).with_context(|| format!("cannot read {}", dir.display()))?;
        sessions.push(ReportSession { session, overview });
    }
    let count = sessions.len();
    let html = build_report(sessions).map_err(anyhow::Error::msg)?;
    write_private_atomic(&args.out, html.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    writeln!(out, "wrote {} ({count} session{})", args.out.display(), if count == 1 { "" } else { "s" })?;
    Ok(())
}
