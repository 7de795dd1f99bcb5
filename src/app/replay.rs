//! The replay panel: pick an audio file (typed path, the system file dialog, or dropped
//! on the window), replay it at 1x or as fast as possible, and seek (the replay restarts
//! at the chosen time). The trace is the one a live session of the same audio gives: the
//! file goes through the same engine pipeline.

use std::path::PathBuf;

use crossbeam_channel::Receiver;
use egui::Ui;

use super::Action;
use super::settings::Settings;

/// File name endings offered by the dialog.
pub const AUDIO_EXTENSIONS: [&str; 5] = ["wav", "flac", "mp3", "ogg", "oga"];

/// The file to replay and where to start.
#[derive(Default)]
pub struct ReplayPanel {
    /// The path as typed or picked.
    pub path_text: String,
    /// Where the next replay starts, in seconds into the file.
    pub start_at_s: f64,
    dialog: Option<Receiver<Option<PathBuf>>>,
}

impl ReplayPanel {
    /// Opens the system file dialog on a background thread (it blocks until closed).
    fn browse(&mut self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new().name("emotrace-ui-dialog".into()).spawn(move || {
            let picked = rfd::FileDialog::new()
                .set_title("Replay an audio file")
                .add_filter("Audio", &AUDIO_EXTENSIONS)
                .pick_file();
            let _ = tx.send(picked);
        });
        if spawned.is_ok() {
            self.dialog = Some(rx);
        }
    }

    /// Takes the dialog's answer, if it came. Returns `true` when a file was picked.
    pub fn poll(&mut self) -> bool {
        let Some(rx) = &self.dialog else { return false };
        match rx.try_recv() {
            Ok(picked) => {
                self.dialog = None;
                if let Some(path) = picked {
                    self.path_text = path.display().to_string();
                    return true;
                }
                false
            }
            Err(crossbeam_channel::TryRecvError::Empty) => false,
            Err(crossbeam_channel::TryRecvError::Disconnected) => {
                self.dialog = None;
                false
            }
        }
    }

    /// The request for the current fields.
    pub fn request(&self, start_at_s: f64) -> Action {
        Action::StartReplay { path: PathBuf::from(self.path_text.trim()), start_at_s }
    }

    /// Path, Browse, pace, start time and the Replay / Seek buttons.
    pub fn show_controls(&mut self, ui: &mut Ui, settings: &mut Settings, actions: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(&mut self.path_text)
                    .hint_text("audio file (WAV, FLAC, MP3, OGG) or drop one here")
                    .desired_width(ui.available_width() - 80.0),
            );
            let browse = ui.add_enabled(self.dialog.is_none(), egui::Button::new("Browse…"));
            if browse.clicked() {
                self.browse();
            }
        });
        ui.horizontal(|ui| {
            ui.radio_value(&mut settings.replay_fast, false, "1x");
            ui.radio_value(&mut settings.replay_fast, true, "as fast as possible");
        });
        ui.horizontal(|ui| {
            let has_path = !self.path_text.trim().is_empty();
            if ui.add_enabled(has_path, egui::Button::new("▶ Replay")).clicked() {
                actions.push(self.request(0.0));
            }
            ui.label("from");
            ui.add(egui::DragValue::new(&mut self.start_at_s).range(0.0..=86_400.0).speed(0.5).suffix(" s"));
            if ui
                .add_enabled(has_path, egui::Button::new("Seek"))
                .on_hover_text("Restart the replay here")
                .clicked()
            {
                actions.push(self.request(self.start_at_s));
            }
        });
    }

    /// A note on what replays do (no plot of its own: the replay shows in the main plots).
    pub fn show_plot(&self, ui: &mut Ui, replaying: Option<&str>) {
        if let Some(name) = replaying {
            ui.label(egui::RichText::new(format!("replaying {name}")).small());
        }
    }
}
