//! Embeds an rpath to the libtorch lib folders so `target/*/emotrace` (and every test and
//! bench binary) runs with no `LD_LIBRARY_PATH`, links `torch_cuda` for real with the
//! `cuda` feature, and records the git commit that model cards name.
//!
//! Assumes `LIBTORCH` is set, either by `.cargo/config.toml` (the folder that
//! `scripts/setup-libtorch` fills) or by the user's own environment.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    embed_git_commit();
    let Some(libtorch) = env::var_os("LIBTORCH").map(PathBuf::from) else {
        println!("cargo:warning=LIBTORCH is not set: run scripts/setup-libtorch");
        return;
    };
    let torch_lib = libtorch.join("lib");
    // The PyPI layout keeps the CUDA runtime beside torch/: ../nvidia/cu13/lib.
    let cuda_lib = libtorch.join("../nvidia/cu13/lib");
    // NOTE: --disable-new-dtags writes DT_RPATH, which (unlike DT_RUNPATH) also serves the
    // libraries' own dependencies (libtorch_cpu.so -> libcudart.so.13).
    println!("cargo:rustc-link-arg=-Wl,--disable-new-dtags");
    for dir in [&torch_lib, &cuda_lib] {
        if dir.is_dir() {
            let dir = canonical(dir);
            println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        }
    }
    if env::var_os("CARGO_FEATURE_CUDA").is_some() {
        // NOTE: rustc links with --as-needed; nothing in tch references libtorch_cuda
        // directly, so without this the CUDA backend is dropped and CUDA looks absent.
        println!("cargo:rustc-link-search=native={}", canonical(&torch_lib).display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}

/// Sets `EMOTRACE_GIT_COMMIT` to the checked-out commit (left unset, so "unknown", outside
/// a git checkout). Rebuilt when HEAD moves; uncommitted changes are not marked, since
/// watching the index would rebuild the crate on every `git add`.
fn embed_git_commit() {
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).output().ok().filter(|o| o.status.success())?;
        Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let Some(commit) = git(&["rev-parse", "HEAD"]) else { return };
    for watched in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["symbolic-ref", "-q", "HEAD"]).and_then(|branch| git(&["rev-parse", "--git-path", &branch])),
        git(&["rev-parse", "--git-path", "packed-refs"]),
    ]
    .into_iter()
    .flatten()
    {
        // A ref kept only in packed-refs has no file of its own: watching it would rerun always.
        if Path::new(&watched).exists() {
            println!("cargo:rerun-if-changed={watched}");
        }
    }
    println!("cargo:rustc-env=EMOTRACE_GIT_COMMIT={commit}");
}

fn canonical(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}
