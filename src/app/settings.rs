//! The window's persisted settings: a JSON file in the user's config folder
//! (`~/.config/emotrace/window.json` on Linux), or in `$EMOTRACE_CONFIG_DIR` / the
//! `--config-dir` flag when set (tests point it at a temporary folder).
//!
//! Every field has a serde default, so a file from an older build (or a hand-edited one
//! missing fields) still loads; an unreadable file falls back to the defaults.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::{EngineConfig, VadConfig};

/// The settings file's name inside the config folder.
pub const SETTINGS_FILE: &str = "window.json";
/// Environment variable naming the config folder (overrides the platform's).
pub const CONFIG_DIR_ENV: &str = "EMOTRACE_CONFIG_DIR";
/// Environment variable naming the folder sessions are recorded into.
pub const SESSIONS_DIR_ENV: &str = "EMOTRACE_SESSIONS_DIR";

/// Light or dark look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeChoice {
    /// Dark background (the default: spectrograms read better on it).
    #[default]
    Dark,
    /// Light background.
    Light,
}

/// What the window remembers between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Input device name as the audio layer reports it; `None` is the default input.
    pub device: Option<String>,
    /// Seconds of emotion trace shown (30-120).
    pub trace_window_s: f64,
    /// Seconds of spectrogram shown.
    pub spectrogram_window_s: f64,
    /// Time constant of the probability smoothing, in ms (0: none).
    pub smoothing_ms: f32,
    /// Frames quieter than this are never speech, in dBFS.
    pub silence_threshold_dbfs: f32,
    /// Light or dark look.
    pub theme: ThemeChoice,
    /// The last file replayed, offered again.
    pub last_replay: Option<PathBuf>,
    /// Replay as fast as possible instead of at 1x.
    pub replay_fast: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let engine = EngineConfig::default();
        Self {
            device: None,
            trace_window_s: 60.0,
            spectrogram_window_s: 10.0,
            smoothing_ms: engine.smoothing_ms,
            silence_threshold_dbfs: engine.vad.threshold_dbfs,
            theme: ThemeChoice::default(),
            last_replay: None,
            replay_fast: false,
        }
    }
}

/// Shortest and longest trace window offered, in seconds.
pub const TRACE_WINDOW_RANGE_S: (f64, f64) = (30.0, 120.0);

impl Settings {
    /// Reads `dir/window.json`; missing or unreadable files give the defaults (a broken
    /// file is not worth refusing to open the window over).
    pub fn load(dir: &Path) -> Self {
        let path = dir.join(SETTINGS_FILE);
        std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str::<Settings>(&text).ok())
            .map(Settings::clamped)
            .unwrap_or_default()
    }

    /// Writes `dir/window.json` (creating `dir`), through a temporary file so a crash
    /// never leaves half a file.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!("{SETTINGS_FILE}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, dir.join(SETTINGS_FILE))
    }

    /// Brings out-of-range values (hand edits) back into range.
    pub fn clamped(mut self) -> Self {
        let (lo, hi) = TRACE_WINDOW_RANGE_S;
        self.trace_window_s = finite_or(self.trace_window_s, 60.0).clamp(lo, hi);
        self.spectrogram_window_s = finite_or(self.spectrogram_window_s, 10.0).clamp(2.0, 30.0);
        self.smoothing_ms = finite_or(f64::from(self.smoothing_ms), 250.0).clamp(0.0, 5_000.0) as f32;
        self.silence_threshold_dbfs =
            finite_or(f64::from(self.silence_threshold_dbfs), -50.0).clamp(-100.0, 0.0) as f32;
        self
    }

    /// The engine configuration these settings ask for (start paused: the window attaches
    /// a recording, if any, before the first sample is analysed).
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            vad: VadConfig { threshold_dbfs: self.silence_threshold_dbfs, ..VadConfig::default() },
            smoothing_ms: self.smoothing_ms,
            start_paused: true,
            ..EngineConfig::default()
        }
    }
}

fn finite_or(value: f64, fallback: f64) -> f64 {
    if value.is_finite() { value } else { fallback }
}

/// The config folder: `$EMOTRACE_CONFIG_DIR` if set, else the platform's
/// (`~/.config/emotrace`), else `./.emotrace`.
pub fn default_config_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "emotrace")
        .map_or_else(|| PathBuf::from(".emotrace"), |p| p.config_dir().to_owned())
}

/// Where recorded sessions go: `$EMOTRACE_SESSIONS_DIR` if set, else the user's data
/// folder (`~/.local/share/emotrace/sessions`), else `./sessions`.
pub fn default_sessions_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(SESSIONS_DIR_ENV) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "emotrace")
        .map_or_else(|| PathBuf::from("sessions"), |p| p.data_dir().join("sessions"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file missing fields loads with defaults for them; out-of-range values are clamped.
    #[test]
    fn partial_and_bad_files_load_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SETTINGS_FILE), r#"{"trace_window_s": 1000, "theme": "light"}"#)
            .unwrap();
        let s = Settings::load(dir.path());
        assert_eq!(s.trace_window_s, 120.0);
        assert_eq!(s.theme, ThemeChoice::Light);
        assert_eq!(s.smoothing_ms, Settings::default().smoothing_ms);
        std::fs::write(dir.path().join(SETTINGS_FILE), "not json").unwrap();
        assert_eq!(Settings::load(dir.path()), Settings::default());
    }

    /// What is saved is what loads.
    #[test]
    fn save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings { device: Some("hw:1,0".into()), smoothing_ms: 100.0, ..Settings::default() };
        s.save(dir.path()).unwrap();
        assert_eq!(Settings::load(dir.path()), s);
    }
}
