//! `StreamingExtractor`: samples in, in chunks of any size; frames out, identical to
//! [`extract`](super::extract) on the whole signal. Allocates only in `new`.
//!
//! Latency: frame `i` (centred on sample `i * hop`) comes out once sample
//! `i * hop + n_fft / 2 - 1` has been pushed, plus `delta_width / 2` hops when deltas are
//! on (defaults: 256 + 4 x 160 samples = 56 ms after the frame centre).

use super::delta::DeltaFilter;
use super::frame::{FrameAnalyzer, FrameLayout, clip_sample};
use super::{FeatureConfig, FeatureError};

/// One finished frame, lent to the caller's callback.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    /// Frame number since the start (or the last `reset`); centred at `index * hop`.
    pub index: usize,
    /// Model inputs, `frame_dim` values.
    pub features: &'a [f32],
    /// Log-mel powers in dB, `n_mels` values.
    pub log_mel_db: &'a [f32],
}

/// Streaming front of the feature extractor.
pub struct StreamingExtractor {
    analyzer: FrameAnalyzer,
    layout: FrameLayout,
    delta: Option<DeltaFilter>,
    n_fft: usize,
    hop: usize,
    n_mels: usize,
    /// Samples of the next frame; `buf[0]` is padded-signal index `next_frame * hop`.
    buf: Vec<f32>,
    buf_len: usize,
    /// Real samples pushed so far.
    n_received: usize,
    /// Frames analysed so far.
    next_frame: usize,
    /// Frames handed out so far.
    next_emit: usize,
    /// Ring of the last `ring_len` analysed frames (rows and log-mel).
    ring_rows: Vec<f32>,
    ring_mels: Vec<f32>,
    ring_len: usize,
    out_row: Vec<f32>,
    non_finite: u64,
}

impl StreamingExtractor {
    /// Builds the extractor; every buffer it will use is allocated here.
    pub fn new(cfg: &FeatureConfig) -> Result<Self, FeatureError> {
        let analyzer = FrameAnalyzer::new(cfg)?;
        let layout = analyzer.layout().clone();
        let delta = layout.deltas.is_some().then(|| DeltaFilter::new(cfg.delta_width, cfg.mfcc_delta_order));
        let ring_len = delta.as_ref().map_or(1, |d| 2 * d.half_width() + 1);
        let mut s = Self {
            n_fft: cfg.n_fft,
            hop: cfg.hop_samples(),
            n_mels: cfg.n_mels,
            buf: vec![0.0; cfg.n_fft],
            buf_len: 0,
            n_received: 0,
            next_frame: 0,
            next_emit: 0,
            ring_rows: vec![0.0; ring_len * layout.dim],
            ring_mels: vec![0.0; ring_len * cfg.n_mels],
            ring_len,
            out_row: vec![0.0; layout.dim],
            non_finite: 0,
            analyzer,
            layout,
            delta,
        };
        s.reset();
        Ok(s)
    }

    /// Forgets the stream: the next sample pushed is sample 0 of a new signal.
    pub fn reset(&mut self) {
        // The first frame starts n_fft/2 samples before the signal: zero padding.
        self.buf.fill(0.0);
        self.buf_len = self.n_fft / 2;
        self.n_received = 0;
        self.next_frame = 0;
        self.next_emit = 0;
        self.non_finite = 0;
        self.analyzer.reset();
    }

    /// Samples of latency after a frame's centre before it is handed out.
    pub fn latency_samples(&self) -> usize {
        self.n_fft / 2 + self.delta.as_ref().map_or(0, |d| d.half_width() * self.hop)
    }

    /// Values per model-input frame.
    pub fn frame_dim(&self) -> usize {
        self.layout.dim
    }

    /// Frames handed out since the start or the last `reset`.
    pub fn frames_emitted(&self) -> usize {
        self.next_emit
    }

    /// NaN or infinite samples seen since the last `reset`; each was replaced by 0.
    pub fn non_finite_count(&self) -> u64 {
        self.non_finite
    }

    /// Feeds samples (mono, at the config's rate); calls `on_frame` for each frame that
    /// is now complete. NaN and infinite samples are replaced by 0 and counted; samples
    /// beyond +-[`MAX_SAMPLE_ABS`](super::MAX_SAMPLE_ABS) are clipped, as in `extract`.
    pub fn push(&mut self, mut samples: &[f32], mut on_frame: impl FnMut(FrameView<'_>)) {
        while !samples.is_empty() {
            let take = (self.n_fft - self.buf_len).min(samples.len());
            for (dst, &src) in self.buf[self.buf_len..self.buf_len + take].iter_mut().zip(&samples[..take]) {
                *dst = if src.is_finite() {
                    clip_sample(src)
                } else {
                    self.non_finite += 1;
                    0.0
                };
            }
            self.buf_len += take;
            self.n_received += take;
            samples = &samples[take..];
            if self.buf_len == self.n_fft {
                self.analyze_next(None, &mut on_frame);
            }
        }
    }

    /// Ends the signal: pads it with zeros as the batch extractor does, hands out every
    /// remaining frame, then resets for a new signal. Nothing comes out if nothing was
    /// pushed.
    pub fn finish(&mut self, mut on_frame: impl FnMut(FrameView<'_>)) {
        let n_frames = if self.n_received == 0 { 0 } else { 1 + self.n_received / self.hop };
        while self.next_frame < n_frames {
            self.buf[self.buf_len..].fill(0.0);
            self.buf_len = self.n_fft;
            self.analyze_next(Some(n_frames), &mut on_frame);
        }
        while self.next_emit < n_frames {
            self.emit(self.next_emit, n_frames, &mut on_frame);
        }
        self.reset();
    }

    /// Analyses the full buffer as frame `next_frame`, shifts it by a hop, and hands out
    /// the frame whose look-ahead is now complete.
    fn analyze_next(&mut self, final_frames: Option<usize>, on_frame: &mut impl FnMut(FrameView<'_>)) {
        let t = self.next_frame;
        let start = t * self.hop; // padded-signal index of buf[0]
        let pad = self.n_fft / 2;
        let real_lo = pad.max(start) - start;
        let real_hi = (pad + self.n_received).clamp(start, start + self.n_fft) - start;
        let slot = t % self.ring_len;
        let (dim, n_mels) = (self.layout.dim, self.n_mels);
        self.analyzer.analyze(
            &self.buf,
            real_lo..real_hi.max(real_lo),
            &mut self.ring_rows[slot * dim..(slot + 1) * dim],
            &mut self.ring_mels[slot * n_mels..(slot + 1) * n_mels],
        );
        self.buf.copy_within(self.hop.., 0);
        self.buf_len -= self.hop;
        self.next_frame += 1;
        let half = self.delta.as_ref().map_or(0, DeltaFilter::half_width);
        if t >= half {
            self.emit(t - half, final_frames.unwrap_or(self.next_frame), on_frame);
        }
    }

    /// Hands out frame `e`, computing its deltas from the ring (frames past
    /// `known_frames - 1` repeat the last one).
    fn emit(&mut self, e: usize, known_frames: usize, on_frame: &mut impl FnMut(FrameView<'_>)) {
        let (dim, n_mels, ring_len) = (self.layout.dim, self.n_mels, self.ring_len);
        let slot = e % ring_len;
        self.out_row.copy_from_slice(&self.ring_rows[slot * dim..(slot + 1) * dim]);
        if let (Some(filter), Some(mfcc), Some(deltas)) =
            (&self.delta, &self.layout.mfcc, &self.layout.deltas)
        {
            let rows = &self.ring_rows;
            let column = |j: usize| {
                let base = (j % ring_len) * dim;
                &rows[base + mfcc.start..base + mfcc.end]
            };
            filter.apply(e, known_frames, column, &mut self.out_row[deltas.clone()]);
        }
        self.next_emit = e + 1;
        on_frame(FrameView {
            index: e,
            features: &self.out_row,
            log_mel_db: &self.ring_mels[slot * n_mels..(slot + 1) * n_mels],
        });
    }
}
