//! Run folders: `runs/<YYYYmmdd-HHMMSS>-<name>/` with the resolved `config.toml`,
//! `metrics.jsonl` (one line per epoch), `state.json`, checkpoints `best.*` / `last.*`,
//! the final `model.*`, `report.md` / `report.json` and plots. Cross-validation runs hold
//! one such folder per fold (`fold-1/`...) and a `cv.json` summary.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::trainer::{EpochRecord, TrainState};

/// One run folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `root/<time>-<name>` (with `-2`, `-3`... if it exists).
    pub fn create(root: &Path, name: &str) -> Result<Self, String> {
        let base = format!("{}-{}", utc_stamp(), sanitise(name));
        for attempt in 1.. {
            let path = if attempt == 1 { root.join(&base) } else { root.join(format!("{base}-{attempt}")) };
            if !path.exists() {
                std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                return Ok(Self { path });
            }
        }
        unreachable!("the loop only ends by returning")
    }

    /// A sub-run (a fold) inside this run.
    pub fn child(&self, name: &str) -> Result<Self, String> {
        let path = self.path.join(name);
        std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { path })
    }

    /// An existing run folder (for `--resume` and reports).
    pub fn open(path: &Path) -> Result<Self, String> {
        if path.join("config.toml").is_file() {
            Ok(Self { path: path.to_owned() })
        } else {
            Err(format!("{}: not a run folder (no config.toml)", path.display()))
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file in the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// A checkpoint stem (`best`, `last`, `model`): `<run>/<stem>.{json,safetensors}`.
    pub fn checkpoint(&self, stem: &str) -> PathBuf {
        self.path.join(stem)
    }

    /// Writes a text file in the folder.
    pub fn write(&self, name: &str, text: &str) -> Result<(), String> {
        let path = self.file(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Appends one epoch to `metrics.jsonl`.
    pub fn append_metrics(&self, record: &EpochRecord) -> Result<(), String> {
        let path = self.file("metrics.jsonl");
        let line = serde_json::to_string(record).map_err(|e| e.to_string())?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        writeln!(file, "{line}").map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Every epoch recorded so far (lines that do not parse are skipped).
    pub fn read_metrics(&self) -> Result<Vec<EpochRecord>, String> {
        let path = self.file("metrics.jsonl");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Saves `state.json`.
    pub fn write_state(&self, state: &TrainState) -> Result<(), String> {
        self.write("state.json", &serde_json::to_string_pretty(state).map_err(|e| e.to_string())?)
    }

    /// Reads `state.json`.
    pub fn read_state(&self) -> Result<TrainState, String> {
        let path = self.file("state.json");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn sanitise(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    if s.is_empty() { "run".into() } else { s }
}

/// `YYYYmmdd-HHMMSS` in UTC, now.
pub fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// `YYYYmmdd-HHMMSS` of Unix seconds (UTC), by the civil-from-days algorithm.
pub fn format_utc(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let rem = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}-{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting_known_dates() {
        assert_eq!(format_utc(0), "19700101-000000");
        assert_eq!(format_utc(951_782_400), "20000229-000000");
        assert_eq!(format_utc(1_700_000_000), "20231114-221320");
    }
}
