//! Seeking in a replay: the engine replays files from their start, so a seek restarts the
//! replay on a copy of the file that begins at the chosen time (32-bit float WAV at the
//! file's own rate, mono as the engine hears it, in the temporary folder). The window
//! adds the offset back to the times it shows.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::audio::decode::AudioFileReader;

/// Copies `path` from `start_at_s` seconds on into a new temporary WAV file and returns
/// its path; the caller deletes it when done. Errors are one line naming the file.
pub fn trimmed_copy(path: &Path, start_at_s: f64) -> Result<PathBuf, String> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let fail = |e: &dyn std::fmt::Display| format!("cannot seek in {}: {e}", path.display());
    let mut reader = AudioFileReader::open(path).map_err(|e| fail(&e))?;
    let rate = reader.sample_rate_hz();
    let skip = (start_at_s.max(0.0) * f64::from(rate)).round() as u64;
    let out = std::env::temp_dir().join(format!(
        "emotrace-seek-{}-{}.wav",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(&out, spec).map_err(|e| fail(&e))?;
    let mut buf = Vec::new();
    let mut seen = 0_u64;
    let mut written = 0_u64;
    let result = (|| -> Result<(), String> {
        while reader.read_chunk(&mut buf).map_err(|e| fail(&e))? > 0 {
            let n = buf.len() as u64;
            let from = usize::try_from(skip.saturating_sub(seen).min(n)).unwrap_or(buf.len());
            for &sample in &buf[from..] {
                writer.write_sample(sample).map_err(|e| fail(&e))?;
            }
            written += (buf.len() - from) as u64;
            seen += n;
        }
        writer.finalize().map_err(|e| fail(&e))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&out);
        return Err(e);
    }
    if written == 0 {
        let _ = std::fs::remove_file(&out);
        return Err(format!("cannot seek to {start_at_s:.1} s: {} is shorter", path.display()));
    }
    Ok(out)
}
