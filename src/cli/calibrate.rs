//! `emotrace calibrate`: a calibration file from recordings of a calm reading of one voice
//! (for a speaker-normalised model; see `model::calibration`). Then `--calibration FILE`
//! on `monitor` and `predict` reads that voice against its calm habit from the first
//! second, and a session that stays in one emotion no longer drifts to the middle.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::eval::CorpusReading;
use super::eval_sessions::ShiftData;
use super::resolve_model;
use crate::audio::decode::load_mono_16k;
use crate::data::CalibrationShift;
use crate::data::trim::trim_range;
use crate::engine::VadConfig;
use crate::features::extract;
use crate::model::{Calibration, ComputeDevice, DeviceChoice, EmotionModel, ModelCard};

/// Below this much speech the reading reads worse (TESS left out: 51 % UA from 10 s,
/// 55 % from 40 s; any-voice.md, amendment 33); said, not refused.
const SHORT_READING_S: f64 = 20.0;

/// Flags of `emotrace calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Recordings of the voice reading in its everyday, neutral tone (WAV, FLAC, MP3...);
    /// 30-60 s of speech in all.
    #[arg(value_name = "AUDIO", required_unless_present = "learn_shift", num_args = 1..)]
    pub reading: Vec<PathBuf>,
    /// The calibration file to write (keeps statistics only, never audio).
    #[arg(long, value_name = "FILE", required_unless_present = "learn_shift")]
    pub out: Option<PathBuf>,
    /// Model card, weights or stem (default: the default model); must normalise by speaker.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Instead of a reading: learn the model's calibration shift from its training
    /// speakers among these corpora and write it into its card (for cards trained before
    /// `train` learnt it itself).
    #[arg(long, value_name = "DIR|CSV", num_args = 1.., conflicts_with = "reading")]
    pub learn_shift: Vec<PathBuf>,
    #[command(flatten)]
    pub corpora: CorpusReading,
}

/// Runs `emotrace calibrate`.
pub fn run(out: &mut impl Write, args: &CalibrateArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let device = ComputeDevice::resolve(device)?;
    let model_path = resolve_model(args.model.as_deref())?;
    let model = EmotionModel::load(&model_path, device)
        .with_context(|| format!("loading model {}", model_path.display()))?;
    if !args.learn_shift.is_empty() {
        let shift = ShiftData { data: &args.learn_shift, reading: &args.corpora }.shift(&model)?;
        write_shift(model.path(), &shift)?;
        writeln!(out, "calibration shift of {} written into {}", model.card().name, model.path().display())?;
        return Ok(());
    }
    let Some(out_path) = &args.out else { anyhow::bail!("--out FILE is needed for the calibration") };
    let config = model.feature_config();
    let mut recordings = Vec::with_capacity(args.reading.len());
    let mut speech_samples = 0usize;
    // The live speech gate's default threshold: a file never louder is no speech (a muted input).
    let quiet_dbfs = VadConfig::default().threshold_dbfs;
    for path in &args.reading {
        let samples = load_mono_16k(path)?;
        let speech = &samples[trim_range(&samples, config.sample_rate_hz, &model.card().preprocess)];
        if loudest_dbfs(speech) < quiet_dbfs {
            writeln!(out, "skipped {}: no speech (never louder than {quiet_dbfs} dBFS)", path.display())?;
            continue;
        }
        speech_samples += speech.len();
        recordings.push(extract(config, speech).with_context(|| format!("{}: features", path.display()))?);
    }
    let matrices: Vec<&[f32]> = recordings.iter().map(|r| r.features.as_slice()).collect();
    let speech_s = speech_samples as f64 / f64::from(config.sample_rate_hz);
    let calibration = Calibration::from_features(&model, &matrices, speech_s)?;
    calibration.save(out_path)?;
    writeln!(
        out,
        "calibration for {} from {speech_s:.1} s of speech in {} file(s): {}",
        calibration.model_name,
        recordings.len(),
        out_path.display()
    )?;
    if speech_s < SHORT_READING_S {
        writeln!(
            out,
            "a short reading: 30 s or more of speech in the voice's everyday tone reads it better"
        )?;
    }
    if model.card().normalisation.calibration_shift.is_none() {
        writeln!(out, "note: the model's card has no calibration shift; the reading is used as it is")?;
    }
    Ok(())
}

/// The level of the loudest 25 ms of `samples` (16 kHz), in dB full scale (minus
/// infinity for nothing or digital silence).
fn loudest_dbfs(samples: &[f32]) -> f32 {
    samples
        .chunks(400)
        .map(|c| c.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / c.len() as f64)
        .fold(0.0, f64::max)
        .log10() as f32
        * 10.0
}

/// Sets `normalisation.calibration_shift` in the card at `card_path`; every other field
/// is written back as it was (the weights and their sha256 are untouched).
fn write_shift(card_path: &Path, shift: &CalibrationShift) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(card_path).with_context(|| format!("reading {}", card_path.display()))?;
    let mut card = ModelCard::parse(&text, card_path)?;
    card.normalisation.calibration_shift = Some(shift.clone());
    let ending = if text.ends_with('\n') { "\n" } else { "" };
    std::fs::write(card_path, serde_json::to_string_pretty(&card)? + ending)
        .with_context(|| format!("writing {}", card_path.display()))
}
