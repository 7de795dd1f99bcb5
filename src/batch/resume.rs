//! `--resume`: what an earlier, interrupted run already wrote to the output file, so the
//! next run skips those files and appends the rest.
//!
//! Results are written a file at a time and flushed, in the order of the file list, so
//! an interrupted output is whole files plus at most a cut-off last line. That line is
//! dropped (its file is scored again). With `--timeline` in CSV a file spans several
//! rows, and the last file's rows may be cut short at a line boundary: its rows are
//! dropped too and it is scored again. A file whose line is an error counts as done.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::OutputFormat;

/// Why an output file cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The file cannot be read: check the path and permissions.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The output file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not what this run would write (another format, with or without the
    /// timeline, or not an emotrace output): pass the same flags, or another `--out`.
    #[error("{}: {reason}; resume with the flags that wrote it, or choose another --out", path.display())]
    Mismatch {
        /// The output file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
}

/// What an earlier run left in the output file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resumed {
    /// The files with results (or error lines) in it, as written (`file` field).
    pub done: HashSet<String>,
    /// Bytes to keep: the rest is a cut-off line or a possibly incomplete last file.
    pub keep_bytes: u64,
    /// Whether the kept part holds the header already (CSV).
    pub has_header: bool,
}

/// Reads `path` as written by `predict --format FORMAT [--timeline]`; a missing or empty
/// file is a fresh start.
pub fn read_output(
    path: &Path,
    format: OutputFormat,
    timeline: bool,
    header: &str,
) -> Result<Resumed, ResumeError> {
    let io = |source| ResumeError::Io { path: path.to_owned(), source };
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Resumed::default()),
        Err(e) => return Err(io(e)),
    };
    let whole_lines = whole_lines_len(&mut file).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mismatch = |reason: String| ResumeError::Mismatch { path: path.to_owned(), reason };
    let mut done = HashSet::new();
    match format {
        OutputFormat::Jsonl => {
            for (n, line) in BufReader::new(file.take(whole_lines)).lines().enumerate() {
                let line = line.map_err(io)?;
                let value: serde_json::Value = serde_json::from_str(&line)
                    .map_err(|e| mismatch(format!("line {} is not a JSON result line ({e})", n + 1)))?;
                let name = value.get("file").and_then(serde_json::Value::as_str);
                done.insert(
                    name.ok_or_else(|| mismatch(format!("line {} names no file", n + 1)))?.to_owned(),
                );
            }
            Ok(Resumed { done, keep_bytes: whole_lines, has_header: false })
        }
        OutputFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(file.take(whole_lines));
            let mut record = csv::StringRecord::new();
            let mut keep_bytes;
            let mut last_file: Option<(String, u64)> = None;
            let mut has_header = false;
            while {
                let start = reader.position().byte();
                let more = reader.read_record(&mut record).map_err(|e| mismatch(format!("not CSV ({e})")))?;
                if more && !has_header {
                    let got = record.iter().collect::<Vec<_>>().join(",");
                    if got != header {
                        return Err(mismatch(format!("its header is `{got}`, this run writes `{header}`")));
                    }
                    has_header = true;
                } else if more {
                    let name = record.get(0).unwrap_or_default().to_owned();
                    if last_file.as_ref().is_none_or(|(f, _)| *f != name) {
                        last_file = Some((name.clone(), start));
                        done.insert(name);
                    }
                }
                keep_bytes = reader.position().byte();
                more
            } {}
            if timeline && let Some((name, start)) = last_file {
                done.remove(&name);
                keep_bytes = start;
            }
            Ok(Resumed { done, keep_bytes, has_header })
        }
        OutputFormat::Json | OutputFormat::Table => {
            Err(mismatch("--resume reads CSV or JSON lines output only".to_owned()))
        }
    }
}

/// Length of the file up to and including its last newline.
fn whole_lines_len(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut end = len;
    let mut block = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(block.len() as u64);
        file.seek(SeekFrom::Start(start))?;
        let part = &mut block[..(end - start) as usize];
        file.read_exact(part)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}
