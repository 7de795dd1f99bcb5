//! `emotrace doctor`: what this installation has, in a form to paste into a bug report.

use std::io::{self, Write};

use crate::audio;
use crate::model::{ComputeDevice, DeviceChoice, EmotionModel, device, lookup};

pub fn run(out: &mut impl Write, choice: DeviceChoice) -> anyhow::Result<()> {
    let compute = ComputeDevice::resolve(choice)?;
    writeln!(out, "emotrace {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "libtorch: {} at {}", LIBTORCH_VERSION, libtorch_dir())?;
    writeln!(
        out,
        "threads: {} intra-op, {} inter-op",
        tch::get_num_threads(),
        tch::get_num_interop_threads()
    )?;
    print_cuda(out)?;
    writeln!(out, "compute device: {compute}")?;
    writeln!(out)?;
    super::devices::print_inputs(out, &audio::probe_inputs())?;
    writeln!(out)?;
    print_models(out)?;
    Ok(())
}

/// The libtorch version this binary was built against (tch's build checks it).
const LIBTORCH_VERSION: &str = "2.13.0";

fn libtorch_dir() -> &'static str {
    option_env!("LIBTORCH").unwrap_or("(unknown)")
}

fn print_cuda(out: &mut impl Write) -> io::Result<()> {
    if !tch::Cuda::is_available() {
        return writeln!(out, "cuda: not available ({})", device::cuda_absence_reason());
    }
    let count = tch::Cuda::device_count();
    let cudnn = if tch::Cuda::cudnn_is_available() { "yes" } else { "no" };
    writeln!(out, "cuda: {count} device(s), cudnn {cudnn}")?;
    if let Some(names) = gpu_names() {
        for (index, name) in names.lines().enumerate() {
            writeln!(out, "  cuda:{index} {name}")?;
        }
    }
    Ok(())
}

/// GPU names from the driver's own tool; tch exposes no device-name query.
fn gpu_names() -> Option<String> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=name", "--format=csv,noheader"])
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn print_models(out: &mut impl Write) -> io::Result<()> {
    let default = lookup::default_model();
    match &default {
        Some(path) => match EmotionModel::load(path, ComputeDevice { device: tch::Device::Cpu }) {
            Ok(model) => {
                let card = model.card();
                let ua = card
                    .metrics
                    .get("test_ua")
                    .map_or(String::new(), |ua| format!(", test UA {:.1} %", 100.0 * ua));
                writeln!(
                    out,
                    "default model: {} ({}, {} features{ua})",
                    path.display(),
                    card.name,
                    card.architecture.input_dims
                )?;
            }
            Err(e) => writeln!(out, "default model: {} does not load: {e}", path.display())?,
        },
        None => {
            let dirs: Vec<String> = lookup::model_dirs().iter().map(|d| d.display().to_string()).collect();
            writeln!(out, "default model: none (no default.json in {})", dirs.join(", "))?;
        }
    }
    for card in lookup::list_models() {
        if Some(&card) != default.as_ref() {
            writeln!(out, "model: {}", card.display())?;
        }
    }
    Ok(())
}
