//! `emotrace devices`: the input devices cpal sees.

use std::io::{self, Write};

use crate::audio::{self, AudioHostReport};

pub fn run(out: &mut impl Write) -> io::Result<()> {
    print_inputs(out, &audio::probe_inputs())
}

/// Prints each host's input devices, or one line saying there are none.
pub(super) fn print_inputs(out: &mut impl Write, hosts: &[AudioHostReport]) -> io::Result<()> {
    if hosts.iter().all(|h| h.inputs.is_empty()) {
        let names: Vec<&str> = hosts.iter().map(|h| h.host.as_str()).collect();
        let checked = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
        return writeln!(
            out,
            "no audio input device found (hosts checked: {checked}); is there a sound card or microphone?"
        );
    }
    for host in hosts {
        writeln!(out, "{} host:", host.host)?;
        if let Some(err) = &host.error {
            writeln!(out, "  cannot list devices: {err}")?;
        }
        for device in &host.inputs {
            let marker = if device.is_default { " (default)" } else { "" };
            writeln!(out, "  {}{marker}", device.name)?;
            if let Some(c) = &device.default_config {
                writeln!(out, "    default: {} ch, {} Hz, {}", c.channels, c.min_rate_hz, c.sample_format)?;
            }
            for c in &device.configs {
                writeln!(
                    out,
                    "    supports: {}-{} ch, {}-{} Hz, {}",
                    c.min_channels, c.channels, c.min_rate_hz, c.max_rate_hz, c.sample_format
                )?;
            }
        }
    }
    Ok(())
}
