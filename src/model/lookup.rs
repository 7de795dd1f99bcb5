//! Where models are found (the default model the monitor loads with no flags, and the
//! folders `doctor` lists), and where this executable was installed from.
//!
//! Search order (first hit wins):
//! 1. `$EMOTRACE_MODEL`, a card path (or stem), when set;
//! 2. the user's data folder (`~/.local/share/emotrace/models/` on Linux);
//! 3. installed by `scripts/package` (`PREFIX/bin/emotrace` beside `PREFIX/share/emotrace/`:
//!    the .deb's `/usr`, or wherever the archive was unpacked): `PREFIX/share/emotrace/models`,
//!    and nothing else, so an installed binary never reads the build machine's source tree;
//! 4. otherwise `models/` beside the executable's repository (`target/<profile>/../../models`)
//!    and `models/` of the source tree this binary was built from.

use std::path::{Path, PathBuf};

/// The default model's file stem in a models folder.
pub const DEFAULT_STEM: &str = "default";

/// The file `scripts/package` writes into `PREFIX/share/emotrace/` to say what it made.
pub const PACKAGE_MARKER: &str = "package.json";

/// Where the running executable sits, as far as finding its files goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installation {
    /// `PREFIX/bin/emotrace` with `PREFIX/share/emotrace/` beside it: a package made by
    /// `scripts/package` (the .deb's `/usr`, or the unpacked archive's folder).
    Packaged {
        /// The folder holding `bin/`, `lib/emotrace/` and `share/emotrace/`.
        prefix: PathBuf,
        /// What `PREFIX/share/emotrace/package.json` says made it (its `format`, `file`
        /// and `version`), or `None` when the marker is missing or unreadable.
        package: Option<PackageMarker>,
    },
    /// Anywhere else: a cargo build tree (`target/<profile>/emotrace`) or a copy.
    Unpackaged {
        /// The executable's path.
        exe: PathBuf,
    },
}

/// The contents of `PREFIX/share/emotrace/package.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct PackageMarker {
    /// `deb` or `archive`.
    pub format: String,
    /// The package file's name, e.g. `emotrace_0.1.0_amd64.deb`.
    pub file: String,
    /// The emotrace version packaged.
    pub version: String,
}

impl Installation {
    /// Where the running executable sits; `Unpackaged` with an empty path when the
    /// executable's path cannot be read.
    pub fn current() -> Self {
        let exe = std::env::current_exe().unwrap_or_default();
        Self::of_executable(&exe)
    }

    /// The installation an executable at `exe` belongs to.
    pub fn of_executable(exe: &Path) -> Self {
        let prefix =
            exe.parent().filter(|bin| bin.file_name().is_some_and(|n| n == "bin")).and_then(Path::parent);
        match prefix {
            Some(prefix) if prefix.join("share/emotrace").is_dir() => {
                let package = std::fs::read(prefix.join("share/emotrace").join(PACKAGE_MARKER))
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok());
                Installation::Packaged { prefix: prefix.to_path_buf(), package }
            }
            _ => Installation::Unpackaged { exe: exe.to_path_buf() },
        }
    }

    /// The model folders this installation provides, in search order.
    fn model_dirs(&self) -> Vec<PathBuf> {
        match self {
            Installation::Packaged { prefix, .. } => vec![prefix.join("share/emotrace/models")],
            Installation::Unpackaged { exe } => {
                let mut dirs = Vec::new();
                if let Some(repo) = exe.parent().and_then(Path::parent).and_then(Path::parent) {
                    dirs.push(repo.join("models"));
                }
                dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models"));
                dirs
            }
        }
    }
}

/// Folders searched for models, in order, without duplicates.
pub fn model_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(project) = directories::ProjectDirs::from("", "", "emotrace") {
        dirs.push(project.data_dir().join("models"));
    }
    dirs.extend(Installation::current().model_dirs());
    let mut unique: Vec<PathBuf> = Vec::new();
    for d in dirs {
        let canonical = d.canonicalize().unwrap_or(d);
        if !unique.contains(&canonical) {
            unique.push(canonical);
        }
    }
    unique
}

/// The card of the default model, if one exists.
pub fn default_model() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("EMOTRACE_MODEL") {
        return Some(PathBuf::from(explicit));
    }
    model_dirs().into_iter().map(|d| d.join(format!("{DEFAULT_STEM}.json"))).find(|p| p.is_file())
}

/// Every model card (`*.json` with a `.safetensors` beside it) in the model folders.
pub fn list_models() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in model_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut cards: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|e| e == "json") && p.with_extension("safetensors").is_file()
            })
            .collect();
        cards.sort();
        found.extend(cards);
    }
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// `PREFIX/bin/emotrace` with `PREFIX/share/emotrace/` is packaged, its marker read,
    /// and its only model folder is `PREFIX/share/emotrace/models`; without the share
    /// folder (a cargo build tree) it is not, and the source tree's `models/` is searched.
    #[test]
    fn packaged_layout_is_recognised_by_its_share_folder() {
        let root = tempfile::tempdir().unwrap();
        let exe = root.path().join("usr/bin/emotrace");
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        assert!(matches!(Installation::of_executable(&exe), Installation::Unpackaged { .. }));

        let share = root.path().join("usr/share/emotrace");
        std::fs::create_dir_all(&share).unwrap();
        let install = Installation::of_executable(&exe);
        assert_eq!(install, Installation::Packaged { prefix: root.path().join("usr"), package: None });
        assert_eq!(install.model_dirs(), vec![share.join("models")]);

        let marker = r#"{"format": "deb", "file": "emotrace_0.1.0_amd64.deb", "version": "0.1.0"}"#;
        std::fs::write(share.join(PACKAGE_MARKER), marker).unwrap();
        let Installation::Packaged { package: Some(package), .. } = Installation::of_executable(&exe) else {
            panic!("marker not read");
        };
        assert_eq!((package.format.as_str(), package.version.as_str()), ("deb", "0.1.0"));

        let build = Installation::of_executable(Path::new("/src/emotrace/target/release/emotrace"));
        assert_eq!(
            build.model_dirs(),
            vec![
                PathBuf::from("/src/emotrace/models"),
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
            ]
        );
    }
}
