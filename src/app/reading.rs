//! A guided calibration reading: a fresh session in which the client reads aloud in an
//! everyday tone while a bar counts the seconds of speech; at 30 s the session's
//! statistics of the voice are kept as the client's calibration (as *Keep voice as
//! calibration* does), so nobody has to judge when enough was said.

use egui::{RichText, Ui};

use super::Action;
use super::link::LinkState;
use super::monitor::MonitorApp;
use crate::engine::RunState;

/// Seconds of speech a reading needs: TESS left out read 51 % UA from 10 s, 55 % from
/// 40 s (models/any-voice.md, amendment 33); `emotrace calibrate` asks for 30 s too.
pub const READING_SPEECH_S: f64 = 30.0;

/// Something to read for a client without their own text: the opening of the Rainbow
/// Passage (Fairbanks, 1960), used in speech science for its everyday English.
const PASSAGE: &str = "When the sunlight strikes raindrops in the air, they act as a prism and \
form a rainbow. The rainbow is a division of white light into many beautiful colours. These \
take the shape of a long round arch, with its path high above, and its two ends apparently \
beyond the horizon. There is, according to legend, a boiling pot of gold at one end. People \
look, but no one ever finds it. When a man looks for something beyond his reach, his friends \
say he is looking for the pot of gold at the end of the rainbow.";

/// The reading's part of the model panel: the passage and the bar while reading, the
/// button to begin otherwise.
pub fn show_reading(ui: &mut Ui, reading_speech_s: Option<f64>, actions: &mut Vec<Action>) {
    match reading_speech_s {
        Some(speech_s) => {
            ui.label("Read aloud in an everyday tone (this text, or any in the client's language):");
            ui.label(RichText::new(PASSAGE).italics());
            let progress = (speech_s / READING_SPEECH_S).clamp(0.0, 1.0) as f32;
            ui.add(
                egui::ProgressBar::new(progress)
                    .text(format!("{speech_s:.0} of {READING_SPEECH_S:.0} s of speech")),
            );
            if ui.button("Cancel reading").clicked() {
                actions.push(Action::CancelReading);
            }
        }
        None => {
            let hint = "starts a fresh, unrecorded session (stop a recording first); after 30 s of speech in an everyday tone the voice is kept as the client's calibration (statistics only, no audio)";
            if ui.button("Read for calibration…").on_hover_text(hint).clicked() {
                actions.push(Action::ReadForCalibration);
            }
        }
    }
}

impl MonitorApp {
    /// Begins a reading: no calibration, a fresh session of the current source (the
    /// input device when there is none), counted from its start. Not while a recording
    /// runs or is armed: the reading would end it, or be recorded as a session.
    pub(super) fn begin_reading(&mut self) {
        if self.record_armed || self.link.recording().is_some() {
            self.link.notice("a calibration reading is not recorded: stop the recording first".into());
            return;
        }
        self.model.set_calibration(None);
        self.model.reading_speech_s = Some(0.0);
        match self.link.last_source.clone() {
            Some((source, _)) => self.start(source, 0.0),
            None => self.apply(Action::StartLive),
        }
    }

    /// Once a frame: counts the reading's speech, keeps the calibration at 30 s, and ends
    /// the reading (saying so) if its session ends first.
    pub(super) fn follow_reading(&mut self) {
        if self.model.reading_speech_s.is_none() {
            return;
        }
        let drained = self.link.engine().is_some_and(|e| e.snapshots().is_empty());
        let ended = match self.link.state() {
            LinkState::Starting => return,
            LinkState::Idle => true,
            LinkState::Session(RunState::Finished | RunState::Stopped) => drained,
            LinkState::Session(_) => false,
        };
        let speech_s = self.state.session.speech_hops() as f64 * self.state.hop_s;
        self.model.reading_speech_s = Some(speech_s);
        if speech_s >= READING_SPEECH_S {
            self.model.reading_speech_s = None;
            self.keep_calibration();
        } else if ended {
            self.model.reading_speech_s = None;
            self.link.notice(format!(
                "the reading ended after {speech_s:.0} s of speech ({READING_SPEECH_S:.0} s needed): nothing kept"
            ));
        }
    }
}
