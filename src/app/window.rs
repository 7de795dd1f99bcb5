//! Opening the native window: eframe with the glow (OpenGL) renderer, which also runs
//! on Mesa's software rasteriser (Xvfb, no GPU).

use anyhow::bail;

use super::monitor::{MonitorApp, WindowOptions};

/// Whether a display server is named in the environment (X11 or Wayland).
pub fn display_available() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Opens the monitor window and runs it until it is closed.
pub fn run_window(options: WindowOptions) -> anyhow::Result<()> {
    if !display_available() {
        bail!(
            "no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); run `emotrace monitor --headless` instead"
        );
    }
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("emotrace monitor")
            .with_inner_size([1560.0, 960.0])
            .with_min_inner_size([900.0, 600.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Glow,
        glow_options: eframe::egui_glow::GlowConfiguration { vsync: true, ..Default::default() },
        ..eframe::NativeOptions::default()
    };
    let result = eframe::run_native(
        "emotrace",
        native,
        Box::new(move |cc| {
            // SIGINT, SIGTERM and SIGHUP (a service manager, `timeout`, a closed terminal)
            // close the window as its close button does: the session and its recording
            // end cleanly in `on_exit`.
            let ctx = cc.egui_ctx.clone();
            let _ = crate::engine::stop_signals::on_stop_signal(move || {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                ctx.request_repaint();
            });
            Ok(Box::new(MonitorApp::new(&cc.egui_ctx, options)))
        }),
    );
    match result {
        Ok(()) => Ok(()),
        Err(e) => bail!("cannot open the monitor window: {e}"),
    }
}
