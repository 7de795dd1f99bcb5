//! The report's plots as inline SVG (plotters' SVG backend): vector graphics that print
//! sharply on paper and need no file beside the HTML.

use plotters::prelude::*;

use crate::app::colors::emotion_rgb;
use crate::model::Emotion;
use crate::sessions::overview::SessionOverview;

/// Plot size, in SVG pixels (scaled to the page width by the stylesheet).
const WIDTH: u32 = 960;
/// The font plotters measures text with (the SVG names `sans-serif`; the page's viewer
/// draws it with its own).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // NOTE: the font is compiled in and known to parse; a failure would only lose text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

fn rgb(emotion: Emotion) -> RGBColor {
    let [r, g, b] = emotion_rgb(emotion);
    RGBColor(r, g, b)
}

/// Turns a plotters error into one line.
fn err<E: std::fmt::Display>(e: E) -> String {
    format!("cannot draw a plot: {e}")
}

/// The emotions' legend, in the plot's upper right corner.
fn draw_legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 17))
        .draw()
        .map_err(err)
}

/// The emotion trace over the whole session: one line per emotion (smoothed probability,
/// averaged per plotted point), gaps for silence, speech as a bar along the bottom,
/// markers as numbered dashed lines.
pub fn trace_svg(overview: &SessionOverview) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    let end_s = overview.duration_s.max(overview.trace.last_time_s()).max(1.0);
    let (minutes, scale) = if end_s > 180.0 { (true, 60.0) } else { (false, 1.0) };
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end_s / scale, -0.08f64..1.0f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(if minutes { "minutes into the session" } else { "seconds into the session" })
            .y_desc("probability")
            .y_labels(6)
            .light_line_style(RGBColor(235, 235, 235))
            .label_style(("sans-serif", 19))
            .draw()
            .map_err(err)?;
        let decimated = overview.trace.decimate(0.0, end_s, 900);
        let bar = RGBColor(60, 170, 90);
        for (a, b) in &decimated.speech_spans_s {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a / scale, -0.07), (b.max(a + 0.05) / scale, -0.03)],
                    bar.filled(),
                )))
                .map_err(err)?;
        }
        for emotion in Emotion::ALL {
            let color = rgb(emotion);
            for (k, segment) in decimated.segments.iter().enumerate() {
                let points = segment
                    .times_s
                    .iter()
                    .zip(&segment.probabilities)
                    .map(|(t, p)| (t / scale, f64::from(p[emotion.index()])));
                let series =
                    chart.draw_series(LineSeries::new(points, color.stroke_width(2))).map_err(err)?;
                if k == 0 {
                    series.label(emotion.name()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                    });
                }
            }
        }
        for (i, marker) in overview.markers.iter().enumerate() {
            let x = marker.time_s / scale;
            chart
                .draw_series(DashedLineSeries::new([(x, -0.08), (x, 1.0)], 6, 4, BLACK.stroke_width(1)))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(format!("{}", i + 1), (x, 0.97), ("sans-serif", 19))))
                .map_err(err)?;
        }
        draw_legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Horizontal bars: each emotion's share of the scored speech time, in percent.
pub fn shares_svg(shares: &[f64; Emotion::COUNT]) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let names: Vec<&str> = Emotion::ALL.iter().map(|e| e.name()).collect();
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0f64..100.0f64, (0..Emotion::COUNT).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("% of speech time as the top emotion")
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(*i).copied().unwrap_or("").to_owned(),
                _ => String::new(),
            })
            .label_style(("sans-serif", 19))
            .draw()
            .map_err(err)?;
        for emotion in Emotion::ALL {
            let i = emotion.index();
            let pct = shares[i] * 100.0;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, SegmentValue::Exact(i)), (pct, SegmentValue::Exact(i + 1))],
                    rgb(emotion).filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{pct:.0} %"),
                    (pct + 1.0, SegmentValue::CenterOf(i)),
                    ("sans-serif", 17),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One client's sessions in date order: each emotion's share of speech time per session.
pub fn trend_svg(labels: &[String], shares: &[[f64; Emotion::COUNT]]) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = shares.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.3f64..(n as f64 - 0.7).max(0.3), 0.0f64..100.0f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("% of speech time")
            .label_style(("sans-serif", 19))
            .draw()
            .map_err(err)?;
        for emotion in Emotion::ALL {
            let color = rgb(emotion);
            let points: Vec<(f64, f64)> =
                shares.iter().enumerate().map(|(i, s)| (i as f64, s[emotion.index()] * 100.0)).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(emotion.name())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(err)?;
        }
        draw_legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
