//! The input panel: device picker (probed on a background thread, refreshable), Start /
//! Pause / Stop, the level meter, the speech light, and the dropped-sample and latency
//! readouts.

use crossbeam_channel::Receiver;
use egui::{Color32, RichText, Sense, Ui, vec2};

use super::Action;
use super::link::LinkState;
use super::settings::Settings;
use super::state::Readouts;
use crate::audio::devices::{AudioHostReport, probe_inputs};
use crate::engine::RunState;

/// Input devices as the audio layer reports them.
#[derive(Default)]
pub struct InputPanel {
    /// Device names offered, in the audio layer's order; `None` until the first probe ends.
    pub devices: Option<Vec<String>>,
    /// The host's default input, if any.
    pub default_device: Option<String>,
    probing: Option<Receiver<Vec<AudioHostReport>>>,
}

/// The label of the "host default" entry of the picker.
pub const DEFAULT_DEVICE_LABEL: &str = "System default";

impl InputPanel {
    /// Starts listing devices on a background thread (ALSA probing can take a while).
    pub fn refresh(&mut self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let spawned = std::thread::Builder::new().name("emotrace-ui-devices".into()).spawn(move || {
            let _ = tx.send(probe_inputs());
        });
        if spawned.is_ok() {
            self.probing = Some(rx);
        }
    }

    /// Whether a probe is under way.
    pub fn is_probing(&self) -> bool {
        self.probing.is_some()
    }

    /// Takes a finished probe's answer. Returns `true` when one arrived.
    pub fn poll(&mut self) -> bool {
        let Some(rx) = &self.probing else { return false };
        let Ok(reports) = rx.try_recv() else { return false };
        self.probing = None;
        self.set_devices(&reports);
        true
    }

    /// Shows the devices of `reports` (every host's inputs, in order).
    pub fn set_devices(&mut self, reports: &[AudioHostReport]) {
        let inputs = reports.iter().flat_map(|r| &r.inputs);
        self.devices = Some(inputs.clone().map(|d| d.name.clone()).collect());
        self.default_device = inputs.clone().find(|d| d.is_default).map(|d| d.name.clone());
    }

    /// Picker, refresh and the transport buttons.
    pub fn show_controls(
        &mut self,
        ui: &mut Ui,
        settings: &mut Settings,
        link: LinkState,
        actions: &mut Vec<Action>,
    ) {
        ui.horizontal(|ui| {
            let selected = settings.device.clone().unwrap_or_else(|| DEFAULT_DEVICE_LABEL.to_owned());
            egui::ComboBox::from_label("Input").selected_text(selected).width(180.0).show_ui(ui, |ui| {
                ui.selectable_value(&mut settings.device, None, DEFAULT_DEVICE_LABEL);
                match &self.devices {
                    Some(names) if names.is_empty() => {
                        ui.label("(no input devices found)");
                    }
                    Some(names) => {
                        for name in names {
                            ui.selectable_value(&mut settings.device, Some(name.clone()), name);
                        }
                    }
                    None => {
                        ui.label("(looking for devices…)");
                    }
                }
            });
            let refresh = ui.add_enabled(!self.is_probing(), egui::Button::new("Refresh"));
            if refresh.on_hover_text("List the input devices again").clicked() {
                actions.push(Action::RefreshDevices);
            }
        });
        ui.horizontal(|ui| {
            let running = matches!(link, LinkState::Session(RunState::Running | RunState::Reconnecting));
            let paused = matches!(link, LinkState::Session(RunState::Paused));
            let active = matches!(link, LinkState::Starting | LinkState::Session(_));
            if ui.add_enabled(!running && !paused, egui::Button::new("▶ Start")).clicked() {
                actions.push(Action::StartLive);
            }
            let pause_label = if paused { "Resume" } else { "Pause" };
            if ui.add_enabled(running || paused, egui::Button::new(pause_label)).clicked() {
                actions.push(Action::TogglePause);
            }
            if ui.add_enabled(active, egui::Button::new("■ Stop")).clicked() {
                actions.push(Action::Stop);
            }
        });
    }

    /// Level meter, speech light and counters.
    pub fn show_plot(&self, ui: &mut Ui, readouts: &Readouts) {
        ui.horizontal(|ui| {
            let (rect, _) = ui.allocate_exact_size(vec2(16.0, 16.0), Sense::hover());
            let on = readouts.speech;
            let light = if on { Color32::from_rgb(60, 210, 90) } else { Color32::from_gray(70) };
            ui.painter().circle_filled(rect.center(), 7.0, light);
            ui.label(if on { "speech" } else { "silence" });
        });
        ui.horizontal(|ui| {
            ui.label("Level");
            let (rect, _) = ui.allocate_exact_size(vec2(ui.available_width() - 70.0, 12.0), Sense::hover());
            let painter = ui.painter();
            painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
            // -80 dBFS (empty) to 0 dBFS (full).
            let frac = ((readouts.level_dbfs + 80.0) / 80.0).clamp(0.0, 1.0);
            let mut fill = rect;
            fill.set_width(rect.width() * frac);
            let color = match readouts.level_dbfs {
                l if l > -6.0 => Color32::from_rgb(220, 60, 50),
                l if l > -20.0 => Color32::from_rgb(230, 180, 40),
                _ => Color32::from_rgb(70, 190, 90),
            };
            painter.rect_filled(fill, 2.0, color);
            ui.label(RichText::new(format!("{:>4.0} dB", readouts.level_dbfs.max(-99.0))).monospace());
        });
        ui.label(
            RichText::new(format!(
                "dropped {} samples · latency {:.0} ms · {:.1} s",
                readouts.dropped_samples, readouts.latency_ms, readouts.time_s
            ))
            .monospace()
            .small(),
        );
    }
}
