//! SIGINT, SIGTERM and SIGHUP (Ctrl-C, a service manager, `timeout`, a closed terminal) end
//! a session as its stop button does: a thread waits for them and calls back.
//!
//! NOTE: signal-hook rather than ctrlc: ctrlc refuses all three when any one is already
//! ignored (`nohup` ignores SIGHUP), and SIGTERM then killed the process mid-recording.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Calls `on_signal`, on a thread of its own, each time one of the three signals arrives.
pub fn on_stop_signal(mut on_signal: impl FnMut() + Send + 'static) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new().name("stop-signals".into()).spawn(move || {
        for _ in signals.forever() {
            on_signal();
        }
    })?;
    Ok(())
}
