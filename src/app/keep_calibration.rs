//! "Keep voice as calibration": the running session's statistics of the voice so far (a
//! speaker-normalised model keeps them anyway) saved as a calibration file, statistics
//! only, in a private folder beside the sessions folder, named by the client code.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::data::SpeakerStats;
use crate::engine::recorder::utc_stamp;
use crate::model::Calibration;
use crate::model::card::ModelCard;
use crate::sessions::client::check_client_code;
use crate::sessions::private::create_private_dir_all;

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
