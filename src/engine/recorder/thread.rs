//! The recorder thread: takes hops, markers and audio from the worker's feed, writes the
//! trace and the WAV, flushes both every [`FLUSH_INTERVAL`], and at the end (or after
//! the first write error, which stops the files but not the session) fills and saves the
//! summary.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use ringbuf::HeapCons;
use ringbuf::traits::Consumer;

use super::audio_sink::AudioSink;
use super::summary::{Interruption, SessionSummary, SummaryBuilder};
use super::summary_store::SummaryStore;
use super::trace::TraceWriter;
use super::{FLUSH_INTERVAL, RECORD_RATE_HZ, RecordItem};
use crate::engine::events::EngineEvent;

/// The recorder thread's state.
pub(super) struct RecorderThread {
    pub(super) items: Receiver<RecordItem>,
    pub(super) audio: HeapCons<f32>,
    pub(super) audio_buf: Vec<f32>,
    pub(super) trace: TraceWriter,
    pub(super) wav: AudioSink,
    pub(super) summary: SessionSummary,
    pub(super) summary_store: SummaryStore,
    pub(super) builder: SummaryBuilder,
    pub(super) begin_s: Option<f64>,
    pub(super) dropped_rows: Arc<AtomicU64>,
    pub(super) dropped_audio: Arc<AtomicU64>,
    pub(super) events: Sender<EngineEvent>,
    pub(super) failed: bool,
    /// The first write error, once writing has failed.
    pub(super) write_error: Option<String>,
    /// Samples handed to the recorder, written or not: the recording's length.
    pub(super) received_samples: u64,
}

impl RecorderThread {
    pub(super) fn run(mut self) -> SessionSummary {
        let mut last_flush = Instant::now();
        loop {
            let ended = match self.items.recv_timeout(FLUSH_INTERVAL / 4) {
                Ok(item) => self.handle(item) || self.drain_items(),
                Err(RecvTimeoutError::Timeout) => false,
                Err(RecvTimeoutError::Disconnected) => true,
            };
            self.drain_audio();
            if ended {
                break;
            }
            if last_flush.elapsed() >= FLUSH_INTERVAL {
                self.flush();
                last_flush = Instant::now();
            }
        }
        self.finish()
    }

    /// Handles queued items without waiting; true once `End` arrives.
    fn drain_items(&mut self) -> bool {
        while let Ok(item) = self.items.try_recv() {
            if self.handle(item) {
                return true;
            }
        }
        false
    }

    /// Handles one item; true for `End`.
    fn handle(&mut self, item: RecordItem) -> bool {
        match item {
            RecordItem::Begin { session_s } => {
                self.begin_s = Some(session_s);
                self.summary.start_session_s = session_s;
            }
            RecordItem::Snapshot(snapshot) => {
                let Some(begin_s) = self.begin_s else { return false };
                // Frames centred before the first recorded sample belong to the time
                // before recording started.
                if snapshot.time_s + 1e-9 < begin_s {
                    return false;
                }
                self.builder.add(&snapshot);
                let result = self.trace.snapshot(&snapshot, snapshot.time_s - begin_s, snapshot.time_s);
                self.check(result);
            }
            RecordItem::Marker(marker) => {
                let t_s = marker.time_s - self.begin_s.unwrap_or(marker.time_s);
                let result = self.trace.marker(&marker, t_s.max(0.0));
                self.check(result);
                self.summary.markers.push(marker);
            }
            RecordItem::Interrupted { session_s, reason } => {
                let at_s = session_s - self.begin_s.unwrap_or(session_s);
                self.summary.interruptions.push(Interruption { at_s, reason });
            }
            RecordItem::End => return true,
        }
        false
    }

    fn drain_audio(&mut self) {
        loop {
            let n = self.audio.pop_slice(&mut self.audio_buf);
            if n == 0 {
                break;
            }
            self.received_samples += n as u64;
            if !self.failed {
                let result = self.wav.write(&self.audio_buf[..n]);
                self.check(result);
            }
        }
    }

    fn flush(&mut self) {
        if self.failed {
            return;
        }
        let result = self.trace.flush().and_then(|()| self.wav.flush());
        self.check(result);
    }

    /// Reports the first write error and stops writing (what is on disk stays valid).
    fn check(&mut self, result: std::io::Result<()>) {
        if let Err(err) = result
            && !self.failed
        {
            self.failed = true;
            self.write_error = Some(err.to_string());
            let reason = format!(
                "recording stopped at {:.1} s, files kept up to the last flush (the session goes on): {err}",
                self.wav.kept_s()
            );
            let _ = self.events.try_send(EngineEvent::RecorderFailed { reason });
        }
    }

    fn finish(mut self) -> SessionSummary {
        self.drain_items();
        self.drain_audio();
        self.builder.fill(&mut self.summary);
        // NOTE: the length counts audio received after a write error too: the summary
        // describes the session; `kept_s` says how much of it the files hold.
        self.summary.duration_s = self.received_samples as f64 / f64::from(RECORD_RATE_HZ);
        self.summary.dropped_trace_rows = self.dropped_rows.load(Ordering::Relaxed);
        self.summary.dropped_audio_samples = self.dropped_audio.load(Ordering::Relaxed);
        if !self.failed {
            let trace = self.trace.finish();
            let wav = self.wav.finish();
            let result = trace.and(wav);
            self.check(result);
        }
        self.summary.kept_s = self.wav.kept_s();
        self.summary.write_error.clone_from(&self.write_error);
        self.summary.complete = !self.failed;
        let saved = self.summary_store.save(&self.summary);
        self.check(saved);
        let summary = Box::new(self.summary.clone());
        let _ = self.events.try_send(EngineEvent::RecordingStopped { summary });
        self.summary
    }
}
