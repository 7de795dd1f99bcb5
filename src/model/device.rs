//! Choosing where libtorch runs: `--device auto|cpu|cuda`.

use std::fmt;

/// What the user asked for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeviceChoice {
    /// CUDA when this build and machine have it, otherwise CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// CUDA device 0; an error when CUDA is not usable.
    Cuda,
}

/// Why a device choice cannot be honoured.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// CUDA was asked for but this build or machine lacks it: run with `--device cpu`,
    /// or build with `--features cuda` against a CUDA libtorch on a machine with a GPU.
    #[error("CUDA requested but not available ({reason}); use --device cpu")]
    CudaUnavailable { reason: &'static str },
}

/// The resolved compute device, with a human description for `doctor` and the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeDevice {
    /// The libtorch device tensors and models are placed on.
    pub device: tch::Device,
}

impl ComputeDevice {
    /// Resolves `choice` against what this build and machine offer.
    pub fn resolve(choice: DeviceChoice) -> Result<Self, DeviceError> {
        let device = match choice {
            DeviceChoice::Cpu => tch::Device::Cpu,
            DeviceChoice::Auto => tch::Device::cuda_if_available(),
            DeviceChoice::Cuda if tch::Cuda::is_available() => tch::Device::Cuda(0),
            DeviceChoice::Cuda => {
                return Err(DeviceError::CudaUnavailable { reason: cuda_absence_reason() });
            }
        };
        Ok(Self { device })
    }
}

impl fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.device {
            tch::Device::Cuda(index) => write!(f, "cuda:{index}"),
            _ => write!(f, "cpu"),
        }
    }
}

/// Whether this binary was linked against libtorch's CUDA backend.
pub fn built_with_cuda() -> bool {
    cfg!(feature = "cuda")
}

/// A short reason why CUDA is not usable here.
pub fn cuda_absence_reason() -> &'static str {
    if built_with_cuda() {
        "no CUDA device or driver found"
    } else {
        "this build is CPU-only; rebuild with --features cuda"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_choice_is_always_cpu() {
        let resolved = ComputeDevice::resolve(DeviceChoice::Cpu).expect("cpu always resolves");
        assert_eq!(resolved.device, tch::Device::Cpu);
        assert_eq!(resolved.to_string(), "cpu");
    }

    #[test]
    fn cuda_choice_fails_cleanly_without_cuda() {
        if tch::Cuda::is_available() {
            return;
        }
        let err = ComputeDevice::resolve(DeviceChoice::Cuda).expect_err("no CUDA here");
        assert!(err.to_string().contains("--device cpu"), "{err}");
    }
}
