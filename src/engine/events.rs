//! What the engine reports besides snapshots: rare [`EngineEvent`]s over a small bounded
//! channel, and an [`EngineStatus`] read from atomics at any time (no locks).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use super::recorder::SessionSummary;

/// Something that happened to the session, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The source is open and audio flows (also sent after a reconnect).
    Started {
        /// Device name or file path.
        source: String,
        /// The source's own sample rate, in Hz.
        sample_rate_hz: u32,
        /// The source's channel count (mixed to mono).
        channels: u16,
        /// The source's sample format (`f32`, `i16`, ...; `file` for files).
        format: String,
    },
    /// The input device stopped delivering audio; the engine keeps the session and
    /// retries every `EngineConfig::reconnect_ms`.
    DeviceLost {
        /// Device name.
        device: String,
        /// What went wrong, one line.
        reason: String,
        /// Stream time when it happened, in seconds.
        at_s: f64,
    },
    /// A reopen attempt failed; another follows.
    ReconnectFailed {
        /// Attempt number since the loss (1, 2, ...).
        attempt: u32,
        /// Why it failed, one line.
        reason: String,
    },
    /// Samples were dropped because the worker fell behind (reported at most once a second).
    Overrun {
        /// Total samples dropped so far.
        dropped_samples: u64,
    },
    /// A file source reached its end; every frame of it has been sent.
    SourceFinished,
    /// The source failed for good (e.g. a file turned out corrupt mid-way); the session
    /// keeps what it had and analyses nothing more.
    SourceFailed {
        /// What went wrong, one line.
        reason: String,
    },
    /// Recording started into this folder.
    RecordingStarted {
        /// The session folder.
        dir: PathBuf,
    },
    /// Recording stopped; the files are complete.
    RecordingStopped {
        /// What the session folder now holds.
        summary: Box<SessionSummary>,
    },
    /// Recording hit an error (disk full, folder gone); what was written so far is kept.
    RecorderFailed {
        /// What went wrong, one line.
        reason: String,
    },
}

/// Where the session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Analysing audio.
    Running,
    /// Paused by the user: audio is discarded (live) or not read (file).
    Paused,
    /// The device is gone; trying to reopen it.
    Reconnecting,
    /// A file source ended.
    Finished,
    /// The worker has stopped.
    Stopped,
}

impl RunState {
    fn code(self) -> u8 {
        match self {
            RunState::Running => 0,
            RunState::Paused => 1,
            RunState::Reconnecting => 2,
            RunState::Finished => 3,
            RunState::Stopped => 4,
        }
    }

    fn from_code(code: u8) -> Self {
        match code {
            0 => RunState::Running,
            1 => RunState::Paused,
            2 => RunState::Reconnecting,
            3 => RunState::Finished,
            _ => RunState::Stopped,
        }
    }
}

/// A point-in-time view of the session's counters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineStatus {
    /// Where the session stands.
    pub state: RunState,
    /// Stream time of the newest snapshot, in seconds.
    pub time_s: f64,
    /// Hops analysed so far.
    pub hops: u64,
    /// Input samples dropped because the capture ring was full.
    pub dropped_samples: u64,
    /// Snapshots dropped because a listener's channel was full.
    pub dropped_snapshots: u64,
    /// Over/underruns the audio backend reported.
    pub xruns: u64,
    /// Whether a recording is running.
    pub recording: bool,
}

/// The atomics behind [`EngineStatus`], written by the worker.
#[derive(Debug, Default)]
pub(crate) struct SharedStatus {
    state: AtomicU8,
    time_s_bits: AtomicU64,
    hops: AtomicU64,
    pub(crate) dropped_samples: AtomicU64,
    pub(crate) dropped_snapshots: AtomicU64,
    pub(crate) xruns: AtomicU64,
    pub(crate) recording: AtomicBool,
}

impl SharedStatus {
    pub(crate) fn set_state(&self, state: RunState) {
        self.state.store(state.code(), Ordering::Relaxed);
    }

    pub(crate) fn state(&self) -> RunState {
        RunState::from_code(self.state.load(Ordering::Relaxed))
    }

    pub(crate) fn set_progress(&self, time_s: f64, hops: u64) {
        self.time_s_bits.store(time_s.to_bits(), Ordering::Relaxed);
        self.hops.store(hops, Ordering::Relaxed);
    }

    pub(crate) fn time_s(&self) -> f64 {
        f64::from_bits(self.time_s_bits.load(Ordering::Relaxed))
    }

    pub(crate) fn snapshot(&self) -> EngineStatus {
        EngineStatus {
            state: self.state(),
            time_s: self.time_s(),
            hops: self.hops.load(Ordering::Relaxed),
            dropped_samples: self.dropped_samples.load(Ordering::Relaxed),
            dropped_snapshots: self.dropped_snapshots.load(Ordering::Relaxed),
            xruns: self.xruns.load(Ordering::Relaxed),
            recording: self.recording.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_atomics() {
        let shared = SharedStatus::default();
        assert_eq!(shared.state(), RunState::Running);
        shared.set_state(RunState::Reconnecting);
        shared.set_progress(12.34, 1234);
        shared.dropped_samples.store(7, Ordering::Relaxed);
        let status = shared.snapshot();
        assert_eq!(status.state, RunState::Reconnecting);
        assert_eq!(status.time_s, 12.34);
        assert_eq!(status.hops, 1234);
        assert_eq!(status.dropped_samples, 7);
        for state in [RunState::Running, RunState::Paused, RunState::Finished, RunState::Stopped] {
            shared.set_state(state);
            assert_eq!(shared.state(), state);
        }
    }
}
