#!/usr/bin/env python3
"""Writes tests/golden/: librosa 0.11 features of the clips in tests/data/.

Run from anywhere (needs the packages pinned in requirements.txt):

    /work/venv/bin/python scripts/golden/generate.py

For each clip CLIP.{flac,wav} it writes tests/golden/CLIP.npy, float32, shape
(n_frames, len(reference.COLUMNS)), columns as listed in tests/golden/meta.json. For the
chirp it also writes chirp_16k.decoys.npy: the same log-mel / MFCC blocks computed with
deliberate mistakes (Hamming window, HTK mel scale, unnormalised mel filters, DCT without
orthonormal scaling), which tests/features_golden.rs must reject at its tolerances.
See reference.py for the causal settings used in place of whole-file librosa defaults.
"""

import json
import pathlib
import sys

import librosa
import numpy as np
import scipy
import soundfile as sf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import reference as ref  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
OUT = REPO / "tests" / "golden"
CLIPS = ["speech_16k.flac", "chirp_16k.flac", "noise_16k.flac", "silence_16k.flac", "short_16k.wav"]


def load(name):
    y, sr = sf.read(DATA / name, dtype="float32", always_2d=False)
    assert sr == ref.SR and y.ndim == 1, (name, sr, y.shape)
    return y


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {
        "librosa": librosa.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "settings": {
            "sample_rate_hz": ref.SR, "n_fft": ref.N_FFT, "win_samples": ref.WIN, "hop_samples": ref.HOP,
            "n_mels": ref.N_MELS, "fmin_hz": ref.FMIN, "fmax_hz": ref.FMAX, "n_mfcc": ref.N_MFCC,
            "delta_width": ref.DELTA_WIDTH, "n_chroma": ref.N_CHROMA, "contrast_fmin_hz": ref.CONTRAST_FMIN,
            "contrast_n_bands": ref.CONTRAST_BANDS, "contrast_quantile": ref.CONTRAST_QUANTILE,
            "rolloff_fraction": ref.ROLLOFF,
        },
        "columns": ref.COLUMNS,
        "clips": {},
    }
    for name in CLIPS:
        y = load(name)
        frames = ref.features(y)
        stem = name.rsplit(".", 1)[0]
        np.save(OUT / f"{stem}.npy", frames)
        meta["clips"][stem] = {"file": name, "n_samples": int(len(y)), "n_frames": int(frames.shape[0])}
        print(f"{name}: {len(y)} samples -> {frames.shape}")
    y = load("chirp_16k.flac")
    mel = slice(0, ref.N_MELS)
    mfcc = slice(ref.N_MELS, ref.N_MELS + ref.N_MFCC)
    decoys = np.ascontiguousarray(np.concatenate(
        [
            ref.features(y, window="hamming")[:, mel],
            ref.features(y, htk=True)[:, mel],
            ref.features(y, mel_norm=None)[:, mel],
            ref.features(y, dct_norm=None)[:, mfcc],
        ],
        axis=1,
    ))
    np.save(OUT / "chirp_16k.decoys.npy", decoys)
    meta["decoys"] = {
        "file": "chirp_16k.decoys.npy",
        "blocks": ["logmel_hamming_window", "logmel_htk_scale", "logmel_unnormalised_filters", "mfcc_dct_norm_none"],
    }
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
