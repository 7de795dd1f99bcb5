//! Babble sources: recordings of other training speakers, decoded once, that augmented
//! copies mix in as background chatter.
//!
//! Drawn only from the corpora named in `[augment] babble_from` (RAVDESS by default: it is
//! never the corpus a leave-one-corpus-out run leaves out, so no run hears the voices of
//! its test corpus even as noise), from the training utterances only, one per speaker in
//! turn so the pool holds as many different voices as it can.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::corpus::Utterance;
use super::rng::Rng;
use super::trim::{Preprocess, trim_range};
use crate::audio::decode::load_mono_16k;

/// Decoded recordings of other speakers, for babble noise.
#[derive(Debug, Clone, Default)]
pub struct BabbleSources {
    /// (speaker, trimmed 16 kHz samples).
    sources: Vec<(String, Vec<f32>)>,
    /// A stable name of the pool (the files it holds), for feature-cache keys.
    key: String,
}

impl BabbleSources {
    /// Up to `count` recordings from `corpora`, among the utterances `eligible` marks
    /// (training ones), speakers taken in turn, files chosen with `seed`. Files that
    /// cannot be decoded are passed over.
    pub fn build(
        utterances: &[Utterance],
        eligible: &[bool],
        corpora: &[String],
        count: usize,
        seed: u64,
        preprocess: &Preprocess,
    ) -> Self {
        let mut by_speaker: BTreeMap<&str, Vec<&Utterance>> = BTreeMap::new();
        for (u, _) in utterances
            .iter()
            .zip(eligible)
            .filter(|(u, ok)| **ok && corpora.iter().any(|c| c == u.corpus_name()))
        {
            by_speaker.entry(u.speaker.as_str()).or_default().push(u);
        }
        let mut rng = Rng::new(seed);
        for files in by_speaker.values_mut() {
            rng.shuffle(files);
        }
        let mut chosen: Vec<&Utterance> = Vec::new();
        for round in 0.. {
            let before = chosen.len();
            chosen
                .extend(by_speaker.values().filter_map(|files| files.get(round)).take(count - chosen.len()));
            if chosen.len() == count || chosen.len() == before {
                break;
            }
        }
        let mut hasher = Sha256::new();
        let mut sources = Vec::with_capacity(chosen.len());
        for u in chosen {
            let Ok(samples) = load_mono_16k(&u.path) else { continue };
            let range = trim_range(&samples, 16_000, preprocess);
            hasher.update(u.path.to_string_lossy().as_bytes());
            sources.push((u.speaker.clone(), samples[range].to_vec()));
        }
        let key = hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
        Self { sources, key }
    }

    /// Number of recordings in the pool.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// True when the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// A stable name of the pool, for cache keys.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// `talkers` recordings of speakers other than `speaker`, chosen with `rng` (fewer
    /// when the pool has fewer other speakers' recordings).
    pub fn pick(&self, talkers: usize, speaker: &str, rng: &mut Rng) -> Vec<&[f32]> {
        let others: Vec<&[f32]> =
            self.sources.iter().filter(|(s, _)| s != speaker).map(|(_, x)| x.as_slice()).collect();
        let mut order: Vec<usize> = (0..others.len()).collect();
        rng.shuffle(&mut order);
        order.into_iter().take(talkers).map(|i| others[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Never the listener's own voice, and no more talkers than asked.
    #[test]
    fn picks_other_speakers_only() {
        let pool = BabbleSources {
            sources: vec![
                ("a:1".into(), vec![0.1; 10]),
                ("a:2".into(), vec![0.2; 10]),
                ("a:3".into(), vec![0.3; 10]),
            ],
            key: "k".into(),
        };
        let mut rng = Rng::new(1);
        for _ in 0..20 {
            let picked = pool.pick(5, "a:2", &mut rng);
            assert_eq!(picked.len(), 2);
            assert!(picked.iter().all(|x| x[0] != 0.2));
        }
    }
}
