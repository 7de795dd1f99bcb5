//! Frame times as eframe reports them (CPU time of the whole frame: update, tessellation
//! and painting, without the wait for the display), shown in the status bar and, with
//! `monitor --frame-stats`, summarised on stderr every 10 s.

use std::time::{Duration, Instant};

/// How often the summary line is printed.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Frame times since the last summary.
#[derive(Debug)]
pub struct FrameStats {
    /// Print a summary line every 10 s.
    pub report: bool,
    times_ms: Vec<f32>,
    since: Instant,
    /// The last frame's time, in ms.
    pub last_ms: Option<f32>,
}

impl FrameStats {
    /// Collects frame times; `report` also prints them.
    pub fn new(report: bool) -> Self {
        Self { report, times_ms: Vec::with_capacity(1_024), since: Instant::now(), last_ms: None }
    }

    /// Notes one frame's time; prints the summary when one is due. `trace_hops` is
    /// printed alongside (the load the frames carried).
    pub fn add(&mut self, seconds: f32, trace_hops: usize) {
        let ms = seconds * 1_000.0;
        self.last_ms = Some(ms);
        self.times_ms.push(ms);
        if self.since.elapsed() < REPORT_EVERY {
            return;
        }
        if self.report
            && let Some(line) = summary(&mut self.times_ms, trace_hops)
        {
            eprintln!("emotrace: {line}");
        }
        self.times_ms.clear();
        self.since = Instant::now();
    }
}

/// `frames N: median X ms, p95 Y ms, max Z ms (trace: H hops)`; sorts `times_ms`.
pub fn summary(times_ms: &mut [f32], trace_hops: usize) -> Option<String> {
    if times_ms.is_empty() {
        return None;
    }
    times_ms.sort_by(f32::total_cmp);
    let at = |q: f64| times_ms[((times_ms.len() - 1) as f64 * q).round() as usize];
    Some(format!(
        "window frames {}: median {:.2} ms, p95 {:.2} ms, max {:.2} ms of CPU per frame incl. painting (trace: {trace_hops} hops)",
        times_ms.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reports_median_p95_and_max() {
        let mut t: Vec<f32> = (1..=100).rev().map(|v| v as f32).collect();
        let line = summary(&mut t, 7).unwrap();
        assert!(line.contains("frames 100: median 51.00 ms, p95 95.00 ms, max 100.00 ms"), "{line}");
        assert!(summary(&mut [], 0).is_none());
    }
}
