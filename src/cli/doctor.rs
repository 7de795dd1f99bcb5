//! `emotrace doctor`: what this installation has, in a form to paste into a bug report:
//! where it was installed from, the libtorch it really loaded, devices and models.

use std::io::{self, Write};
use std::path::PathBuf;

use crate::audio;
use crate::model::lookup::{self, Installation};
use crate::model::{ComputeDevice, DeviceChoice, EmotionModel, device};

pub fn run(out: &mut impl Write, choice: DeviceChoice) -> anyhow::Result<()> {
    let compute = ComputeDevice::resolve(choice)?;
    writeln!(out, "emotrace {}", env!("CARGO_PKG_VERSION"))?;
    print_installation(out, &Installation::current())?;
    print_libtorch(out)?;
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

fn print_installation(out: &mut impl Write, installation: &Installation) -> io::Result<()> {
    match installation {
        Installation::Packaged { prefix, package: Some(package) } => {
            let kind = if package.format == "deb" { "Debian package" } else { "portable archive" };
            writeln!(out, "installed from: {kind} {} (files under {})", package.file, prefix.display())
        }
        Installation::Packaged { prefix, package: None } => {
            writeln!(out, "installed from: an install under {} (no package marker)", prefix.display())
        }
        Installation::Unpackaged { exe } => {
            writeln!(out, "installed from: not a package, run from {}", exe.display())
        }
    }
}

/// The libtorch libraries this process really mapped (from `/proc/self/maps`), which is
/// what the dynamic loader found, whatever the build pointed at.
fn print_libtorch(out: &mut impl Write) -> io::Result<()> {
    let loaded = loaded_libtorch();
    match loaded.first() {
        Some(first) => {
            let dir = first.parent().map_or_else(String::new, |d| d.display().to_string());
            let names: Vec<String> = loaded
                .iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .collect();
            writeln!(out, "libtorch: {LIBTORCH_VERSION} loaded from {dir} ({})", names.join(", "))
        }
        None => writeln!(
            out,
            "libtorch: {LIBTORCH_VERSION} (built against {}; loaded libraries not readable here)",
            option_env!("LIBTORCH").unwrap_or("(unknown)")
        ),
    }
}

/// Paths of the mapped libtorch libraries (`libtorch*`, `libc10*`), in first-mapped order.
fn loaded_libtorch() -> Vec<PathBuf> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else { return Vec::new() };
    let mut found: Vec<PathBuf> = Vec::new();
    // NOTE: the path is the rest of the line from its first '/' (it may hold spaces; the
    // fields before it, address to inode, never hold a '/').
    for path in maps.lines().filter_map(|line| line.find('/').map(|start| &line[start..])) {
        let path = PathBuf::from(path);
        let is_torch = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| (n.starts_with("libtorch") || n.starts_with("libc10")) && n.contains(".so"));
        if is_torch && !found.contains(&path) {
            found.push(path);
        }
    }
    found
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
    let dirs: Vec<String> = lookup::model_dirs().iter().map(|d| d.display().to_string()).collect();
    writeln!(out, "model folders (searched in order): {}", dirs.join(", "))?;
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
        None => writeln!(out, "default model: none (no default.json in the model folders)")?,
    }
    for card in lookup::list_models() {
        if Some(&card) != default.as_ref() {
            writeln!(out, "model: {}", card.display())?;
        }
    }
    Ok(())
}
