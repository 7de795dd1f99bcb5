//! PNG figures for reports: the normalised, labelled confusion matrix, training curves,
//! and accuracy against time since the utterance started.
//!
//! Text is drawn with DejaVu Sans (Debian `fonts-dejavu-core`, installed by
//! `scripts/install-system-deps`), read once and registered with plotters' ab_glyph.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

use super::evaluate::TimePoint;
use super::metrics::Confusion;
use super::trainer::EpochRecord;
use crate::model::Emotion;

/// A named line of a chart: label, value of a record, colour.
type Line<T> = (&'static str, fn(&T) -> f64, RGBColor);

/// Where the plot font is looked for, in order.
const FONT_PATHS: [&str; 2] =
    ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"];

/// Why a figure could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// No usable font: install `fonts-dejavu-core` (scripts/install-system-deps does).
    #[error("no plot font found (looked for {0}); install fonts-dejavu-core")]
    NoFont(String),
    /// Drawing or writing the PNG failed.
    #[error("{}: {message}", path.display())]
    Draw { path: PathBuf, message: String },
}

/// Registers the font as `sans-serif` once per process.
pub fn ensure_font() -> Result<(), PlotError> {
    static FONT: OnceLock<bool> = OnceLock::new();
    let ok = FONT.get_or_init(|| {
        for path in FONT_PATHS {
            if let Ok(bytes) = std::fs::read(path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    });
    if *ok { Ok(()) } else { Err(PlotError::NoFont(FONT_PATHS.join(", "))) }
}

fn draw_err(path: &Path) -> impl Fn(String) -> PlotError + '_ {
    move |message| PlotError::Draw { path: path.to_owned(), message }
}

/// The confusion matrix, rows normalised to recall, each cell labelled with its share and
/// count; true class down the side, predicted class along the bottom.
pub fn confusion_png(path: &Path, confusion: &Confusion, title: &str) -> Result<(), PlotError> {
    ensure_font()?;
    let err = draw_err(path);
    let root = BitMapBackend::new(path, (820, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let norm = confusion.normalised();
    let n = Emotion::COUNT as i32;
    let (left, top, cell) = (150, 70, 86);
    let text = |size: i32| ("sans-serif", size).into_font().color(&BLACK);
    root.draw(&Text::new(title.to_owned(), (20, 20), text(22))).map_err(|e| err(e.to_string()))?;
    for (row, true_class) in Emotion::ALL.iter().enumerate() {
        let support: u64 = confusion.counts[row].iter().sum();
        for (col, _) in Emotion::ALL.iter().enumerate() {
            let v = norm[row][col];
            let (x, y) = (left + col as i32 * cell, top + row as i32 * cell);
            let shade = (255.0 * (1.0 - 0.85 * v)) as u8;
            let fill = RGBColor(shade, shade.saturating_add(((255 - shade) as f64 * 0.25) as u8), 255);
            root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], fill.filled()))
                .map_err(|e| err(e.to_string()))?;
            root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], BLACK.mix(0.2)))
                .map_err(|e| err(e.to_string()))?;
            let colour = if v > 0.55 { WHITE } else { BLACK };
            let style = ("sans-serif", 17).into_font().color(&colour);
            root.draw(&Text::new(format!("{:.0}%", 100.0 * v), (x + 22, y + 26), style.clone()))
                .map_err(|e| err(e.to_string()))?;
            let count_style = ("sans-serif", 13).into_font().color(&colour);
            root.draw(&Text::new(format!("{}", confusion.counts[row][col]), (x + 30, y + 52), count_style))
                .map_err(|e| err(e.to_string()))?;
        }
        let label = format!("{true_class} ({support})");
        root.draw(&Text::new(label, (8, top + row as i32 * cell + 34), text(15)))
            .map_err(|e| err(e.to_string()))?;
    }
    for (col, class) in Emotion::ALL.iter().enumerate() {
        let x = left + col as i32 * cell + 8;
        root.draw(&Text::new(class.name().to_owned(), (x, top + n * cell + 10), text(15)))
            .map_err(|e| err(e.to_string()))?;
    }
    root.draw(&Text::new(
        "predicted class".to_owned(),
        (left + 3 * cell - 10, top + n * cell + 40),
        text(17),
    ))
    .map_err(|e| err(e.to_string()))?;
    root.draw(&Text::new(
        "true class (utterances); cells: share of the row, count".to_owned(),
        (20, 45),
        text(14),
    ))
    .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

/// Loss (left) and validation scores (right) per epoch; a run without validation
/// speakers (val loss 0 throughout) draws its training curves only.
pub fn curves_png(path: &Path, history: &[EpochRecord]) -> Result<(), PlotError> {
    let validated = history.iter().any(|r| r.val_loss > 0.0);
    ensure_font()?;
    let err = draw_err(path);
    let root = BitMapBackend::new(path, (1100, 430)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let (left, right) = root.split_horizontally(550);
    let epochs = history.len().max(2) as f64;
    let max_loss = history.iter().flat_map(|r| [r.train_loss, r.val_loss]).fold(0.1, f64::max) * 1.05;
    let mut chart = ChartBuilder::on(&left)
        .caption("loss (frame cross-entropy)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(1.0..epochs, 0.0..max_loss)
        .map_err(|e| err(e.to_string()))?;
    chart.configure_mesh().x_desc("epoch").draw().map_err(|e| err(e.to_string()))?;
    let series = |f: fn(&EpochRecord) -> f64| history.iter().map(move |r| (r.epoch as f64, f(r)));
    chart
        .draw_series(LineSeries::new(series(|r| r.train_loss), BLUE.stroke_width(2)))
        .map_err(|e| err(e.to_string()))?
        .label("train")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLUE.stroke_width(2)));
    if validated {
        chart
            .draw_series(LineSeries::new(series(|r| r.val_loss), RED.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?
            .label("validation")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| err(e.to_string()))?;

    let mut chart = ChartBuilder::on(&right)
        .caption("scores (%)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(1.0..epochs, 0.0..100.0)
        .map_err(|e| err(e.to_string()))?;
    chart.configure_mesh().x_desc("epoch").draw().map_err(|e| err(e.to_string()))?;
    let lines: [Line<EpochRecord>; 4] = [
        ("val UA", |r| r.val_ua, RED),
        ("val accuracy", |r| r.val_accuracy, MAGENTA),
        ("val macro-F1", |r| r.val_macro_f1, GREEN),
        ("train frame acc.", |r| r.train_frame_accuracy, BLUE),
    ];
    for (name, f, colour) in lines.into_iter().filter(|(name, ..)| validated || !name.starts_with("val")) {
        chart
            .draw_series(LineSeries::new(
                history.iter().map(|r| (r.epoch as f64, 100.0 * f(r))),
                colour.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}

/// Accuracy and UA of the live frame output, and of the decision so far, against seconds
/// since the utterance started.
pub fn by_time_png(path: &Path, points: &[TimePoint], title: &str) -> Result<(), PlotError> {
    ensure_font()?;
    let err = draw_err(path);
    let root = BitMapBackend::new(path, (760, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let max_s = points.iter().map(|p| p.seconds).fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..max_s, 0.0..100.0)
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("seconds since utterance start")
        .y_desc("%")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    let lines: [Line<TimePoint>; 4] = [
        ("frame output UA", |p| p.frame_ua, RED),
        ("frame output accuracy", |p| p.frame_accuracy, MAGENTA),
        ("decision so far UA", |p| p.so_far_ua, BLUE),
        ("decision so far accuracy", |p| p.so_far_accuracy, CYAN),
    ];
    for (name, f, colour) in lines {
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.seconds, 100.0 * f(p))),
                colour.stroke_width(2),
            ))
            .map_err(|e| err(e.to_string()))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    chart
        .draw_series(LineSeries::new([(0.0, 100.0 / 7.0), (max_s, 100.0 / 7.0)], BLACK.mix(0.4)))
        .map_err(|e| err(e.to_string()))?
        .label("chance (1/7)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.mix(0.4)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))
}
