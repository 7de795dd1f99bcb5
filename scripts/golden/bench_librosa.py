#!/usr/bin/env python3
"""Side-by-side speed of librosa and emotrace on the same 60 s file and feature set.

Called by scripts/bench-vs-librosa (which builds emotrace and pins one core). Both sides
start from the decoded float32 samples and produce every family (log-mel, MFCC with deltas
and delta-deltas, chroma, spectral statistics: 104 values per frame); decoding is excluded
from both. librosa runs reference.features() (the golden-file pipeline: one STFT reused
for all families); emotrace runs `emotrace features FILE` with the log-mel block switched
on, which times its extract() call. The two alternate run by run, so a change in machine
load affects both alike.
"""

import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

import librosa
import numpy as np
import soundfile as sf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import reference as ref  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
SECONDS = 60.0


def make_clip(path):
    """60 s of speech at 16 kHz: RAVDESS files from ../shared/data in name order, or the
    checked-in speech clip repeated when the shared data is absent."""
    shared = sorted((REPO.parent / "shared" / "data" / "ravdess").glob("Actor_*/*.flac"))
    need = int(SECONDS * ref.SR)
    parts, have = [], 0
    sources = shared if shared else [REPO / "tests" / "data" / "speech_16k.flac"] * 100
    for p in sources:
        y, sr = sf.read(p, dtype="float32")
        assert sr == ref.SR and y.ndim == 1, p
        parts.append(y)
        have += len(y)
        if have >= need:
            break
    y = np.concatenate(parts)[:need]
    sf.write(path, y, ref.SR, subtype="PCM_16")
    return "RAVDESS speech (../shared/data)" if shared else "tests/data/speech_16k.flac repeated"


def time_librosa_once(y):
    """(wall-clock s, CPU s of the process, output shape) of one librosa run."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = ref.features(y)
    return time.perf_counter() - t0, time.process_time() - c0, out.shape


def time_emotrace_once(exe, clip, config):
    """(wall-clock s, CPU s, shape) of one `emotrace features` process; its own timers cover
    extract() only."""
    out = subprocess.run(
        [exe, "features", clip, "--config", config], check=True, capture_output=True, text=True
    ).stdout
    m = re.search(r"extraction: ([\d.]+) ms", out)
    cpu = re.search(r"extraction CPU time: ([\d.]+) ms", out)
    dims = re.search(r"features: (\d+) frames x (\d+) values", out)
    if not m or not cpu or not dims:
        sys.exit(f"unexpected emotrace output:\n{out}")
    return float(m.group(1)) / 1e3, float(cpu.group(1)) / 1e3, (int(dims.group(1)), int(dims.group(2)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emotrace", required=True, help="path to the release emotrace binary")
    ap.add_argument("--runs", type=int, default=15, help="timed runs per side")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "speech_60s.wav")
        source = make_clip(clip)
        config = os.path.join(tmp, "all_families.toml")
        pathlib.Path(config).write_text("[families]\nlog_mel = true\n")
        y, _ = sf.read(clip, dtype="float32")
        ref.features(y)  # warm-up: numba compiles zero_crossings on first use
        # Interleaved, so a change in machine load hits both sides alike.
        lib_times, emo_times, lib_cpu, emo_cpu = [], [], [], []
        for _ in range(args.runs):
            t, c, lib_shape = time_librosa_once(y)
            lib_times.append(t)
            lib_cpu.append(c)
            t, c, emo_shape = time_emotrace_once(args.emotrace, clip, config)
            emo_times.append(t)
            emo_cpu.append(c)
    if tuple(lib_shape) != emo_shape:
        sys.exit(f"feature sets differ: librosa {lib_shape}, emotrace {emo_shape}")
    lib_fast, lib_median = min(lib_times), statistics.median(lib_times)
    emo_fast, emo_median = min(emo_times), statistics.median(emo_times)
    lib_cpu_median, emo_cpu_median = statistics.median(lib_cpu), statistics.median(emo_cpu)
    print(f"{SECONDS:.0f} s of 16 kHz audio ({source}); {emo_shape[0]} frames x {emo_shape[1]} values;")
    print(f"one core, {args.runs} interleaved timed runs each, decoding excluded; librosa {librosa.__version__}, numpy {np.__version__}")
    print()
    print("| implementation | fastest | median | x real time (median) | CPU time (median) | x real time (CPU) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, fast, median, cpu in [
        (f"librosa {librosa.__version__}", lib_fast, lib_median, lib_cpu_median),
        ("emotrace", emo_fast, emo_median, emo_cpu_median),
    ]:
        print(
            f"| {name} | {fast * 1e3:.1f} ms | {median * 1e3:.1f} ms | {SECONDS / median:.0f}x "
            f"| {cpu * 1e3:.1f} ms | {SECONDS / cpu:.0f}x |"
        )
    print()
    print(f"emotrace is {lib_median / emo_median:.1f}x faster than librosa by median wall-clock time, "
          f"{lib_cpu_median / emo_cpu_median:.1f}x by median CPU time.")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
