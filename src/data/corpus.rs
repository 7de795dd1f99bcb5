//! Loading a corpus folder or CSV manifest into labelled utterances, with every file that
//! cannot be used reported (file and reason), skipped and counted.
//!
//! Layout detection: a `.csv` path is a manifest; a folder whose first-level sub-folders are
//! mostly label names (`angry/`, `calm/`...) is the folder-per-emotion layout; otherwise the
//! named corpus (RAVDESS, TESS, SAVEE, CREMA-D, EmoDB) whose file-name convention fits the
//! most files. No audio is read here: unreadable audio is found (and added to the same
//! report) when features are extracted.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::labels::{LabelMap, LabelTarget};
use super::layouts::CorpusKind;
use super::manifest;
use crate::model::Emotion;

/// File extensions read as audio (case-insensitive).
pub const AUDIO_EXTENSIONS: [&str; 4] = ["wav", "flac", "mp3", "ogg"];

/// One labelled recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    /// The audio file.
    pub path: PathBuf,
    /// The class it trains and is scored as.
    pub label: Emotion,
    /// The corpus's own label before mapping (`calm`, `ps`).
    pub source_label: String,
    /// `corpus:id`; unique across corpora. Splits never put one speaker in two parts.
    pub speaker: String,
    /// Which layout it came from.
    pub corpus: CorpusKind,
}

impl Utterance {
    /// The corpus it belongs to, as named in speaker ids and reports: the named layouts'
    /// names (`ravdess`, `tess`), a manifest's file stem (`ased`, `nemo`), a label-folder
    /// corpus's folder name. Speakers are `corpus:id`, so this is the part before the colon.
    pub fn corpus_name(&self) -> &str {
        self.speaker.split_once(':').map_or(self.speaker.as_str(), |(corpus, _)| corpus)
    }
}

/// Why a file was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The label is not in the label map.
    UnknownLabel(String),
    /// The label map says `skip` for this label.
    LabelSkipped(String),
    /// The file name does not follow the corpus's convention.
    BadName(String),
    /// A manifest names a file that does not exist.
    Missing,
    /// The audio could not be decoded or has no usable frames.
    Unreadable(String),
}

impl SkipReason {
    /// A short category for the end-of-run count.
    pub fn category(&self) -> &'static str {
        match self {
            SkipReason::UnknownLabel(_) => "unknown label",
            SkipReason::LabelSkipped(_) => "label mapped to skip",
            SkipReason::BadName(_) => "name not in corpus layout",
            SkipReason::Missing => "missing file",
            SkipReason::Unreadable(_) => "unreadable audio",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::UnknownLabel(l) => write!(f, "unknown label '{l}' (add it with --label {l}=CLASS)"),
            SkipReason::LabelSkipped(l) => write!(f, "label '{l}' is mapped to skip"),
            SkipReason::BadName(why) => f.write_str(why),
            SkipReason::Missing => f.write_str("file not found"),
            SkipReason::Unreadable(why) => write!(f, "unreadable audio: {why}"),
        }
    }
}

/// A file that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file (as named by the folder walk or the manifest).
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// Utterances from one or more corpora, plus what was skipped and any notes.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Usable utterances, in a stable (sorted path) order per corpus.
    pub utterances: Vec<Utterance>,
    /// Files left out, with reasons.
    pub skipped: Vec<Skipped>,
    /// Warnings about the data as a whole (e.g. unknown speakers).
    pub notes: Vec<String>,
}

/// Why a corpus could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The folder or manifest does not exist: check the `--data` path.
    #[error("{0}: no such file or folder")]
    NotFound(PathBuf),
    /// Reading the folder or manifest failed: check permissions.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The folder has no audio files (wav, flac, mp3, ogg) in it or below it.
    #[error("{0}: no audio files (wav, flac, mp3, ogg) found")]
    NoAudio(PathBuf),
    /// A manifest line cannot be parsed: fix that line (`path,label[,speaker]`).
    #[error("{path} line {line}: {reason}")]
    Manifest { path: PathBuf, line: usize, reason: String },
}

impl Dataset {
    /// Adds another dataset's utterances, skips and notes.
    pub fn extend(&mut self, other: Dataset) {
        self.utterances.extend(other.utterances);
        self.skipped.extend(other.skipped);
        self.notes.extend(other.notes);
    }

    /// Maps `source_label` through `labels`; pushes the utterance or a skip.
    pub fn push_labelled(
        &mut self,
        labels: &LabelMap,
        path: PathBuf,
        source_label: &str,
        speaker: String,
        corpus: CorpusKind,
    ) {
        match labels.resolve(source_label) {
            Some(LabelTarget::Class(label)) => self.utterances.push(Utterance {
                path,
                label,
                source_label: source_label.to_owned(),
                speaker,
                corpus,
            }),
            Some(LabelTarget::Skip) => {
                self.skipped.push(Skipped { path, reason: SkipReason::LabelSkipped(source_label.to_owned()) })
            }
            None => {
                self.skipped.push(Skipped { path, reason: SkipReason::UnknownLabel(source_label.to_owned()) })
            }
        }
    }

    /// Skip counts by category, e.g. `{"unknown label": 3}`; deliberate skips included.
    pub fn skip_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for s in &self.skipped {
            *counts.entry(s.reason.category()).or_insert(0) += 1;
        }
        counts
    }

    /// One line: `1200 utterances (ravdess 1200) from 20 speakers; skipped 3 (unknown label 3)`.
    pub fn summary(&self) -> String {
        let mut per_corpus: BTreeMap<&str, usize> = BTreeMap::new();
        for u in &self.utterances {
            *per_corpus.entry(u.corpus_name()).or_insert(0) += 1;
        }
        let corpora: Vec<String> = per_corpus.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let speakers: std::collections::BTreeSet<&str> =
            self.utterances.iter().map(|u| u.speaker.as_str()).collect();
        let mut line = format!(
            "{} utterances ({}) from {} speakers",
            self.utterances.len(),
            corpora.join(", "),
            speakers.len()
        );
        if !self.skipped.is_empty() {
            let counts: Vec<String> = self.skip_counts().iter().map(|(c, n)| format!("{c} {n}")).collect();
            line.push_str(&format!("; skipped {} ({})", self.skipped.len(), counts.join(", ")));
        }
        line
    }
}

/// Loads one `--data` argument: a corpus folder (layout detected) or a CSV manifest.
pub fn load_corpus(path: &Path, labels: &LabelMap) -> Result<Dataset, DataError> {
    if !path.exists() {
        return Err(DataError::NotFound(path.to_owned()));
    }
    if path.is_file() {
        return manifest::load_manifest(path, labels);
    }
    let files = audio_files(path)?;
    if files.is_empty() {
        return Err(DataError::NoAudio(path.to_owned()));
    }
    if looks_like_label_folders(path, labels)? {
        return Ok(manifest::load_label_folders(path, &files, labels));
    }
    let kind = detect_named(&files);
    let mut dataset = Dataset::default();
    for file in files {
        match kind.parse(&file) {
            Ok(parsed) => dataset.push_labelled(labels, file, &parsed.label, parsed.speaker, kind),
            Err(why) => dataset.skipped.push(Skipped { path: file, reason: SkipReason::BadName(why) }),
        }
    }
    Ok(dataset)
}

/// Loads and concatenates several `--data` arguments.
pub fn load_all<P: AsRef<Path>>(paths: &[P], labels: &LabelMap) -> Result<Dataset, DataError> {
    let mut all = Dataset::default();
    for path in paths {
        all.extend(load_corpus(path.as_ref(), labels)?);
    }
    Ok(all)
}

/// The named corpus whose convention fits the most files (RAVDESS on a tie or none).
fn detect_named(files: &[PathBuf]) -> CorpusKind {
    let mut best = (CorpusKind::Ravdess, 0);
    for kind in CorpusKind::NAMED {
        let fits = files.iter().filter(|f| kind.parse(f).is_ok()).count();
        if fits > best.1 {
            best = (kind, fits);
        }
    }
    best.0
}

/// True when most first-level sub-folders are names the label map knows.
fn looks_like_label_folders(dir: &Path, labels: &LabelMap) -> Result<bool, DataError> {
    let mut known = 0;
    let mut total = 0;
    for entry in read_dir_sorted(dir)? {
        if entry.is_dir() {
            total += 1;
            let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
            known += usize::from(labels.resolve(name).is_some());
        }
    }
    Ok(total > 0 && known * 2 > total)
}

/// Audio files under `dir`, recursively, in sorted order; hidden entries ignored.
pub fn audio_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        let mut subfolders = Vec::new();
        for path in read_dir_sorted(&folder)? {
            if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
                continue;
            }
            if path.is_dir() {
                subfolders.push(path);
            } else if is_audio(&path) {
                out.push(path);
            }
        }
        stack.extend(subfolders.into_iter().rev());
    }
    out.sort();
    Ok(out)
}

/// True for the audio extensions emotrace decodes.
pub fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(e)))
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let io = |source| DataError::Io { path: dir.to_owned(), source };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        paths.push(entry.map_err(io)?.path());
    }
    paths.sort();
    Ok(paths)
}
