//! Where the worker's snapshots go: the listener's bounded channel (drop and count when
//! full, never block), the recorder when one is attached, and the status atomics.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::Sender;

use super::events::SharedStatus;
use super::pipeline::PipelineSink;
use super::recorder::RecorderFeed;
use super::snapshot::Snapshot;

/// The worker's sink. `push_ns` and `dropped_samples` are set by the source before each
/// piece of audio goes into the pipeline.
pub struct Outputs {
    pub(crate) snapshots: Sender<Snapshot>,
    pub(crate) recorder: Option<RecorderFeed>,
    pub(crate) status: Arc<SharedStatus>,
    /// The clock that `push_ns` counts from.
    pub(crate) epoch: Instant,
    /// When the newest sample being processed entered the ring (or was read), in ns
    /// since `epoch`.
    pub(crate) push_ns: u64,
    /// Input samples dropped so far by the capture ring (all streams of the session).
    pub(crate) dropped_samples: u64,
}

impl Outputs {
    pub(crate) fn new(snapshots: Sender<Snapshot>, status: Arc<SharedStatus>, epoch: Instant) -> Self {
        Self { snapshots, recorder: None, status, epoch, push_ns: 0, dropped_samples: 0 }
    }

    /// Outputs to `snapshots` with their own status counters, timing against `epoch`
    /// (the capture's): the worker's sink outside a running engine (tests, benchmarks).
    pub fn standalone(snapshots: Sender<Snapshot>, epoch: Instant) -> Self {
        Self::new(snapshots, Arc::new(SharedStatus::default()), epoch)
    }

    /// Starts feeding a recording, from the session time `session_s` on.
    pub fn attach_recorder(&mut self, mut feed: RecorderFeed, session_s: f64) {
        feed.begin(session_s);
        self.recorder = Some(feed);
    }

    /// Snapshots dropped because the channel was full.
    pub fn dropped_snapshots(&self) -> u64 {
        self.status.dropped_snapshots.load(Ordering::Relaxed)
    }

    /// Whether every listener has room for `hops` more snapshots (and the recorder for
    /// `samples` more 16 kHz samples): lets a file source wait instead of dropping.
    pub fn has_room(&self, hops: usize, samples: usize) -> bool {
        let channel = self.snapshots.capacity().is_none_or(|cap| self.snapshots.len() + hops <= cap);
        channel && self.recorder.as_ref().is_none_or(|r| r.has_room(hops, samples))
    }

    /// Nanoseconds since `epoch`.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

impl PipelineSink for Outputs {
    fn audio(&mut self, samples_16k: &[f32]) {
        if let Some(recorder) = &mut self.recorder {
            recorder.audio(samples_16k);
        }
    }

    fn snapshot(&mut self, snapshot: &Snapshot) {
        let mut s = *snapshot;
        s.dropped_samples = self.dropped_samples;
        s.latency_ms = self.now_ns().saturating_sub(self.push_ns) as f32 / 1e6;
        if self.snapshots.try_send(s).is_err() {
            self.status.dropped_snapshots.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(recorder) = &mut self.recorder {
            recorder.snapshot(&s);
        }
        self.status.set_progress(s.time_s, s.hop_index + 1);
    }
}
