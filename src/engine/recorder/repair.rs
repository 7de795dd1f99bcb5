//! Session folders left behind: whether another session is writing one (an advisory
//! lock on its `audio.wav`, held while the recorder runs and released by the kernel when
//! the process dies, even by SIGKILL), and repairing one a session left unfinished.
//!
//! Repair makes the files agree with what reached the disk: the WAV header's sizes are
//! set to the whole samples present (a process killed between writing data and
//! rewriting the header leaves them short), a trace cut mid-row loses the partial row,
//! and `summary.json` is marked `repaired` with the audio's real length.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::RECORD_RATE_HZ;
use super::summary::SessionSummary;

/// What a repair found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct RepairReport {
    /// Audio in the WAV after the repair, in seconds.
    pub audio_s: f64,
    /// Whether the WAV header had to be rewritten.
    pub wav_header_fixed: bool,
    /// Bytes of a partial last trace row removed.
    pub trace_bytes_cut: u64,
}

/// Whether the WAV at `wav` is locked by a running session (in this or another process).
pub fn is_locked(wav: &Path) -> bool {
    match File::open(wav) {
        Ok(file) => match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                false
            }
            Err(std::fs::TryLockError::WouldBlock) => true,
            // Locks unsupported here (some network file systems): assume not locked.
            Err(std::fs::TryLockError::Error(_)) => false,
        },
        Err(_) => false,
    }
}

/// Takes the session's exclusive lock on its open WAV file; fails if another session
/// holds it. The lock lasts as long as the file stays open.
pub fn lock(file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        // NOTE: a file system without locks must not stop a recording; there is just no
        // protection against a second session there.
        Err(std::fs::TryLockError::Error(_)) => Ok(true),
    }
}

/// Whether `dir` holds a session that did not finish (its summary says incomplete) and
/// that no running session is writing.
pub fn is_unfinished(dir: &Path) -> bool {
    let summary = SessionSummary::load(&dir.join("summary.json"));
    summary.is_ok_and(|s| !s.complete && !s.repaired) && !is_locked(&dir.join("audio.wav"))
}

/// Repairs an unfinished session in `dir` (see the module docs).
pub fn repair_session(dir: &Path) -> io::Result<RepairReport> {
    let summary_path = dir.join("summary.json");
    let mut summary = SessionSummary::load(&summary_path)?;
    let wav = dir.join(&summary.audio_file);
    let (samples, wav_header_fixed) = repair_wav(&wav)?;
    let trace_bytes_cut = cut_partial_row(&dir.join(&summary.trace_file))?;
    let audio_s = samples as f64 / f64::from(RECORD_RATE_HZ);
    summary.repaired = true;
    summary.kept_s = audio_s;
    summary.duration_s = summary.duration_s.max(audio_s);
    summary.save(&summary_path)?;
    Ok(RepairReport { audio_s, wav_header_fixed, trace_bytes_cut })
}

/// Sets a 16-bit mono WAV's RIFF and data sizes to the whole samples in the file;
/// returns the sample count and whether the header changed.
pub fn repair_wav(path: &Path) -> io::Result<(u64, bool)> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut header = [0u8; 12];
    file.read_exact(&mut header)?;
    if &header[0..4] != b"RIFF" || &header[8..12] != b"WAVE" {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a RIFF/WAVE file"));
    }
    // Walk the chunks to the data chunk.
    let mut at = 12u64;
    let (size_at, data_start) = loop {
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut chunk)?;
        let size = u64::from(u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
        if &chunk[0..4] == b"data" {
            break (at + 4, at + 8);
        }
        at += 8 + size + size % 2;
        if at + 8 > len {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "no data chunk"));
        }
    };
    let data_bytes = (len - data_start) / 2 * 2;
    let data_u32 = u32::try_from(data_bytes).unwrap_or(u32::MAX - 1) & !1;
    let riff_u32 = u32::try_from(data_start - 8 + u64::from(data_u32)).unwrap_or(u32::MAX);
    let mut old = [0u8; 4];
    file.seek(SeekFrom::Start(size_at))?;
    file.read_exact(&mut old)?;
    let fixed = u32::from_le_bytes(old) != data_u32;
    if fixed {
        file.seek(SeekFrom::Start(4))?;
        file.write_all(&riff_u32.to_le_bytes())?;
        file.seek(SeekFrom::Start(size_at))?;
        file.write_all(&data_u32.to_le_bytes())?;
        file.sync_all()?;
    }
    Ok((u64::from(data_u32) / 2, fixed))
}

/// Cuts a text file back to its last newline; returns the bytes removed.
fn cut_partial_row(path: &Path) -> io::Result<u64> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let cut = (bytes.len() - keep) as u64;
    if cut > 0 {
        OpenOptions::new().write(true).open(path)?.set_len(keep as u64)?;
    }
    Ok(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::recorder::SessionWav;

    /// A WAV whose data grew after its last header update (as after a SIGKILL between
    /// the two) gets a header counting every whole sample; a partial sample is ignored.
    #[test]
    fn wav_header_is_fixed_to_the_data_present() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("audio.wav");
        let mut wav = SessionWav::create(&path, 16_000).expect("create");
        wav.write(&[0.25; 1000]).expect("write");
        wav.flush().expect("flush");
        drop(wav);
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(&[1u8; 601]).expect("append"); // 300 samples and a half
        drop(file);
        assert_eq!(hound::WavReader::open(&path).expect("valid").len(), 1000);
        assert_eq!(repair_wav(&path).expect("repair"), (1300, true));
        assert_eq!(hound::WavReader::open(&path).expect("valid").len(), 1300);
        assert_eq!(repair_wav(&path).expect("again"), (1300, false));
    }

    /// A trace ending mid-row loses the partial row only.
    #[test]
    fn partial_trace_row_is_cut() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("trace.csv");
        std::fs::write(&path, "a,b\n1,2\n3,").expect("write");
        assert_eq!(cut_partial_row(&path).expect("cut"), 2);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "a,b\n1,2\n");
    }

    /// A locked WAV is seen as locked until its file is closed.
    #[test]
    fn lock_is_seen_and_released() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("audio.wav");
        let file = File::create(&path).expect("create");
        assert!(!is_locked(&path));
        assert!(lock(&file).expect("lock"));
        assert!(is_locked(&path));
        let other = File::open(&path).expect("open");
        assert!(!lock(&other).expect("second lock refused"));
        drop(file);
        assert!(!is_locked(&path));
    }
}
