//! Where a recording's summary is kept: `summary.json` (plain, `0600`) or
//! `summary.json.sealed` (encrypted), replaced atomically at each save.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::summary::SessionSummary;
use crate::sessions::keys::SessionKeys;
use crate::sessions::sealed::{StreamTag, write_sealed_atomic};

/// The summary's file name in a plain session folder.
pub const SUMMARY_FILE: &str = "summary.json";
/// The summary's file name in an encrypted session folder.
pub const SEALED_SUMMARY_FILE: &str = "summary.json.sealed";

/// The summary file of one session.
pub enum SummaryStore {
    /// `summary.json`.
    Plain(PathBuf),
    /// `summary.json.sealed`, encrypted to the session's keys.
    Sealed(PathBuf, Arc<SessionKeys>),
}

impl SummaryStore {
    /// The store for the session in `dir`, encrypted when `keys` are given.
    pub fn new(dir: &Path, keys: Option<&Arc<SessionKeys>>) -> Self {
        match keys {
            Some(keys) => SummaryStore::Sealed(dir.join(SEALED_SUMMARY_FILE), Arc::clone(keys)),
            None => SummaryStore::Plain(dir.join(SUMMARY_FILE)),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            SummaryStore::Plain(path) | SummaryStore::Sealed(path, _) => path,
        }
    }

    /// Replaces the file with `summary`. A plain summary falls back to overwriting in
    /// place when the disk is too full for a new file.
    pub fn save(&self, summary: &SessionSummary) -> io::Result<()> {
        match self {
            SummaryStore::Plain(path) => summary.save(path).or_else(|_| summary.save_in_place(path)),
            SummaryStore::Sealed(path, keys) => {
                write_sealed_atomic(path, keys, StreamTag::Summary, &summary.to_json())
            }
        }
    }
}
