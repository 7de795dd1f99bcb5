//! The scoreboard's recording-conditions rows: RAVDESS held-out speakers as recorded and
//! through each condition of [`ROBUSTNESS_SUITE`], built from the files on the fly (seeded:
//! every file gets its own noise and room from the seed and its content).

use super::scoreboard::WARMUP_FRAMES;
use crate::data::conditions::{Condition, NoiseKind};
use crate::data::prepare::SeededCondition;
use crate::data::{Dataset, Utterance};
use crate::model::EmotionModel;
use crate::train::TrainConfig;
use crate::train::dataset::PreparedData;
use crate::train::evaluate::{Sessions, evaluate};
use crate::train::scoreboard::{ScoreRow, Scoreboard, Section};

/// The conditions scored: issue 15's six (a quiet and a loud microphone, limited so
/// nothing clips, a telephone line, a low cut, a consulting room, noise 5 dB below the
/// speech), then each file normalised to the same peak, as an automatic gain control or
/// a corpus normalised file by file leaves it (models/any-voice.md, amendment 23).
pub const ROBUSTNESS_SUITE: [(&str, Condition); 7] = [
    ("gain -20 dB", Condition::GainDb(-20.0)),
    ("gain +10 dB, limited", Condition::GainDb(10.0)),
    ("telephone 300-3400 Hz", Condition::Telephone),
    ("low cut 300 Hz", Condition::LowCutHz(300.0)),
    ("reverb RT60 0.5 s, DRR 3 dB", Condition::Reverb { rt60_s: 0.5, drr_db: 3.0 }),
    ("pink noise 5 dB SNR", Condition::Noise { kind: NoiseKind::Pink, snr_db: 5.0 }),
    ("each file peak-normalised to -6 dBFS", Condition::PeakNormaliseDb(-6.0)),
];

/// Adds the clean row and one row per condition for the RAVDESS files at `ravdess`
/// (indices into `data`, prepared with `config`).
pub fn score(
    board: &mut Scoreboard,
    model: &EmotionModel,
    config: &TrainConfig,
    data: &PreparedData,
    ravdess: &[usize],
    seed: u64,
) -> anyhow::Result<()> {
    let name = model.card().name.clone();
    let clean = evaluate(model, &data.clean_items(ravdess), WARMUP_FRAMES, Sessions::PerSpeaker)?;
    board.rows.push(ScoreRow::score(Section::Conditions, "clean", &name, &clean.results));
    let utterances: Vec<Utterance> = ravdess.iter().map(|&i| data.utterances[i].clone()).collect();
    let no_copies = vec![false; utterances.len()];
    for (label, condition) in ROBUSTNESS_SUITE {
        eprintln!("scoring {label}");
        let dataset = Dataset { utterances: utterances.clone(), ..Dataset::default() };
        let seeded = SeededCondition { condition, seed };
        let conditioned = PreparedData::prepare(config, dataset, &no_copies, false, Some(seeded));
        if let Some(s) = conditioned.skipped.first() {
            anyhow::bail!("{label}: {}: {}", s.path.display(), s.reason);
        }
        let all: Vec<usize> = (0..conditioned.utterances.len()).collect();
        let eval = evaluate(model, &conditioned.clean_items(&all), WARMUP_FRAMES, Sessions::PerSpeaker)?;
        board.rows.push(ScoreRow::score(Section::Conditions, label, &name, &eval.results));
    }
    Ok(())
}
