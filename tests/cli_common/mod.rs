//! Helpers shared by the command-line tests: running `emotrace` in a scratch folder and
//! reading its result.

#![allow(dead_code)]
// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn shared_ravdess() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ravdess")
}

/// Runs emotrace in `dir` with no default model and a cache inside `dir`.
pub fn emotrace(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emotrace"))
        .args(args)
        .current_dir(dir)
        .env("EMOTRACE_MODEL", dir.join("no-default-model.json"))
        .env("XDG_CACHE_HOME", dir.join("xdg-cache"))
        .output()
        .unwrap()
}

/// The stdout of a command that must have succeeded.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A failed command prints exactly one line on stderr, starting `emotrace:`.
pub fn one_error_line(out: &Output) -> String {
    assert!(!out.status.success(), "should fail: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("emotrace: "), "{err}");
    err
}

/// A training config that trains in seconds: `training_extra` lines join its `[training]`
/// table and `more` (whole tables) follows it.
pub fn tiny_config(training_extra: &str, more: &str) -> String {
    format!(
        r#"
name = "tiny"
seed = 3
[model]
lstm1_units = 12
lstm2_units = 8
dense_units = [8]
dropout = 0.1
[training]
epochs = 2
batch_size = 4
learning_rate = 0.01
max_frames = 120
{training_extra}
[augment]
copies = 0
{more}
"#
    )
}
