//! A recorded session opened for reading: its summary, its trace a line at a time, its
//! audio from any sample. Plain and encrypted sessions look the same from here; an
//! encrypted one needs its passphrase (or keys already opened).
//!
//! A plain session that ended abruptly is repaired first (as the recorder does when it
//! finds one); an encrypted one needs no repair: its sealed files read up to their last
//! whole segment.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use age::secrecy::SecretString;

use super::audio_read::{AudioReadError, SessionAudio};
use super::keys::{KeyError, SessionKeys, is_encrypted};
use super::sealed::{SealedError, SealedReader, StreamTag, read_sealed};
use super::trace_read::{TraceLine, TraceParser};
use crate::engine::recorder::{
    SEALED_SUMMARY_FILE, SUMMARY_FILE, SessionSummary, SummaryStore, TraceFormat, is_unfinished,
    repair_session,
};

/// Why a session could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The folder holds no session summary: pick a session folder.
    #[error("{} is not a recorded session (no summary.json or key.age)", .0.display())]
    NotASession(PathBuf),
    /// The session is encrypted: give its passphrase.
    #[error("{} is encrypted: a passphrase is needed to open it", .0.display())]
    NeedsPassphrase(PathBuf),
    /// The passphrase is wrong, or the key file is damaged.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A sealed file is damaged.
    #[error(transparent)]
    Sealed(#[from] SealedError),
    /// The audio cannot be read.
    #[error(transparent)]
    Audio(#[from] AudioReadError),
    /// A file could not be read or written: see the reason.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// A session folder opened for reading (and for editing its notes and markers).
pub struct RecordedSession {
    /// The session folder.
    pub dir: PathBuf,
    /// Its summary (notes and markers may be edited, then [`save_summary`](Self::save_summary)).
    pub summary: SessionSummary,
    keys: Option<Arc<SessionKeys>>,
}

impl RecordedSession {
    /// Opens the session in `dir`; an encrypted one needs `passphrase` (about 1 s of
    /// scrypt to check it).
    pub fn open(dir: &Path, passphrase: Option<&SecretString>) -> Result<Self, SessionError> {
        if is_encrypted(dir) {
            let passphrase = passphrase.ok_or_else(|| SessionError::NeedsPassphrase(dir.to_owned()))?;
            let keys = Arc::new(SessionKeys::open(dir, passphrase)?);
            return Self::open_with_keys(dir, keys);
        }
        let summary_path = dir.join(SUMMARY_FILE);
        if !summary_path.is_file() {
            return Err(SessionError::NotASession(dir.to_owned()));
        }
        if is_unfinished(dir) {
            repair_session(dir).map_err(|e| file_error(&summary_path, &e))?;
        }
        let summary = SessionSummary::load(&summary_path).map_err(|e| file_error(&summary_path, &e))?;
        Ok(Self { dir: dir.to_owned(), summary, keys: None })
    }

    /// Opens an encrypted session with keys already opened.
    pub fn open_with_keys(dir: &Path, keys: Arc<SessionKeys>) -> Result<Self, SessionError> {
        let path = dir.join(SEALED_SUMMARY_FILE);
        let bytes = read_sealed(&path, &keys, StreamTag::Summary)?;
        let summary = serde_json::from_slice(&bytes).map_err(|e| file_error(&path, &e))?;
        Ok(Self { dir: dir.to_owned(), summary, keys: Some(keys) })
    }

    /// Whether the session is encrypted at rest.
    pub fn is_encrypted(&self) -> bool {
        self.keys.is_some()
    }

    /// The session's keys, if encrypted (to open its files again without the passphrase).
    pub fn keys(&self) -> Option<&Arc<SessionKeys>> {
        self.keys.as_ref()
    }

    /// The trace's format, from its file name.
    pub fn trace_format(&self) -> TraceFormat {
        if self.summary.trace_file.contains(".jsonl") { TraceFormat::Jsonl } else { TraceFormat::Csv }
    }

    /// Reads the trace from the start, calling `each` for every line (bounded memory);
    /// returns how many lines did not parse.
    pub fn for_each_trace_line(&self, mut each: impl FnMut(TraceLine)) -> Result<u64, SessionError> {
        let path = self.dir.join(&self.summary.trace_file);
        let mut parser = TraceParser::new(self.trace_format());
        match &self.keys {
            Some(keys) => {
                let mut reader = SealedReader::open(&path, Arc::clone(keys), StreamTag::Trace)?;
                reader.for_each_segment(|bytes| parser.feed(bytes, &mut each))?;
            }
            None => {
                use std::io::Read;
                let mut file = std::fs::File::open(&path).map_err(|e| file_error(&path, &e))?;
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let n = file.read(&mut buf).map_err(|e| file_error(&path, &e))?;
                    if n == 0 {
                        break;
                    }
                    parser.feed(&buf[..n], &mut each);
                }
            }
        }
        Ok(parser.bad_lines)
    }

    /// The session's audio, to read from any sample.
    pub fn audio(&self) -> Result<SessionAudio, SessionError> {
        let path = self.dir.join(&self.summary.audio_file);
        Ok(match &self.keys {
            Some(keys) => {
                SessionAudio::Sealed(SealedReader::open(&path, Arc::clone(keys), StreamTag::Audio)?)
            }
            None => SessionAudio::open_wav(&path)?,
        })
    }

    /// Writes the summary back (after editing notes or markers), encrypted if the session is.
    pub fn save_summary(&self) -> Result<(), SessionError> {
        let store = SummaryStore::new(&self.dir, self.keys.as_ref());
        store.save(&self.summary).map_err(|e| file_error(store.path(), &e))
    }
}

fn file_error(path: &Path, err: &dyn std::fmt::Display) -> SessionError {
    SessionError::File { path: path.to_owned(), reason: err.to_string() }
}

/// Whether `dir` looks like a session folder (a summary or a key file).
pub fn is_session_dir(dir: &Path) -> bool {
    dir.join(SUMMARY_FILE).is_file() || is_encrypted(dir)
}

/// Deletes the session folder `dir` and everything in it; refuses a folder that is not
/// a session (so a wrong path cannot delete anything else).
pub fn delete_session(dir: &Path) -> Result<(), SessionError> {
    if !is_session_dir(dir) {
        return Err(SessionError::NotASession(dir.to_owned()));
    }
    std::fs::remove_dir_all(dir).map_err(|e| file_error(dir, &e))
}
