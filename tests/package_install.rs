//! The packages `scripts/package` makes, installed without the build tree: the .deb
//! unpacked with `dpkg-deb -x` into a temporary root, and the archive unpacked into
//! another folder, each run with `LD_LIBRARY_PATH` and `LIBTORCH` unset, an empty home,
//! and the repository's `.libtorch/` and `models/` hidden (an empty folder bind-mounted
//! over each in a private mount namespace, `unshare -rm`, so the other tests running
//! meanwhile still see them). There `doctor`, `predict` and `monitor --headless
//! --replay` must work and answer as the release build in the build tree does.
//!
//! Needs the packages: `scripts/package` then `EMOTRACE_PACKAGE_DIR=target/package cargo
//! test --test package_install` (what `.ci/run` does). Without that variable the test
//! says so and checks nothing.

// Test helpers may unwrap: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn clip() -> PathBuf {
    repo().join("tests/data/speech_16k.flac")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn success(what: &str, out: &Output) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The three commands' outputs (`monitor` lines without their wall-clock `latency_ms`).
struct Answers {
    doctor: String,
    predict: String,
    monitor: Vec<serde_json::Value>,
}

fn monitor_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            value.as_object_mut().unwrap().remove("latency_ms");
            value
        })
        .collect()
}

/// Runs `exe` with `args` in a fresh mount namespace where the build tree's libtorch and
/// models are empty folders, with no library path, no LIBTORCH and an empty home.
fn run_hidden(exe: &Path, args: &[&str], home: &Path) -> Output {
    let libtorch = repo().join(".libtorch").canonicalize().unwrap();
    let models = repo().join("models");
    let empty = home.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    // Exit 97 if the hiding did not take: then the test proves nothing.
    let script = r#"mount --bind "$1" "$2" && mount --bind "$1" "$3" || exit 98
[ -z "$(ls -A "$2")" ] && [ -z "$(ls -A "$3")" ] || exit 97
shift 3
exec "$@""#;
    Command::new("unshare")
        .args(["-rm", "sh", "-c", script, "sh"])
        .args([&empty, &libtorch, &models])
        .arg(exe)
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("LIBTORCH")
        .env_remove("EMOTRACE_MODEL")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", home)
        .output()
        .unwrap()
}

fn answers(exe: &Path, home: &Path, hidden: bool) -> Answers {
    let clip = clip();
    let clip = clip.to_str().unwrap();
    let run = |args: &[&str]| {
        if hidden {
            run_hidden(exe, args, home)
        } else {
            Command::new(exe)
                .args(args)
                .env("HOME", home)
                .env_remove("EMOTRACE_MODEL")
                .env_remove("XDG_DATA_HOME")
                .output()
                .unwrap()
        }
    };
    let doctor = success("doctor", &run(&["--device", "cpu", "doctor"]));
    let predict = success("predict", &run(&["--device", "cpu", "predict", clip, "--format", "json"]));
    let monitor =
        success("monitor", &run(&["--device", "cpu", "monitor", "--headless", "--replay", clip, "--fast"]));
    Answers { doctor, predict, monitor: monitor_lines(&monitor) }
}

/// The installed tree answers `predict` and `monitor` exactly as the build tree's
/// release binary does, and `doctor` names the package, its own libtorch folder and its
/// own model.
fn check_installed(exe: &Path, prefix: &Path, installed_from: &str, build: &Answers, home: &Path) {
    let got = answers(exe, home, true);
    let lines: Vec<&str> = got.doctor.lines().collect();
    let has = |want: &str| lines.contains(&want);
    assert!(
        has(&format!("installed from: {installed_from} (files under {})", prefix.display())),
        "{}",
        got.doctor
    );
    let lib = prefix.join("lib/emotrace");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("libtorch: 2.13.0 loaded from {} (", lib.display()))),
        "{}",
        got.doctor
    );
    let model = prefix.join("share/emotrace/models/default.json");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("default model: {} (", model.display()))),
        "{}",
        got.doctor
    );
    assert!(!got.doctor.contains(".libtorch"), "nothing from the build tree's libtorch:\n{}", got.doctor);
    assert_eq!(got.predict, build.predict, "predict answers as the build tree's release binary");
    assert!(!got.monitor.is_empty());
    assert_eq!(got.monitor.len(), build.monitor.len(), "monitor hops");
    assert!(got.monitor == build.monitor, "monitor lines equal the build tree's");
}

#[test]
fn packages_run_without_the_build_tree() {
    let Some(dir) = std::env::var_os("EMOTRACE_PACKAGE_DIR").map(PathBuf::from) else {
        eprintln!(
            "package_install: EMOTRACE_PACKAGE_DIR is not set; run scripts/package and set it to test the packages"
        );
        return;
    };
    let deb = dir.join(format!("emotrace_{VERSION}_amd64.deb"));
    let archive = dir.join(format!("emotrace-{VERSION}-x86_64-linux.tar.zst"));
    assert!(deb.is_file() && archive.is_file(), "{} and {} exist", deb.display(), archive.display());
    let built = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo().join("target"), PathBuf::from)
        .join("release/emotrace");
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    let build = answers(&built, &home, false);
    assert!(build.predict.contains("speech_16k.flac"), "{}", build.predict);

    let root = temp.path().join("root");
    success("dpkg-deb -x", &Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root).output().unwrap());
    let deb_from = format!("Debian package emotrace_{VERSION}_amd64.deb");
    check_installed(&root.join("usr/bin/emotrace"), &root.join("usr"), &deb_from, &build, &home);

    let elsewhere = temp.path().join("some/other folder");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let untar = Command::new("tar")
        .arg("--zstd")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&elsewhere)
        .output()
        .unwrap();
    success("tar -x", &untar);
    let prefix = elsewhere.join("emotrace");
    let archive_from = format!("portable archive emotrace-{VERSION}-x86_64-linux.tar.zst");
    check_installed(&prefix.join("bin/emotrace"), &prefix, &archive_from, &build, &home);
}
