//! What the window shows, as plain data built from snapshots: the trace, a ring of
//! spectrogram columns, the latest readouts and the markers. Nothing here touches egui
//! or the engine, so tests and the benchmark feed it synthetic snapshots.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::recorder::SummaryBuilder;
use crate::engine::{Marker, Probabilities, Snapshot};
use crate::features::FeatureConfig;

use super::trace::TraceHistory;

/// The newest spectrogram columns, in a ring: column `written % width` is written next.
#[derive(Debug, Clone)]
pub struct SpectrogramRing {
    /// Distinct for every ring made, so a view knows when a new session replaced it.
    id: u64,
    width: usize,
    bands: usize,
    /// `width * bands` values in dB, column-major (one column's bands together).
    values_db: Vec<f32>,
    /// Columns written since the start.
    written: u64,
    /// Slowly decaying peak of the values, for the colour scale, in dB.
    peak_db: f32,
}

/// How far below the peak the colour scale reaches, in dB.
pub const SPECTROGRAM_RANGE_DB: f32 = 80.0;

impl SpectrogramRing {
    /// An empty ring of `width` columns of `bands` values.
    pub fn new(width: usize, bands: usize) -> Self {
        let width = width.max(1);
        let bands = bands.max(1);
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Self { id, width, bands, values_db: vec![-100.0; width * bands], written: 0, peak_db: -40.0 }
    }

    /// This ring's identity (a new session makes a new ring).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Writes the next column (extra values are ignored, missing ones read as -100 dB).
    pub fn push(&mut self, column_db: &[f32]) {
        let slot = (self.written % self.width as u64) as usize;
        let out = &mut self.values_db[slot * self.bands..(slot + 1) * self.bands];
        out.fill(-100.0);
        let n = column_db.len().min(self.bands);
        out[..n].copy_from_slice(&column_db[..n]);
        let column_peak = column_db.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        // NOTE: the peak falls by 0.02 dB per column (2 dB/s at 10 ms hops), so the scale
        // follows a quieter room without flickering on every pause.
        self.peak_db = (self.peak_db - 0.02).max(column_peak).max(-60.0);
        self.written += 1;
    }

    /// Columns in the ring.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Values per column.
    pub fn bands(&self) -> usize {
        self.bands
    }

    /// Columns written since the start (the ring holds the last `width` of them).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The column written as number `index` (counting from 0 since the start).
    pub fn column(&self, index: u64) -> &[f32] {
        let slot = (index % self.width as u64) as usize;
        &self.values_db[slot * self.bands..(slot + 1) * self.bands]
    }

    /// The colour scale: (bottom, top) in dB.
    pub fn range_db(&self) -> (f32, f32) {
        (self.peak_db - SPECTROGRAM_RANGE_DB, self.peak_db)
    }
}

/// The latest per-hop readouts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Readouts {
    /// Stream time of the newest hop (plus the replay's start offset), in seconds.
    pub time_s: f64,
    /// Level of the newest hop, in dBFS.
    pub level_dbfs: f32,
    /// Whether the newest hop is speech.
    pub speech: bool,
    /// Smoothed probabilities of the newest hop; `None` in silence.
    pub probabilities: Option<Probabilities>,
    /// The last probabilities seen in speech (the current emotion stays shown in pauses).
    pub last_probabilities: Option<Probabilities>,
    /// Input samples dropped so far.
    pub dropped_samples: u64,
    /// Latency of the newest hop, in ms.
    pub latency_ms: f32,
}

/// Everything the window draws.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The emotion trace of the session.
    pub trace: TraceHistory,
    /// The newest spectrogram columns.
    pub spectrogram: SpectrogramRing,
    /// Latest values.
    pub readouts: Readouts,
    /// This session's counts (as a recording's summary makes them).
    pub session: SummaryBuilder,
    /// Notes added this session, oldest first.
    pub markers: Vec<Marker>,
    /// Added to stream times (a replay started part-way into its file), in seconds.
    pub time_offset_s: f64,
    /// Seconds per hop (per spectrogram column).
    pub hop_s: f64,
    /// Frequency of the lowest and highest mel band edges, in Hz (for the axis).
    pub mel_range_hz: (f32, f32),
}

impl AppState {
    /// An empty state whose spectrogram holds `spectrogram_s` seconds of the columns
    /// `features` makes (its hop and mel bands).
    pub fn new(spectrogram_s: f64, features: &FeatureConfig) -> Self {
        let hop_s = if features.hop_s() > 0.0 { features.hop_s() } else { 0.01 };
        let width = (spectrogram_s / hop_s).round().max(1.0) as usize;
        Self {
            trace: TraceHistory::default(),
            spectrogram: SpectrogramRing::new(width, features.n_mels),
            readouts: Readouts::default(),
            session: SummaryBuilder::default(),
            markers: Vec::new(),
            time_offset_s: 0.0,
            hop_s,
            mel_range_hz: (features.fmin_hz, features.fmax_hz),
        }
    }

    /// Seconds of spectrogram the ring holds.
    pub fn spectrogram_s(&self) -> f64 {
        self.spectrogram.width() as f64 * self.hop_s
    }

    /// Forgets the session (a new one starts with `features`'s columns); keeps the
    /// spectrogram's length in seconds. Stream times are shifted by `time_offset_s`.
    pub fn reset(&mut self, features: &FeatureConfig, time_offset_s: f64) {
        *self = Self::new(self.spectrogram_s(), features);
        self.time_offset_s = time_offset_s;
    }

    /// Takes in one snapshot.
    pub fn ingest(&mut self, snapshot: &Snapshot) {
        let time_s = snapshot.time_s + self.time_offset_s;
        self.trace.push(time_s, snapshot.probabilities, snapshot.speech);
        self.spectrogram.push(snapshot.mel_db.as_slice());
        let r = &mut self.readouts;
        r.time_s = time_s;
        r.level_dbfs = snapshot.level_dbfs;
        r.speech = snapshot.speech;
        r.probabilities = snapshot.probabilities;
        if snapshot.probabilities.is_some() {
            r.last_probabilities = snapshot.probabilities;
        }
        r.dropped_samples = snapshot.dropped_samples;
        r.latency_ms = snapshot.latency_ms;
        self.session.add(snapshot);
    }

    /// Notes a marker at its stream time (plus the offset).
    pub fn add_marker(&mut self, marker: Marker) {
        self.markers.push(Marker { time_s: marker.time_s + self.time_offset_s, note: marker.note });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::MelColumn;

    /// The ring keeps the newest `width` columns; older slots are overwritten in order.
    #[test]
    fn ring_overwrites_oldest_columns() {
        let mut ring = SpectrogramRing::new(3, 2);
        for i in 0..5 {
            ring.push(&[i as f32, -(i as f32)]);
        }
        assert_eq!(ring.written(), 5);
        assert_eq!(ring.column(4), &[4.0, -4.0]);
        assert_eq!(ring.column(2), &[2.0, -2.0]);
        assert_eq!(ring.column(1), &[4.0, -4.0], "slot 1 was overwritten by column 4");
    }

    #[test]
    fn ingest_fills_trace_readouts_and_ring() {
        let features = FeatureConfig { n_mels: 4, ..FeatureConfig::default() };
        let mut state = AppState::new(1.0, &features);
        state.time_offset_s = 2.0;
        let s = Snapshot {
            hop_index: 0,
            time_s: 0.5,
            mel_db: MelColumn::from_slice(&[-10.0; 4]),
            level_dbfs: -20.0,
            speech: true,
            utterance_s: 0.1,
            utterance_index: 1,
            probabilities: Some([0.1; 7]),
            raw_probabilities: None,
            dropped_samples: 3,
            latency_ms: 12.0,
        };
        state.ingest(&s);
        state.ingest(&Snapshot { probabilities: None, speech: false, ..s });
        assert_eq!(state.trace.len(), 2);
        assert_eq!(state.trace.scored_hops(), 1);
        assert_eq!(state.readouts.time_s, 2.5);
        assert_eq!(state.readouts.probabilities, None);
        assert_eq!(state.readouts.last_probabilities, Some([0.1; 7]));
        assert_eq!(state.spectrogram.written(), 2);
        assert_eq!(state.spectrogram.width(), 100);
        let session = &state.session;
        assert_eq!(
            (session.hops(), session.speech_hops(), session.top_counts().iter().sum::<u64>()),
            (2, 1, 1)
        );
    }
}
