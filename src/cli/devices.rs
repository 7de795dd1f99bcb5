//! `emotrace devices`: the input devices cpal sees.

use crate::audio::{self, AudioHostReport};

pub fn run() -> anyhow::Result<()> {
    let hosts = audio::probe_inputs();
    print_inputs(&hosts);
    Ok(())
}

/// Prints each host's input devices, or one line saying there are none.
pub(super) fn print_inputs(hosts: &[AudioHostReport]) {
    if hosts.iter().all(|h| h.inputs.is_empty()) {
        let names: Vec<&str> = hosts.iter().map(|h| h.host.as_str()).collect();
        println!(
            "no audio input device found (hosts checked: {}); is there a sound card or microphone?",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
        return;
    }
    for host in hosts {
        println!("{} host:", host.host);
        if let Some(err) = &host.error {
            println!("  cannot list devices: {err}");
        }
        for device in &host.inputs {
            let marker = if device.is_default { " (default)" } else { "" };
            println!("  {}{marker}", device.name);
            if let Some(c) = &device.default_config {
                println!(
                    "    default: {} ch, {} Hz, {}",
                    c.channels, c.min_rate_hz, c.sample_format
                );
            }
            for c in &device.configs {
                println!(
                    "    supports: {}-{} ch, {}-{} Hz, {}",
                    c.min_channels, c.channels, c.min_rate_hz, c.max_rate_hz, c.sample_format
                );
            }
        }
    }
}
