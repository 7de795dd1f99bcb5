//! `emotrace predict FILE|DIR`: the emotion of each recording with all probabilities, and
//! with `--timeline` the probabilities every 0.5 s through it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{OutputFormat, resolve_model};
use crate::audio::decode::{AudioFileReader, load_mono_16k};
use crate::data::corpus::audio_files;
use crate::model::timeline::{FilePrediction, TimelinePoint, predict_samples, timeline};
use crate::model::{ComputeDevice, DeviceChoice, Emotion, EmotionModel};

/// Flags of `emotrace predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// An audio file (wav, flac, mp3, ogg) or a folder searched recursively for them.
    #[arg(value_name = "FILE|DIR")]
    pub input: PathBuf,
    /// Model card, weights or stem (default: the default model).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Also print the probabilities every `--interval` seconds through each file.
    #[arg(long)]
    pub timeline: bool,
    /// Spacing of timeline points.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5)]
    pub interval: f64,
}

/// One file's result.
#[derive(Debug, serde::Serialize)]
struct FileResult {
    file: String,
    #[serde(flatten)]
    prediction: FilePrediction,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<Vec<TimelinePoint>>,
}

/// Runs `emotrace predict`.
pub fn run(out: &mut impl Write, args: &PredictArgs, device: DeviceChoice) -> anyhow::Result<()> {
    if !(args.interval > 0.0 && args.interval.is_finite()) {
        anyhow::bail!("--interval {}: must be a positive number of seconds", args.interval);
    }
    let files = if args.input.is_dir() {
        audio_files(&args.input)?
    } else if args.input.exists() {
        vec![args.input.clone()]
    } else {
        anyhow::bail!("{}: no such file or folder", args.input.display());
    };
    if files.is_empty() {
        anyhow::bail!("{}: no audio files (wav, flac, mp3, ogg) found", args.input.display());
    }
    let device = ComputeDevice::resolve(device)?;
    // NOTE: one libtorch thread: a single utterance's small matrices gain nothing from more.
    tch::set_num_threads(1);
    let model_path = resolve_model(args.model.as_deref())?;
    let model = EmotionModel::load(&model_path, device)
        .with_context(|| format!("loading model {}", model_path.display()))?;
    let mut results = Vec::new();
    let mut failed = 0;
    for file in &files {
        match predict_file(&model, file, args.timeline.then_some(args.interval)) {
            Ok(r) => results.push(r),
            Err(e) if files.len() > 1 => {
                eprintln!("emotrace: {}", super::one_line(&e));
                failed += 1;
            }
            Err(e) => return Err(e),
        }
    }
    match args.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&results)?)?,
        OutputFormat::Csv => write_csv(out, &results, args.timeline)?,
        OutputFormat::Table => write_table(out, &results)?,
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} files could not be scored (reasons above)", files.len());
    }
    Ok(())
}

/// Longest file `predict` scores, in seconds. It holds the whole signal, its features
/// and the network's activations for every frame at once (several GB for an hour);
/// longer recordings are for `monitor --replay`, which streams.
pub const MAX_PREDICT_S: f64 = 1_200.0;

fn predict_file(model: &EmotionModel, file: &Path, interval: Option<f64>) -> anyhow::Result<FileResult> {
    // The header's stated length refuses a long file before anything is decoded; the
    // decoded length catches files that state none.
    let reader = AudioFileReader::open(file)?;
    let stated_s = reader.total_frames_hint().map(|n| n as f64 / f64::from(reader.sample_rate_hz()));
    drop(reader);
    let too_long = |s: f64| {
        anyhow::anyhow!(
            "{}: {:.1} min is longer than predict scores ({:.0} min); for long recordings use \
             `emotrace monitor --headless --replay FILE --fast`, which streams",
            file.display(),
            s / 60.0,
            MAX_PREDICT_S / 60.0
        )
    };
    if let Some(s) = stated_s.filter(|&s| s > MAX_PREDICT_S) {
        return Err(too_long(s));
    }
    let samples = load_mono_16k(file)?;
    let decoded_s = samples.len() as f64 / 16_000.0;
    if decoded_s > MAX_PREDICT_S {
        return Err(too_long(decoded_s));
    }
    let prediction = predict_samples(model, &samples).with_context(|| file.display().to_string())?;
    let timeline = match interval {
        Some(i) => Some(timeline(model, &samples, i).with_context(|| file.display().to_string())?),
        None => None,
    };
    Ok(FileResult { file: file.display().to_string(), prediction, timeline })
}

fn class_names() -> String {
    Emotion::ALL.iter().map(|e| e.name()).collect::<Vec<_>>().join(",")
}

fn write_csv(out: &mut impl Write, results: &[FileResult], with_timeline: bool) -> std::io::Result<()> {
    let probs = |p: &[f32]| p.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(",");
    if with_timeline {
        writeln!(out, "file,time_s,{}", class_names())?;
        for r in results {
            for point in r.timeline.iter().flatten() {
                writeln!(out, "{},{:.2},{}", csv_field(&r.file), point.time_s, probs(&point.probabilities))?;
            }
        }
    } else {
        writeln!(out, "file,emotion,duration_s,{}", class_names())?;
        for r in results {
            let p = &r.prediction;
            writeln!(
                out,
                "{},{},{:.2},{}",
                csv_field(&r.file),
                p.emotion,
                p.duration_s,
                probs(&p.probabilities)
            )?;
        }
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn write_table(out: &mut impl Write, results: &[FileResult]) -> std::io::Result<()> {
    let header: String = Emotion::ALL.iter().map(|e| format!("{:>10}", e.name())).collect();
    writeln!(out, "{:<10} {:>6} {header}  file", "emotion", "prob")?;
    for r in results {
        let p = &r.prediction;
        let cells: String = p.probabilities.iter().map(|x| format!("{:>9.1}%", 100.0 * x)).collect();
        writeln!(
            out,
            "{:<10} {:>5.1}% {cells}  {}",
            p.emotion.name(),
            100.0 * p.probabilities[p.emotion.index()],
            r.file
        )?;
        if let Some(points) = &r.timeline {
            for point in points {
                let cells: String =
                    point.probabilities.iter().map(|x| format!("{:>9.1}%", 100.0 * x)).collect();
                let top = Emotion::from_index(crate::train::metrics::argmax(&point.probabilities))
                    .unwrap_or(Emotion::Neutral);
                writeln!(out, "  {:>6.2} s {:<9} {cells}", point.time_s, top.name())?;
            }
        }
    }
    Ok(())
}
