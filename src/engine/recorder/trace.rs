//! The trace as text: one row per hop (and one per marker), as CSV or JSON lines.
//!
//! Rows are formatted into a buffer the writer owns and reach the file only as whole
//! lines in one `write_all` at each flush, so a process killed at any moment leaves a
//! file of complete rows (at most the last flush interval missing).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::engine::snapshot::{Probabilities, Snapshot};
use crate::model::Emotion;
use crate::sessions::keys::SessionKeys;
use crate::sessions::private::create_private_file;
use crate::sessions::sealed::{SealedWriter, StreamTag};

/// How the trace file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceFormat {
    /// Comma-separated values with a header row (`trace.csv`).
    #[default]
    Csv,
    /// One JSON object per line (`trace.jsonl`).
    Jsonl,
}

impl TraceFormat {
    /// The trace's file name in a session folder.
    pub fn file_name(self) -> &'static str {
        match self {
            TraceFormat::Csv => "trace.csv",
            TraceFormat::Jsonl => "trace.jsonl",
        }
    }
}

/// A timestamped note added during a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// Stream time of the marker, in seconds since the session started.
    pub time_s: f64,
    /// The note.
    pub note: String,
}

/// Probabilities serialised as `{"neutral": p, ...}` in class order.
struct ProbMap<'a>(&'a Probabilities);

impl Serialize for ProbMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(Emotion::COUNT))?;
        for emotion in Emotion::ALL {
            map.serialize_entry(emotion.name(), &self.0[emotion.index()])?;
        }
        map.end()
    }
}

/// One hop as a JSON object: the shape of `monitor --headless` lines and `trace.jsonl`.
#[derive(Serialize)]
struct JsonRow<'a> {
    t_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_t_s: Option<f64>,
    hop: u64,
    speech: bool,
    label: &'static str,
    level_dbfs: f32,
    utterance: u64,
    utterance_s: f32,
    p: Option<ProbMap<'a>>,
    dropped_samples: u64,
    latency_ms: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    mel_db: Option<&'a [f32]>,
}

/// Appends `snapshot` as one JSON line (with `\n`) to `out`. `t_s` is the row's time;
/// `session_t_s`, when given, is written too (recordings that began mid-session).
pub fn json_line(snapshot: &Snapshot, t_s: f64, session_t_s: Option<f64>, with_mel: bool, out: &mut Vec<u8>) {
    let row = JsonRow {
        t_s: round_us(t_s),
        session_t_s: session_t_s.map(round_us),
        hop: snapshot.hop_index,
        speech: snapshot.speech,
        label: snapshot.label(),
        level_dbfs: snapshot.level_dbfs,
        utterance: snapshot.utterance_index,
        utterance_s: snapshot.utterance_s,
        p: snapshot.probabilities.as_ref().map(ProbMap),
        dropped_samples: snapshot.dropped_samples,
        latency_ms: snapshot.latency_ms,
        mel_db: with_mel.then(|| snapshot.mel_db.as_slice()),
    };
    // NOTE: serialising plain numbers, strings and maps into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &row);
    out.push(b'\n');
}

fn round_us(t_s: f64) -> f64 {
    (t_s * 1e6).round() / 1e6
}

/// The CSV header row.
pub fn csv_header() -> String {
    let mut cols =
        vec!["t_s", "session_t_s", "hop", "speech", "label", "level_dbfs", "utterance", "utterance_s"];
    let probs: Vec<String> = Emotion::ALL.iter().map(|e| format!("p_{}", e.name())).collect();
    cols.extend(probs.iter().map(String::as_str));
    cols.extend(["dropped_samples", "latency_ms", "marker"]);
    cols.join(",") + "\n"
}

fn csv_row(snapshot: &Snapshot, t_s: f64, session_t_s: f64, out: &mut Vec<u8>) -> io::Result<()> {
    write!(
        out,
        "{:.6},{:.6},{},{},{},{:.2},{},{:.3}",
        t_s,
        session_t_s,
        snapshot.hop_index,
        u8::from(snapshot.speech),
        snapshot.label(),
        snapshot.level_dbfs,
        snapshot.utterance_index,
        snapshot.utterance_s
    )?;
    for i in 0..Emotion::COUNT {
        match &snapshot.probabilities {
            Some(p) => write!(out, ",{:.6}", p[i])?,
            None => out.push(b','),
        }
    }
    writeln!(out, ",{},{:.3},", snapshot.dropped_samples, snapshot.latency_ms)
}

/// A CSV field: quoted, with inner quotes doubled, when it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Where trace rows go: a plain text file, or a sealed (encrypted) one.
enum TraceSink {
    Plain(File),
    Sealed(SealedWriter),
}

/// Writes a session's trace file.
pub struct TraceWriter {
    sink: TraceSink,
    path: PathBuf,
    format: TraceFormat,
    pending: Vec<u8>,
    rows: u64,
    /// Bytes of whole rows in the file.
    written: u64,
}

impl TraceWriter {
    /// Creates the trace file (a new private file: `0600`) and writes the CSV header.
    pub fn create(path: &Path, format: TraceFormat) -> io::Result<Self> {
        Self::with_sink(path, format, TraceSink::Plain(create_private_file(path)?))
    }

    /// Creates an encrypted trace file: each flush seals the rows it writes.
    pub fn create_sealed(path: &Path, format: TraceFormat, keys: Arc<SessionKeys>) -> io::Result<Self> {
        Self::with_sink(path, format, TraceSink::Sealed(SealedWriter::create(path, keys, StreamTag::Trace)?))
    }

    fn with_sink(path: &Path, format: TraceFormat, sink: TraceSink) -> io::Result<Self> {
        let mut writer = Self {
            sink,
            path: path.to_owned(),
            format,
            pending: Vec::with_capacity(64 * 1024),
            rows: 0,
            written: 0,
        };
        if format == TraceFormat::Csv {
            writer.pending.extend_from_slice(csv_header().as_bytes());
        }
        writer.flush()?;
        Ok(writer)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows written or pending.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Queues one hop; `t_s` is its time in the recording, `session_t_s` in the session.
    pub fn snapshot(&mut self, snapshot: &Snapshot, t_s: f64, session_t_s: f64) -> io::Result<()> {
        self.rows += 1;
        match self.format {
            TraceFormat::Csv => csv_row(snapshot, t_s, session_t_s, &mut self.pending),
            TraceFormat::Jsonl => {
                json_line(snapshot, t_s, Some(session_t_s), false, &mut self.pending);
                Ok(())
            }
        }
    }

    /// Queues a marker row.
    pub fn marker(&mut self, marker: &Marker, t_s: f64) -> io::Result<()> {
        self.rows += 1;
        match self.format {
            TraceFormat::Csv => {
                let blanks = ",".repeat(6 + Emotion::COUNT + 2);
                writeln!(self.pending, "{t_s:.6},{:.6}{blanks},{}", marker.time_s, csv_field(&marker.note))
            }
            TraceFormat::Jsonl => {
                #[derive(Serialize)]
                struct MarkerRow<'a> {
                    t_s: f64,
                    session_t_s: f64,
                    marker: &'a str,
                }
                let row = MarkerRow {
                    t_s: round_us(t_s),
                    session_t_s: round_us(marker.time_s),
                    marker: &marker.note,
                };
                serde_json::to_writer(&mut self.pending, &row).map_err(io::Error::other)?;
                self.pending.push(b'\n');
                Ok(())
            }
        }
    }

    /// Writes every queued row to the file in one piece. If the write fails partway
    /// (disk full), the file is cut back to its last whole row, so it always parses.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            match &mut self.sink {
                TraceSink::Plain(file) => {
                    if let Err(err) = file.write_all(&self.pending) {
                        // NOTE: shrinking needs no space, so this works on a full disk; if
                        // it fails too, the first error is still the one to report.
                        let _ = file.set_len(self.written);
                        return Err(err);
                    }
                }
                // The sealed writer cuts a failed record back itself.
                TraceSink::Sealed(sealed) => sealed.append(&self.pending)?,
            }
            self.written += self.pending.len() as u64;
            self.pending.clear();
        }
        Ok(())
    }

    /// Flushes and syncs the file to disk (a sealed file gets its final segment).
    pub fn finish(&mut self) -> io::Result<()> {
        self.flush()?;
        match &mut self.sink {
            TraceSink::Plain(file) => file.sync_all(),
            TraceSink::Sealed(sealed) => sealed.finish(&[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::snapshot::MelColumn;

    fn snapshot(speech: bool) -> Snapshot {
        let mut p = [0.0; Emotion::COUNT];
        p[Emotion::Angry.index()] = 1.0;
        Snapshot {
            hop_index: 42,
            time_s: 0.42,
            mel_db: MelColumn::from_slice(&[-1.0, -2.0]),
            level_dbfs: -20.0,
            speech,
            utterance_s: 0.2,
            utterance_index: 1,
            probabilities: speech.then_some(p),
            raw_probabilities: speech.then_some(p),
            dropped_samples: 3,
            latency_ms: 5.5,
        }
    }

    #[test]
    fn json_line_names_classes_and_says_no_speech() {
        let mut out = Vec::new();
        json_line(&snapshot(true), 0.42, None, true, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["label"], "angry");
        assert_eq!(v["p"]["angry"], 1.0);
        assert_eq!(v["mel_db"][1], -2.0);
        assert!(v.get("session_t_s").is_none());
        out.clear();
        json_line(&snapshot(false), 0.42, Some(1.0), false, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["label"], "no speech");
        assert!(v["p"].is_null());
        assert_eq!(v["session_t_s"], 1.0);
    }

    #[test]
    fn csv_rows_have_as_many_fields_as_the_header() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("trace.csv");
        let mut writer = TraceWriter::create(&path, TraceFormat::Csv).expect("create");
        writer.snapshot(&snapshot(true), 0.1, 0.5).expect("row");
        writer.snapshot(&snapshot(false), 0.11, 0.51).expect("row");
        writer.marker(&Marker { time_s: 0.5, note: "said \"hi\", then left".into() }, 0.1).expect("marker");
        writer.finish().expect("finish");
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        let n = lines[0].split(',').count();
        assert_eq!(lines[1].split(',').count(), n);
        assert_eq!(lines[2].split(',').count(), n);
        assert!(lines[2].contains("no speech"));
        assert!(lines[3].ends_with("\"said \"\"hi\"\", then left\""), "{}", lines[3]);
        assert!(TraceWriter::create(&path, TraceFormat::Csv).is_err(), "never overwrites a trace");
    }
}
