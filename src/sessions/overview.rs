//! A whole session in bounded memory, for review and reports: the trace reduced to at
//! most [`MAX_TRACE_POINTS`] points (hops averaged per bucket, as the live plot averages
//! hops per pixel), a spectrogram of at most [`MAX_COLUMNS`] columns computed from the
//! audio (each column the mean of a few frames read across its time), the markers, and
//! the speech statistics counted from every hop.
//!
//! A one-hour session keeps 36 000 trace points (one per 0.1 s) and 2 400 columns of 64
//! bands whatever its length; the audio is read at the columns' frames only.

use crate::app::trace::TraceHistory;
use crate::engine::Probabilities;
use crate::engine::recorder::Marker;
use crate::features::{BatchExtractor, FeatureConfig, FeatureFamilies};
use crate::model::Emotion;

use super::recorded::{RecordedSession, SessionError};
use super::trace_read::TraceLine;

/// Most trace points kept (one per 0.1 s for an hour; every hop below 6 minutes).
pub const MAX_TRACE_POINTS: usize = 36_000;
/// Most spectrogram columns.
pub const MAX_COLUMNS: usize = 2_400;
/// Mel bands of the review spectrogram.
pub const REVIEW_MEL_BANDS: usize = 64;
/// Points of the audio read for each spectrogram column.
const READS_PER_COLUMN: usize = 2;
/// Seconds on each side of a marker over which its dominant emotion is taken.
pub const MARKER_WINDOW_S: f64 = 5.0;

/// Counts over every hop of the session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeechStats {
    /// Hops read.
    pub hops: u64,
    /// Hops of speech.
    pub speech_hops: u64,
    /// Speech hops with model probabilities.
    pub scored_hops: u64,
    /// Scored hops per top emotion, indexed by `Emotion::index`.
    pub top_counts: [u64; Emotion::COUNT],
    /// Seconds per hop (from the first two hops; 0.01 when unknown).
    pub hop_s: f64,
}

impl SpeechStats {
    /// Seconds of speech.
    pub fn speech_s(&self) -> f64 {
        self.speech_hops as f64 * self.hop_s
    }

    /// Each emotion's share of the scored speech time (all 0 without any).
    pub fn shares(&self) -> [f64; Emotion::COUNT] {
        let n = self.scored_hops.max(1) as f64;
        self.top_counts.map(|c| c as f64 / n)
    }
}

/// A log-mel spectrogram of the whole session, column-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverviewSpectrogram {
    /// Columns.
    pub columns: usize,
    /// Mel bands per column.
    pub bands: usize,
    /// Seconds each column covers (column `i` is centred on `(i + 0.5) * column_s`).
    pub column_s: f64,
    /// dB values, `columns * bands`, column after column, lowest band first.
    pub db: Vec<f32>,
}

/// What review and reports draw.
#[derive(Debug, Clone, Default)]
pub struct SessionOverview {
    /// The trace, reduced (time in the recording, seconds).
    pub trace: TraceHistory,
    /// Markers, time in the recording (seconds).
    pub markers: Vec<Marker>,
    /// Seconds of audio in the files.
    pub duration_s: f64,
    /// Speech statistics from every hop.
    pub stats: SpeechStats,
    /// The spectrogram.
    pub spectrogram: OverviewSpectrogram,
    /// Trace lines that did not parse.
    pub bad_lines: u64,
}

impl SessionOverview {
    /// Reads the session's trace and audio into an overview.
    pub fn load(session: &RecordedSession) -> Result<Self, SessionError> {
        let mut audio = session.audio()?;
        let duration_s = audio.duration_s().max(session.summary.kept_s);
        // NOTE: the spectrogram (audio) and the trace are read at the same time, on two
        // threads: they touch different files and each takes about half the time.
        let (spectrogram, trace_read) = std::thread::scope(|scope| {
            let spectrogram = std::thread::Builder::new()
                .name("emotrace-overview-spectrogram".into())
                .spawn_scoped(scope, move || spectrogram(&mut audio));
            let trace_read = read_trace(session, duration_s);
            let spectrogram = match spectrogram {
                Ok(handle) => handle.join().unwrap_or_else(|_| Ok(OverviewSpectrogram::default())),
                Err(_) => Ok(OverviewSpectrogram::default()),
            };
            (spectrogram, trace_read)
        });
        let (trace, stats, trace_markers, bad_lines) = trace_read?;
        // The summary's markers are the edited ones; a session that was killed has them
        // in its trace only.
        let start_s = session.summary.start_session_s;
        let markers = if session.summary.markers.is_empty() {
            trace_markers
        } else {
            let mut m = session.summary.markers.clone();
            for marker in &mut m {
                marker.time_s = (marker.time_s - start_s).max(0.0);
            }
            m
        };
        Ok(Self { trace, markers, duration_s, stats, spectrogram: spectrogram?, bad_lines })
    }

    /// The emotion with the highest mean probability within [`MARKER_WINDOW_S`] of
    /// `t_s`, and that mean; `None` without scored speech there.
    pub fn dominant_around(&self, t_s: f64) -> Option<(Emotion, f32)> {
        let mut sums = [0.0f64; Emotion::COUNT];
        let mut n = 0u32;
        for (t, p, _) in self.trace.rows() {
            if (t - t_s).abs() <= MARKER_WINDOW_S
                && let Some(p) = p
            {
                n += 1;
                for (s, v) in sums.iter_mut().zip(p) {
                    *s += f64::from(*v);
                }
            }
        }
        if n == 0 {
            return None;
        }
        let (i, best) = sums.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
        Some((Emotion::ALL[i], (*best / f64::from(n)) as f32))
    }
}

/// The trace reduced, its statistics, its markers and the count of bad lines.
type TraceRead = (TraceHistory, SpeechStats, Vec<Marker>, u64);

fn read_trace(session: &RecordedSession, duration_s: f64) -> Result<TraceRead, SessionError> {
    let mut reducer = Reducer::new((duration_s / MAX_TRACE_POINTS as f64).max(0.01));
    let mut markers = Vec::new();
    let bad_lines = session.for_each_trace_line(|line| match line {
        TraceLine::Hop(hop) => reducer.add(hop.t_s, hop.speech, hop.probabilities.as_ref()),
        TraceLine::Marker(t_s, note) => markers.push(Marker { time_s: t_s, note }),
    })?;
    let (trace, stats) = reducer.finish();
    Ok((trace, stats, markers, bad_lines))
}

/// Averages hops into buckets of `bucket_s` and counts the statistics.
struct Reducer {
    bucket_s: f64,
    trace: TraceHistory,
    stats: SpeechStats,
    id: Option<i64>,
    hops: u32,
    speech: u32,
    time_sum: f64,
    scored: u32,
    sums: [f32; Emotion::COUNT],
    first_t: Option<f64>,
}

impl Reducer {
    fn new(bucket_s: f64) -> Self {
        Self {
            bucket_s,
            trace: TraceHistory::default(),
            stats: SpeechStats { hop_s: 0.01, ..SpeechStats::default() },
            id: None,
            hops: 0,
            speech: 0,
            time_sum: 0.0,
            scored: 0,
            sums: [0.0; Emotion::COUNT],
            first_t: None,
        }
    }

    fn add(&mut self, t_s: f64, speech: bool, p: Option<&Probabilities>) {
        match self.first_t {
            None => self.first_t = Some(t_s),
            Some(first) if self.stats.hops == 1 && t_s > first => self.stats.hop_s = t_s - first,
            _ => {}
        }
        self.stats.hops += 1;
        self.stats.speech_hops += u64::from(speech);
        let id = (t_s / self.bucket_s).floor() as i64;
        if self.id != Some(id) {
            self.flush();
            self.id = Some(id);
        }
        self.hops += 1;
        self.speech += u32::from(speech);
        self.time_sum += t_s;
        if let Some(p) = p {
            self.stats.scored_hops += 1;
            let top = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
            self.stats.top_counts[top] += 1;
            self.scored += 1;
            for (s, v) in self.sums.iter_mut().zip(p) {
                *s += v;
            }
        }
    }

    fn flush(&mut self) {
        if self.hops == 0 {
            return;
        }
        let t = self.time_sum / f64::from(self.hops);
        let n = self.scored as f32;
        let p = (self.scored > 0).then(|| self.sums.map(|s| s / n));
        self.trace.push(t, p, self.speech * 2 >= self.hops);
        self.hops = 0;
        self.speech = 0;
        self.time_sum = 0.0;
        self.scored = 0;
        self.sums = [0.0; Emotion::COUNT];
    }

    fn finish(mut self) -> (TraceHistory, SpeechStats) {
        self.flush();
        (self.trace, self.stats)
    }
}

/// The spectrogram of the whole audio at most [`MAX_COLUMNS`] wide: each column the mean
/// dB of three frames (30 ms) at each of [`READS_PER_COLUMN`] points spread evenly over
/// its time, computed by the feature extractor on just those samples.
fn spectrogram(audio: &mut super::audio_read::SessionAudio) -> Result<OverviewSpectrogram, SessionError> {
    let config = FeatureConfig {
        sample_rate_hz: audio.sample_rate_hz(),
        n_mels: REVIEW_MEL_BANDS,
        families: FeatureFamilies {
            log_mel: true,
            mfcc: false,
            chroma: false,
            spectral: false,
            pitch: false,
        },
        ..FeatureConfig::default()
    };
    let Ok(mut extractor) = BatchExtractor::new(&config) else {
        return Ok(OverviewSpectrogram::default());
    };
    let total = audio.len_samples();
    let hop = config.hop_samples() as u64;
    let columns = usize::try_from(total / hop.max(1)).unwrap_or(MAX_COLUMNS).min(MAX_COLUMNS);
    if columns == 0 {
        return Ok(OverviewSpectrogram::default());
    }
    let per_column = total as f64 / columns as f64;
    // Five frames come out of 4.5 hops; frames 1-3 lie wholly inside the samples read.
    let piece = (hop * 9 / 2) as usize;
    let mut samples = vec![0.0f32; piece];
    let mut db = Vec::with_capacity(columns * REVIEW_MEL_BANDS);
    for c in 0..columns {
        let mut sum = [0.0f32; REVIEW_MEL_BANDS];
        let mut n = 0.0f32;
        for k in 0..READS_PER_COLUMN {
            let centre = per_column * (c as f64 + (k as f64 + 0.5) / READS_PER_COLUMN as f64);
            let start = (centre as u64).saturating_sub(piece as u64 / 2);
            samples.fill(0.0);
            audio.read(start, &mut samples)?;
            let Ok(frames) = extractor.extract(&samples) else { continue };
            for f in 1..frames.n_frames.min(4) {
                for (s, v) in sum.iter_mut().zip(frames.log_mel(f)) {
                    *s += v;
                }
                n += 1.0;
            }
        }
        db.extend(sum.iter().map(|s| s / n.max(1.0)));
    }
    samples.fill(0.0);
    Ok(OverviewSpectrogram {
        columns,
        bands: REVIEW_MEL_BANDS,
        column_s: per_column / f64::from(audio.sample_rate_hz()),
        db,
    })
}
