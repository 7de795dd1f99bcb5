//! Where `emotrace features --out` puts the frames: CSV or NPY, written a frame at a time
//! so that a file of any length needs no more memory than a short one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::features::FeatureConfig;
use crate::features::npy::NpyRowWriter;

/// The output file the user named, by format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Csv(PathBuf),
    Npy(PathBuf),
}

impl Output {
    /// The format from the file name's extension.
    pub fn from_path(path: PathBuf) -> anyhow::Result<Self> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => Ok(Self::Csv(path)),
            Some("npy") => Ok(Self::Npy(path)),
            _ => bail!("--out {}: the file name must end in .csv or .npy", path.display()),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Self::Csv(path) | Self::Npy(path) => path,
        }
    }
}

/// An open output file taking frames in order. It is written under a temporary name
/// beside the final one (`NAME.partial`) and renamed by [`finish`](Self::finish), so that
/// a failed run leaves nothing that looks complete: dropped unfinished, it deletes itself.
pub struct FrameWriter {
    sink: Sink,
    path: PathBuf,
    partial: PathBuf,
    columns: usize,
    rows: usize,
}

enum Sink {
    /// Header row `time_s` + column names, then one row per frame.
    Csv { out: BufWriter<File>, seconds_per_frame: f64 },
    /// float32, frames x values.
    Npy(NpyRowWriter<BufWriter<File>>),
}

impl FrameWriter {
    /// Creates the file (and, for CSV, writes the header row).
    pub fn create(output: &Output, cfg: &FeatureConfig) -> anyhow::Result<Self> {
        let path = output.path().to_owned();
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let cannot_write = || format!("cannot write {}", path.display());
        let mut out = BufWriter::new(File::create(&partial).with_context(cannot_write)?);
        // NOTE: from here on an early return drops the writer, which deletes the partial file.
        let sink = match output {
            Output::Csv(_) => {
                writeln!(out, "time_s,{}", cfg.column_names().join(",")).with_context(cannot_write)?;
                Sink::Csv { out, seconds_per_frame: cfg.hop_s() }
            }
            Output::Npy(_) => Sink::Npy(NpyRowWriter::new(out, cfg.frame_dim()).with_context(cannot_write)?),
        };
        Ok(Self { sink, path, partial, columns: cfg.frame_dim(), rows: 0 })
    }

    /// Appends frame number `index` (frames come in order from 0).
    pub fn write(&mut self, index: usize, features: &[f32]) -> anyhow::Result<()> {
        match &mut self.sink {
            Sink::Csv { out, seconds_per_frame } => {
                write_csv_row(out, index as f64 * *seconds_per_frame, features)
            }
            Sink::Npy(out) => out.write_row(features),
        }
        .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.rows += 1;
        Ok(())
    }

    /// Completes the file under its final name; returns the line the command prints.
    pub fn finish(mut self) -> anyhow::Result<String> {
        let (path, rows, columns) = (self.path.clone(), self.rows, self.columns);
        let cannot_write = || format!("cannot write {}", path.display());
        let line = match &mut self.sink {
            Sink::Csv { out, .. } => {
                out.flush().with_context(cannot_write)?;
                format!("wrote {}: {rows} rows, time_s + {columns} columns", path.display())
            }
            Sink::Npy(out) => {
                out.finish().with_context(cannot_write)?;
                format!("wrote {}: float32 {rows} x {columns}", path.display())
            }
        };
        std::fs::rename(&self.partial, &path).with_context(cannot_write)?;
        Ok(line)
    }
}

impl Drop for FrameWriter {
    fn drop(&mut self) {
        // NOTE: after a successful `finish` the partial file has been renamed away.
        let _ = std::fs::remove_file(&self.partial);
    }
}

/// `time_s` to the millisecond, then every value (Rust's shortest round-trip form).
fn write_csv_row(out: &mut impl Write, time_s: f64, features: &[f32]) -> std::io::Result<()> {
    write!(out, "{time_s:.3}")?;
    for v in features {
        write!(out, ",{v}")?;
    }
    writeln!(out)
}
