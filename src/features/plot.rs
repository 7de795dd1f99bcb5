//! A PNG of a clip's features for people: the log-mel spectrogram (frequency in Hz on a mel
//! axis, colour in dB) above its MFCCs 1.. (c0, the log energy, left out), each with a
//! colour bar, time in seconds underneath. Text uses the bundled DejaVu Sans.

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use super::filters::{dct_ortho, hz_to_mel, mel_to_hz};
use super::{FeatureConfig, FeatureFrames};

/// Why the plot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Drawing or writing the PNG failed (e.g. the folder does not exist).
    #[error("cannot draw {path}: {reason}")]
    Draw {
        /// The PNG being written.
        path: String,
        /// What plotters reported.
        reason: String,
    },
    /// There are no frames to draw.
    #[error("nothing to plot: no frames")]
    NoFrames,
}

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 900;
/// Displayed dynamic range of the spectrogram, in dB below its loudest value.
const RANGE_DB: f32 = 80.0;
/// At most this many columns are drawn; longer clips are averaged down.
const MAX_COLUMNS: usize = 1200;
const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // NOTE: the font is compiled in and known to parse; a failure would only lose text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// A linear axis whose labels sit at chosen values (round frequencies on the mel axis).
struct TickedAxis {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for TickedAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.range.clone()).map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// A `rows x cols` matrix drawn as a heat map, column by column over time.
struct Grid {
    /// `values[c * rows + r]`.
    values: Vec<f32>,
    rows: usize,
    cols: usize,
}

/// Averages frames into at most `MAX_COLUMNS` columns: `per_frame(i)` gives frame i.
fn downsample<'a>(n_frames: usize, rows: usize, per_frame: impl Fn(usize) -> &'a [f32]) -> Grid {
    let cols = n_frames.min(MAX_COLUMNS);
    let mut values = vec![0.0f32; cols * rows];
    for c in 0..cols {
        let (lo, hi) = (c * n_frames / cols, ((c + 1) * n_frames / cols).max(c * n_frames / cols + 1));
        for i in lo..hi {
            for (v, x) in values[c * rows..(c + 1) * rows].iter_mut().zip(per_frame(i)) {
                *v += x / (hi - lo) as f32;
            }
        }
    }
    Grid { values, rows, cols }
}

/// Blue (negative) through white to red (positive), `t` in -1..=1.
fn diverging(t: f32) -> RGBColor {
    let t = t.clamp(-1.0, 1.0);
    let (r, g, b) = if t < 0.0 {
        let u = 1.0 + t; // 0 at -1, 1 at 0
        (40.0 + 215.0 * u, 70.0 + 185.0 * u, 160.0 + 95.0 * u)
    } else {
        (255.0 - 75.0 * t, 255.0 - 215.0 * t, 255.0 - 215.0 * t)
    };
    RGBColor(r as u8, g as u8, b as u8)
}

fn draw_err(path: &Path) -> impl Fn(String) -> PlotError + '_ {
    move |reason| PlotError::Draw { path: path.display().to_string(), reason }
}

/// Draws the spectrogram and MFCC panels of `frames` (computed with `cfg`) into a PNG.
pub fn plot_png(
    path: &Path,
    frames: &FeatureFrames,
    cfg: &FeatureConfig,
    title: &str,
) -> Result<(), PlotError> {
    if frames.n_frames == 0 {
        return Err(PlotError::NoFrames);
    }
    register_font();
    let err = draw_err(path);
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let root = root.titled(title, (FONT, 26)).map_err(|e| err(e.to_string()))?;
    let (top, bottom) = root.split_vertically(HEIGHT * 56 / 100);
    let duration_s = frames.n_frames as f64 * frames.hop_samples as f64 / f64::from(frames.sample_rate_hz);

    // Log-mel spectrogram on a mel axis labelled in Hz.
    let mels = downsample(frames.n_frames, frames.n_mels, |i| frames.log_mel(i));
    let hi_db = mels.values.iter().copied().fold(f32::MIN, f32::max);
    let lo_db = hi_db - RANGE_DB;
    let (mel_lo, mel_hi) = (hz_to_mel(f64::from(cfg.fmin_hz)), hz_to_mel(f64::from(cfg.fmax_hz)));
    let ticks_hz = [0.0, 250.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0, 6000.0, 8000.0, 12000.0, 16000.0];
    // Band b is centred at mel point b + 1 of n_mels + 2 evenly spaced points.
    let step = (mel_hi - mel_lo) / (frames.n_mels + 1) as f64;
    let y_range = mel_lo + step * 0.5..mel_hi - step * 0.5;
    let ticks: Vec<f64> = ticks_hz.iter().map(|&hz| hz_to_mel(hz)).filter(|m| y_range.contains(m)).collect();
    let heat = |v: f32| ViridisRGB::get_color_normalized(v.clamp(lo_db, hi_db), lo_db, hi_db);
    let (panel, bar) = top.split_horizontally(WIDTH - 130);
    let mut chart = ChartBuilder::on(&panel)
        .caption("Log-mel spectrogram", (FONT, 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..duration_s, TickedAxis { range: y_range, ticks })
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("Time (s)")
        .y_desc("Frequency (Hz, mel scale)")
        .y_label_formatter(&|m| format!("{:.0}", mel_to_hz(*m)))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    draw_grid(&mut chart, &mels, duration_s, mel_lo + step * 0.5, step, heat).map_err(&err)?;
    colour_bar(&bar, "power (dB)", lo_db, hi_db, heat).map_err(&err)?;

    // MFCCs from the same log-mel frames (so the plot does not depend on which families
    // the model uses), c0 left out.
    let n_mfcc = cfg.n_mfcc.max(2);
    let dct = dct_ortho(frames.n_mels, n_mfcc);
    let mut mfcc_rows = Vec::with_capacity(mels.cols * (n_mfcc - 1));
    for col in mels.values.chunks_exact(mels.rows) {
        for k in 1..n_mfcc {
            mfcc_rows.push(
                dct[k * mels.rows..(k + 1) * mels.rows].iter().zip(col).map(|(a, b)| a * b).sum::<f32>(),
            );
        }
    }
    let mfcc = Grid { values: mfcc_rows, rows: n_mfcc - 1, cols: mels.cols };
    let limit = mfcc.values.iter().fold(1e-6f32, |a, v| a.max(v.abs()));
    let coeff = |v: f32| diverging(v / limit);
    let (panel, bar) = bottom.split_horizontally(WIDTH - 130);
    let mut chart = ChartBuilder::on(&panel)
        .caption(format!("MFCC 1-{} (c0, the log energy, omitted)", n_mfcc - 1), (FONT, 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..duration_s, 0.5..(n_mfcc as f64 - 0.5))
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("Time (s)")
        .y_desc("Coefficient")
        .y_labels(n_mfcc.min(13))
        .y_label_formatter(&|k| format!("{k:.0}"))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    draw_grid(&mut chart, &mfcc, duration_s, 1.0, 1.0, coeff).map_err(&err)?;
    colour_bar(&bar, "MFCC value", -limit, limit, coeff).map_err(&err)?;
    root.present().map_err(|e| err(e.to_string()))
}

/// Fills one rectangle per grid cell: column c spans its share of the time axis, row r is
/// centred at `y0 + r * dy`.
fn draw_grid<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    grid: &Grid,
    duration_s: f64,
    y0: f64,
    dy: f64,
    color: impl Fn(f32) -> RGBColor,
) -> Result<(), String> {
    let col_s = duration_s / grid.cols as f64;
    let cells = (0..grid.cols).flat_map(|c| {
        let color = &color;
        (0..grid.rows).map(move |r| {
            let (x, y) = (c as f64 * col_s, y0 + r as f64 * dy);
            Rectangle::new(
                [(x, y - dy / 2.0), (x + col_s, y + dy / 2.0)],
                color(grid.values[c * grid.rows + r]).filled(),
            )
        })
    });
    chart.draw_series(cells).map(|_| ()).map_err(|e| e.to_string())
}

/// A vertical colour bar from `lo` to `hi` with labelled ticks.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    unit: &str,
    lo: f32,
    hi: f32,
    color: impl Fn(f32) -> RGBColor,
) -> Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(45)
        .margin_bottom(57)
        .margin_right(10)
        .set_label_area_size(LabelAreaPosition::Right, 60)
        .build_cartesian_2d(0.0f32..1.0f32, lo..hi)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(unit)
        .y_labels(6)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(|e| e.to_string())?;
    let n = 200;
    let dv = (hi - lo) / n as f32;
    let cells = (0..n).map(|i| {
        let v = lo + i as f32 * dv;
        Rectangle::new([(0.0, v), (1.0, v + dv)], color(v + dv / 2.0).filled())
    });
    chart.draw_series(cells).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diverging map is blue below zero, white at zero, red above.
    #[test]
    fn diverging_colours() {
        assert_eq!(diverging(0.0), RGBColor(255, 255, 255));
        let (neg, pos) = (diverging(-1.0), diverging(1.0));
        assert!(neg.2 > neg.0 && pos.0 > pos.2);
    }

    /// Long inputs are averaged down to at most MAX_COLUMNS columns.
    #[test]
    fn downsample_averages() {
        let rows: Vec<[f32; 1]> = (0..2 * MAX_COLUMNS).map(|i| [(i % 2) as f32]).collect();
        let g = downsample(rows.len(), 1, |i| &rows[i][..]);
        assert_eq!(g.cols, MAX_COLUMNS);
        assert!(g.values.iter().all(|&v| (v - 0.5).abs() < 1e-6));
    }
}
