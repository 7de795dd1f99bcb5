//! Hearing a 1x replay: the file is decoded again on its own thread and played on the
//! default output device while the engine analyses it. Without an output device (a
//! server, CI) the replay simply runs silently.
//!
//! The thread owns everything (the cpal stream is not `Send` on every platform): it opens
//! the device, then decodes, resamples linearly to the device rate and pushes into a ring;
//! the output callback only pops from the ring (silence when paused or empty), as the
//! capture callback does in reverse. Sync with the analysis is by starting together;
//! the device's own output latency (tens of ms) is not compensated.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use crossbeam_channel::Sender;
use ringbuf::HeapRb;
use ringbuf::traits::{Consumer, Observer, Producer, Split};

use crate::audio::decode::AudioFileReader;
use crate::audio::devices::silence_alsa;

/// Audio buffered ahead of the device, in seconds.
const AHEAD_S: f64 = 0.25;

/// A file playing on the output device; dropping it stops the sound.
pub struct Playback {
    stop: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Playback {
    /// Starts playing `path` from `start_at_s`; problems (no output device, unreadable
    /// file) are sent on `notices` as one line and the thread ends.
    pub fn start(path: PathBuf, start_at_s: f64, notices: Sender<String>) -> Option<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(AtomicBool::new(false));
        let flags = (Arc::clone(&stop), Arc::clone(&paused));
        let thread = std::thread::Builder::new()
            .name("emotrace-ui-playback".into())
            .spawn(move || {
                if let Err(reason) = play(&path, start_at_s, &flags.0, flags.1) {
                    let _ = notices.try_send(reason);
                }
            })
            .ok()?;
        Some(Self { stop, paused, thread: Some(thread) })
    }

    /// Silences (or resumes) the output; the file position stays.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The playback thread: open the device, feed it until the end, the stop flag or an error.
fn play(
    path: &std::path::Path,
    start_at_s: f64,
    stop: &AtomicBool,
    paused: Arc<AtomicBool>,
) -> Result<(), String> {
    let quiet = silence_alsa();
    let host = cpal::default_host();
    let device =
        host.default_output_device().ok_or("no audio output device: the replay is analysed silently")?;
    let supported = device
        .default_output_config()
        .map_err(|e| format!("no usable audio output ({e}): replaying silently"))?;
    drop(quiet);
    let config = supported.config();
    let device_rate = f64::from(config.sample_rate);
    let channels = usize::from(config.channels.max(1));
    let mut reader =
        AudioFileReader::open(path).map_err(|e| format!("cannot play {}: {e}", path.display()))?;
    let file_rate = f64::from(reader.sample_rate_hz());
    let (mut producer, mut consumer) = HeapRb::<f32>::new((device_rate * AHEAD_S) as usize + 1).split();
    let playing = Arc::clone(&paused);
    let on_data = move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
        for frame in out.chunks_mut(channels) {
            let v = if playing.load(Ordering::Relaxed) { 0.0 } else { consumer.try_pop().unwrap_or(0.0) };
            frame.fill(v);
        }
    };
    let stream = device
        .build_output_stream::<f32, _, _>(config, on_data, |_| {}, None)
        .map_err(|e| format!("cannot open the audio output ({e}): replaying silently"))?;
    stream.play().map_err(|e| format!("cannot start the audio output ({e}): replaying silently"))?;
    // Resampling to the device rate happens here, not in the callback.
    let mut resampler = LinearResampler::new(file_rate, device_rate);
    let mut skip = (start_at_s.max(0.0) * file_rate).round() as u64;
    let mut chunk = Vec::new();
    let mut resampled = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let n = reader.read_chunk(&mut chunk).map_err(|e| format!("cannot play {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        let drop_n = usize::try_from(skip.min(n as u64)).unwrap_or(n);
        skip -= drop_n as u64;
        resampled.clear();
        resampler.process(&chunk[drop_n..], &mut resampled);
        let mut rest = &resampled[..];
        while !rest.is_empty() && !stop.load(Ordering::Relaxed) {
            let pushed = producer.push_slice(rest);
            rest = &rest[pushed..];
            if producer.is_full() || pushed == 0 {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    // Let the ring drain before the stream is dropped.
    while !stop.load(Ordering::Relaxed) && !producer.is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Linear-interpolation resampling, chunk by chunk (the result does not depend on how the
/// input is cut). Good enough for listening along; the analysis uses its own resampler.
#[derive(Debug, Clone)]
pub struct LinearResampler {
    /// Input samples per output sample.
    step: f64,
    /// Next output position, in input samples relative to the next chunk's first sample.
    pos: f64,
    /// The last input sample seen (position -1 of the next chunk).
    prev: f32,
}

impl LinearResampler {
    /// From `from_hz` to `to_hz`.
    pub fn new(from_hz: f64, to_hz: f64) -> Self {
        Self { step: from_hz / to_hz, pos: 0.0, prev: 0.0 }
    }

    /// Appends the output samples that `input` completes to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        for (i, &s) in input.iter().enumerate() {
            let i = i as f64;
            while self.pos <= i {
                let frac = (self.pos - (i - 1.0)) as f32;
                out.push(self.prev + (s - self.prev) * frac);
                self.pos += self.step;
            }
            self.prev = s;
        }
        self.pos -= input.len() as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubling the rate interpolates midpoints; any chunking gives the same output.
    #[test]
    fn linear_resampler_interpolates_and_ignores_chunking() {
        let input: Vec<f32> = (0..40).map(|i| i as f32).collect();
        let mut whole = Vec::new();
        LinearResampler::new(8_000.0, 16_000.0).process(&input, &mut whole);
        assert_eq!(whole.len(), 79);
        assert_eq!(&whole[..5], &[0.0, 0.5, 1.0, 1.5, 2.0]);
        let mut pieces = Vec::new();
        let mut r = LinearResampler::new(8_000.0, 16_000.0);
        for piece in input.chunks(7) {
            r.process(piece, &mut pieces);
        }
        assert_eq!(pieces, whole);
        let mut down = Vec::new();
        LinearResampler::new(48_000.0, 16_000.0).process(&input, &mut down);
        assert_eq!(
            down,
            vec![0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0, 30.0, 33.0, 36.0, 39.0]
        );
    }
}
