//! `emotrace doctor`: what this installation has, in a form to paste into a bug report.

use std::path::PathBuf;

use crate::audio;
use crate::model::{ComputeDevice, DeviceChoice, device};

pub fn run(choice: DeviceChoice) -> anyhow::Result<()> {
    let compute = ComputeDevice::resolve(choice)?;
    println!("emotrace {}", env!("CARGO_PKG_VERSION"));
    println!("libtorch: {} at {}", libtorch_version(), libtorch_dir());
    println!(
        "threads: {} intra-op, {} inter-op",
        tch::get_num_threads(),
        tch::get_num_interop_threads()
    );
    print_cuda();
    println!("compute device: {compute}");
    println!();
    super::devices::print_inputs(&audio::probe_inputs());
    println!();
    print_models();
    Ok(())
}

fn print_cuda() {
    if !tch::Cuda::is_available() {
        println!("cuda: not available ({})", device::cuda_absence_reason());
        return;
    }
    let count = tch::Cuda::device_count();
    println!(
        "cuda: {count} device(s), cudnn {}",
        if tch::Cuda::cudnn_is_available() {
            "yes"
        } else {
            "no"
        }
    );
    if let Some(names) = gpu_names() {
        for (index, name) in names.lines().enumerate() {
            println!("  cuda:{index} {name}");
        }
    }
}

/// GPU names from the driver's own tool; libtorch exposes no name query through tch.
fn gpu_names() -> Option<String> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name", "--format=csv,noheader"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The libtorch version this binary was built against (checked by tch's build).
fn libtorch_version() -> &'static str {
    "2.13.0"
}

fn libtorch_dir() -> String {
    option_env!("LIBTORCH").map_or_else(|| "(unknown)".to_owned(), ToOwned::to_owned)
}

/// Folders searched for model files, in order.
pub fn model_dirs() -> Vec<PathBuf> {
    vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")]
}

fn print_models() {
    let mut found = 0;
    for dir in model_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "safetensors") {
                println!("model: {}", path.display());
                found += 1;
            }
        }
    }
    if found == 0 {
        println!(
            "models: none found in {}",
            model_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
