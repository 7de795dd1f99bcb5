//! The monitor window (eframe/egui): a scrolling spectrogram, the emotion traces, the
//! current emotion, and panels for input, replay, sessions, the model and settings.
//!
//! ```text
//! engine worker ──snapshots──> EngineLink::poll (each frame) ──> AppState (plain data)
//!                                                                  └─> panels draw it
//! panels ──Action──> MonitorApp::apply ──> EngineLink (start/pause/record/marker/stop)
//! ```
//!
//! Everything slow (opening devices, loading models, probing devices, file dialogs,
//! exports) runs on named background threads; a frame only drains channels and draws.
//! [`AppState`] is built from snapshots alone, so tests and the benchmark feed it
//! synthetic ones. Each panel splits `show_controls` from `show_plot`.

mod actions;
pub mod colors;
pub mod current;
pub mod export;
mod fonts;
pub mod frame_stats;
pub mod input;
pub mod keep_calibration;
pub mod library_view;
pub mod link;
pub mod model_panel;
mod monitor;
pub mod playback;
pub mod reading;
pub mod replay;
pub mod review;
pub mod review_player;
pub mod review_plots;
pub mod session;
mod sessions_ui;
pub mod settings;
pub mod settings_panel;
pub mod spectrogram;
pub mod state;
pub mod trace;
pub mod traces;
mod window;

use std::path::PathBuf;

pub use link::{EngineLink, LinkState, SessionRequest};
pub use monitor::{MonitorApp, WindowOptions};
pub use sessions_ui::View;
pub use settings::{Settings, ThemeChoice};
pub use state::AppState;
pub use window::{display_available, run_window};

/// What a panel asks the app to do (applied after the frame's panels are drawn).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start listening to the chosen input device.
    StartLive,
    /// Replay a file from `start_at_s` seconds in.
    StartReplay {
        /// The file.
        path: PathBuf,
        /// Where to start, in seconds.
        start_at_s: f64,
    },
    /// Pause or resume the session.
    TogglePause,
    /// End the session.
    Stop,
    /// Restart the session with the current settings.
    Restart,
    /// Record on/off (armed for the next session when none runs).
    ToggleRecord,
    /// Add a marker with the note typed in the session panel.
    AddMarker,
    /// Export the trace plot as PNG.
    ExportPng,
    /// Export the trace as CSV.
    ExportCsv,
    /// Use this model (`None`: no model) from now on.
    LoadModel(Option<PathBuf>),
    /// Use this calibration file (`emotrace calibrate`) with the model, or none; restarts
    /// a running session with it.
    UseCalibration(Option<PathBuf>),
    /// Save the running session's statistics of the voice as a calibration and use it
    /// from the next session on.
    KeepCalibration,
    /// Begin a guided calibration reading (a fresh session; the voice kept at 30 s of speech).
    ReadForCalibration,
    /// Stop counting the reading; nothing is kept.
    CancelReading,
    /// List the input devices again.
    RefreshDevices,
}
