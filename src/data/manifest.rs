//! The custom layouts: a CSV manifest `path,label[,speaker]`, and one folder per emotion
//! (`DIR/<label>/file` or `DIR/<label>/<speaker>/file`).
//!
//! Manifest paths are relative to the manifest's folder unless absolute; a first line
//! starting with `path,` is a header. Fields may be double-quoted. Without speakers, each
//! file counts as its own speaker (splits are then by file, and a note says so).

use std::path::{Path, PathBuf};

use super::corpus::{DataError, Dataset, SkipReason, Skipped};
use super::labels::LabelMap;
use super::layouts::CorpusKind;

/// Reads a manifest; missing files and unknown labels become skips, bad lines errors.
pub fn load_manifest(path: &Path, labels: &LabelMap) -> Result<Dataset, DataError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| DataError::Io { path: path.to_owned(), source })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let namespace = path.file_stem().and_then(|s| s.to_str()).unwrap_or("manifest").to_owned();
    let mut dataset = Dataset::default();
    let mut unknown_speakers = 0;
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields = split_csv(line).map_err(|reason| DataError::Manifest {
            path: path.to_owned(),
            line: line_no,
            reason,
        })?;
        if index == 0 && fields.first().is_some_and(|f| f.eq_ignore_ascii_case("path")) {
            continue;
        }
        if !(2..=3).contains(&fields.len()) || fields[0].is_empty() || fields[1].is_empty() {
            return Err(DataError::Manifest {
                path: path.to_owned(),
                line: line_no,
                reason: format!("expected path,label[,speaker], found {} field(s)", fields.len()),
            });
        }
        let file = base.join(&fields[0]);
        if !file.is_file() {
            dataset.skipped.push(Skipped { path: file, reason: SkipReason::Missing });
            continue;
        }
        let speaker = match fields.get(2).filter(|s| !s.is_empty()) {
            Some(s) => format!("{namespace}:{s}"),
            None => {
                unknown_speakers += 1;
                format!("{namespace}:file:{}", fields[0])
            }
        };
        dataset.push_labelled(labels, file, &fields[1], speaker, CorpusKind::Manifest);
    }
    if unknown_speakers > 0 {
        dataset.notes.push(format!(
            "{}: {unknown_speakers} line(s) name no speaker; each such file is its own speaker, \
             so splits of them are by file, not speaker-independent",
            path.display()
        ));
    }
    Ok(dataset)
}

/// Builds a dataset from `DIR/<label>/[<speaker>/]file` paths.
pub fn load_label_folders(dir: &Path, files: &[PathBuf], labels: &LabelMap) -> Dataset {
    let namespace = dir.file_name().and_then(|s| s.to_str()).unwrap_or("folders").to_owned();
    let mut dataset = Dataset::default();
    let mut unknown_speakers = 0;
    for file in files {
        let Ok(relative) = file.strip_prefix(dir) else { continue };
        let parts: Vec<String> =
            relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        match parts.as_slice() {
            [label, name] => {
                unknown_speakers += 1;
                let speaker = format!("{namespace}:file:{label}/{name}");
                dataset.push_labelled(labels, file.clone(), label, speaker, CorpusKind::Folders);
            }
            [label, speaker, _name] => {
                let speaker = format!("{namespace}:{speaker}");
                dataset.push_labelled(labels, file.clone(), label, speaker, CorpusKind::Folders);
            }
            _ => dataset.skipped.push(Skipped {
                path: file.clone(),
                reason: SkipReason::BadName("not at DIR/<label>/[<speaker>/]file".into()),
            }),
        }
    }
    if unknown_speakers > 0 {
        dataset.notes.push(format!(
            "{}: {unknown_speakers} file(s) directly under a label folder have no speaker; each is \
             its own speaker, so splits of them are by file (use DIR/<label>/<speaker>/file)",
            dir.display()
        ));
    }
    dataset
}

/// Splits one CSV line into fields; `"..."` quotes with `""` for a literal quote.
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_owned()),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    fields.push(field.trim().to_owned());
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_quotes() {
        assert_eq!(split_csv("a.wav, angry ,s1").unwrap(), ["a.wav", "angry", "s1"]);
        assert_eq!(split_csv("\"x, \"\"y\"\".wav\",sad").unwrap(), ["x, \"y\".wav", "sad"]);
        assert!(split_csv("\"open,sad").is_err());
    }
}
