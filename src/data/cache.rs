//! On-disk feature cache, keyed by the audio file's content and everything that shapes its
//! features (FeatureConfig, preprocessing, augmentation variant), so a second epoch or run
//! decodes nothing.
//!
//! One file per entry, `<dir>/<k0k1>/<key>.etf`: magic `ETFC`, format version (u32 LE),
//! frames (u32 LE), dims (u32 LE), then frames x dims f32 LE. Written to a temporary file
//! and renamed, so a crash never leaves a half entry; unreadable entries count as misses.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"ETFC";
const VERSION: u32 = 1;
const HEADER_BYTES: usize = 16;

/// Which cache the CLI asked for (`--cache DIR`, `--no-cache`, or neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureCacheChoice {
    /// The user cache folder.
    Default,
    /// This folder.
    Dir(PathBuf),
    /// No cache.
    Off,
}

impl FeatureCacheChoice {
    /// From the `--cache DIR` and `--no-cache` flags (`--no-cache` wins).
    pub fn from_flags(dir: Option<PathBuf>, off: bool) -> Self {
        match (off, dir) {
            (true, _) => Self::Off,
            (false, Some(d)) => Self::Dir(d),
            (false, None) => Self::Default,
        }
    }

    /// The cache to use, if any.
    pub fn cache(&self) -> Option<FeatureCache> {
        match self {
            Self::Default => Some(FeatureCache::new(FeatureCache::default_dir())),
            Self::Dir(d) => Some(FeatureCache::new(d.clone())),
            Self::Off => None,
        }
    }
}

/// A feature matrix: `frames x dims`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Number of frames.
    pub frames: usize,
    /// Values per frame.
    pub dims: usize,
    /// The values.
    pub data: Vec<f32>,
}

/// The cache folder.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    dir: PathBuf,
}

impl FeatureCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default folder: the user's cache folder (`~/.cache/emotrace/features` on Linux).
    pub fn default_dir() -> PathBuf {
        directories::ProjectDirs::from("", "", "emotrace")
            .map_or_else(|| PathBuf::from(".cache/emotrace"), |p| p.cache_dir().to_path_buf())
            .join("features")
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of one entry: sha256 over the file content's sha256 and a description of
    /// the settings (FeatureConfig JSON, preprocessing, variant).
    pub fn key(content_sha256: &str, settings: &str) -> String {
        let mut h = Sha256::new();
        h.update(content_sha256.as_bytes());
        h.update([0]);
        h.update(settings.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2.min(key.len())]).join(format!("{key}.etf"))
    }

    /// The cached matrix, or `None` when absent or unreadable.
    pub fn get(&self, key: &str) -> Option<FeatureMatrix> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        decode(&bytes)
    }

    /// Stores a matrix (atomically).
    pub fn put(&self, key: &str, matrix: &FeatureMatrix) -> std::io::Result<()> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut bytes = Vec::with_capacity(HEADER_BYTES + matrix.data.len() * 4);
        bytes.extend_from_slice(MAGIC);
        for v in [VERSION, matrix.frames as u32, matrix.dims as u32] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for x in &matrix.data {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        drop(file);
        std::fs::rename(&tmp, &path)
    }
}

fn decode(bytes: &[u8]) -> Option<FeatureMatrix> {
    if bytes.len() < HEADER_BYTES || &bytes[..4] != MAGIC {
        return None;
    }
    let word = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize;
    let (version, frames, dims) = (word(4), word(8), word(12));
    if version != VERSION as usize
        || bytes.len() != HEADER_BYTES + frames.checked_mul(dims)?.checked_mul(4)?
    {
        return None;
    }
    let data =
        bytes[HEADER_BYTES..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Some(FeatureMatrix { frames, dims, data })
}

/// Lower-case hex sha256 of a file's bytes.
pub fn content_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Put then get returns the same matrix; another key, a truncated or foreign file is
    /// a miss, not an error.
    #[test]
    fn round_trip_and_corrupt_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FeatureCache::new(dir.path());
        let m =
            FeatureMatrix { frames: 3, dims: 2, data: vec![1.0, -2.5, 3.0, f32::MIN_POSITIVE, 0.0, 7.25] };
        let key = FeatureCache::key(&content_sha256(b"audio"), "cfg");
        assert_ne!(key, FeatureCache::key(&content_sha256(b"audio"), "cfg2"));
        cache.put(&key, &m).unwrap();
        assert_eq!(cache.get(&key), Some(m));
        let path = cache.path(&key);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(cache.get(&key), None);
        std::fs::write(&path, b"RIFF....").unwrap();
        assert_eq!(cache.get(&key), None);
    }
}
