//! The settings panel: smoothing, silence threshold, spectrogram length and theme (the
//! device and trace window are set where they are used). Values persist between runs
//! (see [`settings`](super::settings)); engine settings apply from the next session.

use std::path::Path;

use egui::{RichText, Ui};

use super::Action;
use super::settings::{Settings, ThemeChoice};

/// Stateless: the values live in [`Settings`].
#[derive(Debug, Default)]
pub struct SettingsPanel;

impl SettingsPanel {
    /// The sliders and the theme switch.
    pub fn show_controls(
        &mut self,
        ui: &mut Ui,
        settings: &mut Settings,
        has_session: bool,
        actions: &mut Vec<Action>,
    ) {
        ui.add(
            egui::Slider::new(&mut settings.smoothing_ms, 0.0..=2_000.0)
                .step_by(50.0)
                .suffix(" ms")
                .text("smoothing"),
        );
        ui.add(
            egui::Slider::new(&mut settings.silence_threshold_dbfs, -90.0..=-10.0)
                .step_by(1.0)
                .suffix(" dBFS")
                .text("silence below"),
        );
        ui.add(
            egui::Slider::new(&mut settings.spectrogram_window_s, 2.0..=30.0)
                .step_by(1.0)
                .suffix(" s")
                .text("spectrogram"),
        );
        ui.horizontal(|ui| {
            ui.label("Theme");
            ui.radio_value(&mut settings.theme, ThemeChoice::Dark, "dark");
            ui.radio_value(&mut settings.theme, ThemeChoice::Light, "light");
        });
        if has_session && ui.button("Apply now (restarts the session)").clicked() {
            actions.push(Action::Restart);
        }
    }

    /// Where the settings are kept.
    pub fn show_plot(&self, ui: &mut Ui, config_dir: &Path) {
        ui.label(RichText::new(format!("saved in {}", config_dir.display())).small());
    }
}
