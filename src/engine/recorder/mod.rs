//! Recording a session to a folder: `trace.csv` (or `trace.jsonl`), `audio.wav` (16 kHz
//! mono, what the model heard) and `summary.json`; or, encrypted, the same as sealed
//! files (`trace.csv.sealed`, `audio.pcm.sealed`, `summary.json.sealed`) beside the
//! passphrase-protected `key.age` (see [`crate::sessions`]). Folders are `0700` and
//! files `0600` whatever the umask: recordings of clients are health data.
//!
//! The worker never touches a file: it hands snapshots to a bounded channel and audio to
//! a ring ([`RecorderFeed`], drop-and-count when full), and the recorder's own thread
//! writes them. The trace and the WAV header are flushed every [`FLUSH_INTERVAL`], so a
//! killed process leaves files complete up to the last flush; `summary.json` says
//! `"complete": false` until the recording ends cleanly.

mod audio_sink;
mod repair;
mod summary;
mod summary_store;
mod thread;
mod trace;
mod wav;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::Sender;
use ringbuf::traits::{Observer, Producer, Split};
use ringbuf::{HeapProd, HeapRb};

pub use audio_sink::{SEALED_AUDIO_FILE, WAV_FILE};
pub use repair::{RepairReport, is_locked, is_unfinished, repair_session, repair_wav};
pub use summary::{Interruption, SessionSummary, SummaryBuilder};
pub use summary_store::{SEALED_SUMMARY_FILE, SUMMARY_FILE, SummaryStore};
pub use trace::{Marker, TraceFormat, TraceWriter, csv_header, json_line};
pub use wav::{SessionWav, to_i16};

use super::events::EngineEvent;
use super::snapshot::Snapshot;
use crate::sessions::keys::{KEY_FILE, SessionKeys};
use crate::sessions::private::create_private_dir_all;
use audio_sink::{AudioSink, SealedAudio};
use thread::RecorderThread;

/// How often the trace and the WAV header reach the file.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(500);
/// Sample rate of the recorded audio, in Hz (what the model hears).
pub const RECORD_RATE_HZ: u32 = 16_000;
/// Audio the feed can hold before the recorder thread drains it, in seconds.
const AUDIO_RING_S: usize = 10;
/// Trace items the feed can hold.
const ITEM_CAPACITY: usize = 4_096;

/// Where and how to record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordOptions {
    /// The session folder (created `0700` if missing; it must not already hold a recording).
    pub dir: PathBuf,
    /// Trace file format.
    pub trace_format: TraceFormat,
    /// The client's pseudonymous code, kept in the summary (empty: none).
    pub client_code: String,
    /// Free-text notes, kept in the summary.
    pub notes: String,
    /// Encrypt everything written with these keys (`None`: plain files).
    pub keys: Option<Arc<SessionKeys>>,
    /// The calibration file the model read the voice against, kept in the summary.
    pub calibration: Option<String>,
}

impl RecordOptions {
    /// Plain recording into `dir`, no client code or notes.
    pub fn new(dir: PathBuf, trace_format: TraceFormat) -> Self {
        Self { dir, trace_format, ..Self::default() }
    }

    /// The trace's file name in the session folder.
    pub fn trace_file(&self) -> String {
        match self.keys {
            Some(_) => format!("{}.sealed", self.trace_format.file_name()),
            None => self.trace_format.file_name().to_owned(),
        }
    }

    /// The audio's file name in the session folder.
    pub fn audio_file(&self) -> &'static str {
        if self.keys.is_some() { SEALED_AUDIO_FILE } else { WAV_FILE }
    }
}

/// Why a recording could not start or went wrong.
#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    /// A file could not be created or written: check the folder exists, is writable and
    /// the disk has room.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder at fault.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The folder already holds a recording: choose a new folder.
    #[error("{0} already holds a recording; choose another folder")]
    Exists(PathBuf),
    /// Another running session is recording into the folder: choose a new folder.
    #[error("{0} is being recorded by another running session; choose another folder")]
    Busy(PathBuf),
    /// The folder holds a session that ended abruptly (killed, power lost); it has just
    /// been repaired and is kept as it is. Choose a new folder.
    #[error(
        "{} holds an unfinished session (it ended abruptly); repaired it: {:.1} s of audio{}{}; choose another folder",
        dir.display(),
        report.audio_s,
        if report.wav_header_fixed { ", WAV header fixed" } else { "" },
        if report.trace_bytes_cut > 0 { ", partial trace row removed" } else { "" }
    )]
    Repaired {
        /// The session folder.
        dir: PathBuf,
        /// What the repair did.
        report: RepairReport,
    },
    /// The recorder thread could not be started.
    #[error("cannot start the recorder thread: {0}")]
    Thread(std::io::Error),
}

/// A folder under `base` named after the current UTC time (`session-20261125-143000`),
/// with a numeric suffix if that name is taken.
pub fn new_session_dir(base: &Path) -> PathBuf {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let name = format!("session-{}", utc_stamp(secs));
    let mut dir = base.join(&name);
    let mut n = 2;
    while dir.exists() {
        dir = base.join(format!("{name}-{n}"));
        n += 1;
    }
    dir
}

/// `YYYYmmdd-HHMMSS` in UTC for seconds since the Unix epoch.
pub fn utc_stamp(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}-{:02}{:02}{:02}", rem / 3_600, rem % 3_600 / 60, rem % 60)
}

/// What flows from the worker (and the handle) to the recorder thread.
// NOTE: snapshots travel inline on purpose: a bounded channel allocates its slots once, so
// sending one never allocates, whereas boxing would allocate on the worker per hop.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum RecordItem {
    /// Recording begins at this session time; audio from here on follows.
    Begin { session_s: f64 },
    /// One hop (inline: the bounded channel's slots are allocated once, up front).
    Snapshot(Snapshot),
    /// A user's marker.
    Marker(Marker),
    /// The device was lost at this session time.
    Interrupted { session_s: f64, reason: String },
    /// Finish the files and stop.
    End,
}

/// The worker's end of a recording: never blocks, drops and counts when full.
pub struct RecorderFeed {
    items: Sender<RecordItem>,
    audio: HeapProd<f32>,
    dropped_rows: Arc<AtomicU64>,
    dropped_audio: Arc<AtomicU64>,
}

impl RecorderFeed {
    /// Starts the recording at `session_s`: must be sent before any audio.
    pub(crate) fn begin(&mut self, session_s: f64) {
        let _ = self.items.try_send(RecordItem::Begin { session_s });
    }

    /// Hands one hop to the recorder, or counts it as dropped.
    pub fn snapshot(&mut self, snapshot: &Snapshot) {
        if self.items.try_send(RecordItem::Snapshot(*snapshot)).is_err() {
            self.dropped_rows.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands 16 kHz samples to the recorder, counting what does not fit.
    pub fn audio(&mut self, samples: &[f32]) {
        let n = self.audio.push_slice(samples);
        if n < samples.len() {
            self.dropped_audio.fetch_add((samples.len() - n) as u64, Ordering::Relaxed);
        }
    }

    /// Tells the recorder the device was lost.
    pub(crate) fn interrupted(&mut self, session_s: f64, reason: &str) {
        let _ = self.items.try_send(RecordItem::Interrupted { session_s, reason: reason.to_owned() });
    }

    /// Whether the recorder has room for `rows` more rows and `samples` more samples.
    pub fn has_room(&self, rows: usize, samples: usize) -> bool {
        self.items.capacity().is_none_or(|cap| self.items.len() + rows <= cap)
            && self.audio.vacant_len() >= samples
    }
}

/// The handle's end of a recording.
pub struct Recording {
    thread: Option<JoinHandle<SessionSummary>>,
    items: Sender<RecordItem>,
    dir: PathBuf,
}

impl Recording {
    /// The session folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a marker to the trace and the summary.
    pub fn marker(&self, marker: Marker) {
        // NOTE: blocking send from the caller's (UI) thread: markers are rare and the
        // recorder drains quickly; a full channel only delays the caller briefly.
        let _ = self.items.send_timeout(RecordItem::Marker(marker), Duration::from_millis(100));
    }

    /// Ends the recording: the recorder writes what it holds, finishes the files and
    /// returns the summary (also written as `summary.json`).
    pub fn finish(mut self) -> SessionSummary {
        self.end()
    }

    fn end(&mut self) -> SessionSummary {
        let _ = self.items.send(RecordItem::End);
        let thread = self.thread.take();
        thread.and_then(|t| t.join().ok()).unwrap_or_else(|| failed_summary(&self.dir))
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.end();
        }
    }
}

fn failed_summary(dir: &Path) -> SessionSummary {
    SessionSummary::load(&dir.join(SUMMARY_FILE)).unwrap_or_else(|_| blank_summary("", "", TraceFormat::Csv))
}

fn blank_summary(source: &str, model: &str, format: TraceFormat) -> SessionSummary {
    let options = RecordOptions::new(PathBuf::new(), format);
    blank_summary_for(source, model, &options)
}

fn blank_summary_for(source: &str, model: &str, options: &RecordOptions) -> SessionSummary {
    SessionSummary {
        complete: false,
        source: source.to_owned(),
        model: model.to_owned(),
        started_unix_s: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        start_session_s: 0.0,
        duration_s: 0.0,
        kept_s: 0.0,
        write_error: None,
        repaired: false,
        hops: 0,
        speech_s: 0.0,
        utterances: 0,
        emotion_shares: Default::default(),
        mean_probabilities: Default::default(),
        dropped_samples: 0,
        dropped_trace_rows: 0,
        dropped_audio_samples: 0,
        markers: Vec::new(),
        interruptions: Vec::new(),
        trace_file: options.trace_file(),
        audio_file: options.audio_file().to_owned(),
        client_code: options.client_code.clone(),
        notes: options.notes.clone(),
        calibration: options.calibration.clone(),
    }
}

/// Creates the session folder and its files, starts the recorder thread, and returns the
/// handle's end and the worker's end. `events` receives a `RecorderFailed` if writing
/// fails later and `RecordingStopped` at the end.
pub fn start_recording(
    options: &RecordOptions,
    source: &str,
    model: &str,
    events: Sender<EngineEvent>,
) -> Result<(Recording, RecorderFeed), RecorderError> {
    let dir = options.dir.clone();
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| RecorderError::Io { path, source }
    };
    create_private_dir_all(&dir).map_err(io_err(&dir))?;
    let trace_path = dir.join(options.trace_file());
    let wav_path = dir.join(options.audio_file());
    let store = SummaryStore::new(&dir, options.keys.as_ref());
    let taken = [
        trace_path.clone(),
        wav_path.clone(),
        dir.join(SUMMARY_FILE),
        dir.join(SEALED_SUMMARY_FILE),
        dir.join(KEY_FILE),
    ];
    if taken.iter().any(|p| p.exists()) {
        return Err(existing_session(&dir));
    }
    let (trace, wav) = match &options.keys {
        Some(keys) => {
            keys.write_key_file(&dir).map_err(io_err(&dir.join(KEY_FILE)))?;
            let trace = TraceWriter::create_sealed(&trace_path, options.trace_format, Arc::clone(keys))
                .map_err(io_err(&trace_path))?;
            let audio = SealedAudio::create(&wav_path, RECORD_RATE_HZ, Arc::clone(keys))
                .map_err(io_err(&wav_path))?;
            (trace, AudioSink::Sealed(audio))
        }
        None => {
            let trace =
                TraceWriter::create(&trace_path, options.trace_format).map_err(io_err(&trace_path))?;
            let wav = SessionWav::create(&wav_path, RECORD_RATE_HZ).map_err(io_err(&wav_path))?;
            (trace, AudioSink::Wav(wav))
        }
    };
    // The lock lasts while the recorder thread holds the audio file open (and dies with
    // the process), so a second session, here or in another process, is refused.
    if !repair::lock(wav.file()).map_err(io_err(&wav_path))? {
        return Err(RecorderError::Busy(dir));
    }
    let summary = blank_summary_for(source, model, options);
    store.save(&summary).map_err(io_err(store.path()))?;

    let (items_tx, items_rx) = crossbeam_channel::bounded(ITEM_CAPACITY);
    let (audio_prod, audio_cons) = HeapRb::<f32>::new(AUDIO_RING_S * RECORD_RATE_HZ as usize).split();
    let dropped_rows = Arc::new(AtomicU64::new(0));
    let dropped_audio = Arc::new(AtomicU64::new(0));
    let writer = RecorderThread {
        items: items_rx,
        audio: audio_cons,
        audio_buf: vec![0.0; RECORD_RATE_HZ as usize],
        trace,
        wav,
        summary,
        summary_store: store,
        builder: SummaryBuilder::default(),
        begin_s: None,
        dropped_rows: Arc::clone(&dropped_rows),
        dropped_audio: Arc::clone(&dropped_audio),
        events,
        failed: false,
        write_error: None,
        received_samples: 0,
    };
    let thread = std::thread::Builder::new()
        .name("emotrace-recorder".to_owned())
        .spawn(move || writer.run())
        .map_err(RecorderError::Thread)?;
    let feed = RecorderFeed { items: items_tx.clone(), audio: audio_prod, dropped_rows, dropped_audio };
    Ok((Recording { thread: Some(thread), items: items_tx, dir }, feed))
}

/// The error for a folder that already holds session files: busy (another session
/// writes it), repaired (a plain session there ended abruptly), or simply taken.
fn existing_session(dir: &Path) -> RecorderError {
    if is_locked(&dir.join(WAV_FILE)) || is_locked(&dir.join(SEALED_AUDIO_FILE)) {
        return RecorderError::Busy(dir.to_owned());
    }
    if is_unfinished(dir)
        && let Ok(report) = repair_session(dir)
    {
        return RecorderError::Repaired { dir: dir.to_owned(), report };
    }
    RecorderError::Exists(dir.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps_are_calendar_correct() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert_eq!(utc_stamp(1_798_761_599), "20261231-235959");
    }
}
