//! Settings survive a restart: changed in the window, saved to the config folder, and a
//! new app built on the same folder starts with them.

mod ui_common;

use egui_kittest::kittest::Queryable;
use emotrace::app::{Settings, ThemeChoice};
use ui_common::{harness, options};

#[test]
fn settings_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(options(dir.path()));
    h.run_steps(1);
    assert_eq!(h.state().settings, Settings::default(), "a fresh folder gives the defaults");
    // Change some through the widgets, some directly.
    h.get_by_label("Settings").click();
    h.run_steps(2);
    h.get_by_label("light").click();
    h.get_by_label("as fast as possible").click();
    h.run_steps(1);
    {
        let app = h.state_mut();
        app.settings.smoothing_ms = 600.0;
        app.settings.silence_threshold_dbfs = -42.0;
        app.settings.trace_window_s = 90.0;
        app.settings.device = Some("hw:3,0".into());
    }
    h.run_steps(2);
    let before = h.state().settings.clone();
    assert_eq!(before.theme, ThemeChoice::Light);
    assert!(before.replay_fast);
    drop(h);

    let h2 = harness(options(dir.path()));
    assert_eq!(h2.state().settings, before);
    assert_eq!(h2.state().settings.engine_config().smoothing_ms, 600.0);
}
