//! Where models are found: the default model the monitor loads with no flags, and the
//! folders `doctor` lists.
//!
//! Search order (first hit wins):
//! 1. `$EMOTRACE_MODEL`, a card path (or stem), when set;
//! 2. the user's data folder (`~/.local/share/emotrace/models/` on Linux);
//! 3. `models/` beside the executable's repository (`target/<profile>/../../models`);
//! 4. `models/` of the source tree this binary was built from.

use std::path::{Path, PathBuf};

/// The default model's file stem in a models folder.
pub const DEFAULT_STEM: &str = "default";

/// Folders searched for models, in order, without duplicates.
pub fn model_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(project) = directories::ProjectDirs::from("", "", "emotrace") {
        dirs.push(project.data_dir().join("models"));
    }
    if let Some(repo) =
        std::env::current_exe().ok().and_then(|exe| exe.parent()?.parent()?.parent().map(Path::to_path_buf))
    {
        dirs.push(repo.join("models"));
    }
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models"));
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
