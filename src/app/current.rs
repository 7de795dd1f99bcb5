//! The current emotion in large type, and a confidence bar per class. During a pause in
//! speech the last answer stays, dimmed; without a model the panel says so.

use egui::{Color32, RichText, Sense, Ui, vec2};

use super::colors::emotion_color;
use super::state::AppState;
use crate::engine::snapshot::top_of;
use crate::model::Emotion;

/// Whether to show the answer held over silence.
#[derive(Debug)]
pub struct CurrentPanel {
    /// Keep the last answer shown (dimmed) while nobody speaks.
    pub hold_last: bool,
}

impl Default for CurrentPanel {
    fn default() -> Self {
        Self { hold_last: true }
    }
}

impl CurrentPanel {
    /// The hold toggle.
    pub fn show_controls(&mut self, ui: &mut Ui) {
        ui.checkbox(&mut self.hold_last, "Hold last answer in silence");
    }

    /// The large label and the bars. `has_model` false shows "no model".
    pub fn show_plot(&self, ui: &mut Ui, state: &AppState, has_model: bool) {
        let r = &state.readouts;
        let (shown, live) = match (r.probabilities, r.last_probabilities) {
            (Some(p), _) => (Some(p), true),
            (None, Some(p)) if self.hold_last => (Some(p), false),
            _ => (None, false),
        };
        let weak = ui.visuals().weak_text_color();
        let (headline, color) = match shown.as_ref().and_then(top_of) {
            _ if !has_model => ("no model".to_owned(), weak),
            Some((emotion, _)) if live => (emotion.name().to_owned(), emotion_color(emotion)),
            Some((emotion, _)) => (emotion.name().to_owned(), emotion_color(emotion).gamma_multiply(0.45)),
            None if r.speech => ("speech".to_owned(), weak),
            None => ("no speech".to_owned(), weak),
        };
        ui.label(RichText::new(headline).size(40.0).strong().color(color));
        let caption = match (has_model, live, r.speech) {
            (false, _, true) => "speech detected (load a model to see emotions)",
            (false, _, false) => "silence",
            (true, true, _) => "current, smoothed",
            (true, false, _) if shown.is_some() => "last answer (now silence)",
            (true, false, _) => "waiting for speech",
        };
        ui.label(RichText::new(caption).color(weak));
        ui.add_space(6.0);
        let width = ui.available_width().max(120.0);
        for emotion in Emotion::ALL {
            let value = shown.map_or(0.0, |p| p[emotion.index()]).clamp(0.0, 1.0);
            ui.horizontal(|ui| {
                ui.add_sized([72.0, 18.0], egui::Label::new(emotion.name()));
                let bar_width = (width - 130.0).max(40.0);
                let (rect, _) = ui.allocate_exact_size(vec2(bar_width, 14.0), Sense::hover());
                let painter = ui.painter();
                painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
                let mut fill = rect;
                fill.set_width(rect.width() * value);
                let c = emotion_color(emotion);
                painter.rect_filled(fill, 2.0, if live { c } else { c.gamma_multiply(0.45) });
                ui.label(RichText::new(format!("{:>3.0}%", value * 100.0)).monospace().color(if live {
                    ui.visuals().text_color()
                } else {
                    Color32::GRAY
                }));
            });
        }
        ui.add_space(18.0);
        self.show_session_share(ui, state, has_model);
    }

    /// This session so far: length, speech share, and how much of the speech each
    /// emotion was on top.
    fn show_session_share(&self, ui: &mut Ui, state: &AppState, has_model: bool) {
        let session = &state.session;
        let hop_s = state.hop_s;
        ui.label(RichText::new("This session").strong());
        let speech_s = session.speech_hops() as f64 * hop_s;
        let total_s = session.hops() as f64 * hop_s;
        let share = if total_s > 0.0 { speech_s / total_s * 100.0 } else { 0.0 };
        ui.label(format!("{total_s:.1} s analysed, {speech_s:.1} s speech ({share:.0}%)"));
        if !has_model {
            return;
        }
        let scored: u64 = session.top_counts().iter().sum();
        ui.label(
            RichText::new("top emotion, share of speech time").small().color(ui.visuals().weak_text_color()),
        );
        let width = ui.available_width().max(120.0);
        for emotion in Emotion::ALL {
            let n = session.top_counts()[emotion.index()];
            let frac = if scored > 0 { n as f32 / scored as f32 } else { 0.0 };
            ui.horizontal(|ui| {
                ui.add_sized([72.0, 16.0], egui::Label::new(RichText::new(emotion.name()).small()));
                let (rect, _) = ui.allocate_exact_size(vec2((width - 130.0).max(40.0), 8.0), Sense::hover());
                ui.painter().rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
                let mut fill = rect;
                fill.set_width(rect.width() * frac);
                ui.painter().rect_filled(fill, 2.0, emotion_color(emotion));
                ui.label(RichText::new(format!("{:>4.1} s", n as f64 * hop_s)).monospace().small());
            });
        }
    }
}
