//! Corpus loading on the shared corpora (read in place) and on small made-up layouts.

use std::fs;
use std::path::{Path, PathBuf};

use emotrace::data::{CorpusKind, LabelMap, SkipReason, load_all, load_corpus};
use emotrace::model::Emotion;

fn shared(corpus: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(corpus)
}

/// Writes empty files (names are all the loaders look at).
fn touch(root: &Path, files: &[&str]) {
    for f in files {
        let path = root.join(f);
        fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        fs::write(path, b"").expect("write");
    }
}

/// The shared RAVDESS folder gives all 1200 files of actors 01-20, 60 per actor, with
/// calm folded into neutral: per actor 4 neutral (normal intensity only) + 8 calm = 12
/// neutral, and 8 of each other class.
#[test]
fn shared_ravdess_loads_every_file_with_actor_and_label() {
    let data = load_corpus(&shared("ravdess"), &LabelMap::default()).unwrap();
    assert_eq!(data.utterances.len(), 1200, "{}", data.summary());
    assert!(data.skipped.is_empty(), "{:?}", &data.skipped[..data.skipped.len().min(3)]);
    assert!(data.utterances.iter().all(|u| u.corpus == CorpusKind::Ravdess));
    let speakers: std::collections::BTreeSet<_> = data.utterances.iter().map(|u| u.speaker.clone()).collect();
    assert_eq!(speakers.len(), 20);
    assert!(speakers.contains("ravdess:01") && speakers.contains("ravdess:20"));
    // Per actor: neutral 4 files + calm 8 files -> 12 neutral; 8 of each other emotion.
    let neutral = data.utterances.iter().filter(|u| u.label == Emotion::Neutral).count();
    assert_eq!(neutral, 20 * 12);
    let calm = data.utterances.iter().filter(|u| u.source_label == "calm").count();
    assert_eq!(calm, 20 * 8);
    for e in Emotion::ALL.into_iter().skip(1) {
        assert_eq!(data.utterances.iter().filter(|u| u.label == e).count(), 20 * 8, "{e}");
    }
}

/// With `calm=skip` the calm files are skipped on purpose and counted.
#[test]
fn label_map_can_drop_calm() {
    let mut labels = LabelMap::default();
    labels.apply_overrides(&["calm=skip"]).unwrap();
    let data = load_corpus(&shared("ravdess"), &labels).unwrap();
    assert_eq!(data.utterances.len(), 1040);
    assert_eq!(data.skip_counts().get("label mapped to skip"), Some(&160));
}

/// The shared TESS folder: 2800 files, two speakers, 400 per class, the OA_ typo kept.
#[test]
fn shared_tess_loads_two_speakers_seven_classes() {
    let data = load_corpus(&shared("tess"), &LabelMap::default()).unwrap();
    assert_eq!(data.utterances.len(), 2800, "{}", data.summary());
    assert!(data.utterances.iter().all(|u| u.corpus == CorpusKind::Tess));
    for e in Emotion::ALL {
        assert_eq!(data.utterances.iter().filter(|u| u.label == e).count(), 400, "{e}");
    }
    let oaf = data.utterances.iter().filter(|u| u.speaker == "tess:OAF").count();
    assert_eq!(oaf, 1400);
}

/// SAVEE, CREMA-D and EmoDB layouts are recognised from names; EmoDB boredom is an
/// unknown label (reported with the file), a stray file is a bad name.
#[test]
fn other_corpus_layouts_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let savee = dir.path().join("savee");
    touch(&savee, &["AudioData/DC/a01.wav", "AudioData/JK/su02.wav", "AudioData/KL/n10.wav"]);
    let data = load_corpus(&savee, &LabelMap::default()).unwrap();
    assert_eq!(data.utterances.len(), 3);
    assert!(data.utterances.iter().all(|u| u.corpus == CorpusKind::Savee));
    assert_eq!(data.utterances[1].label, Emotion::Surprised);

    let crema = dir.path().join("crema");
    touch(&crema, &["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.wav", "AudioWAV/notes.wav"]);
    let data = load_corpus(&crema, &LabelMap::default()).unwrap();
    assert_eq!(data.utterances.len(), 2);
    assert_eq!(data.utterances[0].speaker, "crema-d:1001");
    assert!(matches!(data.skipped[0].reason, SkipReason::BadName(_)), "{:?}", data.skipped);

    let emodb = dir.path().join("emodb");
    touch(&emodb, &["wav/03a01Fa.wav", "wav/03a01Lb.wav", "wav/08b02Tc.wav"]);
    let data = load_corpus(&emodb, &LabelMap::default()).unwrap();
    assert_eq!(data.utterances.len(), 2);
    assert_eq!(data.skipped.len(), 1);
    assert!(data.skipped[0].path.ends_with("03a01Lb.wav"));
    assert_eq!(data.skipped[0].reason, SkipReason::UnknownLabel("boredom".into()));
}

/// Folder-per-emotion with and without speaker folders; unknown label folders skipped.
#[test]
fn label_folders_layout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("mine");
    touch(
        &root,
        &["angry/anna/1.wav", "angry/bob/2.flac", "Happy/anna/3.wav", "sad/4.wav", "bored/bob/5.wav"],
    );
    let data = load_corpus(&root, &LabelMap::default()).unwrap();
    let got: Vec<(Emotion, &str)> = data.utterances.iter().map(|u| (u.label, u.speaker.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (Emotion::Happy, "mine:anna"),
            (Emotion::Angry, "mine:anna"),
            (Emotion::Angry, "mine:bob"),
            (Emotion::Sad, "mine:file:sad/4.wav"),
        ]
    );
    assert_eq!(data.skipped.len(), 1);
    assert_eq!(data.notes.len(), 1, "a note about the file without a speaker");
}

/// A manifest: header, relative paths, missing files and unknown labels reported and
/// counted, a malformed line an error naming the line.
#[test]
fn csv_manifest() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), &["clips/a.wav", "clips/b.wav", "clips/c.wav"]);
    let manifest = dir.path().join("set.csv");
    fs::write(&manifest, "path,label,speaker\nclips/a.wav,angry,s1\nclips/b.wav,Boredom,s2\nclips/gone.wav,sad,s1\nclips/c.wav,fear\n").unwrap();
    let data = load_all(&[&manifest], &LabelMap::default()).unwrap();
    assert_eq!(data.utterances.len(), 2);
    assert_eq!(data.utterances[0].speaker, "set:s1");
    assert_eq!(data.utterances[1].label, Emotion::Fearful);
    let counts = data.skip_counts();
    assert_eq!(counts.get("missing file"), Some(&1));
    assert_eq!(counts.get("unknown label"), Some(&1));
    assert!(data.summary().contains("skipped 2"), "{}", data.summary());

    fs::write(&manifest, "clips/a.wav,angry\nclips/b.wav\n").unwrap();
    let err = load_corpus(&manifest, &LabelMap::default()).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
}

/// A missing folder and a folder with no audio are clear errors.
#[test]
fn missing_or_empty_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_corpus(&dir.path().join("nope"), &LabelMap::default()).unwrap_err();
    assert!(err.to_string().contains("no such file"), "{err}");
    let err = load_corpus(dir.path(), &LabelMap::default()).unwrap_err();
    assert!(err.to_string().contains("no audio files"), "{err}");
}
