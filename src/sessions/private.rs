//! Private files and folders for session data: folders `0700`, files `0600`, whatever the
//! process's umask (the modes are set explicitly after creation, since `mkdir` and `open`
//! only ever take bits away through the umask). Voice recordings of clients are health
//! data: nobody else on the machine may read them.
//!
//! On systems without Unix modes the functions create the files and folders normally.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Mode of session folders (and the sessions folder above them).
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file in a session folder.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents, each new one `0700`; `dir` itself is set to
/// `0700` even if it already existed (parents that existed keep their modes).
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if !dir.is_dir() {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir_all(parent)?;
        }
        match make_dir(dir) {
            Ok(()) => {}
            // Another thread or process made it meanwhile: fine, it is tightened below.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    set_mode(dir, DIR_MODE)
}

#[cfg(unix)]
fn make_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().mode(DIR_MODE).create(dir)
}

#[cfg(not(unix))]
fn make_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir(dir)
}

/// Sets a file's or folder's permission bits (Unix); does nothing elsewhere.
pub fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// Creates a new file (it must not exist) readable and writable by its owner only.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    let file = options.open(path)?;
    // NOTE: the mode given to open() passes through the umask; an unusual umask (0277)
    // could leave the owner without write access, so the bits are set on the open file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(file)
}

/// Replaces `path` with `bytes` atomically (a private temporary file beside it, synced,
/// then renamed over it), so a reader sees the old or the new content, never a mix.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    // A temporary file left by a killed process is ours to replace.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut file = create_private_file(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    /// New folders are 0700 at every level created; an existing target is tightened.
    #[test]
    fn folders_are_private_at_every_new_level() {
        let root = tempfile::tempdir().expect("temp dir");
        let deep = root.path().join("a/b/c");
        create_private_dir_all(&deep).expect("create");
        for dir in [root.path().join("a"), root.path().join("a/b"), deep.clone()] {
            assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        }
        let open = root.path().join("open");
        fs::create_dir(&open).expect("mkdir");
        set_mode(&open, 0o755).expect("chmod");
        create_private_dir_all(&open).expect("tighten");
        assert_eq!(mode(&open), 0o700);
    }

    /// Files are 0600, new ones refuse to replace an existing file, and an atomic write
    /// replaces content and leaves no temporary file.
    #[test]
    fn files_are_private_and_atomic_writes_replace() {
        let root = tempfile::tempdir().expect("temp dir");
        let path = root.path().join("f");
        create_private_file(&path).expect("create");
        assert_eq!(mode(&path), 0o600);
        assert!(create_private_file(&path).is_err());
        write_private_atomic(&path, b"new").expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"new");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(fs::read_dir(root.path()).expect("list").count(), 1);
    }
}
