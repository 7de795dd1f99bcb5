//! The keys of an encrypted session, all of them age's (age-encryption.org/v1):
//!
//! - a random X25519 identity per recording run; its public half (the recipient)
//!   encrypts every segment the recorder writes, so writing needs no passphrase work;
//! - `key.age` in the session folder: that identity, encrypted with the passphrase by
//!   age's scrypt recipient (work factor chosen by age for about 1 s on this machine).
//!
//! Opening a session decrypts `key.age` with the passphrase (about 1 s of scrypt), then
//! every segment with the identity. A wrong passphrase fails at `key.age`, before any
//! data is touched.

use std::fs;
use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};

use super::private::create_private_file;

/// The key file's name in an encrypted session folder.
pub const KEY_FILE: &str = "key.age";

/// Why a session's keys could not be made or opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The passphrase does not open this session: ask again.
    #[error("wrong passphrase for {}", .0.display())]
    WrongPassphrase(std::path::PathBuf),
    /// The key file is missing, unreadable or not an age file: the session cannot be
    /// decrypted (restore `key.age` from a backup).
    #[error("cannot read the session key {}: {reason}", path.display())]
    Unreadable {
        /// The key file.
        path: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An empty passphrase was given: choose one.
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// Encrypting the key failed (no system randomness): nothing was written.
    #[error("cannot encrypt the session key: {0}")]
    Encrypt(String),
}

/// A recording's keys: the identity (to decrypt), its recipient (to encrypt) and the
/// passphrase-protected key file to store beside the data.
pub struct SessionKeys {
    identity: age::x25519::Identity,
    recipient: age::x25519::Recipient,
    key_file: Vec<u8>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionKeys({})", self.recipient)
    }
}

impl PartialEq for SessionKeys {
    fn eq(&self, other: &Self) -> bool {
        self.key_file == other.key_file
    }
}

impl SessionKeys {
    /// New keys protected by `passphrase`, with age's calibrated scrypt work factor
    /// (about 1 s here). Blocks for that long: call it off the UI thread.
    pub fn create(passphrase: &SecretString) -> Result<Self, KeyError> {
        Self::create_with_work_factor(passphrase, None)
    }

    /// As [`create`](Self::create), with scrypt's work factor `N = 2^log_n` when given
    /// (tests use a small one; age accepts any in 1..64).
    pub fn create_with_work_factor(passphrase: &SecretString, log_n: Option<u8>) -> Result<Self, KeyError> {
        if passphrase.expose_secret().is_empty() {
            return Err(KeyError::EmptyPassphrase);
        }
        let identity = age::x25519::Identity::generate();
        let mut wrap = age::scrypt::Recipient::new(passphrase.clone());
        if let Some(log_n) = log_n {
            wrap.set_work_factor(log_n.clamp(1, 63));
        }
        let secret = identity.to_string();
        let key_file = age::encrypt(&wrap, secret.expose_secret().as_bytes())
            .map_err(|e| KeyError::Encrypt(e.to_string()))?;
        let recipient = identity.to_public();
        Ok(Self { identity, recipient, key_file })
    }

    /// Opens the keys of the session in `dir` with `passphrase`.
    pub fn open(dir: &Path, passphrase: &SecretString) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        let unreadable = |reason: String| KeyError::Unreadable { path: path.clone(), reason };
        let key_file = fs::read(&path).map_err(|e| unreadable(e.to_string()))?;
        let unwrap = age::scrypt::Identity::new(passphrase.clone());
        let secret = match age::decrypt(&unwrap, &key_file) {
            Ok(secret) => secret,
            Err(age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys) => {
                return Err(KeyError::WrongPassphrase(dir.to_owned()));
            }
            Err(e) => return Err(unreadable(e.to_string())),
        };
        let text = String::from_utf8(secret).map_err(|_| unreadable("not an age identity".into()))?;
        let identity: age::x25519::Identity =
            text.trim().parse().map_err(|_| unreadable("not an age identity".into()))?;
        let recipient = identity.to_public();
        Ok(Self { identity, recipient, key_file })
    }

    /// Writes `key.age` into a new session folder (a new private file).
    pub fn write_key_file(&self, dir: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let mut file = create_private_file(&dir.join(KEY_FILE))?;
        file.write_all(&self.key_file)?;
        file.sync_all()
    }

    /// Encrypts one piece of data to this session (an age file in memory).
    pub fn seal(&self, plaintext: &[u8]) -> std::io::Result<Vec<u8>> {
        age::encrypt(&self.recipient, plaintext).map_err(std::io::Error::other)
    }

    /// Decrypts one piece sealed by [`seal`](Self::seal).
    pub fn open_sealed(&self, ciphertext: &[u8]) -> Result<Vec<u8>, age::DecryptError> {
        age::decrypt(&self.identity, ciphertext)
    }
}

/// Whether `dir` holds an encrypted session (a `key.age`).
pub fn is_encrypted(dir: &Path) -> bool {
    dir.join(KEY_FILE).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    /// The right passphrase opens the key file and the keys decrypt what they sealed; a
    /// wrong one is refused as such, an empty one is refused at creation.
    #[test]
    fn passphrase_opens_only_its_own_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = SessionKeys::create_with_work_factor(&pass("correct horse"), Some(4)).expect("keys");
        keys.write_key_file(dir.path()).expect("write");
        let sealed = keys.seal(b"hello").expect("seal");
        assert!(!sealed.windows(5).any(|w| w == b"hello"));
        let opened = SessionKeys::open(dir.path(), &pass("correct horse")).expect("open");
        assert_eq!(opened.open_sealed(&sealed).expect("decrypt"), b"hello");
        let wrong = SessionKeys::open(dir.path(), &pass("wrong")).expect_err("wrong passphrase");
        assert!(matches!(wrong, KeyError::WrongPassphrase(_)), "{wrong}");
        assert_eq!(wrong.to_string(), format!("wrong passphrase for {}", dir.path().display()));
        assert!(matches!(
            SessionKeys::create_with_work_factor(&pass(""), Some(4)),
            Err(KeyError::EmptyPassphrase)
        ));
    }
}
