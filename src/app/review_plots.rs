//! Review's two plots of the whole session: the spectrogram (the overview's columns as
//! one texture) and the emotion trace (egui_plot, one line per emotion decimated to the
//! plot's width, markers as numbered dashed lines). Both carry the playback cursor; a
//! click or drag on either moves it (the caller seeks there).

use egui::{Color32, ColorImage, Rect, Sense, Stroke, TextureHandle, TextureOptions, Ui, pos2, vec2};
use egui_plot::{Line, LineStyle, Plot, PlotPoints, Text, VLine};

use super::colors::{ColorMap, emotion_color};
use crate::model::Emotion;
use crate::sessions::overview::{OverviewSpectrogram, SessionOverview};

/// Colour of the playback cursor.
pub const CURSOR_COLOR: Color32 = Color32::from_rgb(255, 70, 70);
/// dB range shown below the loudest column value.
const DB_RANGE: f32 = 80.0;

/// The spectrogram as a texture (built once per session).
pub fn spectrogram_texture(ctx: &egui::Context, s: &OverviewSpectrogram) -> Option<TextureHandle> {
    if s.columns == 0 || s.bands == 0 {
        return None;
    }
    let colors = ColorMap::magma();
    let top = s.db.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut image = ColorImage::new([s.columns, s.bands], vec![Color32::BLACK; s.columns * s.bands]);
    for c in 0..s.columns {
        for b in 0..s.bands {
            let v = ((s.db[c * s.bands + b] - (top - DB_RANGE)) / DB_RANGE).clamp(0.0, 1.0);
            // Lowest band at the bottom row.
            image.pixels[(s.bands - 1 - b) * s.columns + c] = colors.at(v);
        }
    }
    Some(ctx.load_texture("review-spectrogram", image, TextureOptions::LINEAR))
}

/// Draws the spectrogram across the full width with the cursor; returns the time
/// clicked or dragged to, if any, and the rect drawn.
pub fn show_spectrogram(
    ui: &mut Ui,
    texture: Option<&TextureHandle>,
    duration_s: f64,
    cursor_s: f64,
    height: f32,
) -> (Option<f64>, Rect) {
    let (rect, response) =
        ui.allocate_exact_size(vec2(ui.available_width(), height), Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    match texture {
        Some(t) => {
            painter.image(t.id(), rect, Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)), Color32::WHITE);
        }
        None => {
            painter.rect_filled(rect, 0.0, Color32::from_gray(20));
        }
    }
    let x = rect.left() + rect.width() * (cursor_s / duration_s.max(1e-9)).clamp(0.0, 1.0) as f32;
    painter.line_segment([pos2(x, rect.top()), pos2(x, rect.bottom())], Stroke::new(2.0, CURSOR_COLOR));
    let seek = (response.clicked() || response.dragged())
        .then(|| response.interact_pointer_pos().or_else(|| response.hover_pos()))
        .flatten()
        .map(|p| f64::from((p.x - rect.left()) / rect.width()).clamp(0.0, 1.0) * duration_s);
    (seek, rect)
}

/// Draws the emotion trace with markers and cursor; returns the time clicked or dragged
/// to, if any, and the plot's rect. Scrolling zooms; dragging seeks.
pub fn show_trace(
    ui: &mut Ui,
    overview: &SessionOverview,
    cursor_s: f64,
    height: f32,
) -> (Option<f64>, Rect) {
    let end_s = overview.duration_s.max(overview.trace.last_time_s()).max(1.0);
    let width_px = ui.available_width().max(100.0) as usize;
    let response = Plot::new("review-trace")
        .height(height)
        .allow_drag(false)
        .allow_zoom(true)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .allow_double_click_reset(true)
        .include_x(0.0)
        .include_x(end_s)
        .include_y(-0.05)
        .include_y(1.08)
        .x_axis_label("seconds into the session")
        .show(ui, |plot_ui| {
            let bounds = plot_ui.plot_bounds();
            let (t0, t1) = if bounds.width() > 0.0 && bounds.min()[0] < end_s && bounds.max()[0] > 0.0 {
                (bounds.min()[0].max(0.0), bounds.max()[0].min(end_s))
            } else {
                (0.0, end_s)
            };
            let decimated = overview.trace.decimate(t0, t1, width_px);
            for emotion in Emotion::ALL {
                let color = emotion_color(emotion);
                for segment in &decimated.segments {
                    let points: PlotPoints<'_> = segment
                        .times_s
                        .iter()
                        .zip(&segment.probabilities)
                        .map(|(t, p)| [*t, f64::from(p[emotion.index()])])
                        .collect();
                    plot_ui.line(Line::new(emotion.name(), points).color(color).width(1.5));
                }
            }
            for (i, marker) in overview.markers.iter().enumerate() {
                plot_ui.vline(
                    VLine::new(format!("marker {}", i + 1), marker.time_s)
                        .color(Color32::GRAY)
                        .style(LineStyle::dashed_loose()),
                );
                plot_ui.text(
                    Text::new("", egui_plot::PlotPoint::new(marker.time_s, 1.06), format!(" {}", i + 1))
                        .anchor(egui::Align2::LEFT_CENTER),
                );
            }
            plot_ui.vline(VLine::new("cursor", cursor_s).color(CURSOR_COLOR).width(2.0));
        });
    let r = &response.response;
    let seek = (r.clicked() || r.dragged())
        .then(|| r.interact_pointer_pos().or_else(|| r.hover_pos()))
        .flatten()
        .map(|p| response.transform.value_from_position(p).x.clamp(0.0, end_s));
    (seek, r.rect)
}
