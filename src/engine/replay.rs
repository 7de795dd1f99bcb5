//! The file source: decodes a file a packet at a time and feeds the pipeline at 1x (as if
//! live, paced by the clock) or as fast as possible (paced by the listeners: it waits
//! while their channels are full, so nothing is dropped).
//!
//! Decoding allocates (symphonia hands out packets on the heap), so unlike the live
//! source a file replay's worker is not allocation-free; the pipeline behind it is.

use std::time::{Duration, Instant};

use super::config::Pace;
use super::error::EngineError;
use super::live::Tick;
use super::outputs::Outputs;
use super::pipeline::Pipeline;
use crate::audio::decode::AudioFileReader;

/// Samples fed to the pipeline at a time.
const FEED_CHUNK: usize = 1_024;

/// Where a replay stands after a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplayTick {
    /// Still going.
    Going(Tick),
    /// The file has ended and every frame has been handed out.
    Finished,
}

/// A file being replayed.
pub(crate) struct FileSource {
    reader: AudioFileReader,
    pace: Pace,
    pending: Vec<f32>,
    pos: usize,
    fed: u64,
    clock: Option<Instant>,
    paused_at: Option<Instant>,
    paused_for: Duration,
    hop_samples: usize,
    /// Samples still to skip from the file's start (a seek), in the file's rate.
    skip_samples: u64,
}

impl FileSource {
    /// Wraps an opened file. `hop_samples` (at the file's rate) sizes the wait for room;
    /// the first `skip_samples` are decoded and dropped (a replay that starts later).
    pub(crate) fn new(reader: AudioFileReader, pace: Pace, hop_samples: usize, skip_samples: u64) -> Self {
        Self {
            reader,
            pace,
            pending: Vec::with_capacity(65_536),
            pos: 0,
            fed: 0,
            clock: None,
            paused_at: None,
            paused_for: Duration::ZERO,
            hop_samples: hop_samples.max(1),
            skip_samples,
        }
    }

    /// The file's channel count.
    pub(crate) fn channels(&self) -> usize {
        self.reader.channels()
    }

    /// Notes that the session is paused (time stops for the 1x clock).
    pub(crate) fn set_paused(&mut self, paused: bool, pipeline: &mut Pipeline) {
        match (paused, self.paused_at) {
            (true, None) => self.paused_at = Some(Instant::now()),
            (false, Some(at)) => {
                self.paused_for += at.elapsed();
                self.paused_at = None;
                pipeline.break_stream();
            }
            _ => {}
        }
    }

    /// Feeds the next piece, if its time has come and the listeners have room.
    pub(crate) fn tick(
        &mut self,
        pipeline: &mut Pipeline,
        outputs: &mut Outputs,
    ) -> Result<ReplayTick, EngineError> {
        if self.paused_at.is_some() {
            return Ok(ReplayTick::Going(Tick::Idle));
        }
        while self.pos == self.pending.len() {
            self.pos = 0;
            let n =
                self.reader.read_chunk(&mut self.pending).map_err(|e| EngineError::File(e.to_string()))?;
            if n == 0 {
                outputs.push_ns = outputs.now_ns();
                pipeline.finish(outputs);
                return Ok(ReplayTick::Finished);
            }
            let skip = usize::try_from(self.skip_samples).unwrap_or(usize::MAX).min(n);
            self.skip_samples -= skip as u64;
            self.pos = skip;
        }
        let clock = *self.clock.get_or_insert_with(Instant::now);
        let rate = f64::from(self.reader.sample_rate_hz());
        let left = self.pending.len() - self.pos;
        let n = match self.pace {
            Pace::Realtime => {
                let active = clock.elapsed().saturating_sub(self.paused_for).as_secs_f64();
                let due = (active * rate) as u64;
                left.min(usize::try_from(due.saturating_sub(self.fed)).unwrap_or(usize::MAX)).min(FEED_CHUNK)
            }
            Pace::Fast => {
                let hops = FEED_CHUNK / self.hop_samples + 2;
                if !outputs.has_room(hops, FEED_CHUNK * 4) {
                    return Ok(ReplayTick::Going(Tick::Idle));
                }
                left.min(FEED_CHUNK)
            }
        };
        if n == 0 {
            return Ok(ReplayTick::Going(Tick::Idle));
        }
        outputs.push_ns = match self.pace {
            // The newest sample of this piece became due at this instant.
            Pace::Realtime => {
                let due =
                    clock + self.paused_for + Duration::from_secs_f64((self.fed + n as u64) as f64 / rate);
                u64::try_from(due.saturating_duration_since(outputs.epoch).as_nanos()).unwrap_or(u64::MAX)
            }
            Pace::Fast => outputs.now_ns(),
        };
        pipeline.push(&self.pending[self.pos..self.pos + n], outputs);
        self.pos += n;
        self.fed += n as u64;
        Ok(ReplayTick::Going(Tick::Busy))
    }
}
