//! `emotrace monitor` without `--headless` opens the window; with no display it fails
//! with one clear line that suggests `--headless`, and no panic.

use std::process::Command;

#[test]
fn monitor_without_a_display_says_use_headless() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .args(["monitor", "--no-model"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("EMOTRACE_CONFIG_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--headless"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
