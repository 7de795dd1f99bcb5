//! The label map: corpus label names (`calm`, `ps`, `boredom`...) -> one of the seven classes,
//! or deliberately dropped.
//!
//! Loaders emit each corpus's own label as a lower-case English name (`calm`, `fear`,
//! `ps`, `boredom`); the map decides what it becomes. The default folds RAVDESS `calm`
//! into `neutral` and maps the usual spellings of the seven classes; anything it does not
//! know (EmoDB `boredom`, say) is an unknown label, reported and skipped by the loader.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::Emotion;

/// What a corpus label becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelTarget {
    /// Train and evaluate on it as this class.
    Class(Emotion),
    /// Drop utterances with this label on purpose (counted, not an error).
    Skip,
}

impl fmt::Display for LabelTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelTarget::Class(emotion) => write!(f, "{emotion}"),
            LabelTarget::Skip => f.write_str("skip"),
        }
    }
}

/// A label map entry that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelMapError {
    /// The right-hand side is not a class name nor `skip`: fix the mapping.
    #[error("label map: '{label}' -> '{target}': target must be one of the seven classes or 'skip'")]
    BadTarget { label: String, target: String },
    /// A `--label` flag without `=`: write it as `from=to`.
    #[error("label map: '{0}' is not of the form from=to (e.g. calm=neutral)")]
    BadPair(String),
}

/// Corpus label -> class, serialised as a table of strings (`calm = "neutral"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, String>", into = "BTreeMap<String, String>")]
pub struct LabelMap {
    entries: BTreeMap<String, LabelTarget>,
}

/// Spellings of the seven classes (and the corpora's own names) that map by default.
const DEFAULT_ALIASES: &[(&str, Emotion)] = &[
    ("calm", Emotion::Neutral),
    ("neutral", Emotion::Neutral),
    ("happy", Emotion::Happy),
    ("happiness", Emotion::Happy),
    ("joy", Emotion::Happy),
    ("sad", Emotion::Sad),
    ("sadness", Emotion::Sad),
    ("angry", Emotion::Angry),
    ("anger", Emotion::Angry),
    ("fearful", Emotion::Fearful),
    ("fear", Emotion::Fearful),
    ("disgust", Emotion::Disgust),
    ("disgusted", Emotion::Disgust),
    ("surprised", Emotion::Surprised),
    ("surprise", Emotion::Surprised),
    ("ps", Emotion::Surprised),
    ("pleasant_surprise", Emotion::Surprised),
    ("pleasant surprise", Emotion::Surprised),
];

impl Default for LabelMap {
    /// The seven classes under their usual spellings, RAVDESS `calm` -> `neutral`,
    /// TESS `fear` -> `fearful` and `ps` -> `surprised`.
    fn default() -> Self {
        let entries = DEFAULT_ALIASES
            .iter()
            .map(|&(name, class)| (name.to_owned(), LabelTarget::Class(class)))
            .collect();
        Self { entries }
    }
}

impl LabelMap {
    /// What `label` (any case, surrounding spaces ignored) maps to; `None` when unknown.
    pub fn resolve(&self, label: &str) -> Option<LabelTarget> {
        self.entries.get(&normalise(label)).copied()
    }

    /// Sets or overrides one entry, e.g. `calm` -> `skip`.
    pub fn set(&mut self, label: &str, target: LabelTarget) {
        self.entries.insert(normalise(label), target);
    }

    /// Applies overrides given as `from=to` strings (the CLI's `--label calm=skip`).
    pub fn apply_overrides<S: AsRef<str>>(&mut self, pairs: &[S]) -> Result<(), LabelMapError> {
        for pair in pairs {
            let pair = pair.as_ref();
            let (from, to) = pair.split_once('=').ok_or_else(|| LabelMapError::BadPair(pair.to_owned()))?;
            let target = parse_target(from, to)?;
            self.set(from, target);
        }
        Ok(())
    }

    /// Entries in name order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, LabelTarget)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

fn normalise(label: &str) -> String {
    label.trim().to_ascii_lowercase()
}

fn parse_target(label: &str, target: &str) -> Result<LabelTarget, LabelMapError> {
    if target.trim().eq_ignore_ascii_case("skip") {
        return Ok(LabelTarget::Skip);
    }
    target
        .parse::<Emotion>()
        .map(LabelTarget::Class)
        .map_err(|_| LabelMapError::BadTarget { label: label.to_owned(), target: target.to_owned() })
}

impl TryFrom<BTreeMap<String, String>> for LabelMap {
    type Error = LabelMapError;

    fn try_from(table: BTreeMap<String, String>) -> Result<Self, Self::Error> {
        let mut map = LabelMap { entries: BTreeMap::new() };
        for (label, target) in &table {
            map.set(label, parse_target(label, target)?);
        }
        Ok(map)
    }
}

impl From<LabelMap> for BTreeMap<String, String> {
    fn from(map: LabelMap) -> Self {
        map.entries.into_iter().map(|(k, v)| (k, v.to_string())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_folds_calm_into_neutral_and_knows_corpus_spellings() {
        let map = LabelMap::default();
        assert_eq!(map.resolve("calm"), Some(LabelTarget::Class(Emotion::Neutral)));
        assert_eq!(map.resolve(" PS "), Some(LabelTarget::Class(Emotion::Surprised)));
        assert_eq!(map.resolve("fear"), Some(LabelTarget::Class(Emotion::Fearful)));
        assert_eq!(map.resolve("boredom"), None);
        for e in Emotion::ALL {
            assert_eq!(map.resolve(e.name()), Some(LabelTarget::Class(e)));
        }
    }

    #[test]
    fn overrides_change_and_skip_and_reject_bad_targets() {
        let mut map = LabelMap::default();
        map.apply_overrides(&["calm=skip", "boredom=neutral"]).unwrap();
        assert_eq!(map.resolve("calm"), Some(LabelTarget::Skip));
        assert_eq!(map.resolve("boredom"), Some(LabelTarget::Class(Emotion::Neutral)));
        assert!(matches!(map.apply_overrides(&["calm"]), Err(LabelMapError::BadPair(_))));
        assert!(matches!(map.apply_overrides(&["calm=relaxed"]), Err(LabelMapError::BadTarget { .. })));
    }

    #[test]
    fn round_trips_through_toml() {
        let mut map = LabelMap::default();
        map.set("calm", LabelTarget::Skip);
        let text = toml::to_string(&map).unwrap();
        assert!(text.contains("calm = \"skip\""), "{text}");
        let back: LabelMap = toml::from_str(&text).unwrap();
        assert_eq!(back, map);
    }
}
