//! Recorded sessions from the command line: private modes under the usual umask, the
//! encrypted session (no plaintext on disk, exact round trip, wrong passphrase refused,
//! SIGKILL leaves a session that opens), and SIGTERM / SIGHUP ending a session cleanly.

mod engine_common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use emotrace::audio::decode::decode_file;
use emotrace::engine::recorder::{SessionWav, to_i16};
use emotrace::sessions::overview::SessionOverview;
use emotrace::sessions::recorded::RecordedSession;
use emotrace::sessions::trace_read::TraceLine;
use engine_common::speech_clip;

const BIN: &str = env!("CARGO_BIN_EXE_emotrace");

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// `emotrace ARGS` under `umask 022` (the usual default), quietly.
fn emotrace_umask_022(args: &[&str]) -> std::process::Output {
    let mut command = Command::new("sh");
    command.arg("-c").arg("umask 022; exec \"$0\" \"$@\"").arg(BIN).args(args);
    command.stdout(Stdio::null()).output().expect("run emotrace")
}

fn record(session: &Path, extra: &[&str]) -> std::process::Output {
    let clip = speech_clip();
    let mut args = vec![
        "monitor",
        "--headless",
        "--no-model",
        "--replay",
        clip.to_str().expect("utf-8 path"),
        "--fast",
        "--record",
        session.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let out = emotrace_umask_022(&args);
    assert!(out.status.success(), "record failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn passphrase_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join(format!("pass-{}", text.len()));
    std::fs::write(&path, format!("{text}\n")).expect("write passphrase");
    path
}

/// The clip as the recorder stores it: 16-bit samples of the 16 kHz audio.
fn clip_i16() -> Vec<i16> {
    decode_file(&speech_clip()).expect("clip").samples.iter().map(|&s| to_i16(s)).collect()
}

/// Under umask 022 a recording is still private: sessions folder and session folder
/// 0700, every file 0600; client code and notes land in the summary.
#[test]
fn recordings_are_private_under_umask_022() {
    let root = tempfile::tempdir().expect("temp dir");
    let sessions = root.path().join("sessions");
    let session = sessions.join("s1");
    record(&session, &["--client", "C-014", "--notes", "first session, calm", "--marker", "1.0:the door"]);
    assert_eq!(mode(&sessions), 0o700);
    assert_eq!(mode(&session), 0o700);
    let files: Vec<PathBuf> =
        std::fs::read_dir(&session).expect("list").map(|e| e.expect("entry").path()).collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    let summary = RecordedSession::open(&session, None).expect("open").summary;
    assert!(summary.complete);
    assert_eq!(summary.client_code, "C-014");
    assert_eq!(summary.notes, "first session, calm");
    assert_eq!(summary.markers.len(), 1);
    assert_eq!(summary.markers[0].note, "the door");
    assert!((summary.markers[0].time_s - 1.0).abs() < 0.05, "{}", summary.markers[0].time_s);
    let bad =
        emotrace_umask_022(&["monitor", "--headless", "--no-model", "--record", "x", "--client", "Jane Doe"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("client code"), "{stderr}");
}

/// An encrypted recording holds no plaintext (no WAV or CSV header, no JSON summary, no
/// run of the recorded samples), decrypts to exactly the audio and trace a plain
/// recording of the same replay holds, and refuses a wrong passphrase in one line.
#[test]
fn encrypted_sessions_hold_no_plaintext_and_round_trip() {
    let root = tempfile::tempdir().expect("temp dir");
    let plain = root.path().join("plain");
    let sealed = root.path().join("sealed");
    let pass = passphrase_file(root.path(), "a long passphrase");
    record(&plain, &[]);
    record(&sealed, &["--encrypt", "--passphrase-file", pass.to_str().expect("utf-8"), "--client", "C-2"]);
    let samples = clip_i16();
    let run: Vec<u8> = samples[20_000..20_008].iter().flat_map(|s| s.to_le_bytes()).collect();
    assert!(run.iter().any(|&b| b != 0), "the sample run must not be silence");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&sealed).expect("list") {
        let path = entry.expect("entry").path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        let bytes = std::fs::read(&path).expect("read");
        for needle in [&b"RIFF"[..], b"WAVE", b"t_s,session_t_s", b"\"complete\"", b"C-2", &run] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{} holds plaintext", path.display());
        }
        names.push(path.file_name().expect("name").to_string_lossy().into_owned());
    }
    names.sort();
    assert_eq!(names, ["audio.pcm.sealed", "key.age", "summary.json.sealed", "trace.csv.sealed"]);

    let secret = SecretString::from("a long passphrase".to_owned());
    let opened = RecordedSession::open(&sealed, Some(&secret)).expect("right passphrase opens");
    let reference = RecordedSession::open(&plain, None).expect("plain opens");
    assert!(opened.summary.complete);
    assert_eq!(opened.summary.client_code, "C-2");
    let read_all = |s: &RecordedSession| {
        let mut audio = s.audio().expect("audio");
        let mut out = vec![0.0f32; audio.len_samples() as usize];
        let n = audio.read(0, &mut out).expect("read");
        out.truncate(n);
        out.iter().map(|&x| (x * 32_768.0) as i16).collect::<Vec<i16>>()
    };
    assert_eq!(read_all(&opened), samples, "decrypted audio differs from the recorded clip");
    assert_eq!(read_all(&opened), read_all(&reference));
    let hops = |s: &RecordedSession| {
        let mut hops = Vec::new();
        s.for_each_trace_line(|l| {
            if let TraceLine::Hop(h) = l {
                hops.push((h.t_s, h.speech, h.level_dbfs));
            }
        })
        .expect("trace");
        hops
    };
    let sealed_hops = hops(&opened);
    assert!(sealed_hops.len() > 300);
    assert_eq!(sealed_hops, hops(&reference), "decrypted trace differs from the plain one");

    let wrong = passphrase_file(root.path(), "wrong");
    let out = Command::new(BIN)
        .args(["report", sealed.to_str().expect("utf-8"), "--out"])
        .arg(root.path().join("r.html"))
        .arg("--passphrase-file")
        .arg(&wrong)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim(), format!("emotrace: wrong passphrase for {}", sealed.display()));
    assert!(!root.path().join("r.html").exists());
}

/// A test WAV of `seconds` of a voiced-like signal, so a 1x replay lasts long enough.
fn long_wav(path: &Path, seconds: u32) {
    let samples: Vec<f32> = (0..seconds * 16_000)
        .map(|i| {
            let t = f64::from(i) / 16_000.0;
            (0.3 * (2.0 * std::f64::consts::PI * 180.0 * t).sin()
                * (0.5 + 0.5 * (2.0 * std::f64::consts::PI * 0.5 * t).sin())) as f32
        })
        .collect();
    let mut wav = SessionWav::create(path, 16_000).expect("wav");
    wav.write(&samples).expect("samples");
    wav.finish().expect("finished");
}

/// Starts a 1x replay recording and waits until `min_s` of stream time has been printed.
/// A thread keeps reading stdout (so the pipe stays open); the returned value holds the
/// newest stream time it saw.
fn start_1x(
    session: &Path,
    wav: &Path,
    extra: &[&str],
    min_s: f64,
) -> (std::process::Child, std::sync::Arc<std::sync::Mutex<f64>>) {
    start_1x_under(Command::new(BIN), session, wav, extra, min_s)
}

/// [`start_1x`] with the program started by `command` (e.g. `nohup emotrace`).
fn start_1x_under(
    mut command: Command,
    session: &Path,
    wav: &Path,
    extra: &[&str],
    min_s: f64,
) -> (std::process::Child, std::sync::Arc<std::sync::Mutex<f64>>) {
    let mut child = command
        .args(["monitor", "--headless", "--no-model", "--replay"])
        .arg(wav)
        .arg("--record")
        .arg(session)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(0.0f64));
    let writer = std::sync::Arc::clone(&seen);
    std::thread::Builder::new()
        .name("test-stdout".into())
        .spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && let Some(t) = v["t_s"].as_f64()
                {
                    *writer.lock().expect("lock") = t;
                }
            }
        })
        .expect("thread");
    let deadline = Instant::now() + Duration::from_secs(60);
    while *seen.lock().expect("lock") < min_s {
        assert!(Instant::now() < deadline, "the replay did not reach {min_s} s");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, seen)
}

fn signal(child: &std::process::Child, name: &str) {
    let status =
        Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()).status().expect("kill");
    assert!(status.success());
}

/// SIGKILL in the middle of an encrypted session leaves a session that opens with its
/// passphrase and holds the audio up to at most a second before the kill.
#[test]
fn sigkill_leaves_an_encrypted_session_that_opens() {
    let root = tempfile::tempdir().expect("temp dir");
    let wav = root.path().join("long.wav");
    long_wav(&wav, 30);
    let session = root.path().join("killed");
    let pass = passphrase_file(root.path(), "kill test");
    let (mut child, seen) =
        start_1x(&session, &wav, &["--encrypt", "--passphrase-file", pass.to_str().expect("utf-8")], 3.0);
    let seen_s = *seen.lock().expect("lock");
    signal(&child, "KILL");
    let _ = child.wait();
    let secret = SecretString::from("kill test".to_owned());
    let opened = RecordedSession::open(&session, Some(&secret)).expect("a killed encrypted session opens");
    assert!(!opened.summary.complete);
    let overview = SessionOverview::load(&opened).expect("overview");
    assert!(overview.duration_s >= seen_s - 1.0, "kept {:.2} s, saw {seen_s:.2} s", overview.duration_s);
    assert!(overview.stats.hops as f64 >= (seen_s - 1.0) * 100.0);
    let expected: Vec<i16> = {
        let mut r = hound::WavReader::open(&wav).expect("wav");
        r.samples::<i16>().take(16_000).map(|s| s.expect("sample")).collect()
    };
    let mut audio = opened.audio().expect("audio");
    let mut got = vec![0.0f32; 16_000];
    assert_eq!(audio.read(0, &mut got).expect("read"), 16_000);
    let got: Vec<i16> = got.iter().map(|&x| (x * 32_768.0) as i16).collect();
    assert_eq!(got, expected);
}

/// SIGTERM and SIGHUP end a recording as Ctrl-C does: exit status 0, summary complete;
/// SIGTERM too when the program runs under `nohup` (SIGHUP ignored from the start).
#[test]
fn sigterm_and_sighup_end_the_session_cleanly() {
    let root = tempfile::tempdir().expect("temp dir");
    let wav = root.path().join("long.wav");
    long_wav(&wav, 30);
    for (name, nohup) in [("TERM", false), ("HUP", false), ("TERM", true)] {
        let session = root.path().join(format!("{name}-{nohup}"));
        let command = if nohup {
            let mut c = Command::new("nohup");
            c.arg(BIN);
            c
        } else {
            Command::new(BIN)
        };
        let (mut child, _) = start_1x_under(command, &session, &wav, &[], 1.5);
        signal(&child, name);
        let status = child.wait().expect("wait");
        assert!(status.success(), "SIG{name} (nohup: {nohup}): {status:?}");
        let summary = RecordedSession::open(&session, None).expect("open").summary;
        assert!(summary.complete, "SIG{name} left an incomplete summary");
        assert!(summary.duration_s >= 1.0);
    }
}
