//! The device picker lists exactly what the audio layer reports (on a machine without a
//! sound card that may be nothing, and the picker says so), and picking one sets it.

mod ui_common;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use emotrace::audio::devices::{AudioHostReport, InputDeviceInfo, probe_inputs};
use ui_common::{harness, options, step_until};

fn fake_device(name: &str, is_default: bool) -> InputDeviceInfo {
    InputDeviceInfo { name: name.to_owned(), is_default, default_config: None, configs: Vec::new() }
}

/// The background probe's list equals `probe_inputs`' device names, in order.
#[test]
fn picker_lists_what_the_audio_layer_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    opts.probe_devices = true;
    let mut h = harness(opts);
    step_until(&mut h, "the device probe", Duration::from_secs(60), |app| app.input.devices.is_some());
    let reported: Vec<String> =
        probe_inputs().iter().flat_map(|r| r.inputs.iter().map(|d| d.name.clone())).collect();
    assert_eq!(h.state().input.devices.as_ref().unwrap(), &reported);
    h.run_steps(1);
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Input").click();
    h.run_steps(2);
    if reported.is_empty() {
        h.get_by_label("(no input devices found)");
    }
    for name in &reported {
        assert!(h.query_all_by_label(name).count() >= 1, "{name} not offered");
    }
}

/// A reported device shows in the open picker; choosing it sets (and saves) the setting.
#[test]
fn choosing_a_device_sets_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    let report = AudioHostReport {
        host: "ALSA".into(),
        inputs: vec![fake_device("default", true), fake_device("hw:7,0", false)],
        error: None,
    };
    h.state_mut().input.set_devices(&[report]);
    h.run_steps(1);
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Input").click();
    h.run_steps(2);
    h.get_by_label("hw:7,0").click();
    h.run_steps(2);
    assert_eq!(h.state().settings.device.as_deref(), Some("hw:7,0"));
    let saved = emotrace::app::Settings::load(&dir.path().join("config"));
    assert_eq!(saved.device.as_deref(), Some("hw:7,0"));
}
