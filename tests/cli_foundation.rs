//! The first commands run as real processes and fail politely.

use std::path::Path;
use std::process::{Command, Output};

fn emotrace(args: &[&str]) -> Output {
    let home = std::env::temp_dir().join("emotrace-test-empty-home");
    std::fs::create_dir_all(&home).expect("temp home");
    Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .args(args)
        // An empty HOME: no ~/.asoundrc can add a device behind the test's back.
        .env("HOME", &home)
        .output()
        .expect("emotrace runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn has_sound_card() -> bool {
    Path::new("/dev/snd").exists()
}

/// `doctor` reports libtorch and the compute device, says in one line when there is no
/// input device, and exits 0.
#[test]
fn doctor_reports_and_exits_zero() {
    let out = emotrace(&["--device", "cpu", "doctor"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status, text(&out.stderr));
    assert!(stdout.contains("libtorch: 2.13.0"), "{stdout}");
    assert!(stdout.contains("compute device: cpu"), "{stdout}");
    if has_sound_card() {
        assert!(stdout.contains("host:"), "{stdout}");
    } else {
        let lines: Vec<&str> = stdout.lines().filter(|l| l.contains("no audio input device")).collect();
        assert_eq!(lines.len(), 1, "one line about the missing device:\n{stdout}");
    }
    assert!(!text(&out.stderr).contains("panicked"));
}

/// `devices` on a machine without a sound card prints exactly one clear line.
#[test]
fn devices_without_sound_card_is_one_line() {
    let out = emotrace(&["devices"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stdout}", out.status);
    if has_sound_card() {
        assert!(stdout.contains("host:"), "{stdout}");
    } else {
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(stdout.starts_with("no audio input device found"), "{stdout}");
        assert!(text(&out.stderr).trim().is_empty(), "ALSA chatter leaked: {}", text(&out.stderr));
    }
}

/// Asking for CUDA where there is none: one line on stderr, non-zero exit, no panic.
#[test]
fn cuda_without_cuda_fails_in_one_line() {
    if tch::Cuda::is_available() {
        return;
    }
    let out = emotrace(&["--device", "cuda", "doctor"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("CUDA requested but not available"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "nothing half-printed before the error");
}
