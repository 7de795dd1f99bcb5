//! What the app does between drawing: taking in what arrived since the last frame, and
//! carrying out the [`Action`]s the panels asked for.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::TryRecvError;
use egui::Context;

use super::Action;
use super::export::{export_paths, trace_csv, trace_png};
use super::keep_calibration::{PendingKeep, keep, kept_for};
use super::link::{LinkState, SessionRequest};
use super::monitor::MonitorApp;
use crate::engine::{Pace, Source};
use crate::sessions::private::{FILE_MODE, create_private_dir_all, set_mode, write_private_atomic};

/// Why a calibration could not be kept when the session had no voice to give.
const NO_VOICE: &str =
    "no voice to keep: the session has heard no speech yet, or already reads against a calibration";

/// How long a kept calibration waits for the engine's answer (it comes at the next hop).
const KEEP_WAIT: Duration = Duration::from_secs(2);

impl MonitorApp {
    /// Drains the engine, the device probe, the dialogs, the exports and dropped files.
    pub(super) fn take_in(&mut self, ctx: &Context) {
        self.link.poll(&mut self.state);
        self.follow_reading();
        self.follow_keep();
        self.input.poll();
        if self.replay.poll() {
            let path = PathBuf::from(self.replay.path_text.trim());
            self.apply(Action::StartReplay { path, start_at_s: 0.0 });
        }
        if let Some(path) = self.model.poll() {
            self.apply(Action::LoadModel(Some(path)));
        }
        if let Some(rx) = &self.exports
            && let Ok(result) = rx.try_recv()
        {
            self.exports = None;
            match result {
                Ok(paths) => {
                    for p in &paths {
                        self.link.notice(format!("exported {}", p.display()));
                    }
                    self.session.exported = paths;
                }
                Err(reason) => self.link.notice(reason),
            }
        }
        let dropped: Vec<PathBuf> =
            ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if let Some(path) = dropped.into_iter().next() {
            self.replay.path_text = path.display().to_string();
            self.apply(Action::StartReplay { path, start_at_s: 0.0 });
        }
    }

    /// Carries out one action.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::StartLive => {
                let source = match &self.settings.device {
                    Some(name) => Source::Input(name.clone()),
                    None => Source::DefaultInput,
                };
                self.replaying = None;
                self.start(source, 0.0);
            }
            Action::StartReplay { path, start_at_s } => {
                if path.as_os_str().is_empty() {
                    return;
                }
                let pace = if self.settings.replay_fast { Pace::Fast } else { Pace::Realtime };
                self.replaying = Some(
                    path.file_name()
                        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into()),
                );
                self.settings.last_replay = Some(path.clone());
                self.start(Source::File { path, pace }, start_at_s);
            }
            Action::TogglePause => self.link.toggle_pause(),
            Action::Stop => self.link.stop(),
            Action::Restart => {
                if let Some(request) = self.last_request() {
                    self.start(request.0, request.1);
                }
            }
            Action::ToggleRecord => match (self.link.state(), self.link.recording().is_some()) {
                (LinkState::Session(_), true) => self.link.stop_recording(),
                (LinkState::Session(_), false) => match self.session.record_options() {
                    Ok(template) => {
                        let dir = self.options.sessions_dir.clone();
                        self.link.start_recording(&dir, &template);
                    }
                    Err(reason) => self.link.notice(reason),
                },
                _ => self.record_armed = !self.record_armed,
            },
            Action::AddMarker => {
                let note = self.session.take_note(&self.state);
                if let Some(marker) = self.link.add_marker(&note) {
                    self.state.add_marker(marker);
                }
            }
            Action::ExportPng | Action::ExportCsv => self.export(action == Action::ExportPng),
            Action::LoadModel(path) => {
                // A calibration is made for one model.
                self.model.set_calibration(None);
                self.model.set_model(path);
                self.restart_running();
            }
            Action::UseCalibration(path) => {
                self.model.declined_for = path.is_none().then(|| self.session.client_code.trim().to_owned());
                self.model.set_calibration(path);
                self.restart_running();
            }
            Action::KeepCalibration => self.keep_calibration(),
            Action::ReadForCalibration => self.begin_reading(),
            Action::CancelReading => {
                self.model.reading_speech_s = None;
                self.link.notice("calibration reading cancelled: nothing kept".into());
            }
            Action::RefreshDevices => self.input.refresh(),
        }
    }

    /// Asks the engine for the voice's statistics so far; [`Self::follow_keep`] keeps them
    /// as a calibration when they arrive (at the worker's next hop), so the window never
    /// waits on the worker.
    pub(super) fn keep_calibration(&mut self) {
        let Some(Ok(card)) = &self.model.card else { return };
        if self.keeping.is_some() {
            return;
        }
        let Some(answer) = self.link.request_session_statistics() else {
            self.link.notice(NO_VOICE.into());
            return;
        };
        self.keeping = Some(PendingKeep {
            answer,
            client: self.session.client_code.trim().to_owned(),
            weights_sha256: card.weights_sha256.clone(),
            asked: Instant::now(),
        });
    }

    /// Once a frame: keeps the calibration asked for once the engine has answered.
    pub(super) fn follow_keep(&mut self) {
        let Some(pending) = &self.keeping else { return };
        let answer = match pending.answer.try_recv() {
            Ok(answer) => answer.ok_or(NO_VOICE),
            Err(TryRecvError::Empty) if pending.asked.elapsed() < KEEP_WAIT => return,
            Err(_) => Err("calibration not kept: the engine did not answer"),
        };
        let Some(PendingKeep { client, weights_sha256, .. }) = self.keeping.take() else { return };
        let kept = answer.map_err(str::to_owned).and_then(|(stats, frames)| match &self.model.card {
            Some(Ok(card)) if card.weights_sha256 == weights_sha256 => {
                keep(card, stats, frames, &client, &self.options.sessions_dir)
                    .map_err(|e| format!("calibration not kept: {e}"))
            }
            _ => Err("calibration not kept: the model changed before the voice was read".to_owned()),
        });
        match kept {
            Ok((path, speech_s)) => {
                self.link.notice(format!(
                    "calibration kept: {} ({speech_s:.0} s of speech); used from the next session",
                    path.display()
                ));
                // Without a client code it is the user's choice for whoever comes next.
                if client.is_empty() {
                    self.model.set_calibration(Some(path));
                } else {
                    self.model.set_client_calibration(path, &client);
                }
            }
            Err(reason) => self.link.notice(reason),
        }
    }

    /// Before a session: drops a kept calibration of another client than the one now
    /// typed, and picks this client's newest one for the model unless the user chose
    /// none (or another file) for them.
    fn calibration_for_client(&mut self) {
        let client = self.session.client_code.trim().to_owned();
        if let Some(other) = self.model.calibration_client.clone().filter(|c| *c != client) {
            let now =
                if client.is_empty() { "has no client code".to_owned() } else { format!("is for {client}") };
            self.link.notice(format!("{other}'s calibration set aside: the session {now}"));
            self.model.set_calibration(None);
        }
        let reading = self.model.reading_speech_s.is_some();
        if reading || self.model.calibration.is_some() || self.model.declined_for.as_deref() == Some(&client)
        {
            return;
        }
        let Some(Ok(card)) = &self.model.card else { return };
        if let Some(path) = kept_for(card, &client, &self.options.sessions_dir) {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            self.link.notice(format!(
                "using {client}'s kept calibration {name} (No calibration in the Model panel reads against the session instead)"
            ));
            self.model.set_client_calibration(path, &client);
        }
    }

    /// Starts the running (or starting) session again, e.g. with another model.
    fn restart_running(&mut self) {
        if matches!(self.link.state(), LinkState::Session(_) | LinkState::Starting)
            && let Some((source, at)) = self.last_request()
        {
            self.start(source, at);
        }
    }

    /// The source of the current session (to restart it), with its start offset.
    fn last_request(&self) -> Option<(Source, f64)> {
        self.link.last_source.clone()
    }

    pub(super) fn start(&mut self, source: Source, start_at_s: f64) {
        let start_at_s = if source.is_live() { 0.0 } else { start_at_s.max(0.0) };
        let mut record_into =
            (self.record_armed || self.link.recording().is_some()).then(|| self.options.sessions_dir.clone());
        let record_options = match self.session.record_options() {
            Ok(template) => template,
            Err(reason) => {
                if record_into.take().is_some() {
                    self.link.notice(reason);
                }
                crate::engine::RecordOptions::default()
            }
        };
        self.calibration_for_client();
        self.record_armed = false;
        self.traces.frozen = false;
        self.state.markers.clear();
        self.link.start(SessionRequest {
            source,
            model: self.model.path.clone(),
            calibration: self.model.calibration.clone(),
            config: self.settings.engine_config(),
            record_into,
            record_options,
            start_at_s,
            compute: self.options.compute,
            play_audio: self.settings.replay_audio,
        });
    }

    /// Writes the PNG or CSV on a background thread from a copy of the state.
    fn export(&mut self, png: bool) {
        if self.exports.is_some() {
            return;
        }
        if self.link.recording().is_some_and(crate::sessions::keys::is_encrypted) {
            self.link.notice(
                "this recording is encrypted: an export would be a plaintext copy, so none was written (open it in Sessions and write its report)".into(),
            );
            return;
        }
        let state = self.state.clone();
        let base =
            self.link.recording().map_or_else(|| self.options.sessions_dir.join("exports"), PathBuf::from);
        let (t0, t1) = (
            state.trace.first_time_s().max(state.trace.last_time_s() - self.settings.trace_window_s),
            state.trace.last_time_s(),
        );
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new().name("emotrace-ui-export".into()).spawn(move || {
            let result = (|| {
                // Exports describe a client's session: private like the recording.
                create_private_dir_all(&base)
                    .map_err(|e| format!("cannot create {}: {e}", base.display()))?;
                let (png_path, csv_path) = export_paths(&base);
                if png {
                    trace_png(&state, &png_path, t0, t1, (1600, 600))?;
                    set_mode(&png_path, FILE_MODE)
                        .map_err(|e| format!("cannot write {}: {e}", png_path.display()))?;
                    Ok(vec![png_path])
                } else {
                    write_private_atomic(&csv_path, trace_csv(&state).as_bytes())
                        .map_err(|e| format!("cannot write {}: {e}", csv_path.display()))?;
                    Ok(vec![csv_path])
                }
            })();
            let _ = tx.send(result);
        });
        if spawned.is_ok() {
            self.exports = Some(rx);
        }
    }
}
