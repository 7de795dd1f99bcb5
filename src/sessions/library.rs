//! The session library: every session folder under the sessions folder, newest first,
//! with what its summary says (date, client, length, speech, top emotions, markers). An
//! encrypted session shows only what its folder name says until it is unlocked.

use std::path::{Path, PathBuf};

use crate::engine::recorder::{SUMMARY_FILE, SessionSummary};
use crate::model::Emotion;

use super::keys::is_encrypted;
use super::recorded::is_session_dir;

/// One session as the library lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryEntry {
    /// The session folder.
    pub dir: PathBuf,
    /// The folder's name (`session-20261202-143000`).
    pub name: String,
    /// Whether it is encrypted (its summary needs the passphrase).
    pub encrypted: bool,
    /// Its summary, when readable without a passphrase.
    pub summary: Option<SessionSummary>,
}

impl LibraryEntry {
    /// When it started, in seconds since the Unix epoch (from the summary, else the
    /// folder's modification time).
    pub fn started_unix_s(&self) -> u64 {
        self.summary.as_ref().map_or_else(
            || {
                std::fs::metadata(&self.dir)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs())
            },
            |s| s.started_unix_s,
        )
    }

    /// The client code, empty if none or unknown.
    pub fn client_code(&self) -> &str {
        self.summary.as_ref().map_or("", |s| s.client_code.as_str())
    }

    /// The emotions with the largest shares of speech time, largest first, with shares.
    pub fn top_emotions(&self, n: usize) -> Vec<(Emotion, f64)> {
        let Some(summary) = &self.summary else { return Vec::new() };
        let mut shares: Vec<(Emotion, f64)> = Emotion::ALL
            .iter()
            .map(|e| (*e, summary.emotion_shares.get(e.name()).copied().unwrap_or(0.0)))
            .filter(|(_, s)| *s > 0.0)
            .collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1));
        shares.truncate(n);
        shares
    }
}

/// Lists the sessions in `root` (one level down), newest first. A missing root is an
/// empty library; unreadable entries are skipped.
pub fn list_sessions(root: &Path) -> Vec<LibraryEntry> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut out: Vec<LibraryEntry> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && is_session_dir(p))
        .map(|dir| {
            let encrypted = is_encrypted(&dir);
            let summary = if encrypted { None } else { SessionSummary::load(&dir.join(SUMMARY_FILE)).ok() };
            let name = dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            LibraryEntry { dir, name, encrypted, summary }
        })
        .collect();
    out.sort_by(|a, b| b.started_unix_s().cmp(&a.started_unix_s()).then_with(|| b.name.cmp(&a.name)));
    out
}
