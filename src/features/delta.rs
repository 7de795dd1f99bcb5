//! Delta and delta-delta regression over neighbouring frames (librosa `feature.delta`,
//! i.e. a Savitzky-Golay derivative with `polyorder = order`) with `mode="nearest"`: frames
//! beyond either end repeat the end frame. Unlike librosa's default `mode="interp"`, this
//! needs only `width / 2` frames of look-ahead, so a stream can produce it.

/// Savitzky-Golay derivative weights for offsets `-half..=half`.
#[derive(Debug, Clone)]
pub struct DeltaFilter {
    half: usize,
    /// `weights[order - 1][half + n]` multiplies the frame at offset `n`.
    weights: Vec<Vec<f32>>,
}

impl DeltaFilter {
    /// Weights for a `width`-frame window (odd) and derivative orders `1..=max_order`.
    pub fn new(width: usize, max_order: u8) -> Self {
        let half = width / 2;
        let offsets: Vec<f64> = (0..width).map(|i| i as f64 - half as f64).collect();
        let m = width as f64;
        let s2: f64 = offsets.iter().map(|n| n * n).sum();
        let s4: f64 = offsets.iter().map(|n| n.powi(4)).sum();
        let mut weights = Vec::new();
        if max_order >= 1 {
            // Slope of the least-squares line.
            weights.push(offsets.iter().map(|n| (n / s2) as f32).collect());
        }
        if max_order >= 2 {
            // Second derivative of the least-squares parabola: 2c with c from the
            // orthogonal polynomial n^2 - s2/m.
            weights
                .push(offsets.iter().map(|n| (2.0 * (n * n - s2 / m) / (s4 - s2 * s2 / m)) as f32).collect());
        }
        Self { half, weights }
    }

    /// Frames of look-ahead (and look-behind) the filter needs.
    pub fn half_width(&self) -> usize {
        self.half
    }

    /// Writes the deltas of frame `t` of `n_frames`. `column(j)` returns the static values
    /// of frame `j` (only `t - half ..= t + half`, clamped to `0..n_frames`, are asked
    /// for); `out` receives `max_order` blocks of `values.len()` deltas.
    pub fn apply<'a>(&self, t: usize, n_frames: usize, column: impl Fn(usize) -> &'a [f32], out: &mut [f32]) {
        out.fill(0.0);
        let n_values = out.len() / self.weights.len().max(1);
        for (i, offset) in (0..=2 * self.half).enumerate() {
            let j = (t + offset).saturating_sub(self.half).min(n_frames - 1);
            let values = column(j);
            for (weights, block) in self.weights.iter().zip(out.chunks_exact_mut(n_values)) {
                let w = weights[i];
                for (o, v) in block.iter_mut().zip(values) {
                    *o += w * v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A straight line has delta equal to its slope and delta-delta 0, away from the edges;
    /// a parabola t^2 has delta-delta 2.
    #[test]
    fn derivatives_of_polynomials() {
        let filter = DeltaFilter::new(9, 2);
        let line: Vec<[f32; 1]> = (0..20).map(|t| [3.0 * t as f32 + 1.0]).collect();
        let mut out = [0.0f32; 2];
        filter.apply(10, 20, |j| &line[j][..], &mut out);
        assert!((out[0] - 3.0).abs() < 1e-5 && out[1].abs() < 1e-4, "{out:?}");
        let parabola: Vec<[f32; 1]> = (0..20).map(|t| [(t * t) as f32]).collect();
        filter.apply(10, 20, |j| &parabola[j][..], &mut out);
        assert!((out[0] - 20.0).abs() < 1e-3 && (out[1] - 2.0).abs() < 1e-4, "{out:?}");
    }

    /// At the edges frames repeat: a constant signal has zero deltas everywhere, and the
    /// first frame of a line sees only the frames after it.
    #[test]
    fn edges_repeat_the_end_frame() {
        let filter = DeltaFilter::new(5, 1);
        let line: Vec<[f32; 1]> = (0..6).map(|t| [t as f32]).collect();
        let mut out = [0.0f32; 1];
        filter.apply(0, 6, |j| &line[j][..], &mut out);
        // offsets -2..=2 see frames 0,0,0,1,2: (1*1 + 2*2) / 10
        assert!((out[0] - 0.5).abs() < 1e-6);
        filter.apply(0, 1, |j| &line[j][..], &mut out);
        assert_eq!(out[0], 0.0);
    }
}
