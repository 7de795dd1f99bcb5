//! The seven emotion classes, in the order the model's outputs use.

use std::fmt;
use std::str::FromStr;

/// One of the seven classes. The discriminant is the model's output index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emotion {
    Neutral = 0,
    Happy = 1,
    Sad = 2,
    Angry = 3,
    Fearful = 4,
    Disgust = 5,
    Surprised = 6,
}

impl Emotion {
    /// Number of classes.
    pub const COUNT: usize = 7;

    /// All classes in output order.
    pub const ALL: [Emotion; Self::COUNT] = [
        Emotion::Neutral,
        Emotion::Happy,
        Emotion::Sad,
        Emotion::Angry,
        Emotion::Fearful,
        Emotion::Disgust,
        Emotion::Surprised,
    ];

    /// The model output index of this class.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class at a model output index, `None` past the last.
    pub fn from_index(index: usize) -> Option<Self> {
        Self::ALL.get(index).copied()
    }

    /// Lower-case name, as in model cards, CSV and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Emotion::Neutral => "neutral",
            Emotion::Happy => "happy",
            Emotion::Sad => "sad",
            Emotion::Angry => "angry",
            Emotion::Fearful => "fearful",
            Emotion::Disgust => "disgust",
            Emotion::Surprised => "surprised",
        }
    }
}

impl fmt::Display for Emotion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A label that is not one of the seven class names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown emotion label '{0}' (expected one of neutral, happy, sad, angry, fearful, disgust, surprised)"
)]
pub struct UnknownEmotion(pub String);

impl FromStr for Emotion {
    type Err = UnknownEmotion;

    /// Parses a class name, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|e| e.name() == lower).ok_or(UnknownEmotion(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_name_round_trip() {
        for (i, e) in Emotion::ALL.into_iter().enumerate() {
            assert_eq!(e.index(), i);
            assert_eq!(Emotion::from_index(i), Some(e));
            assert_eq!(e.name().parse::<Emotion>(), Ok(e));
        }
        assert_eq!(Emotion::from_index(7), None);
        assert_eq!("Angry".parse::<Emotion>(), Ok(Emotion::Angry));
        assert!("calm".parse::<Emotion>().is_err());
    }
}
