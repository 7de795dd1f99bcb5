//! Sealed files: a stream of data written encrypted as it grows, in independently
//! encrypted segments, so a process killed at any moment leaves a file whose complete
//! segments all decrypt (the recorder seals one segment per flush, every 0.5 s).
//!
//! ```text
//! file     := MAGIC record*
//! MAGIC    := "emotrace-sealed/v1\n"
//! record   := length:u32le position:u64le age_file[length]
//! age_file := an age file (X25519 recipient of the session) whose plaintext is
//!             stream:u8 index:u64le position:u64le final:u8 payload
//! ```
//!
//! `position` is the payload's offset in the whole plaintext stream; it is written in
//! clear too (it says no more than the file's size does), so a reader can find the
//! segment holding any byte without decrypting the others. Inside the encryption, the
//! stream tag, segment index and position bind each segment to its file and place (a
//! segment moved, dropped or swapped in from another file is refused), and `final` marks
//! the last segment of a finished file, as age's own STREAM does for its chunks: a file
//! without it was cut short (the recorder was killed), and its segments up to the cut
//! are all still readable.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::keys::SessionKeys;
use super::private::create_private_file;

/// The first bytes of a sealed file.
pub const MAGIC: &[u8] = b"emotrace-sealed/v1\n";
/// Bytes of a record's clear header (length and position).
const RECORD_HEADER: usize = 12;
/// Bytes of the header inside the encryption.
const INNER_HEADER: usize = 18;
/// Largest record accepted when reading, in bytes (a segment is at most a few seconds).
const MAX_RECORD: u32 = 64 << 20;

/// Which stream a sealed file holds (bound into every segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StreamTag {
    /// The trace (CSV or JSON lines).
    Trace = 1,
    /// The audio: 16-bit little-endian mono PCM.
    Audio = 2,
    /// The summary (JSON).
    Summary = 3,
}

/// Why a sealed file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SealedError {
    /// The file could not be read: check it exists and is readable.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: io::Error,
    },
    /// The file is not a sealed file, or a segment was altered or moved: restore it from
    /// a backup.
    #[error("{} is damaged: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What did not check out.
        reason: String,
    },
}

/// Appends segments to a new sealed file.
pub struct SealedWriter {
    file: File,
    keys: Arc<SessionKeys>,
    stream: StreamTag,
    index: u64,
    position: u64,
    /// Bytes of whole records in the file.
    written: u64,
}

impl SealedWriter {
    /// Creates `path` (a new private file) and writes the magic line.
    pub fn create(path: &Path, keys: Arc<SessionKeys>, stream: StreamTag) -> io::Result<Self> {
        let mut file = create_private_file(path)?;
        file.write_all(MAGIC)?;
        Ok(Self { file, keys, stream, index: 0, position: 0, written: MAGIC.len() as u64 })
    }

    /// The open file (for locking it while the session runs).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Plaintext bytes sealed so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Seals `payload` as the next segment and writes it in one piece; nothing for an
    /// empty payload. A failed write (disk full) is cut back to the last whole record.
    pub fn append(&mut self, payload: &[u8]) -> io::Result<()> {
        if payload.is_empty() {
            return Ok(());
        }
        self.write_segment(payload, false)
    }

    /// Seals `payload` (possibly empty) as the final segment and syncs the file.
    pub fn finish(&mut self, payload: &[u8]) -> io::Result<()> {
        self.write_segment(payload, true)?;
        self.file.sync_all()
    }

    fn write_segment(&mut self, payload: &[u8], last: bool) -> io::Result<()> {
        let mut plain = Vec::with_capacity(INNER_HEADER + payload.len());
        plain.push(self.stream as u8);
        plain.extend_from_slice(&self.index.to_le_bytes());
        plain.extend_from_slice(&self.position.to_le_bytes());
        plain.push(u8::from(last));
        plain.extend_from_slice(payload);
        let sealed = self.keys.seal(&plain);
        // NOTE: the plaintext copy is wiped before anything can fail on the way out.
        plain.fill(0);
        let sealed = sealed?;
        let length = u32::try_from(sealed.len()).map_err(io::Error::other)?;
        let mut record = Vec::with_capacity(RECORD_HEADER + sealed.len());
        record.extend_from_slice(&length.to_le_bytes());
        record.extend_from_slice(&self.position.to_le_bytes());
        record.extend_from_slice(&sealed);
        if let Err(err) = self.file.write_all(&record) {
            // Shrinking needs no space, so this works on a full disk.
            let _ = self.file.set_len(self.written);
            let _ = self.file.seek(SeekFrom::Start(self.written));
            return Err(err);
        }
        self.written += record.len() as u64;
        self.index += 1;
        self.position += payload.len() as u64;
        Ok(())
    }
}

/// Where one segment lies in the file.
#[derive(Debug, Clone, Copy)]
struct Segment {
    offset: u64,
    length: u32,
    position: u64,
}

/// Reads a sealed file: whole, or any byte range, decrypting only the segments needed.
pub struct SealedReader {
    path: PathBuf,
    file: File,
    keys: Arc<SessionKeys>,
    stream: StreamTag,
    segments: Vec<Segment>,
    len: u64,
    complete: bool,
    /// Bytes after the last whole record (a write cut short).
    torn_bytes: u64,
    cache: Option<(usize, Vec<u8>)>,
}

impl SealedReader {
    /// Opens `path`, lists its records (headers only) and decrypts the last one to learn
    /// the stream's length and whether it was finished. A torn last record (the process
    /// died while writing it) is left out.
    pub fn open(path: &Path, keys: Arc<SessionKeys>, stream: StreamTag) -> Result<Self, SealedError> {
        let io_err = |source| SealedError::Io { path: path.to_owned(), source };
        let mut file = File::open(path).map_err(io_err)?;
        let file_len = file.metadata().map_err(io_err)?.len();
        let mut magic = vec![0; MAGIC.len()];
        if file.read_exact(&mut magic).is_err() || magic != MAGIC {
            return Err(SealedError::Corrupt { path: path.to_owned(), reason: "not a sealed file".into() });
        }
        let mut segments = Vec::new();
        let mut at = MAGIC.len() as u64;
        let mut header = [0u8; RECORD_HEADER];
        while at + RECORD_HEADER as u64 <= file_len {
            file.seek(SeekFrom::Start(at)).map_err(io_err)?;
            file.read_exact(&mut header).map_err(io_err)?;
            let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let mut pos = [0u8; 8];
            pos.copy_from_slice(&header[4..12]);
            let position = u64::from_le_bytes(pos);
            let end = at + RECORD_HEADER as u64 + u64::from(length);
            if length > MAX_RECORD || end > file_len {
                break;
            }
            segments.push(Segment { offset: at + RECORD_HEADER as u64, length, position });
            at = end;
        }
        let mut reader = Self {
            path: path.to_owned(),
            file,
            keys,
            stream,
            segments,
            len: 0,
            complete: false,
            torn_bytes: file_len - at,
            cache: None,
        };
        reader.read_tail()?;
        Ok(reader)
    }

    /// Decrypts the last record. One that does not decrypt is a write torn by a crash
    /// (power lost before its blocks reached the disk) and is left out; records are
    /// appended one at a time, so a second failure is real damage.
    fn read_tail(&mut self) -> Result<(), SealedError> {
        let Some(last) = self.segments.len().checked_sub(1) else { return Ok(()) };
        let (last, (payload, is_final)) = match self.decrypt(last) {
            Ok(tail) => (last, tail),
            Err(_) => {
                let torn = self.segments.pop().map_or(0, |s| u64::from(s.length) + RECORD_HEADER as u64);
                self.torn_bytes += torn;
                let Some(last) = self.segments.len().checked_sub(1) else { return Ok(()) };
                (last, self.decrypt(last)?)
            }
        };
        self.len = self.segments[last].position + payload.len() as u64;
        self.complete = is_final;
        self.cache = Some((last, payload));
        Ok(())
    }

    /// Plaintext bytes in the file's whole segments.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no plaintext.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the file was finished (its last segment is marked final); `false` for a
    /// file left by a killed recorder.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Bytes after the last whole segment (a write cut short), left out.
    pub fn torn_bytes(&self) -> u64 {
        self.torn_bytes
    }

    /// Segments in the file.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The whole plaintext.
    pub fn read_all(&mut self) -> Result<Vec<u8>, SealedError> {
        let mut out = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        for i in 0..self.segments.len() {
            out.extend_from_slice(&self.decrypt(i)?.0);
        }
        Ok(out)
    }

    /// Calls `each` with every segment's payload in order (bounded memory).
    pub fn for_each_segment(&mut self, mut each: impl FnMut(&[u8])) -> Result<(), SealedError> {
        for i in 0..self.segments.len() {
            each(&self.decrypt(i)?.0);
        }
        Ok(())
    }

    /// Fills `buf` from plaintext offset `position`; returns the bytes read (fewer at
    /// the end of the stream).
    pub fn read_at(&mut self, position: u64, buf: &mut [u8]) -> Result<usize, SealedError> {
        let mut done = 0;
        while done < buf.len() {
            let at = position + done as u64;
            if at >= self.len {
                break;
            }
            let i = self.segments.partition_point(|s| s.position <= at).saturating_sub(1);
            if self.cache.as_ref().is_none_or(|(c, _)| *c != i) {
                let payload = self.decrypt(i)?.0;
                self.cache = Some((i, payload));
            }
            let Some((_, payload)) = &self.cache else { break };
            let from = usize::try_from(at - self.segments[i].position).unwrap_or(usize::MAX);
            if from >= payload.len() {
                break;
            }
            let n = (payload.len() - from).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&payload[from..from + n]);
            done += n;
        }
        Ok(done)
    }

    /// Decrypts segment `i` and checks it belongs here; returns its payload and whether
    /// it is final.
    fn decrypt(&mut self, i: usize) -> Result<(Vec<u8>, bool), SealedError> {
        let segment = self.segments[i];
        let corrupt = |reason: String| SealedError::Corrupt { path: self.path.clone(), reason };
        let mut sealed = vec![0; segment.length as usize];
        self.file
            .seek(SeekFrom::Start(segment.offset))
            .and_then(|_| self.file.read_exact(&mut sealed))
            .map_err(|source| SealedError::Io { path: self.path.clone(), source })?;
        let mut plain = self
            .keys
            .open_sealed(&sealed)
            .map_err(|e| corrupt(format!("segment {i} does not decrypt ({e})")))?;
        if plain.len() < INNER_HEADER {
            return Err(corrupt(format!("segment {i} is too short")));
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&plain[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let (tag, index, position, last) = (plain[0], word(1), word(9), plain[17]);
        if tag != self.stream as u8 || index != i as u64 || position != segment.position {
            return Err(corrupt(format!("segment {i} is out of place (moved or from another file)")));
        }
        if last == 1 && i + 1 != self.segments.len() {
            return Err(corrupt(format!("segment {i} is marked final but more follow")));
        }
        let payload = plain.split_off(INNER_HEADER);
        plain.fill(0);
        Ok((payload, last == 1))
    }
}

/// Writes `payload` as a complete sealed file of one segment, atomically (a private
/// temporary file beside `path`, then renamed over it): the encrypted `summary.json`.
pub fn write_sealed_atomic(
    path: &Path,
    keys: &Arc<SessionKeys>,
    stream: StreamTag,
    payload: &[u8],
) -> io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut writer = SealedWriter::create(&tmp, Arc::clone(keys), stream)?;
        writer.finish(payload)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads a whole sealed file.
pub fn read_sealed(path: &Path, keys: &Arc<SessionKeys>, stream: StreamTag) -> Result<Vec<u8>, SealedError> {
    SealedReader::open(path, Arc::clone(keys), stream)?.read_all()
}
