//! Which training utterances an epoch sees, and with what loss weight.
//!
//! With one corpus the epoch is every training utterance once, weighted by inverse class
//! frequency (every class counts the same). With several, one big corpus would drown the
//! others (nEMO has 4481 files, URDU 400), so an epoch can instead draw a fixed number of
//! utterances: a corpus with probability proportional to `n_c ^ corpus_balance` (`n_c` its
//! training utterances: 1 keeps the natural mixture, 0 gives every corpus the same share),
//! then a speaker uniformly (with `speaker_balance`, so a speaker with 70 files counts as
//! much as one with 4), then one of that speaker's utterances uniformly. Class weights are
//! then computed per corpus under that same sampling, so that within every corpus each of
//! its classes carries the same total weight.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::{Rng, Utterance};
use crate::model::Emotion;

/// How epochs are drawn (`[sampling]` in train.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingConfig {
    /// Utterances drawn per epoch (0: every training utterance once, as with one corpus).
    pub epoch_utterances: usize,
    /// Exponent on each corpus's size in its share of draws: 1 natural, 0 equal, 0.5 between.
    pub corpus_balance: f64,
    /// Draw a speaker uniformly within the corpus before drawing one of its utterances.
    pub speaker_balance: bool,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self { epoch_utterances: 0, corpus_balance: 0.5, speaker_balance: true }
    }
}

/// One corpus's training utterances, by speaker, as positions in the training list.
#[derive(Debug, Clone)]
struct CorpusPool {
    speakers: Vec<Vec<usize>>,
    size: usize,
}

/// Draws epochs and holds each training utterance's loss weight.
#[derive(Debug, Clone)]
pub struct EpochSampler {
    config: SamplingConfig,
    pools: Vec<CorpusPool>,
    /// Cumulative draw probability of each pool.
    cumulative: Vec<f64>,
    /// Loss weight of each training position (class balance within its corpus).
    weights: Vec<f32>,
    count: usize,
}

impl EpochSampler {
    /// A sampler over `train` (the training utterances, in order); `class_balance` asks
    /// for inverse-class-frequency weights (else every weight is 1).
    pub fn new(config: &SamplingConfig, train: &[&Utterance], class_balance: bool) -> Self {
        let mut by_corpus: BTreeMap<&str, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
        for (k, u) in train.iter().enumerate() {
            by_corpus.entry(u.corpus_name()).or_default().entry(u.speaker.as_str()).or_default().push(k);
        }
        let pools: Vec<CorpusPool> = by_corpus
            .into_values()
            .map(|speakers| {
                let speakers: Vec<Vec<usize>> = speakers.into_values().collect();
                let size = speakers.iter().map(Vec::len).sum();
                CorpusPool { speakers, size }
            })
            .collect();
        let shares: Vec<f64> = pools.iter().map(|p| (p.size as f64).powf(config.corpus_balance)).collect();
        let total: f64 = shares.iter().sum();
        let mut running = 0.0;
        let cumulative = shares
            .iter()
            .map(|s| {
                running += s / total.max(f64::MIN_POSITIVE);
                running
            })
            .collect();
        let weights = match (class_balance, config.epoch_utterances > 0) {
            (false, _) => vec![1.0; train.len()],
            // One pass over every utterance: classes balanced over all corpora at once.
            (true, false) => global_class_weights(train),
            (true, true) => {
                let mut weights = vec![1.0; train.len()];
                for pool in &pools {
                    balance_classes(&draw_chances(pool, config.speaker_balance), train, &mut weights);
                }
                weights
            }
        };
        Self { config: config.clone(), pools, cumulative, weights, count: train.len() }
    }

    /// The training positions of one epoch, in random order.
    pub fn epoch(&self, rng: &mut Rng) -> Vec<usize> {
        if self.config.epoch_utterances == 0 {
            let mut order: Vec<usize> = (0..self.count).collect();
            rng.shuffle(&mut order);
            return order;
        }
        (0..self.config.epoch_utterances).filter_map(|_| self.draw(rng)).collect()
    }

    /// The loss weight of training position `k`.
    pub fn weight(&self, k: usize) -> f32 {
        self.weights.get(k).copied().unwrap_or(1.0)
    }

    fn draw(&self, rng: &mut Rng) -> Option<usize> {
        let x = rng.unit();
        let corpus = self.cumulative.iter().position(|&c| x < c).unwrap_or(self.pools.len().checked_sub(1)?);
        let pool = &self.pools[corpus];
        if self.config.speaker_balance {
            let speaker = &pool.speakers[rng.below(pool.speakers.len())];
            speaker.get(rng.below(speaker.len())).copied()
        } else {
            pool.speakers.iter().flatten().nth(rng.below(pool.size)).copied()
        }
    }
}

/// The chance of each position of `pool` being drawn, given its corpus is drawn.
fn draw_chances(pool: &CorpusPool, speaker_balance: bool) -> Vec<(usize, f64)> {
    let mut out = Vec::with_capacity(pool.size);
    for speaker in &pool.speakers {
        for &k in speaker {
            let chance = if speaker_balance {
                1.0 / (pool.speakers.len() * speaker.len()) as f64
            } else {
                1.0 / pool.size as f64
            };
            out.push((k, chance));
        }
    }
    out
}

/// Weights of one corpus's positions: each of its classes gets the same expected weight
/// per draw; the expected weight per draw is 1.
fn balance_classes(chances: &[(usize, f64)], train: &[&Utterance], weights: &mut [f32]) {
    let mut class_chance = [0.0f64; Emotion::COUNT];
    for &(k, chance) in chances {
        class_chance[train[k].label.index()] += chance;
    }
    let present = class_chance.iter().filter(|&&c| c > 0.0).count().max(1) as f64;
    for &(k, _) in chances {
        let c = class_chance[train[k].label.index()];
        weights[k] = (1.0 / (present * c)) as f32;
    }
}

/// Inverse class frequency over all of `train`, scaled to mean 1 per utterance.
fn global_class_weights(train: &[&Utterance]) -> Vec<f32> {
    let mut counts = [0usize; Emotion::COUNT];
    for u in train {
        counts[u.label.index()] += 1;
    }
    let present = counts.iter().filter(|&&c| c > 0).count().max(1);
    train.iter().map(|u| train.len() as f32 / (present as f32 * counts[u.label.index()] as f32)).collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::data::CorpusKind;

    fn utterances(corpus: &str, speakers: usize, per_speaker: usize, labels: &[Emotion]) -> Vec<Utterance> {
        let mut out = Vec::new();
        for s in 0..speakers {
            for i in 0..per_speaker {
                let label = labels[i % labels.len()];
                out.push(Utterance {
                    path: PathBuf::from(format!("{corpus}/{s}/{i}.wav")),
                    label,
                    source_label: label.name().to_owned(),
                    speaker: format!("{corpus}:{s}"),
                    corpus: CorpusKind::Manifest,
                });
            }
        }
        out
    }

    /// With `corpus_balance = 0` a corpus ten times bigger is drawn as often as the small
    /// one; with 1 in proportion to its size.
    #[test]
    fn corpus_shares_follow_the_exponent() {
        let mut all = utterances("big", 10, 100, &[Emotion::Sad]);
        all.extend(utterances("small", 2, 50, &[Emotion::Sad]));
        let train: Vec<&Utterance> = all.iter().collect();
        for (balance, expected_small) in [(0.0, 0.5), (1.0, 100.0 / 1100.0)] {
            let config =
                SamplingConfig { epoch_utterances: 20_000, corpus_balance: balance, speaker_balance: true };
            let epoch = EpochSampler::new(&config, &train, false).epoch(&mut Rng::new(1));
            let small = epoch.iter().filter(|&&k| train[k].corpus_name() == "small").count();
            let share = small as f64 / epoch.len() as f64;
            assert!((share - expected_small).abs() < 0.02, "balance {balance}: {share}");
        }
    }

    /// Speaker balance: a speaker with 10x the files is drawn as often as the others.
    #[test]
    fn speakers_are_drawn_uniformly_within_a_corpus() {
        let mut all = utterances("c", 1, 200, &[Emotion::Sad]);
        all.extend(utterances("d", 1, 20, &[Emotion::Sad]).into_iter().map(|mut u| {
            u.speaker = "c:other".into();
            u
        }));
        let train: Vec<&Utterance> = all.iter().collect();
        let config = SamplingConfig { epoch_utterances: 10_000, corpus_balance: 1.0, speaker_balance: true };
        let epoch = EpochSampler::new(&config, &train, false).epoch(&mut Rng::new(2));
        let other = epoch.iter().filter(|&&k| train[k].speaker == "c:other").count() as f64;
        assert!((other / epoch.len() as f64 - 0.5).abs() < 0.02);
    }

    /// Within a corpus each class carries the same expected weight per draw, and the
    /// expected weight per draw is 1.
    #[test]
    fn class_weights_balance_each_corpus() {
        let all = utterances("c", 3, 12, &[Emotion::Sad, Emotion::Sad, Emotion::Angry]);
        let train: Vec<&Utterance> = all.iter().collect();
        let config = SamplingConfig { epoch_utterances: 100, ..SamplingConfig::default() };
        let sampler = EpochSampler::new(&config, &train, true);
        let sad = train.iter().position(|u| u.label == Emotion::Sad).unwrap();
        let angry = train.iter().position(|u| u.label == Emotion::Angry).unwrap();
        // 2/3 of draws are sad, 1/3 angry: weights 0.75 and 1.5.
        assert!((sampler.weight(sad) - 0.75).abs() < 1e-6 && (sampler.weight(angry) - 1.5).abs() < 1e-6);
    }

    /// Without a per-epoch draw, the epoch is every position once and the weights are the
    /// inverse class frequencies over all training utterances (the one-corpus behaviour).
    #[test]
    fn one_pass_epoch_keeps_global_class_weights() {
        let all = utterances("c", 2, 6, &[Emotion::Sad, Emotion::Sad, Emotion::Angry]);
        let train: Vec<&Utterance> = all.iter().collect();
        let sampler = EpochSampler::new(&SamplingConfig::default(), &train, true);
        let mut epoch = sampler.epoch(&mut Rng::new(3));
        epoch.sort_unstable();
        assert_eq!(epoch, (0..12).collect::<Vec<_>>());
        let angry = train.iter().position(|u| u.label == Emotion::Angry).unwrap();
        assert!((sampler.weight(angry) - 1.5).abs() < 1e-6);
    }
}
