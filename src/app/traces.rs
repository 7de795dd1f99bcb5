//! The emotion traces: one line per emotion over the last 30-120 s, silence as gaps,
//! speech as a bar under the lines, markers as vertical lines. Following the newest hop
//! unless frozen; when frozen the plot can be dragged and zoomed. Lines are decimated to
//! one point per pixel column of the plot, so the cost does not grow with the session.

use egui::{Color32, Ui};
use egui_plot::{Line, LineStyle, Plot, PlotBounds, PlotPoints, Text, VLine};

use super::colors::emotion_color;
use super::settings::{Settings, TRACE_WINDOW_RANGE_S};
use super::state::AppState;
use crate::model::Emotion;

/// Where the speech bar sits under the lines, in probability units.
const SPEECH_BAR_Y: f64 = -0.04;
/// Colour of the speech bar.
const SPEECH_COLOR: Color32 = Color32::from_rgb(120, 200, 120);

/// The trace plot's view state.
#[derive(Debug, Default)]
pub struct TracePanel {
    /// Frozen: the view stops following the newest hop (data still arrives).
    pub frozen: bool,
}

/// What the last drawn plot held (for tests and the benchmark).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TracePlotStats {
    /// Points drawn over all emotion lines (per emotion: this divided by seven).
    pub points: usize,
    /// Speech-with-scores stretches drawn.
    pub segments: usize,
}

impl TracePanel {
    /// Window length, freeze and follow.
    pub fn show_controls(&mut self, ui: &mut Ui, settings: &mut Settings) {
        ui.horizontal(|ui| {
            ui.label("Emotion trace");
            let (lo, hi) = TRACE_WINDOW_RANGE_S;
            ui.add(
                egui::Slider::new(&mut settings.trace_window_s, lo..=hi)
                    .step_by(10.0)
                    .suffix(" s")
                    .text("window"),
            );
            ui.toggle_value(&mut self.frozen, "Freeze view")
                .on_hover_text("Stop following; drag and scroll to pan and zoom");
            if self.frozen && ui.button("Follow").clicked() {
                self.frozen = false;
            }
        });
        // The legend, outside the plot so it never hides a line.
        ui.horizontal_wrapped(|ui| {
            for emotion in Emotion::ALL {
                legend_chip(ui, emotion_color(emotion), emotion.name());
            }
            legend_chip(ui, SPEECH_COLOR, "speech (gaps: silence)");
        });
    }

    /// Draws the plot, `height` points tall.
    pub fn show_plot(
        &self,
        ui: &mut Ui,
        state: &AppState,
        settings: &Settings,
        height: f32,
    ) -> TracePlotStats {
        let now = state.readouts.time_s.max(state.trace.last_time_s());
        let span = settings.trace_window_s;
        let follow = !self.frozen;
        let mut stats = TracePlotStats::default();
        Plot::new("emotion_trace")
            .height(height)
            .x_axis_label("time (s)")
            .y_axis_label("probability")
            .allow_drag([!follow, false])
            .allow_zoom([!follow, false])
            .allow_scroll([!follow, false])
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            // NOTE: no hover read-out of coordinates: the legend and the current panel say more.
            .show_x(false)
            .show_y(false)
            .show(ui, |plot_ui| {
                // NOTE: bounds set here take effect after this closure (plot_bounds() still
                // says last frame's), so when following, decimate to the bounds computed here.
                let (t0, t1) = if follow {
                    // A young session fills the window from its start; then it scrolls.
                    let x0 = (now - span).max(state.trace.first_time_s().min(0.0));
                    plot_ui.set_plot_bounds(PlotBounds::from_min_max([x0, -0.08], [x0 + span, 1.05]));
                    (x0, x0 + span)
                } else {
                    plot_ui.set_plot_bounds_y(-0.08..=1.05);
                    let b = plot_ui.plot_bounds();
                    (b.min()[0], b.max()[0])
                };
                let pixels = plot_ui.response().rect.width().max(1.0) as usize;
                let decimated = state.trace.decimate(t0, t1, pixels);
                stats.points = decimated.point_count() * Emotion::COUNT;
                stats.segments = decimated.segments.len();
                for segment in &decimated.segments {
                    for emotion in Emotion::ALL {
                        let points: PlotPoints<'_> = segment
                            .times_s
                            .iter()
                            .zip(&segment.probabilities)
                            .map(|(&t, p)| [t, f64::from(p[emotion.index()])])
                            .collect();
                        plot_ui
                            .line(Line::new(emotion.name(), points).color(emotion_color(emotion)).width(1.8));
                    }
                }
                for &(a, b) in &decimated.speech_spans_s {
                    let bar =
                        PlotPoints::from(vec![[a, SPEECH_BAR_Y], [b.max(a + state.hop_s), SPEECH_BAR_Y]]);
                    plot_ui.line(Line::new("speech", bar).color(SPEECH_COLOR).width(5.0));
                }
                for marker in &state.markers {
                    if marker.time_s < t0 || marker.time_s > t1 {
                        continue;
                    }
                    let color = plot_ui.ctx().global_style().visuals.strong_text_color();
                    plot_ui.vline(
                        VLine::new("", marker.time_s)
                            .color(color)
                            .style(LineStyle::dashed_loose())
                            .width(1.0),
                    );
                    plot_ui.text(
                        Text::new(
                            "",
                            egui_plot::PlotPoint::new(marker.time_s, 1.0),
                            format!(" {}", marker.note),
                        )
                        .anchor(egui::Align2::LEFT_TOP)
                        .color(color),
                    );
                }
            });
        stats
    }
}

/// A coloured dash and a name.
fn legend_chip(ui: &mut Ui, color: Color32, name: &str) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 10.0), egui::Sense::hover());
    ui.painter().line_segment([rect.left_center(), rect.right_center()], egui::Stroke::new(3.0, color));
    ui.label(name);
}
