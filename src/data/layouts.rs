//! File-name conventions of the known corpora: label and speaker from a path.
//!
//! Each parser looks only at the path (no audio is read) and returns the corpus's own label
//! as a lower-case English name (`calm`, `fear`, `ps`, `boredom`) for the label map, and the
//! speaker as `corpus:id`, so speakers of different corpora never collide.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// A corpus layout emotrace recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CorpusKind {
    /// RAVDESS: `Actor_NN/03-01-EE-II-SS-RR-AA.wav`.
    Ravdess,
    /// TESS: `OAF_angry/OAF_back_angry.wav`.
    Tess,
    /// SAVEE: `DC/a01.wav` or `DC_a01.wav`.
    Savee,
    /// CREMA-D: `1001_DFA_ANG_XX.wav`.
    CremaD,
    /// EmoDB (Berlin): `03a01Fa.wav`.
    EmoDb,
    /// One folder per emotion: `DIR/<label>/[<speaker>/]file`.
    Folders,
    /// A CSV manifest `path,label[,speaker]`.
    Manifest,
}

impl CorpusKind {
    /// Short lower-case name, as in speaker ids and reports.
    pub fn name(self) -> &'static str {
        match self {
            CorpusKind::Ravdess => "ravdess",
            CorpusKind::Tess => "tess",
            CorpusKind::Savee => "savee",
            CorpusKind::CremaD => "crema-d",
            CorpusKind::EmoDb => "emodb",
            CorpusKind::Folders => "folders",
            CorpusKind::Manifest => "manifest",
        }
    }

    /// The corpora recognised from file names alone, in detection order.
    pub const NAMED: [CorpusKind; 5] =
        [CorpusKind::Ravdess, CorpusKind::Tess, CorpusKind::Savee, CorpusKind::CremaD, CorpusKind::EmoDb];

    /// Label and speaker of `path` under this corpus's naming, or why it does not fit.
    /// Only the named corpora parse names; `Folders` and `Manifest` always refuse.
    pub fn parse(self, path: &Path) -> Result<Parsed, String> {
        let stem = path.file_stem().and_then(|s| s.to_str()).ok_or("file name is not UTF-8")?;
        match self {
            CorpusKind::Ravdess => parse_ravdess(stem),
            CorpusKind::Tess => parse_tess(stem),
            CorpusKind::Savee => parse_savee(path, stem),
            CorpusKind::CremaD => parse_crema_d(stem),
            CorpusKind::EmoDb => parse_emodb(stem),
            CorpusKind::Folders | CorpusKind::Manifest => Err("not a file-name layout".into()),
        }
    }
}

/// What a file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The corpus's own label, lower-case English (`calm`, `ps`, `boredom`).
    pub label: String,
    /// `corpus:id`, e.g. `ravdess:07`.
    pub speaker: String,
}

fn parsed(label: &str, corpus: CorpusKind, speaker: &str) -> Result<Parsed, String> {
    Ok(Parsed { label: label.to_owned(), speaker: format!("{}:{speaker}", corpus.name()) })
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `MM-VV-EE-II-SS-RR-AA`: modality, vocal channel, emotion, intensity, statement,
/// repetition, actor.
fn parse_ravdess(stem: &str) -> Result<Parsed, String> {
    let fields: Vec<&str> = stem.split('-').collect();
    if fields.len() != 7 || !fields.iter().all(|f| f.len() == 2 && all_digits(f)) {
        return Err("not a RAVDESS name (MM-VV-EE-II-SS-RR-AA)".into());
    }
    if fields[1] != "01" {
        return Err(format!("RAVDESS vocal channel {} is song, not speech", fields[1]));
    }
    let label = match fields[2] {
        "01" => "neutral",
        "02" => "calm",
        "03" => "happy",
        "04" => "sad",
        "05" => "angry",
        "06" => "fearful",
        "07" => "disgust",
        "08" => "surprised",
        other => return Err(format!("RAVDESS emotion code {other} is not 01-08")),
    };
    parsed(label, CorpusKind::Ravdess, fields[6])
}

/// `SPK_word_label` with SPK `OAF`, `YAF` (or the corpus's one `OA_` typo).
fn parse_tess(stem: &str) -> Result<Parsed, String> {
    let (speaker, rest) = stem.split_once('_').ok_or("not a TESS name (SPK_word_label)")?;
    let speaker = match speaker {
        "OAF" | "OA" => "OAF",
        "YAF" => "YAF",
        _ => return Err("not a TESS name (speaker OAF or YAF)".into()),
    };
    let (_word, label) = rest.rsplit_once('_').ok_or("not a TESS name (SPK_word_label)")?;
    parsed(&label.to_ascii_lowercase(), CorpusKind::Tess, speaker)
}

const SAVEE_SPEAKERS: [&str; 4] = ["DC", "JE", "JK", "KL"];

/// `DC/a01` (original) or `DC_a01` (flat copies); codes a d f h n sa su.
fn parse_savee(path: &Path, stem: &str) -> Result<Parsed, String> {
    let (speaker, code) = match stem.split_once('_') {
        Some((speaker, code)) => (speaker.to_owned(), code),
        None => {
            let parent = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("");
            (parent.to_owned(), stem)
        }
    };
    if !SAVEE_SPEAKERS.contains(&speaker.as_str()) {
        return Err("not a SAVEE name (speaker DC, JE, JK or KL)".into());
    }
    let letters = code.trim_end_matches(|c: char| c.is_ascii_digit());
    if letters.len() == code.len() || !all_digits(&code[letters.len()..]) {
        return Err("not a SAVEE name (emotion code then a number, e.g. sa03)".into());
    }
    let label = match letters {
        "a" => "anger",
        "d" => "disgust",
        "f" => "fear",
        "h" => "happiness",
        "n" => "neutral",
        "sa" => "sadness",
        "su" => "surprise",
        other => return Err(format!("SAVEE emotion code '{other}' is not one of a d f h n sa su")),
    };
    parsed(label, CorpusKind::Savee, &speaker)
}

/// `SSSS_SENT_EMO_LV`: speaker (4 digits), sentence, emotion, level.
fn parse_crema_d(stem: &str) -> Result<Parsed, String> {
    let fields: Vec<&str> = stem.split('_').collect();
    if fields.len() != 4 || fields[0].len() != 4 || !all_digits(fields[0]) {
        return Err("not a CREMA-D name (SSSS_SENT_EMO_LV)".into());
    }
    let label = match fields[2] {
        "ANG" => "anger",
        "DIS" => "disgust",
        "FEA" => "fear",
        "HAP" => "happy",
        "NEU" => "neutral",
        "SAD" => "sad",
        other => return Err(format!("CREMA-D emotion code '{other}' is not ANG DIS FEA HAP NEU SAD")),
    };
    parsed(label, CorpusKind::CremaD, fields[0])
}

/// `SSTTTEV`: speaker (2 digits), text code (3), emotion letter (German initial), version.
fn parse_emodb(stem: &str) -> Result<Parsed, String> {
    let bytes = stem.as_bytes();
    if bytes.len() != 7
        || !all_digits(&stem[..2])
        || !bytes[2].is_ascii_lowercase()
        || !all_digits(&stem[3..5])
    {
        return Err("not an EmoDB name (e.g. 03a01Fa)".into());
    }
    let label = match bytes[5] {
        b'W' => "anger",
        b'L' => "boredom",
        b'E' => "disgust",
        b'A' => "fear",
        b'F' => "happiness",
        b'T' => "sadness",
        b'N' => "neutral",
        other => return Err(format!("EmoDB emotion letter '{}' is not one of W L E A F T N", other as char)),
    };
    parsed(label, CorpusKind::EmoDb, &stem[..2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(kind: CorpusKind, path: &str) -> Result<(String, String), String> {
        kind.parse(Path::new(path)).map(|p| (p.label, p.speaker))
    }

    fn ok(label: &str, speaker: &str) -> Result<(String, String), String> {
        Ok((label.to_owned(), speaker.to_owned()))
    }

    #[test]
    fn ravdess_names() {
        assert_eq!(
            parse(CorpusKind::Ravdess, "Actor_07/03-01-02-01-01-02-07.flac"),
            ok("calm", "ravdess:07")
        );
        assert_eq!(parse(CorpusKind::Ravdess, "03-01-08-02-02-02-24.wav"), ok("surprised", "ravdess:24"));
        assert!(parse(CorpusKind::Ravdess, "03-02-05-01-01-01-07.wav").unwrap_err().contains("song"));
        assert!(parse(CorpusKind::Ravdess, "03-01-09-01-01-01-07.wav").unwrap_err().contains("09"));
        assert!(parse(CorpusKind::Ravdess, "03-01-05-01-01-07.wav").is_err());
    }

    #[test]
    fn tess_names_including_the_corpus_typo() {
        assert_eq!(parse(CorpusKind::Tess, "OAF_angry/OAF_back_angry.flac"), ok("angry", "tess:OAF"));
        assert_eq!(parse(CorpusKind::Tess, "YAF_ps/YAF_chair_ps.wav"), ok("ps", "tess:YAF"));
        assert_eq!(parse(CorpusKind::Tess, "OAF_neutral/OA_bite_neutral.wav"), ok("neutral", "tess:OAF"));
        assert!(parse(CorpusKind::Tess, "XYZ_back_angry.wav").is_err());
    }

    #[test]
    fn savee_crema_emodb_names() {
        assert_eq!(parse(CorpusKind::Savee, "AudioData/JK/sa03.wav"), ok("sadness", "savee:JK"));
        assert_eq!(parse(CorpusKind::Savee, "ALL/DC_su12.wav"), ok("surprise", "savee:DC"));
        assert!(parse(CorpusKind::Savee, "AudioData/JK/x03.wav").is_err());
        assert!(parse(CorpusKind::Savee, "AudioData/ZZ/a03.wav").is_err());
        assert_eq!(parse(CorpusKind::CremaD, "AudioWAV/1001_DFA_ANG_XX.wav"), ok("anger", "crema-d:1001"));
        assert!(parse(CorpusKind::CremaD, "1001_DFA_XXX_XX.wav").is_err());
        assert_eq!(parse(CorpusKind::EmoDb, "wav/03a01Fa.wav"), ok("happiness", "emodb:03"));
        assert_eq!(parse(CorpusKind::EmoDb, "wav/16b10Lb.wav"), ok("boredom", "emodb:16"));
        assert!(parse(CorpusKind::EmoDb, "wav/03a01Xa.wav").is_err());
    }
}
