//! Per-frame spectral statistics on a magnitude spectrum, following librosa 0.11:
//! centroid, bandwidth (p = 2), roll-off, flatness (of the power spectrum), octave-band
//! contrast (without top-dB clipping), plus the time-domain zero-crossing rate and RMS.
//! Every function works in place on buffers the caller owns: no allocation.

use std::ops::Range;

/// Floor for power values before taking logs (librosa `amin`).
pub const AMIN: f32 = 1e-10;

/// Sum with eight independent accumulators, so the compiler can vectorise it.
#[inline]
pub fn sum8(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for j in 0..8 {
            acc[j] += c[j];
        }
    }
    acc.iter().sum::<f32>() + tail.iter().sum::<f32>()
}

/// Dot product with eight independent accumulators.
#[inline]
pub fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Centroid and bandwidth in Hz: the mean and standard deviation of frequency weighted by
/// magnitude (librosa `spectral_centroid`, `spectral_bandwidth(p=2, norm=True)`). A silent
/// frame gives (0, 0).
pub fn centroid_bandwidth(mag: &[f32], freqs_hz: &[f32]) -> (f32, f32) {
    let total = sum8(mag);
    if total < f32::MIN_POSITIVE {
        return (0.0, 0.0);
    }
    let centroid = dot8(mag, freqs_hz) / total;
    let mut acc = [0.0f32; 8];
    let (cm, cf) = (mag.chunks_exact(8), freqs_hz.chunks_exact(8));
    let mut tail = 0.0f32;
    for (m, f) in cm.remainder().iter().zip(cf.remainder()) {
        tail += m * (f - centroid) * (f - centroid);
    }
    for (m, f) in cm.zip(cf) {
        for j in 0..8 {
            let d = f[j] - centroid;
            acc[j] += m[j] * d * d;
        }
    }
    let spread = (acc.iter().sum::<f32>() + tail) / total;
    (centroid, spread.max(0.0).sqrt())
}

/// Lowest bin frequency below which `fraction` of the total magnitude lies (librosa
/// `spectral_rolloff`; a running sum in bin order, as numpy's `cumsum`).
pub fn rolloff_hz(mag: &[f32], freqs_hz: &[f32], fraction: f32) -> f32 {
    let total: f32 = mag.iter().sum();
    let threshold = fraction * total;
    let mut running = 0.0f32;
    for (m, f) in mag.iter().zip(freqs_hz) {
        running += m;
        if running >= threshold {
            return *f;
        }
    }
    freqs_hz.last().copied().unwrap_or(0.0)
}

/// Geometric over arithmetic mean of the power spectrum floored at [`AMIN`] (librosa
/// `spectral_flatness(power=2)`): 1 for white noise or silence, near 0 for a tone.
pub fn flatness(power: &[f32]) -> f32 {
    let n = power.len() as f64;
    // NOTE: the log of a product of 16 floored values (each 1e-10..1e10 or so) stays well
    // inside f64's range, so one ln per 16 bins replaces one ln per bin.
    let mut log_sum = 0.0f64;
    let mut amean = 0.0f64;
    for chunk in power.chunks(16) {
        let mut prod = 1.0f64;
        for &p in chunk {
            let p = f64::from(p.max(AMIN));
            prod *= p;
            amean += p;
        }
        log_sum += prod.ln();
    }
    ((log_sum / n).exp() / (amean / n)) as f32
}

/// One spectral-contrast band: the bins it sorts, and how many of them make its peak
/// and its valley.
#[derive(Debug, Clone)]
pub struct ContrastBand {
    /// Bins whose magnitudes are ranked.
    pub bins: Range<usize>,
    /// Number of lowest (valley) and highest (peak) values averaged.
    pub n_quantile: usize,
}

/// The octave bands of librosa `spectral_contrast`: band 0 is 0..fmin, band k covers
/// fmin·2^(k-1)..fmin·2^k plus the bin below; the last band runs to the top bin.
pub fn contrast_bands(freqs_hz: &[f64], fmin_hz: f64, n_bands: usize, quantile: f64) -> Vec<ContrastBand> {
    let n_bins = freqs_hz.len();
    let mut edges = vec![0.0f64];
    edges.extend((0..=n_bands).map(|k| fmin_hz * 2f64.powi(k as i32)));
    let mut bands = Vec::with_capacity(n_bands + 1);
    for k in 0..=n_bands {
        let (lo_hz, hi_hz) = (edges[k], edges[k + 1]);
        let inside: Vec<usize> =
            (0..n_bins).filter(|&b| freqs_hz[b] >= lo_hz && freqs_hz[b] <= hi_hz).collect();
        let (mut first, mut last) = match (inside.first(), inside.last()) {
            (Some(&f), Some(&l)) => (f, l + 1),
            _ => (0, 0),
        };
        if k > 0 && first > 0 {
            first -= 1;
        }
        if k == n_bands {
            last = n_bins;
        }
        // librosa counts the band's bins before dropping the top one from all but the last.
        let counted = last - first;
        if k < n_bands && last > first {
            last -= 1;
        }
        let n_quantile =
            ((quantile * counted as f64).round_ties_even() as usize).max(1).min(last - first).max(1);
        bands.push(ContrastBand { bins: first..last, n_quantile });
    }
    bands
}

/// Contrast of each band in dB: 10·log10 of the mean of its top quantile over the mean of
/// its bottom quantile (librosa applies `power_to_db` to magnitudes; no top-dB clipping
/// here). `scratch` must hold the widest band.
pub fn contrast_db(mag: &[f32], bands: &[ContrastBand], scratch: &mut [f32], out: &mut [f32]) {
    for (band, o) in bands.iter().zip(out.iter_mut()) {
        let len = band.bins.len();
        let q = band.n_quantile;
        if len == 0 {
            *o = 0.0;
            continue;
        }
        let s = &mut scratch[..len];
        s.copy_from_slice(&mag[band.bins.clone()]);
        s.select_nth_unstable_by(q - 1, f32::total_cmp);
        let valley = s[..q].iter().map(|&v| f64::from(v)).sum::<f64>() / q as f64;
        s.select_nth_unstable_by(len - q, f32::total_cmp);
        let peak = s[len - q..].iter().map(|&v| f64::from(v)).sum::<f64>() / q as f64;
        let db = |x: f64| 10.0 * x.max(f64::from(AMIN)).log10();
        *o = (db(peak) - db(valley)) as f32;
    }
}

/// Fraction of adjacent sample pairs in a frame whose signs differ, over the frame length
/// (librosa `zero_crossing_rate` with edge padding: pairs that touch the padding never
/// cross). Values within ±1e-10 count as zero, and zero counts as positive.
pub fn zero_crossing_rate(real: &[f32], frame_len: usize) -> f32 {
    let negative = |x: f32| x < -1e-10;
    let crossings = real.windows(2).filter(|p| negative(p[0]) != negative(p[1])).count();
    crossings as f32 / frame_len as f32
}

/// Root mean square of the raw (unwindowed, zero-padded) frame.
pub fn rms(frame: &[f32]) -> f32 {
    (dot8(frame, frame) / frame.len() as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single spectral line has its frequency as centroid and roll-off, zero bandwidth.
    #[test]
    fn single_line_statistics() {
        let freqs: Vec<f32> = (0..9).map(|k| k as f32 * 1000.0).collect();
        let mut mag = vec![0.0f32; 9];
        mag[3] = 2.0;
        assert_eq!(centroid_bandwidth(&mag, &freqs), (3000.0, 0.0));
        assert_eq!(rolloff_hz(&mag, &freqs, 0.85), 3000.0);
        // Two equal lines: centroid between them, bandwidth half their distance.
        mag[5] = 2.0;
        assert_eq!(centroid_bandwidth(&mag, &freqs), (4000.0, 1000.0));
        assert_eq!(rolloff_hz(&mag, &freqs, 0.85), 5000.0);
    }

    /// Flatness is 1 for a flat spectrum and 1/n for one line in n floored bins.
    #[test]
    fn flatness_extremes() {
        assert!((flatness(&[0.5; 100]) - 1.0).abs() < 1e-6);
        assert!((flatness(&[0.0; 100]) - 1.0).abs() < 1e-6);
        let mut p = vec![0.0f32; 64];
        p[7] = 1.0;
        let want = (AMIN as f64).powf(63.0 / 64.0) / (1.0 / 64.0);
        assert!((f64::from(flatness(&p)) / want - 1.0).abs() < 1e-5);
    }

    /// Crossings count sign changes between neighbours; tiny values count as zero.
    #[test]
    fn zero_crossings() {
        assert_eq!(zero_crossing_rate(&[1.0, -1.0, 1.0, 1.0], 4), 0.5);
        assert_eq!(zero_crossing_rate(&[1.0, -1e-12, 1.0], 3), 0.0);
        assert_eq!(zero_crossing_rate(&[0.0, -0.5], 2), 0.5);
    }

    /// Bands for 16 kHz / 512 bins: 0-200, 200-400 (one extra bin below), ... to Nyquist.
    #[test]
    fn contrast_band_edges() {
        let freqs: Vec<f64> = (0..257).map(|k| k as f64 * 31.25).collect();
        let bands = contrast_bands(&freqs, 200.0, 6, 0.02);
        assert_eq!(bands.len(), 7);
        assert_eq!(bands[0].bins, 0..6); // bins 0..=6 lie in 0..=200 Hz, the top one dropped
        assert_eq!(bands[1].bins, 6..12);
        assert_eq!(bands[6].bins.end, 257);
        // A band holding one loud bin among quiet ones has a large contrast.
        let mut mag = vec![1e-3f32; 257];
        mag[100] = 1.0;
        let mut out = [0.0f32; 7];
        contrast_db(&mag, &bands, &mut [0.0; 257], &mut out);
        assert!((out[4] - 30.0).abs() < 1e-3, "{out:?}");
        assert!(out[0].abs() < 1e-3);
    }
}
