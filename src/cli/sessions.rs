//! `emotrace sessions`: the recorded sessions in the sessions folder (`list`), and the
//! cost of opening one for review (`bench`: time to open and to build the overview, the
//! overview's size and the process's peak memory, as a table).

use std::path::PathBuf;
use std::time::Instant;

use age::secrecy::SecretString;

use crate::app::settings::default_sessions_dir;
use crate::report::{clock, utc_date_time};
use crate::sessions::keys::is_encrypted;
use crate::sessions::library::list_sessions;
use crate::sessions::overview::SessionOverview;
use crate::sessions::passphrase::read_passphrase;
use crate::sessions::recorded::RecordedSession;

/// `emotrace sessions` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SessionsCommand {
    /// List the recorded sessions, newest first.
    List {
        /// The sessions folder (default: $EMOTRACE_SESSIONS_DIR, else the user's data folder).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Time opening sessions for review: open, overview (trace and spectrogram), peak memory.
    Bench {
        /// Session folders to open.
        #[arg(required = true, value_name = "SESSION_DIR")]
        sessions: Vec<PathBuf>,
        /// Opens per session (the table gives the fastest and the median).
        #[arg(long, value_name = "N", default_value_t = 3)]
        repeat: usize,
        /// Passphrase for encrypted sessions: the first line of this file.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
    },
}

/// Runs a subcommand.
pub fn run(out: &mut impl std::io::Write, command: &SessionsCommand) -> anyhow::Result<()> {
    match command {
        SessionsCommand::List { root } => {
            let root = root.clone().unwrap_or_else(default_sessions_dir);
            let entries = list_sessions(&root);
            writeln!(out, "{} session(s) in {}", entries.len(), root.display())?;
            for e in entries {
                let what = match &e.summary {
                    Some(s) => format!(
                        "{}  client {:<10} {:>8}  speech {:>7}  {} marker(s){}",
                        utc_date_time(s.started_unix_s),
                        if s.client_code.is_empty() { "-" } else { &s.client_code },
                        clock(s.duration_s),
                        clock(s.speech_s),
                        s.markers.len(),
                        if s.complete { "" } else { "  (ended abruptly)" }
                    ),
                    None if e.encrypted => "encrypted (passphrase needed)".to_owned(),
                    None => "unreadable summary".to_owned(),
                };
                writeln!(out, "{:<28} {what}", e.name)?;
            }
            Ok(())
        }
        SessionsCommand::Bench { sessions, repeat, passphrase_file } => {
            bench(out, sessions, (*repeat).max(1), passphrase_file.as_deref())
        }
    }
}

fn bench(
    out: &mut impl std::io::Write,
    sessions: &[PathBuf],
    repeat: usize,
    passphrase_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let mut passphrase: Option<SecretString> = None;
    writeln!(
        out,
        "| session | audio | open (fastest / median) | overview (fastest / median) | trace points | columns | peak RSS |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|")?;
    for dir in sessions {
        if is_encrypted(dir) && passphrase.is_none() {
            passphrase = Some(read_passphrase(passphrase_file, false).map_err(anyhow::Error::msg)?);
        }
        let mut opens = Vec::new();
        let mut loads = Vec::new();
        let mut last = None;
        for _ in 0..repeat {
            let t0 = Instant::now();
            let session = RecordedSession::open(dir, passphrase.as_ref())?;
            let t1 = Instant::now();
            let overview = SessionOverview::load(&session)?;
            let t2 = Instant::now();
            opens.push((t1 - t0).as_secs_f64() * 1e3);
            loads.push((t2 - t1).as_secs_f64() * 1e3);
            last = Some(overview);
        }
        let Some(overview) = last else { continue };
        let stat = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            format!("{:.0} / {:.0} ms", v[0], v[v.len() / 2])
        };
        writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} | {} |",
            dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            if is_encrypted(dir) { " (encrypted)" } else { "" },
            clock(overview.duration_s),
            stat(&mut opens),
            stat(&mut loads),
            overview.trace.len(),
            overview.spectrogram.columns,
            peak_rss_mib().map_or_else(|| "?".to_owned(), |m| format!("{m:.0} MiB"))
        )?;
    }
    Ok(())
}

/// The process's peak resident memory so far (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
