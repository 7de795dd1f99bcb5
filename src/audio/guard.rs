//! A fence around third-party decoders: [`guarded`] runs a closure and turns a panic
//! inside it into an `Err` with the panic's message, without the panic being printed.
//!
//! symphonia can panic on some malformed files (index or arithmetic overflow deep in a
//! demuxer or codec). A corrupt file must give one error line naming the file, not a
//! crash, so every call into symphonia goes through here.
//!
//! Assumptions: the workspace builds with `panic = "unwind"` (the default); a decoder
//! that panicked is never used again (its state may be inconsistent).

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while this thread runs a guarded closure: its panics are expected and caught.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Installs (once per process) a panic hook that stays silent for panics inside
/// [`guarded`] and hands every other panic to the hook that was there before.
fn install_quiet_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside it comes back as `Err(message)` and is not printed.
///
/// `f` must not leave shared state half-changed that the caller relies on afterwards:
/// callers drop (or never reuse) whatever `f` was working on when it panicked.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    let outer = GUARDED.with(|g| g.replace(true));
    // NOTE: AssertUnwindSafe: after a panic the decoder is marked finished and dropped by
    // the caller, so no broken invariant is observed.
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    result.map_err(|payload| panic_message(payload.as_ref()))
}

/// The text of a panic payload (`&str` or `String`), or a generic description.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the decoder panicked".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic inside becomes an error with its message; values pass through.
    #[test]
    fn panics_become_errors() {
        assert_eq!(guarded(|| 7), Ok(7));
        let err = guarded(|| -> u8 { panic!("index {} out of range", 9) });
        assert_eq!(err, Err("index 9 out of range".to_owned()));
        // Nested guards restore the outer state.
        assert_eq!(guarded(|| guarded(|| -> u8 { panic!("inner") }).is_err()), Ok(true));
    }
}
