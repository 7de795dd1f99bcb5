"""The emotrace feature set computed with librosa 0.11, with explicit causal settings.

Shared by generate.py (golden files for tests/features_golden.rs) and
scripts/bench-vs-librosa (speed comparison), so both use exactly the same calls.

Settings mirror emotrace's FeatureConfig defaults. Where a librosa default looks at the
whole file (which a live stream cannot do), it is replaced explicitly:

- power_to_db(top_db=None): the default top_db=80 clips relative to the loudest value
  of the whole file.
- chroma_stft(tuning=0.0): the default tuning=None estimates tuning from the whole file.
- delta(mode="nearest"): the default mode="interp" fits a polynomial to the first and
  last `width` frames; "nearest" repeats the end frames and needs only width//2 frames
  of look-ahead.
- spectral_contrast: librosa calls power_to_db(peak) and power_to_db(valley) with the
  default top_db=80 (relative to the whole file) and offers no argument to change it,
  so causal_contrast() runs it with power_to_db bound to top_db=None.

The STFT is computed once (|X| for the spectral statistics, |X|^2 for mel and chroma) and
passed as S=, which is also how one would use librosa efficiently.
"""

import contextlib
import functools

import librosa
import librosa.feature.spectral as lfs
import numpy as np

SR = 16000
N_FFT = 512
WIN = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
FMIN = 0.0
FMAX = 8000.0
N_MFCC = 13
DELTA_WIDTH = 9
N_CHROMA = 12
CONTRAST_FMIN = 200.0
CONTRAST_BANDS = 6
CONTRAST_QUANTILE = 0.02
ROLLOFF = 0.85
AMIN = 1e-10

# Column blocks, in emotrace's frame order (log-mel first, then the model-input layout
# with every family switched on).
COLUMNS = (
    [f"logmel{i}_db" for i in range(N_MELS)]
    + [f"mfcc{i}" for i in range(N_MFCC)]
    + [f"mfcc{i}_d1" for i in range(N_MFCC)]
    + [f"mfcc{i}_d2" for i in range(N_MFCC)]
    + [f"chroma{i}" for i in range(N_CHROMA)]
    + ["centroid_hz", "bandwidth_hz", "rolloff_hz", "flatness"]
    + [f"contrast{i}_db" for i in range(CONTRAST_BANDS + 1)]
    + ["zcr", "rms"]
)


@contextlib.contextmanager
def causal_contrast():
    """Run spectral_contrast with its internal power_to_db calls at top_db=None."""
    original = lfs.power_to_db
    lfs.power_to_db = functools.partial(original, top_db=None)
    try:
        yield
    finally:
        lfs.power_to_db = original


def features(y, window="hann", htk=False, mel_norm="slaney", dct_norm="ortho"):
    """All families for mono float32 `y` at 16 kHz: array (n_frames, len(COLUMNS)), float32.

    `window`, `htk`, `mel_norm` and `dct_norm` exist only to make deliberately wrong variants (decoys)
    that the golden test must reject.
    """
    stft = librosa.stft(
        y, n_fft=N_FFT, hop_length=HOP, win_length=WIN, window=window, center=True, pad_mode="constant"
    )
    mag = np.abs(stft)
    power = mag**2
    mel = librosa.feature.melspectrogram(
        S=power, sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX, htk=htk, norm=mel_norm
    )
    logmel = librosa.power_to_db(mel, ref=1.0, amin=AMIN, top_db=None)
    mfcc = librosa.feature.mfcc(S=logmel, n_mfcc=N_MFCC, dct_type=2, norm=dct_norm, lifter=0)
    d1 = librosa.feature.delta(mfcc, width=DELTA_WIDTH, order=1, mode="nearest")
    d2 = librosa.feature.delta(mfcc, width=DELTA_WIDTH, order=2, mode="nearest")
    chroma = librosa.feature.chroma_stft(S=power, sr=SR, n_fft=N_FFT, tuning=0.0, n_chroma=N_CHROMA, norm=np.inf)
    centroid = librosa.feature.spectral_centroid(S=mag, sr=SR, n_fft=N_FFT)
    bandwidth = librosa.feature.spectral_bandwidth(S=mag, sr=SR, n_fft=N_FFT, centroid=centroid, p=2, norm=True)
    rolloff = librosa.feature.spectral_rolloff(S=mag, sr=SR, n_fft=N_FFT, roll_percent=ROLLOFF)
    flatness = librosa.feature.spectral_flatness(S=mag, amin=AMIN, power=2.0)
    with causal_contrast():
        contrast = librosa.feature.spectral_contrast(
            S=mag, sr=SR, n_fft=N_FFT, fmin=CONTRAST_FMIN, n_bands=CONTRAST_BANDS, quantile=CONTRAST_QUANTILE
        )
    # ZCR and RMS use the same n_fft-sample frames as the STFT (ZCR pads with the edge
    # sample, librosa's only choice; RMS pads with zeros).
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP, center=True)
    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP, center=True, pad_mode="constant")
    blocks = [logmel, mfcc, d1, d2, chroma, centroid, bandwidth, rolloff, flatness, contrast, zcr, rms]
    stacked = np.concatenate([np.asarray(b, dtype=np.float64) for b in blocks], axis=0)
    return np.ascontiguousarray(stacked.T, dtype=np.float32)
