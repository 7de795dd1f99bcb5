//! What the report says about the model a session used: its name, its measured accuracy
//! (from its model card, as `emotrace eval` wrote it) and one plain sentence on what that
//! accuracy means for reading the trace.

use std::path::Path;

use serde_json::Value;

use crate::model::Emotion;

/// The model as the report describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The card's name (or the file's, if the card cannot be read).
    pub name: String,
    /// The model file recorded in the session.
    pub path: String,
    /// Accuracy on held-out speakers (0-1), if the card has it.
    pub accuracy: Option<f64>,
    /// Unweighted average recall (mean of per-class recalls) on held-out speakers.
    pub unweighted_recall: Option<f64>,
    /// Who the held-out speakers were, in words ("RAVDESS actors 17, 18, 19, 20").
    pub tested_on: Option<String>,
}

/// Reads the card at `path` (the session summary's `model`); a missing or unreadable
/// card gives a description without figures.
pub fn model_info(path: &str) -> ModelInfo {
    let name_of_file =
        Path::new(path).file_stem().map_or_else(|| path.to_owned(), |s| s.to_string_lossy().into_owned());
    let card: Option<Value> =
        std::fs::read_to_string(path).ok().and_then(|text| serde_json::from_str(&text).ok());
    let Some(card) = card else {
        return ModelInfo {
            name: name_of_file,
            path: path.to_owned(),
            accuracy: None,
            unweighted_recall: None,
            tested_on: None,
        };
    };
    let metric = |key: &str| card["metrics"][key].as_f64();
    ModelInfo {
        name: card["name"].as_str().map_or(name_of_file, str::to_owned),
        path: path.to_owned(),
        accuracy: metric("test_accuracy"),
        unweighted_recall: metric("test_ua"),
        tested_on: card["training"]["split_description"].as_str().and_then(held_out_speakers),
    }
}

/// "RAVDESS actors 17, 18, 19, 20" from a split description's `test: ravdess:17 ...` part.
fn held_out_speakers(split: &str) -> Option<String> {
    let test = split.split("test:").nth(1)?;
    let test = test.split(';').next().unwrap_or(test);
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for token in test.split_whitespace() {
        let (corpus, speaker) = token.split_once(':')?;
        let corpus = corpus.to_uppercase();
        match groups.iter_mut().find(|(c, _)| *c == corpus) {
            Some((_, speakers)) => speakers.push(speaker.to_owned()),
            None => groups.push((corpus, vec![speaker.to_owned()])),
        }
    }
    if groups.is_empty() {
        return None;
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(corpus, speakers)| {
            let who = if corpus == "RAVDESS" { "actors" } else { "speakers" };
            format!("{corpus} {who} {}", speakers.join(", "))
        })
        .collect();
    Some(parts.join("; "))
}

/// One plain sentence on what the accuracy means (or that it is unknown).
pub fn accuracy_sentence(info: &ModelInfo) -> String {
    let chance = 100.0 / Emotion::COUNT as f64;
    match info.accuracy {
        Some(acc) => {
            let who = info.tested_on.as_deref().map_or(String::new(), |t| format!(" ({t})"));
            format!(
                "On recordings of speakers it had never heard{who}, the model named the right one of {} emotions {:.0} % of the time, against {chance:.0} % by guessing: read the trace as a tendency over minutes, not a verdict on any single moment, and expect it to be less accurate on everyday speech than on the acted speech it was tested on.",
                Emotion::COUNT,
                acc * 100.0
            )
        }
        None => "This model's accuracy was not measured (its card has no test figures): the trace shows what it computed, with no known error rate.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_speakers_in_words() {
        let split = "fixed speaker split; train: ravdess:01 ravdess:02; test: ravdess:17 ravdess:18 tess:OAF";
        assert_eq!(held_out_speakers(split).as_deref(), Some("RAVDESS actors 17, 18; TESS speakers OAF"));
        assert_eq!(held_out_speakers("cv"), None);
    }

    #[test]
    fn sentence_states_accuracy_and_chance() {
        let info = ModelInfo {
            name: "default".into(),
            path: "models/default.json".into(),
            accuracy: Some(0.629),
            unweighted_recall: Some(0.626),
            tested_on: Some("RAVDESS actors 17, 18".into()),
        };
        let s = accuracy_sentence(&info);
        assert!(s.contains("63 %") && s.contains("14 %") && s.contains("RAVDESS actors 17, 18"), "{s}");
        let unknown = ModelInfo { accuracy: None, ..info };
        assert!(accuracy_sentence(&unknown).contains("not measured"));
    }
}
