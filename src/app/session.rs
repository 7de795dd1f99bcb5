//! The session panel: Record (trace, audio and summary into a new folder under the
//! sessions folder), markers (the M key or the button; a timestamped note on the trace
//! and in the recording), and export of the trace as PNG and CSV.

use std::path::{Path, PathBuf};

use egui::{RichText, Ui};

use super::Action;
use super::state::AppState;

/// The marker note being typed and what was exported.
#[derive(Default)]
pub struct SessionPanel {
    /// The note the next marker carries (empty: "marker N").
    pub note: String,
    /// Files written by the last export.
    pub exported: Vec<PathBuf>,
}

impl SessionPanel {
    /// The note for the next marker, numbered when none was typed.
    pub fn take_note(&mut self, state: &AppState) -> String {
        let note = std::mem::take(&mut self.note);
        let note = note.trim();
        if note.is_empty() { format!("marker {}", state.markers.len() + 1) } else { note.to_owned() }
    }

    /// Record toggle, marker field and button, export buttons.
    pub fn show_controls(
        &mut self,
        ui: &mut Ui,
        record_on: bool,
        has_session: bool,
        actions: &mut Vec<Action>,
    ) {
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
