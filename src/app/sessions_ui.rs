//! The window's Sessions and Review views: the tabs that switch to them, what their
//! requests do (open for review, unlock, report, delete), and reports written on a
//! background thread into `reports/` under the sessions folder (private, `0600`).

use std::path::PathBuf;

use egui::{RichText, Ui};

use super::library_view::{LibraryRequest, secret};
use super::monitor::MonitorApp;
use super::review::{ReviewRequest, Unlock};
use crate::report::{ReportSession, build_report};
use crate::sessions::overview::SessionOverview;
use crate::sessions::private::{create_private_dir_all, write_private_atomic};
use crate::sessions::recorded::{RecordedSession, delete_session};

/// Which view the window shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The live monitor.
    #[default]
    Monitor,
    /// The session library.
    Sessions,
    /// One session under review.
    Review,
}

impl MonitorApp {
    /// The view tabs (in the status bar).
    pub(super) fn view_tabs(&mut self, ui: &mut Ui) {
        let before = self.view;
        ui.selectable_value(&mut self.view, View::Monitor, "Monitor");
        ui.selectable_value(&mut self.view, View::Sessions, "Sessions");
        if self.review.loaded.is_some() || self.review.is_loading() {
            ui.selectable_value(&mut self.view, View::Review, "Review");
        }
        if self.view == View::Sessions && before != View::Sessions {
            self.library.refresh(&self.options.sessions_dir);
        }
    }

    /// Draws the Sessions or Review view and carries out what they ask.
    pub(super) fn show_sessions(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.poll_report();
        egui::CentralPanel::default().show(ui, |ui| match self.view {
            View::Review => {
                if let Some(request) = self.review.show(ui) {
                    match request {
                        ReviewRequest::Back => self.open_library(),
                        ReviewRequest::Report(dir) => self.write_report(dir),
                    }
                }
            }
            _ => {
                if let Some(note) = &self.report_note {
                    ui.label(RichText::new(note).small());
                }
                let root = self.options.sessions_dir.clone();
                if let Some(request) = self.library.show(ui, &root) {
                    self.on_library(request);
                }
            }
        });
        if self.review.is_loading() || self.reports.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    /// Shows the library, read again from disk.
    pub fn open_library(&mut self) {
        self.view = View::Sessions;
        self.library.refresh(&self.options.sessions_dir);
    }

    fn on_library(&mut self, request: LibraryRequest) {
        match request {
            LibraryRequest::Review(dir) => {
                self.review.open(dir, Unlock::Plain);
                self.view = View::Review;
            }
            LibraryRequest::Unlock(dir, text) => {
                self.review.open(dir, Unlock::Passphrase(secret(text)));
                self.view = View::Review;
            }
            LibraryRequest::Report(dir) => self.write_report(dir),
            LibraryRequest::Delete(dir) => {
                if self.review.loaded.as_ref().is_some_and(|l| l.session.dir == dir) {
                    self.review.close();
                }
                self.report_note = Some(match delete_session(&dir) {
                    Ok(()) => format!("deleted {}", dir.display()),
                    Err(e) => format!("cannot delete: {e}"),
                });
                self.library.refresh(&self.options.sessions_dir);
            }
        }
    }

    /// Writes the report of the session in `dir` on a background thread (an open
    /// encrypted session uses its keys; a plain one is read afresh).
    pub fn write_report(&mut self, dir: PathBuf) {
        if self.reports.is_some() {
            return;
        }
        let keys = self
            .review
            .loaded
            .as_ref()
            .filter(|l| l.session.dir == dir)
            .and_then(|l| l.session.keys().cloned());
        let reports = self.options.sessions_dir.join("reports");
        let name = dir.file_name().map_or_else(|| "session".into(), |n| n.to_string_lossy().into_owned());
        let out = reports.join(format!("{name}.html"));
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new().name("emotrace-ui-report".into()).spawn(move || {
            let result = (|| {
                let session = match keys {
                    Some(keys) => RecordedSession::open_with_keys(&dir, keys),
                    None => RecordedSession::open(&dir, None),
                }
                .map_err(|e| e.to_string())?;
                let overview = SessionOverview::load(&session).map_err(|e| e.to_string())?;
                let html = build_report(vec![ReportSession { session, overview }])?;
                create_private_dir_all(&reports)
                    .map_err(|e| format!("cannot create {}: {e}", reports.display()))?;
                write_private_atomic(&out, html.as_bytes())
                    .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                Ok(out)
            })();
            let _ = tx.send(result);
        });
        if spawned.is_ok() {
            self.reports = Some(rx);
            self.report_note = Some("writing the report…".to_owned());
        }
    }

    fn poll_report(&mut self) {
        let Some(rx) = &self.reports else { return };
        let Ok(result) = rx.try_recv() else { return };
        self.reports = None;
        let note = match result {
            Ok(path) => format!("report written: {}", path.display()),
            Err(e) => format!("cannot write the report: {e}"),
        };
        self.review.message = Some(note.clone());
        self.report_note = Some(note.clone());
        self.link.notice(note);
    }
}
