//! Writing results a file at a time, flushed after each, so that an interrupted run
//! keeps every file it finished (and `--resume` can go on from there).
//!
//! - CSV: `file,emotion,duration_s,<seven probabilities>,error`, one row per file; with
//!   the timeline `file,time_s,<seven probabilities>,error`, one row per point. A file
//!   that could not be scored is one row with only `file` and `error`.
//! - JSON lines: one object per file (`file`, `emotion`, `probabilities`, `duration_s`,
//!   `speech_s`, `streamed`, and `timeline` when asked), or `{"file", "error"}`.
//! - JSON: the same objects as one array (written as they come; not resumable).
//! - Table: for reading in a terminal (not resumable).

use std::io::Write;

use serde::Serialize;

use super::{FileReport, Scored};
use crate::model::Emotion;
use crate::train::metrics::argmax;

/// How results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for reading.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line, per file.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

impl OutputFormat {
    /// Whether `--resume` can read this format back.
    pub fn resumable(self) -> bool {
        matches!(self, Self::Jsonl | Self::Csv)
    }
}

/// The CSV header row (without its newline).
pub fn csv_header(timeline: bool) -> String {
    let names = Emotion::ALL.map(Emotion::name).join(",");
    if timeline {
        format!("file,time_s,{names},error")
    } else {
        format!("file,emotion,duration_s,{names},error")
    }
}

/// One file's line in JSON: its results or its error.
#[derive(Serialize)]
struct JsonReport<'a> {
    file: String,
    #[serde(flatten)]
    scored: Option<&'a Scored>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Writes reports as they come, in one format.
pub struct ResultWriter<W: Write> {
    out: W,
    format: OutputFormat,
    timeline: bool,
    written: usize,
}

impl<W: Write> ResultWriter<W> {
    /// A writer; `header` says whether to start with the format's header (not when
    /// appending to a resumed file).
    pub fn new(mut out: W, format: OutputFormat, timeline: bool, header: bool) -> std::io::Result<Self> {
        if header {
            match format {
                OutputFormat::Csv => writeln!(out, "{}", csv_header(timeline))?,
                OutputFormat::Table => {
                    let header: String = Emotion::ALL.iter().map(|e| format!("{:>10}", e.name())).collect();
                    writeln!(out, "{:<10} {:>6} {header}  file", "emotion", "prob")?;
                }
                OutputFormat::Json | OutputFormat::Jsonl => {}
            }
            out.flush()?;
        }
        Ok(Self { out, format, timeline, written: 0 })
    }

    /// Writes one file's results (or its error line) and flushes.
    pub fn write(&mut self, report: &FileReport) -> std::io::Result<()> {
        let file = report.path.display().to_string();
        match self.format {
            OutputFormat::Csv => self.csv(&file, report)?,
            OutputFormat::Jsonl | OutputFormat::Json => {
                let line = JsonReport {
                    file,
                    scored: report.outcome.as_ref().ok(),
                    error: report.outcome.as_ref().err().map(ToString::to_string),
                };
                let text = if self.format == OutputFormat::Json {
                    let lead = if self.written == 0 { "[\n" } else { ",\n" };
                    format!("{lead}{}", serde_json::to_string_pretty(&line)?)
                } else {
                    serde_json::to_string(&line)? + "\n"
                };
                self.out.write_all(text.as_bytes())?;
            }
            OutputFormat::Table => self.table(&file, report)?,
        }
        self.written += 1;
        self.out.flush()
    }

    /// Ends the output (closes the JSON array) and hands back the sink.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.format == OutputFormat::Json {
            self.out.write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn csv(&mut self, file: &str, report: &FileReport) -> std::io::Result<()> {
        let mut rows = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        let probs = |p: &[f32; Emotion::COUNT]| p.map(|x| format!("{x:.4}"));
        match &report.outcome {
            Ok(scored) if self.timeline => {
                for point in scored.timeline.iter().flatten() {
                    let time = format!("{:.2}", point.time_s);
                    let probabilities = probs(&point.probabilities);
                    let row = [file, &time].into_iter().chain(probabilities.iter().map(String::as_str));
                    rows.write_record(row.chain([""]))?;
                }
            }
            Ok(scored) => {
                let p = &scored.prediction;
                let duration = format!("{:.2}", p.duration_s);
                let head = [file, p.emotion.name(), &duration];
                rows.write_record(
                    head.into_iter().chain(probs(&p.probabilities).iter().map(String::as_str)).chain([""]),
                )?;
            }
            Err(e) => {
                let empty = if self.timeline { 1 } else { 2 } + Emotion::COUNT;
                let reason = e.to_string();
                rows.write_record(
                    [file].into_iter().chain(std::iter::repeat_n("", empty)).chain([reason.as_str()]),
                )?;
            }
        }
        let bytes = rows.into_inner().map_err(|e| e.into_error())?;
        self.out.write_all(&bytes)
    }

    fn table(&mut self, file: &str, report: &FileReport) -> std::io::Result<()> {
        let cells = |p: &[f32]| p.iter().map(|x| format!("{:>9.1}%", 100.0 * x)).collect::<String>();
        let scored = match &report.outcome {
            Ok(scored) => scored,
            Err(e) => return writeln!(self.out, "{:<10} {:>6} {e}  {file}", "error", "-"),
        };
        let p = &scored.prediction;
        writeln!(
            self.out,
            "{:<10} {:>5.1}% {}  {file}",
            p.emotion.name(),
            100.0 * p.probabilities[p.emotion.index()],
            cells(&p.probabilities)
        )?;
        for point in scored.timeline.iter().flatten() {
            let top = Emotion::from_index(argmax(&point.probabilities)).unwrap_or(Emotion::Neutral);
            writeln!(
                self.out,
                "  {:>6.2} s {:<9} {}",
                point.time_s,
                top.name(),
                cells(&point.probabilities)
            )?;
        }
        Ok(())
    }
}
