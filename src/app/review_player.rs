//! Playing a recorded session in review: a thread reads the session's audio from the
//! chosen sample (decrypting only what it plays, for an encrypted session) and feeds the
//! default output device, as the replay's playback does. The position it has reached is
//! shared in an atomic, so the window's cursor follows the sound.
//!
//! Without an output device (a server, CI) the position advances with the clock instead,
//! so review works the same, silently.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use ringbuf::HeapRb;
use ringbuf::traits::{Consumer, Observer, Producer, Split};

use super::playback::LinearResampler;
use crate::audio::devices::silence_alsa;
use crate::sessions::audio_read::SessionAudio;

/// Audio decoded ahead of the device, in seconds.
const AHEAD_S: f64 = 0.2;

/// A session's audio playing from some point; dropping it stops the sound.
pub struct ReviewPlayer {
    stop: Arc<AtomicBool>,
    /// Samples (at the session's rate) played so far, counted from the file's start.
    position: Arc<AtomicU64>,
    rate_hz: u32,
    thread: Option<JoinHandle<()>>,
    /// Why there is no sound, when there is none.
    pub silent_reason: Arc<std::sync::Mutex<Option<String>>>,
}

impl ReviewPlayer {
    /// Starts playing `audio` at `start_s`.
    pub fn start(audio: SessionAudio, start_s: f64) -> Option<Self> {
        let rate_hz = audio.sample_rate_hz();
        let start = (start_s.max(0.0) * f64::from(rate_hz)) as u64;
        let stop = Arc::new(AtomicBool::new(false));
        let position = Arc::new(AtomicU64::new(start));
        let silent_reason = Arc::new(std::sync::Mutex::new(None));
        let (s, p, r) = (Arc::clone(&stop), Arc::clone(&position), Arc::clone(&silent_reason));
        let thread = std::thread::Builder::new()
            .name("emotrace-ui-review-play".into())
            .spawn(move || {
                if let Err(reason) = play(audio, start, &s, &p, &r) {
                    say(&r, reason);
                }
            })
            .ok()?;
        Some(Self { stop, position, rate_hz, thread: Some(thread), silent_reason })
    }

    /// Where playback stands, in seconds into the session.
    pub fn position_s(&self) -> f64 {
        self.position.load(Ordering::Relaxed) as f64 / f64::from(self.rate_hz)
    }

    /// Whether playback reached the end (or failed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for ReviewPlayer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn say(slot: &std::sync::Mutex<Option<String>>, reason: String) {
    if let Ok(mut slot) = slot.lock() {
        *slot = Some(reason);
    }
}

/// The playback thread: with a device, feed it; without one, advance with the clock.
fn play(
    mut audio: SessionAudio,
    start: u64,
    stop: &AtomicBool,
    position: &AtomicU64,
    reason: &std::sync::Mutex<Option<String>>,
) -> Result<(), String> {
    let quiet = silence_alsa();
    let device = cpal::default_host().default_output_device();
    let config = device.as_ref().and_then(|d| d.default_output_config().ok());
    drop(quiet);
    let (Some(device), Some(config)) = (device, config) else {
        say(reason, "no audio output device: reviewing silently".into());
        clock_only(&audio, start, stop, position);
        return Ok(());
    };
    let config = config.config();
    let device_rate = f64::from(config.sample_rate);
    let channels = usize::from(config.channels.max(1));
    let file_rate = f64::from(audio.sample_rate_hz());
    let (mut producer, mut consumer) = HeapRb::<f32>::new((device_rate * AHEAD_S) as usize + 1).split();
    let played_device = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&played_device);
    let on_data = move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
        let mut n = 0;
        for frame in out.chunks_mut(channels) {
            let v = consumer.try_pop().inspect(|_| n += 1).unwrap_or(0.0);
            frame.fill(v);
        }
        counter.fetch_add(n, Ordering::Relaxed);
    };
    let stream = match device.build_output_stream::<f32, _, _>(config, on_data, |_| {}, None) {
        Ok(stream) if stream.play().is_ok() => stream,
        _ => {
            say(reason, "cannot open the audio output: reviewing silently".into());
            clock_only(&audio, start, stop, position);
            return Ok(());
        }
    };
    let mut resampler = LinearResampler::new(file_rate, device_rate);
    let mut chunk = vec![0.0f32; 4_096];
    let mut resampled = Vec::new();
    let mut at = start;
    let mut ended = false;
    while !stop.load(Ordering::Relaxed) {
        let done_device = played_device.load(Ordering::Relaxed) as f64;
        position.store(start + (done_device * file_rate / device_rate) as u64, Ordering::Relaxed);
        if ended {
            if producer.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        if producer.vacant_len() < chunk.len() * 4 {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        let n = audio.read(at, &mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            ended = true;
            continue;
        }
        at += n as u64;
        resampled.clear();
        resampler.process(&chunk[..n], &mut resampled);
        producer.push_slice(&resampled);
    }
    chunk.fill(0.0);
    drop(stream);
    Ok(())
}

/// No device: the position moves at 1x until the end or the stop flag.
fn clock_only(audio: &SessionAudio, start: u64, stop: &AtomicBool, position: &AtomicU64) {
    let rate = f64::from(audio.sample_rate_hz());
    let total = audio.len_samples();
    let began = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = start + (began.elapsed().as_secs_f64() * rate) as u64;
        position.store(now.min(total), Ordering::Relaxed);
        if now >= total {
            break;
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}
