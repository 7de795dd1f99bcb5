//! The session summary: how long, how much speech, which emotions and how often, what
//! was lost. Accumulated row by row, written as `summary.json`.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::trace::Marker;
use crate::engine::snapshot::Snapshot;
use crate::model::Emotion;
use crate::sessions::private::write_private_atomic;

/// A stretch of the session when the input device was gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interruption {
    /// Recording time when the device was lost, in seconds.
    pub at_s: f64,
    /// What went wrong.
    pub reason: String,
}

/// What `summary.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// `false` while recording (and in a file left by a killed process).
    pub complete: bool,
    /// The audio source (device name or file path).
    pub source: String,
    /// The model file used.
    pub model: String,
    /// When recording started, in seconds since the Unix epoch.
    pub started_unix_s: u64,
    /// Session (stream) time at which recording started, in seconds.
    pub start_session_s: f64,
    /// Audio the recording covered, in seconds (counted on, after a write error, until
    /// the recording ended: the session's length, not the files').
    pub duration_s: f64,
    /// Audio kept in the WAV file, in seconds: `duration_s` unless writing failed.
    #[serde(default)]
    pub kept_s: f64,
    /// The write error that stopped the files (disk full, folder gone), if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_error: Option<String>,
    /// Whether a later start repaired the files after the session ended abruptly.
    #[serde(default)]
    pub repaired: bool,
    /// Hops (trace rows) recorded.
    pub hops: u64,
    /// Hops counted as speech, in seconds.
    pub speech_s: f64,
    /// Utterances seen while recording (one in progress at the start counts).
    pub utterances: u64,
    /// Per emotion: the share of speech hops on which it was the top emotion (sums to 1
    /// when there was speech and a model).
    pub emotion_shares: BTreeMap<String, f64>,
    /// Per emotion: its mean smoothed probability over speech hops.
    pub mean_probabilities: BTreeMap<String, f64>,
    /// Input samples the capture ring dropped while recording.
    pub dropped_samples: u64,
    /// Trace rows that could not be handed to the recorder (it fell behind).
    pub dropped_trace_rows: u64,
    /// Audio samples that could not be handed to the recorder (it fell behind).
    pub dropped_audio_samples: u64,
    /// Markers added while recording.
    pub markers: Vec<Marker>,
    /// Times the input device was lost while recording.
    pub interruptions: Vec<Interruption>,
    /// The trace file's name in the session folder.
    pub trace_file: String,
    /// The audio file's name in the session folder.
    pub audio_file: String,
    /// The client's pseudonymous code (no names needed), empty if none was given.
    #[serde(default)]
    pub client_code: String,
    /// Free-text notes on the session.
    #[serde(default)]
    pub notes: String,
    /// The calibration file the model read the voice against (`None`: the session's own
    /// statistics, or a model that does not normalise by speaker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<String>,
}

impl SessionSummary {
    /// Reads a `summary.json`.
    pub fn load(path: &Path) -> io::Result<Self> {
        let text = fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(io::Error::other)
    }

    /// Writes it as pretty JSON, replacing the file atomically (a private temporary
    /// file, then rename): the file is `0600` whatever the umask.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        write_private_atomic(path, &self.to_json())
    }

    /// The summary as pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        // NOTE: plain data (strings, numbers, maps) always serialises.
        let mut text = serde_json::to_vec_pretty(self).unwrap_or_default();
        text.push(b'\n');
        text
    }

    /// Overwrites the file in place, for when [`save`](Self::save) fails because the disk
    /// is full: the old file's blocks take the new text (a summary grows little), where a
    /// temporary file would need new ones. Not atomic; only for that last resort.
    pub fn save_in_place(&self, path: &Path) -> io::Result<()> {
        use std::io::Write;
        let _ = fs::remove_file(path.with_extension("json.tmp"));
        let text = self.to_json();
        let mut file = fs::OpenOptions::new().write(true).open(path)?;
        file.write_all(&text)?;
        file.set_len(text.len() as u64)?;
        file.sync_all()
    }
}

/// Accumulates a summary from the recorded rows.
#[derive(Debug, Clone, Default)]
pub struct SummaryBuilder {
    hops: u64,
    speech_hops: u64,
    /// Speech hops with model probabilities.
    scored_hops: u64,
    hop_s: f64,
    top_counts: [u64; Emotion::COUNT],
    prob_sums: [f64; Emotion::COUNT],
    first_dropped: Option<u64>,
    last_dropped: u64,
    last_utterance: Option<u64>,
    utterances: u64,
    last_time_s: Option<f64>,
}

impl SummaryBuilder {
    /// Counts one recorded hop.
    pub fn add(&mut self, snapshot: &Snapshot) {
        self.hops += 1;
        if let Some(prev) = self.last_time_s {
            self.hop_s = snapshot.time_s - prev;
        }
        self.last_time_s = Some(snapshot.time_s);
        self.first_dropped.get_or_insert(snapshot.dropped_samples);
        self.last_dropped = snapshot.dropped_samples;
        // Each utterance index seen counts once (one in progress when recording began too).
        if snapshot.utterance_index > 0 && self.last_utterance != Some(snapshot.utterance_index) {
            self.utterances += 1;
            self.last_utterance = Some(snapshot.utterance_index);
        }
        self.speech_hops += u64::from(snapshot.speech);
        if let (Some(p), Some((top, _))) = (snapshot.probabilities, snapshot.top()) {
            self.scored_hops += 1;
            self.top_counts[top.index()] += 1;
            for (sum, &pi) in self.prob_sums.iter_mut().zip(&p) {
                *sum += f64::from(pi);
            }
        }
    }

    /// Hops counted so far.
    pub fn hops(&self) -> u64 {
        self.hops
    }

    /// Hops in speech so far.
    pub fn speech_hops(&self) -> u64 {
        self.speech_hops
    }

    /// Scored speech hops per top emotion so far, indexed by `Emotion::index`.
    pub fn top_counts(&self) -> &[u64; Emotion::COUNT] {
        &self.top_counts
    }

    /// Fills the computed fields of `summary`.
    pub fn fill(&self, summary: &mut SessionSummary) {
        summary.hops = self.hops;
        summary.speech_s = self.speech_hops as f64 * self.hop_s;
        summary.utterances = self.utterances;
        summary.dropped_samples = self.last_dropped - self.first_dropped.unwrap_or(self.last_dropped);
        let speech = self.scored_hops.max(1) as f64;
        summary.emotion_shares = Emotion::ALL
            .iter()
            .map(|e| (e.name().to_owned(), self.top_counts[e.index()] as f64 / speech))
            .collect();
        summary.mean_probabilities =
            Emotion::ALL.iter().map(|e| (e.name().to_owned(), self.prob_sums[e.index()] / speech)).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::snapshot::MelColumn;

    fn hop(i: u64, top: Option<Emotion>, utterance: u64, dropped: u64) -> Snapshot {
        let probabilities = top.map(|e| {
            let mut p = [0.0; Emotion::COUNT];
            p[e.index()] = 0.7;
            p[(e.index() + 1) % Emotion::COUNT] = 0.3;
            p
        });
        Snapshot {
            hop_index: i,
            time_s: i as f64 * 0.01,
            mel_db: MelColumn::EMPTY,
            level_dbfs: -20.0,
            speech: top.is_some(),
            utterance_s: 0.0,
            utterance_index: utterance,
            probabilities,
            raw_probabilities: probabilities,
            dropped_samples: dropped,
            latency_ms: 0.0,
        }
    }

    #[test]
    fn shares_speech_and_drops_add_up() {
        let mut b = SummaryBuilder::default();
        b.add(&hop(0, None, 0, 10));
        b.add(&hop(1, Some(Emotion::Happy), 1, 10));
        b.add(&hop(2, Some(Emotion::Happy), 1, 10));
        b.add(&hop(3, Some(Emotion::Sad), 1, 12));
        b.add(&hop(4, None, 1, 15));
        b.add(&hop(5, Some(Emotion::Sad), 2, 15));
        let mut s = SessionSummary {
            complete: true,
            source: "x".into(),
            model: "m".into(),
            started_unix_s: 0,
            start_session_s: 0.0,
            duration_s: 0.06,
            kept_s: 0.06,
            write_error: None,
            repaired: false,
            hops: 0,
            speech_s: 0.0,
            utterances: 0,
            emotion_shares: BTreeMap::new(),
            mean_probabilities: BTreeMap::new(),
            dropped_samples: 0,
            dropped_trace_rows: 0,
            dropped_audio_samples: 0,
            markers: vec![],
            interruptions: vec![],
            trace_file: "trace.csv".into(),
            audio_file: "audio.wav".into(),
            client_code: String::new(),
            notes: String::new(),
            calibration: None,
        };
        b.fill(&mut s);
        assert_eq!(s.hops, 6);
        assert!((s.speech_s - 0.04).abs() < 1e-9);
        assert_eq!(s.utterances, 2);
        assert_eq!(s.dropped_samples, 5);
        assert_eq!(s.emotion_shares["happy"], 0.5);
        assert_eq!(s.emotion_shares["sad"], 0.5);
        assert_eq!(s.emotion_shares["angry"], 0.0);
        assert!((s.mean_probabilities["happy"] - (0.7 * 2.0 / 4.0)).abs() < 1e-6);
        let total: f64 = s.emotion_shares.values().sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
