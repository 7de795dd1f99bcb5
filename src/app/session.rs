//! The session panel: Record (trace, audio and summary into a new private folder under
//! the sessions folder, with the client's pseudonymous code, and encrypted at rest when
//! a passphrase is set), markers (the M key or the button; a timestamped note on the
//! trace and in the recording), and export of the trace as PNG and CSV.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use age::secrecy::SecretString;
use crossbeam_channel::Receiver;
use egui::{RichText, Ui};

use super::Action;
use super::state::AppState;
use crate::engine::RecordOptions;
use crate::sessions::client::check_client_code;
use crate::sessions::keys::SessionKeys;

/// The marker note being typed, the recording's client code and encryption, and what
/// was exported.
#[derive(Default)]
pub struct SessionPanel {
    /// The note the next marker carries (empty: "marker N").
    pub note: String,
    /// Files written by the last export.
    pub exported: Vec<PathBuf>,
    /// The client's pseudonymous code for the next recording.
    pub client_code: String,
    /// Encrypt recordings at rest.
    pub encrypt: bool,
    /// The passphrase being typed (cleared once keys are made from it).
    pub passphrase: String,
    /// The keys recordings are encrypted with, once made from the passphrase.
    pub keys: Option<Arc<SessionKeys>>,
    keys_pending: Option<Receiver<Result<SessionKeys, String>>>,
}

impl SessionPanel {
    /// The note for the next marker, numbered when none was typed.
    pub fn take_note(&mut self, state: &AppState) -> String {
        let note = std::mem::take(&mut self.note);
        let note = note.trim();
        if note.is_empty() { format!("marker {}", state.markers.len() + 1) } else { note.to_owned() }
    }

    /// Client code, notes-free options and keys for the next recording; an error line
    /// when the client code is not a code or encryption is on without a passphrase.
    pub fn record_options(&self) -> Result<RecordOptions, String> {
        let client_code = self.client_code.trim().to_owned();
        check_client_code(&client_code)?;
        let keys = match (self.encrypt, &self.keys) {
            (false, _) => None,
            (true, Some(keys)) => Some(Arc::clone(keys)),
            (true, None) => {
                return Err(
                    "set the encryption passphrase first (Session panel); nothing was recorded".into()
                );
            }
        };
        Ok(RecordOptions { client_code, keys, ..RecordOptions::default() })
    }

    /// Makes keys from the typed passphrase on a background thread (scrypt: about 1 s).
    fn make_keys(&mut self) {
        let passphrase = SecretString::from(std::mem::take(&mut self.passphrase));
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new().name("emotrace-ui-keys".into()).spawn(move || {
            let _ = tx.send(SessionKeys::create(&passphrase).map_err(|e| e.to_string()));
        });
        if spawned.is_ok() {
            self.keys_pending = Some(rx);
        }
    }

    /// Client code and encryption controls.
    fn show_privacy(&mut self, ui: &mut Ui) {
        if let Some(rx) = &self.keys_pending
            && let Ok(result) = rx.try_recv()
        {
            self.keys_pending = None;
            self.keys = result.ok().map(Arc::new);
        }
        ui.horizontal(|ui| {
            ui.label("client");
            ui.add(
                egui::TextEdit::singleline(&mut self.client_code)
                    .hint_text("code, e.g. C-014")
                    .desired_width(110.0),
            )
            .on_hover_text("A pseudonymous code, not a name: letters, digits, - _ .");
            ui.checkbox(&mut self.encrypt, "encrypt")
                .on_hover_text("Encrypt recordings at rest with a passphrase (age)");
        });
        if let Err(reason) = check_client_code(self.client_code.trim()) {
            ui.label(RichText::new(reason).small().color(egui::Color32::from_rgb(230, 120, 60)));
        }
        if self.encrypt {
            ui.horizontal(|ui| {
                if self.keys_pending.is_some() {
                    ui.spinner();
                    ui.label(RichText::new("making the key…").small());
                    return;
                }
                ui.add(
                    egui::TextEdit::singleline(&mut self.passphrase)
                        .password(true)
                        .hint_text("passphrase")
                        .desired_width(140.0),
                );
                if ui.add_enabled(!self.passphrase.is_empty(), egui::Button::new("Set")).clicked() {
                    self.make_keys();
                }
                let state = if self.keys.is_some() { "key ready" } else { "no passphrase set" };
                ui.label(RichText::new(state).small());
            });
        }
    }

    /// Record toggle, marker field and button, export buttons.
    pub fn show_controls(
        &mut self,
        ui: &mut Ui,
        record_on: bool,
        has_session: bool,
        actions: &mut Vec<Action>,
    ) {
        self.show_privacy(ui);
        ui.horizontal(|ui| {
            let mut on = record_on;
            let label = if on { "● Recording" } else { "● Record" };
            let text = if on {
                RichText::new(label).color(egui::Color32::from_rgb(230, 60, 60))
            } else {
                label.into()
            };
            if ui
                .toggle_value(&mut on, text)
                .on_hover_text("Write trace, audio and summary to a session folder")
                .changed()
            {
                actions.push(Action::ToggleRecord);
            }
            if ui.button("Export PNG").on_hover_text("Save the trace plot as an image").clicked() {
                actions.push(Action::ExportPng);
            }
            if ui.button("Export CSV").on_hover_text("Save the trace data as CSV").clicked() {
                actions.push(Action::ExportCsv);
            }
        });
        ui.horizontal(|ui| {
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.note).hint_text("marker note").desired_width(160.0),
            );
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let button = ui.add_enabled(has_session, egui::Button::new("Add marker (M)"));
            if has_session && (button.clicked() || enter) {
                actions.push(Action::AddMarker);
            }
        });
    }

    /// Where the recording goes, the markers so far, the last export.
    pub fn show_plot(&self, ui: &mut Ui, state: &AppState, recording: Option<&Path>, sessions_dir: &Path) {
        let small = |s: String| RichText::new(s).small();
        match recording {
            Some(dir) => ui.label(small(format!("recording into {}", dir.display()))),
            None => ui.label(small(format!("sessions are saved in {}", sessions_dir.display()))),
        };
        for marker in state.markers.iter().rev().take(5) {
            ui.label(small(format!("{:>7.2} s  {}", marker.time_s, marker.note)));
        }
        for path in &self.exported {
            ui.label(small(format!("exported {}", path.display())));
        }
    }
}
