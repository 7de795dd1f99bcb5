//! "Keep voice as calibration": the running session's statistics of the voice so far (a
//! speaker-normalised model keeps them anyway) saved as a calibration file, statistics
//! only, in a private folder beside the sessions folder, named by the client code; and
//! finding a client's newest kept calibration for a model again.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::Receiver;

use crate::data::SpeakerStats;
use crate::engine::recorder::utc_stamp;
use crate::model::Calibration;
use crate::model::card::ModelCard;
use crate::sessions::client::check_client_code;
use crate::sessions::private::create_private_dir_all;

/// A calibration asked for, waiting for the engine's statistics of the voice.
pub struct PendingKeep {
    /// The engine's answer (see `Engine::request_session_statistics`).
    pub answer: Receiver<Option<(SpeakerStats, u64)>>,
    /// The client code when it was asked for.
    pub client: String,
    /// The model the statistics are in the units of.
    pub weights_sha256: String,
    /// When it was asked for.
    pub asked: Instant,
}

/// Where kept calibrations go: `calibrations/` beside the sessions folder.
pub fn calibrations_dir(sessions_dir: &Path) -> PathBuf {
    sessions_dir.parent().unwrap_or(sessions_dir).join("calibrations")
}

/// Saves `frames` frames' statistics of the model of `card` as `<client>-<time>.json`
/// (`voice-<time>.json` without a client code). Returns the file and its seconds of speech.
pub fn keep(
    card: &ModelCard,
    stats: SpeakerStats,
    frames: u64,
    client_code: &str,
    sessions_dir: &Path,
) -> Result<(PathBuf, f64), String> {
    check_client_code(client_code)?;
    let speech_s = frames as f64 * card.feature_config.hop_s();
    let calibration = Calibration::from_statistics(card, stats, speech_s).map_err(|e| e.to_string())?;
    let dir = calibrations_dir(sessions_dir);
    create_private_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let who = if client_code.is_empty() { "voice" } else { client_code };
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let path = dir.join(format!("{who}-{}.json", utc_stamp(secs)));
    calibration.save(&path).map_err(|e| e.to_string())?;
    Ok((path, speech_s))
}

/// The newest calibration kept for `client_code` (none for an empty code) that was made
/// for the model of `card`: a calibration is bound to the model's weights.
pub fn kept_for(card: &ModelCard, client_code: &str, sessions_dir: &Path) -> Option<PathBuf> {
    if client_code.is_empty() {
        return None;
    }
    // NOTE: a few small JSON files, read once when a session starts.
    std::fs::read_dir(calibrations_dir(sessions_dir))
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|path| Some((kept_stamp(&path, client_code)?, path)))
        .filter(|(_, path)| {
            Calibration::load(path).is_ok_and(|c| c.model_weights_sha256 == card.weights_sha256)
        })
        .max()
        .map(|(_, path)| path)
}

/// The time stamp `YYYYMMDD-HHMMSS` of a kept calibration named
/// `<client_code>-<stamp>.json`; `None` for any other file (another client's too, whose
/// code merely starts with this one).
fn kept_stamp(path: &Path, client_code: &str) -> Option<String> {
    let name = path.file_name()?.to_str()?.strip_suffix(".json")?;
    let stamp = name.strip_prefix(client_code)?.strip_prefix('-')?;
    let is_stamp = stamp.len() == 15
        && stamp.char_indices().all(|(i, c)| if i == 8 { c == '-' } else { c.is_ascii_digit() });
    is_stamp.then(|| stamp.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_calibration_is_found_by_its_exact_client_code() {
        let stamp = |name: &str, client: &str| kept_stamp(Path::new(name), client);
        assert_eq!(stamp("/x/C-9-20261207-150102.json", "C-9").as_deref(), Some("20261207-150102"));
        assert_eq!(stamp("/x/C-9-20261207-150102.json", "C"), None, "client C-9's, not C's");
        assert_eq!(stamp("/x/C-9-20261207-150102.json", "C-90"), None);
        assert_eq!(stamp("/x/C-9-20261207-150102.json.tmp", "C-9"), None, "a half-written file");
        assert_eq!(stamp("/x/C-9-notes.json", "C-9"), None);
        assert_eq!(stamp("/x/voice-20261207-150102.json", "voice").as_deref(), Some("20261207-150102"));
    }
}
