//! Fixed matrices of the extractor, built once per config exactly as librosa 0.11 builds
//! them (same formulas, float64 then rounded to f32): the zero-padded Hann window, bin
//! frequencies, the Slaney mel filter bank, the chroma filter bank, the orthonormal DCT-II.

use std::f64::consts::PI;

/// Periodic Hann window of `win` samples, centred in `n_fft` zeros (librosa
/// `get_window("hann", win, fftbins=True)` then `pad_center(.., size=n_fft)`).
pub fn padded_hann(win: usize, n_fft: usize) -> Vec<f64> {
    let mut w = vec![0.0f64; n_fft];
    let lpad = (n_fft - win) / 2;
    for n in 0..win {
        w[lpad + n] = 0.5 - 0.5 * (2.0 * PI * n as f64 / win as f64).cos();
    }
    w
}

/// Centre frequency of each one-sided FFT bin in Hz (numpy `rfftfreq(n_fft, 1 / sr)`).
pub fn fft_frequencies_hz(sample_rate_hz: u32, n_fft: usize) -> Vec<f64> {
    let step = 1.0 / (n_fft as f64 * (1.0 / f64::from(sample_rate_hz)));
    (0..=n_fft / 2).map(|k| k as f64 * step).collect()
}

// Slaney mel scale: linear below 1 kHz, logarithmic above.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz to Slaney mels (librosa `hz_to_mel(htk=False)`).
pub fn hz_to_mel(hz: f64) -> f64 {
    let min_log_mel = MIN_LOG_HZ / F_SP;
    if hz >= MIN_LOG_HZ { min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep() } else { hz / F_SP }
}

/// Slaney mels to Hz (librosa `mel_to_hz(htk=False)`).
pub fn mel_to_hz(mel: f64) -> f64 {
    let min_log_mel = MIN_LOG_HZ / F_SP;
    if mel >= min_log_mel { MIN_LOG_HZ * (logstep() * (mel - min_log_mel)).exp() } else { F_SP * mel }
}

/// numpy `linspace(start, stop, num)` (endpoint included), value by value.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = num.saturating_sub(1).max(1) as f64;
    let step = (stop - start) / div;
    let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    if num > 1 {
        v[num - 1] = stop;
    }
    v
}

/// A filter bank stored as one non-zero run per filter.
#[derive(Debug, Clone)]
pub struct SparseBank {
    /// First bin of each filter's run.
    pub start: Vec<usize>,
    /// Weights of each filter's run.
    pub weights: Vec<Vec<f32>>,
}

/// Slaney-normalised mel filter bank, `n_mels x (n_fft/2+1)` (librosa `filters.mel` with
/// `htk=False, norm="slaney"`), kept as the non-zero run of each triangle.
pub fn mel_bank(sample_rate_hz: u32, n_fft: usize, n_mels: usize, fmin_hz: f64, fmax_hz: f64) -> SparseBank {
    warped_mel_bank(sample_rate_hz, n_fft, n_mels, fmin_hz, fmax_hz, 1.0)
}

/// [`mel_bank`] over a spectrum whose frequencies are scaled by `alpha` (vocal-tract-length
/// perturbation, Jaitly & Hinton 2013): bin frequency `f` is read as [`vtlp_warp_hz`]`(f)`,
/// so `alpha > 1` moves formants up, as a shorter vocal tract would. `alpha = 1` is
/// [`mel_bank`] exactly.
pub fn warped_mel_bank(
    sample_rate_hz: u32,
    n_fft: usize,
    n_mels: usize,
    fmin_hz: f64,
    fmax_hz: f64,
    alpha: f64,
) -> SparseBank {
    let mut fftfreqs = fft_frequencies_hz(sample_rate_hz, n_fft);
    if alpha != 1.0 {
        let nyquist_hz = f64::from(sample_rate_hz) / 2.0;
        fftfreqs.iter_mut().for_each(|f| *f = vtlp_warp_hz(*f, alpha, nyquist_hz));
    }
    let mel_f: Vec<f64> =
        linspace(hz_to_mel(fmin_hz), hz_to_mel(fmax_hz), n_mels + 2).into_iter().map(mel_to_hz).collect();
    let mut start = Vec::with_capacity(n_mels);
    let mut weights = Vec::with_capacity(n_mels);
    for i in 0..n_mels {
        let (fdiff_lo, fdiff_hi) = (mel_f[i + 1] - mel_f[i], mel_f[i + 2] - mel_f[i + 1]);
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        let row: Vec<f32> = fftfreqs
            .iter()
            .map(|&f| {
                let lower = -(mel_f[i] - f) / fdiff_lo;
                let upper = (mel_f[i + 2] - f) / fdiff_hi;
                // librosa stores the triangle in float32, then scales it in float64.
                let w = 0.0f64.max(lower.min(upper)) as f32;
                (f64::from(w) * enorm) as f32
            })
            .collect();
        let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
        let last = row.iter().rposition(|&w| w != 0.0).map_or(first, |l| l + 1);
        start.push(first);
        weights.push(row[first..last].to_vec());
    }
    SparseBank { start, weights }
}

/// The VTLP frequency warp: `f * alpha` up to a boundary, then a straight line that keeps
/// `nyquist_hz` in place, so no energy leaves or wraps past the top of the spectrum.
pub fn vtlp_warp_hz(f: f64, alpha: f64, nyquist_hz: f64) -> f64 {
    // The boundary of Jaitly & Hinton: 4.8 kHz of an 8 kHz band.
    let boundary_hz = 0.6 * nyquist_hz * alpha.min(1.0) / alpha;
    if f <= boundary_hz {
        f * alpha
    } else {
        let top = nyquist_hz - boundary_hz * alpha;
        nyquist_hz - top / (nyquist_hz - boundary_hz) * (nyquist_hz - f)
    }
}

/// Chroma filter bank, `n_chroma x (n_fft/2+1)` row-major (librosa `filters.chroma` with
/// `tuning=0, ctroct=5, octwidth=2, norm=2, base_c=True`).
pub fn chroma_bank(sample_rate_hz: u32, n_fft: usize, n_chroma: usize) -> Vec<f32> {
    let nc = n_chroma as f64;
    let step = f64::from(sample_rate_hz) / n_fft as f64;
    // Bin frequencies from bin 1 on, in chroma bins relative to A440/16 (tuning 0).
    let mut frqbins: Vec<f64> =
        (1..n_fft).map(|k| nc * ((k as f64 * step) / (440.0 / 16.0)).log2()).collect();
    // The 0 Hz bin is placed 1.5 octaves below bin 1.
    frqbins.insert(0, frqbins[0] - 1.5 * nc);
    let mut binwidth: Vec<f64> = frqbins.windows(2).map(|p| (p[1] - p[0]).max(1.0)).collect();
    binwidth.push(1.0);
    let half = (nc / 2.0).round_ties_even();
    let mut wts = vec![0.0f64; n_chroma * n_fft];
    for c in 0..n_chroma {
        for k in 0..n_fft {
            // numpy's remainder of a positive value; exact (Sterbenz), and much cheaper
            // than a software fmod.
            let x = frqbins[k] - c as f64 + half + 10.0 * nc;
            let mut r = x - nc * (x / nc).floor();
            if r < 0.0 {
                r += nc;
            } else if r >= nc {
                r -= nc;
            }
            let d = r - half;
            wts[c * n_fft + k] = (-0.5 * (2.0 * d / binwidth[k]).powi(2)).exp();
        }
    }
    // Unit L2 norm down each column, then the octave weighting (centre 5, width 2).
    for k in 0..n_fft {
        let norm = (0..n_chroma).map(|c| wts[c * n_fft + k].powi(2)).sum::<f64>().sqrt();
        let octave_weight = (-0.5 * ((frqbins[k] / nc - 5.0) / 2.0).powi(2)).exp();
        for c in 0..n_chroma {
            let w = &mut wts[c * n_fft + k];
            if norm >= f64::MIN_POSITIVE {
                *w /= norm;
            }
            *w *= octave_weight;
        }
    }
    // Roll so that row 0 is C (the bins are counted from A), keep the one-sided bins.
    let n_bins = n_fft / 2 + 1;
    let shift = 3 * (n_chroma / 12);
    let mut out = vec![0.0f32; n_chroma * n_bins];
    for c in 0..n_chroma {
        let src = (c + shift) % n_chroma;
        for k in 0..n_bins {
            out[c * n_bins + k] = wts[src * n_fft + k] as f32;
        }
    }
    out
}

/// Orthonormal DCT-II basis, `n_out x n_in` row-major (scipy `dct(type=2, norm="ortho")`).
pub fn dct_ortho(n_in: usize, n_out: usize) -> Vec<f32> {
    let n = n_in as f64;
    let mut m = vec![0.0f32; n_out * n_in];
    for k in 0..n_out {
        let scale = if k == 0 { (1.0 / n).sqrt() } else { (2.0 / n).sqrt() };
        for i in 0..n_in {
            m[k * n_in + i] = (scale * (PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n)).cos()) as f32;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Slaney mel scale is linear to 1 kHz (15 mels) and round-trips.
    #[test]
    fn mel_scale_round_trips() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(200.0) - 3.0).abs() < 1e-12);
        for hz in [0.0, 123.0, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz}");
        }
    }

    /// Slaney normalisation gives each triangle an area of 1 in Hz: sum of weights times
    /// bin spacing is close to 1 for bands several bins wide.
    #[test]
    fn mel_triangles_have_unit_area() {
        let bank = mel_bank(16_000, 512, 40, 0.0, 8_000.0);
        let bin_hz = 16_000.0 / 512.0;
        for (m, w) in bank.weights.iter().enumerate().skip(20) {
            let area: f64 = w.iter().map(|&x| f64::from(x) * bin_hz).sum();
            assert!((area - 1.0).abs() < 0.05, "band {m}: area {area}");
        }
        assert_eq!(bank.start.len(), 40);
    }

    /// The warp keeps 0 Hz and the Nyquist frequency, scales low frequencies by alpha, and
    /// rises monotonically; alpha 1 gives the plain bank, weight for weight.
    #[test]
    fn vtlp_warp_scales_low_frequencies_and_keeps_the_band() {
        for alpha in [0.9, 1.0, 1.1] {
            assert_eq!(vtlp_warp_hz(0.0, alpha, 8_000.0), 0.0);
            assert!((vtlp_warp_hz(8_000.0, alpha, 8_000.0) - 8_000.0).abs() < 1e-9);
            assert!((vtlp_warp_hz(1_000.0, alpha, 8_000.0) - 1_000.0 * alpha).abs() < 1e-9);
            let warped: Vec<f64> = (0..=80).map(|k| vtlp_warp_hz(k as f64 * 100.0, alpha, 8_000.0)).collect();
            assert!(warped.windows(2).all(|w| w[1] > w[0]), "alpha {alpha}");
        }
        let (plain, same) =
            (mel_bank(16_000, 512, 40, 0.0, 8_000.0), warped_mel_bank(16_000, 512, 40, 0.0, 8_000.0, 1.0));
        assert_eq!((plain.start, plain.weights), (same.start, same.weights));
    }

    /// With alpha 1.1 a 1 kHz bin is read as 1.1 kHz: its strongest band is the one whose
    /// centre is nearest 1.1 kHz.
    #[test]
    fn warped_bank_moves_energy_up() {
        let (n_mels, bin) = (80, 32); // bin 32 of a 512-point FFT at 16 kHz is 1 kHz
        let centres: Vec<f64> =
            linspace(hz_to_mel(0.0), hz_to_mel(8_000.0), n_mels + 2).into_iter().map(mel_to_hz).collect();
        let strongest = |bank: &SparseBank| {
            (0..n_mels)
                .max_by(|&a, &b| weight_at(bank, a, bin).total_cmp(&weight_at(bank, b, bin)))
                .unwrap_or(0)
        };
        let nearest = |hz: f64| {
            (0..n_mels)
                .min_by(|&a, &b| (centres[a + 1] - hz).abs().total_cmp(&(centres[b + 1] - hz).abs()))
                .unwrap_or(0)
        };
        assert_eq!(strongest(&mel_bank(16_000, 512, n_mels, 0.0, 8_000.0)), nearest(1_000.0));
        assert_eq!(strongest(&warped_mel_bank(16_000, 512, n_mels, 0.0, 8_000.0, 1.1)), nearest(1_100.0));
    }

    fn weight_at(bank: &SparseBank, band: usize, bin: usize) -> f32 {
        bin.checked_sub(bank.start[band]).and_then(|i| bank.weights[band].get(i)).copied().unwrap_or(0.0)
    }

    /// The window is zero outside the centred 400 samples and peaks at 1 in the middle.
    #[test]
    fn hann_is_centred() {
        let w = padded_hann(400, 512);
        assert_eq!(w[55], 0.0);
        assert_eq!(w[56], 0.0); // periodic Hann starts at 0
        assert!(w[57] > 0.0);
        assert_eq!(w[56 + 200], 1.0);
        assert_eq!(w[456], 0.0);
    }

    /// The DCT basis is orthonormal: rows are unit length and mutually orthogonal.
    #[test]
    fn dct_is_orthonormal() {
        let (n, k) = (40, 13);
        let m = dct_ortho(n, k);
        for a in 0..k {
            for b in 0..k {
                let dot: f32 = (0..n).map(|i| m[a * n + i] * m[b * n + i]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-5, "rows {a},{b}: {dot}");
            }
        }
    }

    /// A 440 Hz bin weighs most on chroma A (row 9 after rolling to start at C).
    #[test]
    fn chroma_a440_lands_on_a() {
        let n_fft = 4096;
        let bank = chroma_bank(16_000, n_fft, 12);
        let bin = (440.0 * n_fft as f64 / 16_000.0).round() as usize;
        let n_bins = n_fft / 2 + 1;
        let col: Vec<f32> = (0..12).map(|c| bank[c * n_bins + bin]).collect();
        let best = (0..12).max_by(|&a, &b| col[a].total_cmp(&col[b])).unwrap();
        assert_eq!(best, 9, "{col:?}");
    }
}
