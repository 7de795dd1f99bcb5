//! Review: one recorded session opened from disk. Its whole spectrogram and emotion
//! trace with a playback cursor (click or drag either plot to seek, Space or the button
//! to play and pause), the markers listed (click one to jump there, edit its note), the
//! session's notes, and a report of it. Opening runs on a background thread; the
//! overview is bounded whatever the session's length (see `sessions::overview`).

use std::path::PathBuf;
use std::sync::Arc;

use age::secrecy::SecretString;
use crossbeam_channel::Receiver;
use egui::{Rect, RichText, TextureHandle, Ui};

use super::review_player::ReviewPlayer;
use super::review_plots::{show_spectrogram, show_trace, spectrogram_texture};
use crate::engine::recorder::Marker;
use crate::report::{clock, utc_date_time};
use crate::sessions::keys::SessionKeys;
use crate::sessions::overview::SessionOverview;
use crate::sessions::recorded::RecordedSession;

/// A session and its overview, as loaded.
pub struct LoadedReview {
    /// The session (summary, files).
    pub session: RecordedSession,
    /// What the plots draw.
    pub overview: SessionOverview,
}

/// How to open a session.
pub enum Unlock {
    /// A plain session.
    Plain,
    /// An encrypted one, with this passphrase.
    Passphrase(SecretString),
    /// An encrypted one, with keys already opened.
    Keys(Arc<SessionKeys>),
}

/// What review asks the window to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewRequest {
    /// Back to the session library.
    Back,
    /// Write a report of this session.
    Report(PathBuf),
}

/// The review view.
#[derive(Default)]
pub struct ReviewPanel {
    /// The open session, once loaded.
    pub loaded: Option<LoadedReview>,
    loading: Option<Receiver<Result<LoadedReview, String>>>,
    /// The playback cursor, in seconds into the session.
    pub cursor_s: f64,
    player: Option<ReviewPlayer>,
    /// The notes being edited.
    pub notes: String,
    /// The markers' notes being edited, in marker order.
    pub marker_notes: Vec<String>,
    texture: Option<TextureHandle>,
    /// The last message (loaded, saved, an error), one line.
    pub message: Option<String>,
    /// Where the trace plot was drawn last frame (tests click inside it).
    pub trace_rect: Option<Rect>,
    /// Where the spectrogram was drawn last frame.
    pub spectrogram_rect: Option<Rect>,
}

impl ReviewPanel {
    /// Starts loading the session in `dir` on a background thread.
    pub fn open(&mut self, dir: PathBuf, unlock: Unlock) {
        self.close();
        self.message = Some(format!("opening {}…", dir.display()));
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new().name("emotrace-ui-review-open".into()).spawn(move || {
            let result = (|| {
                let session = match unlock {
                    Unlock::Plain => RecordedSession::open(&dir, None),
                    Unlock::Passphrase(p) => RecordedSession::open(&dir, Some(&p)),
                    Unlock::Keys(keys) => RecordedSession::open_with_keys(&dir, keys),
                }
                .map_err(|e| e.to_string())?;
                let overview = SessionOverview::load(&session).map_err(|e| e.to_string())?;
                Ok(LoadedReview { session, overview })
            })();
            let _ = tx.send(result);
        });
        match spawned {
            Ok(_) => self.loading = Some(rx),
            Err(e) => self.message = Some(format!("cannot start opening: {e}")),
        }
    }

    /// Whether a session is being opened.
    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// Closes the session (stops playback).
    pub fn close(&mut self) {
        self.player = None;
        self.loaded = None;
        self.loading = None;
        self.texture = None;
        self.cursor_s = 0.0;
    }

    /// Takes the loaded session in, if it arrived; the error line otherwise.
    pub fn poll(&mut self, ctx: &egui::Context) {
        let Some(rx) = &self.loading else { return };
        let Ok(result) = rx.try_recv() else { return };
        self.loading = None;
        match result {
            Ok(loaded) => {
                self.texture = spectrogram_texture(ctx, &loaded.overview.spectrogram);
                self.notes.clone_from(&loaded.session.summary.notes);
                self.marker_notes = loaded.overview.markers.iter().map(|m| m.note.clone()).collect();
                self.message = Some(format!("opened {}", loaded.session.dir.display()));
                self.loaded = Some(loaded);
            }
            Err(e) => self.message = Some(e),
        }
    }

    /// Whether playback runs.
    pub fn is_playing(&self) -> bool {
        self.player.as_ref().is_some_and(|p| !p.is_finished())
    }

    /// Moves the cursor to `t_s` (playback continues from there if it ran).
    pub fn seek(&mut self, t_s: f64) {
        let end = self.loaded.as_ref().map_or(0.0, |l| l.overview.duration_s);
        self.cursor_s = t_s.clamp(0.0, end);
        if self.is_playing() {
            self.player = None;
            self.play();
        }
    }

    /// Plays from the cursor, or pauses.
    pub fn toggle_play(&mut self) {
        if self.is_playing() {
            self.player = None;
        } else {
            self.play();
        }
    }

    fn play(&mut self) {
        let Some(loaded) = &self.loaded else { return };
        if self.cursor_s >= loaded.overview.duration_s - 0.05 {
            self.cursor_s = 0.0;
        }
        match loaded.session.audio() {
            Ok(audio) => self.player = ReviewPlayer::start(audio, self.cursor_s),
            Err(e) => self.message = Some(e.to_string()),
        }
    }

    /// Moves the cursor to marker `i`.
    pub fn jump_to_marker(&mut self, i: usize) {
        if let Some(t) = self.loaded.as_ref().and_then(|l| l.overview.markers.get(i)).map(|m| m.time_s) {
            self.seek(t);
        }
    }

    /// Writes the edited notes and marker notes into the session's summary.
    pub fn save_edits(&mut self) {
        let Some(loaded) = &mut self.loaded else { return };
        let start_s = loaded.session.summary.start_session_s;
        for (marker, note) in loaded.overview.markers.iter_mut().zip(&self.marker_notes) {
            marker.note.clone_from(note);
        }
        loaded.session.summary.notes.clone_from(&self.notes);
        loaded.session.summary.markers = loaded
            .overview
            .markers
            .iter()
            .map(|m| Marker { time_s: m.time_s + start_s, note: m.note.clone() })
            .collect();
        self.message = Some(match loaded.session.save_summary() {
            Ok(()) => "notes and markers saved".to_owned(),
            Err(e) => format!("cannot save: {e}"),
        });
    }

    /// Draws the view; returns what the window should do.
    pub fn show(&mut self, ui: &mut Ui) -> Option<ReviewRequest> {
        self.poll(ui.ctx());
        if let Some(player) = &self.player {
            self.cursor_s = player.position_s();
            if let Some(reason) = player.silent_reason.lock().ok().and_then(|r| r.clone()) {
                self.message = Some(reason);
            }
            ui.ctx().request_repaint();
        }
        let mut request = None;
        ui.horizontal(|ui| {
            if ui.button("Back to Sessions").clicked() {
                request = Some(ReviewRequest::Back);
            }
            if let Some(message) = &self.message {
                ui.label(RichText::new(message).small());
            }
        });
        if self.loading.is_some() {
            ui.spinner();
            return request;
        }
        let Some(loaded) = &self.loaded else { return request };
        let summary = &loaded.session.summary;
        let (duration_s, dir) = (loaded.overview.duration_s, loaded.session.dir.clone());
        ui.horizontal(|ui| {
            let client = if summary.client_code.is_empty() { "no client code" } else { &summary.client_code };
            ui.heading(format!("{client} · {}", utc_date_time(summary.started_unix_s)));
            ui.label(format!("length {}", clock(duration_s)));
            if loaded.session.is_encrypted() {
                ui.label("encrypted");
            }
        });
        let mut seek = None;
        let mut toggle = false;
        ui.horizontal(|ui| {
            let label = if self.is_playing() { "Pause" } else { "▶ Play" };
            toggle |= ui.button(label).on_hover_text("Space").clicked();
            ui.label(format!("{} / {}", clock(self.cursor_s), clock(duration_s)));
            if ui.button("Report…").on_hover_text("Write an HTML report of this session").clicked() {
                request = Some(ReviewRequest::Report(dir.clone()));
            }
        });
        let spec_h = (ui.available_height() * 0.25).clamp(80.0, 220.0);
        let (s, rect) = show_spectrogram(ui, self.texture.as_ref(), duration_s, self.cursor_s, spec_h);
        self.spectrogram_rect = Some(rect);
        seek = seek.or(s);
        ui.horizontal_wrapped(|ui| {
            for e in crate::model::Emotion::ALL {
                ui.label(RichText::new(e.name()).strong().color(super::colors::emotion_color(e)));
            }
        });
        let trace_h = (ui.available_height() * 0.55).max(140.0);
        let (s, rect) = show_trace(ui, &loaded.overview, self.cursor_s, trace_h);
        self.trace_rect = Some(rect);
        seek = seek.or(s);
        let jump = self.show_markers_and_notes(ui);
        if !ui.ctx().egui_wants_keyboard_input() && ui.input(|i| i.key_pressed(egui::Key::Space)) {
            toggle = true;
        }
        if let Some(t) = seek {
            self.seek(t);
        }
        if let Some(i) = jump {
            self.jump_to_marker(i);
        }
        if toggle {
            self.toggle_play();
        }
        request
    }

    /// Markers (jump, edit) beside the notes; returns the marker to jump to.
    fn show_markers_and_notes(&mut self, ui: &mut Ui) -> Option<usize> {
        let Some(loaded) = &self.loaded else { return None };
        let mut jump = None;
        let mut save = false;
        ui.columns(2, |cols| {
            cols[0].label(RichText::new("Markers").strong());
            egui::ScrollArea::vertical().id_salt("review-markers").show(&mut cols[0], |ui| {
                if loaded.overview.markers.is_empty() {
                    ui.label("no markers");
                }
                for (i, (marker, note)) in
                    loaded.overview.markers.iter().zip(&mut self.marker_notes).enumerate()
                {
                    ui.horizontal(|ui| {
                        if ui
                            .button(format!("{} · {}", i + 1, clock(marker.time_s)))
                            .on_hover_text("Jump here")
                            .clicked()
                        {
                            jump = Some(i);
                        }
                        ui.add(egui::TextEdit::singleline(note).desired_width(220.0));
                        if let Some((e, p)) = loaded.overview.dominant_around(marker.time_s) {
                            ui.label(RichText::new(format!("{} {:.0} %", e.name(), p * 100.0)).small());
                        }
                    });
                }
            });
            cols[1].label(RichText::new("Notes").strong());
            cols[1]
                .add(egui::TextEdit::multiline(&mut self.notes).desired_rows(4).desired_width(f32::INFINITY));
            save = cols[1].button("Save notes and markers").clicked();
        });
        if save {
            self.save_edits();
        }
        jump
    }
}
