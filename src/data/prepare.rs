//! From utterances to feature matrices in memory: decode (16 kHz mono), trim silence,
//! optionally make seeded augmented copies, extract features, all through the cache.
//!
//! For scoring under a recording condition, the decoded file itself can be put through a
//! seeded condition before trimming, as if it had been recorded that way.
//!
//! Runs on a few named worker threads. A file that cannot be decoded, or whose features
//! cannot be computed, becomes a [`Skipped`] with the reason; the rest carry on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::augment::{AugmentConfig, augment_waveform};
use super::babble::BabbleSources;
use super::cache::{FeatureCache, FeatureMatrix, content_sha256};
use super::conditions::Condition;
use super::corpus::{SkipReason, Skipped, Utterance};
use super::rng::Rng;
use super::trim::{Preprocess, trim_range};
use crate::audio::decode::load_mono_16k;
use crate::audio::resample::StreamResampler;
use crate::features::{BatchExtractor, FeatureConfig};

/// Everything that shapes an utterance's features.
#[derive(Debug, Clone)]
pub struct PrepareConfig {
    /// Feature settings.
    pub features: FeatureConfig,
    /// Silence trimming.
    pub preprocess: Preprocess,
    /// Waveform augmentation for the copies.
    pub augment: AugmentConfig,
    /// Seed of the augmented copies.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// Other speakers' recordings for babble noise in the copies (may be empty).
    pub babble: Arc<BabbleSources>,
    /// A recording condition applied to every file before anything else (scoring only).
    pub condition: Option<SeededCondition>,
}

/// A recording condition and the seed of its random parts (noise, room, equaliser); each
/// file gets its own stream derived from the seed and its content.
#[derive(Debug, Clone, PartialEq)]
pub struct SeededCondition {
    /// The condition.
    pub condition: Condition,
    /// The seed.
    pub seed: u64,
}

/// The features of one utterance: the clean version first, then augmented copies.
#[derive(Debug, Clone)]
pub struct PreparedUtterance {
    /// `variants[0]` is clean; `variants[1..]` are the augmented copies (training only).
    pub variants: Vec<FeatureMatrix>,
}

/// What preparation did.
#[derive(Debug, Clone, Default)]
pub struct PrepareReport {
    /// Matrices read from the cache.
    pub cache_hits: usize,
    /// Matrices computed (and stored).
    pub computed: usize,
    /// Files that could not be used.
    pub skipped: Vec<Skipped>,
}

/// Prepares every utterance; `copies[i]` says whether utterance `i` gets augmented copies.
/// `on_done` is called once per utterance finished (for a progress bar).
pub fn prepare(
    utterances: &[Utterance],
    copies: &[bool],
    config: &PrepareConfig,
    cache: Option<&FeatureCache>,
    on_done: &(dyn Fn() + Sync),
) -> (Vec<Option<PreparedUtterance>>, PrepareReport) {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<PreparedUtterance>>> = Mutex::new(vec![None; utterances.len()]);
    let report = Mutex::new(PrepareReport::default());
    let settings = settings_text(config);
    std::thread::scope(|scope| {
        for worker in 0..config.threads.max(1) {
            let work = || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(utterance) = utterances.get(i) else { break };
                let outcome =
                    prepare_one(utterance, copies.get(i).copied().unwrap_or(false), config, &settings, cache);
                let mut r = report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match outcome {
                    Ok((prepared, hits, computed)) => {
                        r.cache_hits += hits;
                        r.computed += computed;
                        drop(r);
                        results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(prepared);
                    }
                    Err(reason) => r.skipped.push(Skipped { path: utterance.path.clone(), reason }),
                }
                on_done();
            };
            let spawned =
                std::thread::Builder::new().name(format!("features-{worker}")).spawn_scoped(scope, work);
            if spawned.is_err() {
                // Could not start a thread: the remaining workers (or none) share the load;
                // with none, the loop below does the work on this thread.
                continue;
            }
        }
    });
    // NOTE: if no thread could be spawned, nothing was processed; do it here.
    let mut results = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut report = report.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    if next.load(Ordering::Relaxed) == 0 {
        for (i, utterance) in utterances.iter().enumerate() {
            match prepare_one(utterance, copies.get(i).copied().unwrap_or(false), config, &settings, cache) {
                Ok((prepared, hits, computed)) => {
                    report.cache_hits += hits;
                    report.computed += computed;
                    results[i] = Some(prepared);
                }
                Err(reason) => report.skipped.push(Skipped { path: utterance.path.clone(), reason }),
            }
            on_done();
        }
    }
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    (results, report)
}

fn settings_text(config: &PrepareConfig) -> String {
    format!(
        "features={};preprocess={}",
        serde_json::to_string(&config.features).unwrap_or_default(),
        serde_json::to_string(&config.preprocess).unwrap_or_default()
    )
}

/// Returns the prepared utterance, cache hits and matrices computed.
fn prepare_one(
    utterance: &Utterance,
    with_copies: bool,
    config: &PrepareConfig,
    settings: &str,
    cache: Option<&FeatureCache>,
) -> Result<(PreparedUtterance, usize, usize), SkipReason> {
    let bytes = std::fs::read(&utterance.path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    let sha = content_sha256(&bytes);
    drop(bytes);
    let n_copies = if with_copies { config.augment.copies } else { 0 };
    let mut variants = Vec::with_capacity(1 + n_copies);
    let (mut hits, mut computed) = (0, 0);
    let mut audio: Option<Vec<f32>> = None;
    let file_stream = u64::from_str_radix(&sha[..16], 16).unwrap_or(0);
    for copy in 0..=n_copies {
        // Babble is mixed (and named in the cache key) only where there are sources and the
        // copy goes through the conditions; other copies keep the streams and keys of
        // configs without babble.
        let mixes_babble = !config.babble.is_empty() && config.augment.conditions_of(copy).is_some();
        let variant = match (copy, &config.condition) {
            (0, None) => "clean".to_owned(),
            (0, Some(c)) => {
                format!(
                    "clean;condition={};seed={}",
                    serde_json::to_string(&c.condition).unwrap_or_default(),
                    c.seed
                )
            }
            _ if !mixes_babble => {
                format!("copy{copy};seed={};{}", config.seed, config.augment.copy_key(copy))
            }
            _ => format!(
                "copy{copy};seed={};{};babble={}",
                config.seed,
                config.augment.copy_key(copy),
                config.babble.key()
            ),
        };
        let key = FeatureCache::key(&sha, &format!("{settings};{variant}"));
        if let Some(m) = cache.and_then(|c| c.get(&key)).filter(|m| m.dims == config.features.frame_dim()) {
            hits += 1;
            variants.push(m);
            continue;
        }
        if audio.is_none() {
            let mut samples =
                load_mono_16k(&utterance.path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
            if let Some(c) = &config.condition {
                let mut rng = Rng::derive(c.seed, file_stream);
                samples = c
                    .condition
                    .apply(&samples, config.features.sample_rate_hz, &mut rng, &[])
                    .map_err(|e| SkipReason::Unreadable(format!("{}: {e}", c.condition)))?;
            }
            let range = trim_range(&samples, config.features.sample_rate_hz, &config.preprocess);
            audio = Some(samples[range].to_vec());
        }
        let clean = audio.as_deref().unwrap_or_default();
        let (samples, vtlp) = if copy == 0 {
            (clean.to_vec(), 1.0)
        } else {
            let mut rng = Rng::derive(config.seed, file_stream ^ copy as u64);
            let babble = if mixes_babble {
                let [low, high] = config.augment.babble_talkers;
                let talkers = low + rng.below(high.saturating_sub(low) + 1);
                config.babble.pick(talkers, &utterance.speaker, &mut rng)
            } else {
                Vec::new()
            };
            let rate = config.features.sample_rate_hz;
            let samples = augment_waveform(clean, rate, &config.augment, copy, &mut rng, &resample, &babble)
                .map_err(|e| SkipReason::Unreadable(format!("augmented copy: {e}")))?;
            (samples, config.augment.draw_vtlp(&mut rng))
        };
        let frames = BatchExtractor::with_frequency_warp(&config.features, vtlp)
            .and_then(|mut extractor| extractor.extract(&samples))
            .map_err(|e| SkipReason::Unreadable(e.to_string()))?;
        let matrix = FeatureMatrix { frames: frames.n_frames, dims: frames.frame_dim, data: frames.features };
        if let Some(c) = cache {
            // A cache that cannot be written only costs time next run.
            let _ = c.put(&key, &matrix);
        }
        computed += 1;
        variants.push(matrix);
    }
    Ok((PreparedUtterance { variants }, hits, computed))
}

/// Band-limited resampling for speed perturbation (the decoder's resampler).
fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    let Ok(mut r) = StreamResampler::with_rates(from_hz, to_hz) else { return samples.to_vec() };
    let mut out = Vec::with_capacity(samples.len() * to_hz as usize / from_hz.max(1) as usize + 64);
    r.process(samples, |s| out.extend_from_slice(s));
    r.finish(|s| out.extend_from_slice(s));
    out
}
