//! The scrolling log-mel spectrogram: a texture holding a ring of columns. Each frame only
//! the columns that arrived since the last one are written into it (`set_partial`); the
//! scroll is done by texture coordinates (the texture repeats), never by rebuilding it.

use egui::{
    Color32, ColorImage, Mesh, Pos2, Rect, Sense, Stroke, TextureHandle, TextureOptions, Ui, pos2, vec2,
};

use super::colors::ColorMap;
use super::state::{AppState, SpectrogramRing};
use crate::features::filters::hz_to_mel;

/// Room for the frequency labels on the left, in points.
const AXIS_LEFT: f32 = 52.0;
/// Room for the time labels below, in points.
const AXIS_BOTTOM: f32 = 18.0;
/// Width of the colour bar on the right, in points (plus its labels).
const COLORBAR: f32 = 56.0;

/// The spectrogram's texture and what of the ring it already holds.
pub struct SpectrogramPanel {
    texture: Option<TextureHandle>,
    /// Columns of the ring already in the texture (a count since the start).
    uploaded: u64,
    /// The ring those columns came from.
    ring_id: Option<u64>,
    /// Columns written into the texture so far (for tests and the benchmark).
    pub columns_uploaded: u64,
    colors: ColorMap,
}

impl Default for SpectrogramPanel {
    fn default() -> Self {
        Self { texture: None, uploaded: 0, ring_id: None, columns_uploaded: 0, colors: ColorMap::magma() }
    }
}

impl SpectrogramPanel {
    /// Writes the columns that arrived since the last call into the texture (all of them
    /// the first time or after the ring changed shape).
    pub fn upload(&mut self, ctx: &egui::Context, ring: &SpectrogramRing) {
        let (w, h) = (ring.width(), ring.bands());
        let fresh = match &self.texture {
            Some(t) => t.size() != [w, h] || self.ring_id != Some(ring.id()),
            None => true,
        };
        self.ring_id = Some(ring.id());
        if fresh {
            let image = self.image(ring, ring.written().saturating_sub(w as u64), ring.written(), true);
            self.texture = Some(ctx.load_texture("spectrogram", image, TextureOptions::LINEAR_REPEAT));
            self.uploaded = ring.written();
            return;
        }
        let new = ring.written() - self.uploaded;
        if new == 0 {
            return;
        }
        let from = ring.written() - new.min(w as u64);
        // The new columns occupy slots from `from % w` on, wrapping at most once.
        let start_slot = (from % w as u64) as usize;
        let first_run = (w - start_slot).min(usize::try_from(ring.written() - from).unwrap_or(w));
        let runs = [(from, from + first_run as u64), (from + first_run as u64, ring.written())];
        for (a, b) in runs {
            if b > a {
                let image = self.image(ring, a, b, false);
                let slot = (a % w as u64) as usize;
                if let Some(t) = &mut self.texture {
                    t.set_partial([slot, 0], image, TextureOptions::LINEAR_REPEAT);
                }
            }
        }
        self.uploaded = ring.written();
    }

    /// Columns `a..b` as an image (highest band on top). `whole` makes a full-width image
    /// with each column at its ring slot.
    fn image(&mut self, ring: &SpectrogramRing, a: u64, b: u64, whole: bool) -> ColorImage {
        let (w, h) = (ring.width(), ring.bands());
        let cols = if whole { w } else { usize::try_from(b - a).unwrap_or(0) };
        let mut pixels = vec![Color32::BLACK; cols * h];
        let (lo, hi) = ring.range_db();
        let span = (hi - lo).max(1.0);
        for index in a..b {
            let x = if whole { (index % w as u64) as usize } else { usize::try_from(index - a).unwrap_or(0) };
            for (band, &v) in ring.column(index).iter().enumerate() {
                pixels[(h - 1 - band) * cols + x] = self.colors.at((v - lo) / span);
            }
        }
        self.columns_uploaded += b - a;
        ColorImage::new([cols, h], pixels)
    }

    /// Controls: none but a caption (the length is a setting).
    pub fn show_controls(&mut self, ui: &mut Ui, state: &AppState) {
        let (lo, hi) = state.spectrogram.range_db();
        ui.label(format!(
            "Log-mel spectrogram, last {:.0} s ({} bands, colour {lo:.0}…{hi:.0} dB)",
            state.spectrogram_s(),
            state.spectrogram.bands()
        ));
    }

    /// Draws the spectrogram with its axes and colour bar, filling the width.
    pub fn show_plot(&self, ui: &mut Ui, state: &AppState, height: f32) {
        let (response, painter) = ui.allocate_painter(vec2(ui.available_width(), height), Sense::hover());
        let full = response.rect;
        let plot = Rect::from_min_max(
            pos2(full.left() + AXIS_LEFT, full.top() + 2.0),
            pos2(full.right() - COLORBAR, full.bottom() - AXIS_BOTTOM),
        );
        let ring = &state.spectrogram;
        painter.rect_filled(plot, 0.0, self.colors.at(0.0));
        if let Some(texture) = &self.texture {
            let u0 = (ring.written() % ring.width() as u64) as f32 / ring.width() as f32;
            let mut mesh = Mesh::with_texture(texture.id());
            mesh.add_rect_with_uv(
                plot,
                Rect::from_min_max(pos2(u0, 0.0), pos2(u0 + 1.0, 1.0)),
                Color32::WHITE,
            );
            painter.add(mesh);
        }
        let text = ui.visuals().text_color();
        let font = egui::FontId::proportional(11.0);
        let axis = Stroke::new(1.0, ui.visuals().weak_text_color());
        // Frequency axis: mel-spaced, labelled in Hz.
        let (fmin, fmax) = state.mel_range_hz;
        let (m0, m1) = (hz_to_mel(f64::from(fmin)), hz_to_mel(f64::from(fmax)));
        for hz in [250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0] {
            if hz <= f64::from(fmin) || hz > f64::from(fmax) {
                continue;
            }
            let frac = ((hz_to_mel(hz) - m0) / (m1 - m0)) as f32;
            let y = plot.bottom() - frac * plot.height();
            painter.line_segment([pos2(plot.left() - 4.0, y), pos2(plot.left(), y)], axis);
            let label = if hz >= 1000.0 { format!("{} kHz", hz / 1000.0) } else { format!("{hz} Hz") };
            painter.text(pos2(plot.left() - 6.0, y), egui::Align2::RIGHT_CENTER, label, font.clone(), text);
        }
        // Time axis: seconds of stream time, newest at the right edge.
        let now = state.readouts.time_s;
        let span = state.spectrogram_s();
        let step = if span > 15.0 { 5.0 } else { 2.0 };
        // No labels before the session began (that part of the ring is still empty).
        let mut t = ((now - span).max(0.0) / step).ceil() * step;
        while t <= now {
            let x = plot.right() - ((now - t) / span) as f32 * plot.width();
            painter.line_segment([pos2(x, plot.bottom()), pos2(x, plot.bottom() + 4.0)], axis);
            painter.text(
                pos2(x, plot.bottom() + 4.0),
                egui::Align2::CENTER_TOP,
                format!("{t:.0} s"),
                font.clone(),
                text,
            );
            t += step;
        }
        painter.rect_stroke(plot, 0.0, axis, egui::StrokeKind::Outside);
        self.colorbar(&painter, plot, ring, &font, text);
    }

    fn colorbar(
        &self,
        painter: &egui::Painter,
        plot: Rect,
        ring: &SpectrogramRing,
        font: &egui::FontId,
        text: Color32,
    ) {
        let bar = Rect::from_min_max(
            pos2(plot.right() + 8.0, plot.top()),
            pos2(plot.right() + 18.0, plot.bottom()),
        );
        let steps = 32;
        for i in 0..steps {
            let f0 = i as f32 / steps as f32;
            let f1 = (i + 1) as f32 / steps as f32;
            let r = Rect::from_min_max(
                Pos2::new(bar.left(), bar.bottom() - f1 * bar.height()),
                Pos2::new(bar.right(), bar.bottom() - f0 * bar.height()),
            );
            painter.rect_filled(r, 0.0, self.colors.at((f0 + f1) / 2.0));
        }
        let (lo, hi) = ring.range_db();
        let at = |y: f32, s: String| {
            painter.text(pos2(bar.right() + 3.0, y), egui::Align2::LEFT_CENTER, s, font.clone(), text);
        };
        at(bar.top() + 5.0, format!("{hi:.0}"));
        at(bar.bottom() - 5.0, format!("{lo:.0}"));
        at(bar.center().y, "dB".to_owned());
    }
}
