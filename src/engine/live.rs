//! The live source: drains the capture ring into the pipeline, measures latency from
//! the push stamps, and survives the device going away (reports it, keeps the session,
//! reopens the device every `reconnect_ms`).
//!
//! Steady state ([`LiveSource::tick`] with data in the ring) pops into a buffer sized in
//! `new` and pushes through the pipeline: no allocation. Losing and reopening a device
//! allocates (new stream, new ring), which is fine: no audio flows then.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use ringbuf::traits::Consumer;

use super::config::{CaptureRequest, EngineConfig};
use super::events::{EngineEvent, RunState, SharedStatus};
use super::outputs::Outputs;
use super::pipeline::Pipeline;
use crate::audio::capture::{Capture, CaptureReader, PushStamp, open_capture};

/// Samples popped from the ring at a time.
const POP_CHUNK: usize = 4_096;
/// Most samples one tick processes, so commands are applied between ticks even when
/// the ring is full (a backlog, or a device delivering faster than real time).
const MAX_TICK: usize = 4 * POP_CHUNK;
/// No audio for this long from a running device counts as losing it.
const STALL: Duration = Duration::from_secs(3);

/// What a tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Processed audio; call again at once.
    Busy,
    /// Nothing to do; sleep a little.
    Idle,
}

/// Moves samples from a capture ring into a pipeline: what the live worker does with
/// data, and all it does in steady state (no allocation after `new`).
pub struct RingDrain {
    /// Samples popped from the current reader.
    consumed: u64,
    /// The newest stamp popped that still covers unconsumed samples.
    stamp: Option<PushStamp>,
    chunk: Vec<f32>,
}

impl Default for RingDrain {
    fn default() -> Self {
        Self::new()
    }
}

impl RingDrain {
    /// A drain with its pop buffer allocated.
    pub fn new() -> Self {
        Self { consumed: 0, stamp: None, chunk: vec![0.0; POP_CHUNK] }
    }

    /// Starts over for a new ring (after a reconnect).
    pub fn reset(&mut self) {
        self.consumed = 0;
        self.stamp = None;
    }

    /// Pops up to `available` samples and pushes them through `pipeline`, in pieces that
    /// each lie within one callback's block, so each piece's push time (and so each
    /// snapshot's latency) is exact.
    pub fn process(
        &mut self,
        reader: &mut CaptureReader,
        available: usize,
        pipeline: &mut Pipeline,
        outputs: &mut Outputs,
    ) {
        let mut left = available;
        while left > 0 {
            // The stamp of the block holding the next sample (skip blocks already done).
            while self.stamp.is_none_or(|s| s.end_sample <= self.consumed) {
                match reader.stamps.try_pop() {
                    Some(s) => self.stamp = Some(s),
                    None => break,
                }
            }
            let (limit, push_ns) = match self.stamp {
                Some(s) if s.end_sample > self.consumed => ((s.end_sample - self.consumed) as usize, s.at_ns),
                // The callback pushed samples but not yet their stamp (or the stamp ring
                // overflowed): the samples are newer than any stamp, so "now" is close.
                _ => (left, outputs.now_ns()),
            };
            let n = reader.samples.pop_slice(&mut self.chunk[..left.min(limit).min(POP_CHUNK)]);
            if n == 0 {
                break;
            }
            self.consumed += n as u64;
            left -= n;
            outputs.push_ns = push_ns;
            pipeline.push(&self.chunk[..n], outputs);
        }
    }

    /// Pops and forgets up to `available` samples (while paused).
    pub fn discard(&mut self, reader: &mut CaptureReader, mut available: usize) {
        while available > 0 {
            let n = reader.samples.pop_slice(&mut self.chunk[..available.min(POP_CHUNK)]);
            if n == 0 {
                break;
            }
            self.consumed += n as u64;
            available -= n;
        }
    }
}

struct Lost {
    attempts: u32,
    next_try: Instant,
}

/// A device being captured, or waiting to come back.
pub(crate) struct LiveSource {
    device: Option<String>,
    request: CaptureRequest,
    ring_ms: u32,
    reconnect: Duration,
    /// Whether a lost device can be reopened (false for a caller-fed ring).
    reopenable: bool,
    capture: Option<Capture>,
    reader: Option<CaptureReader>,
    drain: RingDrain,
    /// Drops and xruns of earlier streams of this session.
    dropped_base: u64,
    xruns_base: u64,
    reported_dropped: u64,
    last_report: Instant,
    last_data: Instant,
    lost: Option<Lost>,
    was_paused: bool,
    /// Started paused and not yet resumed: audio waits in the ring instead of being
    /// discarded (the ring's capacity bounds the wait; beyond it samples are dropped).
    holding: bool,
    events: Sender<EngineEvent>,
    status: Arc<SharedStatus>,
}

impl LiveSource {
    /// Wraps an opened capture, or (with `capture` `None`) a ring the caller feeds,
    /// which cannot be reopened when lost.
    pub(crate) fn new(
        device: Option<String>,
        config: &EngineConfig,
        capture: Option<Capture>,
        reader: CaptureReader,
        events: Sender<EngineEvent>,
        status: Arc<SharedStatus>,
    ) -> Self {
        Self {
            device,
            request: config.capture,
            ring_ms: config.ring_ms,
            reconnect: Duration::from_millis(u64::from(config.reconnect_ms)),
            reopenable: capture.is_some(),
            capture,
            reader: Some(reader),
            drain: RingDrain::new(),
            dropped_base: 0,
            xruns_base: 0,
            reported_dropped: 0,
            last_report: Instant::now(),
            last_data: Instant::now(),
            lost: None,
            was_paused: false,
            holding: config.start_paused,
            events,
            status,
        }
    }

    /// Does one round of work: process what the ring holds, or handle a lost device.
    pub(crate) fn tick(&mut self, pipeline: &mut Pipeline, outputs: &mut Outputs) -> Tick {
        if self.lost.is_some() {
            self.try_reconnect(pipeline, outputs);
            return Tick::Idle;
        }
        let Some(reader) = self.reader.as_ref() else { return Tick::Idle };
        if let Some(fault) = reader.counters.fault() {
            self.lose(fault.describe(), pipeline, outputs);
            return Tick::Idle;
        }
        let available = reader.available();
        self.publish_counters(outputs);
        if available == 0 {
            let running = self.status.state() == RunState::Running;
            if running && self.last_data.elapsed() >= STALL {
                self.lose("no audio from the input device for 3 s", pipeline, outputs);
            }
            return Tick::Idle;
        }
        self.last_data = Instant::now();
        let Some(reader) = self.reader.as_mut() else { return Tick::Idle };
        if self.status.state() == RunState::Paused {
            if self.holding {
                // Started paused: keep the first audio in the ring for when it resumes.
                return Tick::Idle;
            }
            self.drain.discard(reader, available.min(MAX_TICK));
            self.was_paused = true;
            return Tick::Idle;
        }
        self.holding = false;
        if self.was_paused {
            self.was_paused = false;
            pipeline.break_stream();
        }
        self.drain.process(reader, available.min(MAX_TICK), pipeline, outputs);
        Tick::Busy
    }

    fn publish_counters(&mut self, outputs: &mut Outputs) {
        let Some(reader) = &self.reader else { return };
        let dropped = self.dropped_base + reader.counters.dropped_samples.load(Ordering::Relaxed);
        let xruns = self.xruns_base + reader.counters.xruns.load(Ordering::Relaxed);
        outputs.dropped_samples = dropped;
        self.status.dropped_samples.store(dropped, Ordering::Relaxed);
        self.status.xruns.store(xruns, Ordering::Relaxed);
        if dropped > self.reported_dropped && self.last_report.elapsed() >= Duration::from_secs(1) {
            self.reported_dropped = dropped;
            self.last_report = Instant::now();
            let _ = self.events.try_send(EngineEvent::Overrun { dropped_samples: dropped });
        }
    }

    /// Makes the next tick handle a lost device (fault injection).
    pub(crate) fn simulate_loss(&self) {
        if let Some(reader) = &self.reader {
            reader.counters.inject_device_loss();
        }
    }

    fn lose(&mut self, reason: &str, pipeline: &mut Pipeline, outputs: &mut Outputs) {
        self.publish_counters(outputs);
        let device = self.device_label();
        if let Some(reader) = &self.reader {
            self.dropped_base += reader.counters.dropped_samples.load(Ordering::Relaxed);
            self.xruns_base += reader.counters.xruns.load(Ordering::Relaxed);
        }
        self.capture = None;
        self.reader = None;
        self.drain.reset();
        pipeline.break_stream();
        let at_s = pipeline.stream_time_s();
        if let Some(recorder) = &mut outputs.recorder {
            recorder.interrupted(at_s, reason);
        }
        let _ = self.events.try_send(EngineEvent::DeviceLost { device, reason: reason.to_owned(), at_s });
        if !self.reopenable {
            self.status.set_state(RunState::Finished);
            let reason = format!("{reason}; this source cannot be reopened");
            let _ = self.events.try_send(EngineEvent::SourceFailed { reason });
            return;
        }
        self.status.set_state(RunState::Reconnecting);
        self.lost = Some(Lost { attempts: 0, next_try: Instant::now() + self.reconnect });
    }

    fn try_reconnect(&mut self, pipeline: &mut Pipeline, outputs: &mut Outputs) {
        let Some(lost) = &mut self.lost else { return };
        if Instant::now() < lost.next_try {
            return;
        }
        lost.attempts += 1;
        lost.next_try = Instant::now() + self.reconnect;
        let attempt = lost.attempts;
        let opened = open_capture(self.device.as_deref(), &self.request, self.ring_ms)
            .map_err(|e| e.to_string())
            .and_then(|(capture, reader)| {
                pipeline.set_input_rate(capture.info.sample_rate_hz).map_err(|e| e.to_string())?;
                Ok((capture, reader))
            });
        match opened {
            Ok((capture, reader)) => {
                let info = capture.info.clone();
                outputs.epoch = reader.epoch;
                self.capture = Some(capture);
                self.reader = Some(reader);
                self.lost = None;
                self.last_data = Instant::now();
                self.status.set_state(RunState::Running);
                let _ = self.events.try_send(EngineEvent::Started {
                    source: info.device,
                    sample_rate_hz: info.sample_rate_hz,
                    channels: info.channels,
                    format: info.format,
                });
            }
            Err(reason) => {
                let _ = self.events.try_send(EngineEvent::ReconnectFailed { attempt, reason });
            }
        }
    }

    fn device_label(&self) -> String {
        self.capture
            .as_ref()
            .map(|c| c.info.device.clone())
            .or_else(|| self.device.clone())
            .unwrap_or_else(|| "default input".to_owned())
    }
}
