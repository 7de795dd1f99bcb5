//! The emotion trace the window holds: one row per hop (time, smoothed probabilities or
//! silence), and its decimation to the plot's pixel width so drawing stays cheap however
//! long the session runs.

use crate::engine::Probabilities;
use crate::model::Emotion;

/// Hops kept before the oldest are dropped (one hour at the usual 10 ms hop).
pub const MAX_HOPS: usize = 360_000;

/// The whole session's trace, oldest first.
#[derive(Debug, Clone, Default)]
pub struct TraceHistory {
    times_s: Vec<f64>,
    /// Smoothed probabilities per hop; NaN during silence.
    probabilities: Vec<Probabilities>,
    speech: Vec<bool>,
}

/// A run of decimated points with no silence inside: drawn as one line per emotion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceSegment {
    /// Time of each point, in seconds.
    pub times_s: Vec<f64>,
    /// Mean probabilities of the hops each point stands for.
    pub probabilities: Vec<Probabilities>,
}

/// What the plot draws for a time range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DecimatedTrace {
    /// Speech stretches with probabilities, separated by silence gaps.
    pub segments: Vec<TraceSegment>,
    /// Speech stretches (start, end) in seconds, with or without a model.
    pub speech_spans_s: Vec<(f64, f64)>,
}

impl DecimatedTrace {
    /// Points over all segments.
    pub fn point_count(&self) -> usize {
        self.segments.iter().map(|s| s.times_s.len()).sum()
    }
}

impl TraceHistory {
    /// Appends one hop; `probabilities` is `None` during silence (or without a model).
    pub fn push(&mut self, time_s: f64, probabilities: Option<Probabilities>, speech: bool) {
        if self.times_s.len() >= MAX_HOPS {
            // NOTE: drop a tenth at once so the cost of shifting is paid rarely.
            let cut = MAX_HOPS / 10;
            self.times_s.drain(..cut);
            self.probabilities.drain(..cut);
            self.speech.drain(..cut);
        }
        self.times_s.push(time_s);
        self.probabilities.push(probabilities.unwrap_or([f32::NAN; Emotion::COUNT]));
        self.speech.push(speech);
    }

    /// Forgets everything (a new session).
    pub fn clear(&mut self) {
        self.times_s.clear();
        self.probabilities.clear();
        self.speech.clear();
    }

    /// Hops held.
    pub fn len(&self) -> usize {
        self.times_s.len()
    }

    /// Whether no hop is held.
    pub fn is_empty(&self) -> bool {
        self.times_s.is_empty()
    }

    /// Hops that carry probabilities (speech with a model).
    pub fn scored_hops(&self) -> usize {
        self.probabilities.iter().filter(|p| !p[0].is_nan()).count()
    }

    /// Time of the newest hop, in seconds (0 when empty).
    pub fn last_time_s(&self) -> f64 {
        self.times_s.last().copied().unwrap_or(0.0)
    }

    /// Time of the oldest hop held, in seconds (0 when empty).
    pub fn first_time_s(&self) -> f64 {
        self.times_s.first().copied().unwrap_or(0.0)
    }

    /// Every hop as (time, probabilities or `None`, speech), oldest first.
    pub fn rows(&self) -> impl Iterator<Item = (f64, Option<&Probabilities>, bool)> {
        self.times_s
            .iter()
            .zip(&self.probabilities)
            .zip(&self.speech)
            .map(|((&t, p), &s)| (t, (!p[0].is_nan()).then_some(p), s))
    }

    /// The hops in `t0_s..=t1_s`, averaged into at most `buckets` points (one per pixel
    /// column); a bucket without scored speech is a gap. Below two hops per bucket the
    /// hops are returned as they are.
    pub fn decimate(&self, t0_s: f64, t1_s: f64, buckets: usize) -> DecimatedTrace {
        let i0 = self.times_s.partition_point(|&t| t < t0_s);
        let i1 = self.times_s.partition_point(|&t| t <= t1_s);
        let mut out = DecimatedTrace::default();
        if i1 <= i0 || buckets == 0 {
            return out;
        }
        let raw = i1 - i0 <= buckets * 2;
        let width_s = ((t1_s - t0_s) / buckets as f64).max(f64::MIN_POSITIVE);
        let mut acc = Bucket::default();
        let mut segment = TraceSegment::default();
        let mut speech_start: Option<f64> = None;
        for i in i0..i1 {
            let t = self.times_s[i];
            let bucket = if raw { i } else { ((t - t0_s) / width_s) as usize };
            if acc.id != Some(bucket) {
                acc.flush(&mut segment, &mut out.segments);
                acc = Bucket { id: Some(bucket), ..Bucket::default() };
            }
            acc.add(t, &self.probabilities[i]);
            match (self.speech[i], speech_start) {
                (true, None) => speech_start = Some(t),
                (false, Some(start)) => {
                    out.speech_spans_s.push((start, t));
                    speech_start = None;
                }
                _ => {}
            }
        }
        acc.flush(&mut segment, &mut out.segments);
        if !segment.times_s.is_empty() {
            out.segments.push(segment);
        }
        if let Some(start) = speech_start {
            out.speech_spans_s.push((start, self.times_s[i1 - 1]));
        }
        out
    }
}

/// Sums over the hops of one pixel column.
#[derive(Default)]
struct Bucket {
    id: Option<usize>,
    hops: u32,
    time_sum_s: f64,
    sums: [f32; Emotion::COUNT],
}

impl Bucket {
    fn add(&mut self, t_s: f64, p: &Probabilities) {
        if p[0].is_nan() {
            return;
        }
        self.hops += 1;
        self.time_sum_s += t_s;
        for (s, v) in self.sums.iter_mut().zip(p) {
            *s += v;
        }
    }

    /// Ends the bucket: a point on the current segment, or a gap that closes it.
    fn flush(&self, segment: &mut TraceSegment, segments: &mut Vec<TraceSegment>) {
        if self.id.is_none() {
            return;
        }
        if self.hops == 0 {
            if !segment.times_s.is_empty() {
                segments.push(std::mem::take(segment));
            }
            return;
        }
        let n = self.hops as f32;
        segment.times_s.push(self.time_sum_s / f64::from(self.hops));
        segment.probabilities.push(self.sums.map(|s| s / n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: f32) -> Option<Probabilities> {
        Some([v; Emotion::COUNT])
    }

    /// Silence splits the trace into segments; few hops are returned undecimated.
    #[test]
    fn silence_makes_gaps() {
        let mut h = TraceHistory::default();
        for i in 0..10 {
            let speech = !(4..6).contains(&i);
            h.push(f64::from(i) * 0.01, if speech { p(0.5) } else { None }, speech);
        }
        let d = h.decimate(0.0, 1.0, 100);
        assert_eq!(d.segments.len(), 2);
        assert_eq!(d.point_count(), 8);
        assert_eq!(d.speech_spans_s, vec![(0.0, 0.04), (0.06, 0.09)]);
    }

    /// Many hops per pixel average into one point per bucket, within the asked range.
    #[test]
    fn long_traces_decimate_to_the_bucket_count() {
        let mut h = TraceHistory::default();
        for i in 0..60_000 {
            h.push(f64::from(i) * 0.01, p((i % 2) as f32), true);
        }
        let d = h.decimate(480.0, 600.0, 500);
        assert_eq!(d.segments.len(), 1);
        let n = d.point_count();
        assert!((499..=501).contains(&n), "{n} points");
        let mean = d.segments[0].probabilities[10][0];
        assert!((mean - 0.5).abs() < 0.05, "{mean}");
        assert!(d.segments[0].times_s[0] >= 480.0);
    }
}
