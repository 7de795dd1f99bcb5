//! Frame level for the meter and the voice-activity gate: the RMS of the 16 kHz samples
//! under a feature frame's window, in dBFS.
//!
//! The feature extractor hands out frame `i` (centred on sample `i * hop`) some samples
//! after its centre; this keeps enough recent samples to measure the same window, so the
//! level is a function of the signal alone, whatever the chunking.

/// Level reported for digital silence, in dBFS.
pub const SILENCE_DBFS: f32 = -120.0;

/// Recent samples and the RMS of any window among them.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    history: Vec<f32>,
    /// Samples pushed since the last reset; sample `n` lives at `history[n % len]`.
    pushed: u64,
    win: usize,
}

impl LevelMeter {
    /// A meter for windows of `win` samples that can look back `lookback` samples past a
    /// window's end.
    pub fn new(win: usize, lookback: usize) -> Self {
        Self { history: vec![0.0; (win + lookback).max(1)], pushed: 0, win: win.max(1) }
    }

    /// Forgets all samples: sample indices restart at 0.
    pub fn reset(&mut self) {
        self.history.fill(0.0);
        self.pushed = 0;
    }

    /// Samples pushed since the last reset.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Appends samples (oldest are forgotten).
    pub fn push(&mut self, samples: &[f32]) {
        let len = self.history.len();
        for &s in samples {
            self.history[(self.pushed % len as u64) as usize] = if s.is_finite() { s } else { 0.0 };
            self.pushed += 1;
        }
    }

    /// RMS level in dBFS of the `win` samples centred on sample `centre` (samples before
    /// the start, after the newest, or already forgotten count as zero).
    pub fn level_dbfs(&self, centre: u64) -> f32 {
        let len = self.history.len() as u64;
        let start = centre as i64 - (self.win / 2) as i64;
        let oldest = self.pushed.saturating_sub(len) as i64;
        let mut energy = 0.0f64;
        for k in start..start + self.win as i64 {
            if k >= oldest && k < self.pushed as i64 {
                let s = f64::from(self.history[(k as u64 % len) as usize]);
                energy += s * s;
            }
        }
        let mean = energy / self.win as f64;
        if mean <= 1e-12 { SILENCE_DBFS } else { (10.0 * mean.log10()) as f32 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_square_wave_is_zero_dbfs() {
        let mut m = LevelMeter::new(100, 50);
        m.push(&(0..200).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect::<Vec<_>>());
        assert!(m.level_dbfs(150).abs() < 1e-4);
        assert_eq!(LevelMeter::new(10, 0).level_dbfs(5), SILENCE_DBFS);
    }

    /// Half of a window before the signal starts counts as zeros: -3 dB for a constant.
    #[test]
    fn window_edges_count_as_zeros() {
        let mut m = LevelMeter::new(100, 100);
        m.push(&[0.5; 150]);
        let level = m.level_dbfs(0);
        let want = 10.0 * (0.25f32 * 0.5).log10();
        assert!((level - want).abs() < 1e-3, "{level} vs {want}");
    }

    /// The level does not depend on how the samples were pushed.
    #[test]
    fn chunking_does_not_matter() {
        let signal: Vec<f32> = (0..1000).map(|i| ((i as f32) * 0.37).sin() * 0.3).collect();
        let mut a = LevelMeter::new(64, 300);
        a.push(&signal);
        let mut b = LevelMeter::new(64, 300);
        for chunk in signal.chunks(7) {
            b.push(chunk);
        }
        for centre in [800u64, 850, 900] {
            assert_eq!(a.level_dbfs(centre), b.level_dbfs(centre));
        }
    }
}
