//! Fault injection around recording and start-up, through `emotrace monitor --headless`
//! as a real process: the disk fills mid-session, the folder is read-only, two sessions
//! aim at one folder, a session killed earlier is found in the folder, the model file is
//! garbage. Each keeps the process alive (or refuses at start), keeps what was recorded,
//! and tells the user in one line.
//!
//! A full or read-only disk is made with a small tmpfs in a private mount namespace
//! (`unshare -rm`, no privileges needed where user namespaces are allowed). Where that is
//! not possible, the read-only case falls back to `chmod` (meaningless as root, so it is
//! skipped then) and the disk-full case is skipped, each saying so on stderr.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use emotrace::engine::recorder::{SessionSummary, SessionWav};
use emotrace::engine::{EngineConfig, Pace, RecordOptions, Source, TraceFormat, start_engine};
use emotrace::features::FeatureConfig;

fn clip() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech_16k.flac")
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_emotrace")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Whether private mount namespaces with tmpfs work here.
/// `monitor --headless` replaying the clip as fast as possible, without a model,
/// recording into `session`.
fn record_replay(session: &Path) -> Output {
    Command::new(bin())
        .args(["monitor", "--headless", "--fast", "--no-model", "--replay"])
        .arg(clip())
        .arg("--record")
        .arg(session)
        .output()
        .unwrap()
}

fn can_unshare() -> bool {
    Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /tmp && true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `monitor --headless --replay clip --no-model --record <mnt>/session` (at 1x, or
/// `--fast`) with a tmpfs mounted at `mnt` (`mount_opts`), then copies the session out
/// to `out`.
fn monitor_on_tmpfs(mnt: &Path, mount_opts: &str, out: &Path, fast: bool) -> Output {
    let script = r#"mount -t tmpfs -o "$1" tmpfs "$2" || exit 99
"$3" monitor --headless --replay "$4" $6 --no-model --record "$2/session"
rc=$?
cp -a "$2/session" "$5" 2>/dev/null
exit $rc"#;
    Command::new("unshare")
        .args(["-rm", "sh", "-c", script, "sh", mount_opts])
        .arg(mnt)
        .arg(bin())
        .arg(clip())
        .arg(out)
        .arg(if fast { "--fast" } else { "--every=1" })
        .output()
        .unwrap()
}

/// Every data line of a CSV trace has the header's field count; returns the last t_s.
fn whole_csv_rows(path: &Path) -> (usize, f64) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "the trace ends with a whole row");
    let mut lines = text.lines();
    let Some(header) = lines.next() else { return (0, 0.0) };
    let columns = header.split(',').count();
    let (mut rows, mut last_t) = (0, 0.0);
    for line in lines {
        assert_eq!(line.split(',').count(), columns, "whole row: {line}");
        last_t = line.split(',').next().unwrap().parse::<f64>().unwrap();
        rows += 1;
    }
    (rows, last_t)
}

/// The disk fills up mid-recording (a 32 KiB tmpfs; the 1.75 s session needs ~90 KiB;
/// replayed at 1x so the files are flushed every half second as live): the replay goes
/// on to the end (every hop printed, exit 0), one stderr line says the
/// recording stopped, the trace holds whole rows, the WAV header is valid, and the
/// session summary still gives the session's full length with the kept part beside it.
#[test]
fn disk_full_mid_session_keeps_the_session_and_the_files() {
    if !can_unshare() {
        eprintln!("SKIPPED: no private mount namespaces here (unshare -rm)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let kept = dir.path().join("kept");
    let out = monitor_on_tmpfs(&mnt, "size=32k", &kept, false);
    let err = stderr(&out);
    assert!(out.status.success(), "the session survives a full disk: {err}");
    let hops = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(hops, 176, "every hop of the 1.75 s clip printed");
    let stopped: Vec<&str> = err.lines().filter(|l| l.contains("recording stopped")).collect();
    assert_eq!(stopped.len(), 1, "one line about the failure:\n{err}");
    assert!(stopped[0].contains("No space left"), "{}", stopped[0]);
    // The closing line reports the session's whole length, not just what was kept.
    let closing = err.lines().find(|l| l.contains("recording INCOMPLETE")).expect(&err);
    assert!(closing.contains("1.8 s of audio"), "{closing}");

    // The summary on disk says the same (written over the old one's blocks).
    let summary = SessionSummary::load(&kept.join("summary.json")).expect("summary.json");
    assert!(!summary.complete && summary.write_error.is_some());
    assert!((summary.duration_s - 1.75).abs() < 0.01, "{}", summary.duration_s);
    assert_eq!(summary.hops, 176);
    let (rows, last_t) = whole_csv_rows(&kept.join("trace.csv"));
    assert!((summary.kept_s - last_t).abs() < 1.0, "kept {} s, trace to {last_t} s", summary.kept_s);
    let wav = hound::WavReader::open(kept.join("audio.wav")).expect("valid WAV header");
    let wav_s = f64::from(wav.duration()) / 16_000.0;
    let bytes = std::fs::metadata(kept.join("audio.wav")).unwrap().len();
    assert!(u64::from(wav.len()) * 2 + 44 <= bytes, "header claims no more than was written");
    assert!(wav_s > 0.2 && wav_s < 1.7, "part of the audio kept: {wav_s} s");
    assert!(rows > 0 && last_t < 1.75, "part of the trace kept: {rows} rows to {last_t} s");
}

/// A read-only folder: recording cannot start; one line says so and names the folder,
/// exit code 1, nothing else printed.
#[test]
fn read_only_folder_is_one_line_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = if can_unshare() {
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        monitor_on_tmpfs(&mnt, "ro,size=64k", &dir.path().join("kept"), true)
    } else {
        let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if is_root {
            eprintln!("SKIPPED: no mount namespaces and root ignores chmod");
            return;
        }
        let ro = dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        let mut perms = std::fs::metadata(&ro).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
        std::fs::set_permissions(&ro, perms).unwrap();
        record_replay(&ro.join("session"))
    };
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line:\n{err}");
    assert!(err.contains("cannot record into") && err.contains("session"), "{err}");
    assert!(err.contains("Read-only") || err.contains("ermission"), "{err}");
}

/// Two sessions recording into one folder: the second is refused while the first runs
/// (the WAV is locked), and the first's files are untouched.
#[test]
fn second_session_cannot_record_into_a_busy_folder() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("session");
    let config = EngineConfig { start_paused: true, ..EngineConfig::default() };
    let source = Source::File { path: clip(), pace: Pace::Fast };
    let features = FeatureConfig::default();
    let options = RecordOptions::new(session.clone(), TraceFormat::Csv);
    let mut first = start_engine(&source, &config, &features, None, "none").unwrap();
    first.start_recording(options.clone()).unwrap();
    let mut second = start_engine(&source, &config, &features, None, "none").unwrap();
    let err = second.start_recording(options).expect_err("folder is busy").to_string();
    assert!(err.contains("being recorded by another running session"), "{err}");
    first.resume();
    while !first.is_finished() {
        let _ = first.snapshots().recv_timeout(std::time::Duration::from_millis(50));
    }
    let summary = first.stop_recording().unwrap();
    assert!(summary.complete);
    assert!((summary.duration_s - 1.75).abs() < 0.01, "{}", summary.duration_s);
    assert!((summary.kept_s - summary.duration_s).abs() < 1e-9);
    second.stop();
    first.stop();
}

/// A session that ended abruptly (summary incomplete, WAV data written after its last
/// header update, a trace cut mid-row) is found by the next `monitor --record` into the
/// same folder, repaired, and reported in one line; the folder then holds a valid WAV
/// with every whole sample and a trace of whole rows.
#[test]
fn unfinished_session_is_repaired_on_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("session");
    std::fs::create_dir(&session).unwrap();
    let mut wav = SessionWav::create(&session.join("audio.wav"), 16_000).unwrap();
    wav.write(&[0.1; 8_000]).unwrap();
    wav.flush().unwrap();
    drop(wav);
    // More data reaches the file without a header update (what SIGKILL can leave).
    let mut file = std::fs::OpenOptions::new().append(true).open(session.join("audio.wav")).unwrap();
    std::io::Write::write_all(&mut file, &[0u8; 16_000]).unwrap();
    drop(file);
    let header = emotrace::engine::recorder::csv_header();
    std::fs::write(session.join("trace.csv"), format!("{header}0.000000,0.000000,0,no spe")).unwrap();
    let mut summary: SessionSummary = serde_json::from_value(serde_json::json!({
        "complete": false, "source": "x", "model": "none", "started_unix_s": 0,
        "start_session_s": 0.0, "duration_s": 0.0, "hops": 0, "speech_s": 0.0,
        "utterances": 0, "emotion_shares": {}, "mean_probabilities": {},
        "dropped_samples": 0, "dropped_trace_rows": 0, "dropped_audio_samples": 0,
        "markers": [], "interruptions": [], "trace_file": "trace.csv", "audio_file": "audio.wav"
    }))
    .unwrap();
    summary.complete = false;
    summary.save(&session.join("summary.json")).unwrap();

    let out = record_replay(&session);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line:\n{err}");
    assert!(err.contains("unfinished session") && err.contains("repaired it: 1.0 s of audio"), "{err}");
    assert!(err.contains("WAV header fixed") && err.contains("partial trace row removed"), "{err}");
    let reader = hound::WavReader::open(session.join("audio.wav")).unwrap();
    assert_eq!(reader.len(), 16_000);
    assert_eq!(whole_csv_rows(&session.join("trace.csv")).0, 0);
    let repaired = SessionSummary::load(&session.join("summary.json")).unwrap();
    assert!(repaired.repaired && !repaired.complete);
    assert_eq!(repaired.kept_s, 1.0);
    // A second start finds it repaired: plainly taken, nothing touched again.
    let again = record_replay(&session);
    assert!(stderr(&again).contains("already holds a recording"), "{}", stderr(&again));
}

/// A model file replaced by garbage: the monitor refuses to start with one line naming
/// the file, exit code 1.
#[test]
fn garbage_model_is_one_line_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.json");
    std::fs::write(&model, b"\x00\x01garbage{{{").unwrap();
    let out = Command::new(bin())
        .args(["monitor", "--headless", "--fast", "--replay"])
        .arg(clip())
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "one line:\n{err}");
    assert!(err.contains("model.json") && err.contains("not a usable emotrace model card"), "{err}");
    assert!(out.stdout.is_empty());
}
