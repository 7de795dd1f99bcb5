//! The scoreboard's session rows: RAVDESS held-out speakers with the statistics a
//! speaker-normalised model is given taken from all of each speaker's files (a session
//! that has heard the speaker a while), from each speaker's files of one emotion (a
//! session that stays in one emotion), and from none (each file a session's first
//! utterance), and from a calibration reading (half of each speaker's neutral files,
//! which that row does not score; moved by the card's calibration shift, if any). A
//! model without speaker normalisation scores the same on the first three.

use super::scoreboard::WARMUP_FRAMES;
use crate::data::{FeatureMatrix, Utterance};
use crate::model::EmotionModel;
use crate::train::calibration::evaluate_with_readings;
use crate::train::dataset::PreparedData;
use crate::train::evaluate::{Sessions, evaluate, one_emotion_sessions};
use crate::train::scoreboard::{ScoreRow, Scoreboard, Section};

/// Adds the three session rows for the RAVDESS files at `ravdess` (indices into `data`).
pub fn score(
    board: &mut Scoreboard,
    model: &EmotionModel,
    data: &PreparedData,
    ravdess: &[usize],
) -> anyhow::Result<()> {
    let name = model.card().name.clone();
    let items = data.clean_items(ravdess);
    let sessions = one_emotion_sessions(items.iter().map(|(u, _)| *u));
    let regrouped: Vec<_> = sessions.iter().zip(&items).map(|(u, (_, m))| (u, *m)).collect();
    let mut add = |label: &str, items: &[(&Utterance, &FeatureMatrix)], sessions| -> anyhow::Result<()> {
        let eval = evaluate(model, items, WARMUP_FRAMES, sessions)?;
        board.rows.push(ScoreRow::score(Section::Sessions, label, &name, &eval.results));
        Ok(())
    };
    add("each speaker's files", &items, Sessions::PerSpeaker)?;
    add("each speaker's files of one emotion", &regrouped, Sessions::PerSpeaker)?;
    add("none (each file a first utterance)", &items, Sessions::PerFile)?;
    if let Some(eval) = evaluate_with_readings(model, &items, WARMUP_FRAMES)? {
        let label = "a calibration reading (its files not scored)";
        board.rows.push(ScoreRow::score(Section::Sessions, label, &name, &eval.results));
    }
    Ok(())
}
