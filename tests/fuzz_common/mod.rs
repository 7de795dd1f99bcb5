//! The seeded mutation fuzzer shared by the `fuzz_*` tests: a small deterministic RNG,
//! byte-level mutations of seed files, and a runner that catches panics, saves each
//! crashing input and fails the test listing them.
//!
//! Budget: `EMOTRACE_FUZZ_ITERS` sets the iterations per target (CI uses each target's
//! small default, a few seconds); `EMOTRACE_FUZZ_SEED` changes the seed for a fresh
//! exploration (default 0 keeps CI deterministic). A long run:
//! `EMOTRACE_FUZZ_ITERS=200000 cargo test --release --test fuzz_decode -- --nocapture`.
//! Crashing inputs are written to `target/fuzz-crashes/`; a fixed one belongs in
//! `tests/fuzz_regressions/<target>/` so the regression tests replay it forever.

#![allow(dead_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// SplitMix64: tiny, seedable, good enough to drive mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for this target and the run's seed.
    pub fn new(target_seed: u64) -> Self {
        Self(target_seed ^ run_seed().wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The run's seed (`EMOTRACE_FUZZ_SEED`, default 0).
pub fn run_seed() -> u64 {
    std::env::var("EMOTRACE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Iterations for a target: `EMOTRACE_FUZZ_ITERS`, or the target's CI default.
pub fn iterations(ci_default: usize) -> usize {
    std::env::var("EMOTRACE_FUZZ_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(ci_default)
}

/// Integers that break header arithmetic: zero, one, sign edges, all-ones.
pub const INTERESTING_U32: [u32; 10] =
    [0, 1, 2, 0x7F, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF];

/// One to four random byte-level mutations of `seed`; half of the byte edits land in the
/// first 64 bytes, where the headers are.
pub fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if data.is_empty() {
            data.push(rng.next_u64() as u8);
            continue;
        }
        let at = if rng.chance(0.5) { rng.below(data.len().min(64)) } else { rng.below(data.len()) };
        match rng.below(8) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = rng.next_u64() as u8,
            2 => data[at] = *rng.pick(&[0x00, 0x01, 0x7F, 0x80, 0xFF]),
            3 => {
                let value = *rng.pick(&INTERESTING_U32);
                let bytes = if rng.chance(0.5) { value.to_le_bytes() } else { value.to_be_bytes() };
                for (i, b) in bytes.iter().enumerate() {
                    if let Some(slot) = data.get_mut(at + i) {
                        *slot = *b;
                    }
                }
            }
            4 => data.truncate(at),
            5 => {
                let end = (at + 1 + rng.below(256)).min(data.len());
                data.drain(at..end);
            }
            6 => {
                let end = (at + 1 + rng.below(256)).min(data.len());
                let copy = data[at..end].to_vec();
                let to = rng.below(data.len());
                data.splice(to..to, copy);
            }
            _ => {
                let n = 1 + rng.below(32);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                data.splice(at..at, bytes);
            }
        }
    }
    data
}

/// Runs fuzz cases, catching panics; each crashing input is saved for replay.
pub struct Fuzzer {
    target: &'static str,
    pub executions: u64,
    crashes: Vec<(PathBuf, String)>,
}

impl Fuzzer {
    pub fn new(target: &'static str) -> Self {
        Self { target, executions: 0, crashes: Vec::new() }
    }

    /// Runs `case` on `input`; a panic saves the input (extension `ext`) and is recorded.
    pub fn run(&mut self, input: &[u8], ext: &str, case: impl FnOnce()) {
        self.executions += 1;
        if let Err(payload) = catch_unwind(AssertUnwindSafe(case)) {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("{}-{}-{}.{ext}", self.target, run_seed(), self.executions));
            let _ = std::fs::write(&path, input);
            self.crashes.push((path, message));
        }
    }

    /// Prints the execution count and fails listing every crash.
    pub fn finish(self) {
        eprintln!(
            "fuzz {}: {} executions, {} crashes (seed {})",
            self.target,
            self.executions,
            self.crashes.len(),
            run_seed()
        );
        let list: Vec<String> =
            self.crashes.iter().map(|(p, m)| format!("{}: {m}", p.display())).take(20).collect();
        assert!(self.crashes.is_empty(), "{} crashing inputs:\n{}", self.crashes.len(), list.join("\n"));
    }
}

/// The checked-in regression inputs of a target (`tests/fuzz_regressions/<target>/`).
pub fn regression_inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The seed corpus of audio files (`tests/data`).
pub fn audio_seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut seeds: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("tests/data")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("seed");
            (p, bytes)
        })
        .collect();
    seeds.sort();
    seeds
}
