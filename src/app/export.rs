//! Exports of the window's trace: CSV (one row per hop, markers as their own rows) and a
//! PNG of the trace plot (plotters, the emotion colours of the window). Both run on a
//! background thread on a copy of the trace, so a long session never stalls a frame.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::colors::emotion_rgb;
use super::state::AppState;
use crate::engine::{Marker, new_session_dir};
use crate::model::Emotion;
use crate::train::plots::ensure_font;

/// Two new file paths under `base` (`trace-YYYYmmdd-HHMMSS.png` / `.csv`).
pub fn export_paths(base: &Path) -> (PathBuf, PathBuf) {
    let dir = new_session_dir(base);
    let stem = dir
        .file_name()
        .map_or_else(|| "trace".to_owned(), |n| n.to_string_lossy().replace("session", "trace"));
    (base.join(format!("{stem}.png")), base.join(format!("{stem}.csv")))
}

/// The trace as CSV text: `t_s,speech,p_neutral,...,marker`; silence rows have empty
/// probabilities; a marker is a row of its own with only `t_s` and `marker`.
pub fn trace_csv(state: &AppState) -> String {
    let mut out = String::from("t_s,speech");
    for e in Emotion::ALL {
        let _ = write!(out, ",p_{}", e.name());
    }
    out.push_str(",marker\n");
    let mut markers = state.markers.iter().peekable();
    for (t, p, speech) in state.trace.rows() {
        while let Some(m) = markers.next_if(|m| m.time_s <= t) {
            marker_row(&mut out, m);
        }
        let _ = write!(out, "{t:.3},{}", u8::from(speech));
        for i in 0..Emotion::COUNT {
            match p {
                Some(p) => {
                    let _ = write!(out, ",{:.4}", p[i]);
                }
                None => out.push(','),
            }
        }
        out.push_str(",\n");
    }
    for m in markers {
        marker_row(&mut out, m);
    }
    out
}

fn marker_row(out: &mut String, m: &Marker) {
    let note = if m.note.contains([',', '"', '\n']) {
        format!("\"{}\"", m.note.replace('"', "\"\""))
    } else {
        m.note.clone()
    };
    let _ = writeln!(out, "{:.3},{}{note}", m.time_s, ",".repeat(Emotion::COUNT + 1));
}

/// Draws the trace from `t0_s` to `t1_s` into a PNG of `size` pixels.
pub fn trace_png(
    state: &AppState,
    path: &Path,
    t0_s: f64,
    t1_s: f64,
    size: (u32, u32),
) -> Result<(), String> {
    ensure_font().map_err(|e| e.to_string())?;
    let fail = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let t1_s = t1_s.max(t0_s + 1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption("emotrace: emotion trace", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(t0_s..t1_s, -0.05_f64..1.05_f64)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("probability")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| fail(&e))?;
    let decimated = state.trace.decimate(t0_s, t1_s, size.0 as usize);
    for emotion in Emotion::ALL {
        let [r, g, b] = emotion_rgb(emotion);
        let color = RGBColor(r, g, b);
        for (k, segment) in decimated.segments.iter().enumerate() {
            let points = segment
                .times_s
                .iter()
                .zip(&segment.probabilities)
                .map(|(&t, p)| (t, f64::from(p[emotion.index()])));
            let series =
                chart.draw_series(LineSeries::new(points, color.stroke_width(2))).map_err(|e| fail(&e))?;
            if k == 0 {
                series
                    .label(emotion.name())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
            }
        }
    }
    for &(a, b) in &decimated.speech_spans_s {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, -0.045), (b, -0.02)],
                RGBColor(120, 200, 120).filled(),
            )))
            .map_err(|e| fail(&e))?;
    }
    for m in state.markers.iter().filter(|m| m.time_s >= t0_s && m.time_s <= t1_s) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(m.time_s, -0.05), (m.time_s, 1.05)],
                BLACK.stroke_width(1),
            )))
            .map_err(|e| fail(&e))?;
        chart
            .draw_series(std::iter::once(Text::new(m.note.clone(), (m.time_s, 1.03), ("sans-serif", 13))))
            .map_err(|e| fail(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureConfig;

    /// Silence rows have empty probabilities; markers sit in time order as their own rows.
    #[test]
    fn csv_has_a_row_per_hop_and_marker() {
        let mut state = AppState::new(1.0, &FeatureConfig::default());
        state.trace.push(0.0, Some([0.5; 7]), true);
        state.trace.push(0.01, None, false);
        state.markers.push(Marker { time_s: 0.005, note: "a, b".into() });
        let csv = trace_csv(&state);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with("0.000,1,0.5000"));
        assert_eq!(lines[2], "0.005,,,,,,,,,\"a, b\"");
        assert_eq!(lines[3], "0.010,0,,,,,,,,");
    }
}
