//! Audio files in, mono f32 samples out (symphonia): WAV (8/16/24/32-bit integer, 32-bit
//! float), FLAC, MP3, OGG/Vorbis.
//!
//! - [`decode_file`]: a whole file at its own rate; [`load_mono_16k`]: the same, resampled
//!   to 16 kHz with a band-limited sinc resampler.
//! - [`AudioFileReader`]: the same decoding a packet at a time, for files too long to hold.
//!
//! Channels are averaged to mono. A file cut short inside its audio data keeps the samples
//! before the cut; corrupt packets are skipped and counted. NaN or infinite samples (float
//! WAV) are an error naming the file and the sample: such a file is corrupt, and features
//! of it would be meaningless.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::resample::{ResampleError, TARGET_RATE_HZ, resample_to_16k};

/// Why a file could not be decoded. Every variant names the file; the message is one line.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be opened or read. Check the path and permissions.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The file has zero bytes. Record or export it again.
    #[error("{}: file is empty (0 bytes)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file starts like an audio file but its header is cut short or corrupt.
    /// Re-export or re-download it.
    #[error("{}: truncated or corrupt {format} header ({reason})", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The container its first bytes announce.
        format: &'static str,
        /// What the demuxer reported.
        reason: String,
    },
    /// The file is not in a format this build reads (WAV, FLAC, MP3, OGG). Convert it.
    #[error("{}: not an audio file this program reads (WAV, FLAC, MP3, OGG/Vorbis)", path.display())]
    NotAudio {
        /// The file.
        path: PathBuf,
    },
    /// The container is readable but holds no audio track. Pick another file.
    #[error("{}: no audio track", path.display())]
    NoAudioTrack {
        /// The file.
        path: PathBuf,
    },
    /// The audio track uses a codec or feature this build cannot decode. Convert the file
    /// to WAV or FLAC.
    #[error("{}: unsupported audio codec or format feature ({reason})", path.display())]
    UnsupportedCodec {
        /// The file.
        path: PathBuf,
        /// What symphonia reported.
        reason: String,
    },
    /// The audio track has no (valid) sample rate. The file is corrupt.
    #[error("{}: no valid sample rate in the audio track", path.display())]
    NoSampleRate {
        /// The file.
        path: PathBuf,
    },
    /// Decoding found no samples at all. The recording is empty.
    #[error("{}: contains no audio samples", path.display())]
    NoSamples {
        /// The file.
        path: PathBuf,
    },
    /// A sample is NaN or infinite (float WAV). The file is corrupt.
    #[error("{}: sample {index} is NaN or infinite (corrupt float audio)", path.display())]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// Index of the first bad mono sample.
        index: u64,
    },
    /// Decoding failed partway in a way that cannot be skipped. The file is corrupt.
    #[error("{}: cannot decode: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What symphonia reported.
        reason: String,
    },
    /// Resampling to 16 kHz failed (a rate the resampler cannot handle).
    #[error("{}: cannot resample to 16 kHz: {source}", path.display())]
    Resample {
        /// The file.
        path: PathBuf,
        /// The resampler's reason.
        source: ResampleError,
    },
}

/// A decoded file: mono samples at the file's own rate.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedAudio {
    /// Mono samples (channels averaged), nominally in -1..1.
    pub samples: Vec<f32>,
    /// The file's sample rate, in Hz.
    pub sample_rate_hz: u32,
    /// Channels in the file before mixing to mono.
    pub channels: usize,
    /// Corrupt packets skipped while decoding.
    pub skipped_packets: u64,
}

impl DecodedAudio {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate_hz)
    }
}

/// Decodes a whole file to mono at its own sample rate.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, DecodeError> {
    let mut reader = AudioFileReader::open(path)?;
    let mut samples = Vec::with_capacity(reader.total_frames_hint().unwrap_or(0).min(1 << 28) as usize);
    let mut chunk = Vec::new();
    while reader.read_chunk(&mut chunk)? > 0 {
        samples.extend_from_slice(&chunk);
    }
    if samples.is_empty() {
        return Err(DecodeError::NoSamples { path: path.to_owned() });
    }
    Ok(DecodedAudio {
        samples,
        sample_rate_hz: reader.sample_rate_hz(),
        channels: reader.channels(),
        skipped_packets: reader.skipped_packets(),
    })
}

/// Decodes a file to mono and resamples it to 16 kHz (band-limited sinc; a 16 kHz file is
/// passed through untouched).
pub fn load_mono_16k(path: &Path) -> Result<Vec<f32>, DecodeError> {
    let audio = decode_file(path)?;
    if audio.sample_rate_hz == TARGET_RATE_HZ {
        return Ok(audio.samples);
    }
    resample_to_16k(&audio.samples, audio.sample_rate_hz)
        .map_err(|source| DecodeError::Resample { path: path.to_owned(), source })
}

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
        let owned = || path.to_owned();
        let file = File::open(path).map_err(|source| DecodeError::Io { path: owned(), source })?;
        let len = file.metadata().map_err(|source| DecodeError::Io { path: owned(), source })?.len();
        if len == 0 {
            return Err(DecodeError::Empty { path: owned() });
        }
        let magic = read_magic(path);
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
            .map_err(|err| match announced_format(&magic) {
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
        let sample_rate_hz = params
            .sample_rate
            .filter(|&r| r > 0)
            .ok_or_else(|| DecodeError::NoSampleRate { path: owned() })?;
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
