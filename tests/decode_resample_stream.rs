//! The chunked resampler of the live path: any chunking gives the batch result, and after
//! `new` it never allocates.

use emotrace::audio::{StreamResampler, resample_to_16k};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

// Debug builds abort the test binary on any allocation inside `assert_no_alloc`.
#[cfg(debug_assertions)]
#[global_allocator]
static ALLOC: assert_no_alloc::AllocDisabler = assert_no_alloc::AllocDisabler;

fn chirp(rate_hz: u32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate_hz);
            (0.5 * (2.0 * std::f64::consts::PI * (200.0 * t + 1500.0 * t * t)).sin()) as f32
        })
        .collect()
}

fn streamed(rate_hz: u32, x: &[f32], sizes: &[usize]) -> Vec<f32> {
    let mut r = StreamResampler::new(rate_hz).expect("valid rate");
    let mut out = Vec::new();
    let mut rest = x;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        r.process(chunk, |s| out.extend_from_slice(s));
        rest = tail;
    }
    r.finish(|s| out.extend_from_slice(s));
    out
}

proptest! {
    #![proptest_config(Config { cases: 24, rng_seed: RngSeed::Fixed(0xCAFE), failure_persistence: None, ..Config::default() })]

    /// Resampling a signal fed in random chunk sizes (including 1 sample) from 8, 22.05,
    /// 44.1 or 48 kHz gives exactly the whole-signal result, `ceil(n * 16000 / rate)` long.
    #[test]
    fn random_chunkings_equal_batch(
        which in 0usize..4,
        len in 1usize..20_000,
        sizes in prop::collection::vec(prop_oneof![Just(1usize), 1usize..100, 1usize..4000], 1..12),
    ) {
        let rate = [8_000u32, 22_050, 44_100, 48_000][which];
        let x = chirp(rate, len);
        let whole = resample_to_16k(&x, rate).expect("valid rate");
        prop_assert_eq!(whole.len() as u64, (len as u64 * 16_000).div_ceil(u64::from(rate)));
        prop_assert_eq!(streamed(rate, &x, &sizes), whole);
    }
}

/// After `new`, processing (480-sample device callbacks), finishing and resetting never
/// allocate (checked in debug builds, where an allocation aborts the test binary).
#[test]
fn resampling_does_not_allocate() {
    let x = chirp(48_000, 48_000);
    let mut r = StreamResampler::new(48_000).expect("valid rate");
    let mut n_out = 0usize;
    assert_no_alloc::assert_no_alloc(|| {
        for _ in 0..2 {
            for chunk in x.chunks(480) {
                r.process(chunk, |s| n_out += s.len());
            }
            r.finish(|s| n_out += s.len());
        }
        r.process(&x[..1000], |s| n_out += s.len());
        r.reset();
    });
    assert!(n_out >= 2 * 16_000);
}
