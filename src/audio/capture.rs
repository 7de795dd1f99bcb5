//! Microphone in: a cpal input stream at the device's own rate, sample format and channel
//! count, mixed to mono f32 and pushed into a lock-free ring for the engine's worker.
//!
//! The audio callback ([`CaptureWriter::write`]) does only this: convert a block to mono
//! f32 in a scratch buffer it owns, `push_slice` it into the ring, count what did not fit
//! in an `AtomicU64`, and push one timestamp into a second ring (so the worker can measure
//! latency from a sample entering the ring). No locks, no printing, no I/O, no allocation,
//! no `unwrap`; everything is sized in [`capture_ring`]. Stream errors are flagged in
//! atomics; the worker reads them and decides what to do.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Instant;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};
use ringbuf::traits::{Observer, Producer, Split};
use ringbuf::{HeapCons, HeapProd, HeapRb};

use super::devices::{device_name, silence_alsa};
use crate::engine::config::{CaptureRequest, InputFormat};

/// Frames converted per `push_slice` in the callback (larger blocks go in several steps).
const SCRATCH_FRAMES: usize = 4_096;
/// Timestamps the stamp ring holds: one per callback.
const STAMP_CAPACITY: usize = 8_192;

/// Why capture could not start or went away. Each variant says what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The host has no default input device: connect a microphone, or pick one from
    /// `emotrace devices` with `--input NAME`.
    #[error("no input device found (connect a microphone, or see `emotrace devices`)")]
    NoInputDevice,
    /// No input device has this name: pick one from `emotrace devices`.
    #[error("no input device named '{0}' (see `emotrace devices`)")]
    UnknownDevice(String),
    /// The device exists but would not open or describe itself: check that no other
    /// program holds it exclusively, or pick another device.
    #[error("input device '{device}' cannot be used: {reason}")]
    Device {
        /// The device's name.
        device: String,
        /// What the audio layer said.
        reason: String,
    },
    /// The device cannot deliver this sample format: choose another `--input-format`.
    #[error("input device '{device}' uses sample format {format}, which emotrace cannot read")]
    UnsupportedFormat {
        /// The device's name.
        device: String,
        /// The format it offered.
        format: String,
    },
}

/// When one callback's samples entered the ring: `end_sample` is the count of samples
/// pushed so far (after this callback), `at_ns` nanoseconds since the capture's epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushStamp {
    /// Total samples pushed into the ring once this callback was done.
    pub end_sample: u64,
    /// When this callback's push finished, in ns since [`CaptureReader::epoch`].
    pub at_ns: u64,
}

/// What went wrong with a running stream, as the error callback flags it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFault {
    /// The device went away (unplugged, or the audio server stopped).
    DeviceLost,
    /// The stream must be rebuilt (its configuration is no longer valid).
    Invalidated,
    /// Some other backend error.
    Backend,
}

impl StreamFault {
    fn code(self) -> u8 {
        match self {
            StreamFault::DeviceLost => 1,
            StreamFault::Invalidated => 2,
            StreamFault::Backend => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(StreamFault::DeviceLost),
            2 => Some(StreamFault::Invalidated),
            3 => Some(StreamFault::Backend),
            _ => None,
        }
    }

    /// A short description for the user.
    pub fn describe(self) -> &'static str {
        match self {
            StreamFault::DeviceLost => "the input device went away",
            StreamFault::Invalidated => "the input stream was invalidated",
            StreamFault::Backend => "the audio backend reported an error",
        }
    }
}

/// Counters shared by the callback (writer) and the worker (reader).
#[derive(Debug, Default)]
pub struct CaptureCounters {
    /// Mono samples that did not fit in the ring and were dropped.
    pub dropped_samples: AtomicU64,
    /// Mono samples pushed into the ring.
    pub pushed_samples: AtomicU64,
    /// Buffer over/underruns the backend reported.
    pub xruns: AtomicU64,
    /// A [`StreamFault`] code, 0 while the stream is healthy.
    fault: AtomicU8,
    /// Set by tests to make the reader report a lost device (fault injection).
    injected_loss: AtomicBool,
}

impl CaptureCounters {
    /// The fault the stream reported, if any.
    pub fn fault(&self) -> Option<StreamFault> {
        if self.injected_loss.load(Ordering::Relaxed) {
            return Some(StreamFault::DeviceLost);
        }
        StreamFault::from_code(self.fault.load(Ordering::Relaxed))
    }

    /// Flags a fault (from the error callback).
    pub fn set_fault(&self, fault: StreamFault) {
        self.fault.store(fault.code(), Ordering::Relaxed);
    }

    /// Makes [`fault`](Self::fault) report a lost device, as if it had been unplugged: for
    /// fault-injection tests of the reconnect path.
    pub fn inject_device_loss(&self) {
        self.injected_loss.store(true, Ordering::Relaxed);
    }
}

/// The producer half: what the audio callback owns.
pub struct CaptureWriter {
    samples: HeapProd<f32>,
    stamps: HeapProd<PushStamp>,
    scratch: Box<[f32]>,
    channels: usize,
    pushed_total: u64,
    epoch: Instant,
    counters: Arc<CaptureCounters>,
}

/// The consumer half: what the worker owns.
pub struct CaptureReader {
    /// Mono f32 samples at the device rate.
    pub samples: HeapCons<f32>,
    /// One [`PushStamp`] per callback, in order.
    pub stamps: HeapCons<PushStamp>,
    /// Shared counters and fault flag.
    pub counters: Arc<CaptureCounters>,
    /// The instant stamps count from.
    pub epoch: Instant,
}

impl CaptureReader {
    /// Samples waiting in the ring.
    pub fn available(&self) -> usize {
        self.samples.occupied_len()
    }

    /// Ring capacity in samples.
    pub fn capacity(&self) -> usize {
        self.samples.capacity().get()
    }
}

/// Builds the ring between callback and worker: `capacity_samples` mono samples, with
/// frames of `channels` interleaved samples arriving at the writer.
pub fn capture_ring(capacity_samples: usize, channels: u16) -> (CaptureWriter, CaptureReader) {
    let (samples_prod, samples_cons) = HeapRb::<f32>::new(capacity_samples.max(1)).split();
    let (stamps_prod, stamps_cons) = HeapRb::<PushStamp>::new(STAMP_CAPACITY).split();
    let counters = Arc::new(CaptureCounters::default());
    let epoch = Instant::now();
    let writer = CaptureWriter {
        samples: samples_prod,
        stamps: stamps_prod,
        scratch: vec![0.0; SCRATCH_FRAMES].into_boxed_slice(),
        channels: usize::from(channels.max(1)),
        pushed_total: 0,
        epoch,
        counters: Arc::clone(&counters),
    };
    let reader = CaptureReader { samples: samples_cons, stamps: stamps_cons, counters, epoch };
    (writer, reader)
}

impl CaptureWriter {
    /// The audio callback's whole job: mixes interleaved frames to mono f32, pushes them,
    /// counts what did not fit, and stamps the push. Never blocks or allocates.
    pub fn write<T>(&mut self, data: &[T])
    where
        T: Copy,
        f32: FromSample<T>,
    {
        let channels = self.channels;
        let scale = 1.0 / channels as f32;
        let mut pushed = 0u64;
        for block in data.chunks(SCRATCH_FRAMES * channels) {
            let frames = block.len() / channels;
            for (out, frame) in self.scratch.iter_mut().zip(block.chunks_exact(channels)) {
                let sum: f32 = frame.iter().map(|&s| f32::from_sample_(s)).sum();
                *out = if channels == 1 { sum } else { sum * scale };
            }
            let n = self.samples.push_slice(&self.scratch[..frames]);
            pushed += n as u64;
            if n < frames {
                self.counters.dropped_samples.fetch_add((frames - n) as u64, Ordering::Relaxed);
            }
        }
        if pushed > 0 {
            self.pushed_total += pushed;
            self.counters.pushed_samples.fetch_add(pushed, Ordering::Relaxed);
            let at_ns = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
            // NOTE: a full stamp ring only costs latency precision, never audio.
            let _ = self.stamps.try_push(PushStamp { end_sample: self.pushed_total, at_ns });
        }
    }
}

/// The stream configuration actually opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureInfo {
    /// The device's name (what `--input` takes).
    pub device: String,
    /// Sample rate, in Hz.
    pub sample_rate_hz: u32,
    /// Interleaved channels per frame (mixed to mono).
    pub channels: u16,
    /// Sample format as cpal names it.
    pub format: String,
}

/// A running input stream. Dropping it stops capture.
pub struct Capture {
    _stream: cpal::Stream,
    /// What was opened.
    pub info: CaptureInfo,
}

/// Opens `device` (the default input when `None`) with its own configuration, adjusted by
/// `request`, and starts it. The ring holds `ring_ms` of audio at the opened rate.
pub fn open_capture(
    device: Option<&str>,
    request: &CaptureRequest,
    ring_ms: u32,
) -> Result<(Capture, CaptureReader), CaptureError> {
    let _quiet = silence_alsa();
    let host = cpal::default_host();
    let wanted = device;
    let device = find_device(&host, wanted)?;
    let name = device_name(&device).unwrap_or_else(|| "unnamed device".to_owned());
    let fail = |reason: String| CaptureError::Device { device: name.clone(), reason };
    let default = match device.default_input_config() {
        Ok(config) => config,
        // A host with no sound card still names a "default" device, which then fails here.
        Err(_) if wanted.is_none() => return Err(CaptureError::NoInputDevice),
        Err(e) => return Err(fail(e.to_string())),
    };
    let format = match request.format {
        Some(InputFormat::F32) => SampleFormat::F32,
        Some(InputFormat::I16) => SampleFormat::I16,
        Some(InputFormat::U16) => SampleFormat::U16,
        None => default.sample_format(),
    };
    let config = cpal::StreamConfig {
        channels: request.channels.unwrap_or(default.channels()),
        sample_rate: request.sample_rate_hz.unwrap_or(default.sample_rate()),
        buffer_size: cpal::BufferSize::Default,
    };
    let capacity = (u64::from(config.sample_rate) * u64::from(ring_ms) / 1_000).max(1);
    let (writer, reader) = capture_ring(usize::try_from(capacity).unwrap_or(usize::MAX), config.channels);
    let stream = build_stream(&device, &config, format, writer, Arc::clone(&reader.counters)).map_err(
        |e| match e {
            BuildError::Format => {
                CaptureError::UnsupportedFormat { device: name.clone(), format: format.to_string() }
            }
            BuildError::Cpal(e) => fail(e.to_string()),
        },
    )?;
    stream.play().map_err(|e| fail(e.to_string()))?;
    let info = CaptureInfo {
        device: name.clone(),
        sample_rate_hz: config.sample_rate,
        channels: config.channels,
        format: format.to_string(),
    };
    Ok((Capture { _stream: stream, info }, reader))
}

fn find_device(host: &cpal::Host, wanted: Option<&str>) -> Result<cpal::Device, CaptureError> {
    let Some(wanted) = wanted else {
        return host.default_input_device().ok_or(CaptureError::NoInputDevice);
    };
    let unknown = || CaptureError::UnknownDevice(wanted.to_owned());
    let devices = host.input_devices().map_err(|_| unknown())?.collect::<Vec<_>>();
    let by_id = devices.iter().position(|d| device_name(d).as_deref() == Some(wanted));
    let by_label = || devices.iter().position(|d| d.to_string().eq_ignore_ascii_case(wanted));
    let index = by_id.or_else(by_label).ok_or_else(unknown)?;
    devices.into_iter().nth(index).ok_or_else(unknown)
}

enum BuildError {
    Format,
    Cpal(cpal::Error),
}

fn build_stream(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    format: SampleFormat,
    writer: CaptureWriter,
    counters: Arc<CaptureCounters>,
) -> Result<cpal::Stream, BuildError> {
    match format {
        SampleFormat::F32 => build_typed::<f32>(device, config, writer, counters),
        SampleFormat::I16 => build_typed::<i16>(device, config, writer, counters),
        SampleFormat::U16 => build_typed::<u16>(device, config, writer, counters),
        SampleFormat::I32 => build_typed::<i32>(device, config, writer, counters),
        SampleFormat::I8 => build_typed::<i8>(device, config, writer, counters),
        SampleFormat::U8 => build_typed::<u8>(device, config, writer, counters),
        SampleFormat::F64 => build_typed::<f64>(device, config, writer, counters),
        _ => Err(BuildError::Format),
    }
}

fn build_typed<T>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    mut writer: CaptureWriter,
    counters: Arc<CaptureCounters>,
) -> Result<cpal::Stream, BuildError>
where
    T: SizedSample + Send + 'static,
    f32: FromSample<T>,
{
    let on_data = move |data: &[T], _: &cpal::InputCallbackInfo| writer.write(data);
    let on_error = move |err: cpal::Error| match err.kind() {
        cpal::ErrorKind::Xrun => {
            counters.xruns.fetch_add(1, Ordering::Relaxed);
        }
        cpal::ErrorKind::DeviceChanged | cpal::ErrorKind::RealtimeDenied => {}
        cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable => {
            counters.set_fault(StreamFault::DeviceLost);
        }
        cpal::ErrorKind::StreamInvalidated => counters.set_fault(StreamFault::Invalidated),
        _ => counters.set_fault(StreamFault::Backend),
    };
    device.build_input_stream::<T, _, _>(*config, on_data, on_error, None).map_err(BuildError::Cpal)
}

#[cfg(test)]
mod tests {
    use ringbuf::traits::Consumer;

    use super::*;

    fn drain(reader: &mut CaptureReader) -> Vec<f32> {
        let mut out = vec![0.0; reader.available()];
        let n = reader.samples.pop_slice(&mut out);
        out.truncate(n);
        out
    }

    #[test]
    fn i16_stereo_is_averaged_to_mono() {
        let (mut writer, mut reader) = capture_ring(16, 2);
        writer.write::<i16>(&[16_384, 0, -32_768, -32_768, 100, 101]);
        assert_eq!(drain(&mut reader), vec![0.25, -1.0, 201.0 / 2.0 / 32_768.0]);
        let stamp = reader.stamps.try_pop().expect("one stamp per callback");
        assert_eq!(stamp.end_sample, 3);
    }

    #[test]
    fn u16_and_f32_convert_to_centred_floats() {
        let (mut writer, mut reader) = capture_ring(16, 1);
        writer.write::<u16>(&[32_768, 0, 49_152]);
        assert_eq!(drain(&mut reader), vec![0.0, -1.0, 0.5]);
        writer.write::<f32>(&[0.125, -0.5]);
        assert_eq!(drain(&mut reader), vec![0.125, -0.5]);
    }

    /// A full ring drops the newest samples, counts them exactly, and keeps the oldest.
    #[test]
    fn full_ring_drops_and_counts() {
        let (mut writer, mut reader) = capture_ring(4, 1);
        writer.write::<f32>(&[0.1, 0.2, 0.3]);
        writer.write::<f32>(&[0.4, 0.5, 0.6]);
        assert_eq!(reader.counters.dropped_samples.load(Ordering::Relaxed), 2);
        assert_eq!(reader.counters.pushed_samples.load(Ordering::Relaxed), 4);
        assert_eq!(drain(&mut reader), vec![0.1, 0.2, 0.3, 0.4]);
    }

    /// Blocks longer than the callback's scratch buffer go through whole, in order.
    #[test]
    fn long_blocks_pass_in_pieces() {
        let n = SCRATCH_FRAMES * 2 + 7;
        let (mut writer, mut reader) = capture_ring(n, 3);
        let data: Vec<f32> = (0..n * 3).map(|i| (i / 3) as f32).collect();
        writer.write::<f32>(&data);
        let got = drain(&mut reader);
        assert_eq!(got.len(), n);
        assert!(got.iter().enumerate().all(|(i, &x)| x == i as f32));
    }
}
