//! The Sessions view: every recorded session under the sessions folder (date, client
//! code, length, share of speech, top emotions, markers), sortable by column and
//! filterable by client; open one for review (an encrypted one asks for its passphrase),
//! write its report, or delete it (after a confirmation).

use std::path::PathBuf;

use age::secrecy::SecretString;
use egui::{RichText, Ui};

use crate::report::{clock, utc_date_time};
use crate::sessions::library::{LibraryEntry, list_sessions};

/// Columns the list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Start time (newest first by default).
    #[default]
    Date,
    /// Client code.
    Client,
    /// Length.
    Length,
    /// Share of speech.
    Speech,
}

/// What the library asks the window to do.
#[derive(Debug, Clone, PartialEq)]
pub enum LibraryRequest {
    /// Open this plain session for review.
    Review(PathBuf),
    /// Open this encrypted session with a passphrase.
    Unlock(PathBuf, String),
    /// Write the report of this session.
    Report(PathBuf),
    /// Delete this session (confirmed).
    Delete(PathBuf),
}

/// The library view's state.
#[derive(Default)]
pub struct LibraryView {
    /// The sessions listed, as last read from disk.
    pub entries: Vec<LibraryEntry>,
    /// Only sessions whose client code contains this (case-insensitive).
    pub client_filter: String,
    /// Sort column.
    pub sort_by: SortBy,
    /// Reverse the column's natural order.
    pub ascending: bool,
    /// The session whose deletion waits for confirmation.
    pub confirm_delete: Option<PathBuf>,
    /// The encrypted session whose passphrase is being typed, and the text.
    pub unlocking: Option<(PathBuf, String)>,
}

fn speech_share(e: &LibraryEntry) -> f64 {
    e.summary.as_ref().map_or(0.0, |s| s.speech_s / s.duration_s.max(1e-9))
}

impl LibraryView {
    /// Reads the sessions folder again.
    pub fn refresh(&mut self, root: &std::path::Path) {
        self.entries = list_sessions(root);
    }

    /// The entries to show, filtered and sorted.
    pub fn visible(&self) -> Vec<&LibraryEntry> {
        let filter = self.client_filter.trim().to_lowercase();
        let mut rows: Vec<&LibraryEntry> =
            self.entries.iter().filter(|e| e.client_code().to_lowercase().contains(&filter)).collect();
        let length = |e: &LibraryEntry| e.summary.as_ref().map_or(0.0, |s| s.duration_s);
        match self.sort_by {
            SortBy::Date => rows.sort_by_key(|e| std::cmp::Reverse(e.started_unix_s())),
            SortBy::Client => rows.sort_by(|a, b| a.client_code().cmp(b.client_code())),
            SortBy::Length => rows.sort_by(|a, b| length(b).total_cmp(&length(a))),
            SortBy::Speech => rows.sort_by(|a, b| speech_share(b).total_cmp(&speech_share(a))),
        }
        if self.ascending {
            rows.reverse();
        }
        rows
    }

    fn header(&mut self, ui: &mut Ui, label: &str, column: SortBy) {
        let arrow = match (self.sort_by == column, self.ascending) {
            (true, false) => " ▼",
            (true, true) => " ▲",
            _ => "",
        };
        if ui.button(RichText::new(format!("{label}{arrow}")).strong()).clicked() {
            if self.sort_by == column {
                self.ascending = !self.ascending;
            } else {
                self.sort_by = column;
                self.ascending = false;
            }
        }
    }

    /// Draws the list; returns what the window should do.
    pub fn show(&mut self, ui: &mut Ui, root: &std::path::Path) -> Option<LibraryRequest> {
        let mut request = None;
        ui.horizontal(|ui| {
            ui.heading("Sessions");
            ui.label(RichText::new(root.display().to_string()).small());
            if ui.button("Refresh").clicked() {
                self.refresh(root);
            }
            ui.separator();
            ui.label("client");
            ui.add(
                egui::TextEdit::singleline(&mut self.client_filter).hint_text("filter").desired_width(120.0),
            );
        });
        let rows: Vec<LibraryEntry> = self.visible().into_iter().cloned().collect();
        if rows.is_empty() {
            ui.label("No recorded sessions here yet: record one from the Monitor view.");
        }
        egui::ScrollArea::vertical().id_salt("library").show(ui, |ui| {
            egui::Grid::new("library-grid").striped(true).spacing([14.0, 6.0]).show(ui, |ui| {
                self.header(ui, "date", SortBy::Date);
                self.header(ui, "client", SortBy::Client);
                self.header(ui, "length", SortBy::Length);
                self.header(ui, "speech", SortBy::Speech);
                ui.label(RichText::new("top emotions").strong());
                ui.label(RichText::new("markers").strong());
                ui.label("");
                ui.end_row();
                for entry in &rows {
                    self.row(ui, entry, &mut request);
                    ui.end_row();
                }
            });
        });
        request
    }

    fn row(&mut self, ui: &mut Ui, entry: &LibraryEntry, request: &mut Option<LibraryRequest>) {
        match &entry.summary {
            Some(s) => {
                ui.label(utc_date_time(s.started_unix_s));
                ui.label(if s.client_code.is_empty() { "—" } else { &s.client_code });
                let unfinished = if s.complete || s.repaired { "" } else { " (ended abruptly)" };
                ui.label(format!("{}{unfinished}", clock(s.duration_s)));
                ui.label(format!("{:.0} %", 100.0 * speech_share(entry)));
                let top: Vec<String> = entry
                    .top_emotions(3)
                    .iter()
                    .map(|(e, p)| format!("{} {:.0} %", e.name(), p * 100.0))
                    .collect();
                ui.label(if top.is_empty() { "—".to_owned() } else { top.join(", ") });
                ui.label(s.markers.len().to_string());
            }
            None => {
                ui.label(&entry.name);
                ui.label(if entry.encrypted { "encrypted" } else { "unreadable" });
                for _ in 0..4 {
                    ui.label("");
                }
            }
        }
        ui.horizontal(|ui| self.row_buttons(ui, entry, request));
    }

    fn row_buttons(&mut self, ui: &mut Ui, entry: &LibraryEntry, request: &mut Option<LibraryRequest>) {
        let dir = &entry.dir;
        if self.confirm_delete.as_ref() == Some(dir) {
            ui.label(RichText::new("Delete for good?").color(egui::Color32::from_rgb(230, 80, 80)));
            if ui.button("Delete").clicked() {
                *request = Some(LibraryRequest::Delete(dir.clone()));
                self.confirm_delete = None;
            }
            if ui.button("Keep").clicked() {
                self.confirm_delete = None;
            }
            return;
        }
        if entry.encrypted {
            let typing = self.unlocking.as_ref().is_some_and(|(d, _)| d == dir);
            if typing {
                let mut submit = false;
                if let Some((_, text)) = &mut self.unlocking {
                    let field = ui.add(
                        egui::TextEdit::singleline(text)
                            .password(true)
                            .hint_text("passphrase")
                            .desired_width(140.0),
                    );
                    submit = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                }
                if (ui.button("Open").clicked() || submit)
                    && let Some((d, text)) = self.unlocking.take()
                {
                    *request = Some(LibraryRequest::Unlock(d, text));
                }
            } else if ui.button("Review").clicked() {
                self.unlocking = Some((dir.clone(), String::new()));
            }
        } else {
            if ui.button("Review").clicked() {
                *request = Some(LibraryRequest::Review(dir.clone()));
            }
            if ui.button("Report").clicked() {
                *request = Some(LibraryRequest::Report(dir.clone()));
            }
        }
        if ui.button("Delete…").clicked() {
            self.confirm_delete = Some(dir.clone());
        }
    }
}

/// The passphrase typed into the library, as a secret.
pub fn secret(text: String) -> SecretString {
    SecretString::from(text)
}
