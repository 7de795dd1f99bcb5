//! [`MonitorApp`]: the window's state and its frame. Each frame: take in what arrived
//! (snapshots, events, device lists, dialog answers, dropped files), draw the panels,
//! apply the actions they asked for, save changed settings, and ask for the next frame.

use std::path::PathBuf;

use crossbeam_channel::Receiver;
use egui::{Context, RichText};

use super::Action;
use super::current::CurrentPanel;
use super::frame_stats::FrameStats;
use super::input::InputPanel;
use super::library_view::LibraryView;
use super::link::{EngineLink, LinkState};
use super::model_panel::ModelPanel;
use super::replay::ReplayPanel;
use super::review::ReviewPanel;
use super::session::SessionPanel;
use super::sessions_ui::View;
use super::settings::{Settings, ThemeChoice};
use super::settings_panel::SettingsPanel;
use super::spectrogram::SpectrogramPanel;
use super::state::AppState;
use super::traces::{TracePanel, TracePlotStats};
use crate::engine::{RunState, Source};
use crate::features::FeatureConfig;
use crate::model::DeviceChoice;

/// How the window starts.
#[derive(Debug, Clone)]
pub struct WindowOptions {
    /// Start a session on this source at once (`None`: wait for Start or Replay).
    pub autostart: Option<Source>,
    /// The model card to use; `None` runs without a model.
    pub model: Option<PathBuf>,
    /// The voice's calibration file (`emotrace calibrate`), if any.
    pub calibration: Option<PathBuf>,
    /// Why there is no model when one was wanted (shown once as a notice).
    pub model_note: Option<String>,
    /// Where settings are kept.
    pub config_dir: PathBuf,
    /// Where recorded sessions and exports go.
    pub sessions_dir: PathBuf,
    /// Where the model runs.
    pub compute: DeviceChoice,
    /// List the input devices at start (tests of other panels switch it off).
    pub probe_devices: bool,
    /// Print frame-time statistics on stderr every 10 s.
    pub frame_stats: bool,
    /// Open this recorded (plain) session in Review at start.
    pub review: Option<PathBuf>,
}

/// The monitor window.
pub struct MonitorApp {
    /// Persisted settings (saved whenever they change).
    pub settings: Settings,
    saved_settings: Settings,
    /// What the window shows, built from snapshots.
    pub state: AppState,
    /// The engine session, if any.
    pub link: EngineLink,
    /// Input devices and transport.
    pub input: InputPanel,
    /// Replay file and seek.
    pub replay: ReplayPanel,
    /// Recording, markers, export.
    pub session: SessionPanel,
    /// Model info and loading.
    pub model: ModelPanel,
    /// The trace plot's view.
    pub traces: TracePanel,
    /// The current emotion.
    pub current: CurrentPanel,
    /// The spectrogram texture.
    pub spectrogram: SpectrogramPanel,
    settings_panel: SettingsPanel,
    /// What the trace plot drew in the last frame.
    pub trace_stats: TracePlotStats,
    /// Record the next session (Record pressed with no session running).
    pub record_armed: bool,
    /// The file being replayed, for the status bar.
    pub replaying: Option<String>,
    pub(super) options: WindowOptions,
    pub(super) exports: Option<Receiver<Result<Vec<PathBuf>, String>>>,
    applied_theme: Option<ThemeChoice>,
    /// Frame times reported by eframe.
    pub frames: FrameStats,
    /// Which view shows: the monitor, the session library or a review.
    pub view: View,
    /// The session library.
    pub library: LibraryView,
    /// The session under review.
    pub review: ReviewPanel,
    pub(super) reports: Option<Receiver<Result<PathBuf, String>>>,
    /// A calibration asked for, until the engine's answer is kept.
    pub keeping: Option<super::keep_calibration::PendingKeep>,
    /// The last report or delete result, for the library.
    pub report_note: Option<String>,
}

impl MonitorApp {
    /// Builds the app: loads settings, reads the model card, starts the device probe and
    /// the first session if asked. Nothing here blocks on audio or the model.
    pub fn new(ctx: &Context, options: WindowOptions) -> Self {
        super::fonts::install_symbol_font(ctx);
        let settings = Settings::load(&options.config_dir);
        let mut app = Self {
            state: AppState::new(settings.spectrogram_window_s, &FeatureConfig::default()),
            saved_settings: settings.clone(),
            settings,
            link: EngineLink::default(),
            input: InputPanel::default(),
            replay: ReplayPanel::default(),
            session: SessionPanel::default(),
            model: ModelPanel::default(),
            traces: TracePanel::default(),
            current: CurrentPanel::default(),
            spectrogram: SpectrogramPanel::default(),
            settings_panel: SettingsPanel,
            trace_stats: TracePlotStats::default(),
            record_armed: false,
            replaying: None,
            options: options.clone(),
            exports: None,
            applied_theme: None,
            frames: FrameStats::new(options.frame_stats),
            view: View::Monitor,
            library: LibraryView::default(),
            review: ReviewPanel::default(),
            reports: None,
            keeping: None,
            report_note: None,
        };
        app.model.set_model(options.model.clone());
        app.model.set_calibration(options.calibration.clone());
        if let Some(note) = options.model_note {
            app.link.notice(note);
        }
        if let Some(path) = &app.settings.last_replay {
            app.replay.path_text = path.display().to_string();
        }
        if options.probe_devices {
            app.input.refresh();
        }
        if let Some(dir) = &options.review {
            app.review.open(dir.clone(), super::review::Unlock::Plain);
            app.view = View::Review;
        }
        match options.autostart {
            Some(Source::File { path, pace }) => {
                app.settings.replay_fast = pace == crate::engine::Pace::Fast;
                app.replay.path_text = path.display().to_string();
                app.apply(Action::StartReplay { path, start_at_s: 0.0 });
            }
            Some(Source::Input(name)) => {
                app.settings.device = Some(name);
                app.apply(Action::StartLive);
            }
            Some(Source::DefaultInput) => app.apply(Action::StartLive),
            None => {}
        }
        ctx.request_repaint();
        app
    }

    /// One frame: everything but eframe's own plumbing (tests and the benchmark call it),
    /// drawn into `ui`, the whole window's.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.take_in(&ctx);
        self.apply_theme(&ctx);
        let mut actions = Vec::new();
        let link_state = self.link.state();
        let has_session = matches!(link_state, LinkState::Session(_));
        egui::Panel::top("status").show(ui, |ui| self.status_bar(ui, link_state));
        egui::Panel::bottom("notices").show(ui, |ui| {
            let last = self.link.notices.last().map_or("", String::as_str);
            ui.label(RichText::new(last).small());
        });
        if self.view != View::Monitor {
            self.show_sessions(ui);
            self.save_settings_if_changed();
            ctx.request_repaint_after(std::time::Duration::from_millis(200));
            return;
        }
        egui::Panel::left("controls").resizable(true).default_size(360.0).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                egui::CollapsingHeader::new(RichText::new("Input").strong()).default_open(true).show(
                    ui,
                    |ui| {
                        self.input.show_controls(ui, &mut self.settings, link_state, &mut actions);
                        self.input.show_plot(ui, &self.state.readouts);
                    },
                );
                ui.separator();
                egui::CollapsingHeader::new(RichText::new("Replay").strong()).default_open(true).show(
                    ui,
                    |ui| {
                        self.replay.show_controls(ui, &mut self.settings, &mut actions);
                        self.replay.show_plot(ui, self.replaying.as_deref());
                    },
                );
                egui::CollapsingHeader::new(RichText::new("Session").strong()).default_open(true).show(
                    ui,
                    |ui| {
                        let record_on = self.link.recording().is_some() || self.record_armed;
                        self.session.show_controls(ui, record_on, has_session, &mut actions);
                        self.session.show_plot(
                            ui,
                            &self.state,
                            self.link.recording(),
                            &self.options.sessions_dir,
                        );
                    },
                );
                egui::CollapsingHeader::new(RichText::new("Model").strong()).default_open(true).show(
                    ui,
                    |ui| {
                        self.model.show_controls(ui, &mut actions);
                        self.model.show_plot(ui);
                    },
                );
                egui::CollapsingHeader::new(RichText::new("Settings").strong()).show(ui, |ui| {
                    self.settings_panel.show_controls(ui, &mut self.settings, has_session, &mut actions);
                    self.settings_panel.show_plot(ui, &self.options.config_dir);
                });
            });
        });
        egui::Panel::right("current").resizable(false).exact_size(320.0).show(ui, |ui| {
            ui.add_space(6.0);
            self.current.show_plot(ui, &self.state, self.model.path.is_some());
            ui.add_space(6.0);
            self.current.show_controls(ui);
        });
        self.spectrogram.upload(&ctx, &self.state.spectrogram);
        egui::CentralPanel::default().show(ui, |ui| {
            self.spectrogram.show_controls(ui, &self.state);
            let spec_height = (ui.available_height() * 0.38).clamp(140.0, 360.0);
            self.spectrogram.show_plot(ui, &self.state, spec_height);
            ui.add_space(4.0);
            self.traces.show_controls(ui, &mut self.settings);
            let height = ui.available_height().max(120.0);
            self.trace_stats = self.traces.show_plot(ui, &self.state, &self.settings, height);
        });
        if !ctx.egui_wants_keyboard_input() && ctx.input(|i| i.key_pressed(egui::Key::M)) && has_session {
            actions.push(Action::AddMarker);
        }
        if !ctx.egui_wants_keyboard_input() && ctx.input(|i| i.key_pressed(egui::Key::Space)) && has_session {
            actions.push(Action::TogglePause);
        }
        for action in actions {
            self.apply(action);
        }
        self.save_settings_if_changed();
        // Every display frame while audio flows; a few times a second otherwise (paused,
        // finished, idle), enough for device lists, dialogs and notices.
        let busy = match self.link.state() {
            LinkState::Starting | LinkState::Session(RunState::Running | RunState::Reconnecting) => true,
            LinkState::Session(_) => self.link.engine().is_some_and(|e| !e.snapshots().is_empty()),
            LinkState::Idle => false,
        };
        if busy {
            ctx.request_repaint();
        } else {
            ctx.request_repaint_after(std::time::Duration::from_millis(200));
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui, link: LinkState) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("emotrace").strong().size(18.0));
            ui.separator();
            self.view_tabs(ui);
            ui.separator();
            let state = match link {
                LinkState::Idle => "idle".to_owned(),
                LinkState::Starting => "starting…".to_owned(),
                LinkState::Session(s) => format!("{s:?}").to_lowercase(),
            };
            ui.label(format!("session: {state}"));
            ui.separator();
            let source = match (&self.replaying, link) {
                (Some(name), LinkState::Session(_) | LinkState::Starting) => format!("replay: {name}"),
                (_, LinkState::Session(_) | LinkState::Starting) => {
                    format!("input: {}", self.settings.device.as_deref().unwrap_or("system default"))
                }
                _ => "no source".to_owned(),
            };
            ui.label(source);
            ui.separator();
            ui.label(format!("model: {}", self.model.label()));
            if self.link.recording().is_some() {
                ui.separator();
                ui.label(RichText::new("● REC").color(egui::Color32::from_rgb(230, 60, 60)).strong());
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(RichText::new("M: marker · Space: pause").small());
                if let Some(ms) = self.frames.last_ms {
                    ui.separator();
                    ui.label(RichText::new(format!("frame {ms:.1} ms")).small())
                        .on_hover_text("CPU time of the last frame, painting included");
                }
            });
        });
    }

    fn apply_theme(&mut self, ctx: &Context) {
        if self.applied_theme != Some(self.settings.theme) {
            ctx.set_theme(match self.settings.theme {
                ThemeChoice::Dark => egui::Theme::Dark,
                ThemeChoice::Light => egui::Theme::Light,
            });
            self.applied_theme = Some(self.settings.theme);
        }
    }

    /// Writes the settings file when something changed since the last write.
    pub fn save_settings_if_changed(&mut self) {
        if self.settings != self.saved_settings {
            if let Err(e) = self.settings.save(&self.options.config_dir) {
                self.link
                    .notice(format!("cannot save settings in {}: {e}", self.options.config_dir.display()));
            }
            self.saved_settings = self.settings.clone();
        }
    }
}

impl eframe::App for MonitorApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if let Some(seconds) = frame.info().cpu_usage {
            self.frames.add(seconds, self.state.trace.len());
        }
        MonitorApp::ui(self, ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.save_settings_if_changed();
        self.link.stop();
    }
}
