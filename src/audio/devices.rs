//! What the audio layer can see: hosts, input devices and the stream configurations they
//! accept. Probing never panics and never prints ALSA's own diagnostics.

use cpal::traits::{DeviceTrait, HostTrait};

/// A supported input stream range of a device: per sample format, the span of channel
/// counts and sample rates it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRange {
    /// Fewest channels accepted.
    pub min_channels: u16,
    /// Most channels accepted.
    pub channels: u16,
    /// Lowest sample rate accepted, in Hz.
    pub min_rate_hz: u32,
    /// Highest sample rate accepted, in Hz.
    pub max_rate_hz: u32,
    /// Sample format as cpal names it (`f32`, `i16`, ...).
    pub sample_format: String,
}

/// An input device as the user would pick it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDeviceInfo {
    /// Name to pass to `--input`.
    pub name: String,
    /// Whether the host calls this its default input.
    pub is_default: bool,
    /// The device's preferred configuration, `None` when it could not be queried.
    pub default_config: Option<StreamRange>,
    /// Every configuration it accepts (empty when the device cannot be opened).
    pub configs: Vec<StreamRange>,
}

/// All usable input devices of one audio host (ALSA, PulseAudio, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioHostReport {
    /// Host name as cpal reports it.
    pub host: String,
    /// Input devices that answered a configuration query.
    pub inputs: Vec<InputDeviceInfo>,
    /// Why the host could not be listed, if it could not.
    pub error: Option<String>,
}

impl AudioHostReport {
    /// The default input device, if the host has a usable one.
    pub fn default_input(&self) -> Option<&InputDeviceInfo> {
        self.inputs.iter().find(|d| d.is_default)
    }
}

/// Lists every available host and its usable input devices.
///
/// A device counts as usable when it reports at least one input configuration: on a
/// machine without a sound card ALSA still names a "default" PCM, which then fails here.
pub fn probe_inputs() -> Vec<AudioHostReport> {
    let _quiet = silence_alsa();
    cpal::available_hosts()
        .into_iter()
        .map(|host_id| match cpal::host_from_id(host_id) {
            Ok(host) => probe_host(&host),
            Err(err) => AudioHostReport {
                host: host_id.name().to_owned(),
                inputs: Vec::new(),
                error: Some(err.to_string()),
            },
        })
        .collect()
}

fn probe_host(host: &cpal::Host) -> AudioHostReport {
    let host_name = host.id().name().to_owned();
    let default_name = host.default_input_device().and_then(|d| device_name(&d));
    let devices = match host.input_devices() {
        Ok(devices) => devices,
        Err(err) => {
            return AudioHostReport { host: host_name, inputs: Vec::new(), error: Some(err.to_string()) };
        }
    };
    let inputs = devices
        .filter_map(|device| {
            let name = device_name(&device)?;
            if is_pseudo_device(&name) {
                return None;
            }
            let configs = device
                .supported_input_configs()
                .map(|ranges| summarise(ranges.map(|r| range_of(&r))))
                .unwrap_or_default();
            if configs.is_empty() {
                return None;
            }
            let default_config = device.default_input_config().ok().map(|c| StreamRange {
                min_channels: c.channels(),
                channels: c.channels(),
                min_rate_hz: c.sample_rate(),
                max_rate_hz: c.sample_rate(),
                sample_format: c.sample_format().to_string(),
            });
            let is_default = default_name.as_deref() == Some(name.as_str());
            Some(InputDeviceInfo { name, is_default, default_config, configs })
        })
        .collect();
    AudioHostReport { host: host_name, inputs, error: None }
}

/// ALSA's `null` PCM accepts every configuration and records silence: not a microphone.
fn is_pseudo_device(name: &str) -> bool {
    name == "null"
}

/// The name a user passes to `--input`: cpal's device id string (e.g. `default`, `hw:0,0`).
pub fn device_name(device: &cpal::Device) -> Option<String> {
    device.id().ok().map(|id| id.id().to_owned())
}

fn range_of(range: &cpal::SupportedStreamConfigRange) -> StreamRange {
    StreamRange {
        min_channels: range.channels(),
        channels: range.channels(),
        min_rate_hz: range.min_sample_rate(),
        max_rate_hz: range.max_sample_rate(),
        sample_format: range.sample_format().to_string(),
    }
}

/// Merges ranges that share a sample format into one span, keeping first-seen order:
/// ALSA lists every channel count of every format separately.
fn summarise(ranges: impl Iterator<Item = StreamRange>) -> Vec<StreamRange> {
    let mut merged: Vec<StreamRange> = Vec::new();
    for range in ranges {
        match merged.iter_mut().find(|m| m.sample_format == range.sample_format) {
            Some(m) => {
                m.min_channels = m.min_channels.min(range.min_channels);
                m.channels = m.channels.max(range.channels);
                m.min_rate_hz = m.min_rate_hz.min(range.min_rate_hz);
                m.max_rate_hz = m.max_rate_hz.max(range.max_rate_hz);
            }
            None => merged.push(range),
        }
    }
    merged
}

/// Keeps ALSA from printing its own errors to stderr while probing; the caller reports
/// problems in one line instead.
#[cfg(target_os = "linux")]
pub fn silence_alsa() -> Option<std::rc::Rc<std::cell::RefCell<alsa::Output>>> {
    alsa::Output::local_error_handler().ok()
}

/// No-op off Linux.
#[cfg(not(target_os = "linux"))]
pub fn silence_alsa() -> Option<()> {
    None
}
