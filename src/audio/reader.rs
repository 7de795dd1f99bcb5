//! [`AudioFileReader`]: a file decoded a packet at a time into mono samples at the file's
//! own rate (symphonia), so long recordings never have to fit in memory. The decoding
//! rules are those of [`decode_file`](super::decode::decode_file), which is built on it.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::decode::{DecodeError, MAX_RATE_HZ, MIN_RATE_HZ};
use super::guard::guarded;

/// Reads a file a packet at a time as mono samples at the file's rate, without holding
/// the whole file: for replaying or scanning long recordings.
pub struct AudioFileReader {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    sample_rate_hz: u32,
    channels: usize,
    total_frames: Option<u64>,
    interleaved: Vec<f32>,
    samples_read: u64,
    skipped_packets: u64,
    finished: bool,
}

impl AudioFileReader {
    /// Opens a file and prepares its first audio track for decoding.
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let file = File::open(path).map_err(|source| DecodeError::Io { path: path.to_owned(), source })?;
        let len = file.metadata().map_err(|source| DecodeError::Io { path: path.to_owned(), source })?.len();
        if len == 0 {
            return Err(DecodeError::Empty { path: path.to_owned() });
        }
        let magic = read_magic(path);
        // NOTE: symphonia can panic on malformed headers; such a panic is a corrupt file.
        guarded(|| Self::open_file(path, file, &magic)).unwrap_or_else(|panic| {
            Err(DecodeError::Corrupt { path: path.to_owned(), reason: crash_reason(&panic) })
        })
    }

    fn open_file(path: &Path, file: File, magic: &[u8; 4]) -> Result<Self, DecodeError> {
        let owned = || path.to_owned();
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
            .map_err(|err| match announced_format(magic) {
                Some(format) => DecodeError::Truncated { path: owned(), format, reason: err.to_string() },
                None => DecodeError::NotAudio { path: owned() },
            })?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| DecodeError::NoAudioTrack { path: owned() })?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| DecodeError::NoAudioTrack { path: owned() })?
            .clone();
        let (track_id, total_frames) = (track.id, track.num_frames);
        let sample_rate_hz = params.sample_rate.ok_or_else(|| DecodeError::NoSampleRate { path: owned() })?;
        // A corrupt header can state 0 Hz or billions of Hz: either would make the
        // resampler fail or plan absurd buffers further on.
        if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&sample_rate_hz) {
            return Err(DecodeError::BadSampleRate { path: owned(), rate_hz: sample_rate_hz });
        }
        let channels = params.channels.as_ref().map_or(1, |c| c.count().max(1));
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|err| DecodeError::UnsupportedCodec { path: owned(), reason: err.to_string() })?;
        Ok(Self {
            path: owned(),
            format,
            decoder,
            track_id,
            sample_rate_hz,
            channels,
            total_frames,
            interleaved: Vec::new(),
            samples_read: 0,
            skipped_packets: 0,
            finished: false,
        })
    }

    /// The file's sample rate, in Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Channels in the file (they are averaged to mono).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The container's stated length in samples per channel, if it states one.
    pub fn total_frames_hint(&self) -> Option<u64> {
        self.total_frames
    }

    /// Mono samples handed out so far.
    pub fn samples_read(&self) -> u64 {
        self.samples_read
    }

    /// Corrupt packets skipped so far.
    pub fn skipped_packets(&self) -> u64 {
        self.skipped_packets
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the contents of `out` with the next decoded samples (one packet, typically
    /// a few hundred to a few thousand) and returns how many; 0 means the end of the file.
    pub fn read_chunk(&mut self, out: &mut Vec<f32>) -> Result<usize, DecodeError> {
        out.clear();
        if self.finished {
            return Ok(0);
        }
        // NOTE: symphonia can panic on malformed packets; the reader then stops for good.
        match guarded(|| self.decode_packets(out)) {
            Ok(result) => result,
            Err(panic) => {
                self.finished = true;
                out.clear();
                Err(DecodeError::Corrupt { path: self.path.clone(), reason: crash_reason(&panic) })
            }
        }
    }

    /// Decodes packets until some samples come out or the stream ends.
    fn decode_packets(&mut self, out: &mut Vec<f32>) -> Result<usize, DecodeError> {
        while !self.finished && out.is_empty() {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                // End of stream, a chained stream we do not follow, or data cut short.
                Ok(None) | Err(SymError::ResetRequired) => {
                    self.finished = true;
                    break;
                }
                Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.finished = true;
                    break;
                }
                Err(err) => {
                    return Err(DecodeError::Corrupt { path: self.path.clone(), reason: err.to_string() });
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let buf = match self.decoder.decode(&packet) {
                Ok(buf) => buf,
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                    self.skipped_packets += 1;
                    continue;
                }
                Err(err) => {
                    return Err(DecodeError::UnsupportedCodec {
                        path: self.path.clone(),
                        reason: err.to_string(),
                    });
                }
            };
            let channels = buf.spec().channels().count().max(1);
            buf.copy_to_vec_interleaved::<f32>(&mut self.interleaved);
            mix_to_mono(&self.interleaved, channels, out);
        }
        if let Some(i) = out.iter().position(|s| !s.is_finite()) {
            return Err(DecodeError::NonFinite {
                path: self.path.clone(),
                index: self.samples_read + i as u64,
            });
        }
        self.samples_read += out.len() as u64;
        Ok(out.len())
    }
}

/// The one-line reason given for a decoder that panicked.
fn crash_reason(panic: &str) -> String {
    let first_line = panic.lines().next().unwrap_or_default();
    format!("malformed data crashed the decoder ({first_line})")
}

/// Appends the average of each interleaved frame to `out`.
fn mix_to_mono(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels == 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() * scale));
}

fn read_magic(path: &Path) -> [u8; 4] {
    let mut magic = [0u8; 4];
    if let Ok(mut f) = File::open(path) {
        let _ = f.read(&mut magic);
    }
    magic
}

/// The container a file's first bytes announce, if any.
fn announced_format(magic: &[u8; 4]) -> Option<&'static str> {
    match magic {
        b"RIFF" | b"RIFX" | b"RF64" => Some("WAV"),
        b"fLaC" => Some("FLAC"),
        b"OggS" => Some("OGG"),
        [b'I', b'D', b'3', _] => Some("MP3"),
        [0xFF, b, _, _] if b & 0xE0 == 0xE0 => Some("MP3"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stereo frames are averaged; mono passes through.
    #[test]
    fn mixes_channels_by_averaging() {
        let mut out = Vec::new();
        mix_to_mono(&[1.0, 0.0, 0.5, -0.5, 1.0, 1.0], 2, &mut out);
        assert_eq!(out, [0.5, 0.0, 1.0]);
        mix_to_mono(&[0.25], 1, &mut out);
        assert_eq!(out, [0.5, 0.0, 1.0, 0.25]);
    }

    /// Known container signatures are recognised, text is not.
    #[test]
    fn magic_numbers() {
        assert_eq!(announced_format(b"RIFF"), Some("WAV"));
        assert_eq!(announced_format(b"fLaC"), Some("FLAC"));
        assert_eq!(announced_format(&[0xFF, 0xFB, 0x90, 0x00]), Some("MP3"));
        assert_eq!(announced_format(b"hell"), None);
    }
}
